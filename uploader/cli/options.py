"""The click options of the declared settings (uploader.core.settings), the groups of them
several commands share (store, dashboard, logging, redaction), and the objects they build:
a store, a redactor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from uploader.cli.app import in_cli_words, log
from uploader.cli.config_layer import SettingOption as SettingOption
from uploader.core import settings
from uploader.core.errors import UsageError, UserError
from uploader.core.settings import Setting
from uploader.core.units import parse_ms, parse_size
from uploader.redaction import Redactor, load_rules
from uploader.storage import sessionid
from uploader.stores import Store, StoreOptions, open_store, resolve_store_url
from uploader.write.segment import LINE_MARKS


class PositiveParam(click.ParamType):  # type: ignore[type-arg]
    """A number with an optional unit (`8MiB`, `10m`), parsed by `parse`, more than 0."""

    def __init__(self, name: str, parse: Callable[[str], int], unit: str) -> None:
        self.name, self.parse, self.unit = name, parse, unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            number = self.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if number <= 0:
            self.fail(f"{value!r} must be more than 0 {self.unit}", param, ctx)
        return number


SIZE = PositiveParam("SIZE", parse_size, "bytes")
DURATION = PositiveParam("MS", parse_ms, "ms")


def _click_type(kind: settings.Kind) -> Any:
    if isinstance(kind, settings.File):
        return click.Path(dir_okay=False, exists=kind.must_exist, path_type=Path)
    if isinstance(kind, settings.Folder):
        return click.Path(file_okay=False, exists=kind.must_exist, path_type=Path)
    if isinstance(kind, settings.Integer):
        return click.IntRange(kind.lo, kind.hi)
    if isinstance(kind, settings.Size):
        return SIZE
    if isinstance(kind, settings.Duration):
        return DURATION
    if isinstance(kind, settings.Switch):
        return click.BOOL
    if isinstance(kind, settings.Choice):
        return click.Choice(kind.values, case_sensitive=kind.case_sensitive)
    return None  # Text, and Flag (is_flag)


def option(setting: Setting, **overrides: Any) -> Callable[[Any], Any]:
    """The click option of a setting: its flag, variable, default, kind and help, as
    declared. `overrides` (a command's own `help` or `default`) are for the few commands
    that word a setting differently."""
    kwargs: dict[str, Any] = {
        "cls": SettingOption,
        "setting": setting,
        "help": setting.help,
        "show_default": setting.show_default,
        "multiple": setting.multiple,
        "metavar": setting.metavar,
    }
    if isinstance(setting.kind, settings.Flag):
        kwargs["is_flag"] = True
    else:
        kwargs["type"] = _click_type(setting.kind)
        kwargs["default"] = setting.default
    if setting.env is not None:
        kwargs.update(envvar=setting.env, show_envvar=True)
    kwargs.update(overrides)
    return click.option(setting.flag, setting.name, **kwargs)


def options(*declared: Setting) -> Callable[[Any], Any]:
    """The options of several settings, listed in --help in the order given."""
    return lambda fn: _apply(fn, [option(s) for s in declared])


#: The options every command that talks to a store shares.
store_options = options(*settings.STORE_SETTINGS)
#: For every command that sends transcript bytes away.
redact_options = options(*settings.REDACTION_SETTINGS)
#: The dashboard of `watch` (which can switch it off) and of `host`.
ui_options = options(*settings.DASHBOARD_SETTINGS, settings.UI_DISABLE)
host_ui_options = options(*settings.DASHBOARD_SETTINGS)
index_option = option(settings.INDEX)
#: For the commands that estimate costs (the dashboard, export, the index's usage).
prices_option = option(settings.PRICES)
log_option = option(settings.LOG_LEVEL)
#: For commands whose output is their result: only warnings and errors on stderr.
quiet_log_option = option(settings.LOG_LEVEL, default="WARNING")


def _apply(fn: Any, decorators: list[Any]) -> Any:
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def redactor_from_opts(opts: dict[str, Any]) -> Redactor | None:
    if not opts["redact"]:
        if opts["redact_rules"]:
            raise UsageError(
                "--redact-rules was given with --redact off",
                "drop one: rules only apply while redaction is on",
            )
        log.warning("redaction is off: secrets in transcripts are uploaded as written")
        return None
    # With the segmenter's marks: its pipelines' redactor, compiled once.
    return Redactor(load_rules(opts["redact_rules"]), marks=LINE_MARKS)


def on_command_line(name: str) -> bool:
    """Was this option's value typed on the command line (where `ps` shows it)?"""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE


#: Where a value comes from, the source that wins first (uploader.cli.config_layer).
_LAYERS = (
    ParameterSource.COMMANDLINE,
    ParameterSource.ENVIRONMENT,
    ParameterSource.DEFAULT_MAP,
    ParameterSource.DEFAULT,
)


def _layer(name: str) -> int:
    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source(name) if ctx is not None else None
    return _LAYERS.index(source) if source in _LAYERS else len(_LAYERS)


def secret_from_opts(opts: dict[str, Any], name: str, what: str, env: str) -> str | None:
    """A secret from its flag or variable, or from the file its `-file` flag names (not
    both flags; else the one from the source that wins: a flag, then a variable, then the
    config file). One typed on the command line, where other users see it in `ps`, is
    warned about (`auto`, which asks for a new one, is no secret)."""
    value, path = opts[name], opts.get(f"{name}_file")
    flag = "--" + name.replace("_", "-")
    if path is not None and value:
        if on_command_line(name) and on_command_line(f"{name}_file"):
            raise UsageError(f"both {flag} and {flag}-file were given", "pass one of them")
        if _layer(name) < _layer(f"{name}_file"):
            path = None
    if path is not None:
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(
                f"cannot read {flag}-file {path}: {getattr(exc, 'strerror', exc)}",
                "check the path and its permissions",
            ) from exc
        if not value:
            raise UsageError(f"{flag}-file {path} is empty")
    elif value and value.strip() != "auto" and on_command_line(name):
        log.warning(
            "%s is on the command line, where other users of this machine can read it (ps); "
            "set %s or use %s-file instead",
            what,
            env,
            flag,
        )
    return str(value) if value is not None else None


def store_from_opts(opts: dict[str, Any]) -> Store:
    key = secret_from_opts(opts, "supabase_key", "the Supabase key", "SUPABASE_KEY")
    options = StoreOptions(
        s3_endpoint_url=opts["s3_endpoint_url"],
        s3_region=opts["s3_region"],
        supabase_url=opts["supabase_url"],
        supabase_key=key,
        bucket=opts["bucket"],
        upload_url=opts["upload_url"],
    )
    return open_store(resolve_store_url(opts["store"], options), options)


#: `--sid`'s check, with the command line's words in its error (its hint names `--sid auto`).
validate_sid = in_cli_words(sessionid.validate_sid)
