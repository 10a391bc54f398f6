"""Checks 5 and 6: this machine: the spool (writable, with room on its disk, its queue
moving) and how much room is enough; the agents' folders and their session files.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from uploader import agents
from uploader.core import errors as e
from uploader.core.units import format_duration, format_size
from uploader.doctor.checks.outcome import FAIL, OK, WARN, Check, home_path, worst
from uploader.messages import explain
from uploader.write.spool import Spool
from uploader.write.status import MAX_QUEUE_AGE_S, read_status

#: Free space on the spool's disk below which doctor warns, and below which it fails.
FREE_WARN_BYTES = 1 << 30  # 1 GiB
FREE_FAIL_BYTES = 100 << 20  # 100 MiB
#: The most files an agent's folder is counted to (a check must end in its time).
COUNT_LIMIT = 200_000


def _existing(path: Path) -> Path:
    """`path`, or its nearest parent that exists."""
    while True:
        with contextlib.suppress(OSError):
            if path.exists() or path.is_symlink():
                return path
        if path.parent == path:
            return path
        path = path.parent


def _write_test(folder: Path) -> str | None:
    """Can a file be made in `folder`? None if so, else the system's reason."""
    try:
        fd, name = tempfile.mkstemp(prefix=".doctor-", suffix=".tmp", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def spool(path: Path) -> Check:
    """The spool: there or can be made, writable, 0700, free space on its disk, what
    waits in its queue and since when."""
    root = path.expanduser().absolute()
    facts: list[str] = []
    problems: list[tuple[str, str, str]] = []
    place = "a place with --spool-dir (spool_dir in the config file)"
    fix = f"choose a writable {place}"
    base = _existing(root)
    if base == root:
        if not root.is_dir():
            return Check("spool", FAIL, f"{root} is not a folder", fix)
        reason = _write_test(root)
        if reason is not None:
            shown = explain(e.SpoolUnwritable(root, reason))
            return Check("spool", FAIL, f"{root} cannot be written: {reason}", shown.hint)
        mode = root.stat().st_mode & 0o777
        if mode & 0o077:
            problems.append(
                (
                    WARN,
                    f"mode {mode:04o}: other users can look into it (it holds transcripts)",
                    f"chmod 700 {root}",
                )
            )
        else:
            facts.append(f"writable, mode {mode:04o}")
    elif not base.is_dir():
        return Check("spool", FAIL, f"{root} cannot be made: {base} is not a folder", fix)
    elif not os.access(base, os.W_OK | os.X_OK):
        return Check("spool", FAIL, f"{root} cannot be made: {base} is not writable", fix)
    else:
        facts.append("not made yet (watch makes it, 0700)")
    free = shutil.disk_usage(base).free
    said = f"{format_size(free)} free on its disk"
    if free < FREE_FAIL_BYTES:
        problems.append((FAIL, f"only {said}", f"free some space, or choose {place}"))
    elif free < FREE_WARN_BYTES:
        problems.append(
            (WARN, f"only {said}", "free some space: the spool holds what cannot be uploaded yet")
        )
    else:
        facts.append(said)
    if base == root:
        problems += _queue(root, facts)
    return worst("spool", home_path(root), facts, problems)


def _queue(root: Path, facts: list[str]) -> list[tuple[str, str, str]]:
    """The upload queue's figures go to `facts`; a queue older than `status` allows is a
    problem."""
    status = read_status(root)
    pid = (status.document or {}).get("pid")
    if status.running:
        facts.append(f"a watch runs on it (pid {pid})")
    count, age = Spool(root).queue_stats()
    if not count:
        facts.append("nothing queued")
        return []
    said = f"{count} segment(s) queued, the oldest for {format_duration(age or 0)}"
    if age is None or age <= MAX_QUEUE_AGE_S:
        facts.append(said)
        return []
    hint = (
        "see why with `agent-uploader status` (uploads failing?)"
        if status.running
        else "start `agent-uploader watch` (or the service): it uploads them first"
    )
    return [(WARN, said, hint)]


# -- 6. the agents' folders ----------------------------------------------------------------


def agent_folders() -> Check:
    """The agents' own session folders on this machine, and how much they hold."""
    found = agents.session_folders()
    if not found:
        return Check(
            "agents",
            WARN,
            "no agent's session folder on this machine",
            f"each agent keeps its sessions in one: {agents.folders_hint()}; "
            "watch other folders with --dir (dir in the config file)",
        )
    said = []
    for agent, folder in found:
        files, size, whole = _count(folder)
        more = "" if whole else "more than "
        said.append(
            f"{agent.display} {home_path(folder)}: {more}{files} session file(s), "
            f"{more}{format_size(size)}"
        )
    return Check("agents", OK, "; ".join(said))


def _count(folder: Path) -> tuple[int, int, bool]:
    """(.jsonl files, bytes of all files, counted to the end) under `folder`."""
    files = size = 0
    for seen, entry in enumerate(_walk(folder), 1):
        if seen > COUNT_LIMIT:
            return files, size, False
        with contextlib.suppress(OSError):
            size += entry.stat(follow_symlinks=False).st_size
        files += entry.name.endswith(".jsonl")
    return files, size, True


def _walk(folder: Path) -> Iterator[os.DirEntry[str]]:
    """The files under `folder` (not following links; a folder that cannot be read is
    left out)."""
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        yield entry
        except OSError:
            continue
