"""`config show` (every setting's value, and where it comes from) and `config init` (a
commented config file to start from). The file itself: uploader.core.config_file; how
commands take it: uploader.cli.config_layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from uploader import agents
from uploader.cli.app import main
from uploader.cli.config_layer import Layer, config_path_option, layer
from uploader.cli.config_template import template
from uploader.cli.options import option
from uploader.core import config_file, settings
from uploader.core.errors import UserError
from uploader.core.fsutil import atomic_write, make_private_dir, private_opener
from uploader.core.settings import SETTINGS, Setting
from uploader.core.terminal import printable

MASK = "********"
#: Values are aligned up to this width; a longer one pushes its source along.
ALIGN = 44


@main.group(name="config", short_help="The config file: show it, or write one to start from.")
def config_group() -> None:
    """The config file: settings for every command, between the environment variables
    and the defaults (a flag wins over its variable, which wins over the file, which wins
    over the default).
    """


def every_setting(fn: Any) -> Any:
    """Every setting's option, hidden from --help (`config show` takes them all)."""
    for setting in reversed(SETTINGS):
        fn = option(setting, hidden=True)(fn)
    return fn


@config_group.command(name="show", short_help="Print every setting and where it comes from.")
@every_setting
def show(**opts: Any) -> None:
    """Print every setting, its value and where it comes from: a flag, an environment
    variable, the config file (FILE:LINE) or the default. Secrets are masked.

    Every setting's flag is taken too (not listed here), to show what it would change.
    """
    ctx = click.get_current_context()
    current = layer(ctx)
    click.echo(printable(_file_line(current)))
    for setting in SETTINGS:
        source = ctx.get_parameter_source(setting.name)
        click.echo(printable(_row(setting, opts[setting.name], source, current)))


def _file_line(current: Layer) -> str:
    path, named_by = current.located.path, current.located.named_by
    how = {"given": " (--config)", "environment": f" ({settings.CONFIG.env})"}.get(named_by, "")
    there = "" if current.file is not None else " (no file there: no setting comes from one)"
    return f"# config file: {path}{how}{there}"


def _row(setting: Setting, value: Any, source: ParameterSource | None, current: Layer) -> str:
    if value is None or value == ():
        return f"# {setting.name}: not set"
    shown = config_file.toml_value(MASK if setting.secret else value)
    return f"{f'{setting.name} = {shown}':<{ALIGN}}  # {_source(setting, source, current)}"


def _source(setting: Setting, source: ParameterSource | None, current: Layer) -> str:
    if source is ParameterSource.COMMANDLINE:
        return f"flag {setting.flag}"
    if source is ParameterSource.ENVIRONMENT:
        return f"env {setting.env}"
    if source is ParameterSource.DEFAULT_MAP and current.file is not None:
        entry = current.file.entries[setting.name]
        via = f" ({entry.via})" if entry.via else ""
        return f"config {current.file.path}:{entry.line}{via}"
    return "default"


@config_group.command(name="init", short_help="Write a commented config file to start from.")
@config_path_option("Write the file here.")
@click.option("--force", is_flag=True, help="Replace the file if there is one.")
def init(config: Path | None, force: bool) -> None:
    """Write a commented config file to start from: every setting with its help, its
    variable and its default (all commented out), and the agents' folders found on this
    machine. An existing file is kept unless --force.
    """
    path = config_file.locate(config).path
    found = agents.session_folders()
    text = template(
        [(agent.display, folder) for agent, folder in found],
        [(a.display, a.folders_hint) for a in agents.AGENTS if a not in {f[0] for f in found}],
    )
    _write(path, text.encode("utf-8"), replace=force)
    names = ", ".join(dict.fromkeys(agent.display for agent, _ in found)) or "none"
    click.echo(printable(f"wrote {path} (agents found: {names})"))


def _write(path: Path, data: bytes, *, replace: bool) -> None:
    """A private file (0600, in a 0700 folder if one is made); an existing one only
    replaced when asked."""
    try:
        make_private_dir(path.parent)
        if replace:
            atomic_write(path, data)
        else:
            with open(path, "xb", opener=private_opener) as f:
                f.write(data)
    except FileExistsError:
        raise UserError(
            f"{path} already exists", "pass --force to replace it, or --config another path"
        ) from None
    except OSError as exc:
        raise UserError(
            f"cannot write {path}: {exc.strerror}", "check the folder's permissions"
        ) from exc
