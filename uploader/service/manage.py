"""The user service installed, removed and asked after, through the platform's own tools:
systemctl and journalctl (systemd, Linux), launchctl and tail (launchd, macOS).

Each platform is a `Manager`: where its file goes, what is in it, and the commands that
start, stop and report on it. `install`, `uninstall`, `status` and `logs` are the same
for both. A manager that cannot be reached (no systemctl, no user bus: a container, CI)
is a `ServiceManagerFailed` saying what was done and what is left to run.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from uploader.core import errors as e
from uploader.core.fsutil import atomic_write, make_private_dir
from uploader.core.settings import config_home
from uploader.service.units import LABEL, UNIT_NAME, launchd_plist, systemd_unit, watch_command

PLATFORMS = ("linux", "macos")
#: How long a call of the manager may take (systemctl waits for a start to be queued).
TIMEOUT = 60

Command = list[str]


def this_platform() -> str | None:
    """The platform whose service manager this machine has, or None."""
    if sys.platform.startswith("linux"):
        return "linux"
    return "macos" if sys.platform == "darwin" else None


def manager(platform: str | None = None) -> Manager:
    """The service manager of `platform` (one of PLATFORMS; default: this machine's)."""
    platform = platform or this_platform()
    if platform == "linux":
        return Systemd()
    if platform == "macos":
        return Launchd()
    raise e.ServiceUnsupported(
        f"no user service on {sys.platform}: systemd (Linux) and launchd (macOS) are supported"
    )


@dataclass(frozen=True)
class Status:
    """What the manager says of the service. `enabled`: it starts at login; `running`:
    it runs now; `*_says`: the manager's own words for each."""

    path: Path
    installed: bool
    enabled: bool = False
    enabled_says: str = ""
    running: bool = False
    running_says: str = ""


# -- running the manager's tools -----------------------------------------------------------


def _call(argv: Command) -> subprocess.CompletedProcess[str]:
    """Run one command of the manager, its output captured; ServiceManagerFailed when it
    cannot run at all."""
    try:
        return subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise e.ServiceManagerFailed(
            argv, f"{argv[0]} is not installed here", unreachable=True
        ) from None
    except subprocess.TimeoutExpired:
        raise e.ServiceManagerFailed(argv, f"no answer in {TIMEOUT} s") from None
    except OSError as exc:
        raise e.ServiceManagerFailed(argv, exc.strerror or str(exc), unreachable=True) from None


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stderr or result.stdout).strip().splitlines()
    return lines[-1].strip() if lines else f"exit status {result.returncode}"


class Manager:
    """A platform's service manager. Subclasses say where the file goes, what it holds,
    and which commands start, stop, report and show the logs."""

    #: What the file is, for people ("systemd user unit").
    kind = ""
    #: Words in a failure that mean the manager is not there at all (no user bus).
    _unreachable: tuple[str, ...] = ()

    def __init__(self, path: Path) -> None:
        self.path = path

    def render(self, config: Path | None = None) -> bytes:
        raise NotImplementedError

    def prepare(self) -> None:
        """Make what the service needs before it starts (a folder for its logs)."""

    def start(self, *, existed: bool, changed: bool, done: str) -> None:
        """Enable and start the service from its file. `existed`: it was installed before;
        `changed`: with other content. `done`: what was done, for an error to say."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the service and keep it from starting at login."""
        raise NotImplementedError

    def stop_todo(self) -> list[str]:
        """What stops the service once its file is gone."""
        raise NotImplementedError

    def remove(self) -> None:
        """Remove the service's file."""
        self.path.unlink()

    def forget(self) -> None:
        """Tell the manager that the file is gone."""

    def query(self) -> Status:
        raise NotImplementedError

    def log_command(self, lines: int, *, follow: bool) -> Command:
        raise NotImplementedError

    def run_all(self, commands: Sequence[Command], *, done: str | None) -> None:
        """Run `commands` in turn; at the first that fails, ServiceManagerFailed naming it
        and the ones left."""
        for i, argv in enumerate(commands):
            try:
                result = _call(argv)
            except e.ServiceManagerFailed as exc:
                raise self._failed(argv, exc.reason, commands[i:], done, exc.unreachable) from None
            if result.returncode != 0:
                reason, unreachable = self._said(result)
                raise self._failed(argv, reason, commands[i:], done, unreachable)

    @staticmethod
    def _failed(
        argv: Command, reason: str, left: Sequence[Command], done: str | None, unreachable: bool
    ) -> e.ServiceManagerFailed:
        return e.ServiceManagerFailed(
            argv, reason, done=done, todo=[shlex.join(c) for c in left], unreachable=unreachable
        )

    def _said(self, result: subprocess.CompletedProcess[str]) -> tuple[str, bool]:
        """Why a command failed, in its own words; and whether that means that the
        manager is not there at all."""
        said = _last_line(result)
        if any(word in said for word in self._unreachable):
            return f"the user's service manager cannot be reached ({said})", True
        return said, False

    def ask(self, argv: Command) -> subprocess.CompletedProcess[str]:
        """A question to the manager, answered whatever its exit status (is-active is 3
        for a service that does not run); ServiceManagerFailed when it cannot be asked."""
        result = _call(argv)
        if result.returncode != 0:
            reason, unreachable = self._said(result)
            if unreachable:
                raise e.ServiceManagerFailed(argv, reason, unreachable=True)
        return result


