"""What a setting is: `Setting` (name, flag, variable, default, help, commands) and
the kinds its text is read as (`Size`, `Duration`, `Choice`, ...), with the reading.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from uploader.core.errors import InvalidSetting
from uploader.core.units import parse_ms, parse_size


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
