"""The dashboard's JSON API, /healthz, /metrics and its guard, through Starlette's TestClient,
over a store holding the four agent formats and the hostile session (populated_store)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.live_spool import LIVE_SID, LiveFixture
from tests.support.session_factory import FIXTURE_SESSIONS, populated_store, write_session
from tests.support.transcripts import (
    CLAUDE_SID,
    CODEX_SID,
    HOSTILE_SID,
    OPENCLAW_SID,
    PI_SID,
    claude_lines,
    codex_lines,
)
from tests.support.uiclient import TestClient
from ui import api
from ui.app import UIConfig, create_app
from ui.service import Sessions
from uploader.agents.transcript import KINDS
from uploader.stores.local import LocalStore
from uploader.write.live import LiveSessions

ALL_SIDS = list(FIXTURE_SESSIONS)
SEG_LINES = 7


def source_lines(sid: str) -> list[bytes]:
    return FIXTURE_SESSIONS[sid][0]()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RecordingStore(LocalStore):
    """A LocalStore that remembers every key asked for."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.keys: list[str] = []

    def get(self, key: str) -> bytes:
        self.keys.append(key)
        return super().get(key)

    def list(self, prefix: str) -> Iterator[str]:
        self.keys.append(prefix)
        return super().list(prefix)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ui-api") / "store"
    store = LocalStore(root)
    populated_store(store, seg_lines=SEG_LINES)
    now = time.time()
    # Sessions for the "active in the last N minutes" filter and for resolving by label.
    write_session(store, "recent-aaaa", claude_lines()[:3], agent="claude",
                  updated_at=iso(now - 5 * 60), extra={"label": "orders-work"})  # fmt: skip
    write_session(store, "older-bbbb", codex_lines()[:4], updated_at=iso(now - 2 * 3600))
    return root


@pytest.fixture(scope="module")
def manifests(store_dir: Path) -> dict[str, dict[str, Any]]:
    return {
        sid: json.loads((store_dir / "sessions" / sid / "manifest.json").read_bytes())
        for sid in ALL_SIDS
    }


@pytest.fixture(scope="module")
def client(store_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Sessions(LocalStore(store_dir)), UIConfig())) as c:
        yield c


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    message: str = response.json()["error"]
    return message


# -- /api/sessions -------------------------------------------------------------------------


def test_list_has_every_session_with_its_summary(client: TestClient) -> None:
    body = client.get("/api/sessions").json()
    assert body["total"] == 7
    assert (body["offset"], body["limit"]) == (0, 50)
    by_sid = {s["sid"]: s for s in body["sessions"]}
    assert set(ALL_SIDS) <= set(by_sid)
    agents = {sid: by_sid[sid]["agent_name"] for sid in ALL_SIDS}
    assert agents == {CODEX_SID: "Codex", CLAUDE_SID: "Claude Code", OPENCLAW_SID: "OpenClaw",
                      PI_SID: "pi", HOSTILE_SID: "Claude Code"}  # fmt: skip
    assert by_sid[CODEX_SID]["title"] == "Add pagination to /orders (limit/offset, default 50)"
    assert by_sid[CODEX_SID]["lines"] == len(codex_lines())
    assert by_sid[CODEX_SID]["live"] is False
    assert by_sid["recent-aaaa"]["label"] == "orders-work"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=pagination", {CODEX_SID, CLAUDE_SID}),
        ("q=PAGINATION", {CODEX_SID, CLAUDE_SID}),  # case-insensitive
        ("q=7d3f9a10", {OPENCLAW_SID}),  # part of an id
        ("q=hostile", {HOSTILE_SID}),
        ("q=orders-work", {"recent-aaaa"}),  # the label
        ("q=no-such-thing", set()),
        ("agent=codex", {CODEX_SID, "older-bbbb"}),
        ("agent=claude", {CLAUDE_SID, HOSTILE_SID, "recent-aaaa"}),
        ("agent=openclaw", {OPENCLAW_SID}),
        ("agent=pi", {PI_SID}),
        ("agent=unknown", set()),
        ("active=10", {"recent-aaaa"}),
        ("active=180", {"recent-aaaa", "older-bbbb"}),
        ("q=pagination&agent=claude", {CLAUDE_SID}),
        ("agent=codex&active=180", {"older-bbbb"}),
    ],
)
def test_list_filters(client: TestClient, query: str, expected: set[str]) -> None:
    body = client.get(f"/api/sessions?{query}").json()
    assert {s["sid"] for s in body["sessions"]} == expected
    assert body["total"] == len(expected)


