"""What every request passes before it reaches a page: the Host it names, where an unsafe
request comes from, its size, and the token; and the headers every response carries.

Threat model: the dashboard listens on loopback by default, without a token. Any web
page the user opens can make the browser send requests to 127.0.0.1, and with DNS
rebinding (a name of the attacker's that first points at the attacker's server, then at
127.0.0.1) even read the answers, as its own origin. Such requests name the attacker's
host in `Host`: answering only to the names of this machine (loopback, the bind address,
--ui-allowed-host) makes them fail with 421 before any data is read. Unsafe methods
also need an Origin that is this dashboard (or none: not a browser).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import COOKIE, Logins, Throttle
from .limits import Limits

log = logging.getLogger(__name__)

#: Scripts and styles come from our own /static only; transcripts can never run code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # No Referer to other sites; our own forms keep a real Origin (with no-referrer,
    # browsers send `Origin: null` on a same-origin POST).
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
OPEN_PATHS = ("/login", "/healthz", "/static/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
#: Keys this module sets in the ASGI scope for the routes (and the server reads).
AUTHENTICATED = "agent_ui.authenticated"
ABORT = "agent_ui.abort"  # set by the server: drop the connection at once
WILDCARD_BINDS = ("0.0.0.0", "::", "")


def safe_next(target: str | None) -> str:
    """Only a path on this server: never `//host` or a full URL (an open redirect).
    Control characters are refused too: browsers drop tabs and newlines from a URL, so
    `/<tab>/host` would become `//host`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or len(target) > 2048:
        return "/"
    return target


def split_authority(value: str) -> tuple[str, str | None] | None:
    """`host[:port]` as in a Host header -> (host, port), lower-case and without IPv6
    brackets; None if it is not one."""
    value = value.strip().lower()
    if not value or len(value) > 300:
        return None
    if value.startswith("["):
        end = value.find("]")
        host, rest = value[1:end], value[end + 1 :]
        if end < 0 or not _is_ip(host, 6):
            return None
    else:
        host, sep, rest = value.partition(":")
        rest = sep + rest
    port = None
    if rest:
        if not rest.startswith(":") or not rest[1:].isdigit() or len(rest) > 6:
            return None
        port = rest[1:]
    if not host or any(not (c.isalnum() or c in "-._:") for c in host) or not host.isascii():
        return None
    return host, port


def _is_ip(host: str, version: int | None = None) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return version is None or address.version == version


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HostPolicy:
    """The names this dashboard answers to: loopback (127.x, [::1], localhost), the
    address it is bound to, and the hosts given with --ui-allowed-host (a reverse proxy's
    name, `name` for any port or `name:port` for one). Bound to every address (0.0.0.0),
    any IP address and this machine's name are allowed too: rebinding needs a name of
    the attacker's, never an address typed by the user."""

    def __init__(self, bind: str = "127.0.0.1", extra: Iterable[str] = ()) -> None:
        self.wildcard = bind in WILDCARD_BINDS
        self.names = {"localhost"}
        if not self.wildcard:
            self.names.add(_normal(bind))
        else:
            self.names.add(socket.gethostname().lower())
        self.extra_names: set[str] = set()
        self.extra_pairs: set[tuple[str, str]] = set()
        for entry in extra:
            parsed = split_authority(entry)
            if parsed is None:
                raise ValueError(entry)
            host, port = parsed
            if port is None:
                self.extra_names.add(_normal(host))
            else:
                self.extra_pairs.add((_normal(host), port))

    def allows(self, authority: str | None) -> bool:
        parsed = split_authority(authority) if authority else None
        if parsed is None:
            return False
        host, port = _normal(parsed[0]), parsed[1]
        if host in self.names or host in self.extra_names or is_loopback(host):
            return True
        if port is not None and (host, port) in self.extra_pairs:
            return True
        return self.wildcard and _is_ip(host)

    def origin_ok(self, origin: str, authority: str) -> bool:
        """An Origin header of this dashboard: the page that sent the request was served
        by this very host and port (or by an allowed proxy name)."""
        try:
            parts = urlsplit(origin)
            netloc = parts.netloc
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or parts.path or not self.allows(netloc):
            return False
        mine, theirs = split_authority(authority), split_authority(netloc)
        if mine is None or theirs is None:
            return False
        if _normal(theirs[0]) == _normal(mine[0]) and theirs[1] == mine[1]:
            return True
        host = _normal(theirs[0])
        return host in self.extra_names or (host, theirs[1] or "") in self.extra_pairs

    def trusted_proxy(self, peer: str | None) -> bool:
        """May this peer's X-Forwarded-* headers be believed? A proxy on this machine, or
        one named with --ui-allowed-host by its address."""
        if not peer:
            return False
        return is_loopback(peer) or _normal(peer) in self.extra_names


