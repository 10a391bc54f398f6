"""What the upload queue says of a closed segment: the record that becomes its entry in
the manifest (its seq, path, generation, counts, sha256, times, where its bytes came
from, its token usage, its redactions, the checkpoint it ends with).

May import: core, agents, storage, and write's state.
"""

from __future__ import annotations

import socket
from typing import Any

from uploader.agents import SessionMeta, checkpoint_id, source_info
from uploader.core.codec import Packed
from uploader.storage.manifest import segment_path
from uploader.write.state import ResumeState

HOST = socket.gethostname()


def queue_entry(
    st: ResumeState,
    meta: SessionMeta,
    data_name: str,
    packed: Packed,
    usage: dict[str, float] | None,
    usage_carry: dict[str, Any] | None,
) -> dict[str, Any]:
    """The record of the active segment `st` describes, packed into `data_name` as
    `packed`, with the token usage counted as it was packed."""
    entry: dict[str, Any] = {
        "seq": st.seq,
        "path": segment_path(data_name),
        "generation": st.generation,
        "lines": st.lines,
        "bytes": st.bytes,
        "gzip_bytes": packed.stored_bytes,
        "sha256": packed.sha256,
        "first_ts": int(st.first_ts or st.last_ts or 0),
        "last_ts": int(st.last_ts or 0),
        "source_end": st.offset,
        "source": source_info(meta, st.path, HOST),
        "usage": usage or {},
        "usage_carry": usage_carry,
    }
    if st.redactions:
        entry["redactions"] = dict(sorted(st.redactions.items()))
    if st.generation_reason:
        entry["generation_reason"] = st.generation_reason
    mark = st.pending_checkpoint
    if mark is not None:
        entry["checkpoint"] = {
            "id": checkpoint_id(mark["ts"], st.seq),
            "label": mark["label"],
            "seq": st.seq,
            "line_idx": st.lines,
            "git": mark["git"],
            "ts": int(mark["ts"]),
        }
    return entry