def test_list_sort_keys_and_order(client: TestClient) -> None:
    def sids(query: str) -> list[str]:
        return [s["sid"] for s in client.get(f"/api/sessions?{query}").json()["sessions"]]

    newest_first = sids("")
    assert newest_first[:2] == ["recent-aaaa", "older-bbbb"]  # sort=updated, desc by default
    assert sids("sort=updated&order=asc") == newest_first[::-1]
    for key in ("updated", "created", "title", "lines", "bytes", "segments", "agent"):
        for order in ("asc", "desc"):
            items = client.get(f"/api/sessions?sort={key}&order={order}").json()["sessions"]
            assert len(items) == 7
            values = [s["title"].casefold() if key == "title" else s[key] or 0 for s in items]
            assert values == sorted(values, reverse=order == "desc"), (key, order)
    assert sids("sort=bytes")[0] == HOSTILE_SID  # the 5 MB line


def test_list_limit_and_offset(client: TestClient) -> None:
    everything = [s["sid"] for s in client.get("/api/sessions?sort=title").json()["sessions"]]
    pages = []
    for offset in range(0, 7, 3):
        body = client.get(f"/api/sessions?sort=title&limit=3&offset={offset}").json()
        assert (body["total"], body["limit"], body["offset"]) == (7, 3, offset)
        pages += [s["sid"] for s in body["sessions"]]
    assert pages == everything
    assert client.get("/api/sessions?offset=100").json()["sessions"] == []


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("sort=colour", "colour"),
        ("order=sideways", "sideways"),
        ("agent=cursor", "cursor"),
        ("active=0", "active=0"),
        ("active=soon", "soon"),
        ("limit=0", "limit=0"),
        ("limit=5000", "limit=5000"),
        ("limit=ten", "ten"),
        ("offset=-1", "offset=-1"),
    ],
)
def test_list_bad_parameters_are_400_naming_the_value(
    client: TestClient, query: str, named: str
) -> None:
    assert named in error_of(client.get(f"/api/sessions?{query}"), 400)


# -- /api/sessions/{sid} -------------------------------------------------------------------


@pytest.mark.parametrize("sid", ALL_SIDS)
def test_one_session_summary(
    client: TestClient, manifests: dict[str, dict[str, Any]], sid: str
) -> None:
    body = client.get(f"/api/sessions/{sid}").json()
    lines = source_lines(sid)
    summary = body["summary"]
    assert summary["sid"] == sid
    assert summary["lines"] == body["lines"] == len(lines)
    assert summary["bytes"] == sum(len(line) for line in lines)
    assert summary["segments"] == len(manifests[sid]["segments"]) >= 2
    assert summary["checkpoints"] == len(manifests[sid]["checkpoints"])
    assert summary["agent"] == {HOSTILE_SID: "claude", CODEX_SID: "codex", CLAUDE_SID: "claude",
                                OPENCLAW_SID: "openclaw", PI_SID: "pi"}[sid]  # fmt: skip
    assert body["generation"] == 1
    assert [s["seq"] for s in body["manifest"]["segments"]] == [
        s["seq"] for s in manifests[sid]["segments"]
    ]
    assert all("local" not in s for s in body["manifest"]["segments"])


def test_one_session_unknown_is_404(client: TestClient) -> None:
    assert "no-such-session" in error_of(client.get("/api/sessions/no-such-session"), 404)


# -- /api/sessions/{sid}/lines ---------------------------------------------------------------


