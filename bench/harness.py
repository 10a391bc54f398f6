"""What the benchmarks share: their children, their report table, a fsync-free store."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, uninstalled

from uploader.stores.local import LocalStore


class UnsyncedStore(LocalStore):
    """The local store's layout without its fsyncs: for generating data only (a temp dir
    needs no durability, and thousands of fsyncs would dominate the set-up time)."""

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


class HasProc(Protocol):
    proc: subprocess.Popen[bytes]


def stop_all(children: Iterable[HasProc]) -> None:
    """Terminate (then kill) every child still running, the last started first."""
    for child in reversed(list(children)):
        if child.proc.returncode is not None:
            continue
        with contextlib.suppress(ProcessLookupError):
            child.proc.terminate()
        try:
            child.proc.wait(5)
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait(5)


def run_in_temp_dir(
    prefix: str,
    body: Callable[[Path], int],
    children: Iterable[HasProc],  # read at the end: children started meanwhile count
    *,
    keep: bool,
    workdir: Path | None = None,
) -> int:
    """body(tmp) in a new temp dir. Ctrl+C and SIGTERM end it the same way: the children
    are stopped and the temp dir removed (unless keep), exit code 130."""

    def on_sigterm(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=workdir)).resolve()
    try:
        return body(tmp)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the children and removing the temp dir", flush=True)
        return 130
    finally:
        stop_all(children)
        if keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


class ManifestFigures:
    """Figures of a stored session from its manifest (`self.manifest`)."""

    manifest: dict[str, Any]

    @property
    def segments(self) -> list[dict[str, Any]]:
        return sorted(self.manifest["segments"], key=lambda s: int(s["seq"]))

    @property
    def raw_bytes(self) -> int:
        return sum(int(s["bytes"]) for s in self.segments)

    @property
    def lines(self) -> int:
        return sum(int(s["lines"]) for s in self.segments)


def cpu_seconds(pid: int) -> float:
    """User+sys CPU of a live process (all its threads) from /proc, else psutil."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        import psutil  # only where /proc is missing (macOS)

        t = psutil.Process(pid).cpu_times()
        return float(t.user + t.system)


#: (figure, value, target, "yes" / "NO" / "")
Row = tuple[str, str, str, str]


def print_report(header: str, rows: list[Row]) -> int:
    """The figures as a table under `header`; 1 if a target was missed."""
    print(header)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'figure':<{w0}}  {'value':<{w1}}  {'target':<8}  ok")
    print(f"{'-' * w0}  {'-' * w1}  {'-' * 8}  --")
    for name, value, target, ok in rows:
        print(f"{name:<{w0}}  {value:<{w1}}  {target:<8}  {ok}".rstrip())
    missed = [r[0] for r in rows if r[3] == "NO"]
    print(f"\ntargets missed: {', '.join(missed)}" if missed else "\nall targets met")
    return 1 if missed else 0
