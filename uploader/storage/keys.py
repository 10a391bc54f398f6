"""The keys of the storage layout: every object a session has, labels.json and the
archive, below the store's own prefix (which the store adds). Nothing else builds a key.
"""

from __future__ import annotations

JSON_TYPE = "application/json"
GZIP_TYPE = "application/gzip"
NDJSON_TYPE = "application/x-ndjson"

# -- keys --------------------------------------------------------------------------------
# Every key of the layout is made here: sessions/{sid}/manifest.json,
# sessions/{sid}/segments/..., sessions/{sid}/checkpoints/{id}.json and latest.json,
# labels.json, archive/{time}/... (below a store's own prefix, which the store adds).

SESSIONS_PREFIX = "sessions/"
MANIFEST_NAME = "manifest.json"
SEGMENTS_FOLDER = "segments/"
CHECKPOINTS_FOLDER = "checkpoints/"
LATEST_CHECKPOINT = "latest"
LABELS_KEY = "labels.json"
ARCHIVE_PREFIX = "archive"
CHANGES_PREFIX = "changes/"


def session_prefix(sid: str) -> str:
    """The prefix of every object of the session (with its trailing slash)."""
    return f"{SESSIONS_PREFIX}{sid}/"


def manifest_key(sid: str) -> str:
    return session_prefix(sid) + MANIFEST_NAME


def object_key(sid: str, relative: str) -> str:
    """The key of an object of the session: `relative` is a segment's `path`."""
    return session_prefix(sid) + relative


def checkpoint_key(sid: str, checkpoint_id: str) -> str:
    return object_key(sid, f"{CHECKPOINTS_FOLDER}{checkpoint_id}.json")


def latest_checkpoint_key(sid: str) -> str:
    return checkpoint_key(sid, LATEST_CHECKPOINT)


def segment_path(file_name: str) -> str:
    """A segment's `path` in the manifest (relative to the session's prefix)."""
    return SEGMENTS_FOLDER + file_name


def change_folder(hour: str) -> str:
    """The folder of the change feed's marks of one hour (`2026-12-04T19`)."""
    return f"{CHANGES_PREFIX}{hour}/"


def change_key(hour: str, slot: int, sid: str) -> str:
    """The mark that the session changed in that hour's `slot`-th five minutes
    (uploader.storage.changes)."""
    return f"{change_folder(hour)}{slot:02d}/{sid}"


def sid_of_manifest_key(key: str) -> str | None:
    """The session id in a manifest's key, as it is (unchecked: it may be no valid id);
    None for a key that is not sessions/{sid}/manifest.json."""
    suffix = "/" + MANIFEST_NAME
    if key.startswith(SESSIONS_PREFIX) and key.endswith(suffix) and key.count("/") == 2:
        return key[len(SESSIONS_PREFIX) : -len(suffix)]
    return None


def archive_prefix(stamp: str) -> str:
    """Where `delete` keeps its copies: the store's own layout below archive/{stamp}/."""
    return f"{ARCHIVE_PREFIX}/{stamp}/"


def content_type(path: str) -> str:
    return GZIP_TYPE if path.endswith(".gz") else NDJSON_TYPE
