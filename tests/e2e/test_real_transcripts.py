"""Every real transcript (tests/fixtures/real, SOURCES.md) through the real uploader.

Each file is copied outside the agents' folders (so only its content says which agent
wrote it) and uploaded by `snapshot` in small segments (so messages and Codex totals are
split across segments). Then, per file: the session restores byte for byte; it has the
checkpoints its compaction lines make; the agent and working directory its lines name;
a title that is words, not markup, a channel envelope or injected context; segment times
inside the transcript's own time span; token totals (manifest, `/api/sessions/{sid}`,
the list API) equal to a de-duplicated sum computed here, independently of the parsers;
and pages without empty cards.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePath

import pytest

import uploader
from tests.support.real_sessions import REAL, RealSession, expected_usage, objects, real_sessions
from tests.support.uiclient import TestClient
from ui.app import UIConfig, create_app
from ui.service import Sessions
from uploader.agents import line_timestamp, read_early_meta
from uploader.agents.usage import USAGE_KEYS, UsageCounter, segment_usage
from uploader.read.summaries import summarize
from uploader.storage.manifest import Manifest
from uploader.stores.local import LocalStore
from uploader.write.segment import SegmentLimits

SESSIONS = real_sessions()
SMALL = SegmentLimits(max_bytes=64 << 10, max_lines=150)


def ids(s: RealSession) -> str:
    return s.path.name[:44]


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("real")
    root = base / "store"
    store = LocalStore(root)
    for s in SESSIONS:
        copy = base / "elsewhere" / s.path.relative_to(REAL)  # not below ~/.claude etc.
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(s.path, copy)
        assert uploader.snapshot(store, copy, s.sid, limits=SMALL, redact=False), s.path
    return root


@pytest.fixture(scope="module")
def client(store_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Sessions(LocalStore(store_root)), UIConfig())) as c:
        yield c


def manifest_of(root: Path, sid: str) -> Manifest:
    path = root / "sessions" / sid / "manifest.json"
    return Manifest.parse(path.read_bytes(), str(path))


# -- what the lines say, read here without the uploader's parsers -----------------------


def compactions(s: RealSession) -> int:
    n = 0
    for obj in objects(s):
        kind = obj.get("type")
        if kind in ("compacted", "compaction") or (
            kind == "system" and obj.get("subtype") == "compact_boundary"
        ):
            n += 1
    return n


def cwd_of(s: RealSession) -> str | None:
    for obj in objects(s):
        payload = obj.get("payload")
        if obj.get("type") == "session_meta" and isinstance(payload, dict):
            return str(payload.get("cwd"))
        if isinstance(obj.get("cwd"), str):
            return str(obj["cwd"])
    return None


def time_span(s: RealSession) -> tuple[float, float]:
    times = []
    for obj in objects(s):
        value = obj.get("timestamp", obj.get("ts"))
        if isinstance(value, str):
            when = datetime.fromisoformat(value)
            times.append((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
        elif isinstance(value, int | float):
            times.append(value / 1000 if value > 1e11 else value)
    return min(times), max(times)


def four(usage: dict[str, float] | None) -> dict[str, float]:
    return {k: (usage or {}).get(k, 0) for k in USAGE_KEYS}


# -- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize("s", SESSIONS, ids=ids)
def test_round_trip_is_byte_exact(store_root: Path, s: RealSession, tmp_path: Path) -> None:
    out = tmp_path / "restored.jsonl"
    assert uploader.restore(LocalStore(store_root), s.sid, out) is True
    assert out.read_bytes() == s.path.read_bytes()


@pytest.mark.parametrize("s", SESSIONS, ids=ids)
def test_checkpoints_agent_and_folder(store_root: Path, s: RealSession) -> None:
    manifest = manifest_of(store_root, s.sid)
    assert len(manifest.checkpoints) == compactions(s)
    assert manifest.source.agent == s.agent
    assert manifest.source.cwd == cwd_of(s)
    if "-agent-" in s.sid:  # a Claude Code subagent names its parent
        assert manifest.source.extra.get("parent") == s.sid.split("-agent-")[0]
        assert summarize(manifest).parent == s.sid.split("-agent-")[0]
    else:
        assert "parent" not in manifest.source.extra


_NOT_A_TITLE = re.compile(
    r"^(<|System: \[|\[Telegram|A new session was started|# AGENTS\.md)|\[message_id:"
)


@pytest.mark.parametrize("s", SESSIONS, ids=ids)
def test_title_is_words(store_root: Path, s: RealSession) -> None:
    title = summarize(manifest_of(store_root, s.sid)).title
    assert title and title != s.sid
    assert not _NOT_A_TITLE.search(title), title


@pytest.mark.parametrize("s", SESSIONS, ids=ids)
def test_segment_times_are_the_transcripts_own(store_root: Path, s: RealSession) -> None:
    first, last = time_span(s)
    manifest = manifest_of(store_root, s.sid)
    assert len(manifest.segments) >= 1
    for seg in manifest.segments:
        assert seg.first_ts is not None and seg.last_ts is not None
        assert int(first) <= seg.first_ts <= seg.last_ts <= last, (seg.seq, first, last)


@pytest.mark.parametrize("s", SESSIONS, ids=ids)
def test_token_totals_count_each_message_once(
    store_root: Path, client: TestClient, s: RealSession
) -> None:
    expected = expected_usage(s)
    whole, _ = segment_usage(s.path.read_bytes(), s.agent)
    assert four(whole) == pytest.approx(expected)
    # Summed from the segments' records: a message split over two segments counts once.
    assert four(manifest_of(store_root, s.sid).usage()) == pytest.approx(expected)
    # The session's API, from its lines; the list's, from the manifest.
    assert four(client.get(f"/api/sessions/{s.sid}").json()["usage"]) == pytest.approx(expected)
    listed = client.get("/api/sessions", params={"limit": 1000}).json()["sessions"]
    mine = next(item for item in listed if item["sid"] == s.sid)
    assert four(mine["usage"]) == pytest.approx(expected)


@pytest.mark.parametrize("s", SESSIONS, ids=ids)
@pytest.mark.parametrize("chunk", [1, 97, 4096, 1 << 20])
def test_usage_counted_in_chunks_is_the_whole_files(s: RealSession, chunk: int) -> None:
    """A segment is counted as it is gzipped, a MiB at a time (lines cut anywhere, a line
    longer than a chunk): the figures are the whole file's, carry included."""
    data = s.path.read_bytes()
    counter = UsageCounter(s.agent)
    for at in range(0, len(data), chunk):
        counter.feed(data[at : at + chunk])
    assert counter.result() == segment_usage(data, s.agent)