def test_lines_across_segment_boundaries_equal_the_source(client: TestClient) -> None:
    lines = codex_lines()
    body = client.get(f"/api/sessions/{CODEX_SID}/lines?start=5&limit=12").json()
    assert (body["start"], body["limit"], body["total"]) == (5, 12, len(lines))
    assert [x["line"] for x in body["lines"]] == list(range(5, 17))  # segments 1, 2 and 3
    assert [x["text"] for x in body["lines"]] == [b.decode() for b in lines[5:17]]


@pytest.mark.parametrize("sid", ALL_SIDS)
def test_all_lines_of_every_session(client: TestClient, sid: str) -> None:
    lines = source_lines(sid)
    body = client.get(f"/api/sessions/{sid}/lines?limit=1000").json()
    assert len(body["lines"]) == len(lines)
    for x, source in zip(body["lines"], lines, strict=True):
        whole = source.decode("utf-8", "replace")
        if len(whole) <= 64 << 10:
            assert x["text"] == whole and "truncated" not in x
        else:  # the 5 MB line: its first 64 KiB, and where the whole of it is
            assert x["truncated"] is True and x["bytes"] == len(source)
            assert x["text"] == whole[: 64 << 10]
            assert client.get(x["url"]).content == source


def test_lines_default_page_and_past_the_end(client: TestClient) -> None:
    body = client.get(f"/api/sessions/{CODEX_SID}/lines").json()
    assert body["limit"] == 200 and len(body["lines"]) == len(codex_lines())
    assert client.get(f"/api/sessions/{CODEX_SID}/lines?start=999").json()["lines"] == []


def test_lines_up_to_a_checkpoint(client: TestClient, manifests: dict[str, dict[str, Any]]) -> None:
    for sid in (CODEX_SID, CLAUDE_SID, OPENCLAW_SID, PI_SID):
        lines = source_lines(sid)
        cp = manifests[sid]["checkpoints"][0]
        before = sum(s["lines"] for s in manifests[sid]["segments"] if s["seq"] < cp["seq"])
        expected = before + cp["line_idx"]
        assert 0 < expected < len(lines)
        body = client.get(f"/api/sessions/{sid}/lines?checkpoint={cp['id']}&limit=1000").json()
        assert body["total"] == expected
        assert body["checkpoint"] == cp["id"]
        assert [x["text"] for x in body["lines"]] == [b.decode() for b in lines[:expected]]
        # A unique prefix of the id will do.
        prefix = client.get(f"/api/sessions/{sid}/lines?checkpoint={cp['id'][:-2]}").json()
        assert prefix["total"] == expected


