"""`doctor`: check, one line each, what uploads need on this machine: the config file,
the store (reachable, writable, credentials, clock), the spool, the agents' folders, the
user service, the search index and the dashboard's port (uploader.doctor).

A config file that cannot be used stops every other command before it starts; doctor
reports it as its first check instead, and runs the others without it.
"""

from __future__ import annotations

import json
from typing import Any

import click

from uploader.cli.app import _run, main
from uploader.cli.config_layer import GIVEN, META, Layer, layer
from uploader.cli.options import (
    DURATION,
    index_option,
    option,
    quiet_log_option,
    store_from_opts,
    store_options,
)
from uploader.core import config_file, errors as e, settings
from uploader.core.terminal import json_text, printable
from uploader.doctor import FAIL, OK, WARN, Check, ConfigFound, Doctor, Subject, tasks
from uploader.doctor.runner import unexpected
from uploader.stores import Store

#: Where doctor keeps the config file's error while the other settings are read without it.
_CONFIG_ERROR = "uploader.doctor.config-error"
_SHOWN = {OK: "ok", WARN: "warn", FAIL: "FAIL"}
_NAME_WIDTH = 12


class DoctorCommand(click.Command):
    """A command whose settings are read without the config file when it cannot be used:
    the file's error is kept for the config check to report."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click's parser consumes the list it is given
        try:
            return super().parse_args(ctx, list(given))
        except (e.ConfigError, e.ConfigExposed) as exc:
            ctx.meta[_CONFIG_ERROR] = exc
            ctx.meta[META] = Layer(config_file.locate(ctx.meta.get(GIVEN)), None)
            return super().parse_args(ctx, given)


@main.command(cls=DoctorCommand)
@store_options
@index_option
@option(settings.UI_BIND)
@option(settings.UI_PORT)
@option(settings.SPOOL_DIR)
@click.option(
    "--timeout",
    type=DURATION,
    default="10s",
    show_default=True,
    help="How long each check may take: a store or a database that does not answer "
    "fails its check after this.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per check.")
@quiet_log_option
def doctor(**opts: Any) -> None:
    """Check that uploads can work here, one line each: the config file, the store
    (reachable and writable: a probe object written, read back and removed; credentials;
    clock skew), the spool, the agents' folders, the user service, the search index and
    the dashboard's port. A problem comes with a hint.

    The checks run at once, each for --timeout at most. Warnings do not fail.

    \b
    Exit codes:
      0  no check failed (there may be warnings)
      1  a check failed
    """
    ctx = click.get_current_context()
    error = ctx.meta.get(_CONFIG_ERROR)
    read = layer(ctx)
    opts["config_found"] = ConfigFound(read.located, read.file, error)
    _run(_doctor, opts)


def _doctor(opts: dict[str, Any]) -> int:
    store: Store | None = None
    problem: e.UploaderError | None = None
    try:
        store = store_from_opts(opts)
    except e.UploaderError as exc:
        problem = exc
    except Exception as exc:  # an SDK refusing a setting (a malformed region): never a traceback
        problem = e.UserError(
            f"the store cannot be opened: {unexpected(exc)}",
            "check --store and the other store settings",
        )
    subject = Subject(
        config=opts["config_found"],
        store=store,
        store_problem=problem,
        index=opts["index"],
        spool=opts["spool_dir"],
        ui_bind=opts["ui_bind"],
        ui_port=opts["ui_port"],
    )
    run = Doctor(tasks(subject), opts["timeout"] / 1000)
    found: list[Check] = []
    for check in run.results():
        found.append(check)
        if opts["as_json"]:
            click.echo(json_text(json.dumps(check.to_json(), ensure_ascii=False)))
        else:
            for line in lines(check):
                click.echo(printable(line))
    if store is not None and run.finished:  # else a check still waits on it: left as is
        store.close()
    failed = sum(c.verdict == FAIL for c in found)
    if not opts["as_json"]:
        warned = sum(c.verdict == WARN for c in found)
        click.echo(f"{len(found)} checks: {failed} failed, {warned} warning(s)")
    return 1 if failed else 0


def lines(check: Check) -> list[str]:
    """A check as the terminal shows it: its verdict, name and what was found; on a
    problem, the hint below."""
    head = f"{_SHOWN[check.verdict]:<5} {check.name:<{_NAME_WIDTH}}{check.detail}"
    if check.hint and check.verdict != OK:
        return [head, f"{'':<{6 + _NAME_WIDTH}}hint: {check.hint}"]
    return [head]
