"""The config file: found where the platform keeps it (or where --config and
AGENT_UPLOADER_CONFIG say), checked whole, taken by every command between the environment
and the defaults; secrets named, not written, or the file private; `config show` and
`config init`; and `watch` run with nothing but a config file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.core import ParameterSource
from click.testing import CliRunner

from tests.support.cli import AWS_ENV, commands as all_commands, wait_until
from tests.support.storeview import rebuild, store_from_url
from uploader.cli import main
from uploader.cli.config_layer import ConfigOption, SettingOption
from uploader.cli.options import secret_from_opts
from uploader.core import config_file, settings
from uploader.core.config_file import Located
from uploader.core.errors import ConfigError, ConfigExposed, ConfigUnreadable
from uploader.core.settings import SETTINGS, Setting

SID = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"
ROOT = Path(__file__).resolve().parents[2]

#: Every variable a setting (or the config file's place) is read from.
VARIABLES = [s.env for s in (*SETTINGS, settings.CONFIG) if s.env]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the machine's environment, and no config file of the user's."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def write_config(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def resolve(command: str, *args: str) -> click.Context:
    """The command's options as click resolves them for these words (nothing is run; a
    required argument gets a word of its own)."""
    found = all_commands()[command]
    required = [p for p in found.params if isinstance(p, click.Argument) and p.required]
    return found.make_context(command, ["x" for _ in required] + list(args))


# -- where the file is ---------------------------------------------------------------------


def test_the_default_place_honours_xdg_config_home(tmp_path: Path) -> None:
    if sys.platform != "linux":
        pytest.skip("XDG_CONFIG_HOME is the Linux rule")
    assert config_file.default_path() == tmp_path / "xdg" / "agent-uploader" / "config.toml"
    assert config_file.locate() == Located(config_file.default_path(), "default")


def test_the_flag_wins_over_the_variable_which_wins_over_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_UPLOADER_CONFIG", str(tmp_path / "env.toml"))
    assert config_file.locate() == Located(tmp_path / "env.toml", "environment")
    assert config_file.locate(tmp_path / "flag.toml") == Located(tmp_path / "flag.toml", "given")


def test_no_file_at_the_default_place_is_no_settings_but_a_named_one_must_exist(
    tmp_path: Path,
) -> None:
    assert config_file.load(config_file.locate()) is None
    with pytest.raises(ConfigUnreadable, match="no such file"):
        config_file.load(config_file.locate(tmp_path / "missing.toml"))


def test_the_default_place_is_read_by_every_command(tmp_path: Path) -> None:
    write_config(tmp_path / "xdg" / "agent-uploader" / "config.toml", "ui_port = 4999\n")
    ctx = resolve("host")
    assert ctx.params["ui_port"] == 4999
    assert ctx.get_parameter_source("ui_port") is ParameterSource.DEFAULT_MAP


# -- precedence: flag > environment > config file > default, for each kind of setting --------

#: (setting, the file's value as TOML, the variable's text or None, the flag's words,
#:  and the value each of the three gives the command)
CASES: list[tuple[str, str, str | None, list[str], Any, Any, Any]] = [
    ("store", '"file:///from/config"', "file:///from/env", ["file:///from/flag"],
     "file:///from/config", "file:///from/env", "file:///from/flag"),
    ("seg_bytes", '"1MiB"', None, ["2MiB"], 1 << 20, None, 2 << 20),
    ("seg_bytes", "4096", None, ["2KiB"], 4096, None, 2048),
    ("idle_close", '"30s"', None, ["1m"], 30_000, None, 60_000),
    ("ui_port", "5000", "6000", ["7000"], 5000, 6000, 7000),
    ("redact", "false", "on", ["off"], False, True, False),
    ("redact", '"off"', "yes", ["no"], False, True, False),
    ("ui_disable", "true", "0", [], True, False, True),
    ("ui_allowed_host", '["a.example", "b.example"]', "env.example", ["flag.example"],
     ("a.example", "b.example"), ("env.example",), ("flag.example",)),
    ("include", '"*.ndjson"', None, ["*.log"], ("*.ndjson",), None, ("*.log",)),
    ("log_level", '"debug"', None, ["error"], "DEBUG", None, "ERROR"),
    ("redact_rules", '"rules.toml"', "/env/rules.toml", ["/flag/rules.toml"],
     "CONFIG_DIR/rules.toml", Path("/env/rules.toml"), Path("/flag/rules.toml")),
    ("spool_dir", '"~/spool"', None, ["/flag/spool"],
     Path("~/spool").expanduser(), None, Path("/flag/spool")),
    ("supabase_key", '{ env = "MY_SUPABASE_KEY" }', "key-from-env", ["key-from-flag"],
     "key-from-my-variable", "key-from-env", "key-from-flag"),
    ("ui_token", '"a-literal-token-of-32-characters"', "token-from-environment",
     ["token-from-the-command-line"], "a-literal-token-of-32-characters",
     "token-from-environment", "token-from-the-command-line"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "toml", "env", "flag", "from_config", "from_env", "from_flag"),
    CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)],
)
def test_precedence(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    toml: str,
    env: str | None,
    flag: list[str],
    from_config: Any,
    from_env: Any,
    from_flag: Any,
) -> None:
    setting = settings.BY_NAME[name]
    config = write_config(tmp_path / "conf" / "config.toml", f"{name} = {toml}\n")
    monkeypatch.setenv("MY_SUPABASE_KEY", "key-from-my-variable")
    if from_config == "CONFIG_DIR/rules.toml":
        from_config = config.parent / "rules.toml"  # relative to the file's folder

    def value(*args: str) -> tuple[Any, ParameterSource | None]:
        ctx = resolve("watch", "--config", str(config), *args)
        return ctx.params[name], ctx.get_parameter_source(name)

    assert resolve("watch").get_parameter_source(name) is ParameterSource.DEFAULT
    assert value() == (from_config, ParameterSource.DEFAULT_MAP)
    if env is not None:
        assert setting.env is not None
        monkeypatch.setenv(setting.env, env)
        assert value() == (from_env, ParameterSource.ENVIRONMENT)
    assert value(setting.flag, *flag) == (from_flag, ParameterSource.COMMANDLINE)


def test_a_secret_from_the_environment_wins_over_a_key_file_in_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "supabase.key").write_text("key-from-the-file\n")
    config = write_config(tmp_path / "config.toml", 'supabase_key_file = "supabase.key"\n')

    def key() -> str | None:
        with resolve("watch", "--config", str(config)) as ctx:
            return secret_from_opts(ctx.params, "supabase_key", "the key", "SUPABASE_KEY")

    assert key() == "key-from-the-file"
    monkeypatch.setenv("SUPABASE_KEY", "key-from-env")
    assert key() == "key-from-env"


def sample(setting: Setting, folder: Path) -> tuple[Any, list[str]]:
    """A value of the setting other than its default: as the config file has it, and as
    the flag's words."""
    kind = setting.kind
    if isinstance(kind, settings.Flag):
        return True, [setting.flag]
    if isinstance(kind, settings.Switch):
        return (False, [setting.flag, "off"]) if setting.default else (True, [setting.flag, "on"])
    if isinstance(kind, settings.Integer):
        number = (kind.lo or 0) + 1
        number += 1 if number == setting.default else 0
        return number, [setting.flag, str(number)]
    words: list[str]
    if isinstance(kind, settings.Size):
        words = ["3KiB"]
    elif isinstance(kind, settings.Duration):
        words = ["3s"]
    elif isinstance(kind, settings.Choice):
        words = [kind.values[-1]]
    elif isinstance(kind, settings.File | settings.Folder):
        path = folder / setting.name
        if kind.must_exist:
            path.mkdir() if isinstance(kind, settings.Folder) else path.write_text("x" * 20)
        words = [str(path)]
    else:
        words = [f"{setting.name}-text-from-the-config-file"]
    if setting.multiple:
        words = [*words, f"{words[0]}-2"]
        return words, [w for word in words for w in (setting.flag, word)]
    return words[0], [setting.flag, words[0]]


