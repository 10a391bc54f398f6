"""count_newlines gives what bytes.count gives, whatever the lines' lengths."""

from __future__ import annotations

from random import Random

import pytest

from uploader.core.newlines import CHECK_EVERY, SHORT_LINE, count_newlines


def lines_of(rng: Random, lengths: list[int]) -> bytes:
    return b"".join(b"x" * n + b"\n" for n in lengths)


@pytest.mark.parametrize(
    "lengths",
    [
        [],
        [0],
        [5000] * 300,  # long lines: hops from newline to newline all the way
        [3] * 5000,  # short lines: handed to bytes.count after the first check
        [3] * CHECK_EVERY + [5000] * 200,  # short, then long
        [5000] * CHECK_EVERY * 3 + [0] * 5000,  # long, then a run of empty lines
        [SHORT_LINE - 1] * CHECK_EVERY * 2,  # just under the threshold
    ],
)
def test_the_count_is_bytes_count(lengths: list[int]) -> None:
    data = lines_of(Random(0), lengths) + b"an unfinished line"
    assert count_newlines(data) == data.count(b"\n") == len(lengths)


def test_a_range_counts_only_inside_it() -> None:
    rng = Random(1)
    data = b"".join(b"y" * rng.randrange(0, 900) + b"\n" for _ in range(2000))
    for _ in range(200):
        start = rng.randrange(0, len(data))
        end = rng.randrange(start, len(data) + 1)
        assert count_newlines(data, start, end) == data.count(b"\n", start, end)
    assert count_newlines(data, 10, 10) == 0
    assert count_newlines(b"\n\n\n", 1) == 2
