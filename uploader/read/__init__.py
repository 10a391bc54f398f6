"""The read side: the sessions of a store (summaries: each one's summary; listing: the
list's filters and order; catalog: them all kept in memory; finding: the one a user
names), labels, checking (verify), rebuilding a file (restoring), reading a session out
as it grows (following) and deleting with an archive copy (removal).

May import: core, stores, agents, storage, and write (the spool of a running watch).
"""
