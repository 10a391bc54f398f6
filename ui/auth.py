"""The dashboard's token, the sign-in cookie it buys, and the brake on guessing it.

The cookie never holds the token: it holds an expiry and a random id, signed with a
secret this process made at start (so a restart signs everyone out). A forged, altered
or expired cookie fails the signature or the clock; signing out puts the cookie's id on
a list of revoked ids until it would have expired anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable

COOKIE = "agent_ui"
COOKIE_MAX_AGE_S = 12 * 3600
MIN_TOKEN_CHARS = 16
#: Revoked cookie ids kept at most; past this the secret changes (everyone signs in again).
MAX_REVOKED = 10_000
_VERSION = "v1"


def generate_token() -> str:
    return secrets.token_urlsafe(32)


class Logins:
    def __init__(
        self,
        token: str,
        *,
        max_age_s: int = COOKIE_MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token = token.encode()
        self.max_age_s = max_age_s
        self._clock = clock
        self._secret = secrets.token_bytes(32)
        self._revoked: dict[str, int] = {}  # cookie id -> its expiry

    def token_ok(self, given: str) -> bool:
        return hmac.compare_digest(self._token, given.encode("utf-8", "replace"))

    def issue(self) -> str:
        """A new cookie value, good for max_age_s."""
        body = f"{_VERSION}.{int(self._clock()) + self.max_age_s}.{secrets.token_urlsafe(12)}"
        return f"{body}.{self._sign(body)}"

    def valid(self, value: str) -> bool:
        return self._parse(value) is not None

    def revoke(self, value: str) -> None:
        parsed = self._parse(value)
        if parsed is None:
            return
        cookie_id, expiry = parsed
        now = self._clock()
        self._revoked = {k: v for k, v in self._revoked.items() if v > now}
        if len(self._revoked) >= MAX_REVOKED:
            self._secret = secrets.token_bytes(32)  # every cookie out: none can pile up
            self._revoked.clear()
            return
        self._revoked[cookie_id] = expiry

    def _parse(self, value: str) -> tuple[str, int] | None:
        if len(value) > 200:
            return None
        parts = value.split(".")
        if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit():
            return None
        body = ".".join(parts[:3])
        if not hmac.compare_digest(self._sign(body), parts[3]):
            return None
        expiry = int(parts[1])
        if expiry <= self._clock() or parts[2] in self._revoked:
            return None
        return parts[2], expiry

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()


class Throttle:
    """Wrong tokens per client address (and overall) in a sliding window: past the limit,
    every attempt waits, right or wrong, or the limit would tell a guess nothing."""

    def __init__(
        self,
        per_client: int = 5,
        overall: int = 60,
        window_s: float = 60.0,
        *,
        max_clients: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_client = per_client
        self.overall = overall
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()

    def wait(self, client: str) -> int:
        """Seconds until `client` may try again (0: now)."""
        now = self._clock()
        waits = [self._wait(self._all, self.overall, now)]
        failures = self._clients.get(client)
        if failures is not None:
            waits.append(self._wait(failures, self.per_client, now))
            if not failures:
                del self._clients[client]
        return max(waits)

    def failed(self, client: str) -> None:
        now = self._clock()
        failures = self._clients.pop(client, None) or deque()
        failures.append(now)
        self._clients[client] = failures  # most recent last
        while len(self._clients) > self.max_clients:
            self._clients.popitem(last=False)
        self._all.append(now)

    def _wait(self, failures: deque[float], limit: int, now: float) -> int:
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if len(failures) < limit:
            return 0
        return max(1, int(failures[-limit] + self.window_s - now + 0.999))
