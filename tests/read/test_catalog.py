"""The session list of one store (uploader.read.catalog): summaries read from the
manifests, the list's filters and sort, and a session found by id, id prefix or label,
as `ls`, `replay --sid` and the dashboard find it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.session_factory import populated_store, write_session
from tests.support.transcripts import (
    CLAUDE_SID,
    CODEX_SID,
    HOSTILE_SID,
    OPENCLAW_SID,
    PI_SID,
    claude_lines,
)
from uploader.core.errors import Ambiguous, SessionNotFound, SessionNotNamed, UsageError
from uploader.read.catalog import Catalog
from uploader.read.finding import find_session
from uploader.read.labels import set_label
from uploader.read.listing import Query, select
from uploader.read.summaries import list_sids
from uploader.stores.local import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    populated_store(store)
    return store


def test_every_session_is_listed_with_its_summary(store: LocalStore) -> None:
    by_sid = {s.sid: s for s in Catalog(store).sessions(wait=True)}
    assert set(by_sid) == {CODEX_SID, CLAUDE_SID, OPENCLAW_SID, PI_SID, HOSTILE_SID}
    claude = by_sid[CLAUDE_SID]
    assert claude.title == "Add pagination to /orders"  # its first user message
    assert claude.agent == "claude" and claude.closed
    assert claude.lines == len(claude_lines()) and claude.checkpoints == 1
    assert by_sid[CODEX_SID].agent == "codex" and not by_sid[CODEX_SID].closed


def test_the_lists_filters_and_sort(store: LocalStore) -> None:
    items = Catalog(store).sessions(wait=True)
    assert [i.sid for i in select(items, Query(agent="codex"))] == [CODEX_SID]
    assert [i.sid for i in select(items, Query(text="OFFSET=-1"))] == [PI_SID]
    titles = [i.title for i in select(items, Query(sort="title", descending=False))]
    assert titles == sorted(titles, key=str.casefold)
    with pytest.raises(UsageError, match="cannot sort by"):
        Query(sort="colour")
    with pytest.raises(UsageError, match="unknown agent"):
        Query(agent="nobody")


def test_a_session_is_found_by_id_prefix_or_label(store: LocalStore) -> None:
    set_label(store, PI_SID, "negative offset", {s: "" for s in list_sids(store)})
    catalog = Catalog(store)
    assert catalog.resolve(CODEX_SID) == CODEX_SID
    assert catalog.resolve(CLAUDE_SID[:6]) == CLAUDE_SID
    assert catalog.resolve("Negative Offset") == PI_SID
    with pytest.raises(SessionNotFound):
        catalog.resolve("no-such-session")
    assert find_session(store, OPENCLAW_SID[:5]) == OPENCLAW_SID
    assert find_session(store, label="negative offset") == PI_SID
    with pytest.raises(SessionNotNamed):
        find_session(store)


def test_a_prefix_of_several_sessions_is_ambiguous(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    for sid in ("abc-1", "abc-2"):
        write_session(store, sid, claude_lines()[:3])
    with pytest.raises(Ambiguous):
        Catalog(store).resolve("abc")
    with pytest.raises(Ambiguous):
        find_session(store, "abc")


def test_a_session_deleted_after_listing_is_not_found_and_leaves_the_list(
    store: LocalStore,
) -> None:
    catalog = Catalog(store)
    assert len(catalog.sessions(wait=True)) == 5
    store.delete(list(store.list(f"sessions/{PI_SID}/")))
    with pytest.raises(SessionNotFound):
        catalog.manifest(PI_SID)
    assert PI_SID not in {s.sid for s in catalog.sessions()}


def test_keys_no_session_can_have_are_left_out(store: LocalStore) -> None:
    store.root.joinpath("sessions", "bad\x07name").mkdir()
    store.root.joinpath("sessions", "bad\x07name", "manifest.json").write_bytes(b"{}")
    assert "sessions/bad\x07name/manifest.json" in set(store.list("sessions/"))  # listed
    assert set(list_sids(store)) == {CODEX_SID, CLAUDE_SID, OPENCLAW_SID, PI_SID, HOSTILE_SID}
