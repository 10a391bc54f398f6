"""Which redactor a caller gets: the built-in rules, its own, or none.

The command line decides with its redaction settings; the Python API with its `redact`
argument, else the same settings' environment variables (uploader.core.settings: REDACT,
REDACT_RULES), else on with the built-in rules.
"""

from __future__ import annotations

import functools
from pathlib import Path

from uploader.core.errors import InvalidSetting, UsageError
from uploader.core.settings import REDACT, REDACT_RULES
from uploader.redaction.engine import Redactor
from uploader.redaction.rules import load_rules


@functools.cache
def _compiled(rules_file: str | None) -> Redactor:
    """Compiling the rules costs milliseconds: once per process and rules file."""
    return Redactor(load_rules(Path(rules_file) if rules_file else None))


def resolve_redactor(redact: bool | Redactor | None = None) -> Redactor | None:
    """True: the built-in rules (plus the file REDACT_RULES's variable names); False: no
    redaction; a Redactor: its own rules; None: as REDACT's variable says (on unless it
    says off)."""
    if isinstance(redact, Redactor):
        return redact
    if redact is None:
        raw = REDACT.from_env()
        try:
            redact = bool(REDACT.parse(raw)) if raw is not None else bool(REDACT.default)
        except InvalidSetting:
            shown = (raw or "").strip().lower()[:20]
            raise UsageError(
                f"{REDACT.env}={shown!r} is neither on nor off", f"set {REDACT.env}=on or off"
            ) from None
    if not redact:
        return None
    return _compiled(REDACT_RULES.from_env())
