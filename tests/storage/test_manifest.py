"""The typed manifest (uploader.storage.manifest): what it reads, what it writes back,
the keys it makes, and the one conditional write (uploader.storage.conditional)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

import uploader
from uploader.read.summaries import summarize
from uploader.storage import manifest as mf
from uploader.storage.conditional import checked_put
from uploader.storage.manifest import Manifest
from uploader.storage.reading import plan
from uploader.storage.records import Checkpoint, Segment, Source
from uploader.stores.base import ObjectNotFound, StorageConflict
from uploader.stores.local import LocalStore

SHA_1 = "89168d69af034e01319adc91717bf59ce85fa02ee7f748d81870a874585bd4da"
SHA_2 = "03aaab6d51a59eeac71062bb1d5a34db720fca24451dfbaddbc25cdb03ae324c"


def stored(manifest: dict[str, Any]) -> bytes:
    """A manifest as the writers have always written it."""
    return json.dumps(manifest, indent=1, ensure_ascii=False).encode()


def today() -> dict[str, Any]:
    """A manifest as this version writes it (docs/storage-format.md's example)."""
    return {
        "version": 1,
        "sid": "5b1e0c7a",
        "created_at": "2026-03-14T09:12:07.512Z",
        "updated_at": "2026-03-14T11:40:03.020Z",
        "active_seq": 3,
        "segments": [
            {"seq": 1, "path": "segments/session-000001.jsonl.gz", "first_ts": 1773479527,
             "last_ts": 1773488400, "lines": 4213, "bytes": 8123456, "gzip_bytes": 2345678,
             "sha256": SHA_1, "generation": 1, "source_end": 8123581,
             "redactions": {"github-pat": 1}},
            {"seq": 2, "path": "segments/session-000002.jsonl.gz", "first_ts": 1773488401,
             "last_ts": 1773488460, "lines": 12, "bytes": 20480, "gzip_bytes": 5120,
             "sha256": SHA_2, "generation": 2, "generation_reason": "truncated",
             "source_end": 20480},
        ],
        "checkpoints": [
            {"id": "2026-03-14T11-40-00Z-000001", "label": "auto compaction", "seq": 1,
             "line_idx": 4213, "git": None, "ts": 1773488400},
        ],
        "source": {"agent": "claude", "path": "/home/me/x.jsonl", "host": "laptop",
                   "cwd": "/home/me/shop", "git_branch": "main"},
        "writer": "laptop/3f2a9c1e7b04",
        "closed": False,
        "first_message": "Add pagination to /orders",
    }  # fmt: skip


def test_a_manifest_reads_typed_and_writes_back_the_same_bytes() -> None:
    raw = stored(today())
    m = Manifest.parse(raw, "here")
    assert (m.sid, m.active_seq, m.writer, m.closed) == (
        "5b1e0c7a",
        3,
        "laptop/3f2a9c1e7b04",
        False,
    )
    assert [s.seq for s in m.segments] == [1, 2] and m.generations() == [1, 2]
    assert m.segments[0] == Segment(
        seq=1, path="segments/session-000001.jsonl.gz", first_ts=1773479527,
        last_ts=1773488400, lines=4213, bytes=8123456, gzip_bytes=2345678, sha256=SHA_1,
        generation=1, source_end=8123581, redactions={"github-pat": 1},
    )  # fmt: skip
    assert m.segments[1].generation_reason == "truncated" and m.segments[1].redactions is None
    assert m.checkpoints == (
        Checkpoint(id="2026-03-14T11-40-00Z-000001", label="auto compaction", seq=1,
                   line_idx=4213, git=None, ts=1773488400),
    )  # fmt: skip
    assert m.source.agent == "claude" and m.source.git_commit is None
    assert m.dumps() == raw  # field order, indent=1, non-ASCII kept, null git kept


def test_fields_it_does_not_know_survive_a_read_modify_write_where_they_were() -> None:
    newer = today()
    newer = {"schema": "v1.5", **newer, "retention": {"days": 30}}
    newer["segments"][0] = {**newer["segments"][0], "codec": "zstd"}
    newer["checkpoints"][0]["tokens"] = 155210
    newer["source"] = {"agent": "claude", "model": "opus", "path": "/x", "host": "h"}
    m = Manifest.parse(stored(newer), "here")
    assert m.extra == {"schema": "v1.5", "retention": {"days": 30}}
    assert m.segments[0].extra == {"codec": "zstd"}
    assert m.checkpoints[0].extra == {"tokens": 155210}
    assert m.source.extra == {"model": "opus"}

    meta = {"seq": 3, "path": "segments/session-000003.jsonl.gz", "generation": 2,
            "lines": 1, "bytes": 10, "gzip_bytes": 30, "sha256": SHA_2, "first_ts": 1,
            "last_ts": 2, "source_end": 20490, "queued_at": 5.0,
            "source": {"agent": "claude", "path": "/x", "host": "h", "model": "opus"}}  # fmt: skip
    written = json.loads(replace(m.with_segment(meta), closed=True).dumps())
    assert list(written) == list(newer)  # the newer writer's fields stay where they were
    assert written["schema"] == "v1.5" and written["retention"] == {"days": 30}
    assert written["segments"][0]["codec"] == "zstd"
    assert written["checkpoints"][0]["tokens"] == 155210
    assert written["source"]["model"] == "opus"
    assert written["segments"][2] == {k: v for k, v in meta.items() if k in Segment.FIELDS}
    assert written["active_seq"] == 4 and written["closed"] is True


def old_add_segment(manifest: dict[str, Any], meta: dict[str, Any]) -> None:
    """What the shipper did to a manifest before the model (kept as the oracle)."""
    entry = {k: meta[k] for k in Segment.FIELDS if meta.get(k) is not None}
    segments = [s for s in manifest["segments"] if s["seq"] != entry["seq"]]
    segments.append(entry)
    segments.sort(key=lambda s: s["seq"])
    manifest["segments"] = segments
    manifest["active_seq"] = max(manifest.get("active_seq", 1), entry["seq"] + 1)
    checkpoint = meta.get("checkpoint")
    if checkpoint:
        cps = [c for c in manifest["checkpoints"] if c["id"] != checkpoint["id"]]
        cps.append(checkpoint)
        cps.sort(key=lambda c: (c["seq"], c["line_idx"]))
        manifest["checkpoints"] = cps
    if meta.get("source"):
        manifest["source"] = meta["source"]


def queued_metas() -> Iterator[dict[str, Any]]:
    """Queue metas as the segmenter writes them (sorted keys, as the spool stores them)."""
    source = {"agent": "codex", "path": "/h/s.jsonl", "host": "box", "cwd": "/h/ü"}
    for seq in (1, 2, 3, 2):  # 2 again: a retried upload replaces its entry
        meta: dict[str, Any] = {
            "seq": seq, "path": f"segments/session-{seq:06d}.jsonl.gz", "generation": 1,
            "lines": seq, "bytes": 10 * seq, "gzip_bytes": 30, "sha256": SHA_1,
            "first_ts": seq, "last_ts": seq, "source_end": 10 * seq, "source": source,
            "queued_at": 1.5,
        }  # fmt: skip
        if seq == 2:
            meta["redactions"] = {"aws-access-key-id": 1}
            meta["checkpoint"] = {"id": f"2026-01-01T00-00-0{seq}Z-00000{seq}", "label": "c",
                                  "seq": seq, "line_idx": seq, "git": None, "ts": seq}  # fmt: skip
        if seq == 3:
            meta["generation_reason"] = "replaced"
        yield dict(sorted(meta.items()))


def test_a_new_session_is_written_as_before() -> None:
    new = mf.new_manifest("s1", "box/abc")
    old = {  # what new_manifest made before the model
        "version": 1, "sid": "s1", "created_at": new.created_at, "updated_at": new.updated_at,
        "active_seq": 1, "segments": [], "checkpoints": [], "source": {}, "writer": "box/abc",
        "closed": False,
    }  # fmt: skip
    for meta in queued_metas():
        old_add_segment(old, meta)
        new = new.with_segment(meta)
    old["first_message"] = "hello"
    old.update({"label": "imported", "title": "Old name"})  # an importer's fields, last
    new = replace(new, first_message="hello").with_fields(
        {"label": "imported", "title": "Old name"}
    )
    assert new.dumps() == stored(old)
    assert list(old) == [*Manifest.FIELDS]


def test_an_older_writers_manifest_reads_with_defaults() -> None:
    """The first writers: no checkpoints list, no closed, no active_seq, segments with
    neither counts nor a generation (and a field of the wrong type, ignored as before)."""
    raw = stored(
        {"sid": "old", "label": 7,
         "segments": [{"seq": 1, "path": "segments/session-000001.jsonl"},
                      {"seq": 2, "path": "segments/session-000002.jsonl", "lines": 3}]}
    )  # fmt: skip
    m = Manifest.parse(raw, "here")
    assert (m.version, m.active_seq, m.closed, m.checkpoints, m.source) == (
        1,
        None,
        False,
        (),
        Source(),
    )
    assert m.label is None and m.writer is None and m.created_at is None
    assert [(s.generation, s.lines, s.bytes, s.sha256) for s in m.segments] == [
        (1, None, None, None), (1, 3, None, None)
    ]  # fmt: skip
    assert plan(m).lines == 3 and [p.seq for p in plan(m).pieces] == [1, 2]
    summary = summarize(m)
    assert (summary.title, summary.lines, summary.agent, summary.generations) == (
        "old", 3, "unknown", 1
    )  # fmt: skip
    assert not m.being_written() and m.seconds_since_update() is None
    back = json.loads(m.dumps())
    assert back["segments"][0] == {"seq": 1, "path": "segments/session-000001.jsonl",
                                   "generation": 1}  # fmt: skip
    assert "active_seq" not in back and "writer" not in back and "created_at" not in back
    assert back["label"] is None  # a field it had stays, as what the readers took it for


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{", "here is not valid JSON"),
        (b'{"x": NaN}', "here is not valid JSON"),
        (b"[1, 2]", "here is not a session manifest"),
        (b'{"segments": {}}', "here is not a session manifest"),
        (b'{"segments": [1]}', "here: segment entry 1 is not an object"),
        (b'{"segments": [{"seq": 0, "path": "segments/a"}]}',
         "here: segment entry 1 has no valid seq (0)"),
        (b'{"segments": [{"seq": true, "path": "segments/a"}]}',
         "here: segment entry 1 has no valid seq (True)"),
        (b'{"segments": [{"seq": 1, "path": "segments/a\\n"}]}',
         "here: segment 1 has no valid path ('segments/a\\n')"),
        (b'{"segments": [{"seq": 1, "path": "../manifest.json"}]}',
         "here: segment 1 has no valid path ('../manifest.json')"),
        (b'{"segments": [{"seq": 1, "path": "segments/a", "lines": -1}]}',
         "here: segment 1 has an invalid lines (-1)"),
        (b'{"segments": [{"seq": 1, "path": "segments/a", "generation": null}]}',
         "here: segment 1 has an invalid generation (None)"),
        (b'{"segments": [], "checkpoints": {}}', "here: its checkpoints are not a list"),
        (b'{"segments": [], "checkpoints": [{"seq": 1}]}',
         'here: a checkpoint without an id: {"seq": 1}'),
        (b'{"segments": [], "checkpoints": [{"id": "../x", "seq": 1, "line_idx": 1}]}',
         "here: checkpoint id '../x' is not valid"),
        (b'{"segments": [], "checkpoints": [{"id": "c", "seq": 1}]}',
         "here: checkpoint c has no valid seq and line_idx"),
        (b'{"segments": [], "source": []}', "here: its source is not an object"),
        (b'{"segments": [], "x": "' + b"a" * (mf.MAX_MANIFEST) + b'"}', "here is not valid JSON"),
    ],
)  # fmt: skip
def test_a_hostile_manifest_is_damaged_and_says_why(raw: bytes, problem: str) -> None:
    with pytest.raises(uploader.Damaged) as caught:
        Manifest.parse(raw, "here")
    assert caught.value.message.startswith(problem), caught.value.message


