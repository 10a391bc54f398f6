"""The storage layout and the per-session manifest (docs/storage-format.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

MANIFEST_VERSION = 1
JSON_TYPE = "application/json"
GZIP_TYPE = "application/gzip"
NDJSON_TYPE = "application/x-ndjson"

# Fields a segment entry carries from the queue's .meta.json into the manifest.
SEGMENT_FIELDS = (
    "seq",
    "path",
    "first_ts",
    "last_ts",
    "lines",
    "bytes",
    "gzip_bytes",
    "sha256",
    "generation",
    "generation_reason",
    "source_end",  # where the segment ends in its generation's source file
    "redactions",  # rule -> secrets replaced in the segment (only when there were some)
)


def manifest_key(sid: str) -> str:
    return f"sessions/{sid}/manifest.json"


def object_key(sid: str, relative: str) -> str:
    return f"sessions/{sid}/{relative}"


def checkpoint_key(sid: str, checkpoint_id: str) -> str:
    return f"sessions/{sid}/checkpoints/{checkpoint_id}.json"


def latest_checkpoint_key(sid: str) -> str:
    return f"sessions/{sid}/checkpoints/latest.json"


def content_type(path: str) -> str:
    return GZIP_TYPE if path.endswith(".gz") else NDJSON_TYPE


def iso_now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_manifest(sid: str, writer: str) -> dict[str, Any]:
    now = iso_now()
    return {
        "version": MANIFEST_VERSION,
        "sid": sid,
        "created_at": now,
        "updated_at": now,
        "active_seq": 1,
        "segments": [],
        "checkpoints": [],
        "source": {},
        "writer": writer,
        "closed": False,
    }


def add_segment(manifest: dict[str, Any], meta: dict[str, Any]) -> None:
    """Record an uploaded segment (idempotent: a re-upload replaces its own entry)."""
    entry = {k: meta[k] for k in SEGMENT_FIELDS if meta.get(k) is not None}
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


#: An open session updated more recently than this is taken to have a writer at work.
ACTIVE_WINDOW_S = 15 * 60


def seconds_since_update(manifest: dict[str, Any]) -> float | None:
    """Seconds since the manifest was last written, or None if it does not say."""
    value = manifest.get("updated_at")
    if not isinstance(value, str):
        return None
    try:
        updated = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, datetime.now(tz=UTC).timestamp() - updated.timestamp())


def being_written(manifest: dict[str, Any]) -> bool:
    """Open, and written within ACTIVE_WINDOW_S: a watch somewhere probably writes it."""
    age = seconds_since_update(manifest)
    return not manifest.get("closed") and age is not None and age < ACTIVE_WINDOW_S


def dumps(manifest: dict[str, Any]) -> bytes:
    manifest["updated_at"] = iso_now()
    return json.dumps(manifest, indent=1, ensure_ascii=False).encode()
