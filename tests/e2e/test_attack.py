"""The dashboard attacked as an attacker would: a DNS-rebinding page naming its own host,
cross-site form posts, slowloris and connection floods against a `watch` with few file
handles while its transcript grows, oversized and malformed requests, hostile cookies,
guessing the token, and downloads abandoned half-way.

Real processes (`host`, `watch`) or a real dashboard in a thread (for tight limits), real
sockets on 127.0.0.1; requests are written by hand where a client library would refuse
to send them. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.browser import dashboard_url, stop
from tests.support.cli import cli_env, run_cli, start_cli, wait_until
from tests.support.session_factory import populated_store, write_session
from tests.support.storeview import rebuild
from tests.support.transcripts import CLAUDE_SID, CODEX_SID, HOSTILE_SID, big_session_lines
from tests.support.uiclient import TestClient
from ui.app import UIConfig, create_app
from ui.auth import Logins, Throttle
from ui.launch import build_dashboard
from ui.limits import Limits
from ui.server import Dashboard, serve_until
from ui.service import Sessions
from uploader.stores.local import LocalStore

if TYPE_CHECKING:
    from playwright.sync_api import Page

BIG_SID = "big-session"
BIG_BYTES = 12 << 20
TOKEN = "correct horse battery staple"
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")


# -- a hand-written HTTP client ------------------------------------------------------------


@dataclass
class Answer:
    status: int | None  # None: the connection closed (or was reset) without an answer
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    raw: bytes = b""

    def secured(self) -> bool:
        return all(h in self.headers for h in SECURITY_HEADERS)


def parse(raw: bytes) -> Answer:
    head, sep, body = raw.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    if not sep or not match:
        return Answer(None, raw=raw)
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(match.group(1)), headers, body, raw)


def read_all(sock: socket.socket, limit: int = 32 << 20) -> bytes:
    data = bytearray()
    with contextlib.suppress(ConnectionResetError, TimeoutError):
        while len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return bytes(data)


def send_raw(port: int, request: bytes, timeout: float = 15) -> Answer:
    """One request on its own connection; the whole answer (until the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return parse(read_all(sock))


def request(
    method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def get(port: int, target: str, headers: dict[str, str] | None = None) -> Answer:
    return send_raw(port, request("GET", target, {"Host": f"127.0.0.1:{port}", **(headers or {})}))


def post(port: int, target: str, form: str, headers: dict[str, str] | None = None) -> Answer:
    base = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/x-www-form-urlencoded"}
    return send_raw(port, request("POST", target, {**base, **(headers or {})}, form.encode()))


def port_of(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def status_line(sock: socket.socket, timeout: float = 10) -> bytes:
    """The first bytes the server sends back on this connection (b"" if it closed)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(4096)
    except ConnectionResetError:
        return b""


def replies(socks: list[socket.socket], timeout: float) -> dict[socket.socket, bytes]:
    """What the server sends on each of these connections within `timeout` (b"": it
    closed the connection); connections it leaves silent are not in the result."""
    done: dict[socket.socket, bytes] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(socks) and time.monotonic() < deadline:
        waiting = [s for s in socks if s not in done]
        readable, _, _ = select.select(waiting, [], [], max(0.0, deadline - time.monotonic()))
        for sock in readable:
            sock.setblocking(False)
            try:
                done[sock] = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                done[sock] = b""
    return done


def closed_by_server(socks: list[socket.socket], timeout: float) -> set[socket.socket]:
    """Which of these connections the server closes (or answers) within `timeout`."""
    return set(replies(socks, timeout))


def open_fds_under(pid: int, folder: Path) -> list[str]:
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith(str(folder)):
                found.append(target)
    return found


def metric(port: int, name: str, headers: dict[str, str] | None = None) -> float:
    text = get(port, "/metrics", headers).body.decode()
    (line,) = [x for x in text.splitlines() if x.startswith(f"agent_uploader_{name} ")]
    return float(line.split()[1])


# -- dashboards to attack ------------------------------------------------------------------


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("attack") / "store"
    store = LocalStore(root)
    populated_store(store)
    write_session(store, BIG_SID, big_session_lines(BIG_BYTES), agent="codex", seg_bytes=4 << 20)
    return root


@pytest.fixture(scope="module")
def big_bytes(store_dir: Path) -> bytes:
    return rebuild(LocalStore(store_dir), BIG_SID)


@dataclass
class Host:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    tmp: Path  # the process's TMPDIR (where downloads are staged)


@contextlib.contextmanager
def run_host(
    tmp: Path, store_dir: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[Host]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    log = tmp / "host.log"
    proc = start_cli(
        "host",
        "--store",
        f"file://{store_dir}",
        "--ui-port",
        "0",
        *args,
        env={"TMPDIR": str(tmp / "tmp"), **(env or {})},
        log=log,
    )
    try:
        yield Host(proc, port_of(dashboard_url(proc, log)), log, tmp / "tmp")
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def open_host(tmp_path_factory: pytest.TempPathFactory, store_dir: Path) -> Iterator[Host]:
    """`host` as a user starts it: loopback, no token."""
    with run_host(tmp_path_factory.mktemp("open-host"), store_dir) as host:
        yield host


@pytest.fixture(scope="module")
def guarded_host(tmp_path_factory: pytest.TempPathFactory, store_dir: Path) -> Iterator[Host]:
    """`host` with a token, behind a (pretend) reverse proxy named dash.example."""
    env = {"AGENT_UI_TOKEN": TOKEN, "AGENT_UI_ALLOWED_HOSTS": "dash.example,other.example:8443"}
    with run_host(tmp_path_factory.mktemp("guarded-host"), store_dir, env=env) as host:
        yield host


@contextlib.contextmanager
def dashboard_in_thread(store_dir: Path, limits: Limits, **kwargs: Any) -> Iterator[Dashboard]:
    """A real dashboard on a real socket, served by a thread of this process: for limits
    too tight (or timeouts too short) to offer on the command line."""
    dashboard = build_dashboard(
        LocalStore(store_dir), bind="127.0.0.1", port=0, limits=limits, **kwargs
    )
    loop = asyncio.new_event_loop()
    stopping = asyncio.Event()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(serve_until(dashboard, stopping),), daemon=True
    )
    thread.start()
    try:
        wait_until(
            lambda: get(dashboard.port, "/healthz").status == 200,
            timeout=20,
            what="the dashboard to answer",
        )
        yield dashboard
    finally:
        loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout=20)
        loop.close()


# -- DNS rebinding: the Host header --------------------------------------------------------

FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:4333",
    "127.0.0.1.evil.example",
    "localhost.evil.example",
    "localhost.",
    "[::1]x",
    "127.0.0.1:80:80",
    "127.0.0.1:abc",
    "",
    "a" * 400,
    "evil.example\tx",
    "0x7f000001",
    "dash.example.evil",
]


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_dns_rebinding_page_reads_nothing(open_host: Host, host: str) -> None:
    """What a rebinding page's fetch sends: its own host name, at 127.0.0.1's port."""
    for target in (
        "/api/sessions",
        f"/api/sessions/{CODEX_SID}/download",
        "/",
        "/healthz",
        f"/s/{CODEX_SID}?view=raw",
        "/metrics",
        "/static/app.js",
    ):
        answer = send_raw(open_host.port, request("GET", target, {"Host": host}))
        assert answer.status in (400, 421), (target, answer.raw[:200])
        assert answer.secured(), answer.headers
        assert CODEX_SID.encode() not in answer.body and b"pagination" not in answer.body
        assert len(answer.body) < 300


def test_missing_host_header_is_refused(open_host: Host) -> None:
    answer = send_raw(open_host.port, b"GET /api/sessions HTTP/1.0\r\n\r\n")
    assert answer.status == 421 and answer.secured()
    assert b"sessions" not in answer.body.lower().replace(b"--ui-allowed-host", b"")
    answer = send_raw(open_host.port, b"GET /api/sessions HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert answer.status == 400 and answer.secured()  # HTTP/1.1 without Host: malformed


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.0.0.1:{port}",
        "localhost:{port}",
        "LOCALHOST",
        "127.0.0.2:{port}",
        "127.255.0.1",
        "[::1]:{port}",
    ],
)
def test_loopback_names_are_answered(open_host: Host, host: str) -> None:
    answer = send_raw(
        open_host.port, request("GET", "/api/sessions", {"Host": host.format(port=open_host.port)})
    )
    assert answer.status == 200
    assert json.loads(answer.body)["total"] == 6


def test_allowed_proxy_hosts(guarded_host: Host) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    for host, status in (
        ("dash.example", 200),
        ("DASH.example:443", 200),
        ("other.example:8443", 200),
        ("other.example", 421),
        ("other.example:9999", 421),
        ("evil.example", 421),
    ):
        answer = send_raw(
            guarded_host.port, request("GET", "/api/sessions", {"Host": host, **bearer})
        )
        assert answer.status == status, host


def test_allowed_host_that_is_not_a_name_is_a_usage_error(tmp_path: Path, store_dir: Path) -> None:
    result = run_cli(
        "host",
        "--store",
        f"file://{store_dir}",
        "--ui-port",
        "0",
        "--ui-allowed-host",
        "https://dash.example/",
    )
    assert result.returncode == 2
    assert "Error: --ui-allowed-host 'https://dash.example/' is not a host name" in result.stderr
    assert "Hint:" in result.stderr


# -- Origin on unsafe methods --------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},
        {"Origin": "http://localhost:{port}"},
        {"Origin": "http://127.0.0.1:{port}/x"},
        {"Origin": "http://dash.example.evil"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-site"},
        {"Origin": "http://[::1]:{port}"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_posts_are_refused(guarded_host: Host, headers: dict[str, str]) -> None:
    """A form on another site (or another port of this machine) posting to the dashboard."""
    port = guarded_host.port
    headers = {k: v.format(port=port) for k, v in headers.items()}
    for target in ("/login", "/logout", "/api/sessions"):
        answer = post(port, target, f"token={TOKEN}&next=/", headers)
        assert answer.status == 403, (target, headers, answer.raw[:200])
        assert answer.secured() and "set-cookie" not in answer.headers


def test_same_origin_posts_go_through(guarded_host: Host) -> None:
    port = guarded_host.port
    for headers in (
        {},
        {"Origin": f"http://127.0.0.1:{port}"},
        {"Origin": "https://dash.example", "Host": "dash.example"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    ):
        answer = post(port, "/login", f"token={TOKEN}&next=/s/x", headers)
        assert answer.status == 303, (headers, answer.raw[:300])
        assert answer.headers["location"] == "/s/x"
        assert answer.headers["set-cookie"].startswith("agent_ui=")


def test_unsafe_methods_without_a_route_are_405_with_headers(open_host: Host) -> None:
    for method in ("PUT", "DELETE", "PATCH", "POST"):
        headers = {
            "Host": f"127.0.0.1:{open_host.port}",
            "Origin": f"http://127.0.0.1:{open_host.port}",
        }
        answer = send_raw(open_host.port, request(method, "/api/sessions", headers, b"x"))
        assert answer.status == 405 and answer.secured()


# -- floods: a watch with 256 file handles keeps every line --------------------------------

SID = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"


def transcript_line(i: int) -> bytes:
    body = {
        "type": "user" if i % 2 else "assistant",
        "sessionId": SID,
        "uuid": f"u-{i}",
        "message": {"role": "user", "content": f"line {i} " + "x" * (i % 50)},
        "timestamp": f"2026-03-14T09:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
    }
    return json.dumps(body).encode() + b"\n"


def few_file_handles() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


@pytest.mark.slow
def test_slowloris_and_floods_do_not_stop_watch_or_lose_a_line(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(b"".join(transcript_line(i) for i in range(20)))
    store_dir, log = tmp_path / "store", tmp_path / "watch.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uploader",
                "watch",
                "--file",
                str(source),
                "--store",
                f"file://{store_dir}",
                "--spool-dir",
                str(tmp_path / "spool"),
                "--poll-ms",
                "100",
                "--seg-lines",
                "100",
                "--ui-port",
                "0",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=cli_env(),
            preexec_fn=few_file_handles,
        )
    socks: list[socket.socket] = []
    writer_done = threading.Event()

    def writer() -> None:
        # Lines keep coming the whole time: 400 of them, ~6 s.
        with open(source, "ab") as f:
            for i in range(20, 420):
                f.write(transcript_line(i))
                f.flush()
                if writer_done.wait(0.015):
                    break

    def connect() -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        socks.append(sock)
        return sock

    thread = threading.Thread(target=writer, daemon=True)
    try:
        port = port_of(dashboard_url(proc, log))
        host = f"127.0.0.1:{port}"
        wait_until(
            lambda: get(port, f"/api/sessions/{SID}").status == 200,
            timeout=20,
            what="the session to be live",
        )
        thread.start()
        # Live pages: 20 event streams, past the cap of 16.
        streams = []
        for _ in range(20):
            sock = connect()
            sock.sendall(
                request(
                    "GET",
                    f"/api/sessions/{SID}/events?after=0",
                    {"Host": host, "Connection": "keep-alive"},
                )
            )
            streams.append(status_line(sock))
        assert sum(s.startswith(b"HTTP/1.1 200") for s in streams) == 16
        assert sum(s.startswith(b"HTTP/1.1 503") for s in streams) == 4
        # Idle kept-alive connections: a request each, then nothing.
        idle = []
        for _ in range(20):
            sock = connect()
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
            assert status_line(sock).startswith(b"HTTP/1.1 200")
            idle.append(sock)
        # Slowloris: 300 connections, each with half a request, then silence.
        half: list[socket.socket] = []
        for n in range(300):
            try:
                sock = connect()
                sock.sendall(
                    b"GET /api/sessions HTTP/1.1\r\nHost: "
                    + host.encode()
                    + f"\r\nX-Slow-{n}: ".encode()
                )
            except OSError:
                continue  # refused or reset at once: shed, as it should be
            half.append(sock)
        # At once, a new connection is shed (503) rather than served or queued, and
        # the flood's own connections past the cap were turned away the same way.
        busy = send_raw(port, request("GET", "/healthz", {"Host": host}))
        assert busy.status in (503, None), busy.raw[:200]
        if busy.status == 503:
            assert busy.secured() and busy.headers["retry-after"]
        answered = replies(half, timeout=3)
        turned_away = [s for s, data in answered.items()
                       if data.startswith(b"HTTP/1.1 503") or not data]  # fmt: skip
        held = [s for s in half if s not in answered]
        assert len(held) <= 64 - 16  # the cap, less the live pages (idle ones may have gone)
        assert len(turned_away) >= 300 - 64
        assert proc.poll() is None, log.read_text()
        # Headers not sent within 10 s, and idle keep-alives after 5 s: closed by the server.
        assert len(closed_by_server(held + idle, timeout=40)) == len(held) + len(idle)
        for sock in socks:
            sock.close()
        socks.clear()
        wait_until(
            lambda: get(port, "/healthz").status == 200,
            timeout=30,
            what="the dashboard to answer again",
        )
        assert metric(port, "dashboard_refused") >= 300 - 64 + 4
        thread.join(timeout=30)
        assert proc.poll() is None, log.read_text()
    finally:
        writer_done.set()
        for sock in socks:
            sock.close()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    text = log.read_text()
    assert code == 0, text
    assert "Too many open files" not in text and "Traceback" not in text, text
    assert rebuild(LocalStore(store_dir), SID) == source.read_bytes()
    assert source.read_bytes().count(b"\n") == 420


def test_open_files_limit_is_raised_to_the_hard_limit(tmp_path: Path, store_dir: Path) -> None:
    log = tmp_path / "host.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uploader", "host", "--store", f"file://{store_dir}",
             "--ui-port", "0"],
            stdout=out, stderr=subprocess.STDOUT, env=cli_env(),
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096)),
        )  # fmt: skip
    try:
        dashboard_url(proc, log)
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        (line,) = [x for x in limits.splitlines() if x.startswith("Max open files")]
        assert line.split()[3:5] == ["4096", "4096"], line
    finally:
        stop(proc)


def test_connection_cap_header_timeout_and_keepalive(store_dir: Path) -> None:
    limits = Limits(connections=6, streams=2, header_timeout_s=1, keepalive_s=1)
    with dashboard_in_thread(store_dir, limits) as dashboard, contextlib.ExitStack() as stack:
        port = dashboard.port
        host = f"127.0.0.1:{port}".encode()

        def connect() -> socket.socket:
            return stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))

        slow = [connect() for _ in range(6)]
        for sock in slow:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n")
        turned_away = connect()
        answer = parse(read_all(turned_away))
        assert answer.status == 503 and answer.secured()
        assert answer.headers["retry-after"] == "2"
        # The half-sent requests are closed once their headers are late; then it answers.
        assert len(closed_by_server(slow, timeout=15)) == len(slow)
        wait_until(
            lambda: get(port, "/healthz").status == 200, timeout=15, what="a free connection"
        )
        idle = connect()
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert status_line(idle).startswith(b"HTTP/1.1 200")
        assert closed_by_server([idle], timeout=15) == {idle}  # the keep-alive timeout


def test_stream_cap(tmp_path: Path) -> None:
    """Live streams of a session being watched: past the cap, 503 (no connection held)."""
    from tests.support.live_spool import LIVE_SID, LiveFixture
    from uploader.write.live import LiveSessions

    fixture = LiveFixture(tmp_path)
    sessions = Sessions(
        LocalStore(tmp_path / "store"), live=LiveSessions(fixture.spool, fixture.states)
    )
    limits = Limits(streams=2)
    with TestClient(create_app(sessions, UIConfig(limits=limits))) as c:
        path = f"/api/sessions/{LIVE_SID}/events?after=3"
        with c.stream("GET", path) as one, c.stream("GET", path) as two:
            assert one.status_code == two.status_code == 200
            third = c.get(path)
            assert third.status_code == 503 and third.headers["retry-after"] == "2"
            assert "too many live pages" in third.json()["error"]
            assert third.headers["x-content-type-options"] == "nosniff"
            assert "agent_uploader_dashboard_streams 2" in c.get("/metrics").text
        assert "agent_uploader_dashboard_streams 0" in c.get("/metrics").text
        with c.stream("GET", path) as again:
            assert again.status_code == 200


# -- oversized and malformed requests ------------------------------------------------------

MARKER = "QSECRET7d2c"  # in query strings: never in a log or an error body

MALFORMED_TARGETS = [
    f"/api/sessions/a%0Ab/lines?{MARKER}=1",
    f"/api/sessions/a%0D%0Ab?{MARKER}",
    "/api/sessions/%ZZ/lines",
    "/api/sessions/%00/download",
    "/api/sessions/..%2F..%2Fetc%2Fpasswd/lines",
    f"/api/sessions/{CODEX_SID}/lines?start=99999999999999999999999999&{MARKER}",
    f"/api/sessions/{CODEX_SID}/lines?limit={'9' * 5000}",
    f"/api/sessions/{CODEX_SID}/lines?start=%FF%FE&limit=%00",
    f"/api/sessions/{CODEX_SID}/lines?format=%C0%AF",
    f"/api/sessions/{CODEX_SID}/lines?checkpoint=%0A%0D%1B[31m",
    f"/api/sessions/{CODEX_SID}/lines?generation=-1",
    f"/api/sessions/{CODEX_SID}/lines/abc",
    f"/api/sessions/{CODEX_SID}/lines/-1",
    f"/api/sessions/{CODEX_SID}/lines/99999999",
    f"/api/sessions/{CODEX_SID}/lines/{'1' * 40}",
    f"/api/sessions/{CODEX_SID}/events?view=%FF&after=x",
    "/api/previews?sids=" + ",".join(["%0A"] * 50),
    "/api/previews?sid=" + "x" * 3000,
    "/api/resolve?q=%FF%FF%FF",
    "/s/%0A%0D",
    "/s/%E0%A4%A",
    f"/s/{CODEX_SID}?view=raw&start=-5",
    f"/s/{CODEX_SID}?limit=%FF",
    "/?page=0&limit=99999999999999999999",
    "/?sort=%00&order=%0A",
    "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/..%2F..%2Fpyproject.toml",
    "/login?next=%FF%FE%0A//evil.example",
    "/" + "a" * 5000,
    "/api/sessions?q=" + "x" * 10000,
]


@pytest.mark.parametrize("target", MALFORMED_TARGETS)
def test_malformed_requests_are_4xx_with_headers(open_host: Host, target: str) -> None:
    answer = get(open_host.port, target)
    assert answer.status is not None, answer.raw[:300]
    assert answer.status == 200 or 400 <= answer.status < 500, (target, answer.raw[:300])
    assert answer.secured(), answer.headers
    assert MARKER.encode() not in answer.body
    assert b"[tool.ruff]" not in answer.body  # nothing outside the static folder


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /api/sessions?q=\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        b"GET /s/\xc3\x28 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X: y\r\n" * 3000 + b"\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999\r\n\r\n",
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 100,  # a TLS hello
        b"GET /\x00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: agent_ui=\xff\xfe\x00\r\n"
        b"Connection: close\r\n\r\n",
    ],
)
def test_malformed_http_is_refused_not_a_crash(open_host: Host, raw: bytes) -> None:
    answer = send_raw(open_host.port, raw)
    assert answer.status is None or answer.status < 500 or answer.status == 505, answer.raw[:300]
    if answer.status is not None:
        assert answer.secured(), answer.raw[:300]
    assert get(open_host.port, "/healthz").status == 200  # and it still serves


def test_logs_never_hold_query_strings(open_host: Host) -> None:
    for target in MALFORMED_TARGETS:
        get(open_host.port, target)
    assert MARKER not in open_host.log.read_text(errors="replace")


def test_error_pages_before_sign_in_do_not_name_the_store(
    guarded_host: Host, store_dir: Path
) -> None:
    port = guarded_host.port
    for answer in (
        get(port, "/login"),
        get(port, "/healthz"),
        get(port, "/login?next=/x"),
        post(
            port,
            "/login",
            "token=wrong-but-long-enough&next=/",
            {"X-Forwarded-For": "198.51.100.77"},
        ),
        get(port, "/api/sessions"),
        get(port, "/nowhere"),
        get(port, "/static/nope"),
    ):
        assert answer.status is not None and answer.status < 500
        assert str(store_dir).encode() not in answer.body, answer.raw[:500]
        assert b"file://" not in answer.body
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert str(store_dir) in get(port, "/healthz", bearer).body.decode()  # signed in: named


# -- lines: what one response may hold -----------------------------------------------------


def test_a_response_holds_a_bounded_part_of_long_lines(store_dir: Path) -> None:
    limits = Limits(line_chars=1000, response_chars=5000, small_line_chars=100)
    app = create_app(Sessions(LocalStore(store_dir)), UIConfig(limits=limits))
    with TestClient(app) as c:
        body = c.get(f"/api/sessions/{BIG_SID}/lines?limit=1000").json()
        lines = body["lines"]
        assert len(lines) == 1000 and sum(len(x["text"]) for x in lines) <= 5000 + 1000 * 100
        assert all(len(x["text"]) <= 1000 for x in lines)
        cut = [x for x in lines if x.get("truncated")]
        assert cut and all(len(x["text"]) <= 100 for x in lines[-10:])
        for x in cut[:3] + cut[-3:]:
            whole = c.get(x["url"])
            assert whole.status_code == 200 and len(whole.content) == x["bytes"]
            assert whole.content.decode("utf-8", "replace").startswith(x["text"])
        parsed = c.get(f"/api/sessions/{BIG_SID}/lines?limit=1000&format=parsed").json()
        assert all(len(e["text"]) <= 1000 for e in parsed["entries"])
        assert any(e.get("truncated") and e["url"] for e in parsed["entries"])
        # A page ends early instead of growing without bound; "Later" goes on from there.
        page = c.get(f"/s/{BIG_SID}?view=raw&limit=1000")
        shown = page.text.count('class="raw-line"')
        assert 0 < shown < 1000
        assert f'href="/s/{BIG_SID}?view=raw&amp;limit=1000&amp;start={shown}" rel="next"' in (
            page.text
        )
        chat = c.get(f"/s/{BIG_SID}?limit=1000")
        assert chat.status_code == 200 and 'rel="next"' in chat.text


# -- hostile cookies and tokens ------------------------------------------------------------


def test_cookie_expires_and_is_signed() -> None:
    now = [1_000_000.0]
    logins = Logins("x" * 20, max_age_s=3600, clock=lambda: now[0])
    cookie = logins.issue()
    assert logins.valid(cookie) and "x" * 20 not in cookie
    version, expiry, cookie_id, signature = cookie.split(".")
    assert int(expiry) == 1_000_000 + 3600
    for forged in (
        f"{version}.{int(expiry) + 10**6}.{cookie_id}.{signature}",
        f"{version}.{expiry}.{cookie_id}x.{signature}",
        f"{version}.{expiry}.{cookie_id}.{'0' * 64}",
        cookie + "0",
        "",
        ".",
        "v1...",
        "v1.-1.a.b",
        "v1.1e9.a.b",
        "v1." + "9" * 300 + ".a.b",
        cookie.upper(),
    ):
        assert not logins.valid(forged), forged
    assert not Logins("x" * 20, clock=lambda: now[0]).valid(cookie)  # another process's
    now[0] += 3599
    assert logins.valid(cookie)
    now[0] += 1
    assert not logins.valid(cookie)  # expired


def test_throttle_counts_per_client_and_overall() -> None:
    now = [0.0]
    throttle = Throttle(per_client=5, overall=8, window_s=60, clock=lambda: now[0])
    for _ in range(5):
        assert throttle.wait("a") == 0
        throttle.failed("a")
    assert throttle.wait("a") == 60 and throttle.wait("b") == 0
    for _ in range(3):
        throttle.failed("b")
    assert throttle.wait("c") == 60  # eight wrong guesses in a minute, from anywhere
    now[0] += 30
    assert throttle.wait("a") == 30
    now[0] += 31
    assert throttle.wait("a") == throttle.wait("c") == 0


def sign_in(port: int, client: str) -> str:
    answer = post(port, "/login", f"token={TOKEN}&next=/", {"X-Forwarded-For": client})
    assert answer.status == 303, answer.raw[:300]
    return answer.headers["set-cookie"].split(";")[0].split("=", 1)[1]


def test_hostile_cookies_are_refused(guarded_host: Host) -> None:
    port = guarded_host.port
    cookie = sign_in(port, "198.51.100.1")
    assert get(port, "/api/sessions", {"Cookie": f"agent_ui={cookie}"}).status == 200
    version, expiry, cookie_id, signature = cookie.split(".")
    hostile = [
        f"{version}.{int(expiry) + 10**6}.{cookie_id}.{signature}",  # a longer life
        f"{version}.{int(time.time()) - 10}.{cookie_id}.{signature}",  # backdated
        "0" * 64,  # what the old, unsigned cookie held
        "v1.9999999999.x.y",
        "a" * 8000,
        f'"{cookie}x"',
        f"{cookie[:-1]}",
        "=" * 50,
    ]
    for value in hostile:
        answer = get(port, "/api/sessions", {"Cookie": f"agent_ui={value}"})
        assert answer.status == 401 and answer.secured(), value[:80]
        page = get(port, "/", {"Cookie": f"agent_ui={value}"})
        assert page.status == 303 and page.headers["location"].startswith("/login")
    assert get(port, "/", {"Cookie": "a=b; " * 300}).status == 303


def test_cookie_attributes_and_logout_revokes_it(guarded_host: Host) -> None:
    port = guarded_host.port
    answer = post(port, "/login", f"token={TOKEN}&next=/", {"X-Forwarded-For": "198.51.100.2"})
    attributes = answer.headers["set-cookie"].lower()
    for part in ("max-age=43200", "httponly", "samesite=strict", "path=/"):
        assert part in attributes
    assert "secure" not in attributes and TOKEN.lower() not in attributes
    cookie = answer.headers["set-cookie"].split(";")[0]
    assert get(port, "/", {"Cookie": cookie}).status == 200
    out = post(port, "/logout", "", {"Cookie": cookie})
    assert out.status == 303 and "max-age=0" in out.headers["set-cookie"].lower()
    assert get(port, "/", {"Cookie": cookie}).status == 303  # a copy kept is worth nothing
    assert get(port, "/api/sessions", {"Cookie": cookie}).status == 401
    # Over https (as a proxy on this machine says): Secure.
    https = post(
        port,
        "/login",
        f"token={TOKEN}&next=/",
        {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.3"},
    )
    assert "; secure" in https.headers["set-cookie"].lower()


def test_login_brute_force_is_slowed(guarded_host: Host) -> None:
    port = guarded_host.port
    client = {"X-Forwarded-For": "203.0.113.9"}
    for n in range(5):
        answer = post(port, "/login", f"token=guess-number-{n:08d}&next=/", client)
        assert answer.status == 401 and b"That token is not right" in answer.body
    limited = post(port, "/login", "token=guess-number-5&next=/", client)
    assert limited.status == 429 and 0 < int(limited.headers["retry-after"]) <= 60
    assert b"try again in" in limited.body and limited.secured()
    right = post(port, "/login", f"token={TOKEN}&next=/", client)
    assert right.status == 429 and "set-cookie" not in right.headers  # even the right one
    sign_in(port, "203.0.113.10")  # someone else is not locked out
    # Guessing with a bearer header counts the same.
    bearer_client = {"X-Forwarded-For": "203.0.113.11"}
    for n in range(5):
        guess = {"Authorization": f"Bearer guess-number-{n:08d}", **bearer_client}
        assert get(port, "/api/sessions", guess).status == 401
    limited = get(port, "/api/sessions", {"Authorization": f"Bearer {TOKEN}", **bearer_client})
    assert limited.status == 429 and int(limited.headers["retry-after"]) > 0


def test_short_tokens_are_refused(store_dir: Path, tmp_path: Path) -> None:
    for args, env in ((["--ui-token", "s3cret"], {}), ([], {"AGENT_UI_TOKEN": "fifteen-chars!!"})):
        result = run_cli("host", "--store", f"file://{store_dir}", "--ui-port", "0", *args, env=env)
        assert result.returncode == 2, result.stderr
        assert "Error: the dashboard token has" in result.stderr and "at least 16" in result.stderr
        assert "Hint:" in result.stderr and "--ui-token auto" in result.stderr
        assert "s3cret" not in result.stderr and "fifteen-chars!!" not in result.stderr
    empty = tmp_path / "empty-token"
    empty.write_text("\n")
    result = run_cli("host", "--store", f"file://{store_dir}", "--ui-token-file", str(empty))
    assert result.returncode == 2 and "is empty" in result.stderr
    both = run_cli(
        "host", "--store", f"file://{store_dir}", "--ui-token-file", str(empty), "--ui-token", TOKEN
    )
    assert both.returncode == 2 and "both --ui-token and --ui-token-file" in both.stderr


def test_token_auto_prints_a_sign_in_link_once(tmp_path: Path, store_dir: Path) -> None:
    with run_host(tmp_path, store_dir, "--ui-token", "auto") as host:
        text = host.log.read_text()
        (token,) = re.findall(rf"http://127\.0\.0\.1:{host.port}/login#token=(\S+)", text)
        assert len(token) >= 40
        assert get(host.port, "/api/sessions").status == 401
        assert get(host.port, "/api/sessions", {"Authorization": f"Bearer {token}"}).status == 200
        get(host.port, f"/api/sessions?token={token}")  # a token in a URL: still not logged
        get(host.port, f"/login?next=/{token}")
        post(host.port, "/login", f"token={token}&next=/")
    assert host.log.read_text().count(token) == 2  # the sign-in link and the Bearer hint
    assert "WARNING" not in host.log.read_text()


def test_token_from_a_file_or_env_and_warned_on_the_command_line(
    tmp_path: Path, store_dir: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with run_host(tmp_path / "a", store_dir, "--ui-token-file", str(token_file)) as host:
        assert get(host.port, "/api/sessions", {"Authorization": f"Bearer {TOKEN}"}).status == 200
        assert get(host.port, "/api/sessions").status == 401
    assert "WARNING" not in host.log.read_text() and TOKEN not in host.log.read_text()
    with run_host(tmp_path / "b", store_dir, "--ui-token", TOKEN) as host:
        assert get(host.port, "/api/sessions", {"Authorization": f"Bearer {TOKEN}"}).status == 200
    text = host.log.read_text()
    assert "WARNING" in text and "token is on the command line" in text and TOKEN not in text


def test_supabase_key_file_and_command_line_warning(
    tmp_path: Path, store_dir: Path, supabase_server: Any
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(supabase_server.key + "\n")
    url = f"supabase://{supabase_server.bucket}/team-a"
    by_file = run_cli(
        "ls",
        "--store",
        url,
        "--supabase-url",
        supabase_server.url,
        "--supabase-key-file",
        str(key_file),
    )
    assert by_file.returncode == 0, by_file.stderr
    assert "WARNING" not in by_file.stderr
    key_file.write_text("not-the-key\n")
    wrong = run_cli(
        "ls",
        "--store",
        url,
        "--supabase-url",
        supabase_server.url,
        "--supabase-key-file",
        str(key_file),
    )
    assert wrong.returncode == 1 and "not-the-key" not in wrong.stderr
    typed = run_cli(
        "ls",
        "--store",
        url,
        "--supabase-url",
        supabase_server.url,
        "--supabase-key",
        supabase_server.key,
    )
    assert typed.returncode == 0, typed.stderr
    assert "Supabase key is on the command line" in typed.stderr
    assert supabase_server.key not in typed.stderr
    both = run_cli(
        "ls", "--store", url, "--supabase-key", "x", "--supabase-key-file", str(key_file)
    )
    assert both.returncode == 2 and "both --supabase-key and --supabase-key-file" in both.stderr


# -- downloads -----------------------------------------------------------------------------


def start_download(port: int, sid: str) -> socket.socket:
    """A download whose client reads (almost) nothing: a tiny receive window."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    sock.sendall(request("GET", f"/api/sessions/{sid}/download", {"Host": f"127.0.0.1:{port}"}))
    return sock


def test_a_download_cut_off_midway_leaves_nothing_behind(open_host: Host, big_bytes: bytes) -> None:
    port, pid = open_host.port, open_host.proc.pid
    for _ in range(3):
        sock = start_download(port, BIG_SID)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        wait_until(
            lambda: open_fds_under(pid, open_host.tmp) != [],
            timeout=20,
            what="the download staged on disk",
        )
        sock.close()  # gone mid-stream, with megabytes unsent
        wait_until(
            lambda: (
                open_fds_under(pid, open_host.tmp) == []
                and metric(port, "dashboard_downloads") == 0
            ),
            timeout=20,
            what="the staged file to be removed",
        )
    assert metric(port, "dashboard_staged_bytes") == 0
    # Gone before the response even started (while staging).
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                request("GET", f"/api/sessions/{BIG_SID}/download", {"Host": f"127.0.0.1:{port}"})
            )
    wait_until(
        lambda: metric(port, "dashboard_downloads") == 0 and not open_fds_under(pid, open_host.tmp),
        timeout=30,
        what="nothing staged",
    )
    whole = get(port, f"/api/sessions/{BIG_SID}/download")
    assert whole.status == 200 and whole.body == big_bytes


def test_downloads_at_once_are_capped(open_host: Host, big_bytes: bytes) -> None:
    port = open_host.port
    with contextlib.ExitStack() as stack:
        slow = [stack.enter_context(start_download(port, BIG_SID)) for _ in range(4)]
        for sock in slow:
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        fifth = get(port, f"/api/sessions/{BIG_SID}/download")
        assert fifth.status == 503 and fifth.secured()
        assert fifth.headers["retry-after"] == "2"
        assert "too many downloads" in json.loads(fifth.body)["error"]
        assert metric(port, "dashboard_downloads") == 4
    wait_until(
        lambda: metric(port, "dashboard_downloads") == 0,
        timeout=20,
        what="the slots to be given back",
    )
    assert get(port, f"/api/sessions/{BIG_SID}/download").body == big_bytes


def test_download_size_cap_and_stalled_client(store_dir: Path) -> None:
    limits = Limits(download_bytes=BIG_BYTES // 2, stall_s=1)
    with dashboard_in_thread(store_dir, limits) as dashboard:
        port = dashboard.port
        too_big = get(port, f"/api/sessions/{BIG_SID}/download")
        assert too_big.status == 413 and too_big.secured()
        assert f"agent-uploader replay --sid {BIG_SID}" in json.loads(too_big.body)["hint"]
        small = get(port, f"/api/sessions/{CLAUDE_SID}/download")
        assert small.status == 200 and small.body.count(b"\n") > 10
    limits = Limits(stall_s=2)
    with dashboard_in_thread(store_dir, limits) as dashboard:
        port = dashboard.port
        with start_download(port, BIG_SID) as sock:
            wait_until(
                lambda: metric(port, "dashboard_downloads") == 1,
                timeout=20,
                what="the download to start",
            )
            # The client reads nothing: the server drops it and gives everything back.
            wait_until(
                lambda: (
                    metric(port, "dashboard_downloads") == 0
                    and metric(port, "dashboard_connections") <= 1
                ),
                timeout=30,
                what="the stalled download to be dropped",
            )
            assert len(read_all(sock)) < BIG_BYTES  # cut off, never the whole


# -- the sign-in link in a real browser ----------------------------------------------------


@pytest.mark.browser
def test_sign_in_link_in_a_browser(page: Page, tmp_path: Path, store_dir: Path) -> None:
    from playwright.sync_api import expect

    with run_host(tmp_path, store_dir, "--ui-token", "auto") as host:
        (link,) = re.findall(r"http://\S+/login#token=\S+", host.log.read_text())
        page.goto(link)
        expect(page.locator("#sessions")).to_be_visible()
        assert "token" not in page.url
        history = page.evaluate("() => window.history.length")
        assert history <= 2
        (cookie,) = page.context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        page.goto(f"http://127.0.0.1:{host.port}/s/{HOSTILE_SID}")
        expect(page.locator("h1#title")).to_be_visible()


class Exhausted(LocalStore):
    """A store read while every file handle is taken (or failing some other way)."""

    error = OSError(errno.EMFILE, "Too many open files")

    def get(self, key: str) -> bytes:
        raise self.error


def test_out_of_file_handles_is_503_and_other_failures_say_nothing(store_dir: Path) -> None:
    store = Exhausted(store_dir)
    with TestClient(create_app(Sessions(store)), raise_server_exceptions=False) as c:
        for path in (f"/api/sessions/{CODEX_SID}/lines", f"/s/{CODEX_SID}"):
            answer = c.get(path)
            assert answer.status_code == 503, answer.text[:300]
            assert answer.headers["retry-after"] == "2"
            assert answer.headers["x-content-type-options"] == "nosniff"
        store.error = OSError(errno.EIO, f"disk failed reading {store_dir}/{MARKER}")
        answer = c.get(f"/api/sessions/{CODEX_SID}/lines?q={MARKER}")
        assert answer.status_code == 500 and answer.json() == {
            "error": "internal error",
            "hint": None,
        }
        assert answer.headers["content-security-policy"]
        page = c.get(f"/s/{CODEX_SID}")
        assert page.status_code == 500 and "internal error" in page.text
        assert MARKER not in page.text and "disk failed" not in page.text
