"""Helpers shared by the tests and the benchmarks (imported as `tests.support.<module>`,
with the repository's root on sys.path): the CLI as a process, generated transcripts,
sessions written straight into a store, reading a store back, stand-ins for servers."""