def test_checkpoint_inside_a_segment_cuts_at_its_line(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    lines = claude_lines()
    manifest = write_session(store, "cut-session", lines, seg_lines=5)
    second = manifest["segments"][1]
    assert second["lines"] == 5  # add a checkpoint at its line 2
    manifest["checkpoints"].append({"id": "mid-point", "label": "mid", "seq": second["seq"],
                                    "line_idx": 2, "git": None, "ts": 1773478800})  # fmt: skip
    store.put("sessions/cut-session/manifest.json", json.dumps(manifest).encode(), "x")
    with TestClient(create_app(Sessions(store))) as c:
        body = c.get("/api/sessions/cut-session/lines?checkpoint=mid-point&limit=100").json()
        assert body["total"] == 5 + 2
        assert [x["text"] for x in body["lines"]] == [b.decode() for b in lines[:7]]
        download = c.get("/api/sessions/cut-session/download?checkpoint=mid-point")
        assert download.content == b"".join(lines[:7])


def test_unknown_checkpoint_is_404(client: TestClient) -> None:
    error = error_of(client.get(f"/api/sessions/{CODEX_SID}/lines?checkpoint=nope"), 404)
    assert "nope" in error


def test_parsed_lines_have_kinds(client: TestClient) -> None:
    body = client.get(f"/api/sessions/{CLAUDE_SID}/lines?format=parsed&limit=1000").json()
    entries = body["entries"]
    kinds = {e["kind"] for e in entries}
    assert {"user", "assistant", "reasoning", "tool_call", "tool_result", "usage", "summary",
            "compaction"} <= kinds  # fmt: skip
    first = entries[0]
    assert (first["kind"], first["line"], first["text"]) == (
        "user",
        0,
        "Add pagination to /orders",
    )
    grep = next(e for e in entries if e["kind"] == "tool_call")
    assert grep["name"] == "Grep" and grep["call_id"] == "toolu_01Xy"
    result = next(e for e in entries if e["kind"] == "tool_result")
    assert result["call_id"] == "toolu_01Xy"
    assert kinds <= set(KINDS)


@pytest.mark.parametrize("sid", [CODEX_SID, OPENCLAW_SID, PI_SID, HOSTILE_SID])
def test_parsed_lines_of_every_format(client: TestClient, sid: str) -> None:
    entries = client.get(f"/api/sessions/{sid}/lines?format=parsed&limit=1000").json()["entries"]
    kinds = {e["kind"] for e in entries}
    assert {"user", "tool_call", "tool_result"} <= kinds
    # Every source line shows up at least once: nothing dropped.
    assert {e["line"] for e in entries} == set(range(len(source_lines(sid))))


def test_max_chars_cuts_raw_and_parsed(client: TestClient) -> None:
    raw = client.get(f"/api/sessions/{HOSTILE_SID}/lines?max_chars=30&limit=1000").json()
    assert raw["lines"] and all(len(x["text"]) <= 30 for x in raw["lines"])
    assert raw["lines"][0]["text"] == source_lines(HOSTILE_SID)[0].decode()[:30]
    parsed = client.get(f"/api/sessions/{HOSTILE_SID}/lines?format=parsed&max_chars=30").json()
    assert all(len(e["text"]) <= 30 for e in parsed["entries"])
    # The 5 MB line is cut without max_chars too; the whole of it is at its own URL.
    (one,) = client.get(f"/api/sessions/{HOSTILE_SID}/lines?start=6&limit=1").json()["lines"]
    assert one["truncated"] is True and len(one["text"]) == 64 << 10
    assert one["url"] == f"/api/sessions/{HOSTILE_SID}/lines/6?generation=1"
    whole = client.get(one["url"])
    assert whole.headers["content-type"] == "text/plain; charset=utf-8"
    assert whole.content == source_lines(HOSTILE_SID)[6] and len(whole.content) > 5_000_000


def test_generation_picks_a_generation(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    lines = codex_lines()
    write_session(store, "gen-session", lines, generations=[4, 20], seg_lines=5)
    with TestClient(create_app(Sessions(store))) as c:
        latest = c.get("/api/sessions/gen-session/lines?limit=1000").json()
        assert latest["generation"] == 3
        assert [x["text"] for x in latest["lines"]] == [b.decode() for b in lines[20:]]
        for generation, part in ((1, lines[:4]), (2, lines[4:20]), (3, lines[20:])):
            body = c.get(f"/api/sessions/gen-session/lines?generation={generation}&limit=1000")
            assert body.json()["generation"] == generation
            assert [x["text"] for x in body.json()["lines"]] == [b.decode() for b in part]
            dl = c.get(f"/api/sessions/gen-session/download?generation={generation}")
            assert dl.content == b"".join(part)
        assert c.get("/api/sessions/gen-session").json()["summary"]["generations"] == 3
        assert "generation 7" in error_of(
            c.get("/api/sessions/gen-session/lines?generation=7"), 404
        )
        assert "generation=0" in error_of(
            c.get("/api/sessions/gen-session/lines?generation=0"), 400
        )


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("format=html", "html"),
        ("start=-1", "start=-1"),
        ("limit=0", "limit=0"),
        ("limit=1001", "limit=1001"),
        ("max_chars=0", "max_chars=0"),
        ("start=x", "'x'"),
    ],
)
def test_lines_bad_parameters_are_400(client: TestClient, query: str, named: str) -> None:
    assert named in error_of(client.get(f"/api/sessions/{CODEX_SID}/lines?{query}"), 400)


# -- /api/sessions/{sid}/download ------------------------------------------------------------


