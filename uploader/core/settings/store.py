"""Where sessions are kept, sent and searched: the store's settings (and its
defaults), a sweep's collector, the search index.
"""

from __future__ import annotations

from uploader.core.settings.commands import SEARCHERS, STORE_COMMANDS
from uploader.core.settings.kinds import File, Setting

#: This machine's folder for the default store and spool.
HOME = "~/.agent-uploader"
DEFAULT_STORE_URL = f"file://{HOME}/store"
DEFAULT_BUCKET = "sessions"

SUPABASE_URL = Setting(
    "supabase_url",
    "Supabase project URL (https://<ref>.supabase.co).",
    STORE_COMMANDS,
    "store",
    env="SUPABASE_URL",
)
SUPABASE_KEY = Setting(
    "supabase_key",
    "Supabase service key (never logged; prefer the environment variable or "
    "--supabase-key-file: a command line is visible to other users in `ps`).",
    STORE_COMMANDS,
    "store",
    env="SUPABASE_KEY",
    secret=True,
)
STORE = Setting(
    "store",
    "Where sessions go: file:///dir, s3://bucket/prefix or supabase://bucket.  "
    f"[default: supabase://BUCKET when {SUPABASE_URL.env} and {SUPABASE_KEY.env} are set, "
    f"else {DEFAULT_STORE_URL}]",
    STORE_COMMANDS,
    "store",
    env="AGENT_UPLOADER_STORE",
)
BUCKET = Setting(
    "bucket",
    "Supabase Storage bucket.",
    STORE_COMMANDS,
    "store",
    env="SUPABASE_BUCKET",
    default=DEFAULT_BUCKET,
    show_default=True,
)
SUPABASE_KEY_FILE = Setting(
    "supabase_key_file",
    "Read the Supabase service key from this file.",
    STORE_COMMANDS,
    "store",
    env="SUPABASE_KEY_FILE",
    kind=File(must_exist=True),
)
UPLOAD_URL = Setting(
    "upload_url",
    "Write-only: HTTP PUT each object to URL/<key> (presigned or gateway uploads); "
    "commands that read the store cannot use it.",
    STORE_COMMANDS,
    "store",
    env="AGENT_UPLOAD_URL",
    secret=True,  # a presigned URL carries its signature
)
S3_ENDPOINT_URL = Setting(
    "s3_endpoint_url",
    "Endpoint of an S3-compatible server (switches to path-style addressing).",
    STORE_COMMANDS,
    "store",
    env="AWS_ENDPOINT_URL",
)
S3_REGION = Setting(
    "s3_region",
    "Region for S3 (default: the usual boto3 settings).",
    STORE_COMMANDS,
    "store",
    env="AWS_REGION",
)

# -- sweep ---------------------------------------------------------------------------------

NEXUS_URL = Setting(
    "nexus_url",
    "Post sessions to this Nexus collector instead of the store.",
    ("sweep",),
    "sweep",
    env="NEXUS_URL",
    secret=True,  # Nexus takes its key in the query string too (?code=KEY)
)
NEXUS_KEY = Setting(
    "nexus_key",
    "The collector's key.",
    ("sweep",),
    "sweep",
    env="NEXUS_KEY",
    secret=True,
)

# -- search index --------------------------------------------------------------------------

INDEX = Setting(
    "index",
    "The search index: a SQLite file, a postgresql://user@host/db URL (a team's "
    "shared index), or off.  [default: a SQLite file of the store's own in the user's "
    "data folder]",
    ("watch", "host", *SEARCHERS, "doctor"),
    "index",
    env="AGENT_UPLOADER_INDEX",
    metavar="PATH|URL|off",
    secret=True,  # a database URL may hold a password (better: PGPASSWORD or ~/.pgpass)
)

#: The store settings, in the order --help lists them.
STORE_SETTINGS = (
    STORE,
    BUCKET,
    SUPABASE_URL,
    SUPABASE_KEY,
    SUPABASE_KEY_FILE,
    UPLOAD_URL,
    S3_ENDPOINT_URL,
    S3_REGION,
)
