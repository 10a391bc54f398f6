"""`agent-uploader service`: the systemd user unit and the launchd agent it writes, and the
commands it runs to install, remove, ask after and show the logs of the service.

systemd and launchd do not run here (containers, CI): the files are checked as text and
with `systemd-analyze verify` where it is installed, and the manager's tools are fakes
put first on PATH that record their argv, so that each test asserts the exact commands.
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support import service_tools
from tests.support.cli import run_cli
from tests.support.service_tools import LABEL, NO_BUS, UNIT, Tools
from uploader.cli import main
from uploader.core.errors import ServiceUnsupported
from uploader.service import manage, units

# The fakes of the service manager's tools, and the fixtures that put them first on PATH
# (tests/doctor/test_doctor.py uses them too).
home = service_tools.home
tools = service_tools.tools


def unit_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "systemd" / "user" / UNIT


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["service", *args])


def systemctl(*words: str) -> list[str]:
    return ["systemctl", "--user", *words]


def sections(text: str) -> dict[str, dict[str, list[str]]]:
    """A unit file's keys by section (a key may repeat)."""
    found: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("["):
            current = found.setdefault(line.strip().strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not a key=value line: {line!r}"
        current.setdefault(key, []).append(value)
    return found


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "s": " "}


def systemd_argv(line: str) -> list[str]:
    """An ExecStart= value of double-quoted words read back as systemd.syntax(7) and
    systemd.service(5) say: C escapes undone, then `%%` is `%` and, in every word but
    the program's path, `$$` is `$`."""
    quoted = _QUOTED.findall(line)
    assert " ".join(f'"{word}"' for word in quoted) == line, f"not all quoted: {line!r}"
    words = [re.sub(r"\\(.)", lambda m: _ESCAPES[m[1]], word) for word in quoted]
    words = [word.replace("%%", "%") for word in words]
    return words[:1] + [word.replace("$$", "$") for word in words[1:]]


# -- the files ------------------------------------------------------------------------------


def test_the_unit_starts_watch_at_login_restarts_it_and_keeps_it_in_the_background() -> None:
    unit = sections(units.systemd_unit(units.watch_command()))
    service = unit["Service"]
    assert systemd_argv(service["ExecStart"][0]) == [
        os.path.abspath(sys.executable),
        "-m",
        "uploader",
        "watch",
    ]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartSec"] == ["30s"]
    assert service["RestartPreventExitStatus"] == ["2"]  # a bad config: restarting won't fix it
    assert unit["Unit"]["StartLimitIntervalSec"] == ["30min"]
    assert unit["Unit"]["StartLimitBurst"] == ["20"]
    assert service["Nice"] == ["10"]
    assert service["IOSchedulingClass"] == ["idle"]
    assert service["CPUWeight"] == ["20"] and service["IOWeight"] == ["20"]
    assert service["MemoryHigh"] == ["512M"]
    assert service["StandardOutput"] == service["StandardError"] == ["journal"]
    assert unit["Install"]["WantedBy"] == ["default.target"]


def test_the_plist_starts_watch_at_login_and_again_when_it_fails(home: Path) -> None:
    log = home / "Library" / "Logs" / "agent-uploader" / "watch.log"
    agent = plistlib.loads(manage.Launchd().render())
    assert agent["Label"] == LABEL
    assert agent["ProgramArguments"] == [os.path.abspath(sys.executable), "-m", "uploader", "watch"]
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["ProcessType"] == "Background"
    assert agent["LowPriorityIO"] is True
    assert agent["StandardOutPath"] == agent["StandardErrorPath"] == str(log)


# Paths as people have them: spaces, a percent sign (a systemd specifier), a dollar sign
# (a variable), quotes and a backslash.
AWKWARD = '/tmp/my files/100% "done" it\'s $HOME \\ here.toml'


@pytest.mark.parametrize(
    ("word", "executable", "written"),
    [
        ("/usr/bin/python3", True, '"/usr/bin/python3"'),
        ("/opt/my app/py", True, '"/opt/my app/py"'),
        ("/opt/100%/py", True, '"/opt/100%%/py"'),
        ("/opt/$x/py", True, '"/opt/$x/py"'),  # no variables in the program's path
        ("a $HOME b", False, '"a $$HOME b"'),
        ('say "hi"', False, '"say \\"hi\\""'),
        ("back\\slash", False, '"back\\\\slash"'),
        ("it's", False, '"it\'s"'),
        (";", False, '";"'),  # quoted: a word, not the separator of two commands
    ],
)
def test_a_word_is_written_as_systemd_reads_it(word: str, executable: bool, written: str) -> None:
    assert units.systemd_word(word, executable=executable) == written
    line = written if executable else f'"/bin/x" {written}'
    assert systemd_argv(line)[-1] == word


