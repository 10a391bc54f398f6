"""The commands that change the store: `label` and `delete`.

Like the reading commands they settle everything that can fail first; `delete` asks
before it removes anything (or takes --yes) and keeps a copy under archive/.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from uploader.cli.app import _run, main
from uploader.cli.options import option, quiet_log_option, store_options
from uploader.cli.sessions import _open, _session_flag_options, session_options
from uploader.core import settings
from uploader.core.errors import UsageError, UserError
from uploader.core.terminal import printable
from uploader.read.catalog import Catalog
from uploader.read.labels import clean_label, set_label
from uploader.read.removal import ARCHIVE_PREFIX, own_writer, released_by_spool, remove_session
from uploader.read.summaries import title_of
from uploader.storage import manifest as mf
from uploader.storage.reading import load_manifest, plan
from uploader.stores import Store

# -- label ------------------------------------------------------------------------------


@main.command()
@click.argument("words", metavar="[SID] [TEXT]", nargs=-1)
@_session_flag_options
@click.option("--clear", is_flag=True, help="Remove the session's label.")
@store_options
@quiet_log_option
def label(**opts: Any) -> None:
    """Give a session a label, unique in the store: `label SID TEXT`, or
    `label --sid ID TEXT`; `label SID --clear` removes it.

    The label is shown as its title everywhere.
    Other commands then take --label TEXT wherever they take --sid.
    """
    _run(_label, opts)


def _label(opts: dict[str, Any]) -> int:
    words = list(opts["words"])
    by_flag = opts["sid"] is not None or opts["label"] is not None
    if len(words) > (1 if by_flag else 2):
        raise UsageError(f"too many words: {' '.join(words)!r}", "quote a label with spaces")
    opts["session"] = None if by_flag or not words else words.pop(0)
    opts["text"] = words[0] if words else None
    if opts["clear"] == (opts["text"] is not None):
        raise UsageError("give the label TEXT, or --clear to remove it", "label SID TEXT")
    text = None if opts["clear"] else clean_label(opts["text"])
    store, sid = _open(opts)
    catalog = Catalog(store)
    sessions = {i.sid: i.label or "" for i in catalog.sessions(wait=True)}
    if catalog.last_error:
        raise UserError(catalog.last_error, "check --store and try again")
    set_label(store, sid, text, sessions)
    click.echo(f"labelled {sid} {text!r}" if text else f"removed the label of {sid}", err=True)
    return 0


# -- delete -----------------------------------------------------------------------------


@main.command()
@session_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--no-archive", is_flag=True, help="Keep no copy under archive/.")
@click.option(
    "--force",
    is_flag=True,
    help=f"Delete a session that is still open and was written in the last "
    f"{mf.ACTIVE_WINDOW_S // 60} minutes (a watch elsewhere may be writing it).",
)
@option(
    settings.SPOOL_DIR,
    help="The spool of this machine's `watch`: a session it is writing is refused.",
)
@option(
    settings.STATE_DIR,
    help="That watch's --state-dir, if it has one.  [default: <spool-dir>/state]",
)
@store_options
@quiet_log_option
def delete(**opts: Any) -> None:
    """Remove a session from the store (after asking; a copy is kept).

    The copy goes under archive/ unless --no-archive.
    A session that a running `watch` on this machine is writing is refused.
    """
    _run(_delete, opts)


def _delete(opts: dict[str, Any]) -> int:
    store, sid = _open(opts)
    spool_dir = opts["spool_dir"].expanduser()
    state_dir = opts["state_dir"].expanduser() if opts["state_dir"] else None
    with released_by_spool(spool_dir, state_dir, sid) as in_spool:
        if not opts["force"]:
            _refuse_if_written(store, sid, mine=own_writer(spool_dir))
        if not opts["yes"]:
            _confirm_delete(store, sid, archive=not opts["no_archive"], in_spool=in_spool)
        removed = remove_session(store, sid, archive=not opts["no_archive"])
    message = f"deleted {sid}: {removed.objects} objects from {store.description}"
    if removed.archive:
        archive = removed.archive.rstrip("/")
        message += f"; a copy is kept under {archive}/ (read it with --store <store>/{archive})"
    click.echo(message, err=True)
    return 0


def _refuse_if_written(store: Store, sid: str, *, mine: str | None) -> None:
    """A watch elsewhere (another machine, another spool) would write the manifest back,
    naming segments that are gone. This machine's own watch is stopped by now (its spool
    is held), so a session only it wrote may go."""
    try:
        manifest = load_manifest(store, sid)
    except UserError:
        return  # a damaged session may be deleted
    if manifest.being_written() and manifest.writer != mine:
        age = manifest.seconds_since_update() or 0.0
        writer = manifest.writer or "a watch"
        raise UserError(
            f"session {sid} is still open and was written {age / 60:.0f} min ago by {writer}",
            "stop that watch first; or pass --force to delete it anyway (a watch that goes "
            "on writing it will then upload an incomplete session)",
        )


def _confirm_delete(store: Store, sid: str, *, archive: bool, in_spool: bool) -> None:
    if not sys.stdin.isatty():
        raise UsageError(f"not deleting {sid} without confirmation", "pass --yes")
    try:
        manifest = load_manifest(store, sid)
        title = printable(title_of(manifest))
        what = f"'{title}', {plan(manifest, all_generations=True).lines:,} lines"
        if not manifest.closed:
            what += ", still open: a watch elsewhere may still be writing it"
    except UserError:
        what = "its manifest cannot be read"
    keep = f"a copy goes to {ARCHIVE_PREFIX}/" if archive else "no copy is kept"
    local = "; this machine's spool forgets it too" if in_spool else ""
    question = f"Delete session {sid} ({what}) from {store.description}? ({keep}{local})"
    if not click.confirm(question, default=False, err=True):
        raise UserError("nothing deleted")
