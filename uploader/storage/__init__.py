"""A session as it lies in a store: the key layout and the manifest, session ids, reading
and checking segments back, and the conditional writes that keep two writers apart.

Shared by the write path and the read side. May import: core, stores, agents.
"""
