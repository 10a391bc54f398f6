"""The redaction settings: whether secrets are redacted before anything leaves this
machine, and with which rules.
"""

from __future__ import annotations

from uploader.core.settings.commands import SENDERS
from uploader.core.settings.kinds import File, Setting, Switch

REDACT = Setting(
    "redact",
    "Replace high-confidence secrets (provider API keys, private keys, "
    "passwords in URLs, bearer tokens) with [REDACTED:rule:fingerprint] before "
    "anything leaves this machine; off ships the bytes exactly as written.  "
    "[default: on]",
    SENDERS,
    "redaction",
    env="AGENT_UPLOADER_REDACT",
    default=True,
    kind=Switch(),
    metavar="on|off",
)
REDACT_RULES = Setting(
    "redact_rules",
    "TOML file of more rules and an allowlist, added to the built-in rules.",
    (*SENDERS, "scan"),
    "redaction",
    env="AGENT_UPLOADER_REDACT_RULES",
    kind=File(),
)

REDACTION_SETTINGS = (REDACT, REDACT_RULES)