def taken(command: str) -> list[Setting]:
    return [p.setting for p in all_commands()[command].params if isinstance(p, SettingOption)]


@pytest.mark.parametrize("command", sorted(c for c in all_commands() if taken(c)))
def test_every_command_takes_each_setting_from_the_file_as_from_its_flag(
    tmp_path: Path, command: str
) -> None:
    """The same for every command, and for every setting it takes: a value in the file
    gives the command exactly what the flag gives, and a flag's value wins over it."""
    samples = {s.name: sample(s, tmp_path) for s in taken(command)}
    text = "".join(
        f"{name} = {config_file.toml_value(value)}\n" for name, (value, _) in samples.items()
    )
    config = write_config(tmp_path / "config.toml", text)
    from_file = resolve(command, "--config", str(config))
    flags = [word for _, words in samples.values() for word in words]
    from_flags = resolve(command, *flags)
    both = resolve(command, "--config", str(config), *flags)
    for name in samples:
        assert from_file.params[name] == from_flags.params[name], name
        assert from_file.get_parameter_source(name) is ParameterSource.DEFAULT_MAP, name
        assert both.get_parameter_source(name) is ParameterSource.COMMANDLINE, name


def test_every_command_that_takes_settings_has_config() -> None:
    for name, command in all_commands().items():
        takes = any(isinstance(p, SettingOption) for p in command.params)
        has = any(isinstance(p, ConfigOption) for p in command.params)
        assert has == takes or name == "config init", name  # init's --config: where to write


