"""Parsing human numbers: `8MiB`, `512k`, `10m`, `1500ms`."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_SIZE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_MS_PER = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def parse_size(text: str) -> int:
    """Bytes from `8388608`, `8MiB`, `8M`, `8MB` (all binary: 1 KiB = 1024 bytes)."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size (try 8MiB, 512KiB or a number of bytes)")
    number, unit, _ = m.groups()
    return int(float(number) * 1024 ** _SIZE_POWERS[unit.lower()])


def parse_ms(text: str) -> int:
    """Milliseconds from `600000`, `600s`, `10m`, `500ms` (a bare number is ms)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration (try 500ms, 30s, 10m or a number of ms)")
    number, unit = m.groups()
    return int(float(number) * _MS_PER[(unit or "ms").lower()])


def format_size(n: float) -> str:
    """`512 B`, `8.0 KB`, `1.5 GB` (binary units, as the dashboard shows them)."""
    for unit in ("B", "KB", "MB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def format_duration(seconds: float) -> str:
    """`45s`, `12m 5s`, `3h 20m`, `2d 4h`: the two largest units."""
    s = max(0, int(seconds))
    for unit, length, small, small_length in (
        ("d", 86400, "h", 3600),
        ("h", 3600, "m", 60),
        ("m", 60, "s", 1),
    ):
        if s >= length:
            rest = (s % length) // small_length
            return f"{s // length}{unit}" + (f" {rest}{small}" if rest else "")
    return f"{s}s"


_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d|w)\s*$", re.IGNORECASE)
_SECONDS_PER = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float) -> float:
    """Epoch seconds from a time ago (`30m`, `24h`, `7d`, `2w`) or a date (`2026-12-01`,
    UTC) or an ISO time."""
    m = _AGO.match(text)
    if m:
        return now - float(m.group(1)) * _SECONDS_PER[m.group(2).lower()]
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a time ago nor a date (try 7d, 24h, 30m or 2026-12-01)"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
