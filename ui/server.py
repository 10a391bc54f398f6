"""Serving the dashboard with uvicorn inside an asyncio loop we own.

The socket is bound here, before uvicorn starts, so a port already in use is one clear
error instead of uvicorn's log line and exit. Signals stay with the caller: `watch`
has its own shutdown order (stop reading, close segments, drain the queue).

Connections are accepted here too, not by asyncio's server: one at a time, counted the
moment they are accepted. uvicorn's own `limit_concurrency` counts requests once their
headers have arrived, so a client that opens hundreds of connections and sends half a
request on each would hold hundreds of file handles, in the process whose tailing needs
them. Past `Limits.connections`, a new connection gets a 503 and is closed at once (it
holds a handle for microseconds); a request's headers must arrive within
`header_timeout_s`, and an idle kept-alive connection is closed after `keepalive_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import time
from collections.abc import Callable, Generator
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from uploader.core.errors import UsageError, UserError

from .limits import Limits, Load, Slot
from .security import ABORT, HEADERS, WILDCARD_BINDS, is_loopback
from .service import Sessions

log = logging.getLogger(__name__)

#: Connections accepted per wake-up of the listening socket, before other work runs.
ACCEPT_BATCH = 16
#: After the process ran out of file handles, accepting waits this long (the kernel
#: queues new connections meanwhile, holding none of ours).
ACCEPT_PAUSE_S = 0.5
#: The soft limit on open files is raised to the hard limit, up to this.
MAX_OPEN_FILES = 65536
_OUT_OF_HANDLES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def _response(status: bytes, body: bytes, *headers: bytes) -> bytes:
    """A whole HTTP/1.1 response that closes its connection, with our headers."""
    lines = [b"HTTP/1.1 " + status, b"content-type: text/plain; charset=utf-8",
             b"connection: close", b"content-length: %d" % len(body), *headers]  # fmt: skip
    lines += [name + b": " + value for name, value in HEADERS]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


_BUSY = _response(
    b"503 Service Unavailable",
    b"Service Unavailable: too many connections; retry.\n",
    b"retry-after: 2",
)
_BAD = _response(b"400 Bad Request", b"Bad Request: not a valid HTTP request\n")


def check_exposure(bind: str, token: str | None) -> None:
    if not is_loopback(bind) and not token:
        raise UsageError(
            f"--ui-bind {bind} would show every session to the network without a token",
            "set --ui-token (or AGENT_UI_TOKEN) to a long random value, or bind to 127.0.0.1",
        )


_raised = False


def raise_open_files_limit() -> None:
    """Once per process: the soft limit on open files up to the hard one (capped), so
    the tailing and the dashboard have the room the system allows them."""
    global _raised
    if _raised:
        return
    _raised = True
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            log.debug("open files limit raised from %d to %d", soft, target)
        except (OSError, ValueError) as exc:
            log.debug("could not raise the open files limit: %s", exc)


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserError(
                f"port {port} on {host} is already in use",
                "stop the other program, pick another --ui-port, or pass --ui-disable",
            ) from exc
        raise UserError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            "check --ui-bind (an address of this machine) and --ui-port",
        ) from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


class Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, plus: a deadline for each request's headers, the
    connection's place under the cap given back when it closes, a way for the app to
    drop the connection (a client that stopped reading), and a 400 with our headers."""

    def __init__(self, *args: Any, slot: Slot, limits: Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slot = slot
        self._header_timeout_s = limits.header_timeout_s
        self._header_timer: asyncio.TimerHandle | None = None
        self._seen_cycle: object = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first bytes of a request: its headers are now due
        try:
            super().data_received(data)
        except UnicodeDecodeError:  # a request target that is not ASCII
            self._bad_request()
            return
        self._check_started()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._check_started()  # a pipelined request may have started

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        try:
            super().connection_lost(exc)
        finally:
            self._slot.release()

    def send_400_response(self, msg: str) -> None:
        self._bad_request()

    def _bad_request(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(_BAD)
            self.transport.close()

    def _check_started(self) -> None:
        cycle = self.cycle
        if cycle is not None and cycle is not self._seen_cycle:
            self._seen_cycle = cycle
            self._disarm()
            # Read by the app's guard (the request's task has not run yet).
            cycle.scope[ABORT] = self._abort  # type: ignore[literal-required]

    def _abort(self) -> None:
        if self.cycle is not None:
            self.cycle.disconnected = True
        self.transport.abort()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self._header_timeout_s, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()


class Listener:
    """The accept loop of one listening socket (asyncio's server would accept a whole
    backlog at once: hundreds of file handles before any could be counted)."""

    def __init__(
        self,
        sock: socket.socket,
        protocol: Callable[[Slot], asyncio.Protocol],
        load: Load,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.sock = sock
        self.protocol = protocol
        self.load = load
        self.loop = loop
        self._closed = False
        self._resume: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._warned_at = 0.0

    def start(self) -> None:
        self._resume = None
        if not self._closed:
            self.loop.add_reader(self.sock.fileno(), self._accept)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._resume is not None:
            self._resume.cancel()
        with contextlib.suppress(ValueError, OSError):
            self.loop.remove_reader(self.sock.fileno())

    async def wait_closed(self) -> None:
        return None

    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno in _OUT_OF_HANDLES:
                    self._pause(exc)
                else:
                    log.warning("dashboard: accepting a connection failed: %s", exc)
                return
            slot = self.load.connections.take()
            if slot is None:
                self.load.refused += 1
                _turn_away(conn)
                continue
            task = self.loop.create_task(self._serve(conn, slot))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _serve(self, conn: socket.socket, slot: Slot) -> None:
        try:
            await self.loop.connect_accepted_socket(lambda: self.protocol(slot), conn)
        except BaseException as exc:
            slot.release()
            conn.close()
            if not isinstance(exc, Exception):
                raise
            log.debug("dashboard: a connection failed at once: %s", exc)

    def _pause(self, exc: OSError) -> None:
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            log.warning("dashboard: out of file handles (%s); new connections wait",
                        exc.strerror)  # fmt: skip
        with contextlib.suppress(ValueError, OSError):
            self.loop.remove_reader(self.sock.fileno())
        self._resume = self.loop.call_later(ACCEPT_PAUSE_S, self.start)


def _turn_away(conn: socket.socket) -> None:
    """503 and close, without waiting for anything: the handle is released at once."""
    try:
        conn.setblocking(False)
        conn.send(_BUSY)
        conn.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            conn.recv(65536)  # what the client sent already: closing over it would reset
    except OSError:
        pass
    finally:
        conn.close()


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, load: Load) -> None:
        super().__init__(config)
        self.load = load

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the caller handles SIGINT/SIGTERM

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.lifespan.startup()
        config, loop, limits = self.config, asyncio.get_running_loop(), self.load.limits

        def protocol(slot: Slot) -> asyncio.Protocol:
            return Protocol(config=config, server_state=self.server_state,
                            app_state=self.lifespan.state, slot=slot, limits=limits)  # fmt: skip

        listeners = [Listener(sock, protocol, self.load, loop) for sock in sockets or ()]
        for listener in listeners:
            listener.start()
        self.servers = listeners  # type: ignore[assignment]  # close() and wait_closed()
        self.started = True


class Dashboard:
    """A bound socket and the uvicorn server that will serve on it."""

    def __init__(self, app: ASGIApp, host: str, port: int, sessions: Sessions, load: Load) -> None:
        self.sessions = sessions
        self.load = load
        self.sock = bind_socket(host, port)
        self.host = host
        self.port = self.sock.getsockname()[1]  # the real one when --ui-port 0
        config = uvicorn.Config(
            app,
            http="h11",
            log_level="warning",
            access_log=False,
            log_config=None,  # uvicorn's records go through our own (escaping) handler
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=max(1, round(load.limits.keepalive_s)),
            h11_max_incomplete_event_size=16 << 10,  # the request line and headers
            proxy_headers=False,  # X-Forwarded-* is read by the guard, from our proxies only
            server_header=False,
            ws="none",
        )
        self.server = _Server(config, load)

    @property
    def url(self) -> str:
        return self._url(self.host)

    @property
    def local_url(self) -> str:
        """The URL to open on this machine (loopback when bound to every address)."""
        return self._url("127.0.0.1" if self.host in WILDCARD_BINDS else self.host)

    def _url(self, host: str) -> str:
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/"

    async def serve(self) -> None:
        log.info("dashboard at %s", self.url)
        try:
            await self.server.serve(sockets=[self.sock])
        finally:
            self.sock.close()

    def stop(self) -> None:
        self.server.should_exit = True


async def serve_until(dashboard: Dashboard, stop: asyncio.Event) -> None:
    task = asyncio.create_task(dashboard.serve(), name="dashboard")
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    dashboard.stop()
    waiter.cancel()
    await task
