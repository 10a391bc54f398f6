"""Secret redaction: high-confidence secrets in transcript lines replaced by
`[REDACTED:<rule>:<first 8 hex of sha256(secret)>]` before anything leaves the machine.

    redactor = Redactor(load_rules(path_or_none))   # compile once
    result = redactor.redact(data, end)             # data[:end]: whole lines

See engine.py for how it stays fast and JSON-safe, default_rules.toml for the rules.

May import: core.
"""

from __future__ import annotations

from uploader.redaction.engine import MARK_PREFIX, Finding, Redaction, Redactor
from uploader.redaction.rules import Allow, Rule, RulesError, RuleSet, default_rules, load_rules

__all__ = [
    "MARK_PREFIX",
    "Allow",
    "Finding",
    "Redaction",
    "Redactor",
    "Rule",
    "RuleSet",
    "RulesError",
    "default_rules",
    "load_rules",
]
