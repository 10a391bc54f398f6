"""One-shot uploads of finished files through the write path: sweeping an agent's folder
of finished sessions into the store or a collector, and importing the old
one-JSON-file-per-session layout.

May import: core, stores, agents, storage, redaction, write.
"""
