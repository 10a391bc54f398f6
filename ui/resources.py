"""Where the templates and static files are: beside the package in a source checkout
(`templates/`, `static/` at the top of the repository), inside it in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """`templates` or `static`: the wheel's copy inside `ui/`, else the checkout's."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the dashboard's {name}/ folder is missing beside {_PACKAGE}")
