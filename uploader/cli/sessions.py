"""What the session commands share: naming the session a command acts on (a SID argument,
--sid or --label) and finding it in the store.

The commands themselves: `read_commands` (replay, reload, verify, ls: they never write the
store) and `change_commands` (label, delete); `export` takes its session the same way.
"""

from __future__ import annotations

from typing import Any

import click

from uploader.cli.options import _apply, store_from_opts
from uploader.cli.watching import check_readable
from uploader.core.errors import UsageError
from uploader.read.finding import find_session
from uploader.stores import Store


def session_options(fn: Any) -> Any:
    """The session a command acts on: `SID` as its argument (as `git show` takes a
    commit), or --sid / --label."""
    return _apply(
        fn,
        [
            click.argument("session", metavar="[SID]", required=False),
            *_session_flags(),
        ],
    )


def _session_flags() -> list[Any]:
    return [
        click.option(
            "--sid",
            metavar="ID",
            help="The session: its id, or the first characters of it (or its label); "
            "the same as the SID argument.",
        ),
        click.option("--label", metavar="TEXT", help="The session with this label."),
    ]


def _named(opts: dict[str, Any]) -> str | None:
    """The session the command line names: the SID argument or --sid (not both)."""
    positional: str | None = opts.get("session")
    flag: str | None = opts["sid"]
    if positional and flag and positional != flag:
        raise UsageError(
            f"two sessions given: {positional!r} and --sid {flag!r}", "give one of them"
        )
    return positional or flag


def _session_flag_options(fn: Any) -> Any:
    return _apply(fn, _session_flags())


def _open(opts: dict[str, Any]) -> tuple[Store, str]:
    store = store_from_opts(opts)
    check_readable(store)
    return store, find_session(store, _named(opts), label=opts["label"])
