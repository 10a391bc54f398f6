"""Serving the dashboard with uvicorn inside an asyncio loop we own.

The socket is bound here, before uvicorn starts, so a port already in use is one clear
error instead of uvicorn's log line and exit. Signals stay with the caller: `watch`
has its own shutdown order (stop reading, close segments, drain the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

from uploader.errors import UsageError, UserError

from .service import Sessions

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(bind: str, token: str | None) -> None:
    if not is_loopback(bind) and not token:
        raise UsageError(
            f"--ui-bind {bind} would show every session to the network without a token",
            "set --ui-token (or AGENT_UI_TOKEN) to a long random value, or bind to 127.0.0.1",
        )


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


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the caller handles SIGINT/SIGTERM


class Dashboard:
    """A bound socket and the uvicorn server that will serve on it."""

    def __init__(self, app: ASGIApp, host: str, port: int, sessions: Sessions) -> None:
        self.sessions = sessions
        self.sock = bind_socket(host, port)
        self.host = host
        self.port = self.sock.getsockname()[1]  # the real one when --ui-port 0
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            ws="none",
        )
        self.server = _Server(config)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
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
