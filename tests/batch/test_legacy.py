"""`import` of the old one-JSON-file-per-session layout: good, corrupt and
already-imported files, with and without --dry-run."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support.cli import run_cli
from tests.support.storeview import manifest, rebuild
from uploader.read.summaries import list_sids
from uploader.stores.local import LocalStore

GOOD_1 = "11111111-aaaa-4bbb-8ccc-000000000001"
GOOD_2 = "22222222-aaaa-4bbb-8ccc-000000000002"


def legacy(sid: str, label: str, n: int) -> dict[str, object]:
    return {
        "session_id": sid,
        "created_at": "2025-11-02T10:00:00Z",
        "updated_at": "2025-11-02T10:30:00Z",
        "metadata": {"label": label, "display_name": f"{label} (display)"},
        "messages": [
            {"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i} \u00e9",
             "timestamp": f"2025-11-02T10:{i:02d}:00Z"}
            for i in range(n)
        ],
    }  # fmt: skip


def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    folder = ws / ".sessions"
    folder.mkdir(parents=True)
    (folder / f"{GOOD_1}.json").write_text(json.dumps(legacy(GOOD_1, "orders", 4)))
    (folder / f"{GOOD_2}.json").write_text(json.dumps(legacy(GOOD_2, "billing", 3)))
    (folder / "broken.json").write_text('{"session_id": "broken", "messages": [')
    (folder / "session_map.json").write_text(json.dumps({"agent:main:main": GOOD_1}))
    return ws


def run_import(ws: Path, store: LocalStore, *args: str) -> tuple[int, str, str]:
    done = run_cli("import", str(ws), "--store", f"file://{store.root}", *args)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def table(stdout: str) -> dict[str, str]:
    rows = {}
    for line in stdout.splitlines():
        key, _, value = line.rpartition("  ")
        rows[key.strip()] = value.strip()
    return rows


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    ws, store = workspace(tmp_path), LocalStore(tmp_path / "store")
    before = sorted(p.name for p in (ws / ".sessions").iterdir())
    code, out, err = run_import(ws, store, "--dry-run")
    assert code == 1 and "broken.json" in err  # the corrupt file is reported
    assert f"would import {GOOD_1}.json as {GOOD_1} (4 messages)" in out
    assert table(out)["found"] == "3"
    assert sorted(p.name for p in (ws / ".sessions").iterdir()) == before
    assert not store.root.exists()


def test_import_uploads_each_session_with_its_label_and_backs_up(tmp_path: Path) -> None:
    ws, store = workspace(tmp_path), LocalStore(tmp_path / "store")
    code, out, err = run_import(ws, store, "-v")
    assert code == 1 and "broken.json" in err
    rows = table(out)
    assert (rows["found"], rows["imported"], rows["errors"]) == ("3", "2", "1")
    assert rows["backup"] == str(ws / ".sessions" / "backup_old_format")
    assert sorted(list_sids(store)) == [GOOD_1, GOOD_2]
    m = manifest(store, GOOD_1) or {}
    assert (m["label"], m["title"], m["closed"]) == ("orders", "orders (display)", True)
    lines = rebuild(store, GOOD_1).splitlines()
    assert json.loads(lines[0])["type"] == "session"
    messages = [json.loads(line) for line in lines[1:]]
    assert [x["message"]["content"] for x in messages] == [f"message {i} \u00e9" for i in range(4)]
    assert messages[2]["timestamp"] == "2025-11-02T10:02:00Z"
    backup = ws / ".sessions" / "backup_old_format"
    assert sorted(p.name for p in backup.iterdir()) == sorted(
        [f"{GOOD_1}.json", f"{GOOD_2}.json", "session_map.json"]
    )
    assert (ws / ".sessions" / "broken.json").exists()  # left for the user to look at
    listed = run_cli("ls", "--json", "--store", f"file://{store.root}")
    titles = {i["sid"]: i["title"] for i in json.loads(listed.stdout)}
    assert titles[GOOD_1] == "orders"

    # Twice: nothing imported twice.
    keys = sorted(store.list(""))
    code, out, _ = run_import(ws, store)
    assert table(out)["imported"] == "0"
    assert sorted(store.list("")) == keys


def test_import_without_backup_twice_skips_what_is_there(tmp_path: Path) -> None:
    ws, store = workspace(tmp_path), LocalStore(tmp_path / "store")
    run_import(ws, store, "--no-backup")
    keys = sorted(store.list(""))
    _, out, _ = run_import(ws, store, "--no-backup")
    rows = table(out)
    assert (rows["imported"], rows["skipped (already in the store)"]) == ("0", "2")
    assert rows["backup"] == "none"
    assert sorted(store.list("")) == keys
    assert (ws / ".sessions" / f"{GOOD_1}.json").exists()


def test_a_workspace_without_sessions_is_a_clear_error(tmp_path: Path) -> None:
    done = run_cli("import", str(tmp_path), "--store", f"file://{tmp_path / 'store'}")
    assert done.returncode == 1 and "no .sessions folder" in done.stderr


def test_the_same_workspace_by_another_path_imports_nothing_twice(tmp_path: Path) -> None:
    ws, store = workspace(tmp_path), LocalStore(tmp_path / "store")
    run_import(ws, store, "--no-backup")
    keys = sorted(store.list(""))
    _, out, _ = run_import(Path(os.path.relpath(ws)), store, "--no-backup")
    assert table(out)["imported"] == "0"
    assert sorted(store.list("")) == keys


def test_a_session_whose_id_cannot_name_a_folder_gets_a_stable_one(tmp_path: Path) -> None:
    ws, store = tmp_path / "ws", LocalStore(tmp_path / "store")
    (ws / ".sessions").mkdir(parents=True)
    (ws / ".sessions" / "main.json").write_text(json.dumps(legacy("agent:main:main", "ops", 2)))
    code, out, _ = run_import(ws, store, "--no-backup")
    assert code == 0 and table(out)["imported"] == "1", out
    [sid] = list_sids(store)
    assert sid.startswith("legacy-") and ":" not in sid
    header = json.loads(rebuild(store, sid).splitlines()[0])
    assert (header["id"], header["legacyId"]) == (sid, "agent:main:main")
    assert (manifest(store, sid) or {})["label"] == "ops"
    _, out, _ = run_import(ws, store, "--no-backup")  # the same id again: nothing twice
    assert table(out)["skipped (already in the store)"] == "1"