@pytest.mark.parametrize("sid", ALL_SIDS)
def test_download_is_the_source_byte_for_byte(client: TestClient, sid: str) -> None:
    response = client.get(f"/api/sessions/{sid}/download")
    assert response.status_code == 200
    assert response.content == b"".join(source_lines(sid))  # invalid UTF-8 and CRLF kept
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert f'filename="{sid}.jsonl"' in response.headers["content-disposition"]
    assert int(response.headers["content-length"]) == len(response.content)


def test_download_up_to_a_checkpoint(
    client: TestClient, manifests: dict[str, dict[str, Any]]
) -> None:
    cp = manifests[CODEX_SID]["checkpoints"][0]
    total = client.get(f"/api/sessions/{CODEX_SID}/lines?checkpoint={cp['id']}").json()["total"]
    response = client.get(f"/api/sessions/{CODEX_SID}/download?checkpoint={cp['id']}")
    assert response.content == b"".join(codex_lines()[:total])
    assert f'filename="{CODEX_SID}-{cp["id"]}.jsonl"' in response.headers["content-disposition"]


@pytest.fixture
def damaged(tmp_path: Path) -> Iterator[Callable[[int], TestClient]]:
    """A client over a fresh store whose codex segment `seq` has one byte flipped."""
    root = tmp_path / "store"
    populated_store(LocalStore(root), seg_lines=SEG_LINES)
    clients: list[TestClient] = []

    def make(seq: int) -> TestClient:
        path = root / "sessions" / CODEX_SID / "segments" / f"session-{seq:06d}.jsonl.gz"
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        c = TestClient(create_app(Sessions(LocalStore(root))), raise_server_exceptions=False)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.mark.parametrize("seq", [1, 3, 6])
def test_damaged_segment_is_a_clear_error_not_a_cut_download(
    damaged: Callable[[int], TestClient], seq: int
) -> None:
    c = damaged(seq)
    response = c.get(f"/api/sessions/{CODEX_SID}/download")
    assert response.status_code >= 500
    assert f"segment {seq}" in response.json()["error"]
    assert response.json()["hint"]
    # The lines of that segment: the same clear error; the other segments still read.
    segments = c.get(f"/api/sessions/{CODEX_SID}").json()["manifest"]["segments"]
    start = sum(s["lines"] for s in segments if s["seq"] < seq)
    error = error_of(c.get(f"/api/sessions/{CODEX_SID}/lines?start={start}&limit=1"), 500)
    assert f"segment {seq}" in error
    other = 0 if seq != 1 else SEG_LINES
    assert c.get(f"/api/sessions/{CODEX_SID}/lines?start={other}&limit=1").status_code == 200
    # Other sessions are unaffected.
    ok = c.get(f"/api/sessions/{CLAUDE_SID}/download")
    assert ok.status_code == 200 and ok.content == b"".join(claude_lines())


def test_missing_segment_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    populated_store(LocalStore(root), seg_lines=SEG_LINES)
    (root / "sessions" / PI_SID / "segments" / "session-000002.jsonl.gz").unlink()
    with TestClient(create_app(Sessions(LocalStore(root)))) as c:
        error = error_of(c.get(f"/api/sessions/{PI_SID}/download"), 500)
        assert "segment 2" in error and "missing" in error


# -- /api/previews and /api/resolve ----------------------------------------------------------


def test_previews_of_several_sessions(client: TestClient) -> None:
    body = client.get(f"/api/previews?sid={CLAUDE_SID}&sid={PI_SID}&messages=2&chars=20").json()
    previews = body["previews"]
    assert set(previews) == {CLAUDE_SID, PI_SID}
    claude = previews[CLAUDE_SID]
    assert len(claude) == 2
    assert claude[-1]["kind"] == "assistant" and claude[-1]["text"] == "Both tests pass now."
    assert all(len(p["text"]) <= 20 for p in claude)
    assert previews[PI_SID][-1]["text"] == "limit is now 1..200."
    joined = client.get(f"/api/previews?sids={CLAUDE_SID},{PI_SID}&messages=2&chars=20")
    assert joined.json() == body
    (last,) = client.get(f"/api/previews?sid={CODEX_SID}&messages=1&chars=15").json()["previews"][
        CODEX_SID
    ]
    assert (last["kind"], last["text"]) == ("assistant", "Tests added in…")


