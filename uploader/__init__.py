"""agent-uploader: keep coding-agent session transcripts safe in object storage.

For programs that run agents::

    import uploader

    store = uploader.open_store("s3://my-bucket/sessions")  # or from the environment
    uploader.restore(store, sid, path)  # before the agent starts: False if none yet
    ...  # the agent runs and appends to path
    uploader.snapshot(store, path, sid, status="completed")  # in its cleanup; never raises
    for session in uploader.list_sessions(store):
        print(session.sid, session.title, session.lines)
    uploader.clear(store, sid)  # forget it
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from uploader.api import list_sessions, open_store, restore
    from uploader.core.errors import (
        Damaged,
        NotFound,
        StorageError,
        UploaderError,
        UsageError,
        UserError,
    )
    from uploader.read.listing import Query
    from uploader.read.removal import clear
    from uploader.read.summaries import SessionSummary
    from uploader.stores import Store, StoreOptions
    from uploader.write.snapshots import snapshot

# Imported on first use (PEP 562): every `agent-uploader` command imports this package,
# and most of them need none of it (about 0.15 s of imports at each start). No module of
# the package may share a name below: importing it would replace the attribute.
_MODULE_OF = {
    "list_sessions": ".api",
    "open_store": ".api",
    "restore": ".api",
    "Query": ".read.listing",
    "SessionSummary": ".read.summaries",
    "UploaderError": ".core.errors",
    "UsageError": ".core.errors",
    "UserError": ".core.errors",
    "Damaged": ".core.errors",
    "NotFound": ".core.errors",
    "StorageError": ".core.errors",
    "clear": ".read.removal",
    "snapshot": ".write.snapshots",
    "Store": ".stores",
    "StoreOptions": ".stores",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Damaged",
    "NotFound",
    "Query",
    "SessionSummary",
    "StorageError",
    "Store",
    "StoreOptions",
    "UploaderError",
    "UsageError",
    "UserError",
    "__version__",
    "clear",
    "list_sessions",
    "open_store",
    "restore",
    "snapshot",
]
