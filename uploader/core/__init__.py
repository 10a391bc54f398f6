"""The basics every other package uses: the one error tree (errors/, a module per
branch), every setting as data (settings/, one registry, the declarations by area), units,
durable and private files, safe JSON, terminal-safe text, counters and the gzip codec.

Imports nothing of agent-uploader: everything else may import it.
"""
