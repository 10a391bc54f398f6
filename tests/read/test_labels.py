"""Labels users give sessions (uploader.read.labels): kept in the store's labels.json,
unique in a store (whatever the case), never mistaken for a session id, and not lost to a
concurrent change where the store can tell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uploader.core.errors import Conflict, Damaged, EmptyLabel, LabelTaken, UsageError
from uploader.read.labels import (
    Labels,
    clean_label,
    load_labels,
    set_label,
    update_labels,
)
from uploader.storage.manifest import JSON_TYPE, LABELS_KEY
from uploader.stores.base import Store
from uploader.stores.local import LocalStore
from uploader.stores.s3 import S3Store

A, B = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a", "019ce1a2-7b3c-7d10-9e2f-3a4b5c6d7e8f"
SESSIONS: Labels = {A: "", B: ""}


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def stored(store: Store) -> Labels:
    data: Labels = json.loads(store.get(LABELS_KEY))
    return data


def test_a_label_is_kept_in_labels_json_and_removed_with_none(store: LocalStore) -> None:
    set_label(store, A, "orders pagination", SESSIONS)
    assert stored(store) == {A: "orders pagination"}
    assert load_labels(store) == {A: "orders pagination"}
    set_label(store, A, None, SESSIONS)
    assert stored(store) == {}


def test_a_label_another_session_holds_is_refused_whatever_its_case(store: LocalStore) -> None:
    set_label(store, A, "Orders", SESSIONS)
    with pytest.raises(LabelTaken):
        set_label(store, B, "orders", SESSIONS)
    assert stored(store) == {A: "Orders"}
    set_label(store, A, "ORDERS", SESSIONS)  # its own label, in another case
    assert stored(store) == {A: "ORDERS"}


def test_a_label_held_in_a_manifest_counts_too(store: LocalStore) -> None:
    with pytest.raises(LabelTaken):
        set_label(store, B, "imported", {A: "imported", B: ""})


def test_a_label_that_reads_as_a_session_id_is_refused(store: LocalStore) -> None:
    with pytest.raises(Conflict, match="reads as the id"):
        set_label(store, B, A[:8], SESSIONS)
    assert load_labels(store) == {}


def test_labels_of_sessions_gone_from_the_store_are_dropped(store: LocalStore) -> None:
    store.put(LABELS_KEY, json.dumps({"gone-session": "old", A: "kept"}).encode(), JSON_TYPE)
    set_label(store, B, "new", SESSIONS)
    assert stored(store) == {A: "kept", B: "new"}


def test_a_damaged_labels_file_is_reported_not_replaced(store: LocalStore) -> None:
    store.put(LABELS_KEY, b"{not json", JSON_TYPE)
    with pytest.raises(Damaged, match=r"labels\.json"):
        set_label(store, A, "x", SESSIONS)
    assert store.get(LABELS_KEY) == b"{not json"


@pytest.mark.parametrize(
    ("text", "label"),
    [("  orders\n pagination\t", "orders pagination"), ("é 中文", "é 中文")],
)
def test_a_label_is_one_line_of_single_spaces(text: str, label: str) -> None:
    assert clean_label(text) == label


@pytest.mark.parametrize("text", ["bad\x1b[31m", "bidi \u202e", "x" * 201])
def test_a_label_a_terminal_would_act_on_or_too_long_is_refused(text: str) -> None:
    with pytest.raises(UsageError):
        clean_label(text)
    with pytest.raises(EmptyLabel):
        clean_label(" \n ")


def test_a_concurrent_change_is_not_lost_where_the_store_can_tell(s3_store: S3Store) -> None:
    """Between the read and the write of labels.json another program writes it: the
    conditional write fails, and the change is made again over the newer file."""
    attempts = 0

    def change(labels: Labels) -> Labels:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            s3_store.put(LABELS_KEY, json.dumps({B: "theirs"}).encode(), JSON_TYPE)
        return {**labels, A: "ours"}

    update_labels(s3_store, change)
    assert attempts == 2
    assert stored(s3_store) == {A: "ours", B: "theirs"}