def test_a_claude_message_split_over_lines_counts_its_final_output() -> None:
    """The issue's case: the first line of a message says 128 output tokens, the last the
    final figure; the total is the final one."""
    s = next(s for s in SESSIONS if s.sid == "258c7280-ae70-4798-800f-63464d01a85d")
    expected = expected_usage(s)
    first_lines_only: dict[tuple[str, str], float] = {}
    for obj in objects(s):
        msg = obj.get("message")
        if obj.get("type") == "assistant" and isinstance(msg, dict) and "usage" in msg:
            key = (str(msg.get("id")), str(obj.get("requestId")))
            first_lines_only.setdefault(key, msg["usage"].get("output_tokens", 0))
    assert expected["output"] > sum(first_lines_only.values())


@pytest.mark.parametrize("s", SESSIONS, ids=ids)
def test_first_page_has_no_empty_cards(client: TestClient, s: RealSession) -> None:
    response = client.get(f"/s/{s.sid}")
    assert response.status_code == 200
    page = response.text
    for empty in (r'<div class="md">\s*</div>', r'<pre class="(text|code)"></pre>',
                  r"<summary></summary>"):  # fmt: skip
        assert not re.search(empty, page), empty
    assert 'class="entry k-raw' not in page


def test_a_message_split_over_two_segments_counts_once() -> None:
    """Cut the file between two lines of one API message: the second segment's count
    goes on from the first's carry and the two add up to the whole; counted from
    scratch, they would not."""
    s = next(s for s in SESSIONS if s.sid == "258c7280-ae70-4798-800f-63464d01a85d")
    data = s.path.read_bytes()
    lines = data.splitlines(keepends=True)
    previous, cut, offset = None, None, 0
    for line in lines:
        obj = json.loads(line)
        msg = obj.get("message")
        key = msg.get("id") if obj.get("type") == "assistant" and "usage" in msg else None
        if key is not None and key == previous:
            cut = offset
            break
        previous = key if key is not None else previous
        offset += len(line)
    assert cut is not None
    whole, _ = segment_usage(data, "claude")
    head, carry = segment_usage(data[:cut], "claude")
    tail, _ = segment_usage(data[cut:], "claude", carry)
    fresh, _ = segment_usage(data[cut:], "claude")
    assert four(whole) == pytest.approx({k: four(head)[k] + four(tail)[k] for k in USAGE_KEYS})
    assert four(head)["input"] + four(fresh)["input"] != four(whole)["input"]


