"""The `scan` command: the secrets in local transcripts, before anything is uploaded."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from uploader import agents
from uploader.cli.app import _run, main
from uploader.cli.options import option, quiet_log_option
from uploader.core import settings
from uploader.core.errors import UsageError
from uploader.core.terminal import printable
from uploader.redaction import Redactor, load_rules
from uploader.redaction.scan import scan_file, transcript_files


@main.command(name="scan")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@option(settings.REDACT_RULES)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per secret: rule, fingerprint, file, line, column.",
)
@quiet_log_option
def scan_command(**opts: Any) -> None:
    """Report the secrets in local transcripts: what redaction would replace.

    PATH: transcript files, or folders to search for *.jsonl files (and the copies OpenClaw
    renames ended sessions to). Without PATH: the agents' own session folders on this
    machine (Codex, Claude Code, OpenClaw, pi).

    For each secret it prints the file, line and column, the rule and the fingerprint
    (the first 8 hex of the secret's sha256, as in the [REDACTED:rule:fingerprint] marker
    that uploads carry instead), never the secret itself. A key found here was written to
    disk, and was uploaded if a copy left without redaction: rotate it.

    \b
    Exit codes:
      0  no secret found
      1  secrets found, or a file could not be read
      2  bad usage (a malformed flag, a bad --redact-rules file, nothing to scan)

    \b
    A rules file (TOML) adds rules and allowlist entries to the built-in ones:
      [[rules]]
      id = "acme-token"              # a-z, 0-9 and '-'; shown in the marker
      regex = 'acme_[a-z0-9]{32}'    # Python re, matched within one line
      secret_group = 0               # optional: the group that is the secret
      keywords = ["acme_"]           # optional: only lines holding one of them
      ignore_case = false            # optional
      [allowlist]
      regexes = ['EXAMPLE']          # secrets these find are left alone
      values = ["sk_test_known_fake_value"]
    """
    _run(_scan, opts)


def _scan(opts: dict[str, Any]) -> int:
    redactor = Redactor(load_rules(opts["redact_rules"]))
    paths: list[Path] = list(opts["paths"])
    if not paths:
        folders = agents.session_folders()
        if not folders:
            raise UsageError(
                f"no agent session folders on this machine ({agents.folders_hint()})",
                "give the transcripts to scan: agent-uploader scan PATH...",
            )
        for agent, folder in folders:
            click.echo(f"scanning {agent.display}: {printable(str(folder))}", err=True)
        paths = [folder for _, folder in folders]
    as_json = opts["as_json"]
    errors = scanned = 0
    by_rule: Counter[str] = Counter()
    with_secrets: set[Path] = set()

    def unreadable(path: Path, exc: OSError) -> None:
        nonlocal errors
        errors += 1
        reason = exc.strerror or str(exc)
        click.echo(f"Error: cannot read {printable(str(path))}: {printable(reason)}", err=True)

    try:
        for path in transcript_files(paths, unreadable):
            name = printable(str(path))
            try:
                for found in scan_file(path, redactor):
                    by_rule[found.rule] += 1
                    with_secrets.add(path)
                    if as_json:
                        record = {
                            "rule": found.rule,
                            "fingerprint": found.fingerprint,
                            "file": str(path),
                            "line": found.line,
                            "column": found.column,
                        }
                        click.echo(json.dumps(record))
                    else:
                        click.echo(
                            f"{name}:{found.line}:{found.column}: {found.rule} {found.fingerprint}"
                        )
            except OSError as exc:
                unreadable(path, exc)
                continue
            scanned += 1
    except BrokenPipeError:
        # The reader went away (`| head`): a quiet end, and no second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    total = sum(by_rule.values())
    files = "file" if scanned == 1 else "files"
    if total:
        rules = ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items()))
        summary = (
            f"{total} secret{'s' if total > 1 else ''} in {len(with_secrets)} of {scanned} "
            f"{files} scanned: {rules}"
        )
    else:
        summary = f"no secrets in {scanned} {files} scanned"
    if errors:
        summary += f"; {errors} could not be read"
    click.echo(summary, err=as_json)
    if total:
        click.echo(
            "Hint: rotate these keys; uploads carry [REDACTED:rule:fingerprint] in their place",
            err=True,
        )
    return 1 if total or errors else 0
