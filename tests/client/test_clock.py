"""The time seam: a client reads, measures and waits on the Clock it is given, and on nothing else.

``pyconviva.testing.VirtualClock`` is the clock a test passes: its waits return at once, move it
forward and are recorded. ``SystemClock`` is real time, the default; a bare function returning
the time (the earlier form of ``clock=``) still sets the wall time.
"""

from __future__ import annotations

import asyncio
import math
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2
import pytest

from pyconviva import (
    Clock,
    ConfigurationError,
    ConvivaAPI,
    RetryPolicy,
    ServerError,
    SystemClock,
)
from pyconviva.emulator import Emulator, StatusFault
from pyconviva.testing import VirtualClock

NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=timezone.utc)
LAST_FULL_HOUR = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
OK_BODY: dict[str, Any] = {"kpis": [], "time_series": [], "total": {}}  # fits every call


def answering(*statuses: int) -> httpx2.MockTransport:
    """A transport answering each request with the next status (200 with OK_BODY at the end)."""
    script = iter(statuses)
    return httpx2.MockTransport(lambda request: httpx2.Response(next(script, 200), json=OK_BODY))


# --- VirtualClock ----------------------------------------------------------------------------


def test_a_virtual_wait_returns_at_once_and_moves_now_and_monotonic_together() -> None:
    clock = VirtualClock(NOW)
    clock.sleep(1.5)
    clock.sleep(0)
    clock.sleep(60)
    assert clock.monotonic() == 61.5
    assert clock.now() == NOW + timedelta(seconds=61.5)
    assert clock.sleeps == (1.5, 0.0, 60.0)
    assert clock.slept == 61.5


def test_advance_moves_the_clock_without_counting_as_a_wait() -> None:
    clock = VirtualClock(NOW)
    clock.advance(9)
    clock.sleep(1)
    assert clock.monotonic() == 10.0
    assert clock.now() == NOW + timedelta(seconds=10)
    assert clock.sleeps == (1.0,)
    assert clock.slept == 1.0


async def test_async_waits_begun_together_overlap_as_real_ones_would() -> None:
    clock = VirtualClock(NOW)
    await asyncio.gather(clock.async_sleep(3), clock.async_sleep(1), clock.async_sleep(2))
    assert clock.monotonic() == 3.0  # the longest wait, not their sum
    assert clock.sleeps == (3.0, 1.0, 2.0)
    assert clock.slept == 6.0
    await clock.async_sleep(1)  # one after the other, they add up
    assert clock.monotonic() == 4.0


