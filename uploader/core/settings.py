"""Every setting, declared once, as data: its name, flag, environment variable, default,
kind, help text, whether it is a secret, and which commands take it.

- The command line's options are generated from these (`uploader.cli.options.option`).
- The Python API reads the same environment variables through them (`Setting.from_env`):
  no variable's name is spelled anywhere else.
- tests/test_settings.py fails when a setting is missing from the docs, or when a command
  has a flag that is neither a setting here nor listed in COMMAND_FLAGS.

A setting's `name` is its flag without the dashes, with `_` for `-` (`--spool-dir`:
`spool_dir`): the key its value has in a command's options, and the key a config file
will use. `default` is the value as a user writes it (`"5m"`, `"8MiB"`); its `kind` says
how such text is read. A `secret` is never printed and never has a default.

Imports nothing of agent-uploader but core.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from uploader.core.codec import DEFAULT_LEVEL
from uploader.core.errors import InvalidSetting
from uploader.core.units import parse_ms, parse_size

#: This machine's folder for the default store and spool.
HOME = "~/.agent-uploader"
DEFAULT_STORE_URL = f"file://{HOME}/store"
DEFAULT_BUCKET = "sessions"


def config_home(environ: Mapping[str, str] | None = None) -> Path:
    """The user's configuration folder as the XDG rule has it: $XDG_CONFIG_HOME when it is
    an absolute path, else ~/.config. (The desktop's variable, not a setting of ours.)"""
    value = (os.environ if environ is None else environ).get("XDG_CONFIG_HOME", "")
    return Path(value) if os.path.isabs(value) else Path("~/.config").expanduser()


# -- kinds: how a value's text is read -----------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Any text."""


@dataclass(frozen=True)
class File:
    """The path of a file (not a folder); `must_exist`: checked when given."""

    must_exist: bool = False


@dataclass(frozen=True)
class Folder:
    """The path of a folder (not a file); `must_exist`: checked when given."""

    must_exist: bool = False


@dataclass(frozen=True)
class Integer:
    """A whole number from `lo` to `hi` (either may be open)."""

    lo: int | None = None
    hi: int | None = None


@dataclass(frozen=True)
class Size:
    """Bytes, or a number with a unit (`512KiB`, `8MiB`); more than 0."""


@dataclass(frozen=True)
class Duration:
    """Milliseconds, or a number with a unit (`500ms`, `30s`, `10m`); more than 0."""


@dataclass(frozen=True)
class Switch:
    """on or off (also 1/0, true/false, yes/no)."""


@dataclass(frozen=True)
class Flag:
    """A flag given or not; in the environment, a switch."""


@dataclass(frozen=True)
class Choice:
    """One of `values`."""

    values: tuple[str, ...]
    case_sensitive: bool = True


Kind = Text | File | Folder | Integer | Size | Duration | Switch | Flag | Choice
#: A value as a user writes it, before its kind reads it (`"5m"`, 4333, True).
Default = str | int | bool | None
#: A value as its kind reads it.
Value = str | int | bool | Path | None

ON = frozenset({"1", "on", "true", "yes", "y", "t"})
OFF = frozenset({"0", "off", "false", "no", "n", "f"})


@dataclass(frozen=True)
class Setting:
    name: str
    help: str
    #: The commands that take it, as `agent-uploader COMMAND` names them.
    commands: tuple[str, ...]
    #: Where it belongs: store, dashboard, redaction, logging, watch, sweep.
    group: str
    env: str | None = None
    default: Default = None
    kind: Kind = field(default_factory=Text)
    secret: bool = False
    #: Repeatable on the command line (the environment variable takes a list).
    multiple: bool = False
    metavar: str | None = None
    #: Show the default in --help (otherwise the help text says it, if there is one).
    show_default: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def from_env(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The text of its environment variable; None when unset or empty (as the command
        line takes it)."""
        if self.env is None:
            return None
        return (os.environ if environ is None else environ).get(self.env) or None

    def parse(self, text: str) -> Value:
        """`text` read as this setting's kind; InvalidSetting if it cannot be."""
        kind, shown = self.kind, text[:40]
        if isinstance(kind, Switch | Flag):
            word = text.strip().lower()
            if word not in ON | OFF:
                raise InvalidSetting(self.name, shown, f"{shown!r} is neither on nor off")
            return word in ON
        if isinstance(kind, File | Folder):
            return Path(text)
        if isinstance(kind, Choice):
            values = kind.values if kind.case_sensitive else tuple(v.lower() for v in kind.values)
            if (text if kind.case_sensitive else text.lower()) not in values:
                raise InvalidSetting(
                    self.name, shown, f"{shown!r} is not one of {', '.join(kind.values)}"
                )
            return text
        if isinstance(kind, Integer | Size | Duration):
            return self._number(kind, text)
        return text

    def _number(self, kind: Integer | Size | Duration, text: str) -> int:
        shown = text[:40]
        lo: int | None
        hi: int | None
        try:
            if isinstance(kind, Size):
                number, lo, hi = parse_size(text), 1, None
            elif isinstance(kind, Duration):
                number, lo, hi = parse_ms(text), 1, None
            else:
                number, lo, hi = int(text), kind.lo, kind.hi
        except ValueError:
            raise InvalidSetting(
                self.name, shown, f"{shown!r} is not a {_NOUN[type(kind)]}"
            ) from None
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            bounds = f"{lo if lo is not None else '…'}..{hi if hi is not None else '…'}"
            raise InvalidSetting(self.name, shown, f"{shown!r} is outside {bounds}")
        return number


_NOUN = {Integer: "whole number", Size: "size", Duration: "duration"}

# -- the config file -----------------------------------------------------------------------

#: Where the other settings are read from (uploader.core.config_file): every command that
#: takes settings has its flag. Not in SETTINGS: it has no key in the file.
CONFIG = Setting(
    "config",
    "Read settings from this TOML file (a flag or an environment variable wins over it).",
    (),
    "config",
    env="AGENT_UPLOADER_CONFIG",
    kind=File(),
    metavar="FILE",
)
#: The config file's folder and name in the platform's config folder.
CONFIG_FOLDER, CONFIG_NAME = "agent-uploader", "config.toml"


def variable(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The text of the environment variable a config file names for a secret
    (`{ env = "NAME" }`); None when unset or empty."""
    return (os.environ if environ is None else environ).get(name) or None


# -- the commands --------------------------------------------------------------------------

READERS = ("replay", "reload", "verify", "ls", "label", "delete", "export")
SEARCHERS = ("index", "search", "usage")  # they read the search index (and refresh it)
STORE_COMMANDS = ("watch", "host", *READERS, "sweep", "import", *SEARCHERS, "doctor")
SENDERS = ("watch", "sweep", "import")  # they send transcript bytes away: redaction
EVERY_COMMAND = (*STORE_COMMANDS, "scan")

# -- store ---------------------------------------------------------------------------------

SUPABASE_URL = Setting(
    "supabase_url",
    "Supabase project URL (https://<ref>.supabase.co).",
    STORE_COMMANDS,
    "store",
    env="SUPABASE_URL",
)
SUPABASE_KEY = Setting(
    "supabase_key",
    "Supabase service key (never logged; prefer the environment variable or "
    "--supabase-key-file: a command line is visible to other users in `ps`).",
    STORE_COMMANDS,
    "store",
    env="SUPABASE_KEY",
    secret=True,
)
STORE = Setting(
    "store",
    "Where sessions go: file:///dir, s3://bucket/prefix or supabase://bucket.  "
    f"[default: supabase://BUCKET when {SUPABASE_URL.env} and {SUPABASE_KEY.env} are set, "
    f"else {DEFAULT_STORE_URL}]",
    STORE_COMMANDS,
    "store",
    env="AGENT_UPLOADER_STORE",
)
BUCKET = Setting(
    "bucket",
    "Supabase Storage bucket.",
    STORE_COMMANDS,
    "store",
    env="SUPABASE_BUCKET",
    default=DEFAULT_BUCKET,
    show_default=True,
)
SUPABASE_KEY_FILE = Setting(
    "supabase_key_file",
    "Read the Supabase service key from this file.",
    STORE_COMMANDS,
    "store",
    env="SUPABASE_KEY_FILE",
    kind=File(must_exist=True),
)
UPLOAD_URL = Setting(
    "upload_url",
    "Write-only: HTTP PUT each object to URL/<key> (presigned or gateway uploads); "
    "commands that read the store cannot use it.",
    STORE_COMMANDS,
    "store",
    env="AGENT_UPLOAD_URL",
    secret=True,  # a presigned URL carries its signature
)
S3_ENDPOINT_URL = Setting(
    "s3_endpoint_url",
    "Endpoint of an S3-compatible server (switches to path-style addressing).",
    STORE_COMMANDS,
    "store",
    env="AWS_ENDPOINT_URL",
)
S3_REGION = Setting(
    "s3_region",
    "Region for S3 (default: the usual boto3 settings).",
    STORE_COMMANDS,
    "store",
    env="AWS_REGION",
)

# -- dashboard -----------------------------------------------------------------------------

DASHBOARD_COMMANDS = ("watch", "host")
#: `doctor` checks that the dashboard's port is free.
DASHBOARD_PORT_COMMANDS = (*DASHBOARD_COMMANDS, "doctor")

UI_BIND = Setting(
    "ui_bind",
    "Address the dashboard listens on. Anything but loopback needs --ui-token.",
    DASHBOARD_PORT_COMMANDS,
    "dashboard",
    env="AGENT_UI_BIND",
    default="127.0.0.1",
    show_default=True,
)
UI_PORT = Setting(
    "ui_port",
    "Port of the dashboard (0: any free port).",
    DASHBOARD_PORT_COMMANDS,
    "dashboard",
    env="AGENT_UI_PORT",
    default=4333,
    kind=Integer(0, 65535),
    show_default=True,
)
UI_TOKEN = Setting(
    "ui_token",
    "Require this token (16 characters or more) on every request: a login form "
    "sets a cookie, scripts send 'Authorization: Bearer TOKEN'. 'auto' makes one and "
    "prints a sign-in link. Needed to bind beyond loopback. Prefer the environment "
    "variable or --ui-token-file: a command line is visible to other users in `ps`.",
    DASHBOARD_COMMANDS,
    "dashboard",
    env="AGENT_UI_TOKEN",
    secret=True,
)
UI_TOKEN_FILE = Setting(
    "ui_token_file",
    "Read the dashboard's token from this file.",
    DASHBOARD_COMMANDS,
    "dashboard",
    env="AGENT_UI_TOKEN_FILE",
    kind=File(must_exist=True),
)
UI_ALLOWED_HOST = Setting(
    "ui_allowed_host",
    "Another name the dashboard answers to, as browsers send it in the Host "
    "header (a reverse proxy's: dash.example.com, or with :PORT); repeatable, the "
    "variable takes a comma-separated list. Loopback names and --ui-bind always are.",
    DASHBOARD_COMMANDS,
    "dashboard",
    env="AGENT_UI_ALLOWED_HOSTS",
    multiple=True,
    metavar="HOST",
)
UI_DIST = Setting(
    "ui_dist",
    "Serve this folder's static bundle at / instead of the built-in pages "
    "(the JSON API stays under /api/).",
    DASHBOARD_COMMANDS,
    "dashboard",
    env="AGENT_UI_DIST",
    kind=Folder(must_exist=True),
)
UI_DISABLE = Setting(
    "ui_disable",
    "Do not serve the dashboard.",
    ("watch",),
    "dashboard",
    env="AGENT_UI_DISABLE",
    kind=Flag(),
)

#: The price table of the cost estimates (uploader/agents/prices.py): the dashboard's,
#: `export`'s, and the index's usage records (`index`, `usage`, and the index of `watch`
#: and `host`), which keep the estimate made when a session was indexed.
PRICES = Setting(
    "prices",
    "A TOML file of token prices (US dollars per million tokens) that adds to and "
    "replaces the built-in table of the cost estimates.",
    ("watch", "host", "export", "index", "usage"),
    "dashboard",
    env="AGENT_UPLOADER_PRICES",
    kind=File(must_exist=True),
    metavar="FILE",
)

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

# -- redaction -----------------------------------------------------------------------------

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

# -- watch ---------------------------------------------------------------------------------

FILE = Setting(
    "file",
    "Session NDJSON file to tail.",
    ("watch",),
    "watch",
    env="AGENT_SESSION_FILE",
    kind=File(),
)
DIR = Setting(
    "dir",
    "Watch every session file in this folder, recursively (repeatable). Without "
    "--file or --dir: the agents' own folders that exist.",
    ("watch",),
    "watch",
    kind=Folder(),
    multiple=True,
)
INCLUDE = Setting(
    "include",
    "With --dir: files to watch, by name or path below the folder (repeatable).  "
    "[default: *.jsonl]",
    ("watch",),
    "watch",
    multiple=True,
    metavar="GLOB",
)
EXCLUDE = Setting(
    "exclude",
    "With --dir: files to skip (repeatable; *.lock and *.trajectory.jsonl always).",
    ("watch",),
    "watch",
    multiple=True,
    metavar="GLOB",
)
IDLE_CLOSE = Setting(
    "idle_close",
    "With --dir: close a file unchanged this long (its segment is uploaded); it is "
    "opened again when it grows.",
    ("watch",),
    "watch",
    default="5m",
    kind=Duration(),
    show_default=True,
)
SCAN_MS = Setting(
    "scan_ms",
    "With --dir: how often the folders are scanned for new and grown files (files "
    "unchanged for 10 minutes are looked at about every 30 s).",
    ("watch",),
    "watch",
    default="2s",
    kind=Duration(),
    show_default=True,
)
SID = Setting(
    "sid",
    "Session id; 'auto' takes the UUID in the file name, else the id in its "
    "first line, else a stable id from host and path.",
    ("watch",),
    "watch",
    env="AGENT_SID",
    default="auto",
    show_default=True,
)
SEG_BYTES = Setting(
    "seg_bytes",
    "Rotate when a segment's uncompressed bytes would exceed this (8MiB, 512KiB, "
    "bytes). A single longer line gets a segment of its own.",
    ("watch",),
    "watch",
    default="8MiB",
    kind=Size(),
    show_default=True,
)
SEG_LINES = Setting(
    "seg_lines",
    "Rotate at this many lines.",
    ("watch",),
    "watch",
    default=10000,
    kind=Integer(lo=1),
    show_default=True,
)
SEG_MS = Setting(
    "seg_ms",
    "Rotate a segment this long after its first line (ms, or 30s, 10m).",
    ("watch",),
    "watch",
    default="600000",
    kind=Duration(),
    show_default=True,
)
POLL_MS = Setting(
    "poll_ms",
    "Poll interval: the safety net behind file events (ms, or 2s).",
    ("watch",),
    "watch",
    default="500",
    kind=Duration(),
    show_default=True,
)
NO_GZIP = Setting(
    "no_gzip",
    "Upload .jsonl instead of .jsonl.gz.",
    ("watch",),
    "watch",
    kind=Flag(),
)
GZIP_LEVEL = Setting(
    "gzip_level",
    "0-9, higher is smaller and slower. 0-3 use ISA-L (fast), 4-9 use zlib.",
    ("watch",),
    "watch",
    default=DEFAULT_LEVEL,
    kind=Integer(0, 9),
    show_default=True,
)
SPOOL_DIR = Setting(
    "spool_dir",
    "Spool: the active segment and segments waiting for upload.",
    ("watch", "delete", "status", "doctor"),
    "watch",
    default=f"{HOME}/spool",
    kind=Folder(),
    show_default=True,
)
STATE_DIR = Setting(
    "state_dir",
    "Resume state and manifest cache.  [default: <spool-dir>/state]",
    ("watch", "delete"),
    "watch",
    kind=Folder(),
)
CONCURRENCY = Setting(
    "concurrency",
    "Uploads at once.",
    ("watch",),
    "watch",
    default=2,
    kind=Integer(1, 64),
    show_default=True,
)
SHUTDOWN_TIMEOUT = Setting(
    "shutdown_timeout",
    "On Ctrl+C/SIGTERM, how long to keep uploading before leaving the rest "
    "in the spool for the next start.",
    ("watch",),
    "watch",
    default="10s",
    kind=Duration(),
    show_default=True,
)

# -- sweep ---------------------------------------------------------------------------------

NEXUS_URL = Setting(
    "nexus_url",
    "Post sessions to this Nexus collector instead of the store.",
    ("sweep",),
    "sweep",
    env="NEXUS_URL",
    secret=True,  # Nexus takes its key in the query string too (?code=KEY)
)
NEXUS_KEY = Setting(
    "nexus_key",
    "The collector's key.",
    ("sweep",),
    "sweep",
    env="NEXUS_KEY",
    secret=True,
)

# -- search index --------------------------------------------------------------------------

INDEX = Setting(
    "index",
    "The search index: a SQLite file, a postgresql://user@host/db URL (a team's "
    "shared index), or off.  [default: a SQLite file of the store's own in the user's "
    "data folder]",
    ("watch", "host", *SEARCHERS, "doctor"),
    "index",
    env="AGENT_UPLOADER_INDEX",
    metavar="PATH|URL|off",
    secret=True,  # a database URL may hold a password (better: PGPASSWORD or ~/.pgpass)
)

# -- the index -----------------------------------------------------------------------------

#: The store settings, in the order --help lists them.
STORE_SETTINGS = (
    STORE,
    BUCKET,
    SUPABASE_URL,
    SUPABASE_KEY,
    SUPABASE_KEY_FILE,
    UPLOAD_URL,
    S3_ENDPOINT_URL,
    S3_REGION,
)
DASHBOARD_SETTINGS = (UI_BIND, UI_PORT, UI_TOKEN, UI_TOKEN_FILE, UI_ALLOWED_HOST, UI_DIST)
REDACTION_SETTINGS = (REDACT, REDACT_RULES)
SETTINGS: tuple[Setting, ...] = (
    FILE,
    DIR,
    INCLUDE,
    EXCLUDE,
    IDLE_CLOSE,
    SCAN_MS,
    SID,
    *STORE_SETTINGS,
    SEG_BYTES,
    SEG_LINES,
    SEG_MS,
    POLL_MS,
    NO_GZIP,
    GZIP_LEVEL,
    SPOOL_DIR,
    STATE_DIR,
    CONCURRENCY,
    SHUTDOWN_TIMEOUT,
    *REDACTION_SETTINGS,
    *DASHBOARD_SETTINGS,
    UI_DISABLE,
    INDEX,
    PRICES,
    LOG_LEVEL,
    NEXUS_URL,
    NEXUS_KEY,
)
BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}

#: The flags that are not settings: what one run of a command acts on and how it prints
#: (`--to`, `--force`, `--json`). A flag in neither list fails tests/test_settings.py:
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
