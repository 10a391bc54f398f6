"""The Python API (`import uploader`): open_store, list_sessions, restore, snapshot, clear.

Everything is checked the way a program that runs agents would check it: the bytes of
the file `restore` writes, and what the store holds afterwards.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

import uploader
from tests.support.cli import AWS_ENV, open_url
from tests.support.session_factory import write_session
from tests.support.storeview import rebuild
from tests.support.supabase_standin import SupabaseStandin
from tests.support.transcripts import (
    CLAUDE_SID,
    CODEX_SID,
    PI_SID,
    claude_lines,
    codex_lines,
    pi_lines,
)
from uploader.stores import StoreOptions
from uploader.stores.base import StorageUnavailable
from uploader.stores.local import LocalStore
from uploader.stores.s3 import S3Store

# The Codex compaction line of the brief, after a real Codex `session_meta` first line.
COMPACTED = (
    b'{"timestamp":"2026-03-14T11:40:00.550Z","type":"compacted","payload":{"message":"summary"}}\n'
)
SID = "api-session"
PI_PATH = (
    f"/home/dev/.pi/agent/sessions/--home-dev-shop-api--/2026-03-14T10-05-00-000Z_{PI_SID}.jsonl"
)


# -- helpers ---------------------------------------------------------------------------


def compacted_lines() -> list[bytes]:
    """Codex lines with the brief's compaction line as the 7th line (one checkpoint)."""
    codex = codex_lines()
    return [*codex[:6], COMPACTED, *codex[-5:]]


def compaction_index(lines: list[bytes]) -> int:
    """The index of the (only) Codex `compacted` line."""
    found = [i for i, line in enumerate(lines) if json.loads(line).get("type") == "compacted"]
    assert len(found) == 1, found
    return found[0]


