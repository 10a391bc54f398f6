"""The test suite: one folder per package of uploader/ (and ui/), named after it, one test
module per module under test; e2e/ for scenarios that cross them all (real processes
killed, attacked, watched end to end, a real browser); support/ for the helpers they share
(and the benchmarks import)."""