def test_waits_from_many_threads_are_all_counted_and_never_run_the_clock_past_their_sum() -> None:
    clock = VirtualClock(NOW)

    def wait_often() -> None:
        for _ in range(100):
            clock.sleep(0.5)

    threads = [threading.Thread(target=wait_often) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(clock.sleeps) == 800
    assert clock.slept == 400.0
    assert 50.0 <= clock.monotonic() <= 400.0  # one thread's waits in a row, at least


def test_threads_that_read_the_clock_and_then_wait_overlap_as_real_threads_would() -> None:
    clock = VirtualClock(NOW)
    looked = threading.Barrier(8)

    def wait_for(instant: float) -> None:
        wait = instant - clock.monotonic()
        looked.wait()  # every thread has worked out its wait before any sleeps
        clock.sleep(wait)

    threads = [threading.Thread(target=wait_for, args=(61.0,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.monotonic() == 61.0  # not 8 x 61 s
    assert clock.slept == 8 * 61.0


def test_a_threads_wait_after_time_passed_begins_when_it_passed() -> None:
    clock = VirtualClock(NOW)
    clock.monotonic()
    clock.advance(10)
    clock.sleep(5)
    assert clock.monotonic() == 15.0


async def test_a_wait_after_an_async_wait_begins_where_that_one_ended() -> None:
    clock = VirtualClock(NOW)
    clock.monotonic()
    await clock.async_sleep(10)
    clock.sleep(5)
    assert clock.monotonic() == 15.0


@pytest.mark.parametrize("seconds", [-1.0, math.inf, math.nan])
def test_a_wait_that_time_sleep_would_refuse_is_refused(seconds: float) -> None:
    clock = VirtualClock(NOW)
    with pytest.raises(ValueError, match="finite number of seconds >= 0"):
        clock.sleep(seconds)
    with pytest.raises(ValueError, match="finite number of seconds >= 0"):
        clock.advance(seconds)
    assert clock.monotonic() == 0.0


def test_the_start_is_an_aware_or_naive_datetime_or_an_iso_string() -> None:
    noon = datetime(2025, 6, 2, 12, tzinfo=timezone.utc)
    assert VirtualClock("2025-06-02T12:00:00Z").now() == noon
    assert VirtualClock(NOW.replace(tzinfo=None)).now() == NOW  # naive: taken as UTC
    before = datetime.now(timezone.utc)
    assert before <= VirtualClock().now() <= datetime.now(timezone.utc)  # default: real now


@pytest.mark.parametrize("start", ["yesterday", 1_700_000_000])
def test_an_unusable_start_is_refused_with_a_fix(start: Any) -> None:
    with pytest.raises(ConfigurationError, match="VirtualClock"):
        VirtualClock(start)


def test_the_clocks_satisfy_the_clock_protocol() -> None:
    assert isinstance(VirtualClock(), Clock)
    assert isinstance(SystemClock(), Clock)


def test_the_system_clock_tells_aware_utc_time_and_never_runs_back() -> None:
    clock = SystemClock()
    assert clock.now().tzinfo == timezone.utc
    first = clock.monotonic()
    clock.sleep(0)
    assert clock.monotonic() >= first


# --- the client's clock ----------------------------------------------------------------------


def test_a_client_without_a_clock_uses_the_system_clock() -> None:
    with ConvivaAPI("key", "id", transport=answering()) as api:
        assert isinstance(api.clock, SystemClock)


def test_the_client_waits_on_its_clock_and_exposes_it_read_only() -> None:
    clock = VirtualClock(NOW)
    retry = RetryPolicy(jitter=0.0)
    with ConvivaAPI("key", "id", transport=answering(503, 503), retry=retry, clock=clock) as api:
        assert api.clock is clock
        api.get_kpis()
        with pytest.raises(AttributeError):
            api.clock = SystemClock()  # type: ignore[misc]
    assert clock.sleeps == (0.5, 1.0)


def test_the_retry_budget_is_measured_on_the_clock() -> None:
    clock = VirtualClock(NOW)
    slow_failures = httpx2.MockTransport(  # each reply takes 30 s to come, then fails
        lambda request: (clock.advance(30), httpx2.Response(503))[1]
    )
    policy = RetryPolicy(max_retries=5, jitter=0.0, total_timeout=45.0)
    with (
        ConvivaAPI("key", "id", transport=slow_failures, retry=policy, clock=clock) as api,
        pytest.raises(ServerError, match=r"Gave up after 2 attempts in 60\.5 s"),
    ):
        api.get_kpis()
    # After the first failure (30 s) a 0.5 s wait fits the 45 s budget; after the second none.
    assert clock.sleeps == (0.5,)


def test_a_function_as_clock_still_sets_the_wall_time() -> None:
    with ConvivaAPI("key", "id", transport=answering(), clock=lambda: NOW) as api:
        assert api.clock.now() == NOW
        assert isinstance(api.clock.monotonic(), float)
        result = api.get_historical_data("attempts", time_range=1)
    assert result.query is not None
    assert result.query.window == (LAST_FULL_HOUR - timedelta(days=1), LAST_FULL_HOUR)


@pytest.mark.parametrize("clock", [42, "now", object()])
def test_a_clock_of_the_wrong_kind_is_refused_with_a_fix(clock: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"clock=.*VirtualClock"):
        ConvivaAPI("key", "id", transport=answering(), clock=clock)


# --- the emulator's clients ------------------------------------------------------------------


def test_an_emulator_client_keeps_the_emulator_now_and_waits_on_the_given_clock() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=503))
    clock = VirtualClock("2020-01-01")
    with emulator.client(clock=clock, retry=RetryPolicy(jitter=0.0)) as api:
        result = api.get_historical_data("attempts", time_range=1)
        assert api.clock.now() == NOW
        assert api.clock.monotonic() == 0.5
    assert clock.sleeps == (0.5,)
    assert emulator.now() == NOW  # the data clock stays where it was
    assert result.query is not None
    assert result.query.window == (LAST_FULL_HOUR - timedelta(days=1), LAST_FULL_HOUR)


async def test_an_async_emulator_client_waits_on_the_given_clock() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=503, times=2))
    clock = VirtualClock()
    async with emulator.async_client(clock=clock, retry=RetryPolicy(jitter=0.0)) as api:
        await api.get_kpis()
        assert api.clock.now() == NOW
    assert clock.sleeps == (0.5, 1.0)


def test_a_function_given_to_an_emulator_client_replaces_its_wall_time() -> None:
    later = NOW + timedelta(days=1)
    with Emulator(now=NOW).client(clock=lambda: later) as api:
        assert api.clock.now() == later
