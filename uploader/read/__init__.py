"""The read side: the sessions of a store (catalog), labels, checking (verify), rebuilding
a file (restoring) and deleting with an archive copy (removal).

May import: core, stores, agents, storage, and write (the spool of a running watch).
"""
