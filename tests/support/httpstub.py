"""A loopback HTTP server that answers every request alike (403, 503...): for stores and
dashboards that must fail in a known way."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

S3_ERRORS = {
    403: ("AccessDenied", "Access Denied"),
    404: ("NoSuchBucket", "The specified bucket does not exist"),
    503: ("SlowDown", "Please reduce your request rate."),
}


class FixedAnswer:
    """Answers `status` with `body` (a HEAD: `head_status`, if given), its Date header
    `clock_offset` seconds off, and keeps each request's method and path."""

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/plain",
        *,
        head_status: int | None = None,
        clock_offset: float = 0.0,
    ) -> None:
        self.requests: list[str] = []
        answer = self

        class Handler(BaseHTTPRequestHandler):
            def date_time_string(self, timestamp: float | None = None) -> str:
                return formatdate((timestamp or time.time()) + clock_offset, usegmt=True)

            def _answer(self) -> None:
                answer.requests.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                if length and self.headers.get("Expect", "").lower() != "100-continue":
                    self.rfile.read(length)
                code = head_status if self.command == "HEAD" and head_status else status
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header(
                    "Content-Length", "0" if self.command == "HEAD" else str(len(body))
                )
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[FixedAnswer]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=5)


@contextmanager
def fixed_status_server(status: int, *, clock_offset: float = 0.0) -> Iterator[str]:
    """Yield the endpoint URL of a server answering `status` with an S3-style error body;
    its Date header is `clock_offset` seconds off."""
    code, message = S3_ERRORS.get(status, ("InternalError", "error"))
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()
    stub = FixedAnswer(status, body, "application/xml", clock_offset=clock_offset)
    with stub.running() as server:
        yield server.url