def test_previews_unknown_is_null_and_limits(client: TestClient) -> None:
    body = client.get(f"/api/previews?sid=not-there&sid={PI_SID}").json()
    assert body["previews"]["not-there"] is None
    assert body["previews"][PI_SID]
    many = ",".join(f"s{i}" for i in range(65))
    assert "65 sessions" in error_of(client.get(f"/api/previews?sids={many}"), 400)
    ok = ",".join(f"s{i}" for i in range(64))
    assert client.get(f"/api/previews?sids={ok}").status_code == 200
    assert error_of(client.get("/api/previews"), 400)
    assert "messages=99" in error_of(client.get(f"/api/previews?sid={PI_SID}&messages=99"), 400)


def test_resolve(client: TestClient) -> None:
    assert client.get(f"/api/resolve?q={CODEX_SID}").json() == {"sid": CODEX_SID}
    assert client.get("/api/resolve?q=5b1e").json() == {"sid": CLAUDE_SID}
    assert client.get("/api/resolve?q=orders-work").json() == {"sid": "recent-aaaa"}
    ambiguous = client.get("/api/resolve?q=0")
    assert ambiguous.status_code == 409
    assert ambiguous.json()["matches"] == sorted([CODEX_SID, PI_SID])
    assert CODEX_SID in ambiguous.json()["error"] and PI_SID in ambiguous.json()["error"]
    assert "zzz" in error_of(client.get("/api/resolve?q=zzz"), 404)
    assert error_of(client.get("/api/resolve?q="), 400)


# -- /healthz and /metrics -------------------------------------------------------------------


def test_healthz(client: TestClient, store_dir: Path) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["store"] == f"file://{store_dir}"
    assert body["watching"] == 0
    assert body["uptime_s"] >= 0


def test_metrics_prometheus_text(store_dir: Path) -> None:
    stats = {"lines_read": 42, "bytes_uploaded": 1234, "queue_segments": 3,
             "queue_oldest_age_seconds": 1.5, "retries": 2, "errors": 1}  # fmt: skip
    app = create_app(Sessions(LocalStore(store_dir), stats=lambda: stats))
    with TestClient(app) as c:
        response = c.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    for line in (
        "# TYPE agent_uploader_lines_read counter",
        "agent_uploader_lines_read 42",
        "agent_uploader_bytes_uploaded 1234",
        "# TYPE agent_uploader_queue_segments gauge",
        "agent_uploader_queue_segments 3",
        "agent_uploader_queue_oldest_age_seconds 1.5",
        "agent_uploader_retries 2",
        "agent_uploader_errors 1",
        "agent_uploader_sessions_watched 0",
    ):
        assert line in text.splitlines(), line
    for line in text.splitlines():  # every line a comment or `name value`
        assert (
            line.startswith("# HELP ")
            or line.startswith("# TYPE ")
            or (len(line.split()) == 2 and float(line.split()[1]) >= 0)
        )


def test_metrics_without_an_engine_are_zero(client: TestClient) -> None:
    assert "agent_uploader_lines_read 0" in client.get("/metrics").text.splitlines()


# -- safety ----------------------------------------------------------------------------------

BAD_IDS = ["%2E%2E", "..%2F..%2Fetc%2Fpasswd", ".hidden", "a..b", "x%00y", "a%20b", "x" * 200]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids_never_reach_the_store(store_dir: Path, bad: str) -> None:
    store = RecordingStore(store_dir)
    with TestClient(create_app(Sessions(store))) as c:
        c.get("/api/sessions")  # the catalog loads first
        store.keys.clear()
        for path in (
            f"/api/sessions/{bad}",
            f"/api/sessions/{bad}/lines",
            f"/api/sessions/{bad}/download",
            f"/api/sessions/{bad}/events",
            f"/api/previews?sid={bad}",
            f"/api/resolve?q={bad}",
        ):
            response = c.get(path)
            assert response.status_code in (400, 404), (path, response.status_code)
            assert response.json()["error"]
    assert all(k.startswith("sessions/") and ".." not in k for k in store.keys), store.keys


