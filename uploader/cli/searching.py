"""`index`, `search` and `usage`: the search index of a store (uploader.index), kept up to
date from the store before each answer, and what it finds."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

import click

from uploader import agents
from uploader.cli.app import _run, main
from uploader.cli.options import (
    index_option,
    prices_option,
    quiet_log_option,
    store_from_opts,
    store_options,
)
from uploader.cli.watching import check_readable
from uploader.core.errors import UsageError
from uploader.core.terminal import json_text, printable
from uploader.core.units import format_size, parse_since
from uploader.index import Index, open_index
from uploader.index.base import (
    MARK_END,
    MARK_START,
    ROLES,
    USAGE_GROUPS,
    SearchQuery,
    UsageTotal,
)
from uploader.index.indexer import Indexer
from uploader.index.query import parse
from uploader.stores import Store
from uploader.stores.base import StorageError

log = logging.getLogger(__name__)


def open_for(opts: dict[str, Any], *, offline: bool = False) -> tuple[Store, Index]:
    """The store and its index; `offline`: the store need not answer (the index is read
    as it is, with a warning)."""
    store = store_from_opts(opts)
    if not offline:
        check_readable(store)
    index = open_index(opts["index"], store.description)
    if index is None:
        raise UsageError("--index is off", "search and usage need an index: drop --index off")
    return store, index


def refresh_or_warn(store: Store, index: Index) -> None:
    """Bring the index up to date; when the store cannot be read, say so and go on with
    what the index has (a search works offline)."""
    try:
        Indexer(store, index).refresh()
    except StorageError as exc:
        log.warning("the index may be behind the store: %s", exc)


def _since(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parse_since(text, time.time())
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


# -- index -----------------------------------------------------------------------------------


@main.command(name="index")
@click.option("--rebuild", is_flag=True, help="Delete what the index holds and read it all again.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@index_option
@prices_option
@store_options
@quiet_log_option
def index_command(**opts: Any) -> None:
    """Bring the search index up to date with the store (watch and host do it on their own)."""
    _run(_index, opts)


def _index(opts: dict[str, Any]) -> int:
    store, index = open_for(opts)
    started = time.monotonic()
    if opts["rebuild"]:
        for sid in index.sids():
            index.remove_session(sid)
        for key in ("changes_read_at", "listed_all_at", "labels"):
            index.set_meta(key, "")
    done = Indexer(store, index).refresh(full=bool(opts["rebuild"]))
    took = time.monotonic() - started
    stats = index.stats()
    if opts["as_json"]:
        report = {
            "index": index.description,
            "sessions_read": len(done.sessions),
            "segments_added": done.segments,
            "bytes_indexed": done.bytes,
            "removed": sorted(done.removed),
            "failed": done.failed,
            "seconds": round(took, 3),
            **stats,
        }
        click.echo(json.dumps(report, indent=1))
    else:
        click.echo(
            f"{index.description}: {stats['sessions']:,} sessions, {stats['docs']:,} lines "
            f"searchable, {format_size(stats['bytes'])}"
        )
        click.echo(
            f"this run: {len(done.sessions):,} sessions read, {done.segments:,} segments "
            f"({format_size(done.bytes)}) added in {took:.1f}s"
        )
        for sid, why in sorted(done.failed.items()):
            click.echo(f"skipped {sid}: {printable(why)}", err=True)
    index.close()
    return 1 if done.failed else 0


# -- search ----------------------------------------------------------------------------------


# `-word` in a search is a word to leave out, not an option.
@main.command(name="search", context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True)
@click.option("--agent", type=click.Choice(agents.names()), help="Only this agent's sessions.")
@click.option("--since", metavar="WHEN", help="Only lines from then on: 7d, 24h, 30m or a date.")
@click.option("--role", type=click.Choice(ROLES), help="Only lines of this role.")
@click.option("--tool", metavar="NAME", help="Only calls of this tool and their output.")
@click.option("--project", metavar="NAME", help="Only sessions in this project (its folder).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per hit.")
@index_option
@store_options
@quiet_log_option
def search(**opts: Any) -> None:
    """Find lines in every session: words, "a phrase", prefix*, a OR b, -word."""
    _run(_search, opts)


def _search(opts: dict[str, Any]) -> int:
    typo = next((w for w in opts["query"] if w.startswith("--")), None)
    if typo is not None:
        raise UsageError(
            f"no such option: {typo}",
            "see agent-uploader search --help; to look for the word, quote it: '\"--word\"'",
        )
    text = " ".join(opts["query"])
    parse(text)  # a malformed query is said before the store is read
    store, index = open_for(opts, offline=True)
    refresh_or_warn(store, index)
    hits = index.search(
        SearchQuery(
            text,
            agent=opts["agent"],
            since=_since(opts["since"]),
            role=opts["role"],
            tool=opts["tool"],
            project=opts["project"],
            limit=opts["limit"],
        )
    )
    index.close()
    if opts["as_json"]:
        for hit in hits:
            click.echo(json_text(json.dumps(hit.to_json(), ensure_ascii=False)))
        return 0 if hits else 1
    bold, plain = ("\x1b[1m", "\x1b[0m") if sys.stdout.isatty() else ("[", "]")
    for hit in hits:
        where = f"{hit.sid}:{hit.line} (generation {hit.generation})"
        tool = f" {printable(hit.tool)}" if hit.tool else ""
        click.echo(f"{where}  {_when(hit.ts)}  {printable(hit.agent)}  {hit.role}{tool}")
        click.echo(f"  {printable(hit.title)[:100]}")
        shown = "".join(
            printable(part) + (bold if i % 2 == 0 else plain)
            for i, part in enumerate(re.split(f"[{MARK_START}{MARK_END}]", hit.snippet))
        )[: -len(bold)]
        click.echo(f"  {shown}\n")
    click.echo(
        f"{len(hits)} hit(s)" + (" (more with --limit)" if len(hits) == opts["limit"] else ""),
        err=True,
    )
    return 0 if hits else 1


# -- usage -----------------------------------------------------------------------------------


@main.command(name="usage")
@click.option("--since", metavar="WHEN", default="30d", show_default=True,
              help="From then on: 30d, 24h or a date.")  # fmt: skip
@click.option("--by", type=click.Choice(USAGE_GROUPS), default="day", show_default=True)
@click.option("--agent", type=click.Choice(agents.names()), help="Only this agent's sessions.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per row.")
@index_option
@prices_option
@store_options
@quiet_log_option
def usage(**opts: Any) -> None:
    """Tokens and estimated cost by day, model, agent, project or session."""
    _run(_usage, opts)


def _usage(opts: dict[str, Any]) -> int:
    since = _since(opts["since"])
    store, index = open_for(opts, offline=True)
    refresh_or_warn(store, index)
    rows = index.usage(by=opts["by"], since=since, agent=opts["agent"])
    index.close()
    if opts["as_json"]:
        for row in rows:
            click.echo(json.dumps({opts["by"]: row.key, "messages": row.messages, **row.figures}))
        return 0
    if not rows:
        click.echo("no token usage recorded in that time", err=True)
        return 0
    _usage_table(opts["by"], rows)
    click.echo("costs are estimates from list prices (see docs/search.md)", err=True)
    return 0


TOKEN_KEYS = ("input", "output", "cache_read", "cache_write")


def _usage_table(by: str, rows: list[UsageTotal]) -> None:
    def cells(key: str, messages: int, figures: dict[str, float]) -> list[str]:
        tokens = [f"{figures.get(k, 0):,.0f}" for k in TOKEN_KEYS]
        return [printable(key)[:60], f"{messages:,}", *tokens, _cost(figures.get("cost_usd"))]

    total = {k: sum(r.figures.get(k, 0) for r in rows) for k in (*TOKEN_KEYS, "cost_usd")}
    if not any(r.figures.get("cost_usd") is not None for r in rows):
        del total["cost_usd"]
    table = [cells(r.key, r.messages, r.figures) for r in rows]
    table.append(cells("total", sum(r.messages for r in rows), total))
    headers = [by.upper(), "MESSAGES", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "COST"]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    for row in [headers, *table]:
        right = [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        click.echo("  ".join([row[0].ljust(widths[0]), *right]))


def _cost(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"
