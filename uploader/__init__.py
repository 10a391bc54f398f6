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
    from .api import list_sessions, open_store, restore
    from .catalog import Query, SessionSummary
    from .errors import UsageError, UserError
    from .reading import Damaged, NotFound
    from .removal import clear
    from .snapshots import snapshot
    from .stores import Store, StoreOptions
    from .stores.base import StorageError

# Imported on first use (PEP 562): every `agent-uploader` command imports this package,
# and most of them need none of it (about 0.15 s of imports at each start). No module of
# the package may share a name below: importing it would replace the attribute.
_MODULE_OF = {
    "list_sessions": ".api",
    "open_store": ".api",
    "restore": ".api",
    "Query": ".catalog",
    "SessionSummary": ".catalog",
    "UsageError": ".errors",
    "UserError": ".errors",
    "Damaged": ".reading",
    "NotFound": ".reading",
    "clear": ".removal",
    "snapshot": ".snapshots",
    "Store": ".stores",
    "StoreOptions": ".stores",
    "StorageError": ".stores.base",
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
    "UsageError",
    "UserError",
    "__version__",
    "clear",
    "list_sessions",
    "open_store",
    "restore",
    "snapshot",
]
