"""The read side: the sessions of a store (catalog), labels, checking (verify), rebuilding
a file (restoring), reading a session out as it grows (following) and deleting with an
archive copy (removal).

May import: core, stores, agents, storage, and write (the spool of a running watch).
"""
