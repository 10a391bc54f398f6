"""Transcript lines parsed with orjson where it is installed, json where it is not, with
the same answers either way.

Every line of a session is parsed when the index reads it and when the dashboard shows
it; orjson parses them at about 2.5 times json's speed. It refuses a little that json
accepts (NaN and Infinity, integers over 64 bits, strings with lone surrogates, nesting
over 1,024 deep): such a line is parsed again by json, so what a line means never
depends on whether the wheel was there.
"""

from __future__ import annotations

import json
from typing import Any

_orjson_loads: Any
try:
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - exercised only where orjson has no wheel
    _orjson_loads = None

# -9223372036854775809, the first integer orjson would read as a float, has 19 digits.
# Looking for a run that long costs a translate and a find, both in C (~0.8 ms per MB,
# against the 2 ms orjson saves).
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_NUMBER = b"0" * 19


def loads(raw: bytes | str) -> Any:
    """The JSON value in raw, as json.loads gives it: ValueError for broken JSON or
    invalid UTF-8, RecursionError for absurd nesting."""
    if (
        _orjson_loads is not None
        and isinstance(raw, bytes)
        and _LONG_NUMBER not in raw.translate(_DIGITS_AS_ZERO)
    ):
        try:
            return _orjson_loads(raw)
        except ValueError:  # orjson.JSONDecodeError; json decides what the line is
            pass
    return json.loads(raw)
