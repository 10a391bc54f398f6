"""What a check says: its verdict (OK, WARN, FAIL), what it found and what to do; what
`doctor` looks at (Subject); and the helpers every check words its outcome with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from uploader.core import errors as e
from uploader.core.config_file import ConfigFile, Located
from uploader.messages import explain
from uploader.stores import Store

OK, WARN, FAIL = "ok", "warn", "fail"
_RANK = {OK: 0, WARN: 1, FAIL: 2}


@dataclass(frozen=True)
class Check:
    """One check's outcome: `verdict` (OK, WARN or FAIL), what was found, and on a problem
    what to do."""

    name: str
    verdict: str
    detail: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        """name, verdict, detail and hint (None when there is none)."""
        return asdict(self)


@dataclass(frozen=True)
class ConfigFound:
    """The config file a command read: where it was looked for, what it holds (None: no
    file at the default place), or why it cannot be used (then its settings were not)."""

    located: Located
    file: ConfigFile | None = None
    error: e.UploaderError | None = None


@dataclass(frozen=True)
class Subject:
    """What doctor looks at, as the settings name it. `store` is None when the store
    settings cannot be used (`store_problem` says why)."""

    config: ConfigFound
    store: Store | None
    store_problem: e.UploaderError | None
    index: str | None
    spool: Path
    ui_bind: str
    ui_port: int


def shown_error(name: str, exc: e.UploaderError) -> Check:
    """An error as the command line shows it, as a failed check."""
    shown = explain(exc)
    return Check(name, FAIL, shown.message, shown.hint)


def worst(
    name: str, about: str, facts: Sequence[str], problems: Sequence[tuple[str, str, str]]
) -> Check:
    """One line on `about` from what was found and the problems (verdict, what, hint)
    among it: the worst verdict, and the hint of the first problem that has it."""
    detail = f"{about}: " + "; ".join([*facts, *(p[1] for p in problems)])
    if not problems:
        return Check(name, OK, detail)
    verdict = max((p[0] for p in problems), key=_RANK.__getitem__)
    return Check(name, verdict, detail, next(p[2] for p in problems if p[0] == verdict))


def home_path(path: Path) -> str:
    """A path as a person reads it: ~ for the home folder."""
    home = Path.home()
    return (
        f"~/{path.relative_to(home)}" if path.is_relative_to(home) and path != home else str(path)
    )
