"""Every setting is declared once (uploader.core.settings), documented, and is where the
command line's options come from."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.support.cli import commands
from uploader.cli import main
from uploader.cli.config_layer import ConfigOption
from uploader.cli.options import SettingOption
from uploader.core import settings
from uploader.core.errors import InvalidSetting
from uploader.core.settings import BY_NAME, COMMAND_FLAGS, SETTINGS, Setting

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

#: The page that documents each command's flags.
COMMAND_PAGES = {
    "watch": "watch.md",
    "host": "dashboard.md",
    **dict.fromkeys(settings.READERS, "restore.md"),
    "sweep": "sweep-import.md",
    "import": "sweep-import.md",
    "scan": "security.md",
    **dict.fromkeys(settings.SEARCHERS, "search.md"),
    "status": "watch.md",
    "doctor": "service.md",
    **dict.fromkeys(("config show", "config init"), "config.md"),
    **dict.fromkeys(
        ("service install", "service uninstall", "service status", "service logs"), "service.md"
    ),
}
#: The page that explains each group of settings in depth.
GROUP_PAGES = {
    "store": "stores.md",
    "dashboard": "dashboard.md",
    "redaction": "security.md",
    "index": "search.md",
}


def pages_for(setting: Setting) -> list[str]:
    """watch.md, the pages of the commands that take it, and its group's page."""
    pages = ["watch.md", *(COMMAND_PAGES[c] for c in setting.commands)]
    if setting.group in GROUP_PAGES:
        pages.append(GROUP_PAGES[setting.group])
    return list(dict.fromkeys(pages))


def mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: Setting) -> None:
    pages = pages_for(setting)
    missing = [page for page in pages if not (DOCS / page).is_file()]
    found = [
        page
        for page in pages
        if page not in missing
        and mentions(text := (DOCS / page).read_text(encoding="utf-8"), setting.flag)
        and (setting.env is None or mentions(text, setting.env))
    ]
    what = setting.flag + (f" and {setting.env}" if setting.env else "")
    assert found, (
        f"{what} ({setting.name}) is documented on none of docs/{', docs/'.join(pages)}"
        + (f"; missing pages: {', '.join(missing)}" if missing else "")
        + ": add a row for it (a flags table names the flag and its variable)"
    )


def test_every_command_has_a_docs_page() -> None:
    assert set(commands()) == set(COMMAND_PAGES)


@pytest.mark.parametrize("name", sorted(COMMAND_FLAGS))
def test_every_flag_is_a_setting_or_listed_as_the_commands_own(name: str) -> None:
    command = commands()[name]
    own: set[str] = set()
    for param in command.params:
        if not isinstance(param, click.Option) or isinstance(param, ConfigOption):
            continue  # --config: where the settings of every command come from
        flag = max(param.opts, key=len)  # --verbose, not -v
        if isinstance(param, SettingOption):
            declared = param.setting
            assert declared is BY_NAME[declared.name], flag
            assert flag == declared.flag and param.name == declared.name, flag
            assert param.envvar == declared.env, flag
            assert name in declared.commands, f"{flag} of {name}: add {name!r} to its commands"
        else:
            own.add(flag)
    assert own <= COMMAND_FLAGS[name], (
        f"`{name}` has flags that are neither settings nor listed as its own: "
        f"{sorted(own - COMMAND_FLAGS[name])} (uploader.core.settings)"
    )
    assert own >= COMMAND_FLAGS[name], (
        f"stale in COMMAND_FLAGS[{name!r}]: {COMMAND_FLAGS[name] - own}"
    )


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_command_a_setting_names_takes_it(setting: Setting) -> None:
    taking = {
        name
        for name, command in commands().items()
        for param in command.params
        if isinstance(param, SettingOption) and param.setting is setting
    }
    assert taking - {"config show"} == set(setting.commands)  # it shows every setting


