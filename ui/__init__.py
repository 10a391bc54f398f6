"""The dashboard (a Starlette app over the store), served by `watch` and `host`.

May import every part of `uploader` but the CLI; `uploader` imports `ui` only from the CLI
(lazily, when a dashboard is served or a session exported).
"""