def test_a_config_path_goes_into_the_unit_and_the_plist_as_it_is(home: Path) -> None:
    argv = units.watch_command(Path(AWKWARD))
    assert argv[-2:] == ["--config", AWKWARD]
    line = sections(units.systemd_unit(argv))["Service"]["ExecStart"][0]
    assert systemd_argv(line) == argv
    assert plistlib.loads(units.launchd_plist(argv, home / "x.log"))["ProgramArguments"] == argv


@pytest.mark.parametrize("program", ['/opt/a"b/python', "/opt/a\\b/python", "/opt/a'b/python"])
def test_systemd_cannot_start_a_program_whose_path_has_quotes(program: str) -> None:
    with pytest.raises(ServiceUnsupported, match="refuses quotes and backslashes"):
        units.systemd_unit([program, "-m", "uploader", "watch"])


def test_a_path_with_a_line_break_goes_into_no_service_file(home: Path) -> None:
    argv = units.watch_command(Path("/tmp/a\nb.toml"))
    with pytest.raises(ServiceUnsupported, match="control characters"):
        units.systemd_unit(argv)
    with pytest.raises(ServiceUnsupported, match="control characters"):
        units.launchd_plist(argv, home / "x.log")


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("awkward", [False, True], ids=["as-installed", "awkward-paths"])
def test_systemd_analyze_verifies_the_unit(tmp_path: Path, awkward: bool) -> None:
    """systemd itself reads the unit. With awkward paths, the program is a real file in a
    folder named with a space, `%h` and `$`: verify finds it only if its path is read back
    exactly (the other words are quoted the same way)."""
    argv = units.watch_command()
    if awkward:
        folder = tmp_path / "my python %h $HOME"  # %h unescaped is the home folder
        folder.mkdir()
        program = folder / "python"
        program.write_text("#!/bin/sh\n", encoding="utf-8")
        program.chmod(0o755)
        argv = [str(program), "-m", "uploader", "watch", "--config", AWKWARD]
    unit = tmp_path / UNIT
    unit.write_text(units.systemd_unit(argv), encoding="utf-8")
    runtime = tmp_path / "runtime"  # --user needs one, and a container has none
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run(
        [str(SYSTEMD_ANALYZE), "verify", "--user", str(unit)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert UNIT not in proc.stderr, proc.stderr


def test_print_shows_the_file_and_installs_nothing(tmp_path: Path, tools: Tools) -> None:
    result = cli("install", "--print", "--platform", "linux")
    assert result.exit_code == 0, result.output
    assert result.stdout == units.systemd_unit(units.watch_command())
    result = cli("install", "--print", "--platform", "macos")
    assert result.exit_code == 0, result.output
    assert plistlib.loads(result.stdout.encode())["Label"] == LABEL
    assert not (tmp_path / "config").exists() and not (tmp_path / "home" / "Library").exists()
    assert tools.calls() == []


def test_the_platform_is_this_machines_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert isinstance(manage.manager(), manage.Systemd)
    assert isinstance(manage.manager("macos"), manage.Launchd)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert isinstance(manage.manager(), manage.Launchd)
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(ServiceUnsupported, match="no user service on win32"):
        manage.manager()


# -- systemd ---------------------------------------------------------------------------------


def test_install_status_logs_uninstall_as_a_user_runs_them(tmp_path: Path, tools: Tools) -> None:
    """The whole round trip, each a real `agent-uploader` process."""
    env = {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PATH": os.environ["PATH"],  # the fakes first
    }
    unit = unit_path(tmp_path)

    proc = run_cli("service", "install", "--platform", "linux", env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {unit}" in proc.stdout
    assert unit.read_text(encoding="utf-8") == units.systemd_unit(units.watch_command())
    assert unit.stat().st_mode & 0o777 == 0o600
    assert tools.calls() == [systemctl("daemon-reload"), systemctl("enable", "--now", UNIT)]

    tools.answer(f"systemctl --user is-enabled {UNIT}", out="enabled\n")
    tools.answer(f"systemctl --user is-active {UNIT}", out="active\n")
    proc = run_cli("service", "status", "--platform", "linux", env=env)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"installed: yes .*agent-uploader\.service", proc.stdout)
    assert "enabled:   yes  (enabled)" in proc.stdout
    assert "running:   yes  (active)" in proc.stdout
    assert tools.calls() == [systemctl("is-enabled", UNIT), systemctl("is-active", UNIT)]

    proc = run_cli("service", "logs", "-n", "20", "--follow", "--platform", "linux", env=env)
    assert proc.returncode == 0, proc.stderr
    assert tools.calls() == [["journalctl", "--user-unit", UNIT, "-n", "20", "--no-pager", "-f"]]

    proc = run_cli("service", "uninstall", "--platform", "linux", env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"removed {unit}" in proc.stdout
    assert not unit.exists()
    assert tools.calls() == [systemctl("disable", "--now", UNIT), systemctl("daemon-reload")]

    proc = run_cli("service", "status", "--platform", "linux", env=env)
    assert proc.returncode == 3 and "installed: no" in proc.stdout
    assert tools.calls() == []  # nothing to ask systemd about


def test_install_again_keeps_the_same_unit_and_starts_it(tmp_path: Path, tools: Tools) -> None:
    assert cli("install", "--platform", "linux").exit_code == 0
    tools.calls()
    result = cli("install", "--platform", "linux")
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.stdout
    assert tools.calls() == [systemctl("daemon-reload"), systemctl("enable", "--now", UNIT)]


def test_install_refuses_to_replace_another_unit_without_force(
    tmp_path: Path, tools: Tools
) -> None:
    unit = unit_path(tmp_path)
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/usr/bin/true\n", encoding="utf-8")

    result = cli("install", "--platform", "linux")
    assert result.exit_code == 1
    assert f"Error: {unit} already exists and differs" in result.stderr
    assert "Hint: compare it with `agent-uploader service install --print`, then pass --force" in (
        result.stderr
    )
    assert unit.read_text(encoding="utf-8") == "[Service]\nExecStart=/usr/bin/true\n"
    assert tools.calls() == []

    result = cli("install", "--force", "--platform", "linux")
    assert result.exit_code == 0, result.output
    assert unit.read_text(encoding="utf-8") == units.systemd_unit(units.watch_command())
    # A running service is restarted on the new unit (`enable --now` would leave it be).
    assert tools.calls() == [
        systemctl("daemon-reload"),
        systemctl("enable", UNIT),
        systemctl("restart", UNIT),
    ]


def test_install_with_a_config_file_runs_watch_with_it(tmp_path: Path, tools: Tools) -> None:
    config = tmp_path / "my config.toml"
    config.write_text("", encoding="utf-8")
    assert cli("install", "--config", str(config), "--platform", "linux").exit_code == 0
    line = sections(unit_path(tmp_path).read_text(encoding="utf-8"))["Service"]["ExecStart"][0]
    assert systemd_argv(line)[-3:] == ["watch", "--config", str(config)]


@pytest.fixture(params=["no user bus", "no systemctl"])
def no_systemd(
    request: pytest.FixtureRequest, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A container or CI: systemctl answers that there is no bus, or is not there at all.
    Returns what the error says."""
    if request.param == "no user bus":
        tools = Tools(tmp_path / "bin")
        tools.answer("systemctl", rc=1, err=NO_BUS)
        monkeypatch.setenv("PATH", str(tools.bin))
        return "the user's service manager cannot be reached (" + NO_BUS.strip() + ")"
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return "systemctl is not installed here"


def test_without_systemd_install_writes_the_unit_and_says_what_to_run(
    tmp_path: Path, no_systemd: str
) -> None:
    unit = unit_path(tmp_path)
    result = cli("install", "--platform", "linux")
    assert result.exit_code == 1
    assert unit.is_file()
    assert f"wrote {unit}" in result.stdout
    error, hint = result.stderr.splitlines()
    assert (
        error == f"Error: wrote {unit}, but `systemctl --user daemon-reload` failed: {no_systemd}"
    )
    assert hint == (
        f"Hint: run `systemctl --user daemon-reload && systemctl --user enable --now {UNIT}` "
        "where the user's service manager runs (a login session, not a container or CI)"
    )
    assert "Traceback" not in result.output

    result = cli("install", "--print", "--platform", "linux")  # --print needs no systemd
    assert result.exit_code == 0 and result.stdout == unit.read_text(encoding="utf-8")

    result = cli("status", "--platform", "linux")
    assert result.exit_code == 1
    assert result.stdout == f"installed: yes  {unit}\n"
    assert re.fullmatch(
        rf"Error: `systemctl --user is-(enabled|active) {UNIT}` failed: {re.escape(no_systemd)}\n",
        result.stderr,
    )

    result = cli("uninstall", "--platform", "linux")
    assert result.exit_code == 1
    assert not unit.exists()
    assert f"Error: removed {unit}, but `systemctl --user disable --now {UNIT}` failed" in (
        result.stderr
    )
    assert f"Hint: run `systemctl --user stop {UNIT} && systemctl --user daemon-reload`" in (
        result.stderr
    )


def test_uninstall_without_systemd_removes_the_link_that_enabled_it(
    tmp_path: Path, no_systemd: str
) -> None:
    assert cli("install", "--platform", "linux").exit_code == 1
    unit = unit_path(tmp_path)
    wants = unit.parent / "default.target.wants"
    wants.mkdir()
    (wants / UNIT).symlink_to(unit)
    other = wants / "other.service"
    other.symlink_to(unit.parent / "other.service")
    assert cli("uninstall", "--platform", "linux").exit_code == 1
    assert not (wants / UNIT).is_symlink() and not unit.exists()
    assert other.is_symlink()  # not ours


def test_a_refusal_of_systemd_keeps_the_unit(tmp_path: Path, tools: Tools) -> None:
    assert cli("install", "--platform", "linux").exit_code == 0
    tools.answer(f"systemctl --user disable --now {UNIT}", rc=1, err="Access denied\n")
    tools.calls()
    result = cli("uninstall", "--platform", "linux")
    assert result.exit_code == 1
    assert f"Error: `systemctl --user disable --now {UNIT}` failed: Access denied" in (
        result.stderr
    )
    assert unit_path(tmp_path).is_file()  # systemd still has it: not removed behind its back


def test_status_of_a_stopped_service_exits_3(tmp_path: Path, tools: Tools) -> None:
    assert cli("install", "--platform", "linux").exit_code == 0
    tools.answer(f"systemctl --user is-enabled {UNIT}", rc=1, out="disabled\n")
    tools.answer(f"systemctl --user is-active {UNIT}", rc=3, out="failed\n")
    result = cli("status", "--platform", "linux")
    assert result.exit_code == 3
    assert "enabled:   no   (disabled)" in result.stdout
    assert "running:   no   (failed)" in result.stdout
    assert "agent-uploader service logs" in result.stderr


def test_logs_without_journalctl(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = cli("logs", "--platform", "linux")
    assert result.exit_code == 1
    assert "journalctl is not installed here" in result.stderr


# -- launchd ---------------------------------------------------------------------------------


def test_launchd_round_trip(home: Path, tools: Tools) -> None:
    plist = home / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    log = home / "Library" / "Logs" / "agent-uploader" / "watch.log"
    domain = f"gui/{os.getuid()}"

    result = cli("install", "--platform", "macos")
    assert result.exit_code == 0, result.output
    assert plistlib.loads(plist.read_bytes())["ProgramArguments"][-1] == "watch"
    assert log.parent.is_dir()  # launchd does not make it
    assert tools.calls() == [
        ["launchctl", "enable", f"{domain}/{LABEL}"],
        ["launchctl", "bootstrap", domain, str(plist)],
    ]

    tools.answer(
        f"launchctl print {domain}/{LABEL}",
        out=f"{domain}/{LABEL} = {{\n\tstate = running\n\tpid = 4242\n\tprogram = x\n}}\n",
    )
    result = cli("status", "--platform", "macos")
    assert result.exit_code == 0, result.output
    assert "enabled:   yes  (loaded)" in result.stdout
    assert "running:   yes  (running (pid 4242))" in result.stdout
    tools.calls()

    result = cli("logs", "--platform", "macos")
    assert result.exit_code == 3
    assert f"Error: no log yet: {log}" in result.stderr
    log.write_text("12:00:00 INFO uploader: uploaded segment\n", encoding="utf-8")
    assert cli("logs", "-n", "5", "--platform", "macos").exit_code == 0
    assert cli("logs", "-f", "--platform", "macos").exit_code == 0
    assert tools.calls() == [["tail", "-n", "5", str(log)], ["tail", "-n", "50", "-F", str(log)]]

    result = cli("install", "--platform", "macos")  # again: out, then in
    assert result.exit_code == 0, result.output
    assert tools.calls() == [
        ["launchctl", "bootout", f"{domain}/{LABEL}"],
        ["launchctl", "enable", f"{domain}/{LABEL}"],
        ["launchctl", "bootstrap", domain, str(plist)],
    ]

    tools.answer(
        f"launchctl bootout {domain}/{LABEL}", rc=3, err="Boot-out failed: 3: No such process\n"
    )
    result = cli("uninstall", "--platform", "macos")  # not loaded: nothing to stop
    assert result.exit_code == 0, result.output
    assert not plist.exists()
    assert tools.calls() == [["launchctl", "bootout", f"{domain}/{LABEL}"]]


def test_launchd_status_of_an_agent_that_is_not_loaded(home: Path, tools: Tools) -> None:
    assert cli("install", "--platform", "macos").exit_code == 0
    tools.answer(
        f"launchctl print gui/{os.getuid()}/{LABEL}",
        rc=113,
        err=f'Could not find service "{LABEL}" in domain for port\n',
    )
    result = cli("status", "--platform", "macos")
    assert result.exit_code == 3
    assert "enabled:   no   (not loaded)" in result.stdout
