"""The settings of `watch`: what it tails, how it cuts segments, where it spools, how
hard it works.
"""

from __future__ import annotations

from uploader.core.codec import DEFAULT_LEVEL
from uploader.core.settings.kinds import Duration, File, Flag, Folder, Integer, Setting, Size
from uploader.core.settings.store import HOME

FILE = Setting(
    "file",
    "Session NDJSON file to tail.",
    ("watch",),
    "watch",
    env="AGENT_SESSION_FILE",
    kind=File(),
)
DIR = Setting(
    "dir",
    "Watch every session file in this folder, recursively (repeatable). Without "
    "--file or --dir: the agents' own folders that exist.",
    ("watch",),
    "watch",
    kind=Folder(),
    multiple=True,
)
INCLUDE = Setting(
    "include",
    "With --dir: files to watch, by name or path below the folder (repeatable).  "
    "[default: *.jsonl]",
    ("watch",),
    "watch",
    multiple=True,
    metavar="GLOB",
)
EXCLUDE = Setting(
    "exclude",
    "With --dir: files to skip (repeatable; *.lock and *.trajectory.jsonl always).",
    ("watch",),
    "watch",
    multiple=True,
    metavar="GLOB",
)
IDLE_CLOSE = Setting(
    "idle_close",
    "With --dir: close a file unchanged this long (its segment is uploaded); it is "
    "opened again when it grows.",
    ("watch",),
    "watch",
    default="5m",
    kind=Duration(),
    show_default=True,
)
SCAN_MS = Setting(
    "scan_ms",
    "With --dir: how often the folders are scanned for new and grown files (files "
    "unchanged for 10 minutes are looked at about every 30 s).",
    ("watch",),
    "watch",
    default="2s",
    kind=Duration(),
    show_default=True,
)
SID = Setting(
    "sid",
    "Session id; 'auto' takes the UUID in the file name, else the id in its "
    "first line, else a stable id from host and path.",
    ("watch",),
    "watch",
    env="AGENT_SID",
    default="auto",
    show_default=True,
)
SEG_BYTES = Setting(
    "seg_bytes",
    "Rotate when a segment's uncompressed bytes would exceed this (8MiB, 512KiB, "
    "bytes). A single longer line gets a segment of its own.",
    ("watch",),
    "watch",
    default="8MiB",
    kind=Size(),
    show_default=True,
)
SEG_LINES = Setting(
    "seg_lines",
    "Rotate at this many lines.",
    ("watch",),
    "watch",
    default=10000,
    kind=Integer(lo=1),
    show_default=True,
)
SEG_MS = Setting(
    "seg_ms",
    "Rotate a segment this long after its first line (ms, or 30s, 10m).",
    ("watch",),
    "watch",
    default="600000",
    kind=Duration(),
    show_default=True,
)
POLL_MS = Setting(
    "poll_ms",
    "Poll interval: the safety net behind file events (ms, or 2s).",
    ("watch",),
    "watch",
    default="500",
    kind=Duration(),
    show_default=True,
)
NO_GZIP = Setting(
    "no_gzip",
    "Upload .jsonl instead of .jsonl.gz.",
    ("watch",),
    "watch",
    kind=Flag(),
)
GZIP_LEVEL = Setting(
    "gzip_level",
    "0-9, higher is smaller and slower. 0-3 use ISA-L (fast), 4-9 use zlib.",
    ("watch",),
    "watch",
    default=DEFAULT_LEVEL,
    kind=Integer(0, 9),
    show_default=True,
)
SPOOL_DIR = Setting(
    "spool_dir",
    "Spool: the active segment and segments waiting for upload.",
    ("watch", "delete", "status", "doctor"),
    "watch",
    default=f"{HOME}/spool",
    kind=Folder(),
    show_default=True,
)
STATE_DIR = Setting(
    "state_dir",
    "Resume state and manifest cache.  [default: <spool-dir>/state]",
    ("watch", "delete"),
    "watch",
    kind=Folder(),
)
CONCURRENCY = Setting(
    "concurrency",
    "Uploads at once.",
    ("watch",),
    "watch",
    default=2,
    kind=Integer(1, 64),
    show_default=True,
)
SHUTDOWN_TIMEOUT = Setting(
    "shutdown_timeout",
    "On Ctrl+C/SIGTERM, how long to keep uploading before leaving the rest "
    "in the spool for the next start.",
    ("watch",),
    "watch",
    default="10s",
    kind=Duration(),
    show_default=True,
)
