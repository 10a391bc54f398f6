"""Reading what the engine needs from transcript lines: ids, agents, timestamps, units."""

from __future__ import annotations

from pathlib import Path

import pytest

from uploader.agents import detect as detect_agent, line_timestamp, read_meta, sid_from_name
from uploader.cli.options import validate_sid
from uploader.core.errors import UsageError
from uploader.core.units import parse_ms, parse_size
from uploader.storage.sessionid import derive_sid, stable_sid

CODEX_META = (
    b'{"timestamp":"2026-03-14T09:12:05.412Z","type":"session_meta","payload":{"id":'
    b'"019ce1a2-7b3c-7d10-9e2f-3a4b5c6d7e8f","cwd":"/home/dev/shop-api","git":'
    b'{"commit_hash":"a1b2c3d","branch":"main"}}}\n'
)
OPENCLAW_HEAD = (
    b'{"type":"session","version":3,"id":"7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77",'
    b'"timestamp":"2026-03-14T09:00:00.000Z","cwd":"/home/dev/.openclaw/workspace"}\n'
)


@pytest.mark.parametrize(
    ("name", "sid"),
    [
        ("rollout-2026-03-14T09-12-05-019ce1a2-7b3c-7d10-9e2f-3a4b5c6d7e8f.jsonl",
         "019ce1a2-7b3c-7d10-9e2f-3a4b5c6d7e8f"),
        ("5B1E0C7A-2f4d-4c55-9a61-0d2e8b7f1c3a.jsonl", "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"),
        ("2026-03-14T09-00-00-000Z_7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77.jsonl",
         "7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77"),
        ("7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77-topic-42.jsonl",
         "7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77-topic-42"),
        ("notes.jsonl", None),
    ],
)  # fmt: skip
def test_sid_from_file_names(name: str, sid: str | None) -> None:
    assert sid_from_name(name) == sid


def test_sid_falls_back_to_first_line_then_host_and_path(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    assert derive_sid(path, "abc-123") == "abc-123"
    assert derive_sid(path, "../etc") == stable_sid(path)
    assert derive_sid(path, None) == stable_sid(path) == stable_sid(path)
    assert stable_sid(path) != stable_sid(tmp_path / "other.jsonl")


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "a\nb", ".hidden", "x" * 200, "a..b"])
def test_unsafe_sids_are_refused_with_a_hint(bad: str) -> None:
    with pytest.raises(UsageError) as err:
        validate_sid(bad)
    assert repr(bad) in err.value.message
    assert err.value.hint and "--sid auto" in err.value.hint


def test_agents_are_detected_from_path_then_first_line(tmp_path: Path) -> None:
    assert detect_agent(Path("/h/.codex/sessions/2026/03/14/x.jsonl"), None) == "codex"
    assert detect_agent(Path("/h/.claude/projects/-home-dev/x.jsonl"), None) == "claude"
    assert detect_agent(Path("/h/.openclaw/agents/main/sessions/x.jsonl"), None) == "openclaw"
    assert detect_agent(Path("/h/.pi/agent/sessions/--x--/y.jsonl"), None) == "pi"
    assert detect_agent(tmp_path / "a.jsonl", CODEX_META) == "codex"
    assert detect_agent(tmp_path / "a.jsonl", OPENCLAW_HEAD) == "openclaw"
    assert detect_agent(tmp_path / "2026-03-14T09-00-00_7d3f9a10-.jsonl", OPENCLAW_HEAD) == "pi"
    assert detect_agent(tmp_path / "a.jsonl", b"not json\n") == "unknown"


def test_codex_metadata_gives_id_cwd_and_git() -> None:
    meta = read_meta(Path("x.jsonl"), CODEX_META)
    assert meta.first_line_id == "019ce1a2-7b3c-7d10-9e2f-3a4b5c6d7e8f"
    assert (meta.cwd, meta.git_commit, meta.git_branch) == ("/home/dev/shop-api", "a1b2c3d", "main")


def test_timestamps_come_from_the_line_head_or_tail() -> None:
    assert line_timestamp(CODEX_META) == 1773479525.412
    claude = (
        b'{"type":"user","message":{"content":"'
        + b"x" * 100_000
        + (b'"},"uuid":"u","timestamp":"2026-03-14T09:12:06.010Z"}\n')
    )
    assert line_timestamp(claude) == pytest.approx(1773479526.01)
    assert line_timestamp(b'{"ts":1773479526000,"a":1}') == 1773479526.0
    escaped = b'{"text":"{\\"timestamp\\":\\"2020-01-01T00:00:00Z\\"}"}'
    assert line_timestamp(escaped) is None  # only the line's own key counts
    assert line_timestamp(b"garbage") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("8MiB", 8 << 20), ("8M", 8 << 20), ("512KiB", 512 << 10), ("1024", 1024), ("1.5k", 1536)],
)
def test_sizes(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize(
    ("text", "value"), [("600000", 600000), ("10m", 600000), ("2s", 2000), ("500ms", 500)]
)
def test_durations(text: str, value: int) -> None:
    assert parse_ms(text) == value


@pytest.mark.parametrize("bad", ["", "8 apples", "-1", "MiB"])
def test_bad_numbers_say_what_to_write(bad: str) -> None:
    with pytest.raises(ValueError, match="try"):
        parse_size(bad)
    with pytest.raises(ValueError, match="try"):
        parse_ms(bad)


def test_absurd_lines_are_passed_through_not_fatal() -> None:
    from uploader.agents import SessionMeta, checkpoint_of

    far = b'{"type":"compacted","timestamp":"0001-01-01T00:00:00+14:00"}'
    assert line_timestamp(far) is None  # before 1970 in UTC or past 9999: not a time
    mark = checkpoint_of(far, SessionMeta(), read_at=1773488400.0)
    assert mark is not None and mark.ts == 1773488400.0
    deep = b"[" * 100_000 + b"]" * 100_000
    assert read_meta(Path("x.jsonl"), deep).agent == "unknown"
    assert checkpoint_of(b'{"type":"compacted","x":' + deep + b"}", SessionMeta(), 0.0) is None


@pytest.mark.parametrize(
    "line",
    [
        b'{"type":"compacted","payload":{"message":"summary"}}',
        b'{"type": "compacted", "label": "by hand"}',
        b'{"type":"system","subtype":"compact_boundary","compactMetadata":{"trigger":"auto"}}',
        b'{"type":"compaction","summary":"earlier work","tokensBefore":1200}',
    ],
)
def test_each_agents_compaction_line_is_a_checkpoint(line: bytes) -> None:
    from uploader.agents import SessionMeta, checkpoint_of

    assert checkpoint_of(line, SessionMeta(), 0.0) is not None


@pytest.mark.parametrize(
    "line",
    [
        b'{"type":"user","message":{"content":"please compact the \\"compacted\\" log"}}',
        b'{"type":"message","text":"run /compact, then compaction"}',
        b'{"type":"compactedish"}',
    ],
)
def test_lines_that_only_mention_compaction_are_not_checkpoints(line: bytes) -> None:
    from uploader.agents import SessionMeta, checkpoint_of

    assert checkpoint_of(line, SessionMeta(), 0.0) is None
