"""Running the checks: all at once, each in a thread of its own and bounded by a timeout,
their outcomes handed back in order. A check that does not end in time is a failed check
("no answer in 10 s"), and its thread is left behind (a daemon thread: it keeps no
process alive); one that raises is a failed check naming the exception, never a
traceback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from uploader.core import errors as e
from uploader.doctor import checks
from uploader.doctor.checks import FAIL, Check, Subject
from uploader.stores.base import scrub

#: How long each check may take unless told otherwise (seconds).
TIMEOUT_S = 10.0

_STORE_SILENT = "the store did not answer: check its address (endpoint), the network and any proxy"


@dataclass(frozen=True)
class Task:
    """A check to run: its name, the call, and the hint when it does not answer in time."""

    name: str
    run: Callable[[], Check]
    silent: str = "run again with a longer --timeout to wait for it"


def tasks(subject: Subject) -> list[Task]:
    """The checks of `subject`, in the order they are shown."""
    store, problem = subject.store, subject.store_problem
    return [
        Task("config", lambda: checks.config(subject.config)),
        Task("store", lambda: checks.store_probe(store, problem), _STORE_SILENT),
        Task("credentials", lambda: checks.credentials(store, problem), _STORE_SILENT),
        Task("clock", lambda: checks.clock(store, problem), _STORE_SILENT),
        Task(
            "spool",
            lambda: checks.spool(subject.spool),
            "its disk did not answer (a network file system?)",
        ),
        Task(
            "agents",
            checks.agent_folders,
            "listing the agents' folders took too long (a network file system?)",
        ),
        Task(
            "service",
            checks.service_state,
            "the service manager did not answer: try `agent-uploader service status`",
        ),
        Task(
            "index",
            lambda: checks.index_state(subject.index, store),
            "the index's database did not answer: check its address and the network",
        ),
        Task(
            "dashboard",
            lambda: checks.dashboard_port(subject.ui_bind, subject.ui_port, subject.spool),
        ),
    ]


def guarded(task: Task) -> Check:
    """The task's check; an exception it did not expect is a failed check."""
    try:
        return task.run()
    except e.UploaderError as exc:
        return checks.shown_error(task.name, exc)
    except Exception as exc:
        return Check(
            task.name,
            FAIL,
            f"the check crashed: {unexpected(exc)}",
            "a bug in agent-uploader doctor: please report this line",
        )


def unexpected(exc: Exception) -> str:
    """An exception no one expected, as it may be shown: its type, and its message on one
    line without credentials."""
    said = scrub(" ".join(str(exc).split()))[:200]
    return type(exc).__name__ + (f": {said}" if said else "")


class Doctor:
    """The tasks, started at once, each in its own thread."""

    def __init__(self, todo: Sequence[Task], timeout: float = TIMEOUT_S) -> None:
        self.timeout = timeout
        self._todo = list(todo)
        self._done: list[Check | None] = [None] * len(self._todo)
        self._threads = [
            threading.Thread(target=self._one, args=(i,), name=f"doctor-{t.name}", daemon=True)
            for i, t in enumerate(self._todo)
        ]
        self._deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.start()

    def _one(self, i: int) -> None:
        self._done[i] = guarded(self._todo[i])

    def results(self) -> Iterator[Check]:
        """Each check's outcome in order, as soon as it is known (or its time is up)."""
        for i, (task, thread) in enumerate(zip(self._todo, self._threads, strict=True)):
            thread.join(max(0.0, self._deadline - time.monotonic()))
            done = self._done[i]
            if done is None:  # still running (or ended without a result: never)
                done = Check(task.name, FAIL, f"no answer in {self.timeout:g} s", task.silent)
            yield done

    @property
    def finished(self) -> bool:
        """Have all the checks ended (none is left behind, still waiting)?"""
        return not any(thread.is_alive() for thread in self._threads)