def test_security_headers_on_every_response(client: TestClient) -> None:
    for path in (
        "/api/sessions",
        f"/api/sessions/{CODEX_SID}",
        f"/api/sessions/{CODEX_SID}/lines",
        f"/api/sessions/{CODEX_SID}/download",
        "/api/sessions?sort=colour",
        "/api/sessions/nope",
        "/api/previews",
        "/healthz",
        "/metrics",
        "/static/app.css",
        "/static/nope.js",
        "/",
        f"/s/{CODEX_SID}",
        "/s/5b1e",
        "/nowhere",
        "/login",
    ):
        response = client.get(path, follow_redirects=False)
        csp = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp
        assert response.headers.get("x-content-type-options") == "nosniff", path


def test_token_guards_the_api(store_dir: Path) -> None:
    app = create_app(Sessions(LocalStore(store_dir)), UIConfig(token="s3cret"))
    with TestClient(app) as c:
        for path in ("/api/sessions", f"/api/sessions/{CODEX_SID}/download", "/metrics"):
            response = c.get(path)
            assert response.status_code == 401, path
            assert "token" in response.json()["error"]
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.headers["x-content-type-options"] == "nosniff"
            bad = c.get(path, headers={"Authorization": "Bearer wrong"})
            assert bad.status_code == 401
            good = c.get(path, headers={"Authorization": "Bearer s3cret"})
            assert good.status_code == 200, path
        assert c.get("/healthz").status_code == 200  # for monitors: no token, no sessions
        assert "s3cret" not in c.get("/healthz").text
        assert c.get("/static/app.js").status_code == 200


# -- live sessions ---------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path, store_dir: Path) -> Iterator[tuple[TestClient, LiveFixture]]:
    fixture = LiveFixture(tmp_path)
    sessions = Sessions(LocalStore(store_dir), live=LiveSessions(fixture.spool, fixture.states))
    with TestClient(create_app(sessions)) as c:
        yield c, fixture


def test_live_session_is_listed_and_read_from_the_spool(
    live: tuple[TestClient, LiveFixture],
) -> None:
    c, fixture = live
    listed = {s["sid"]: s for s in c.get("/api/sessions").json()["sessions"]}
    assert listed[LIVE_SID]["live"] is True and listed[LIVE_SID]["lines"] == 3
    assert listed[LIVE_SID]["title"] == "Add pagination to /orders"
    assert listed[CODEX_SID]["live"] is False
    active = c.get("/api/sessions?active=1").json()["sessions"]
    assert [s["sid"] for s in active] == [LIVE_SID]
    body = c.get(f"/api/sessions/{LIVE_SID}/lines").json()
    assert [x["text"] for x in body["lines"]] == [b.decode() for b in fixture.lines]
    one = c.get(f"/api/sessions/{LIVE_SID}").json()
    assert one["summary"]["live"] is True
    segments = one["manifest"]["segments"]
    assert [s["where"] for s in segments] == ["active"]
    assert all("local" not in s for s in segments)  # no path of this machine's spool
    assert str(fixture.spool.root) not in json.dumps(one)
    assert c.get("/healthz").json()["watching"] == 1
    page = c.get(f"/s/{LIVE_SID}").text
    assert f'data-live="/api/sessions/{LIVE_SID}/events?after=3&amp;view=chat"' in page
    assert '<span class="live"' in page and "Following" in page
    assert "active (spool)" in c.get(f"/s/{LIVE_SID}?view=segments").text
    # Lines the engine has written but not yet counted are not shown.
    with open(fixture.active, "ab") as f:
        f.write(b'{"half": "a line still being wri')
    assert c.get(f"/api/sessions/{LIVE_SID}/lines").json()["total"] == 3
    download = c.get(f"/api/sessions/{LIVE_SID}/download")
    assert download.content == b"".join(fixture.lines)


