"""The basics every other package uses: errors with hints, units, durable and private
files, safe JSON, terminal-safe text, counters and the gzip codec.

Imports nothing of agent-uploader: everything else may import it.
"""
