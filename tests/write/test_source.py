"""SourceReader.read_lines: complete lines, each once, however the file grows and is read."""

from __future__ import annotations

import os
from pathlib import Path
from random import Random

import pytest

from uploader.write.source import SourceReader


def read_all(reader: SourceReader, limit: int) -> bytes:
    out: list[bytes] = []
    for _ in range(100_000):  # bounded: each round hands out at least one line or stops
        buf, end = reader.read_lines(limit)
        if not end:
            return b"".join(out)
        out.append(buf[:end])
    raise AssertionError("read_lines never ran dry")


@pytest.mark.parametrize("limit", [1, 7, 64, 1000, 1 << 20])
def test_lines_of_every_length_come_out_whole_and_once(tmp_path: Path, limit: int) -> None:
    rng = Random(limit)
    lines = b"".join(b"z" * rng.choice([0, 3, 50, 700, 5000]) + b"\n" for _ in range(400))
    path = tmp_path / "s.jsonl"
    path.write_bytes(lines + b"half a line")
    reader = SourceReader(path)
    assert read_all(reader, limit) == lines
    assert reader.offset == len(lines)
    assert reader.take_partial() == b"half a line"


def test_a_line_written_in_pieces_is_handed_out_when_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":')
    reader = SourceReader(path)
    assert read_all(reader, 64) == b'{"a":1}\n'
    with open(path, "ab") as f:
        f.write(b"2")
    assert read_all(reader, 64) == b""  # still no newline: nothing yet
    with open(path, "ab") as f:
        f.write(b'}\n{"c":3}\n{"d"')
    assert read_all(reader, 64) == b'{"b":2}\n{"c":3}\n'
    assert reader.offset == len(b'{"a":1}\n{"b":2}\n{"c":3}\n')


def test_a_partial_line_read_before_a_truncation_is_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"a":1}\n{"unfinished":')
    reader = SourceReader(path)
    assert read_all(reader, 64) == b'{"a":1}\n'
    os.truncate(path, 3)  # the agent started the file again
    assert read_all(reader, 64) == b""
    assert reader.take_partial() == b'{"unfinished":'  # what was read is still there


def test_bytes_rewritten_in_place_do_not_replace_the_partial_line_already_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"a":1}\n{"b":')
    reader = SourceReader(path)
    assert read_all(reader, 64) == b'{"a":1}\n'
    path.write_bytes(b'{"a":1}\n{"X":2}\n')  # same inode, the held bytes changed
    assert read_all(reader, 64) == b'{"b":2}\n'  # the bytes read first, then what follows
