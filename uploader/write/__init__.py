"""The write path: a source file is read in chunks (source), redacted, cut into segments
(segment; segment_entry: a closed segment's record) in the spool (spool, state), and
shipped to the store with its manifest and checkpoints (shipper), one pipeline per source
(pipeline; store_copy: whether a file still holds what the store has of it). `watch` runs
it for one file or whole folders (watch, watch_setup, folders, discovery, wake);
`snapshot` runs it once over a finished file; live shows a running watch's spool to the
dashboard.

May import: core, stores, agents, storage, redaction. Nothing here imports read, batch or
cli.
"""