def manifest_of(store: uploader.Store, sid: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(store.get(f"sessions/{sid}/manifest.json"))
    return data


def checkpoints_of(store: uploader.Store, sid: str) -> list[dict[str, object]]:
    found = manifest_of(store, sid)["checkpoints"]
    assert isinstance(found, list)
    return found


def segments_of(store: uploader.Store, sid: str) -> list[dict[str, object]]:
    found = manifest_of(store, sid)["segments"]
    assert isinstance(found, list)
    return found


def segment_objects(store: uploader.Store, sid: str) -> dict[str, bytes]:
    return {key: store.get(key) for key in store.list(f"sessions/{sid}/segments/")}


def session_keys(store: uploader.Store, sid: str) -> list[str]:
    return list(store.list(f"sessions/{sid}/"))


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


class WrappedStore:
    """A LocalStore whose calls are counted, and whose `fail` methods raise `error`."""

    def __init__(
        self, inner: LocalStore, *, fail: Iterable[str] = (), error: type[Exception] = RuntimeError
    ) -> None:
        self.inner = inner
        self.description = f"wrapped {inner.description}"
        self.fail = set(fail)
        self.error = error
        self.calls: dict[str, int] = {}

    def _call(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        if name in self.fail:
            raise self.error(f"{name} refused by the test")

    def check(self) -> None:
        self._call("check")
        self.inner.check()

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        self._call("put")
        self.inner.put(key, data, content_type, create_only=create_only)

    def get(self, key: str) -> bytes:
        self._call("get")
        return self.inner.get(key)

    def list(self, prefix: str) -> Iterator[str]:
        self._call("list")
        return self.inner.list(prefix)

    def delete(self, keys: Iterable[str]) -> None:
        self._call("delete")
        self.inner.delete(keys)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No store settings from the environment running the tests."""
    for name in (
        "AGENT_UPLOADER_STORE",
        "SUPABASE_URL",
        "SUPABASE_KEY",
        "SUPABASE_BUCKET",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A Codex transcript with one compaction, as a finished agent leaves it."""
    path = tmp_path / "work" / f"rollout-2026-03-14T09-12-05-{CODEX_SID}.jsonl"
    path.parent.mkdir()
    path.write_bytes(b"".join(codex_lines()))
    return path


# -- open_store --------------------------------------------------------------------------


def test_open_store_file_url_writes_into_that_folder(tmp_path: Path, source: Path) -> None:
    root = tmp_path / "my store"
    store = uploader.open_store(f"file://{root}")
    assert uploader.snapshot(store, source, CODEX_SID) is True
    on_disk = root / "sessions" / CODEX_SID / "manifest.json"
    assert json.loads(on_disk.read_bytes())["sid"] == CODEX_SID
    assert json.loads(on_disk.read_bytes())["closed"] is True


def test_open_store_s3_url_uses_the_bucket_and_prefix(
    monkeypatch: pytest.MonkeyPatch,
    moto_endpoint: str,
    s3_bucket: str,
    s3_store: S3Store,
    source: Path,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    store = uploader.open_store(f"s3://{s3_bucket}/team-a")
    try:
        assert uploader.snapshot(store, source, CODEX_SID) is True
    finally:
        store.close()
    # The fixture's own client sees it under the same bucket and prefix.
    assert manifest_of(s3_store, CODEX_SID)["closed"] is True
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(s3_store, CODEX_SID, out) is True
    assert out.read_bytes() == source.read_bytes()


def test_open_store_without_url_uses_agent_uploader_store(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, source: Path
) -> None:
    root = tmp_path / "from-env"
    clean_env.setenv("AGENT_UPLOADER_STORE", f"file://{root}")
    store = uploader.open_store()
    assert uploader.snapshot(store, source, CODEX_SID) is True
    assert (root / "sessions" / CODEX_SID / "manifest.json").is_file()
    assert [s.sid for s in uploader.list_sessions(uploader.open_store(f"file://{root}"))] == [
        CODEX_SID
    ]


def test_open_store_without_url_or_env_uses_the_home_folder(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, source: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    clean_env.setenv("HOME", str(home))
    store = uploader.open_store()
    assert uploader.snapshot(store, source, CODEX_SID) is True
    assert (home / ".agent-uploader" / "store" / "sessions" / CODEX_SID / "manifest.json").is_file()


def test_open_store_without_url_uses_supabase_from_env(
    clean_env: pytest.MonkeyPatch, supabase_server: SupabaseStandin, source: Path, tmp_path: Path
) -> None:
    clean_env.setenv("SUPABASE_URL", supabase_server.url)
    clean_env.setenv("SUPABASE_KEY", supabase_server.key)
    store = uploader.open_store()
    try:
        assert uploader.snapshot(store, source, CODEX_SID) is True
    finally:
        store.close()
    options = StoreOptions(supabase_url=supabase_server.url, supabase_key=supabase_server.key)
    check = uploader.open_store(f"supabase://{supabase_server.bucket}", options)
    try:
        assert manifest_of(check, CODEX_SID)["closed"] is True
        out = tmp_path / "restored.jsonl"
        assert uploader.restore(check, CODEX_SID, out) is True
        assert out.read_bytes() == source.read_bytes()
    finally:
        check.close()


@pytest.mark.parametrize(
    "url",
    [
        "just-a-name",
        "/an/absolute/path",
        "file://relative/dir",
        "file://",
        "s3://Not_A_Bucket/prefix",
        "s3://ab/prefix",
        "s3://good-bucket/a/../b",
        "ftp://host/dir",
        "supabase://sessions",  # no SUPABASE_URL / SUPABASE_KEY
    ],
)
def test_open_store_malformed_url_is_a_usage_error(clean_env: pytest.MonkeyPatch, url: str) -> None:
    with pytest.raises(uploader.UsageError):
        uploader.open_store(url)


def test_open_store_malformed_url_from_env_is_a_usage_error(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("AGENT_UPLOADER_STORE", "not a store url")
    with pytest.raises(uploader.UsageError):
        uploader.open_store()


# -- list_sessions -----------------------------------------------------------------------


@pytest.fixture
def three_sessions(local_store: LocalStore) -> LocalStore:
    """Codex, Claude Code and pi sessions, last updated in that order."""
    write_session(local_store, CODEX_SID, codex_lines(), updated_at="2026-03-14T10:00:00.000Z")
    write_session(local_store, CLAUDE_SID, claude_lines(), updated_at="2026-03-14T11:00:00.000Z")
    write_session(
        local_store, PI_SID, pi_lines(), path=PI_PATH, updated_at="2026-03-14T12:00:00.000Z"
    )
    return local_store


def test_list_sessions_newest_first(three_sessions: LocalStore) -> None:
    sessions = uploader.list_sessions(three_sessions)
    assert [s.sid for s in sessions] == [PI_SID, CLAUDE_SID, CODEX_SID]
    assert [s.agent for s in sessions] == ["pi", "claude", "codex"]
    assert [s.lines for s in sessions] == [len(pi_lines()), len(claude_lines()), len(codex_lines())]
    assert all(isinstance(s, uploader.SessionSummary) for s in sessions)


def test_list_sessions_query_filters_by_agent(three_sessions: LocalStore) -> None:
    claude = uploader.list_sessions(three_sessions, uploader.Query(agent="claude"))
    assert [s.sid for s in claude] == [CLAUDE_SID]
    codex = uploader.list_sessions(three_sessions, uploader.Query(agent="codex"))
    assert [s.sid for s in codex] == [CODEX_SID]
    assert uploader.list_sessions(three_sessions, uploader.Query(agent="openclaw")) == []


def test_list_sessions_query_sorts_and_searches(three_sessions: LocalStore) -> None:
    oldest_first = uploader.list_sessions(three_sessions, uploader.Query(descending=False))
    assert [s.sid for s in oldest_first] == [CODEX_SID, CLAUDE_SID, PI_SID]
    found = uploader.list_sessions(three_sessions, uploader.Query(text=PI_SID[:13]))
    assert [s.sid for s in found] == [PI_SID]


def test_list_sessions_of_an_empty_store(local_store: LocalStore) -> None:
    assert uploader.list_sessions(local_store) == []


def test_list_sessions_shows_a_snapshot(local_store: LocalStore, source: Path) -> None:
    assert uploader.snapshot(local_store, source, CODEX_SID) is True
    [summary] = uploader.list_sessions(local_store)
    assert summary.sid == CODEX_SID
    assert summary.agent == "codex"
    assert summary.closed is True
    assert summary.lines == len(codex_lines())
    assert summary.bytes == source.stat().st_size
    assert summary.checkpoints == 1


# -- restore -----------------------------------------------------------------------------


def test_restore_writes_the_original_bytes(local_store: LocalStore, tmp_path: Path) -> None:
    lines = codex_lines()
    write_session(local_store, CODEX_SID, lines, seg_lines=7)
    out = tmp_path / "out" / "nested" / "session.jsonl"  # missing folders are made
    assert uploader.restore(local_store, CODEX_SID, out) is True
    assert out.read_bytes() == b"".join(lines)
    assert files_in(out.parent) == ["session.jsonl"]


def test_restore_at_a_checkpoint_ends_with_the_compaction_line(
    local_store: LocalStore, tmp_path: Path
) -> None:
    lines = codex_lines()
    manifest = write_session(local_store, CODEX_SID, lines, seg_lines=7)
    [checkpoint] = manifest["checkpoints"]
    out = tmp_path / "session.jsonl"
    assert uploader.restore(local_store, CODEX_SID, out, checkpoint=checkpoint["id"]) is True
    assert out.read_bytes() == b"".join(lines[: compaction_index(lines) + 1])
    assert out.read_bytes().endswith(lines[compaction_index(lines)])


def test_restore_replaces_an_existing_file(local_store: LocalStore, tmp_path: Path) -> None:
    lines = claude_lines()
    write_session(local_store, CLAUDE_SID, lines)
    out = tmp_path / "session.jsonl"
    out.write_bytes(b"an older, longer transcript\n" * 1000)
    assert uploader.restore(local_store, CLAUDE_SID, out) is True
    assert out.read_bytes() == b"".join(lines)
    assert files_in(tmp_path) == ["session.jsonl", "store"]


@pytest.mark.parametrize("missing", ["session", "checkpoint"])
def test_restore_of_nothing_leaves_an_existing_file_alone(
    local_store: LocalStore, tmp_path: Path, missing: str
) -> None:
    write_session(local_store, CODEX_SID, codex_lines())
    out = tmp_path / "session.jsonl"
    out.write_bytes(b'{"mine":true}\n{"unfinished"')
    if missing == "session":
        result = uploader.restore(local_store, "0000-no-such-session", out)
    else:
        result = uploader.restore(local_store, CODEX_SID, out, checkpoint="2099-01-01T00-00-00Z")
    assert result is False
    assert out.read_bytes() == b'{"mine":true}\n{"unfinished"'
    assert files_in(tmp_path) == ["session.jsonl", "store"]


@pytest.mark.parametrize("missing", ["session", "checkpoint"])
def test_restore_of_nothing_creates_no_file_and_no_folder(
    local_store: LocalStore, tmp_path: Path, missing: str
) -> None:
    write_session(local_store, CODEX_SID, codex_lines())
    out = tmp_path / "new-folder" / "session.jsonl"
    if missing == "session":
        result = uploader.restore(local_store, "0000-no-such-session", out)
    else:
        result = uploader.restore(local_store, CODEX_SID, out, checkpoint="no-such-checkpoint")
    assert result is False
    assert not out.exists()
    assert not out.parent.exists()


def test_restore_latest_checkpoint_of_a_session_without_any_is_false(
    local_store: LocalStore, tmp_path: Path
) -> None:
    write_session(local_store, SID, [b'{"type":"user","n":1}\n', b'{"type":"user","n":2}\n'])
    out = tmp_path / "session.jsonl"
    assert uploader.restore(local_store, SID, out, checkpoint="latest") is False
    assert not out.exists()
    assert uploader.restore(local_store, SID, out) is True
    assert out.read_bytes() == b'{"type":"user","n":1}\n{"type":"user","n":2}\n'


def damage_last_segment(store: LocalStore, sid: str) -> None:
    """Flip one byte in the middle of the last segment's stored .gz."""
    last = max(segments_of(store, sid), key=lambda s: int(str(s["seq"])))
    assert str(last["path"]).endswith(".gz")
    stored = store.root / "sessions" / sid / str(last["path"])
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))


def test_restore_of_a_damaged_segment_raises_and_leaves_the_file(
    local_store: LocalStore, tmp_path: Path
) -> None:
    write_session(local_store, CODEX_SID, codex_lines(), seg_lines=7)
    assert len(segments_of(local_store, CODEX_SID)) > 1  # good segments come before it
    damage_last_segment(local_store, CODEX_SID)
    folder = tmp_path / "work"
    folder.mkdir()
    out = folder / "session.jsonl"
    out.write_bytes(b'{"what":"the agent had"}\n')
    with pytest.raises(uploader.Damaged):
        uploader.restore(local_store, CODEX_SID, out)
    assert out.read_bytes() == b'{"what":"the agent had"}\n'
    assert files_in(folder) == ["session.jsonl"]  # no temp file left beside it


def test_restore_of_a_damaged_segment_leaves_no_new_folder(
    local_store: LocalStore, tmp_path: Path
) -> None:
    write_session(local_store, CODEX_SID, codex_lines(), seg_lines=7)
    damage_last_segment(local_store, CODEX_SID)
    out = tmp_path / "new-folder" / "session.jsonl"
    with pytest.raises(uploader.Damaged):
        uploader.restore(local_store, CODEX_SID, out)
    assert not out.parent.exists()


# -- snapshot ----------------------------------------------------------------------------


def test_snapshot_then_restore_gives_the_same_bytes(
    local_store: LocalStore, source: Path, tmp_path: Path
) -> None:
    assert uploader.snapshot(local_store, source, CODEX_SID) is True
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(local_store, CODEX_SID, out) is True
    assert out.read_bytes() == source.read_bytes()


def test_snapshot_keeps_a_last_line_without_newline(
    local_store: LocalStore, tmp_path: Path
) -> None:
    data = b"".join(claude_lines()[:6]) + b'{"type":"user","message":"cut off mid-write"}'
    path = tmp_path / "session.jsonl"
    path.write_bytes(data)
    assert uploader.snapshot(local_store, path, CLAUDE_SID) is True
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(local_store, CLAUDE_SID, out) is True
    assert out.read_bytes() == data
    assert not out.read_bytes().endswith(b"\n")
    assert sum(int(str(s["lines"])) for s in segments_of(local_store, CLAUDE_SID)) == 7


def test_snapshot_records_the_compaction_as_a_checkpoint(
    local_store: LocalStore, tmp_path: Path
) -> None:
    lines = compacted_lines()
    path = tmp_path / "session.jsonl"
    path.write_bytes(b"".join(lines))
    assert uploader.snapshot(local_store, path, CODEX_SID) is True
    [checkpoint] = checkpoints_of(local_store, CODEX_SID)
    assert str(checkpoint["id"]).startswith("2026-03-14T11-40-00Z-")
    assert checkpoint["label"] == "summary"
    stored = json.loads(
        local_store.get(f"sessions/{CODEX_SID}/checkpoints/{checkpoint['id']}.json")
    )
    assert stored["id"] == checkpoint["id"]

    out = tmp_path / "at-checkpoint.jsonl"
    assert uploader.restore(local_store, CODEX_SID, out, checkpoint=str(checkpoint["id"])) is True
    assert out.read_bytes() == b"".join(lines[:7])
    assert out.read_bytes().endswith(COMPACTED)
    assert uploader.restore(local_store, CODEX_SID, out, checkpoint="latest") is True
    assert out.read_bytes() == b"".join(lines[:7])
    assert uploader.restore(local_store, CODEX_SID, out) is True
    assert out.read_bytes() == b"".join(lines)


def test_snapshot_closes_the_manifest(local_store: LocalStore, source: Path) -> None:
    assert uploader.snapshot(local_store, source, CODEX_SID) is True
    manifest = manifest_of(local_store, CODEX_SID)
    assert manifest["closed"] is True
    assert manifest["sid"] == CODEX_SID


def test_snapshot_twice_uploads_nothing_twice(local_store: LocalStore, source: Path) -> None:
    assert uploader.snapshot(local_store, source, CODEX_SID) is True
    segments = segment_objects(local_store, CODEX_SID)
    manifest = local_store.get(f"sessions/{CODEX_SID}/manifest.json")
    assert len(segments) >= 1

    counting = WrappedStore(local_store)
    assert uploader.snapshot(counting, source, CODEX_SID) is True
    assert counting.calls.get("put", 0) == 0
    assert segment_objects(local_store, CODEX_SID) == segments
    assert local_store.get(f"sessions/{CODEX_SID}/manifest.json") == manifest


def test_snapshot_twice_of_a_file_without_final_newline(
    local_store: LocalStore, tmp_path: Path
) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(b'{"type":"user","n":1}\n{"type":"user","n":2}')
    assert uploader.snapshot(local_store, path, SID) is True
    segments = segment_objects(local_store, SID)
    counting = WrappedStore(local_store)
    assert uploader.snapshot(counting, path, SID) is True
    assert counting.calls.get("put", 0) == 0
    assert segment_objects(local_store, SID) == segments


def test_snapshot_after_appending_continues_the_session(
    local_store: LocalStore, tmp_path: Path
) -> None:
    lines = codex_lines()
    path = tmp_path / "session.jsonl"
    path.write_bytes(b"".join(lines[:12]))
    assert uploader.snapshot(local_store, path, CODEX_SID) is True
    before = segment_objects(local_store, CODEX_SID)

    with open(path, "ab") as f:
        f.write(b"".join(lines[12:]))
    assert uploader.snapshot(local_store, path, CODEX_SID) is True

    after = segment_objects(local_store, CODEX_SID)
    assert len(after) > len(before)
    for key, data in before.items():
        assert after[key] == data, f"{key} changed"
    assert {s["generation"] for s in segments_of(local_store, CODEX_SID)} == {1}
    assert manifest_of(local_store, CODEX_SID)["closed"] is True
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(local_store, CODEX_SID, out) is True
    assert out.read_bytes() == b"".join(lines)


def test_snapshot_after_completing_an_unterminated_line(
    local_store: LocalStore, tmp_path: Path
) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(b'{"type":"user","n":1}\n{"type":"user",')
    assert uploader.snapshot(local_store, path, SID) is True
    with open(path, "ab") as f:
        f.write(b'"n":2}\n{"type":"user","n":3}\n')
    assert uploader.snapshot(local_store, path, SID) is True
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(local_store, SID, out) is True
    assert out.read_bytes() == path.read_bytes()
    # The completed line is whole in one segment (a new generation), not split in two.
    manifest = json.loads(local_store.get(f"sessions/{SID}/manifest.json"))
    latest = [s for s in manifest["segments"] if s["generation"] == 2]
    assert sum(s["lines"] for s in latest) == 3


def test_snapshot_to_a_store_that_never_answers_does_not_hold_up_the_exit(
    tmp_path: Path, source: Path
) -> None:
    """A server that accepts connections and never answers: the SDK would wait 30 s per
    call. snapshot gives up after timeout_s, and the program can exit at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        script = (
            "import uploader\n"
            "from uploader.stores.s3 import S3Store\n"
            f"store = S3Store('sessions', '', endpoint_url='http://127.0.0.1:{port}',"
            " region='us-east-1')\n"
            f"print(uploader.snapshot(store, {str(source)!r}, 'stuck', timeout_s=2))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=25,
            env={**os.environ, **AWS_ENV}, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert "gave up" in done.stderr


def test_snapshot_of_a_rewritten_file_starts_a_new_generation(
    local_store: LocalStore, tmp_path: Path
) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(b"".join(codex_lines()))
    assert uploader.snapshot(local_store, path, SID) is True

    rewritten = b"".join(claude_lines())
    path.write_bytes(rewritten)
    assert uploader.snapshot(local_store, path, SID) is True

    generations = {int(str(s["generation"])) for s in segments_of(local_store, SID)}
    assert generations == {1, 2}
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(local_store, SID, out) is True
    assert out.read_bytes() == rewritten
    [summary] = uploader.list_sessions(local_store)
    assert summary.generations == 2


def test_snapshot_of_a_failed_run_uploads_nothing(local_store: LocalStore, source: Path) -> None:
    assert uploader.snapshot(local_store, source, CODEX_SID, status="failed") is False
    assert list(local_store.list("")) == []
    assert uploader.restore(local_store, CODEX_SID, source.with_name("out.jsonl")) is False


def test_snapshot_of_a_failed_run_keeps_the_earlier_one(
    local_store: LocalStore, source: Path, tmp_path: Path
) -> None:
    original = source.read_bytes()
    assert uploader.snapshot(local_store, source, CODEX_SID) is True
    objects = {key: local_store.get(key) for key in local_store.list("")}
    source.write_bytes(b'{"type":"broken run"}\n')
    assert uploader.snapshot(local_store, source, CODEX_SID, status="failed") is False
    assert {key: local_store.get(key) for key in local_store.list("")} == objects
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(local_store, CODEX_SID, out) is True
    assert out.read_bytes() == original


@pytest.mark.parametrize("kind", ["missing", "empty", "folder"])
def test_snapshot_of_no_transcript_uploads_nothing(
    local_store: LocalStore, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "session.jsonl"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()
    assert uploader.snapshot(local_store, path, SID) is False
    assert list(local_store.list("")) == []


@pytest.mark.parametrize("sid", ["../x", "a/b", "", ".hidden", "x" * 200, "bad\nsid"])
def test_snapshot_with_an_invalid_sid_is_false(
    local_store: LocalStore, source: Path, tmp_path: Path, sid: str
) -> None:
    assert uploader.snapshot(local_store, source, sid) is False
    assert list(local_store.list("")) == []
    assert not (tmp_path / "x").exists()


def test_snapshot_never_raises_when_the_store_is_down(
    monkeypatch: pytest.MonkeyPatch, source: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = S3Store(
        "sessions",
        "team-a",
        endpoint_url=f"http://127.0.0.1:{port}",
        region="us-east-1",
        connect_timeout=1,
        read_timeout=1,
    )
    try:
        with caplog.at_level(logging.ERROR, logger="uploader"):
            assert uploader.snapshot(store, source, CODEX_SID, timeout_s=3) is False
    finally:
        store.close()
    assert any(r.levelno >= logging.ERROR and CODEX_SID in r.getMessage() for r in caplog.records)


def test_snapshot_never_raises_when_put_raises(local_store: LocalStore, source: Path) -> None:
    broken = WrappedStore(local_store, fail=["put"], error=RuntimeError)
    assert uploader.snapshot(broken, source, CODEX_SID) is False
    assert broken.calls.get("put", 0) >= 1
    assert list(local_store.list("")) == []


def test_snapshot_never_raises_when_get_raises(local_store: LocalStore, source: Path) -> None:
    broken = WrappedStore(local_store, fail=["get"], error=RuntimeError)
    assert uploader.snapshot(broken, source, CODEX_SID) is False
    assert broken.calls.get("get", 0) >= 1
    assert list(local_store.list("")) == []


def test_snapshot_gives_up_when_the_store_keeps_failing(
    local_store: LocalStore, source: Path
) -> None:
    flaky = WrappedStore(local_store, fail=["put"], error=StorageUnavailable)
    assert uploader.snapshot(flaky, source, CODEX_SID, timeout_s=1) is False
    assert flaky.calls.get("put", 0) >= 1
    assert list(local_store.list("")) == []


# -- clear -------------------------------------------------------------------------------


def test_clear_removes_the_session_and_nothing_else(three_sessions: LocalStore) -> None:
    assert uploader.clear(three_sessions, CLAUDE_SID) is True
    assert session_keys(three_sessions, CLAUDE_SID) == []
    assert not (three_sessions.root / "sessions" / CLAUDE_SID).exists()
    assert list(three_sessions.list("archive/")) == []  # no copy kept
    assert [s.sid for s in uploader.list_sessions(three_sessions)] == [PI_SID, CODEX_SID]
    assert session_keys(three_sessions, CODEX_SID) != []


def test_clear_of_an_unknown_session_is_false(three_sessions: LocalStore) -> None:
    before = list(three_sessions.list(""))
    assert uploader.clear(three_sessions, "0000-no-such-session") is False
    assert list(three_sessions.list("")) == before


@pytest.mark.parametrize("inside", ["segments", "checkpoints"])
def test_clear_of_a_folder_inside_a_session_removes_nothing(
    local_store: LocalStore, source: Path, tmp_path: Path, inside: str
) -> None:
    """`<sid>/segments` is no session: clearing it must not take a session's objects."""
    assert uploader.snapshot(local_store, source, CODEX_SID) is True
    objects = {key: local_store.get(key) for key in local_store.list("")}
    try:
        result = uploader.clear(local_store, f"{CODEX_SID}/{inside}")
    except uploader.UsageError:  # refusing the id outright would do as well
        result = False
    assert result is False
    assert {key: local_store.get(key) for key in local_store.list("")} == objects
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(local_store, CODEX_SID, out) is True
    assert out.read_bytes() == source.read_bytes()


def test_clear_then_snapshot_starts_afresh(
    local_store: LocalStore, source: Path, tmp_path: Path
) -> None:
    assert uploader.snapshot(local_store, source, CODEX_SID) is True
    assert uploader.clear(local_store, CODEX_SID) is True
    assert uploader.restore(local_store, CODEX_SID, tmp_path / "gone.jsonl") is False
    assert not (tmp_path / "gone.jsonl").exists()
    assert uploader.snapshot(local_store, source, CODEX_SID) is True
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(local_store, CODEX_SID, out) is True
    assert out.read_bytes() == source.read_bytes()


# -- every store: local folder, S3 (moto), Supabase (stand-in) -----------------------------


def test_round_trip_on_every_store(
    store_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = open_url(request, store_url)
    lines = codex_lines()
    path = tmp_path / "session.jsonl"
    path.write_bytes(b"".join(lines))
    assert uploader.snapshot(store, path, CODEX_SID) is True
    assert manifest_of(store, CODEX_SID)["closed"] is True
    [checkpoint] = checkpoints_of(store, CODEX_SID)

    out = tmp_path / "restored" / "session.jsonl"
    assert uploader.restore(store, CODEX_SID, out) is True
    assert out.read_bytes() == b"".join(lines)
    assert uploader.restore(store, CODEX_SID, out, checkpoint=str(checkpoint["id"])) is True
    assert out.read_bytes() == b"".join(lines[: compaction_index(lines) + 1])

    [summary] = uploader.list_sessions(store)
    assert (summary.sid, summary.agent, summary.closed) == (CODEX_SID, "codex", True)


def test_unterminated_last_line_on_every_store(
    store_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = open_url(request, store_url)
    data = b"".join(pi_lines()) + b'{"type":"message","id":"half"'
    path = tmp_path / "session.jsonl"
    path.write_bytes(data)
    assert uploader.snapshot(store, path, PI_SID) is True
    segments = segment_objects(store, PI_SID)
    assert uploader.snapshot(store, path, PI_SID) is True  # the second time: nothing new
    assert segment_objects(store, PI_SID) == segments
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(store, PI_SID, out) is True
    assert out.read_bytes() == data


def test_continue_and_rewrite_on_every_store(
    store_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = open_url(request, store_url)
    lines = compacted_lines()
    path = tmp_path / "session.jsonl"
    path.write_bytes(b"".join(lines[:4]))
    assert uploader.snapshot(store, path, CODEX_SID) is True
    first = segment_objects(store, CODEX_SID)

    with open(path, "ab") as f:
        f.write(b"".join(lines[4:]))
    assert uploader.snapshot(store, path, CODEX_SID) is True
    continued = segment_objects(store, CODEX_SID)
    assert len(continued) > len(first)
    assert {k: continued[k] for k in first} == first
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(store, CODEX_SID, out) is True
    assert out.read_bytes() == b"".join(lines)
    [checkpoint] = checkpoints_of(store, CODEX_SID)
    assert uploader.restore(store, CODEX_SID, out, checkpoint=str(checkpoint["id"])) is True
    assert out.read_bytes() == b"".join(lines[:7])

    rewritten = b"".join(claude_lines())
    path.write_bytes(rewritten)
    assert uploader.snapshot(store, path, CODEX_SID) is True
    assert uploader.restore(store, CODEX_SID, out) is True
    assert out.read_bytes() == rewritten
    assert max(int(str(s["generation"])) for s in segments_of(store, CODEX_SID)) == 2
    assert manifest_of(store, CODEX_SID)["closed"] is True


def test_clear_on_every_store(
    store_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = open_url(request, store_url)
    for sid, lines in ((CODEX_SID, codex_lines()), (CLAUDE_SID, claude_lines())):
        path = tmp_path / f"{sid}.jsonl"
        path.write_bytes(b"".join(lines))
        assert uploader.snapshot(store, path, sid) is True
    assert session_keys(store, CODEX_SID) != []

    assert uploader.clear(store, CODEX_SID) is True
    assert session_keys(store, CODEX_SID) == []
    assert uploader.clear(store, CODEX_SID) is False
    assert [s.sid for s in uploader.list_sessions(store)] == [CLAUDE_SID]
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(store, CLAUDE_SID, out) is True
    assert out.read_bytes() == b"".join(claude_lines())


def test_restore_of_a_session_without_lines_is_false(
    local_store: LocalStore, tmp_path: Path
) -> None:
    write_session(local_store, "empty", [], agent="claude")
    target = tmp_path / "kept.jsonl"
    target.write_bytes(b"mine\n")
    assert uploader.restore(local_store, "empty", target) is False
    assert target.read_bytes() == b"mine\n"


def test_snapshot_leaves_a_session_a_watch_is_writing_alone(
    local_store: LocalStore, source: Path
) -> None:
    write_session(local_store, CODEX_SID, codex_lines()[:5])  # open, written just now
    before = local_store.get(f"sessions/{CODEX_SID}/manifest.json")
    assert uploader.snapshot(local_store, source, CODEX_SID) is False
    assert local_store.get(f"sessions/{CODEX_SID}/manifest.json") == before


def test_the_api_is_there_whatever_was_imported_first() -> None:
    """The package imports its parts on first use, so that a command starts without them;
    every name must still be the API's, also after the CLI's modules were imported."""
    code = (
        "import sys, uploader\n"
        "assert 'uploader.read.catalog' not in sys.modules and 'httpx' not in sys.modules\n"
        "import uploader.cli\n"
        "assert 'httpx' not in sys.modules  # only a Nexus sweep needs it\n"
        "for name in uploader.__all__:\n"
        "    assert getattr(uploader, name) is not None, name\n"
        "    assert not isinstance(getattr(uploader, name), type(sys)), name\n"
        "assert uploader.restore.__module__ == 'uploader.api'\n"
        "assert uploader.snapshot.__module__ == 'uploader.write.snapshots'\n"
        "assert sorted(dir(uploader)) == sorted(uploader.__all__)\n"
        "try:\n"
        "    uploader.no_such_name\n"
        "except AttributeError as exc:\n"
        "    assert 'no_such_name' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("errno_", [28, 24], ids=["disk full", "out of file handles"])
def test_a_spool_that_cannot_take_the_file_fails_the_snapshot_and_ends_nothing(
    local_store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errno_: int
) -> None:
    """One passing shortage half-way through must not close the session on a part of the
    file (sweep would then archive the rest away): the snapshot fails, the next one is
    whole."""
    from uploader.write import pipeline as pipeline_module
    from uploader.write.segment import Segmenter

    source = tmp_path / f"{CODEX_SID}.jsonl"
    lines = [json.dumps({"i": i, "text": "x" * 200}).encode() + b"\n" for i in range(3000)]
    source.write_bytes(b"".join(lines))
    monkeypatch.setattr(pipeline_module, "READ_LIMIT", 64 << 10)
    real_write, calls = Segmenter._write, []

    def failing_write(self: Segmenter, *args: object) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno_, os.strerror(errno_))
        real_write(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Segmenter, "_write", failing_write)
    assert uploader.snapshot(local_store, source, CODEX_SID) is False
    manifest = (
        json.loads(local_store.get(f"sessions/{CODEX_SID}/manifest.json"))
        if any(local_store.list(f"sessions/{CODEX_SID}/manifest.json"))
        else None
    )
    assert manifest is None or manifest["closed"] is False
    monkeypatch.setattr(Segmenter, "_write", real_write)
    assert uploader.snapshot(local_store, source, CODEX_SID) is True
    assert rebuild(local_store, CODEX_SID) == source.read_bytes()
