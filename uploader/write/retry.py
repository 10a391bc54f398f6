"""Retry forever, with capped exponential backoff and full jitter: nothing is ever dropped.

Passing failures (429, 5xx, timeouts, resets) are retried with growing delays up to
the cap. Failures that need a person (bad credentials, a missing bucket) are logged
loudly and retried at the cap, so the uploader recovers by itself once they are
fixed, and the data waits in the spool meanwhile. The clock is injectable so tests
can play an outage of minutes in milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from uploader.stores.base import (
    BucketNotFound,
    StorageAuthError,
    StorageConflict,
    StorageError,
    StorageUnavailable,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class Stopped(Exception):
    """The process is shutting down: give up waiting, keep the data in the spool."""


Sleeper = Callable[[float, asyncio.Event], Awaitable[bool]]


async def sleep_or_stop(delay: float, stop: asyncio.Event) -> bool:
    """Sleep `delay` seconds; True if `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        return stop.is_set()
    return True


@dataclass
class RetryStats:
    retries: int = 0
    errors: int = 0


@dataclass
class RetryPolicy:
    base: float = 0.5
    cap: float = 30.0
    sleep: Sleeper = sleep_or_stop
    rng: random.Random = field(default_factory=random.Random)
    stats: RetryStats = field(default_factory=RetryStats)

    def delay(self, attempt: int) -> float:
        """Full jitter over an exponential ceiling (never zero, never above the cap)."""
        # The exponent is bounded: 2**1024 no longer fits a float (OverflowError after
        # about four hours of one outage), and the cap is reached long before.
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 64))
        return max(self.base / 2, self.rng.uniform(0, ceiling))

    async def run(self, call: Callable[[], Awaitable[T]], *, what: str, stop: asyncio.Event) -> T:
        attempt = 0
        while True:
            if stop.is_set():
                raise Stopped(what)
            try:
                return await call()
            except StorageUnavailable as exc:
                delay = self.delay(attempt)
                log.warning("%s failed: %s; retry %d in %.1fs", what, exc, attempt + 1, delay)
            except StorageConflict:
                raise  # not a passing failure: the caller settles or reports it
            except (StorageAuthError, BucketNotFound) as exc:
                delay = self.cap
                self.stats.errors += 1
                log.error(
                    "%s refused: %s. The data stays in the spool; fix the store settings "
                    "(credentials, bucket). Retrying in %.0fs.",
                    what,
                    exc,
                    delay,
                )
            except StorageError as exc:
                delay = self.cap
                self.stats.errors += 1
                log.error(
                    "%s failed: %s. The data stays in the spool; retrying in %.0fs.",
                    what,
                    exc,
                    delay,
                )
            self.stats.retries += 1
            attempt += 1
            if await self.sleep(delay, stop):
                raise Stopped(what)