def test_help_reads_no_config_file(tmp_path: Path) -> None:
    """--help works whatever the file holds (it shows the declared defaults)."""
    config = write_config(tmp_path / "config.toml", "not toml at all [\n")
    result = CliRunner().invoke(main, ["watch", "--config", str(config), "--help"])
    assert result.exit_code == 0 and "--config FILE" in result.output


# -- errors: file, line and key --------------------------------------------------------------


def read(text: str, mode: int = 0o600, **environ: str) -> config_file.ConfigFile:
    return config_file.read(Path("/etc/conf.toml"), text, mode=mode, environ=environ)


HEAD = '# my settings\n\nstore = "file:///srv/store"\n# the dashboard\n'  # four lines


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        ("spool_dri = '/x'", "spool_dri", "is not a setting"),
        ("ui_port = 70000", "ui_port", "'70000' is outside 0..65535"),
        ("ui_port = '80'", "ui_port", None),  # text that is a number: fine
        ("ui_port = true", "ui_port", "must be a whole number, not true"),
        ("seg_bytes = '8 apples'", "seg_bytes", "'8 apples' is not a size"),
        ("idle_close = 'soon'", "idle_close", "'soon' is not a duration"),
        ("seg_ms = 0", "seg_ms", "'0' is outside 1..…"),
        ("redact = 'maybe'", "redact", "'maybe' is neither on nor off"),
        ("redact = 1", "redact", 'must be true or false (or "on", "off")'),
        ("log_level = 'loud'", "log_level", "'loud' is not one of DEBUG, INFO, WARNING, ERROR"),
        ("dir = 5", "dir", "must be a list of texts"),
        ("dir = ['/a', 5]", "dir", "must be a list of texts"),
        ("s3_region = 5", "s3_region", "must be text"),
        ("s3_region = { env = 'X' }", "s3_region", "must be text, not a table"),
        ("ui_token_file = '/nowhere/token'", "ui_token_file", "'/nowhere/token' does not exist"),
        ("spool_dir = '/etc/passwd'", "spool_dir", "'/etc/passwd' is not a folder"),
        ("supabase_key = { env = 'NOT_SET_ANYWHERE' }", "supabase_key",
         "names the environment variable NOT_SET_ANYWHERE, which is not set"),
        ("supabase_key = { file = '/nowhere/key' }", "supabase_key",
         "names the file /nowhere/key, which cannot be read: No such file or directory"),
        ("supabase_key = { vault = 'x' }", "supabase_key",
         'must be text, or { env = "NAME" } or { file = "PATH" }'),
        ("supabase_key = 5", "supabase_key",
         'must be text, or { env = "NAME" } or { file = "PATH" }'),
        ("[dashboard]\nui_port = 1", "dashboard", "is not a setting"),
    ],
)  # fmt: skip
def test_a_bad_key_or_value_names_the_file_the_line_and_the_key(
    line: str, key: str, problem: str | None
) -> None:
    text = HEAD + line + "\n"
    if problem is None:
        assert key in read(text).entries
        return
    with pytest.raises(ConfigError) as info:
        read(text)
    error = info.value
    assert (error.file, error.line, error.key, error.problem) == (
        Path("/etc/conf.toml"), 5, key, problem
    )  # fmt: skip
    assert error.message == f"/etc/conf.toml:5: {key} {problem}"