def test_the_live_views_annotations_keep_their_place() -> None:
    meta = dict(next(queued_metas()))
    meta.pop("source")
    entry = {**meta, "where": "spool", "local": "/spool/queue/s1/session-000001.jsonl.gz"}
    segment = Segment.from_json(entry)
    assert segment.extra == {"queued_at": 1.5, "where": "spool", "local": entry["local"]}
    assert list(segment.to_json().items()) == list(entry.items())
    active = Segment.from_json({"seq": 4, "path": "active/s1.jsonl", "lines": 2, "bytes": 9,
                                "first_ts": None, "last_ts": None, "generation": 1})  # fmt: skip
    assert active.to_json()["first_ts"] is None  # said as null, as it was given


def test_keys_are_made_in_one_place() -> None:
    assert mf.manifest_key("s1") == "sessions/s1/manifest.json"
    assert mf.object_key("s1", "segments/session-000001.jsonl.gz") == (
        "sessions/s1/segments/session-000001.jsonl.gz"
    )
    assert mf.checkpoint_key("s1", "c1") == "sessions/s1/checkpoints/c1.json"
    assert mf.latest_checkpoint_key("s1") == "sessions/s1/checkpoints/latest.json"
    assert mf.session_prefix("s1") == "sessions/s1/"
    assert mf.segment_path("session-000001.jsonl") == "segments/session-000001.jsonl"
    assert mf.archive_prefix("2026-01-01T00-00-00.000Z") == "archive/2026-01-01T00-00-00.000Z/"
    assert mf.sid_of_manifest_key(mf.manifest_key("s1")) == "s1"
    for other in (
        "sessions/s1/checkpoints/manifest.json",
        "sessions/manifest.json",
        "sessions/s1/manifest.jsonx",
        "archive/s1/manifest.json",
        mf.LABELS_KEY,
    ):
        assert mf.sid_of_manifest_key(other) is None, other  # fmt: skip


