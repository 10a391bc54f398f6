"""`import`: sessions of the old one-JSON-file-per-session layout into the store.

Older deployments kept `<workspace>/.sessions/<id>.json` (`session_id`, `messages[]`,
`metadata{label, display_name}`, `created_at`, `updated_at`) and a `session_map.json`.
Each file becomes an OpenClaw-style NDJSON transcript: a `session` header,
then one `message` line per message, its timestamp kept. It is uploaded as a closed
session (snapshot's machinery) with its label and display name in the manifest, and the
original is moved to `.sessions/backup_old_format/`. The transcript is built the same
way every time, so a second import finds it already in the store and uploads nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uploader.batch.sweep import move_atomically
from uploader.core import safejson
from uploader.core.errors import Corrupt
from uploader.core.fsutil import copy_synced, make_private_dir, private_opener, read_capped
from uploader.redaction import Redactor
from uploader.storage.sessionid import is_safe_sid
from uploader.stores.base import Store
from uploader.write.snapshots import ALREADY_THERE, upload_whole

log = logging.getLogger(__name__)

LEGACY_DIR = ".sessions"
BACKUP_DIR = "backup_old_format"
MAP_FILE = "session_map.json"
MAX_FILE = 256 << 20  # a legacy session file larger than this is reported, not read


@dataclass
class LegacySession:
    sid: str
    original_id: str | None  # the legacy id, when it could not be the session id itself
    messages: list[dict[str, Any]]
    label: str | None
    display_name: str | None
    created_at: str | None

    def transcript(self, workspace: Path) -> bytes:
        """The session as NDJSON; the same bytes for the same file, every time."""
        header = {"type": "session", "version": 3, "id": self.sid,
                  "timestamp": self.created_at, "cwd": str(workspace)}  # fmt: skip
        if self.original_id is not None:
            header["legacyId"] = self.original_id
        lines = [_line(header)]
        parent = None
        for n, message in enumerate(self.messages):
            entry_id = hashlib.sha256(f"{self.sid}:{n}".encode()).hexdigest()[:8]
            timestamp = message.get("timestamp") or message.get("created_at") or self.created_at
            lines.append(_line({"type": "message", "id": entry_id, "parentId": parent,
                                "timestamp": timestamp, "message": message}))  # fmt: skip
            parent = entry_id
        return b"".join(lines)

    def manifest_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if self.label:
            fields["label"] = self.label
        if self.display_name:
            fields["title"] = self.display_name
        return fields


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def read_legacy(path: Path) -> LegacySession:
    try:  # a hostile file (nested 100,000 deep, NaN, gigabytes) is one more corrupt one
        data = safejson.loads(read_capped(path, MAX_FILE), max_bytes=MAX_FILE)
    except (OSError, ValueError) as exc:
        raise Corrupt(f"not readable as JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise Corrupt("not a JSON object")
    original = str(data.get("session_id") or path.stem)
    # An id that cannot name a store folder ("agent:main:main") gets one derived from it:
    # the same everywhere, so a second import still finds the session there.
    sid = original if is_safe_sid(original) else derived_sid(original)
    messages = data.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise Corrupt("its 'messages' is not a list of objects")
    raw_metadata = data.get("metadata")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    return LegacySession(
        sid=sid,
        original_id=original if original != sid else None,
        messages=messages,
        label=_text(metadata.get("label")),
        display_name=_text(metadata.get("display_name")),
        created_at=_text(data.get("created_at")) or _text(data.get("updated_at")),
    )


def derived_sid(original: str) -> str:
    return "legacy-" + hashlib.sha256(original.encode()).hexdigest()[:24]


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split())[:200] or None


@dataclass
class ImportReport:
    found: int = 0
    imported: int = 0
    skipped: int = 0  # already in the store
    errors: list[str] = field(default_factory=list)
    backup: Path | None = None
    lines: list[str] = field(default_factory=list)  # one per file, for -v


def import_workspace(
    workspace: Path,
    store: Store | None,
    agent_id: str,
    *,
    dry_run: bool = False,
    backup: bool = True,
    redact: bool | Redactor = True,
) -> ImportReport:
    """Import every legacy session of the workspace. `store` may be None for a dry run.
    A corrupt file is reported and the others go on. `redact` as for `snapshot`."""
    folder = workspace / LEGACY_DIR
    report = ImportReport(backup=folder / BACKUP_DIR if backup else None)
    files = sorted(p for p in folder.glob("*.json") if p.name != MAP_FILE and p.is_file())
    report.found = len(files)
    with tempfile.TemporaryDirectory(prefix="agent-uploader-import-") as tmp:
        # Under an OpenClaw-like path, so that the agent is known and `reload` puts the
        # session back in the agent's folder.
        staging = Path(tmp) / ".openclaw" / "agents" / agent_id / "sessions"
        make_private_dir(staging)
        for path in files:
            _import_one(
                path, workspace, staging, store, report,
                dry_run=dry_run, backup=backup, redact=redact,
            )  # fmt: skip
    moved = report.imported + report.skipped
    if backup and not dry_run and moved and (folder / MAP_FILE).exists():
        copy_synced(folder / MAP_FILE, folder / BACKUP_DIR / MAP_FILE)  # kept in place too
    return report


def _import_one(
    path: Path,
    workspace: Path,
    staging: Path,
    store: Store | None,
    report: ImportReport,
    *,
    dry_run: bool,
    backup: bool,
    redact: bool | Redactor,
) -> None:
    try:
        session = read_legacy(path)
    except Corrupt as exc:
        report.errors.append(f"{path.name}: {exc}")
        report.lines.append(f"error     {path.name}: {exc}")
        log.warning("%s: %s; skipped", path, exc)
        return
    what = f"{session.sid} ({len(session.messages)} messages)"
    if dry_run or store is None:
        report.lines.append(f"would import {path.name} as {what}")
        return
    transcript = staging / f"{session.sid}.jsonl"
    with open(transcript, "wb", opener=private_opener) as f:
        f.write(session.transcript(workspace))
    try:
        outcome = upload_whole(
            store, transcript, session.sid, extra=session.manifest_fields(), redact=redact
        )
    except Exception as exc:  # one file never stops the others
        report.errors.append(f"{path.name}: not uploaded: {exc}")
        report.lines.append(f"error     {path.name}: not uploaded: {exc}")
        log.error("%s: not uploaded: %s", path, exc)
        return
    if outcome == ALREADY_THERE:
        report.skipped += 1
        report.lines.append(f"skipped   {path.name}: {session.sid} is already in the store")
    else:
        report.imported += 1
        report.lines.append(f"imported  {path.name} as {what}")
    if backup:
        try:
            move_atomically(path, path.parent / BACKUP_DIR)
        except OSError as exc:
            report.errors.append(f"{path.name}: imported, but not backed up: {exc}")
