"""The session list's filters and order (Query, shared by the dashboard, its API and
`ls`), and the summaries they select.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from uploader import agents
from uploader.core.errors import UsageError
from uploader.read.summaries import SessionSummary

SORT_KEYS = ("updated", "created", "title", "lines", "bytes", "segments", "agent")


@dataclass(frozen=True)
class Query:
    """The list's filters, shared by the dashboard, its API and `ls`."""

    text: str = ""
    agent: str = ""
    active_minutes: int | None = None
    sort: str = "updated"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.sort not in SORT_KEYS:
            raise UsageError(
                f"cannot sort by {self.sort!r}", f"choose one of: {', '.join(SORT_KEYS)}"
            )
        if self.agent and self.agent != "unknown" and agents.get(self.agent) is None:
            names = ", ".join(agents.names())
            raise UsageError(f"unknown agent {self.agent!r}", f"choose one of: {names}, unknown")
        if self.active_minutes is not None and self.active_minutes <= 0:
            raise UsageError(f"active minutes must be more than 0, not {self.active_minutes}")


def select(
    items: Iterable[SessionSummary], query: Query, now: float | None = None
) -> list[SessionSummary]:
    now = time.time() if now is None else now
    since = now - (query.active_minutes or 0) * 60
    text = query.text.casefold().strip()
    out = []
    for item in items:
        if query.agent and item.agent != query.agent:
            continue
        if query.active_minutes is not None and not item.live and not _recent(item, since):
            continue
        if text and not any(text in v.casefold() for v in (item.title, item.sid, item.label or "")):
            continue
        out.append(item)

    def key(item: SessionSummary) -> Any:
        if query.sort == "title":
            return item.title.casefold()
        if query.sort == "agent":
            return item.agent
        if query.sort in ("updated", "created"):
            return getattr(item, query.sort) or 0.0
        return getattr(item, query.sort)

    out.sort(key=lambda i: i.sid)
    out.sort(key=key, reverse=query.descending)
    return out


def _recent(item: SessionSummary, since: float) -> bool:
    return (item.updated or 0) >= since