def test_an_unknown_key_gets_the_nearest_one_as_a_hint() -> None:
    with pytest.raises(ConfigError) as info:
        read("spool_dri = '/x'\n")
    assert info.value.hint == "did you mean 'spool_dir'?"


def test_text_that_is_not_toml_names_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        read('store = "file:///x"\nui_port = = 3\n')
    assert info.value.line == 2 and "is not valid TOML" in info.value.message


def test_a_secret_named_by_file_is_read_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("  the-key\n")
    config = write_config(tmp_path / "c.toml", 'nexus_key = { file = "key" }\n', mode=0o644)
    [entry] = config_file.load(Located(config, "given")).entries.values()  # type: ignore[union-attr]
    assert (entry.value, entry.via, entry.line) == ("the-key", f"file {tmp_path / 'key'}", 1)
    (tmp_path / "key").write_text("\n")
    with pytest.raises(ConfigError, match="which is empty"):
        config_file.load(Located(config, "given"))


def test_the_command_line_shows_one_error_and_no_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", "# settings\nui_port = 70000\n")
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    done = subprocess.run(
        [sys.executable, "-m", "uploader", "ls", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"Error: {config}:2: ui_port '70000' is outside 0..65535",
        "Hint: fix or remove that line: every command checks the whole file "
        "(`agent-uploader config init --config FILE` writes an example)",
    ]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda path: path.mkdir(), "cannot be read: Is a directory"),
        (lambda path: os.mkfifo(path), "cannot be read: it is not a regular file"),
        (lambda path: path.write_bytes(b"store = '\xff'\n"), "is not UTF-8 text"),
        (
            lambda path: path.write_bytes(b"#" * (2 << 20)),
            "cannot be read: it is larger than 1 MiB",
        ),
    ],
    ids=["folder", "pipe", "not-utf-8", "huge"],
)
def test_a_file_that_cannot_be_read_is_one_error(tmp_path: Path, make: Any, reason: str) -> None:
    path = tmp_path / "config.toml"
    make(path)
    with pytest.raises(ConfigUnreadable) as info:
        config_file.load(Located(path, "environment"))
    assert info.value.message == f"{path}: {reason}"


def test_a_named_file_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["ls"], env={"AGENT_UPLOADER_CONFIG": str(tmp_path / "none.toml")}
    )
    assert result.exit_code == 2
    assert f"Error: {tmp_path / 'none.toml'}: no such file" in result.output
    assert "AGENT_UPLOADER_CONFIG" in result.output and "config init" in result.output


# -- secrets in the file: private, or refused ------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_secret_written_in_a_file_others_can_open_is_refused(mode: int) -> None:
    with pytest.raises(ConfigExposed) as info:
        read('ui_port = 5000\nsupabase_key = "sk-1234"\nnexus_key = "n"\n', mode=mode)
    assert info.value.keys == ("supabase_key", "nexus_key")
    assert "sk-1234" not in info.value.message + str(info.value.hint)
    assert f"(mode {mode:04o})" in info.value.message and "chmod 600" in str(info.value.hint)


def test_a_private_file_may_hold_a_secret_and_a_named_one_any_file() -> None:
    assert read('supabase_key = "sk-1234"\n', mode=0o600).entries["supabase_key"].value == "sk-1234"
    named = read('supabase_key = { env = "K" }\nui_port = 1\n', mode=0o644, K="sk-5678")
    assert named.entries["supabase_key"].value == "sk-5678"
    assert read("ui_port = 1\n", mode=0o666).entries["ui_port"].value == "1"


