"""Where settings are read from besides flags and variables: the config file's own
setting, folder and name, and the variables a config file names for its secrets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from uploader.core.settings.kinds import File, Setting


def config_home(environ: Mapping[str, str] | None = None) -> Path:
    """The user's configuration folder as the XDG rule has it: $XDG_CONFIG_HOME when it is
    an absolute path, else ~/.config. (The desktop's variable, not a setting of ours.)"""
    value = (os.environ if environ is None else environ).get("XDG_CONFIG_HOME", "")
    return Path(value) if os.path.isabs(value) else Path("~/.config").expanduser()


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
