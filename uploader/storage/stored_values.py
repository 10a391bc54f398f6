"""Values read from a stored manifest as its readers have always read them (a field of
the wrong type is no value), and a record written back as JSON in the order it was
read in, keeping the fields a newer writer added.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def stored_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def stored_whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def stored_number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def stored_figures(value: Any) -> dict[str, float] | None:
    """A usage record: its numeric figures ({}: counted, none found; None: not counted)."""
    if not isinstance(value, dict):
        return None
    return {k: v for k, v in value.items() if stored_number(v) is not None}


def or_default(value: int | None, default: int) -> int:
    return default if value is None else value


def stored_digest(value: Any) -> str | None:
    """A sha256 as readers have always compared it: any other value that is set is one
    that no segment matches."""
    if isinstance(value, str) or not value:
        return value or None
    return str(value)


def unknown_fields(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The fields of `data` that the model does not name."""
    if known.issuperset(data):
        return {}
    return {k: v for k, v in data.items() if k not in known}


def json_object(
    values: dict[str, Any],
    always: frozenset[str],
    extra: Mapping[str, Any],
    read_order: tuple[str, ...] | None,
) -> dict[str, Any]:
    """A record as JSON: its fields (a None left out, unless the JSON it was read from had
    it, or a record made here always writes it), then its extra fields; in the order it
    was read in, with fields it did not have after those."""
    if read_order is None:
        made = {k: v for k, v in values.items() if v is not None or k in always}
        made.update(extra)
        return made
    merged = {k: v for k, v in values.items() if v is not None or k in read_order}
    merged.update(extra)
    if tuple(merged) == read_order:  # read, and written back, in the canonical order
        return merged
    out = {k: merged[k] for k in read_order if k in merged}
    out.update((k, v) for k, v in merged.items() if k not in out)
    return out