def _normal(host: str) -> str:
    """One spelling per address (`::1` and `0:0::1` alike); names lower-cased."""
    host = host.strip("[]").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def peer_of(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def client_key(scope: Scope, hosts: HostPolicy) -> str:
    """Who is asking, for the login brake: the peer, or behind a proxy of ours the
    address the proxy saw (the last X-Forwarded-For entry, the one it added)."""
    peer = peer_of(scope) or "?"
    forwarded = header(scope, b"x-forwarded-for")
    if forwarded and hosts.trusted_proxy(peer):
        last = forwarded.split(",")[-1].strip()[:64]
        if last:
            return last
    return peer


def is_https(scope: Scope, hosts: HostPolicy) -> bool:
    if scope.get("scheme") == "https":
        return True
    proto = (header(scope, b"x-forwarded-proto") or "").strip().lower()
    return proto == "https" and hosts.trusted_proxy(peer_of(scope))


def plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    """A short refusal; the connection is closed after it (a client sending what is
    refused here is not one to keep a connection open for)."""
    return PlainTextResponse(
        text + "\n", status_code=status, headers={"connection": "close", **(headers or {})}
    )


def refused(scope: Scope, status: int, message: str, hint: str | None = None,
            headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    """An error before the app: JSON under /api/, short plain text elsewhere."""
    if str(scope.get("path", "")).startswith("/api/"):
        return JSONResponse({"error": message, "hint": hint}, status_code=status, headers=headers)
    return plain(status, message + (f"\n{hint}" if hint else ""), headers)


class Guard:
    """ASGI middleware around the whole app (Starlette's own error responses included):
    security headers on every response, a stall timeout on every send, and the checks
    above; with a token, every request outside OPEN_PATHS must carry it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: HostPolicy,
        limits: Limits,
        logins: Logins | None,
        throttle: Throttle,
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.limits = limits
        self.logins = logins
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        stall_s = self.limits.stall_s

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *HEADERS]
            try:
                async with asyncio.timeout(stall_s):
                    await send(message)
            except TimeoutError:
                # The client reads nothing: drop it, so it holds nothing of ours any longer.
                abort = scope.get(ABORT)
                if abort is not None:
                    abort()
                raise ClientDisconnect() from None

        try:
            response = self.check(scope)
            if response is not None:
                await response(scope, receive, guarded_send)
                return
            await self.app(scope, receive, guarded_send)
        except ClientDisconnect:
            pass  # the client went away (or was dropped); nothing to answer
        except Exception as exc:
            # The path only: a query string may hold what the user typed, or a token.
            log.error("%s %s failed: %r", scope.get("method"), _printable(scope), exc,
                      exc_info=exc)  # fmt: skip
            if not started:
                await plain(500, "Internal Server Error")(scope, receive, guarded_send)
            else:
                abort = scope.get(ABORT)
                if abort is not None:
                    abort()  # a half-sent response cannot be finished: cut the connection

    def check(self, scope: Scope) -> Response | None:
        """The answer for a request that may not go on, or None."""
        path: str = scope["path"]
        if len(scope.get("raw_path") or path) > self.limits.path_chars:
            return plain(414, "URI Too Long")
        if len(scope.get("query_string", b"")) > self.limits.query_chars:
            return plain(414, "URI Too Long")
        headers = scope.get("headers", ())
        if (
            len(headers) > 100
            or sum(len(k) + len(v) for k, v in headers) > self.limits.header_bytes
        ):
            return plain(431, "Request Header Fields Too Large")
        authority = header(scope, b"host")
        if not self.hosts.allows(authority):
            return plain(
                421,
                "Misdirected Request: this dashboard does not answer to that host name.\n"
                "Behind a reverse proxy, allow its name with --ui-allowed-host.",
            )
        assert authority is not None
        if scope["method"] not in SAFE_METHODS and not self.same_origin(scope, authority):
            return plain(403, "Forbidden: a request from another site")
        length = header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                return plain(400, "Bad Request: Content-Length")
            if int(length) > self.limits.body_bytes:
                return plain(413, "Content Too Large")
        return self.authenticate(scope)

    def same_origin(self, scope: Scope, authority: str) -> bool:
        """An unsafe request from a page of this dashboard, or from no page at all (a
        script: no Origin). `Origin: null` (a sandboxed frame, a data: URL, or an older
        page's own form) only with the browser's word that it is same-origin."""
        origin = header(scope, b"origin")
        site = (header(scope, b"sec-fetch-site") or "").strip().lower()
        if site in ("cross-site", "same-site"):
            return False
        if origin is None:
            return True
        if origin.strip() == "null":
            return site == "same-origin"
        return self.hosts.origin_ok(origin, authority)

    def authenticate(self, scope: Scope) -> Response | None:
        path: str = scope["path"]
        if self.logins is None:
            scope[AUTHENTICATED] = True
            return None
        scope[AUTHENTICATED] = False
        headers = Headers(scope=scope)
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            client = client_key(scope, self.hosts)
            wait = self.throttle.wait(client)
            if wait:
                return refused(scope, 429, "too many wrong tokens; wait before trying again",
                               None, {"retry-after": str(wait)})  # fmt: skip
            if self.logins.token_ok(auth[7:].strip()):
                scope[AUTHENTICATED] = True
                return None
            self.throttle.failed(client)
        elif any(self.logins.valid(v) for v in cookies_named(headers.get("cookie", ""), COOKIE)):
            scope[AUTHENTICATED] = True
            return None
        if path == "/login" or path == "/healthz" or path.startswith("/static/"):
            return None
        if path.startswith("/api/") or path == "/metrics":
            return JSONResponse(
                {"error": "this dashboard needs its token", "hint": "send "
                 "'Authorization: Bearer <token>' (the --ui-token value)"},
                status_code=401,
                headers={"www-authenticate": "Bearer"},
            )  # fmt: skip
        if scope["method"] not in SAFE_METHODS:
            return plain(401, "Unauthorized: sign in first")
        query = scope.get("query_string", b"").decode("latin-1")
        target = safe_next(path + (f"?{query}" if query else ""))
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def cookies_named(header_value: str, name: str) -> list[str]:
    out = []
    for part in header_value.split(";")[:50]:
        key, _, value = part.strip().partition("=")
        if key == name:
            out.append(value.strip('"'))
    return out


def _printable(scope: Scope) -> str:
    path = str(scope.get("path", ""))[:200]
    return path.encode("unicode_escape").decode("ascii")
