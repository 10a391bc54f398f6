"""Labels that users give sessions (`label`): unique in a store, kept in `labels.json`.

Not in the manifests: a manifest belongs to the `watch` that writes it, and a label
written into it meanwhile would either be lost at the writer's next update or be taken
for another writer's change (a conflict that pauses uploads). One small object beside
`sessions/` also makes the uniqueness check one read. It is written conditionally where
the store can (S3) and read back after writing elsewhere (storage.conditional).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from uploader.core import safejson
from uploader.core.errors import Conflict, Damaged, EmptyLabel, LabelTaken, UsageError
from uploader.core.terminal import is_printable, printable
from uploader.storage.conditional import checked_put
from uploader.storage.manifest import JSON_TYPE, LABELS_KEY
from uploader.stores.base import ObjectNotFound, Store, VersionedStore

log = logging.getLogger(__name__)

MAX_LABEL = 200
MAX_LABELS_FILE = 64 << 20  # 200,000 sessions' labels; anything larger is not ours
_ATTEMPTS = 5

Labels = dict[str, str]


def clean_label(text: str) -> str:
    """A label as stored: one line, single spaces, 1-200 characters, nothing a terminal
    would act on (controls, bidi overrides: a label is shown in lists and logs)."""
    if not is_printable(text.replace("\n", " ").replace("\t", " ").replace("\r", " ")):
        raise UsageError(
            f"the label '{printable(text)}' holds control or bidi characters (shown escaped)",
            "give plain text: letters, digits, punctuation and spaces",
        )
    label = " ".join(text.split())
    if not label:
        raise EmptyLabel()
    if len(label) > MAX_LABEL:
        raise UsageError(f"the label is {len(label)} characters long", f"keep it to {MAX_LABEL}")
    return label


def load_labels(store: Store) -> Labels:
    return _read(store)[0]


def _read(store: Store) -> tuple[Labels, str | None]:
    try:
        if isinstance(store, VersionedStore):
            raw, version = store.get_versioned(LABELS_KEY)
        else:
            raw, version = store.get(LABELS_KEY), None
    except ObjectNotFound:
        return {}, None
    try:
        data = safejson.loads(raw, max_bytes=MAX_LABELS_FILE)
    except ValueError as exc:
        raise Damaged(
            f"{store.description}/{LABELS_KEY} is not valid JSON ({exc})",
            "repair or delete it: it holds only the sessions' labels",
        ) from exc
    if not isinstance(data, dict):
        raise Damaged(f"{store.description}/{LABELS_KEY} is not a map of session ids to labels")
    return {str(k): str(v) for k, v in data.items()}, version


def same_label(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def set_label(store: Store, sid: str, label: str | None, sessions: Labels) -> Labels:
    """Give `sid` the label (None removes it). `sessions` maps every session in the store
    to its current label (or ""), including labels that importers wrote into manifests.
    A label held by another session, or one that reads as a session id or a prefix of
    one, is an error; labels of sessions that no longer exist are dropped."""

    def change(labels: Labels) -> Labels:
        if label is not None:
            for other in sessions:
                if other.startswith(label):
                    raise Conflict(
                        f"the label {label!r} reads as the id of session {other}",
                        "a label must not be mistaken for a session id: choose another",
                    )
            current = {**sessions, **{k: v for k, v in labels.items() if k in sessions}}
            for other, theirs in current.items():
                if other != sid and theirs and same_label(theirs, label):
                    raise LabelTaken(label, other)
        updated = {k: v for k, v in labels.items() if k != sid and k in sessions}
        if label is not None:
            updated[sid] = label
        return updated

    return update_labels(store, change)


def update_labels(store: Store, change: Callable[[Labels], Labels]) -> Labels:
    """Read, change and write the index without losing a concurrent change where the
    store can tell (a conditional write, retried on a clash)."""
    for _ in range(_ATTEMPTS):
        labels, version = _read(store)
        updated = change(dict(labels))
        if updated == labels:
            return labels
        data = json.dumps(dict(sorted(updated.items())), indent=1, ensure_ascii=False).encode()
        if checked_put(store, LABELS_KEY, data, JSON_TYPE, version=version).landed:
            return updated
        log.debug("%s changed meanwhile; reading it again", LABELS_KEY)
    raise Conflict(
        f"{store.description}/{LABELS_KEY} kept changing while it was written",
        "another program is changing labels: try again in a moment",
    )