class Systemd(Manager):
    """A systemd user unit in $XDG_CONFIG_HOME/systemd/user, logging to the journal."""

    kind = "systemd user unit"
    _unreachable = (
        "Failed to connect to bus",
        "Failed to connect to user scope bus",
        "not been booted with systemd",
    )

    def __init__(self) -> None:
        super().__init__(config_home() / "systemd" / "user" / UNIT_NAME)

    def render(self, config: Path | None = None) -> bytes:
        return systemd_unit(watch_command(config)).encode("utf-8")

    @staticmethod
    def _systemctl(*words: str) -> Command:
        return ["systemctl", "--user", *words]

    def start(self, *, existed: bool, changed: bool, done: str) -> None:
        reload = self._systemctl("daemon-reload")
        if changed:  # `enable --now` would leave a running service on its old unit
            steps = [
                reload,
                self._systemctl("enable", UNIT_NAME),
                self._systemctl("restart", UNIT_NAME),
            ]
        else:
            steps = [reload, self._systemctl("enable", "--now", UNIT_NAME)]
        self.run_all(steps, done=done)

    def stop(self) -> None:
        self.run_all([self._systemctl("disable", "--now", UNIT_NAME)], done=None)

    def stop_todo(self) -> list[str]:
        return [shlex.join(self._systemctl(*w)) for w in (("stop", UNIT_NAME), ("daemon-reload",))]

    def remove(self) -> None:
        # What `disable` removes, for when systemd could not be asked to: the link that
        # starts the unit at login (only ours: a link to this file).
        link = self.path.parent / "default.target.wants" / UNIT_NAME
        with contextlib.suppress(OSError):
            if link.is_symlink() and Path(os.readlink(link)) == self.path:
                link.unlink()
        super().remove()

    def forget(self) -> None:
        self.run_all([self._systemctl("daemon-reload")], done=f"removed {self.path}")

    def query(self) -> Status:
        enabled = self.ask(self._systemctl("is-enabled", UNIT_NAME))
        active = self.ask(self._systemctl("is-active", UNIT_NAME))
        for result, argv in ((enabled, "is-enabled"), (active, "is-active")):
            if result.returncode != 0 and not result.stdout.strip():
                raise e.ServiceManagerFailed(
                    self._systemctl(argv, UNIT_NAME),
                    _last_line(result),
                    todo=[shlex.join(self._systemctl("status", UNIT_NAME))],
                )
        enabled_says, active_says = enabled.stdout.strip(), active.stdout.strip()
        return Status(
            self.path,
            installed=True,
            enabled=enabled_says in ("enabled", "enabled-runtime"),
            enabled_says=enabled_says,
            running=active_says in ("active", "reloading"),
            running_says=active_says,
        )

    def log_command(self, lines: int, *, follow: bool) -> Command:
        # --user-unit, not `--user -u`: the same match, and it also finds the lines of a
        # user whose journal is not split from the system's (systemd before 254).
        command = ["journalctl", "--user-unit", UNIT_NAME, "-n", str(lines), "--no-pager"]
        return [*command, "-f"] if follow else command