# -- the conditional write ------------------------------------------------------------------


class Versioned:
    """A VersionedStore in memory; `other` is written by someone else just before ours."""

    description = "memory"

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.other: bytes | None = None
        self.versions = 0

    def _put(self, key: str, data: bytes) -> str:
        self.versions += 1
        self.objects[key] = (data, f"v{self.versions}")
        return f"v{self.versions}"

    def check(self) -> None: ...

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        self._put(key, data)

    def get(self, key: str) -> bytes:
        return self.get_versioned(key)[0]

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        if key not in self.objects:
            raise ObjectNotFound(key)
        return self.objects[key]

    def put_if(self, key: str, data: bytes, content_type: str, *, version: str | None) -> str:
        if self.other is not None:
            self._put(key, self.other)
        if self.objects.get(key, (b"", None))[1] != version:
            raise StorageConflict(key)
        return self._put(key, data)

    def list(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def delete(self, keys: Any) -> None: ...

    def close(self) -> None: ...


def test_checked_put_writes_over_the_version_it_was_given() -> None:
    store = Versioned()
    first = checked_put(store, "k", b"a", mf.JSON_TYPE, version=None)
    assert first.landed and first.version == "v1"
    assert not checked_put(store, "k", b"b", mf.JSON_TYPE, version=None).landed  # exists
    again = checked_put(store, "k", b"a", mf.JSON_TYPE, version=None)  # our retried write
    assert again.landed and again.version == "v1"
    store.other = b"theirs"
    lost = checked_put(store, "k", b"b", mf.JSON_TYPE, version="v1")
    assert not lost.landed and lost.current == b"theirs"


def test_checked_put_reads_back_where_the_store_cannot_write_conditionally(
    tmp_path: Any,
) -> None:
    store = LocalStore(tmp_path / "store")
    assert checked_put(store, "k.json", b"a", mf.JSON_TYPE, version="ignored").landed

    class Racing(LocalStore):
        def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False):  # type: ignore[no-untyped-def]
            super().put(key, data, content_type, create_only=create_only)
            super().put(key, b"theirs", content_type)  # lands between our write and read

    racing = Racing(tmp_path / "racing")
    lost = checked_put(racing, "k.json", b"ours", mf.JSON_TYPE, version=None)
    assert not lost.landed and lost.current == b"theirs" and lost.version is None
