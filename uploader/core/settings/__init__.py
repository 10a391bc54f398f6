"""Every setting, declared once, as data: its name, flag, environment variable, default,
kind, help text, whether it is a secret, and which commands take it.

- The command line's options are generated from these (`uploader.cli.options.option`).
- The Python API reads the same environment variables through them (`Setting.from_env`):
  no variable's name is spelled anywhere else.
- tests/core/test_settings.py fails when a setting is missing from the docs, or when a command
  has a flag that is neither a setting here nor listed in COMMAND_FLAGS.

A setting's `name` is its flag without the dashes, with `_` for `-` (`--spool-dir`:
`spool_dir`): the key its value has in a command's options, and the key a config file
will use. `default` is the value as a user writes it (`"5m"`, `"8MiB"`); its `kind` says
how such text is read. A `secret` is never printed and never has a default.

This package is the one registry: SETTINGS and BY_NAME below, which the command line,
the Python API, the config file and the docs' tests read, and every declaration by name
(`settings.STORE`). The declarations are grouped by area, one module each: store
(where sessions are kept, sent and searched), watch, dashboard, redaction; commands
(which commands take them, and the flags that are not settings); config (the config
file); kinds (the Setting class and how a value's text is read).

Imports nothing of agent-uploader but core.
"""

from __future__ import annotations

from collections.abc import Mapping

from uploader.core.settings.commands import (
    COMMAND_FLAGS,
    EVERY_COMMAND,
    LOG_LEVEL,
    READERS,
    SEARCHERS,
    SENDERS,
    STORE_COMMANDS,
)
from uploader.core.settings.config import CONFIG, CONFIG_FOLDER, CONFIG_NAME, config_home, variable
from uploader.core.settings.dashboard import (
    DASHBOARD_COMMANDS,
    DASHBOARD_PORT_COMMANDS,
    DASHBOARD_SETTINGS,
    PRICES,
    UI_ALLOWED_HOST,
    UI_BIND,
    UI_DISABLE,
    UI_DIST,
    UI_PORT,
    UI_TOKEN,
    UI_TOKEN_FILE,
)
from uploader.core.settings.kinds import (
    OFF,
    ON,
    Choice,
    Default,
    Duration,
    File,
    Flag,
    Folder,
    Integer,
    Kind,
    Setting,
    Size,
    Switch,
    Text,
    Value,
)
from uploader.core.settings.redaction import REDACT, REDACT_RULES, REDACTION_SETTINGS
from uploader.core.settings.store import (
    BUCKET,
    DEFAULT_BUCKET,
    DEFAULT_STORE_URL,
    HOME,
    INDEX,
    NEXUS_KEY,
    NEXUS_URL,
    S3_ENDPOINT_URL,
    S3_REGION,
    STORE,
    STORE_SETTINGS,
    SUPABASE_KEY,
    SUPABASE_KEY_FILE,
    SUPABASE_URL,
    UPLOAD_URL,
)
from uploader.core.settings.watch import (
    CONCURRENCY,
    DIR,
    EXCLUDE,
    FILE,
    GZIP_LEVEL,
    IDLE_CLOSE,
    INCLUDE,
    NO_GZIP,
    POLL_MS,
    SCAN_MS,
    SEG_BYTES,
    SEG_LINES,
    SEG_MS,
    SHUTDOWN_TIMEOUT,
    SID,
    SPOOL_DIR,
    STATE_DIR,
)

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

__all__ = [
    "BUCKET",
    "BY_NAME",
    "COMMAND_FLAGS",
    "CONCURRENCY",
    "CONFIG",
    "CONFIG_FOLDER",
    "CONFIG_NAME",
    "DASHBOARD_COMMANDS",
    "DASHBOARD_PORT_COMMANDS",
    "DASHBOARD_SETTINGS",
    "DEFAULT_BUCKET",
    "DEFAULT_STORE_URL",
    "DIR",
    "EVERY_COMMAND",
    "EXCLUDE",
    "FILE",
    "GZIP_LEVEL",
    "HOME",
    "IDLE_CLOSE",
    "INCLUDE",
    "INDEX",
    "LOG_LEVEL",
    "NEXUS_KEY",
    "NEXUS_URL",
    "NO_GZIP",
    "OFF",
    "ON",
    "POLL_MS",
    "PRICES",
    "READERS",
    "REDACT",
    "REDACTION_SETTINGS",
    "REDACT_RULES",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "SCAN_MS",
    "SEARCHERS",
    "SEG_BYTES",
    "SEG_LINES",
    "SEG_MS",
    "SENDERS",
    "SETTINGS",
    "SHUTDOWN_TIMEOUT",
    "SID",
    "SPOOL_DIR",
    "STATE_DIR",
    "STORE",
    "STORE_COMMANDS",
    "STORE_SETTINGS",
    "SUPABASE_KEY",
    "SUPABASE_KEY_FILE",
    "SUPABASE_URL",
    "UI_ALLOWED_HOST",
    "UI_BIND",
    "UI_DISABLE",
    "UI_DIST",
    "UI_PORT",
    "UI_TOKEN",
    "UI_TOKEN_FILE",
    "UPLOAD_URL",
    "Choice",
    "Default",
    "Duration",
    "File",
    "Flag",
    "Folder",
    "Integer",
    "Kind",
    "Setting",
    "Size",
    "Switch",
    "Text",
    "Value",
    "config_home",
    "variable",
]
