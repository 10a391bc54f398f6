"""The config file: where it is, and its settings read and checked.

A TOML file with one top-level key per setting, named as the setting is
(uploader.core.settings: `spool_dir` for --spool-dir). A value is written as its flag
takes it (`"5m"`, `"8MiB"`, `4333`, `true` or `"off"`, a list for a repeatable flag); a
path may start with `~`, and a relative one is relative to the file's folder. A secret
may be named instead of written: `{ env = "NAME" }` (an environment variable) or
`{ file = "PATH" }` (a file holding it). A file that holds a secret as text must be
private to its owner, or it is refused.

Everything is checked when the file is read, whichever command reads it: an unknown key
or a bad value is a ConfigError naming the file, the line and the key.

The command line takes the file as the layer between the environment and the defaults
(uploader.cli.config_layer); `locate` says which file that is.

Imports nothing of agent-uploader but core.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from uploader.core import settings
from uploader.core.errors import (
    ConfigError,
    ConfigExposed,
    ConfigUnreadable,
    InvalidSetting,
)
from uploader.core.fsutil import read_capped
from uploader.core.settings import BY_NAME, Setting

#: The most a config file (or a secret's file) may hold: it is read whole, by every command.
LIMIT = 1 << 20
#: Group and others may neither read nor write a file that holds a secret.
_NOT_PRIVATE = 0o077
#: The ways to name a secret instead of writing it.
BY_ENV, BY_FILE = '{ env = "NAME" }', '{ file = "PATH" }'
REFERENCE = f"{BY_ENV} or {BY_FILE}"

#: A value as the command line takes it: text, on/off, or the texts of a repeatable flag.
Value = str | bool | tuple[str, ...]


def default_path() -> Path:
    """This platform's place for the user's config file (on Linux
    `$XDG_CONFIG_HOME/agent-uploader/config.toml`, `~/.config/...` by default)."""
    folder = platformdirs.user_config_path(settings.CONFIG_FOLDER, appauthor=False)
    return folder / settings.CONFIG_NAME


@dataclass(frozen=True)
class Located:
    """Which config file applies, and what named it: "given" (by the caller: a flag),
    "environment" (the CONFIG variable) or "default" (the platform's place, where there
    may be no file)."""

    path: Path
    named_by: str


def locate(given: Path | None = None, environ: Mapping[str, str] | None = None) -> Located:
    """The config file: `given`, else the one the environment names, else the default."""
    if given is not None:
        return Located(given.expanduser(), "given")
    named = settings.CONFIG.from_env(environ)
    if named is not None:
        return Located(Path(named).expanduser(), "environment")
    return Located(default_path(), "default")


@dataclass(frozen=True)
class Entry:
    """One setting's value in the file, at `line`. `via`: how a secret was named
    ("env NAME", "file PATH"), None when written as is."""

    setting: Setting
    value: Value
    line: int
    via: str | None = None


@dataclass(frozen=True)
class ConfigFile:
    """A config file's settings, checked."""

    path: Path
    #: By setting name, in the file's order.
    entries: Mapping[str, Entry]