def test_the_session_page_shows_totals_and_a_cost_estimate(client: TestClient) -> None:
    page = client.get("/s/258c7280-ae70-4798-800f-63464d01a85d").text
    totals = re.search(r'<dd id="totals">(.*?)</dd>', page, re.S)
    assert totals is not None
    assert "≈ $" in totals.group(1) and "at list prices" in totals.group(1)
    # pi records its own cost: shown as it is.
    pi = next(s for s in SESSIONS if s.agent == "pi" and s.sid.startswith("5fd1e58c"))
    shown = re.search(r'<dd id="totals">(.*?)</dd>', client.get(f"/s/{pi.sid}").text, re.S)
    assert shown is not None and "$" in shown.group(1)


def test_a_timestamp_is_found_after_a_large_message() -> None:
    big = "x" * 200_000
    line = (
        f'{{"type":"user","message":{{"content":"{big} '
        f'\\"timestamp\\":\\"2001-01-01T00:00:00Z\\""}},'
        f'"uuid":"u","timestamp":"2026-04-20T16:05:00.000Z","toolUseResult":{{"a":1}}}}'
    ).encode()
    assert line_timestamp(line) == datetime(2026, 4, 20, 16, 5, tzinfo=UTC).timestamp()
    assert line_timestamp(b'{"a":"' + b"y" * 5000 + b'","ts":1773479526000}') == 1773479526.0
    assert line_timestamp(b'{"a":"\\"timestamp\\":\\"2026-01-01T00:00:00Z\\""}') is None


def test_metadata_comes_from_the_first_lines_that_carry_it() -> None:
    head = (
        b'{"type":"summary","summary":"Old work","leafUuid":"x"}\n'
        b'{"type":"file-history-snapshot","messageId":"m","snapshot":{}}\n'
        b'{"type":"queue-operation","operation":"enqueue","sessionId":"s"}\n'
        b'{"type":"user","sessionId":"s","uuid":"u","cwd":"/w","gitBranch":"main",'
        b'"timestamp":"2026-04-20T16:05:00Z","message":{"role":"user","content":"hi"}}\n'
    )
    meta = read_early_meta(PurePath("/tmp/anywhere/file.jsonl"), head)
    assert (meta.agent, meta.cwd, meta.git_branch, meta.first_line_id) == (
        "claude",
        "/w",
        "main",
        "s",
    )
    assert meta.parsed
    # Not known yet and fewer than EARLY_LINES lines: asked again as the file grows.
    partial = read_early_meta(PurePath("/tmp/x.jsonl"), head.split(b"\n", 1)[0] + b"\n")
    assert partial.agent == "claude" and partial.cwd is None and not partial.parsed


def recorded_cost(s: RealSession) -> float:
    """What OpenClaw and pi wrote that their messages cost (usage.cost.total)."""
    total = 0.0
    for obj in objects(s):
        msg = obj.get("message")
        if isinstance(msg, dict) and msg.get("role") == "assistant":
            cost = (msg.get("usage") or {}).get("cost")
            if isinstance(cost, dict) and isinstance(cost.get("total"), int | float):
                total += cost["total"]
    return total


def dollars(text: str) -> float:
    found = re.search(r"\$([\d,]+\.\d+)", text)
    assert found is not None, text
    return float(found.group(1).replace(",", ""))


@pytest.mark.parametrize("s", SESSIONS, ids=ids)
def test_the_sessions_list_shows_each_sessions_tokens_and_cost(
    client: TestClient, s: RealSession
) -> None:
    page = client.get("/", params={"limit": 500}).text
    row = re.search(
        rf'<a href="/s/{re.escape(s.sid)}">.*?<td class="num tokens"[^>]*>(.*?)</td>\s*'
        r'<td class="num cost"[^>]*>(.*?)</td>',
        page,
        re.S,
    )
    assert row is not None, s.sid
    tokens, cost = row.group(1), row.group(2)
    assert tokens == f"{int(sum(expected_usage(s).values())):,}"
    # The list's figures (summed from the segments' records) are the session's own.
    listed = next(
        item
        for item in client.get("/api/sessions", params={"limit": 1000}).json()["sessions"]
        if item["sid"] == s.sid
    )["usage"]
    whole = client.get(f"/api/sessions/{s.sid}").json()["usage"]
    for key in ("cost_usd", "estimate_usd", "unpriced"):
        assert listed.get(key, 0) == pytest.approx(whole.get(key, 0)), key
    assert listed.get("cost_usd", 0) == pytest.approx(recorded_cost(s))
    value = listed.get("cost_usd", 0) + listed.get("estimate_usd", 0)
    if listed.get("estimate_usd"):
        assert cost.startswith("≈ $")
    if value:
        assert dollars(cost) == pytest.approx(value, abs=0.01 if value >= 1 else 0.0001)
    assert cost.endswith("?") == bool(listed.get("unpriced"))
