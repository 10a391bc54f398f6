"""The dashboard's settings: where it listens, its token, its files; and the price
table its cost estimates read.
"""

from __future__ import annotations

from uploader.core.settings.kinds import File, Flag, Folder, Integer, Setting

DASHBOARD_COMMANDS = ("watch", "host")
#: `doctor` checks that the dashboard's port is free.
DASHBOARD_PORT_COMMANDS = (*DASHBOARD_COMMANDS, "doctor")

UI_BIND = Setting(
    "ui_bind",
    "Address the dashboard listens on. Anything but loopback needs --ui-token.",
    DASHBOARD_PORT_COMMANDS,
    "dashboard",
    env="AGENT_UI_BIND",
    default="127.0.0.1",
    show_default=True,
)
UI_PORT = Setting(
    "ui_port",
    "Port of the dashboard (0: any free port).",
    DASHBOARD_PORT_COMMANDS,
    "dashboard",
    env="AGENT_UI_PORT",
    default=4333,
    kind=Integer(0, 65535),
    show_default=True,
)
UI_TOKEN = Setting(
    "ui_token",
    "Require this token (16 characters or more) on every request: a login form "
    "sets a cookie, scripts send 'Authorization: Bearer TOKEN'. 'auto' makes one and "
    "prints a sign-in link. Needed to bind beyond loopback. Prefer the environment "
    "variable or --ui-token-file: a command line is visible to other users in `ps`.",
    DASHBOARD_COMMANDS,
    "dashboard",
    env="AGENT_UI_TOKEN",
    secret=True,
)
UI_TOKEN_FILE = Setting(
    "ui_token_file",
    "Read the dashboard's token from this file.",
    DASHBOARD_COMMANDS,
    "dashboard",
    env="AGENT_UI_TOKEN_FILE",
    kind=File(must_exist=True),
)
UI_ALLOWED_HOST = Setting(
    "ui_allowed_host",
    "Another name the dashboard answers to, as browsers send it in the Host "
    "header (a reverse proxy's: dash.example.com, or with :PORT); repeatable, the "
    "variable takes a comma-separated list. Loopback names and --ui-bind always are.",
    DASHBOARD_COMMANDS,
    "dashboard",
    env="AGENT_UI_ALLOWED_HOSTS",
    multiple=True,
    metavar="HOST",
)
UI_DIST = Setting(
    "ui_dist",
    "Serve this folder's static bundle at / instead of the built-in pages "
    "(the JSON API stays under /api/).",
    DASHBOARD_COMMANDS,
    "dashboard",
    env="AGENT_UI_DIST",
    kind=Folder(must_exist=True),
)
UI_DISABLE = Setting(
    "ui_disable",
    "Do not serve the dashboard.",
    ("watch",),
    "dashboard",
    env="AGENT_UI_DISABLE",
    kind=Flag(),
)

#: The price table of the cost estimates (uploader/agents/prices.py): the dashboard's,
#: `export`'s, and the index's usage records (`index`, `usage`, and the index of `watch`
#: and `host`), which keep the estimate made when a session was indexed.
PRICES = Setting(
    "prices",
    "A TOML file of token prices (US dollars per million tokens) that adds to and "
    "replaces the built-in table of the cost estimates.",
    ("watch", "host", "export", "index", "usage"),
    "dashboard",
    env="AGENT_UPLOADER_PRICES",
    kind=File(must_exist=True),
    metavar="FILE",
)

DASHBOARD_SETTINGS = (UI_BIND, UI_PORT, UI_TOKEN, UI_TOKEN_FILE, UI_ALLOWED_HOST, UI_DIST)
