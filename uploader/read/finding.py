"""The session a user names on the command line (an id, a unique prefix of one, or a
label), found reading as little of the store as it can.
"""

from __future__ import annotations

from uploader.core.errors import Ambiguous, SessionNotNamed
from uploader.read.catalog import Catalog
from uploader.read.labels import load_labels, same_label
from uploader.read.summaries import list_sids
from uploader.storage import manifest as mf
from uploader.storage.reading import SessionNotFound
from uploader.storage.sessionid import is_safe_sid
from uploader.stores.base import ObjectNotFound, Store


def find_session(store: Store, ref: str | None = None, *, label: str | None = None) -> str:
    """The session a user names on the command line: an id, a unique prefix of one, or a
    label (`--label`, or a `--sid` that is none of the others). Reads as little as it
    can: one object for a whole id, the key listing for a prefix."""
    if (ref is None) == (label is None):
        raise SessionNotNamed(both=ref is not None)
    if ref is not None:
        ref = ref.strip()
        if is_safe_sid(ref) and _has_manifest(store, ref):
            return ref
        matches = sorted(sid for sid in list_sids(store) if sid.startswith(ref)) if ref else []
        if len(matches) > 1:
            raise Ambiguous(ref, matches)
        if matches:
            return matches[0]
    wanted = label if label is not None else str(ref)
    labelled = sorted(
        sid
        for sid, text in load_labels(store).items()
        if same_label(text, wanted) and is_safe_sid(sid)
    )
    if not labelled:  # labels that writers put into manifests (imported sessions)
        items = Catalog(store).sessions(wait=True)
        labelled = sorted(i.sid for i in items if i.label and same_label(i.label, wanted))
    if len(labelled) > 1:
        raise Ambiguous(wanted, labelled)
    if labelled:
        return labelled[0]
    what = (
        f"labelled {wanted!r}" if label is not None else f"{wanted!r} (by id, id prefix or label)"
    )
    raise SessionNotFound(wanted, store.description, f"no session {what} in {store.description}")


def _has_manifest(store: Store, sid: str) -> bool:
    try:
        store.get(mf.manifest_key(sid))
    except ObjectNotFound:
        return False
    return True
