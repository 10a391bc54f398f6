"""uploader.core.fastjson: a transcript line means the same with orjson as with json."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from uploader.core import fastjson

SAME = [
    b'{"type":"message","timestamp":"2026-03-14T11:40:00.123Z","n":1.5e-7,"ok":true}',
    b'{"dup":1,"dup":2}',  # the last key wins, as in json
    b'{"big":123456789012345678901234567890}',  # over 64 bits: orjson gives a float
    b'{"big":-9223372036854775809,"fits":-9223372036854775808}',
    b'{"big":18446744073709551616}',
    b'{"long":"9223372036854775809 in a string","n":0.12345678901234567890123}',
    b'{"nan":NaN,"inf":-Infinity}',  # not JSON, but json reads it and so must we
    b'{"lone":"\\ud800 half a pair"}',  # a lone surrogate: orjson refuses, json keeps it
    '{"text":"caf\u00e9 \u2603"}'.encode(),
    b"[1,2,3]",
    b"  {} \n",
]


@pytest.mark.parametrize("raw", SAME, ids=range(len(SAME)))
def test_every_line_parses_as_json_parses_it(raw: bytes) -> None:
    got: Any = fastjson.loads(raw)
    want: Any = json.loads(raw)
    # NaN != NaN: compare what the values say, and their types (an int is not a float)
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    assert repr(got) == repr(want)


@pytest.mark.parametrize(
    "raw", [b'{"a":', b"\xff\xfe{}", b"", b'{"a":1} trailing'], ids=["cut", "utf8", "empty", "tail"]
)
def test_what_json_refuses_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(raw)
    with pytest.raises(ValueError):
        fastjson.loads(raw)


def test_absurd_nesting_fails_as_json_fails() -> None:
    deep = b"[" * (sys.getrecursionlimit() * 20) + b"]" * (sys.getrecursionlimit() * 20)
    with pytest.raises(RecursionError):
        json.loads(deep)
    with pytest.raises(RecursionError):
        fastjson.loads(deep)


def test_orjson_is_what_parses_here() -> None:
    """The wheel is installed on every machine this suite runs on: the fast path is the
    one under test above, not only the fallback."""
    assert fastjson._orjson_loads is not None
