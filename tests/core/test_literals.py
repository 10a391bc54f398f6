"""uploader.core.literals: every occurrence of the strings, the same with Hyperscan as with
bytes.find, within the bounds asked for."""

from __future__ import annotations

from random import Random

import pytest

from uploader.core import hyperscan
from uploader.core.literals import Literals

NEEDLES = (b'"usage"', b'"token_count"', b"compact", b"aa")


def test_hyperscan_is_what_scans_here() -> None:
    """The wheel is installed wherever this suite runs, so the fast path is under test."""
    assert hyperscan.hs is not None
    assert Literals(NEEDLES)._db is not None
    assert Literals(NEEDLES, engine="find")._db is None


@pytest.mark.parametrize("seed", range(5))
def test_both_engines_find_the_same_offsets(seed: int) -> None:
    rng = Random(seed)
    pieces = [b'{"type":"x"}\n', b'"usage"', b'"token_count"', b"compact", b"aaa", b"x" * 50, b"\n"]
    data = b"".join(rng.choice(pieces) for _ in range(2000))
    fast, slow = Literals(NEEDLES), Literals(NEEDLES, engine="find")
    for start, end in [(0, None), (7, len(data) - 5), (100, 101), (50, 50), (len(data), None)]:
        assert fast.positions(data, start, end) == slow.positions(data, start, end)
    every = fast.positions(data)
    assert every and all(any(data.startswith(n, at) for n in NEEDLES) for at in every)


def test_offsets_are_in_the_data_and_inside_the_bounds() -> None:
    data = b'ab"usage"cd compact aaa "usage"'
    scan = Literals(NEEDLES)
    assert scan.positions(data) == [2, 12, 20, 21, 24]  # "aaa" holds "aa" twice
    assert scan.positions(data, 3) == [12, 20, 21, 24]  # "usage" cut at the start: not found
    assert scan.positions(data, 0, 18) == [2]  # "compact" cut at the end: not found
    assert scan.positions(data, 12, 19) == [12]


def test_no_strings_or_an_empty_one_is_refused() -> None:
    with pytest.raises(ValueError):
        Literals(())
    with pytest.raises(ValueError):
        Literals((b"x", b""))