def test_every_command_refuses_an_exposed_file(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", 'ui_token = "0123456789abcdef0123"\n', 0o644)
    for command in (["ls"], ["host"], ["config", "show"]):
        result = CliRunner().invoke(main, [*command, "--config", str(config)])
        assert result.exit_code == 1, (command, result.output)
        assert "other users can open it (mode 0644); refused" in result.output
        assert "0123456789abcdef0123" not in result.output


# -- config show ---------------------------------------------------------------------------


def show(*args: str, env: dict[str, str] | None = None) -> list[str]:
    result = CliRunner().invoke(main, ["config", "show", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def row(lines: list[str], name: str) -> str:
    return next(line for line in lines if line.startswith((f"{name} =", f"# {name}:")))


def test_show_says_where_each_value_comes_from_and_masks_secrets(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml",
        '# team settings\nstore = "file:///srv/team"\nui_port = 5000\n'
        'supabase_key = "sk-literal-1234"\nnexus_key = { env = "MY_NEXUS" }\n'
        'dir = ["/a", "/b"]\n',
    )
    lines = show("--config", str(config), "--ui-port", "6000", "--redact", "off",
                 env={"AGENT_UI_BIND": "127.0.0.2", "MY_NEXUS": "nx-secret-5678",
                      "SUPABASE_URL": "https://x.supabase.co"})  # fmt: skip
    text = "\n".join(lines)
    assert lines[0] == f"# config file: {config} (--config)"
    assert "sk-literal-1234" not in text and "nx-secret-5678" not in text
    expected = {
        "store": f'store = "file:///srv/team"  # config {config}:2',
        "ui_port": "ui_port = 6000  # flag --ui-port",
        "redact": "redact = false  # flag --redact",
        "ui_bind": 'ui_bind = "127.0.0.2"  # env AGENT_UI_BIND',
        "supabase_url": 'supabase_url = "https://x.supabase.co"  # env SUPABASE_URL',
        "supabase_key": f'supabase_key = "********"  # config {config}:4',
        "nexus_key": f'nexus_key = "********"  # config {config}:5 (env MY_NEXUS)',
        "dir": f'dir = ["/a", "/b"]  # config {config}:6',
        "seg_bytes": "seg_bytes = 8388608  # default",
        "spool_dir": 'spool_dir = "~/.agent-uploader/spool"  # default',
        "ui_token": "# ui_token: not set",
    }
    for name, want in expected.items():
        assert " ".join(row(lines, name).split()) == " ".join(want.split()), name
    assert len(lines) == 1 + len(SETTINGS)  # the file, then one line per setting


def test_show_masks_a_secret_from_the_environment_or_a_flag() -> None:
    lines = show("--ui-token", "token-on-the-command-line", env={"SUPABASE_KEY": "sk-env"})
    assert 'supabase_key = "********"' in row(lines, "supabase_key")
    assert "# env SUPABASE_KEY" in row(lines, "supabase_key")
    assert "token-on-the-command-line" not in "\n".join(lines)


def test_show_names_the_default_place_when_there_is_no_file(tmp_path: Path) -> None:
    lines = show()
    path = tmp_path / "xdg" / "agent-uploader" / "config.toml"
    assert lines[0] == f"# config file: {path} (no file there: no setting comes from one)"
    assert all(line.endswith("# default") or ": not set" in line for line in lines[1:])


def test_show_names_the_file_the_variable_names(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", "ui_port = 5001\n")
    lines = show(env={"AGENT_UPLOADER_CONFIG": str(config)})
    assert lines[0] == f"# config file: {config} (AGENT_UPLOADER_CONFIG)"
    assert row(lines, "ui_port").endswith(f"# config {config}:1")


# -- config init ---------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME where Claude Code and pi have sessions folders, and Codex none."""
    home = tmp_path / "home"
    (home / ".claude" / "projects").mkdir(parents=True)
    (home / ".pi" / "agent" / "sessions").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "no-codex"))
    return home


def init(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, ["config", "init", *args])


def test_init_writes_a_private_commented_file_for_the_agents_found(
    tmp_path: Path, home: Path
) -> None:
    result = init()
    path = tmp_path / "xdg" / "agent-uploader" / "config.toml"
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {path} (agents found: Claude Code, pi)\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    text = path.read_text()
    assert f"#   Claude Code: {home / '.claude' / 'projects'}" in text
    assert f"#   pi: {home / '.pi' / 'agent' / 'sessions'}" in text
    assert "Codex (~/.codex/sessions)" in text  # among those not found
    dirs = [str(home / ".claude" / "projects"), str(home / ".pi" / "agent" / "sessions")]
    assert f"# dir = {json.dumps(dirs)}" in text
    assert tomllib.loads(text) == {}  # everything commented out
    for setting in SETTINGS:
        assert f"# {setting.name} = " in text, setting.name
        assert setting.env is None or setting.env in text, setting.name


def test_each_example_line_of_init_is_a_value_the_file_takes(tmp_path: Path, home: Path) -> None:
    """Uncommented, every `# key = default` line gives the setting its default."""
    path = tmp_path / "c.toml"
    assert init("--config", str(path)).exit_code == 0
    examples = [
        line[2:] for line in path.read_text().splitlines()
        if line.startswith("# ") and line[2:].split(" = ")[0] in settings.BY_NAME
    ]  # fmt: skip
    defaults = [
        line for line in examples if settings.BY_NAME[line.split(" = ")[0]].default is not None
    ]
    assert len(defaults) == sum(1 for s in SETTINGS if s.default is not None)
    config = write_config(tmp_path / "defaults.toml", "\n".join(defaults) + "\n")
    ctx = resolve("watch", "--config", str(config))
    plain = resolve("watch")
    for name, param_value in ctx.params.items():
        if name in settings.BY_NAME:
            want = plain.params[name]
            assert param_value == (want.expanduser() if isinstance(want, Path) else want), name


def test_init_keeps_a_file_that_is_there_unless_forced(tmp_path: Path, home: Path) -> None:
    path = write_config(tmp_path / "c.toml", "ui_port = 1\n")
    refused = init("--config", str(path))
    assert refused.exit_code == 1
    assert refused.output.splitlines() == [
        f"Error: {path} already exists",
        "Hint: pass --force to replace it, or --config another path",
    ]
    assert path.read_text() == "ui_port = 1\n"
    assert init("--config", str(path), "--force").exit_code == 0
    assert "# ui_port = 4333" in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600


def test_init_writes_where_the_variable_says(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "elsewhere" / "agent.toml"
    result = CliRunner().invoke(main, ["config", "init"], env={"AGENT_UPLOADER_CONFIG": str(path)})
    assert result.exit_code == 0 and path.is_file()


# -- watch with nothing but a config file ----------------------------------------------------


@pytest.fixture
def watch_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a user who set nothing but a config file: no AGENT_UPLOADER_*,
    AGENT_*, SUPABASE_* or AWS_REGION/AWS_ENDPOINT_URL variable; only boto's credentials,
    which are not settings of ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in VARIABLES and not k.startswith(("AGENT_", "SUPABASE_", "AWS_"))
    }
    env.update(
        AWS_ACCESS_KEY_ID=AWS_ENV["AWS_ACCESS_KEY_ID"],
        AWS_SECRET_ACCESS_KEY=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        PYTHONUNBUFFERED="1",
    )
    yield env


@pytest.mark.skipif(sys.platform != "linux", reason="the default place is XDG's on Linux")
def test_watch_with_only_a_config_file_uploads_to_s3(
    tmp_path: Path, moto_endpoint: str, s3_bucket: str, watch_env: dict[str, str]
) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    source = folder / f"{SID}.jsonl"
    first = b"".join(b'{"type":"user","n":%d}\n' % i for i in range(30))
    source.write_bytes(first)
    write_config(
        tmp_path / "xdg" / "agent-uploader" / "config.toml",
        f'store = "s3://{s3_bucket}/team-a"\n'
        f's3_endpoint_url = "{moto_endpoint}"\n'
        's3_region = "us-east-1"\n'
        f'dir = ["{folder}"]\n'
        f'spool_dir = "{tmp_path / "spool"}"\n'
        'seg_lines = 10\npoll_ms = "100ms"\nscan_ms = "200ms"\nidle_close = "1s"\n'
        "ui_port = 0\n",
    )
    log = tmp_path / "watch.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uploader", "watch"],
            stdout=out, stderr=subprocess.STDOUT, env=watch_env,
        )  # fmt: skip
    store = store_from_url(f"s3://{s3_bucket}/team-a", moto_endpoint)
    try:
        wait_until(lambda: rebuild(store, SID) == first, timeout=60, what="the first lines")
        with open(source, "ab") as f:
            f.write(b'{"type":"assistant","n":30}\n')
        wait_until(lambda: rebuild(store, SID) == source.read_bytes(), timeout=60,
                   what="the appended line")  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
        store.close()
    text = log.read_text()
    assert "Traceback" not in text
    assert (tmp_path / "spool" / "state").is_dir()  # the config's spool, not ~/.agent-uploader
    assert not (tmp_path / "home" / ".agent-uploader").exists()
