"""`watch --once` and `watch --once --dry-run` as a user runs them: real processes on real
files (the real transcripts of tests/fixtures/real among them), real stores.

--once reads to the end, uploads everything complete and exits 0, or exits 1 with the
segments left in the spool when the store does not take them. A dry run writes nothing,
says "would upload", and ends with a validation report whose figures are those a real
run writes, checked here against the manifest of one; a file no agent's format is
recognised in exits 1.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import open_url, run_cli, store_args
from tests.support.faultproxy import error, fault_proxy
from tests.support.real_sessions import REAL
from tests.support.storeview import manifest, rebuild, store_from_url
from tests.support.transcripts import compact_boundary, numbered_line
from uploader.stores.s3 import S3Store

SID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CLAUDE_REAL = REAL / "claude" / "258c7280-ae70-4798-800f-63464d01a85d.jsonl"
GITHUB_TOKEN = "gh" + "p_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def once(*args: str, timeout: float = 120) -> Any:
    return run_cli("watch", "--once", *args, timeout=timeout)


def dry_run(path: Path, tmp_path: Path, *extra: str) -> tuple[Any, list[dict[str, Any]]]:
    """`watch --once --dry-run --json` of one file: the process and its report."""
    done = once(
        "--dry-run", "--json", "--file", str(path), "--store", f"file://{tmp_path / 'store'}",
        "--spool-dir", str(tmp_path / "spool"), *extra,
    )  # fmt: skip
    assert done.stdout, done.stderr
    report: list[dict[str, Any]] = json.loads(done.stdout)
    assert not (tmp_path / "store").exists(), "a dry run wrote to the store"
    assert not (tmp_path / "spool").exists(), "a dry run used the real spool"
    assert "would upload segment" in done.stderr and "uploaded segment" not in done.stderr
    return done, report


# -- --once --------------------------------------------------------------------------------


def test_once_uploads_everything_and_exits(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / f"{SID}.jsonl"
    body = b"".join(numbered_line(SID, i) for i in range(30)) + compact_boundary(SID)
    body += b"".join(numbered_line(SID, i) for i in range(30, 42))
    source.write_bytes(body + b'{"unfinished": ')
    spool = tmp_path / "spool"
    done = once("--file", str(source), "--store", store_url, *store_args(request),
                "--spool-dir", str(spool), "--seg-lines", "10")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "uploaded segment" in done.stderr and "Traceback" not in done.stderr
    store = open_url(request, store_url)
    assert rebuild(store, SID) == body  # every complete line; the unfinished one waits
    m = manifest(store, SID)
    assert m is not None and not m["closed"]
    assert [c["line_idx"] for c in m["checkpoints"]] == [1]  # the compaction line ends seq 4
    assert not list((spool / "queue").rglob("*.meta.json")), "segments left in the spool"
    status = json.loads((spool / "status.json").read_bytes())
    assert status["state"] == "stopped" and status["queue"]["segments"] == 0

    # Run again once the line is finished: only the new line goes.
    with open(source, "ab") as f:
        f.write(b'"now"}\n')
    again = once("--file", str(source), "--store", store_url, *store_args(request),
                 "--spool-dir", str(spool), "--seg-lines", "10")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert rebuild(store, SID) == source.read_bytes()


def test_once_over_folders(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    (folder / "a").mkdir(parents=True)
    sids = ["1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9", "0a1b2c3d-4e5f-4a6b-8c7d-9e8f7a6b5c4d"]
    paths = [folder / "a" / f"{sids[0]}.jsonl", folder / f"{sids[1]}.jsonl"]
    for sid, path in zip(sids, paths, strict=True):
        path.write_bytes(b"".join(numbered_line(sid, i) for i in range(25)))
    store_url = f"file://{tmp_path / 'store'}"
    done = once("--dir", str(folder), "--store", store_url,
                "--spool-dir", str(tmp_path / "spool"), "--seg-lines", "10")  # fmt: skip
    assert done.returncode == 0, done.stderr
    store = store_from_url(store_url)
    for sid, path in zip(sids, paths, strict=True):
        assert rebuild(store, sid) == path.read_bytes()


def test_once_exits_1_when_the_store_does_not_take_the_uploads(
    tmp_path: Path, moto_endpoint: str, s3_bucket: str, s3_store: S3Store
) -> None:
    with fault_proxy(moto_endpoint) as proxy:
        source = tmp_path / f"{SID}.jsonl"
        source.write_bytes(b"".join(numbered_line(SID, i) for i in range(12)))
        spool = tmp_path / "spool"
        args = ["--file", str(source), "--store", f"s3://{s3_bucket}/team-a",
                "--s3-endpoint-url", proxy.url, "--spool-dir", str(spool), "--seg-lines", "5",
                "--shutdown-timeout", "2s"]  # fmt: skip
        proxy.inject(error(503), method="PUT")
        done = once(*args)
        assert done.returncode == 1, done.stderr
        assert "Error: 3 segment(s) were not uploaded and wait in " in done.stderr
        assert "Hint: " in done.stderr and "Traceback" not in done.stderr
        assert len(list((spool / "queue").rglob("*.meta.json"))) == 3
        assert manifest(s3_store, SID) is None

        proxy.heal()  # the next run uploads what waits first
        again = once(*args)
        assert again.returncode == 0, again.stderr
        assert rebuild(s3_store, SID) == source.read_bytes()
        assert not list((spool / "queue").rglob("*.meta.json"))


# -- --once --dry-run ----------------------------------------------------------------------


def is_compaction(obj: dict[str, Any]) -> bool:
    """The compaction lines, as docs/watch.md lists them (read here without the uploader)."""
    kind = obj.get("type")
    return kind in ("compacted", "compaction") or (
        kind == "system" and obj.get("subtype") == "compact_boundary"
    )


def test_dry_run_report_has_the_figures_a_real_run_writes(tmp_path: Path) -> None:
    source = tmp_path / CLAUDE_REAL.name  # outside the agents' folders: its lines tell
    shutil.copyfile(CLAUDE_REAL, source)
    limits = ("--seg-bytes", "1MiB")
    done, [report] = dry_run(source, tmp_path / "dry", *limits)
    assert done.returncode == 0, done.stderr

    # The same file uploaded for real, with the same limits: its manifest is the oracle.
    store_url = f"file://{tmp_path / 'store'}"
    real = once("--file", str(source), "--store", store_url, "--spool-dir",
                str(tmp_path / "spool"), *limits)  # fmt: skip
    assert real.returncode == 0, real.stderr
    store = store_from_url(store_url)
    sid = source.stem
    m = manifest(store, sid)
    assert m is not None

    data = source.read_bytes()
    objs = [json.loads(raw) for raw in data.splitlines()]
    assert report["path"] == str(source) and report["sid"] == sid
    assert report["agent"] == "claude" and report["recognised"] is True
    assert report["lines"] == data.count(b"\n") == len(objs)
    assert report["source_bytes"] == len(data)
    assert report["not_json"] == 0 and report["not_json_lines"] == []
    assert report["partial_bytes"] == 0 and report["redactions"] == {}
    assert [
        (s["seq"], s["lines"], s["raw_bytes"], s["gzip_bytes"]) for s in report["segments"]
    ] == [(s["seq"], s["lines"], s["bytes"], s["gzip_bytes"]) for s in m["segments"]]
    assert len(report["segments"]) == 3  # 2.6 MB in segments of at most 1 MiB, one compaction
    assert report["raw_bytes"] == len(data)
    assert report["stored_bytes"] == sum(s["gzip_bytes"] for s in m["segments"])
    compactions = [n for n, obj in enumerate(objs, 1) if is_compaction(obj)]
    assert [(c["id"], c["seq"], c["line_idx"], c["label"]) for c in report["checkpoints"]] == [
        (c["id"], c["seq"], c["line_idx"], c["label"]) for c in m["checkpoints"]
    ]
    assert [c["line"] for c in report["checkpoints"]] == compactions
    assert {c["marker"] for c in report["checkpoints"]} == {"compact_boundary (Claude Code)"}
    written = {key: len(store.get(key)) for key in store.list(f"sessions/{sid}/")}
    mine = {k: n for k, n in report["keys"].items() if k.startswith("sessions/")}
    assert mine.keys() == written.keys()
    assert all(mine[k] == written[k] for k in written if "/manifest.json" not in k)

    # The same report for a person.
    text = once("--dry-run", "--file", str(source), "--store", f"file://{tmp_path / 'x'}",
                "--spool-dir", str(tmp_path / "x-spool"), *limits)  # fmt: skip
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert out.startswith(f"{source}\n  session      {sid}\n  agent        Claude Code\n")
    assert f"  read         {len(objs):,} complete lines, {len(data):,} B" in out
    assert "  segments     3\n    1: " in out
    assert f"at line {compactions[0]} " in out and "compact_boundary (Claude Code)" in out
    assert "  not JSON     none\n" in out and "  last line    complete\n" in out
    assert "  redactions   none\n" in out and "x smaller" in out
    assert f"    sessions/{sid}/manifest.json  " in out
    assert "would upload segment 1" in text.stderr


@pytest.mark.parametrize(
    "path",
    [
        REAL / "codex" / "rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl",
        REAL / "openclaw" / "f967d602-325a-4a45-8d54-ee17484cfd96.jsonl",
        REAL / "pi" / "2026-05-12T01-02-27-657Z_019e19b4-eb48-746a-aa6b-8dfcfa37954b.jsonl",
    ],
    ids=lambda p: p.parent.name,
)
def test_dry_run_report_of_each_agent(tmp_path: Path, path: Path) -> None:
    source = tmp_path / path.name
    shutil.copyfile(path, source)
    done, [report] = dry_run(source, tmp_path)
    assert done.returncode == 0, done.stderr
    data = source.read_bytes()
    objs = [json.loads(raw) for raw in data.splitlines()]
    assert report["agent"] == path.parent.name and report["recognised"] is True
    assert report["lines"] == len(objs) and report["not_json"] == 0
    assert report["source_bytes"] == len(data) and report["partial_bytes"] == 0
    assert 0 < report["stored_bytes"] < report["raw_bytes"]
    compactions = [n for n, obj in enumerate(objs, 1) if is_compaction(obj)]
    assert [c["line"] for c in report["checkpoints"]] == compactions
    display = {"codex": "Codex", "openclaw": "OpenClaw", "pi": "pi"}[path.parent.name]
    assert all(c["marker"].endswith(f"({display})") for c in report["checkpoints"])


def test_dry_run_report_of_bad_lines_an_unfinished_one_and_a_secret(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    lines = [numbered_line(SID, i) for i in range(6)]
    lines[2] = b"not json at all\n"
    lines[4] = numbered_line(SID, 4, text=f"push with {GITHUB_TOKEN}")
    source.write_bytes(b"".join(lines) + b"[1, 2]\n" + b'{"half a line": ')
    done, [report] = dry_run(source, tmp_path)
    assert done.returncode == 0, done.stderr  # a transcript, with flaws it reports
    assert report["recognised"] is True and report["lines"] == 7
    assert report["not_json"] == 2 and report["not_json_lines"] == [3, 7]
    assert report["partial_bytes"] == len(b'{"half a line": ')
    assert sum(report["redactions"].values()) == 1
    assert report["raw_bytes"] != report["source_bytes"]  # the token's marker is stored
    assert GITHUB_TOKEN not in done.stdout + done.stderr
    text = once("--dry-run", "--file", str(source), "--store", f"file://{tmp_path / 'x'}",
                "--spool-dir", str(tmp_path / "x-spool"))  # fmt: skip
    assert "  not JSON     2 lines: 3, 7\n" in text.stdout
    assert "  last line    unfinished: 16 B without a newline" in text.stdout


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("notes.txt", b"Shopping list\nmilk\neggs\n"),
        ("events.jsonl", b'{"event": "click", "x": 1}\n{"event": "scroll", "y": 2}\n'),
        ("empty.jsonl", b""),
    ],
)
def test_dry_run_exits_1_for_a_file_that_is_no_transcript(
    tmp_path: Path, name: str, body: bytes
) -> None:
    source = tmp_path / name
    source.write_bytes(body)
    done = once("--dry-run", "--file", str(source), "--sid", "not-a-transcript",
                "--store", f"file://{tmp_path / 'store'}",
                "--spool-dir", str(tmp_path / "spool"))  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "not recognised" in done.stdout
    assert f"Error: not a transcript of a known agent: {source}" in done.stderr
    assert "Hint: " in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "store").exists()


def test_json_without_a_dry_run_is_bad_usage(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(numbered_line(SID, 1))
    done = once("--json", "--file", str(source), "--store", f"file://{tmp_path / 'store'}")
    assert done.returncode == 2
    assert "Error: --json prints the report of a dry run" in done.stderr
