"""The config file as a layer of every command's settings: a flag wins over its
environment variable, which wins over the config file, which wins over the default.

A command that takes settings (options of class SettingOption) gets `--config FILE` when
it is registered (uploader.cli.app's group does it). That option is eager, so click takes
it before any setting; the first setting looked up then reads the file
(uploader.core.config_file, which checks all of it) and hands the values of the command's
settings to click as the context's `default_map`. Click consults it after the flag and
the variable and before the default, and records ParameterSource.DEFAULT_MAP as the
source. A setting declared in uploader.core.settings has its key in the file with
nothing more to do. `--help` reads no file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from uploader.core import config_file, settings
from uploader.core.config_file import ConfigFile, Located
from uploader.core.settings import Setting

META, GIVEN = "uploader.config", "uploader.config-given"
FC = TypeVar("FC", bound=Callable[..., Any])


class SettingOption(click.Option):
    """A click option made from a declared setting (`setting`): how tests tell it from a
    command's own flags, and which options the config file sets."""

    def __init__(self, *args: Any, setting: Setting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setting = setting

    def consume_value(self, ctx: click.Context, opts: Any) -> tuple[Any, ParameterSource]:
        _read(ctx)  # the first setting looked up reads the file
        return super().consume_value(ctx, opts)


class ConfigOption(click.Option):
    """`--config FILE`: where a command's settings come from, on every command that takes
    settings (neither a setting nor one command's own flag)."""


@dataclass(frozen=True)
class Layer:
    """The config file a command read (`file` None: there is none at the default place)."""

    located: Located
    file: ConfigFile | None


def layer(ctx: click.Context) -> Layer:
    """The config file the command of `ctx` read, as its --config option found it."""
    found = ctx.meta.get(META)
    if not isinstance(found, Layer):
        raise RuntimeError("this command has no --config option")  # a programming error
    return found


def _given(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """--config's value, kept for the settings to read (which --help never needs: the file
    is read when the first setting is looked up, and never by a command that shows help)."""
    ctx.meta[GIVEN] = value
    return value


def _read(ctx: click.Context) -> None:
    """Read the config file of this command, once: its values become the defaults of the
    command's settings."""
    if META in ctx.meta or GIVEN not in ctx.meta or ctx.resilient_parsing:
        return  # read; or a command without --config; or shell completion
    located = config_file.locate(ctx.meta[GIVEN])
    loaded = config_file.load(located)
    ctx.meta[META] = Layer(located, loaded)
    if loaded is not None:
        taken = {p.name for p in ctx.command.params if isinstance(p, SettingOption)}
        values = {
            name: list(entry.value) if isinstance(entry.value, tuple) else entry.value
            for name, entry in loaded.entries.items()
            if name in taken
        }
        ctx.default_map = {**values, **(ctx.default_map or {})}


def _shown(path: Path) -> str:
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def _option(help: str, *, read: bool) -> dict[str, Any]:
    return {
        "type": click.Path(dir_okay=False, path_type=Path),
        "metavar": settings.CONFIG.metavar,
        "is_eager": read,
        "expose_value": not read,
        "callback": _given if read else None,
        "help": f"{help}  [env var: {settings.CONFIG.env}; default: "
        f"{_shown(config_file.default_path())}]",
    }


def config_option() -> click.Option:
    """--config of a command that takes settings: the file is read, and its values are
    the defaults of the command's settings."""
    return ConfigOption(["--config", "config"], **_option(settings.CONFIG.help, read=True))


def config_path_option(help: str) -> Callable[[FC], FC]:
    """--config of a command that writes the file: the path it names (or None) is passed
    as `config`; nothing is read."""
    return click.option("--config", "config", cls=ConfigOption, **_option(help, read=False))


def with_config_option(command: click.Command) -> None:
    """Give `command` (each command of a group) --config, when it takes settings."""
    if isinstance(command, click.Group):
        for each in command.commands.values():
            with_config_option(each)
        return
    params = command.params
    if any(isinstance(p, SettingOption) for p in params) and not any(
        isinstance(p, ConfigOption) for p in params
    ):
        params.append(config_option())
