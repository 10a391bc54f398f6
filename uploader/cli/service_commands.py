"""The `service` commands: `watch` as a user service that starts at login (a systemd user
unit on Linux, a launchd agent on macOS), installed, removed, asked after and its log
shown (uploader.service)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from uploader import service
from uploader.cli.app import exit_code, main
from uploader.core.terminal import printable


@main.group(name="service")
def service_group() -> None:
    """Run `watch` as a user service: started at login, restarted when it fails, at a low
    CPU and I/O priority.

    \b
    Linux: a systemd user unit, $XDG_CONFIG_HOME/systemd/user/agent-uploader.service
           (~/.config by default), logging to the journal
    macOS: a launchd agent, ~/Library/LaunchAgents/local.agent-uploader.plist,
           logging to ~/Library/Logs/agent-uploader/watch.log

    The service runs `agent-uploader watch` with this Python: it takes its settings from
    the config file, as `watch` does in a terminal.
    """


# Hidden: the file and the commands of another platform's manager (tests, and --print).
_platform_option = click.option(
    "--platform", type=click.Choice(service.PLATFORMS), hidden=True, default=None
)


def _run_quietly(command: Callable[[dict[str, Any]], int], opts: dict[str, Any]) -> None:
    """Run a short command: its output is its result; it sets up no logging and starts
    no thread (`logs --follow` ends at Ctrl+C, with 130)."""
    raise SystemExit(exit_code(command, opts))


def _say(line: str) -> None:
    click.echo(printable(line))


@service_group.command(name="install")
@click.option(
    "--print",
    "print_only",
    is_flag=True,
    help="Print the unit (or plist) that would be written, and change nothing.",
)
@click.option("--force", is_flag=True, help="Replace a different unit (or plist) already there.")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The config file the service's watch reads (default: the usual place).",
)
@_platform_option
def install_command(**opts: Any) -> None:
    """Write the service's file, then enable and start it (it starts at every login).

    Installing again is harmless: the same file is kept, and the service started. A
    different file already there (another version, another Python) is replaced only with
    --force.

    \b
    Exit codes:
      0  installed and started
      1  an error; where systemd or launchd cannot be reached (a container, CI), the
         file is still written, and the message says what to run
      2  bad usage
    """
    _run_quietly(_install, opts)


def _install(opts: dict[str, Any]) -> int:
    manager = service.manager(opts["platform"])
    if opts["print_only"]:
        click.echo(manager.render(opts["config"]).decode("utf-8"), nl=False)
        return 0
    service.install(manager, config=opts["config"], force=opts["force"], say=_say)
    _say(
        f"enabled and started the {manager.kind}: it starts at every login; see "
        "`agent-uploader service status` and `agent-uploader service logs`"
    )
    return 0


@service_group.command(name="uninstall")
@_platform_option
def uninstall_command(**opts: Any) -> None:
    """Stop the service, keep it from starting at login, and remove its file.

    \b
    Exit codes:
      0  removed, or there was nothing to remove
      1  an error; where systemd or launchd cannot be reached, the file is still
         removed, and the message says what to run
    """
    _run_quietly(_uninstall, opts)


def _uninstall(opts: dict[str, Any]) -> int:
    manager = service.manager(opts["platform"])
    if service.uninstall(manager, say=_say):
        _say(f"stopped and disabled the {manager.kind}")
    return 0


@service_group.command(name="status")
@_platform_option
def status_command(**opts: Any) -> None:
    """Say whether the service is installed, enabled (starts at login) and running.

    \b
    Exit codes:
      0  installed and running
      1  the service manager cannot be asked (the message says why)
      3  not installed, or not running
    """
    _run_quietly(_status, opts)


def _status(opts: dict[str, Any]) -> int:
    manager = service.manager(opts["platform"])
    installed = manager.path.exists()
    _say(f"installed: {_yes(installed)}  {manager.path}")  # said before the manager is asked
    if not installed:
        click.echo("Hint: install it with `agent-uploader service install`", err=True)
        return 3
    state = service.status(manager)
    _say(f"enabled:   {_yes(state.enabled)}  ({state.enabled_says})")
    _say(f"running:   {_yes(state.running)}  ({state.running_says})")
    if not state.running:
        click.echo("Hint: see why with `agent-uploader service logs`", err=True)
    return 0 if state.running else 3


def _yes(value: bool) -> str:
    return "yes" if value else "no "


@service_group.command(name="logs")
@click.option("-f", "--follow", is_flag=True, help="Keep showing new lines until Ctrl+C.")
@click.option(
    "-n",
    "--lines",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="How many of the last lines to show.",
)
@_platform_option
def logs_command(**opts: Any) -> None:
    """Show the service's log: the journal on Linux (journalctl), the log file on macOS.

    \b
    Exit codes:
      0  shown
      1  the log cannot be read (no journalctl here, for one)
      3  no log yet (macOS: the service has not run)
    """
    _run_quietly(_logs, opts)


def _logs(opts: dict[str, Any]) -> int:
    manager = service.manager(opts["platform"])
    return service.logs(manager, lines=opts["lines"], follow=opts["follow"])