def read_events(
    lines: Iterator[str], until: Callable[[list[str]], bool], timeout: float
) -> list[str]:
    """SSE lines until `until` holds; bounded (the keep-alive is a fraction of a second)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    for line in lines:
        seen.append(line)
        if until(seen) or time.monotonic() > deadline:
            break
    return seen


@pytest.mark.parametrize("view", ["chat", "raw"])
def test_live_events_deliver_new_lines(
    live: tuple[TestClient, LiveFixture], monkeypatch: pytest.MonkeyPatch, view: str
) -> None:
    monkeypatch.setattr(api, "LIVE_POLL_S", 0.02)
    monkeypatch.setattr(api, "KEEPALIVE_S", 0.1)
    c, fixture = live
    new = claude_lines()[3]  # the Grep tool result
    with c.stream("GET", f"/api/sessions/{LIVE_SID}/events?after=3&view={view}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-content-type-options"] == "nosniff"
        events = response.iter_lines()
        quiet = read_events(events, lambda seen: ": keep-alive" in seen, timeout=5)
        assert ": keep-alive" in quiet  # nothing new yet
        assert not any(x.startswith("event: lines") for x in quiet)
        fixture.append(new)
        seen = read_events(events, lambda s: bool(s) and s[-1].startswith("data:") and
                           "event: lines" in s, timeout=5)  # fmt: skip
    assert "event: lines" in seen
    data = json.loads(seen[-1][len("data: ") :])
    assert data["total"] == 4
    assert "src/orders.py:7:def list_orders(db):" in data["html"]
    assert 'id="L3"' in data["html"]
    if view == "raw":
        assert 'class="raw-line"' in data["html"]


def test_live_events_end_when_the_session_is_no_longer_watched(
    live: tuple[TestClient, LiveFixture], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "LIVE_POLL_S", 0.02)
    monkeypatch.setattr(api, "KEEPALIVE_S", 0.1)
    c, fixture = live
    with c.stream("GET", f"/api/sessions/{LIVE_SID}/events?after=3") as response:
        events = response.iter_lines()
        first = read_events(events, lambda seen: ": keep-alive" in seen, timeout=5)
        assert first[0] == "retry: 2000"
        fixture.watching = False
        rest = read_events(events, lambda seen: "event: end" in seen, timeout=5)
    assert "event: end" in rest
    assert "view='html'" in error_of(c.get(f"/api/sessions/{LIVE_SID}/events?view=html"), 400)


def test_a_label_set_with_the_cli_names_the_session_on_the_dashboard(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    write_session(store, CLAUDE_SID, claude_lines(), agent="claude")
    sessions = Sessions(store)
    with TestClient(create_app(sessions, UIConfig())) as c:
        before = c.get("/api/sessions").json()["sessions"][0]["title"]
        assert before != "orders pagination"
        run = run_cli("label", "--store", f"file://{store.root}", "--sid", CLAUDE_SID[:8],
                      "orders pagination")  # fmt: skip
        assert run.returncode == 0, run.stderr
        sessions.catalog.refresh()
        listed = c.get("/api/sessions").json()["sessions"][0]
        assert (listed["title"], listed["label"]) == ("orders pagination", "orders pagination")
        assert c.get("/api/resolve", params={"q": "Orders Pagination"}).json()["sid"] == CLAUDE_SID
        page = c.get(f"/s/{CLAUDE_SID}")
        assert "orders pagination" in page.text


def test_a_session_deleted_while_listed_is_not_found_not_a_redirect(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    write_session(store, CLAUDE_SID, claude_lines(), agent="claude", closed=True)
    sessions = Sessions(store)
    with TestClient(create_app(sessions, UIConfig())) as c:
        assert c.get("/api/sessions").json()["total"] == 1  # listed, then deleted
        store.delete(list(store.list(f"sessions/{CLAUDE_SID}/")))
        page = c.get(f"/s/{CLAUDE_SID}", follow_redirects=False)
        assert page.status_code == 404
        assert c.get("/api/sessions").json()["total"] == 0