def test_settings_are_declared_once() -> None:
    names = [s.name for s in SETTINGS]
    envs = [s.env for s in SETTINGS if s.env]
    assert len(names) == len(set(names)) and len(envs) == len(set(envs))
    for setting in SETTINGS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", setting.name), setting.name
        assert setting.group in (
            "store",
            "dashboard",
            "redaction",
            "logging",
            "watch",
            "sweep",
            "index",
        )
        assert set(setting.commands) <= set(COMMAND_PAGES), setting.name
        if setting.secret:  # never printed: no default to show, none in --help
            assert setting.default is None and not setting.show_default, setting.name


def test_no_environment_variable_is_read_outside_the_settings() -> None:
    """Each variable is read through its Setting: `os.environ`, `getenv` and click's
    `envvar=` appear in uploader/core/settings/ and uploader/cli/options.py only. (An
    agent's own variables, such as CODEX_HOME, are the agent's, not settings.)"""
    allowed = {"uploader/core/settings/", "uploader/cli/options.py"}
    found = []
    for path in sorted([*(ROOT / "uploader").rglob("*.py"), *(ROOT / "ui").rglob("*.py")]):
        where = path.relative_to(ROOT).as_posix()
        if where.startswith((*allowed, "uploader/agents/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                found.append(f"{where}:{node.lineno}")
            if isinstance(node, ast.keyword) and node.arg == "envvar":
                found.append(f"{where}:{node.lineno}")
    assert not found, f"read an environment variable through uploader.core.settings: {found}"


def test_the_environment_is_read_as_the_command_line_reads_it() -> None:
    assert settings.STORE.from_env({"AGENT_UPLOADER_STORE": "s3://b/p"}) == "s3://b/p"
    assert settings.STORE.from_env({"AGENT_UPLOADER_STORE": ""}) is None  # empty: unset
    assert settings.STORE.from_env({}) is None
    assert settings.SEG_BYTES.from_env({"SEG_BYTES": "1"}) is None  # no variable at all


@pytest.mark.parametrize(
    ("setting", "text", "value"),
    [
        (settings.REDACT, " Off ", False),
        (settings.REDACT, "yes", True),
        (settings.UI_DISABLE, "1", True),
        (settings.SEG_BYTES, "512KiB", 512 << 10),
        (settings.IDLE_CLOSE, "5m", 300_000),
        (settings.UI_PORT, "0", 0),
        (settings.LOG_LEVEL, "debug", "debug"),
        (settings.SPOOL_DIR, "~/spool", Path("~/spool")),
        (settings.STORE, "file:///x", "file:///x"),
    ],
)
def test_a_value_is_read_as_its_kind_says(setting: Setting, text: str, value: object) -> None:
    assert setting.parse(text) == value


@pytest.mark.parametrize(
    ("setting", "text", "problem"),
    [
        (settings.REDACT, "maybe", "'maybe' is neither on nor off"),
        (settings.UI_PORT, "70000", "'70000' is outside 0..65535"),
        (settings.CONCURRENCY, "two", "'two' is not a whole number"),
        (settings.SEG_MS, "0", "'0' is outside 1..…"),
        (settings.SEG_BYTES, "8 furlongs", "'8 furlongs' is not a size"),
        (settings.LOG_LEVEL, "LOUD", "'LOUD' is not one of DEBUG, INFO, WARNING, ERROR"),
    ],
)
def test_a_bad_value_names_its_setting(setting: Setting, text: str, problem: str) -> None:
    with pytest.raises(InvalidSetting) as info:
        setting.parse(text)
    assert info.value.setting == setting.name
    assert info.value.message == f"{setting.name} {problem}"


def test_the_defaults_in_help_are_the_declared_ones() -> None:
    """A default is declared once: --help shows what the declaration says."""
    result = CliRunner().invoke(main, ["watch", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    for setting in SETTINGS:
        if "watch" in setting.commands and setting.show_default:
            assert f"default: {setting.default}" in text, setting.name
        if "watch" in setting.commands and setting.env:
            assert f"env var: {setting.env}" in text, setting.name
