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

__version__ = "0.1.0"

from .api import list_sessions, open_store, restore
from .catalog import Query, SessionSummary
from .errors import UsageError, UserError
from .reading import Damaged, NotFound
from .removal import clear
from .snapshot import snapshot
from .stores import Store, StoreOptions
from .stores.base import StorageError

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
