"""`agent-uploader doctor`: is this machine set up to upload its agents' sessions?

`checks/` has one small function per check, a module per thing they look at, each
returning a `Check` (a verdict, what was found, and on a problem a hint); `runner.py`
runs them side by side, each bounded by a timeout, so that a store or a database that
does not answer cannot hang the command, and a check that crashes is a failed check,
never a traceback.

The hints name the commands and flags to use: this package speaks as the command line
does (its errors are shown through uploader.messages).

May import: core, stores, agents, storage, write, index, service, messages.
"""

from uploader.doctor.checks import (
    FAIL as FAIL,
    OK as OK,
    WARN as WARN,
    Check as Check,
    ConfigFound as ConfigFound,
    Subject as Subject,
)
from uploader.doctor.runner import Doctor as Doctor, tasks as tasks

__all__ = ["FAIL", "OK", "WARN", "Check", "ConfigFound", "Doctor", "Subject", "tasks"]
