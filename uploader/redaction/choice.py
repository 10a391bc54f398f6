"""Which redactor a caller gets: the built-in rules, its own, or none.

The command line decides with --redact/--redact-rules; the Python API with its `redact`
argument, else the same environment variables, else on with the built-in rules.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from uploader.core.errors import UsageError
from uploader.redaction.engine import Redactor
from uploader.redaction.rules import load_rules

ENV_SWITCH = "AGENT_UPLOADER_REDACT"
ENV_RULES = "AGENT_UPLOADER_REDACT_RULES"
_ON = frozenset({"1", "on", "true", "yes", "y", "t"})
_OFF = frozenset({"0", "off", "false", "no", "n", "f"})


@functools.cache
def _compiled(rules_file: str | None) -> Redactor:
    """Compiling the rules costs milliseconds: once per process and rules file."""
    return Redactor(load_rules(Path(rules_file) if rules_file else None))


def resolve_redactor(redact: bool | Redactor | None = None) -> Redactor | None:
    """True: the built-in rules (plus the file AGENT_UPLOADER_REDACT_RULES names); False:
    no redaction; a Redactor: its own rules; None: as AGENT_UPLOADER_REDACT says (on
    unless it says off)."""
    if isinstance(redact, Redactor):
        return redact
    if redact is None:
        raw = os.environ.get(ENV_SWITCH, "on").strip().lower()
        if raw not in _ON | _OFF:
            raise UsageError(
                f"{ENV_SWITCH}={raw[:20]!r} is neither on nor off", f"set {ENV_SWITCH}=on or off"
            )
        redact = raw in _ON
    if not redact:
        return None
    return _compiled(os.environ.get(ENV_RULES) or None)
