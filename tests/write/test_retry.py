"""Retries (uploader.write.retry): forever, with capped exponential backoff and full
jitter for passing failures, at the cap for those that need a person, never for a
conflict; on a virtual clock, so an outage of a day takes milliseconds."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import pytest

from tests.support.shipping import VirtualClock
from uploader.stores.base import (
    BucketNotFound,
    StorageAuthError,
    StorageConflict,
    StorageUnavailable,
)
from uploader.write.retry import RetryPolicy, Stopped


def test_retry_outlasts_an_outage_of_a_day(caplog: pytest.LogCaptureFixture) -> None:
    """One call failing for 24 h of virtual time (thousands of retries) still succeeds in
    the end. (The backoff's 2**attempt used to overflow a float at retry 1024, about four
    hours into an outage, and the OverflowError escaped the retry loop.)"""
    day = 24 * 3600.0
    clock = VirtualClock()
    retry = RetryPolicy(sleep=clock.sleep, rng=random.Random(2))

    async def put() -> str:
        if clock.now < day:
            raise StorageUnavailable("PUT sessions/x: 503 SlowDown")
        return "stored"

    async def main() -> str:
        return await retry.run(put, what="PUT sessions/x", stop=asyncio.Event())

    caplog.set_level(logging.ERROR, logger="uploader.write.retry")  # thousands of WARNING lines
    assert asyncio.run(main()) == "stored"
    assert clock.now >= day
    assert retry.stats.retries > 1024
    assert retry.base / 2 <= min(clock.sleeps) and max(clock.sleeps) <= retry.cap


def failing(errors: list[Exception], calls: list[int]) -> Callable[[], Awaitable[str]]:
    """A store call that raises `errors` one per attempt, then answers "stored"."""

    async def call() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "stored"

    return call


def run(retry: RetryPolicy, call: Callable[[], Awaitable[str]], stop: bool = False) -> str:
    async def main() -> str:
        event = asyncio.Event()
        if stop:
            event.set()
        return await retry.run(call, what="PUT sessions/x", stop=event)

    return asyncio.run(main())


def test_a_passing_failure_is_retried_with_delays_under_the_cap() -> None:
    clock = VirtualClock()
    retry = RetryPolicy(base=1.0, cap=8.0, sleep=clock.sleep, rng=random.Random(3))
    calls: list[int] = []
    errors: list[Exception] = [StorageUnavailable("503 SlowDown") for _ in range(6)]
    assert run(retry, failing(errors, calls)) == "stored"
    assert len(calls) == 7 and retry.stats.retries == 6 and retry.stats.errors == 0
    assert all(0.5 <= d <= 8.0 for d in clock.sleeps)


def test_refusals_that_need_a_person_wait_at_the_cap_and_are_counted() -> None:
    clock = VirtualClock()
    retry = RetryPolicy(base=1.0, cap=8.0, sleep=clock.sleep, rng=random.Random(4))
    calls: list[int] = []
    errors: list[Exception] = [StorageAuthError("403 AccessDenied"), BucketNotFound("no bucket")]
    assert run(retry, failing(errors, calls)) == "stored"
    assert clock.sleeps == [8.0, 8.0]
    assert retry.stats.errors == 2 and len(calls) == 3


def test_a_conflict_is_not_retried() -> None:
    clock = VirtualClock()
    retry = RetryPolicy(sleep=clock.sleep)
    calls: list[int] = []
    with pytest.raises(StorageConflict):
        run(retry, failing([StorageConflict("manifest.json changed")], calls))
    assert len(calls) == 1 and clock.sleeps == [] and retry.stats.retries == 0


def test_a_shutdown_stops_the_retrying_and_the_call_is_not_made_again() -> None:
    calls: list[int] = []
    with pytest.raises(Stopped):
        run(RetryPolicy(), failing([], calls), stop=True)
    assert calls == []  # stopping before the first attempt: nothing is sent

    async def stopped_while_waiting(delay: float, stop: asyncio.Event) -> bool:
        return True  # the stop came during the wait

    calls = []
    retry = RetryPolicy(sleep=stopped_while_waiting)
    with pytest.raises(Stopped):
        run(retry, failing([StorageUnavailable("timeout"), StorageUnavailable("x")], calls))
    assert len(calls) == 1


def test_every_delay_is_between_half_the_base_and_the_cap() -> None:
    retry = RetryPolicy(base=0.5, cap=30.0, rng=random.Random(5))
    delays = [retry.delay(attempt) for attempt in range(3000)]
    assert min(delays) >= 0.25 and max(delays) <= 30.0
    assert max(delays[:3]) <= 0.5 * 2**2  # the ceiling grows from the base
