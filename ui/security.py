"""Headers every response carries, and the token that guards a dashboard reachable from
other machines (a bearer header for scripts, a cookie after the login form for people).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "agent_ui"
#: Scripts and styles come from our own /static only; transcripts can never run code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
OPEN_PATHS = ("/login", "/healthz", "/static/")


def cookie_value(token: str) -> str:
    """What the cookie holds: derived from the token, so the token itself is not stored
    in the browser."""
    return hmac.new(token.encode(), b"agent-uploader dashboard", hashlib.sha256).hexdigest()


def token_ok(token: str, given: str) -> bool:
    return hmac.compare_digest(token.encode(), given.encode())


def safe_next(target: str | None) -> str:
    """Only a path on this server: never `//host` or a full URL (an open redirect).
    Control characters are refused too: browsers drop tabs and newlines from a URL, so
    `/<tab>/host` would become `//host`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target


class Guard:
    """ASGI middleware: security headers on every response; with a token, every request
    outside OPEN_PATHS must carry it."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token
        self.cookie = cookie_value(token) if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)

        if self.token and not self._allowed(scope):
            path = scope["path"]
            response: JSONResponse | RedirectResponse
            if path.startswith("/api/") or path == "/metrics":
                response = JSONResponse(
                    {"error": "this dashboard needs its token", "hint": "send "
                     "'Authorization: Bearer <token>' (the --ui-token value)"},
                    status_code=401,
                    headers={"www-authenticate": "Bearer"},
                )  # fmt: skip
            else:
                query = scope.get("query_string", b"").decode("latin-1")
                target = path + (f"?{query}" if query else "")
                response = RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _allowed(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path == "/login" or path == "/healthz" or path.startswith("/static/"):
            return True
        headers = Headers(scope=scope)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and self.token:
            return token_ok(self.token, auth[7:].strip())
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and self.cookie and hmac.compare_digest(value, self.cookie):
                return True
        return False
