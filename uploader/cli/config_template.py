"""The commented config file a user starts from: every setting of
uploader.core.settings, grouped, with its help, its variable and its default, commented
out; and the agents' folders found on this machine (`config init` writes it).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from uploader.core import settings
from uploader.core.config_file import BY_ENV, BY_FILE, toml_value
from uploader.core.settings import SETTINGS, Setting

WIDTH = 88

#: How each group of settings is introduced (a group not listed here: by its name).
TITLES = {
    "watch": "What `watch` reads, and how it cuts and sends it",
    "store": "The store: where sessions go (file://, s3://, supabase://)",
    "redaction": "Redaction: secrets replaced before anything leaves this machine",
    "dashboard": "The dashboard (`watch` and `host`)",
    "logging": "Logging",
    "sweep": "`sweep` of finished sessions",
    "index": "The search index",
}

HEADER = f"""\
# agent-uploader's settings, for every command (TOML).
#
# A key is a flag's name without its dashes, with _ for - (--spool-dir: spool_dir),
# and takes what the flag takes: "5m", "8MiB", 4333, true, a list for a repeatable flag.
# A flag wins over its environment variable, which wins over this file, which wins over
# the default. Paths may start with ~; a relative path is relative to this file's folder.
#
# Secrets (keys, tokens) need not be written here: name them instead, as
#   supabase_key = {BY_ENV}       (an environment variable)
#   supabase_key = {BY_FILE}     (a file holding it)
# A file that holds a secret as text must be readable by its owner only (chmod 600),
# or every command refuses it.
#
# `agent-uploader config show` prints what each setting is, and where it comes from.
"""


def template(found: Sequence[tuple[str, Path]], absent: Sequence[tuple[str, str]]) -> str:
    """The file: `found`, the agents' folders that exist (agent, folder); `absent`, the
    agents with none (agent, where it would keep them)."""
    parts = [HEADER, _agents(found, absent)]
    groups = list(dict.fromkeys(s.group for s in SETTINGS))
    for group in groups:
        title = TITLES.get(group, group)
        parts.append(f"# -- {title} " + "-" * max(3, WIDTH - len(title) - 6) + "\n")
        parts.extend(_setting(s, found) for s in SETTINGS if s.group == group)
    return "\n".join(parts)


def _agents(found: Sequence[tuple[str, Path]], absent: Sequence[tuple[str, str]]) -> str:
    lines = ["# -- The agents on this machine " + "-" * (WIDTH - 31)]
    if found:
        lines.append("# Found (without `dir` or `file`, `watch` watches these):")
        lines.extend(f"#   {agent}: {folder}" for agent, folder in found)
    else:
        lines.append("# No agent's folder was found: set `dir` (below) to the folders to watch.")
    if absent:
        missing = ", ".join(f"{agent} ({where})" for agent, where in absent)
        lines.extend(
            textwrap.wrap(
                f"Not found: {missing}",
                WIDTH - 2,
                initial_indent="# ",
                subsequent_indent="#   ",
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines) + "\n"


def _setting(setting: Setting, found: Sequence[tuple[str, Path]]) -> str:
    text = " ".join(setting.help.split())
    if setting.env:
        text += f" (environment: {setting.env})"
    lines = textwrap.wrap(text, WIDTH - 2, break_on_hyphens=False)
    example = _example(setting, found)
    return "".join(f"# {line}\n" for line in lines) + f"# {setting.name} = {example}\n"


def _example(setting: Setting, found: Sequence[tuple[str, Path]]) -> str:
    """The default, else a value of the right form."""
    if setting is settings.DIR and found:
        return toml_value([str(folder) for _, folder in found])
    if setting.secret:
        return BY_ENV
    if setting.default is not None:
        return toml_value(setting.default)
    if isinstance(setting.kind, settings.Flag):
        return "false"
    word = setting.metavar or {settings.File: "PATH", settings.Folder: "FOLDER"}.get(
        type(setting.kind), "TEXT"
    )
    return toml_value([word] if setting.multiple else word)