class Launchd(Manager):
    """A launchd agent in ~/Library/LaunchAgents, logging to ~/Library/Logs/agent-uploader."""

    kind = "launchd agent"
    _unreachable = ("Could not find domain",)

    def __init__(self) -> None:
        home = Path.home()
        super().__init__(home / "Library" / "LaunchAgents" / f"{LABEL}.plist")
        self.log_file = home / "Library" / "Logs" / "agent-uploader" / "watch.log"
        self.domain = f"gui/{os.getuid()}"
        self.target = f"{self.domain}/{LABEL}"

    def render(self, config: Path | None = None) -> bytes:
        return launchd_plist(watch_command(config), self.log_file)

    def prepare(self) -> None:
        make_private_dir(self.log_file.parent)  # launchd does not make it

    def start(self, *, existed: bool, changed: bool, done: str) -> None:
        if existed:  # a loaded agent cannot be loaded again: take it out first
            with contextlib.suppress(e.ServiceManagerFailed):  # not loaded, or no launchctl
                _call(["launchctl", "bootout", self.target])
        steps = [
            ["launchctl", "enable", self.target],  # in case it was disabled by hand
            ["launchctl", "bootstrap", self.domain, str(self.path)],
        ]
        self.run_all(steps, done=done)

    def stop(self) -> None:
        argv = ["launchctl", "bootout", self.target]
        result = _call(argv)
        if result.returncode != 0 and not self._not_loaded(result):
            reason, unreachable = self._said(result)
            raise self._failed(argv, reason, [argv], None, unreachable)

    def stop_todo(self) -> list[str]:
        return [shlex.join(["launchctl", "bootout", self.target])]

    @staticmethod
    def _not_loaded(result: subprocess.CompletedProcess[str]) -> bool:
        said = (result.stdout + result.stderr).lower()
        return (
            result.returncode == 113
            or "could not find service" in said
            or "no such process" in said
        )

    def query(self) -> Status:
        result = self.ask(["launchctl", "print", self.target])
        if result.returncode != 0:
            if not self._not_loaded(result):
                raise e.ServiceManagerFailed(
                    ["launchctl", "print", self.target], _last_line(result)
                )
            return Status(
                self.path, installed=True, enabled_says="not loaded", running_says="not loaded"
            )
        fields: dict[str, str] = {}
        for line in result.stdout.splitlines():
            key, sep, value = line.strip().partition(" = ")
            if sep and key in ("state", "pid"):
                fields.setdefault(key, value.strip())
        state = fields.get("state", "unknown")
        running = state == "running"
        return Status(
            self.path,
            installed=True,
            enabled=True,
            enabled_says="loaded",
            running=running,
            running_says=f"{state} (pid {fields['pid']})" if running and "pid" in fields else state,
        )

    def log_command(self, lines: int, *, follow: bool) -> Command:
        if not follow and not self.log_file.exists():
            raise e.NotFound(f"no log yet: {self.log_file} is written once the service runs", None)
        return ["tail", "-n", str(lines), *(["-F"] if follow else []), str(self.log_file)]


# -- what the commands do ------------------------------------------------------------------


def install(m: Manager, *, config: Path | None, force: bool, say: Callable[[str], None]) -> None:
    """Write the service's file (refusing to replace a different one unless `force`),
    then enable and start it."""
    text = m.render(config)
    try:
        old = m.path.read_bytes() if m.path.exists() else None
    except OSError as exc:
        raise e.LocalError(f"cannot read {m.path}: {exc.strerror or exc}") from None
    if old is not None and old != text and not force:
        raise e.ServiceFileExists(m.path)
    try:
        if old != text:
            make_private_dir(m.path.parent)
            atomic_write(m.path, text)
        m.prepare()
    except OSError as exc:
        raise e.LocalError(
            f"cannot write {exc.filename or m.path}: {exc.strerror or exc}",
            "check the folder's permissions",
        ) from None
    done = f"wrote {m.path}" if old != text else f"{m.path} is up to date"
    say(done)
    m.start(existed=old is not None, changed=old is not None and old != text, done=done)


def uninstall(m: Manager, *, say: Callable[[str], None]) -> bool:
    """Stop and disable the service and remove its file; False when there was none.

    A manager that refuses keeps the file (it may still run the service). One that cannot
    be reached at all (a container, CI, where the file was written but nothing enabled
    it) does not: the file is removed, with the link that would start it at login, and
    ServiceManagerFailed says what is left to run where the manager runs."""
    if not m.path.exists():
        say(f"not installed: there is no {m.path}")
        return False
    failure = None
    try:
        m.stop()
    except e.ServiceManagerFailed as exc:
        if not exc.unreachable:
            raise
        failure = exc
    try:
        m.remove()
    except OSError as exc:
        raise e.LocalError(f"cannot remove {m.path}: {exc.strerror or exc}") from None
    say(f"removed {m.path}")
    if failure is not None:
        raise e.ServiceManagerFailed(
            failure.command,
            failure.reason,
            done=f"removed {m.path}",
            todo=m.stop_todo(),
            unreachable=True,
        )
    m.forget()
    return True


def status(m: Manager) -> Status:
    """Installed? Enabled? Running? (The manager is asked only when the file is there.)"""
    if not m.path.exists():
        return Status(m.path, installed=False)
    return m.query()


def logs(m: Manager, *, lines: int, follow: bool) -> int:
    """Show the service's log on this terminal (following it with `follow`); the exit
    status of the program that shows it."""
    argv = m.log_command(lines, follow=follow)
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, check=False).returncode
    except OSError as exc:
        reason = (
            f"{argv[0]} is not installed here" if isinstance(exc, FileNotFoundError) else str(exc)
        )
        raise e.ServiceManagerFailed(argv, reason, unreachable=True) from None
