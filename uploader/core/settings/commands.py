"""The commands that take settings, grouped as the settings name them; the setting
every command has (the log level); and the flags that are not settings.
"""

from __future__ import annotations

from collections.abc import Mapping

from uploader.core.settings.kinds import Choice, Setting

READERS = ("replay", "reload", "verify", "ls", "label", "delete", "export")
SEARCHERS = ("index", "search", "usage")  # they read the search index (and refresh it)
STORE_COMMANDS = ("watch", "host", *READERS, "sweep", "import", *SEARCHERS, "doctor")
SENDERS = ("watch", "sweep", "import")  # they send transcript bytes away: redaction
EVERY_COMMAND = (*STORE_COMMANDS, "scan")

# -- logging -------------------------------------------------------------------------------

LOG_LEVEL = Setting(
    "log_level",
    "Log verbosity.",
    EVERY_COMMAND,
    "logging",
    default="INFO",  # WARNING for the commands whose output is their result
    kind=Choice(("DEBUG", "INFO", "WARNING", "ERROR"), case_sensitive=False),
    show_default=True,
)

#: The flags that are not settings: what one run of a command acts on and how it prints
#: (`--to`, `--force`, `--json`). A flag in neither list fails tests/core/test_settings.py:
#: declare it above, or list it here. A group's commands are named as typed (`service install`).
COMMAND_FLAGS: Mapping[str, frozenset[str]] = {
    "watch": frozenset({"--dry-run", "--once", "--json"}),
    "status": frozenset({"--max-queue-age", "--max-failing", "--json"}),
    "doctor": frozenset({"--timeout", "--json"}),
    "host": frozenset({"--open"}),
    "replay": frozenset(
        {"--sid", "--label", "--checkpoint", "--generation", "--format", "--follow", "--interval"}
    ),
    "reload": frozenset({"--sid", "--label", "--checkpoint", "--generation", "--to", "--force"}),
    "verify": frozenset({"--sid", "--label", "--all", "--json"}),
    "export": frozenset(
        {"--sid", "--label", "--format", "--to", "--force", "--checkpoint", "--generation"}
    ),
    "ls": frozenset({"--search", "--agent", "--active", "--sort", "--asc", "--limit", "--json"}),
    "label": frozenset({"--sid", "--label", "--clear"}),
    "delete": frozenset({"--sid", "--label", "--yes", "--no-archive", "--force"}),
    "sweep": frozenset({"--interval-minutes", "--jobs", "--json"}),
    "import": frozenset({"--agent-id", "--dry-run", "--no-backup", "--verbose"}),
    "scan": frozenset({"--json"}),
    "index": frozenset({"--rebuild", "--json"}),
    "search": frozenset(
        {"--agent", "--since", "--role", "--tool", "--project", "--limit", "--json"}
    ),
    "usage": frozenset({"--since", "--by", "--agent", "--json"}),
    # --platform (hidden): write and run what this platform's service manager would, on
    # another (for tests, and for --print).
    "service install": frozenset({"--print", "--force", "--config", "--platform"}),
    "service uninstall": frozenset({"--platform"}),
    "service status": frozenset({"--platform"}),
    "service logs": frozenset({"--follow", "--lines", "--platform"}),
}
