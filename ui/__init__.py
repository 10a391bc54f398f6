"""The dashboard (a Starlette app over the store). It imports `uploader`, never the reverse.

Served from `watch` and `host` in a later release; the --ui-* options are accepted now.
"""
