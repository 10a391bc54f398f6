"""A loopback HTTP proxy in front of the moto server that injects faults on request.

moto has no fault injection of its own (its maintainers declined it), so the fault tests
put this proxy between the uploader and moto. Each request is read whole (answering `Expect:
100-continue` first, as botocore's PutObject asks), counted, then either forwarded to
moto or met with a fault chosen by the test:

    error(503)         an S3-style XML error answer (SlowDown), not forwarded
    error(500)         InternalError; error(403) AccessDenied; any status works
    RESET              the connection is reset (RST) without an answer, not forwarded
    DROP               forwarded, moto commits, then the connection is reset instead
                       of answering: the client cannot know that the write happened
    delay(s)           forwarded and committed, the answer held back `s` seconds (past
                       the client's read timeout); delay(s, commit=False) is not
                       forwarded at all and closes after `s` seconds
    late(event)        held, unanswered (the client times out), and forwarded only
                       when the test sets `event`: a write the store commits late,
                       after the client's retry and whatever the client did next
    TRUNCATE           forwarded, then half the answer's body and a clean close

Faults are chosen per request, thread-safely, by a schedule (`schedule(RESET, None,
...)`: the next requests in arrival order) and then by rules (`inject(fault, method=,
path=, when=, times=, per_key=)`). Everything is bounded: sockets time out, threads
are daemons and `stop()` wakes and joins them.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import BinaryIO
from urllib.parse import urlsplit

IO_TIMEOUT = 30.0  # any single read or write on a proxy socket
JOIN_TIMEOUT = 5.0
LATE_LIMIT = 60.0  # the longest a late() request is held
MAX_LINE = 64 << 10
MAX_HEADERS = 200
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect"}
    | {"transfer-encoding", "content-length"}  # the proxy frames bodies itself
)
S3_ERROR_CODES = {
    400: ("BadRequest", "Bad request."),
    403: ("AccessDenied", "Access Denied"),
    404: ("NoSuchKey", "The specified key does not exist."),
    429: ("SlowDown", "Please reduce your request rate."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    502: ("BadGateway", "Bad gateway."),
    503: ("SlowDown", "Please reduce your request rate."),
}


@dataclass(frozen=True)
class Fault:
    kind: str  # "error" | "reset" | "drop" | "delay" | "late" | "truncate"
    status: int = 0
    code: str = ""
    seconds: float = 0.0
    commit: bool = True  # delay: forward before holding the answer back
    release: threading.Event | None = None  # late: forward once this is set

    def __str__(self) -> str:
        if self.kind == "error":
            return f"{self.status} {self.code}"
        if self.kind == "delay":
            return f"delay {self.seconds}s" + ("" if self.commit else " uncommitted")
        return self.kind


def error(status: int = 503, code: str | None = None) -> Fault:
    return Fault("error", status=status, code=code or S3_ERROR_CODES.get(status, ("Error",))[0])


def delay(seconds: float, *, commit: bool = True) -> Fault:
    return Fault("delay", seconds=seconds, commit=commit)


def late(release: threading.Event) -> Fault:
    return Fault("late", release=release)


RESET = Fault("reset")
DROP = Fault("drop")
TRUNCATE = Fault("truncate")


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # lower-case names

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def key(self) -> str:
        """What a retry of the same call has in common with its first attempt."""
        return f"{self.method} {self.path}"


@dataclass
class Rule:
    """Fault the requests that match: all of method, path (a substring), when(request).
    `times` caps the faults in total, `per_key` per method and path (a call's first
    `per_key` attempts fail, its retries pass)."""

    fault: Fault
    method: str | None = None
    path: str | None = None
    when: Callable[[Request], bool] | None = None
    times: int | None = None
    per_key: int | None = None
    hits: int = 0
    _seen: Counter[str] = field(default_factory=Counter)

    def take(self, req: Request) -> bool:
        if self.method is not None and req.method != self.method:
            return False
        if self.path is not None and self.path not in req.path:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        if self.per_key is not None and self._seen[req.key] >= self.per_key:
            return False
        if self.when is not None and not self.when(req):
            return False
        self._seen[req.key] += 1
        self.hits += 1
        return True


@dataclass(frozen=True)
class Seen:
    method: str
    target: str
    fault: Fault | None


@dataclass
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.port = 0
        self.errors: list[BaseException] = []  # the proxy's own failures, for the fixture
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._schedule: deque[Fault | None] = deque()
        self._seen: list[Seen] = []
        self._done: Counter[str] = Counter()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()

    # -- the test's side ----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        path: str | None = None,
        when: Callable[[Request], bool] | None = None,
        times: int | None = None,
        per_key: int | None = None,
    ) -> Rule:
        """Add a rule (the first matching rule wins). `when` runs under the proxy's
        lock, one request at a time: keep it quick."""
        rule = Rule(fault, method, path, when, times, per_key)
        with self._lock:
            self._rules.append(rule)
        return rule

    def schedule(self, *faults: Fault | None) -> None:
        """The next requests, in arrival order, get these faults (None: forwarded)."""
        with self._lock:
            self._schedule.extend(faults)

    def heal(self) -> None:
        """Forward everything from now on."""
        with self._lock:
            self._rules.clear()
            self._schedule.clear()

    def count(self, method: str | None = None) -> int:
        """Requests received so far (all, or of one method), faulted or not."""
        with self._lock:
            return sum(1 for s in self._seen if method is None or s.method == method)

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(s.method for s in self._seen)

    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def faults(self) -> list[Seen]:
        return [s for s in self.seen() if s.fault is not None]

    def done(self, kind: str) -> int:
        """Faults of this kind whose handling is over (a late write forwarded, ...)."""
        with self._lock:
            return self._done[kind]

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> FaultProxy:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)  # how often the accept loop looks at the stop flag
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, name="faultproxy", daemon=True)
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._acceptor is not None:
            self._acceptor.join(JOIN_TIMEOUT)
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:  # wakes a handler blocked in recv; the handler closes it
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(JOIN_TIMEOUT)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._listener is not None
        with self._listener:
            while not self._stop.is_set():
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError as exc:
                    self.errors.append(exc)
                    return
                thread = threading.Thread(
                    target=self._serve, args=(conn,), name="faultproxy-conn", daemon=True
                )
                with self._lock:
                    self._conns.add(conn)
                    self._threads.add(thread)
                thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(IO_TIMEOUT)
            with conn.makefile("rb") as rfile:
                while not self._stop.is_set() and self._one(conn, rfile):
                    pass
        except OSError:
            pass  # the client went away, timed out or was reset on purpose
        except Exception as exc:  # a bug in the proxy: the fixture reports it
            self.errors.append(exc)
        finally:
            with self._lock:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())
            conn.close()

    def _one(self, conn: socket.socket, rfile: BinaryIO) -> bool:
        """Serve one request; False when the connection is to be closed."""
        read_line = rfile.readline
        line = read_line(MAX_LINE + 1)
        if not line:
            return False
        if not line.strip():
            return True
        method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        headers: list[tuple[str, str]] = []
        while True:
            raw = read_line(MAX_LINE + 1)
            if raw in (b"\r\n", b"\n", b""):
                break
            if len(headers) >= MAX_HEADERS:
                raise ValueError("too many request headers")
            name, _, value = raw.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        lower = {name.lower(): value for name, value in headers}
        req = Request(method, target, lower)
        if lower.get("expect", "").lower() == "100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = _read_body(rfile, lower)
        keep = lower.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        fault = self._choose(req)
        if fault is None:
            answer = self._forward(req, headers, body)
            conn.sendall(_frame(answer, head=method == "HEAD", close=not keep))
            return keep
        try:
            return self._apply(fault, conn, req, headers, body, keep)
        finally:
            with self._lock:
                self._done[fault.kind] += 1

    def _apply(
        self,
        fault: Fault,
        conn: socket.socket,
        req: Request,
        headers: list[tuple[str, str]],
        body: bytes,
        keep: bool,
    ) -> bool:
        head = req.method == "HEAD"
        if fault.kind == "error":
            conn.sendall(_frame(_s3_error(fault, req), head=head, close=not keep))
            return keep
        if fault.kind == "reset":
            _reset(conn)
            return False
        if fault.kind == "drop":
            self._forward(req, headers, body)
            _reset(conn)
            return False
        if fault.kind == "delay":
            answer = self._forward(req, headers, body) if fault.commit else None
            if self._stop.wait(fault.seconds) or answer is None:
                return False
            conn.sendall(_frame(answer, head=head, close=True))  # usually to a closed socket
            return False
        if fault.kind == "late":
            assert fault.release is not None
            deadline = time.monotonic() + LATE_LIMIT
            while not fault.release.wait(0.05):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return False
            self._forward(req, headers, body)  # the client gave up long ago
            return False
        if fault.kind == "truncate":
            data = _frame(self._forward(req, headers, body), head=head, close=True)
            body_at = data.find(b"\r\n\r\n") + 4
            conn.sendall(data[: body_at + (len(data) - body_at) // 2])
            conn.shutdown(socket.SHUT_WR)  # a clean end of stream, half the body short
            return False
        raise ValueError(f"unknown fault {fault}")

    def _choose(self, req: Request) -> Fault | None:
        with self._lock:
            fault: Fault | None = None
            if self._schedule:
                fault = self._schedule.popleft()
            else:
                for rule in self._rules:
                    if rule.take(req):
                        fault = rule.fault
                        break
            self._seen.append(Seen(req.method, req.target, fault))
            return fault

    def _forward(self, req: Request, headers: list[tuple[str, str]], body: bytes) -> _Answer:
        upstream = http.client.HTTPConnection(
            self.upstream_host, self.upstream_port, timeout=IO_TIMEOUT
        )
        try:
            upstream.putrequest(req.method, req.target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP:
                    upstream.putheader(name, value)
            if body or "content-length" in req.headers or "transfer-encoding" in req.headers:
                upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body or None)
            resp = upstream.getresponse()
            data = resp.read()
            return _Answer(resp.status, resp.reason, resp.getheaders(), data)
        finally:
            upstream.close()


@contextlib.contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    """A FaultProxy in front of `upstream` (the moto server), forwarding until told not
    to; its own failures fail the test."""
    with FaultProxy(upstream) as proxy:
        yield proxy
    assert not proxy.errors, f"the fault proxy itself failed: {proxy.errors!r}"


def _read_body(rfile: BinaryIO, headers: dict[str, str]) -> bytes:
    read, read_line = rfile.read, rfile.readline
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int(read_line(MAX_LINE + 1).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while read_line(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(_read_exact(read, size))
            read_line(MAX_LINE + 1)
    return _read_exact(read, int(headers.get("content-length") or 0))


def _read_exact(read: Callable[[int], bytes], size: int) -> bytes:
    data = read(size) if size else b""
    if len(data) != size:
        raise ConnectionError(f"request body cut short: {len(data)} of {size} bytes")
    return data


def _s3_error(fault: Fault, req: Request) -> _Answer:
    message = S3_ERROR_CODES.get(fault.status, ("", "Injected fault."))[1]
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{fault.code}</Code><Message>{message}</Message>"
        f"<Resource>{req.path}</Resource><RequestId>faultproxy</RequestId></Error>"
    ).encode()
    reason = http.client.responses.get(fault.status, "Error")
    return _Answer(fault.status, reason, [("Content-Type", "application/xml")], body)


def _frame(answer: _Answer, *, head: bool, close: bool) -> bytes:
    lines = [f"HTTP/1.1 {answer.status} {answer.reason}"]
    for name, value in answer.headers:
        if name.lower() not in HOP_BY_HOP:
            lines.append(f"{name}: {value}")
    no_body = head or answer.status in (204, 304) or answer.status < 200
    if head:
        length = dict((n.lower(), v) for n, v in answer.headers).get("content-length")
        if length is not None:
            lines.append(f"Content-Length: {length}")
    elif not no_body:
        lines.append(f"Content-Length: {len(answer.body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if no_body else answer.body)


def _reset(conn: socket.socket) -> None:
    """Make the coming close() send RST instead of FIN: a connection reset by peer."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
