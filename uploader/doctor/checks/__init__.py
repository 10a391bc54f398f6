"""The checks of `doctor`, one small function each: what it looks at, and a `Check` saying
what it found. A check never raises for what it is there to find (a store that refuses,
a full disk): that is its verdict. The runner (runner.py) turns anything else into a
failed check.

Grouped by what they look at: config_file (1), store (2, 3, 4: the store, its
credentials, the clock; and the skew that decides a verdict), machine (5, 6: the spool,
with the free space that decides one, and the agents' folders), services (7, 8, 9: the
user service, the search index, the dashboard's port). outcome holds what a check says.
The runner asks for each check by its name here (`checks.spool`).

May import what doctor may: core, stores, agents, storage, write, index, service, messages.
"""

from __future__ import annotations

from uploader.doctor.checks.config_file import config
from uploader.doctor.checks.machine import (
    COUNT_LIMIT,
    FREE_FAIL_BYTES,
    FREE_WARN_BYTES,
    agent_folders,
    spool,
)
from uploader.doctor.checks.outcome import FAIL, OK, WARN, Check, ConfigFound, Subject, shown_error
from uploader.doctor.checks.services import dashboard_port, holds_port, index_state, service_state
from uploader.doctor.checks.store import (
    PROBE_PREFIX,
    SKEW_FAIL_S,
    SKEW_WARN_S,
    clock,
    credentials,
    probe_key,
    store_probe,
)

__all__ = [
    "COUNT_LIMIT",
    "FAIL",
    "FREE_FAIL_BYTES",
    "FREE_WARN_BYTES",
    "OK",
    "PROBE_PREFIX",
    "SKEW_FAIL_S",
    "SKEW_WARN_S",
    "WARN",
    "Check",
    "ConfigFound",
    "Subject",
    "agent_folders",
    "clock",
    "config",
    "credentials",
    "dashboard_port",
    "holds_port",
    "index_state",
    "probe_key",
    "service_state",
    "shown_error",
    "spool",
    "store_probe",
]
