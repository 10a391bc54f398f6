"""A loopback HTTP server that answers every request with one fixed status (403, 503...)."""

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


@contextmanager
def fixed_status_server(status: int, *, clock_offset: float = 0.0) -> Iterator[str]:
    """Yield the endpoint URL of a server answering `status` with an S3-style error body;
    its Date header is `clock_offset` seconds off."""
    code, message = S3_ERRORS.get(status, ("InternalError", "error"))
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            return formatdate((timestamp or time.time()) + clock_offset, usegmt=True)

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length and self.headers.get("Expect", "").lower() != "100-continue":
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
