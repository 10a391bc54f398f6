"""The files that make `watch` a user service, as text: a systemd user unit (Linux) and a
launchd agent (macOS). Pure functions: nothing here writes or runs anything.

Both run `watch` with no flags but the config file's place: the service takes its
settings from the user's config file, like every other command, so that the unit
does not need rewriting when a setting changes.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Sequence
from pathlib import Path

from uploader.core.errors import ServiceUnsupported

#: The systemd unit's name, and launchd's label (`local.`: the usual prefix of an agent
#: that belongs to no vendor's domain).
UNIT_NAME = "agent-uploader.service"
LABEL = "local.agent-uploader"

#: Restart on failure, at most this often; give up after this many starts within the
#: interval (20 failed starts 30 s apart: about ten minutes of a store that cannot be
#: reached at login, or of a crash loop). `watch` itself peaks at 55-90 MB
#: (docs/benchmarks.md): MEMORY_HIGH, where the kernel starts to reclaim, leaves room.
RESTART_SEC = 30
START_LIMIT_INTERVAL_MIN = 30
START_LIMIT_BURST = 20
#: Exit code 2 is bad usage (a bad value in the config file): restarting cannot fix it.
USAGE_EXIT = 2
MEMORY_HIGH = "512M"


def watch_command(config: Path | None = None) -> list[str]:
    """The command line of the service: this Python, by its absolute path (not resolved: a
    virtual environment's python is a link, and its place is how it finds the
    environment), running `watch`; with `config`, reading that file."""
    if not sys.executable:
        raise ServiceUnsupported("cannot tell which Python runs this program")
    argv = [os.path.abspath(sys.executable), "-m", "uploader", "watch"]
    if config is not None:
        argv += ["--config", os.path.abspath(config)]
    return argv


def check_words(argv: Sequence[str]) -> None:
    """Every word can go into a unit or a plist: UTF-8, and no control characters (which a
    plist cannot hold, and no real path has)."""
    for word in argv:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raise ServiceUnsupported(
                f"{word!r} is not UTF-8: it cannot be put in a service file"
            ) from None
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in word):
            raise ServiceUnsupported(
                f"{word!r} holds control characters: it cannot be put in a service file"
            )


# -- systemd -------------------------------------------------------------------------------

#: What systemd refuses in an executable's path ("contains special characters"): quotes
#: and backslashes (control characters are refused for every word by `check_words`).
_UNSAFE_EXECUTABLE = frozenset("\"'\\")


def systemd_word(word: str, *, executable: bool = False) -> str:
    """One word of an `ExecStart=` line that systemd reads back as exactly `word`: in
    double quotes, `\\` and `"` escaped C-style, `%` doubled (a specifier otherwise) and,
    except in the executable's path, `$` doubled (an environment variable otherwise;
    systemd does not expand variables in the path, so there `$$` would stay two)."""
    out = []
    for ch in word:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "%":
            out.append("%%")
        elif ch == "$" and not executable:
            out.append("$$")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def systemd_unit(argv: Sequence[str]) -> str:
    """The user unit that runs `argv`: started at login (default.target), restarted on
    failure, at a low CPU and I/O priority, logging to the journal."""
    check_words(argv)
    if _UNSAFE_EXECUTABLE & set(argv[0]):
        raise ServiceUnsupported(
            f"systemd cannot run {argv[0]}: it refuses quotes and backslashes in the path of "
            "the program it starts",
            "install the program in a folder whose path has none",
        )
    exec_start = " ".join(systemd_word(word, executable=i == 0) for i, word in enumerate(argv))
    return f"""\
# Written by `agent-uploader service install`, replaced by `install --force` and removed
# by `uninstall`. Change settings in the config file, not here; to add to this unit, use
# `systemctl --user edit {UNIT_NAME}` (a drop-in survives a reinstall).
[Unit]
Description=agent-uploader: keep coding-agent session transcripts in the store
StartLimitIntervalSec={START_LIMIT_INTERVAL_MIN}min
StartLimitBurst={START_LIMIT_BURST}

[Service]
Type=exec
ExecStart={exec_start}
Environment=PYTHONUNBUFFERED=1
Restart=on-failure
RestartSec={RESTART_SEC}s
RestartPreventExitStatus={USAGE_EXIT}
# A background job: it yields the CPU and the disk to anything interactive.
Nice=10
CPUWeight=20
IOWeight=20
IOSchedulingClass=idle
MemoryHigh={MEMORY_HIGH}
StandardOutput=journal
StandardError=journal
SyslogIdentifier=agent-uploader

[Install]
WantedBy=default.target
"""


# -- launchd -------------------------------------------------------------------------------


def launchd_plist(argv: Sequence[str], log_file: Path) -> bytes:
    """The launchd agent that runs `argv`: started at login (RunAtLoad), started again
    when it fails (not when it exits cleanly), as a background process with low-priority
    I/O, its output appended to `log_file`."""
    check_words([*argv, str(log_file)])
    agent = {
        "Label": LABEL,
        "ProgramArguments": list(argv),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": RESTART_SEC,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "LowPriorityBackgroundIO": True,
        "Nice": 10,
        "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
        "StandardOutPath": str(log_file),
        "StandardErrorPath": str(log_file),
    }
    return plistlib.dumps(agent, sort_keys=False)