def load(located: Located, environ: Mapping[str, str] | None = None) -> ConfigFile | None:
    """The file's settings, checked; None when there is no file at the default place (a
    file the caller or the environment named must exist)."""
    path = located.path
    try:
        data = read_capped(path, LIMIT)
        mode = path.stat().st_mode
    except FileNotFoundError:
        if located.named_by == "default":
            return None
        raise ConfigUnreadable(path, "no such file") from None
    except OSError as exc:
        raise ConfigUnreadable(path, f"cannot be read: {exc.strerror}") from exc
    except ValueError as exc:  # a folder, a pipe, a runaway file
        raise ConfigUnreadable(path, f"cannot be read: {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigUnreadable(path, "is not UTF-8 text") from None
    return read(path, text, mode=None if os.name == "nt" else mode, environ=environ)


def read(
    path: Path,
    text: str,
    *,
    mode: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> ConfigFile:
    """The settings of config file `path` whose content is `text`, checked. `mode`: its
    permission bits, None where they say nothing (then a secret in it is not refused)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        raise ConfigError(
            path, int(at.group(1)) if at else 0, "", f"is not valid TOML: {exc}"
        ) from None
    lines = text.splitlines()
    literal = [
        key
        for key, raw in document.items()
        if key in BY_NAME and BY_NAME[key].secret and not isinstance(raw, dict)
    ]
    if literal and mode is not None and mode & _NOT_PRIVATE:
        raise ConfigExposed(path, literal, mode)
    entries = {}
    for key, raw in document.items():
        line = key_line(lines, key)
        setting = BY_NAME.get(key)
        if setting is None:
            raise ConfigError(path, line, key, "is not a setting", _did_you_mean(key))
        try:
            entries[key] = _entry(setting, raw, line, path.absolute().parent, environ)
        except InvalidSetting as bad:
            raise ConfigError(path, line, key, bad.problem, bad.hint) from None
    return ConfigFile(path, entries)


def key_line(lines: list[str], key: str) -> int:
    """The line (1-based) where a top-level `key` is set or its table starts; 0 if none
    is found. tomllib keeps no positions: the text is scanned, which is enough for the
    top-level keys a config file has (they come before any table)."""
    name = re.escape(key)
    pattern = re.compile(rf"""^\s*(?:\[\[?\s*)?(?:{name}|"{name}"|'{name}')\s*[=.\]]""")
    return next((n for n, line in enumerate(lines, 1) if pattern.match(line)), 0)


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key, BY_NAME, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "a key is a setting's name, such as store, spool_dir or ui_port"


def _bad(setting: Setting, problem: str) -> InvalidSetting:
    """A value of `setting` that cannot be used (never shown: it may be a secret)."""
    return InvalidSetting(setting.name, "", problem)


def _entry(
    setting: Setting, raw: Any, line: int, base: Path, environ: Mapping[str, str] | None
) -> Entry:
    if isinstance(raw, dict):
        if not setting.secret:
            raise _bad(setting, f"must be {_expected(setting)}, not a table")
        value, via = _reference(setting, raw, base, environ)
        return Entry(setting, value, line, via)
    if setting.multiple:
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise _bad(setting, f"must be {_expected(setting)}")
        return Entry(setting, tuple(str(_one(setting, item, base)) for item in items), line)
    return Entry(setting, _one(setting, raw, base), line)


def _one(setting: Setting, raw: Any, base: Path) -> str | bool:
    """One value, checked as its flag would check it, in the form the flag takes."""
    kind = setting.kind
    if isinstance(raw, bool):
        if not isinstance(kind, settings.Switch | settings.Flag):
            raise _bad(setting, f"must be {_expected(setting)}, not {str(raw).lower()}")
        return raw
    numeric = isinstance(kind, settings.Integer | settings.Size | settings.Duration)
    if isinstance(raw, int) and numeric:
        raw = str(raw)
    if not isinstance(raw, str):
        raise _bad(setting, f"must be {_expected(setting)}")
    parsed = setting.parse(raw)
    if isinstance(kind, settings.Switch | settings.Flag):
        return bool(parsed)
    if isinstance(kind, settings.File | settings.Folder):
        return str(_path(setting, raw, kind, base))
    return raw


def _path(setting: Setting, text: str, kind: settings.File | settings.Folder, base: Path) -> Path:
    """A path as written in the file: `~` expanded, relative to the file's folder; checked
    as the flag checks it (a file is no folder, and exists if it must)."""
    path = base / Path(text).expanduser()
    folder = isinstance(kind, settings.Folder)
    if path.exists() and path.is_dir() != folder:
        raise _bad(setting, f"{text!r} is {'not a folder' if folder else 'a folder'}")
    if kind.must_exist and not path.exists():
        raise _bad(setting, f"{text!r} does not exist")
    return path


def _reference(
    setting: Setting, raw: dict[str, Any], base: Path, environ: Mapping[str, str] | None
) -> tuple[str, str]:
    """A secret named by `{ env = "NAME" }` or `{ file = "PATH" }`: its text, and how it
    was named."""
    if len(raw) != 1 or not isinstance(next(iter(raw.values())), str):
        raise _bad(setting, f"must be text, or {REFERENCE}")
    ((how, name),) = raw.items()
    if how == "env":
        value = settings.variable(name, environ)
        if value is None:
            raise _bad(setting, f"names the environment variable {name}, which is not set")
        return value, f"env {name}"
    if how == "file":
        path = base / Path(name).expanduser()
        try:
            value = read_capped(path, LIMIT).decode("utf-8").strip()
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            reason = getattr(exc, "strerror", None) or (
                "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            )
            raise _bad(setting, f"names the file {path}, which cannot be read: {reason}") from None
        if not value:
            raise _bad(setting, f"names the file {path}, which is empty")
        return value, f"file {path}"
    raise _bad(setting, f"must be text, or {REFERENCE}")


def toml_value(value: object) -> str:
    """`value` (text, a path, a number, on/off, a list of them) written as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML string


def _expected(setting: Setting) -> str:
    """What a value of this setting is, as an error says it."""
    kind = setting.kind
    if setting.multiple:
        return "a list of texts"
    if isinstance(kind, settings.Switch | settings.Flag):
        return 'true or false (or "on", "off")'
    if isinstance(kind, settings.Integer):
        return "a whole number"
    if isinstance(kind, settings.Size):
        return 'a size (a number of bytes, or text such as "8MiB")'
    if isinstance(kind, settings.Duration):
        return 'a duration (a number of ms, or text such as "30s")'
    if isinstance(kind, settings.File | settings.Folder):
        return "a path (text)"
    if setting.secret:
        return f"text, or {REFERENCE}"
    return "text"
