"""JSON that someone else wrote (a store's manifests and labels, an agent's index, legacy
files): parsed so that a hostile file is a ValueError naming the problem, never a crash.

`json.loads` raises RecursionError on `[[[[…` (100,000 deep), accepts NaN and Infinity
(which `json.dumps` then writes back as invalid JSON) and reads a file of any size into
memory. Here each of those is refused, and a value nested deeper than anything this
program writes is refused too, so that no later walk over it can hit the recursion limit.
"""

from __future__ import annotations

import json
import math
from typing import Any

from uploader.core.errors import BadJSON as BadJSON  # raised here: a ValueError, and Damaged

MAX_DEPTH = 64  # manifests, labels and agents' indexes nest less than 10 deep
MAX_BYTES = 64 << 20


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJSON(f"the number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise BadJSON(f"it holds {name}, which is not JSON")


def loads(raw: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in `raw`; BadJSON (a ValueError) if it is not valid JSON, holds
    NaN or Infinity, is longer than max_bytes or nests deeper than max_depth."""
    if len(raw) > max_bytes:
        raise BadJSON(f"it is larger than {max_bytes >> 20} MiB")
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise BadJSON("it is nested too deeply") from None
    except BadJSON:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadJSON(str(exc), syntax=True) from None
    except ValueError as exc:  # a 5,000-digit number
        raise BadJSON(str(exc)) from None
    if _deeper_than(value, max_depth):
        raise BadJSON(f"it is nested more than {max_depth} deep")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Does the value nest more than `limit` lists and objects deep? (No recursion.)"""
    if not isinstance(value, dict | list):
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False
