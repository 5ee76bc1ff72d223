"""The account's budget is shared: 429s from a full window pause the whole client together, no
query is lost to them within its deadline, and time queued in the client's own limiter is not
charged to a call's deadline. Through the public clients, against the emulator, on virtual time.

The emulator counts its rate-limit windows on real elapsed time plus ``Emulator.advance()``. A
client waiting on a plain ``VirtualClock`` would wait virtual minutes while the emulator's
windows stay where they were, so these clients wait on :class:`EmulatorTime`, a clock (the
public ``Clock`` protocol) whose waits also advance the emulator.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Literal

import httpx2
import pytest

from pyconviva import (
    BatchResult,
    ConvivaAPI,
    MetricsResult,
    QuerySpec,
    RateLimiter,
    RetryPolicy,
)
from pyconviva.emulator import Emulator, RateLimitStorm
from pyconviva.testing import VirtualClock

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
SCALE = 0.1  # 40 historical requests a minute per account
FOREIGN = 35
BATCH = 30
WINDOW = 60.0 + 1.0  # the API's window plus the limiter's arrival margin

Client = Literal["sync", "async"]


class EmulatorTime:
    """Virtual time for a client whose waits also slide the emulator's rate-limit windows."""

    def __init__(self, emulator: Emulator) -> None:
        self.virtual = VirtualClock(NOW)
        self._emulator = emulator
        self._lock = threading.Lock()
        self._synced = 0.0

    def now(self) -> datetime:
        return self._emulator.now()

    def monotonic(self) -> float:
        return self.virtual.monotonic()

    def sleep(self, seconds: float) -> None:
        self.virtual.sleep(seconds)
        self._sync()

    async def async_sleep(self, seconds: float) -> None:
        await self.virtual.async_sleep(seconds)
        self._sync()

    def _sync(self) -> None:
        with self._lock:
            step = self.virtual.monotonic() - self._synced
            if step > 0:
                self._emulator.advance(step)
                self._synced += step


def one_hour_queries(count: int) -> list[QuerySpec]:
    """``count`` distinct one-request queries: consecutive hours of yesterday and before."""
    end = NOW.replace(hour=0)
    return [
        QuerySpec.historical(
            "attempts", time_range=(end - timedelta(hours=k + 1), end - timedelta(hours=k))
        )
        for k in range(count)
    ]


def spend_foreign_budget(emulator: Emulator, requests: int) -> None:
    """Another consumer of the account (a dashboard, another job) spends ``requests``."""
    with emulator.client(rate_limit=False, max_retries=0) as other:
        for spec in one_hour_queries(BATCH + requests)[BATCH:]:
            assert isinstance(other.get_many([spec])[0], MetricsResult)


def run_batch(
    client: Client,
    emulator: Emulator,
    clock: EmulatorTime,
    specs: Sequence[QuerySpec],
    **options: object,
) -> BatchResult:
    """``get_many(specs)`` with default settings on the sync or async client."""
    if client == "sync":
        with emulator.client(clock=clock, **options) as api:
            return api.get_many(specs)

    async def run() -> BatchResult:
        async with emulator.async_client(clock=clock, **options) as api:
            return await api.get_many(specs)

    return asyncio.run(run())


def refused(emulator: Emulator) -> list[datetime]:
    return [entry.time for entry in emulator.requests() if entry.status == 429]


@pytest.fixture
def shared() -> Emulator:
    """An account at a tenth of the published limits whose window another consumer filled."""
    emulator = Emulator(now=NOW, rate_limit=SCALE, audience="small")
    spend_foreign_budget(emulator, FOREIGN)
    return emulator


@pytest.mark.parametrize("client", ["sync", "async"])
def test_a_batch_on_a_budget_another_consumer_spent_loses_nothing_and_draws_at_most_3_429s(
    client: Client, shared: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pyconviva")
    batch = run_batch(client, shared, EmulatorTime(shared), one_hour_queries(BATCH))
    assert [type(outcome) for outcome in batch] == [MetricsResult] * BATCH
    assert 1 <= len(refused(shared)) <= 3
    pauses = [r for r in caplog.records if r.getMessage().startswith("waiting for the rate-limit")]
    assert len(pauses) == 1
    assert pauses[0].levelno == logging.INFO


@pytest.mark.parametrize("client", ["sync", "async"])
def test_every_request_in_flight_or_queued_waits_out_the_same_pause(
    client: Client, shared: Emulator
) -> None:
    run_batch(client, shared, EmulatorTime(shared), one_hour_queries(BATCH))
    first_refusal = refused(shared)[0]
    arrivals = [entry.time for entry in shared.requests()][FOREIGN:]
    during_pause = [
        t for t in arrivals if first_refusal < t < first_refusal + timedelta(seconds=WINDOW)
    ]
    assert during_pause == []  # refused together, then nothing until the window had freed
    assert sum(t >= first_refusal + timedelta(seconds=WINDOW) for t in arrivals) >= BATCH - 5


def test_the_batch_ends_about_one_window_after_the_other_consumers_burst(shared: Emulator) -> None:
    clock = EmulatorTime(shared)
    run_batch("async", shared, clock, one_hour_queries(BATCH))
    # The foreign requests leave the window 60 s after they were sent; the batch resumes then
    # (plus the 1 s margin) at half the budget, which grows back with each success.
    assert WINDOW <= clock.monotonic() <= 1.15 * 60.0


def test_on_pause_tells_a_progress_display_how_long_the_client_waits(shared: Emulator) -> None:
    pauses: list[tuple[float, str]] = []
    limiter = RateLimiter(on_pause=lambda seconds, budget: pauses.append((seconds, budget)))
    run_batch("async", shared, EmulatorTime(shared), one_hour_queries(BATCH), rate_limit=limiter)
    assert pauses == [(WINDOW, "historical")]


@pytest.mark.parametrize("client", ["sync", "async"])
def test_a_client_without_rate_limit_still_pauses_every_request_after_a_429(
    client: Client, shared: Emulator
) -> None:
    batch = run_batch(
        client, shared, EmulatorTime(shared), one_hour_queries(BATCH), rate_limit=False
    )
    assert all(isinstance(outcome, MetricsResult) for outcome in batch)
    assert len(refused(shared)) <= 8  # at most the requests in flight when the window filled


def test_no_query_is_lost_to_429s_while_its_deadline_allows() -> None:
    emulator = Emulator(now=NOW, audience="small")
    emulator.add_faults(RateLimitStorm(times=4))  # four full windows in a row
    clock = EmulatorTime(emulator)
    with emulator.client(clock=clock) as api:
        result = api.get_historical_data("attempts", time_range=1)
    assert isinstance(result, MetricsResult)
    assert clock.virtual.sleeps == (WINDOW,) * 4  # 244 s of the default 300 s deadline


def test_time_queued_in_the_clients_own_limiter_is_not_charged_to_the_deadline() -> None:
    """Issue 11's hostile case: 10 requests a minute, 11 queries, a 503 for the 11th."""
    answered: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        answered.append(request)
        status = 503 if len(answered) == 11 else 200
        return httpx2.Response(status, json={"time_series": [], "total": {}})

    clock = VirtualClock(NOW)
    policy = RetryPolicy(total_timeout=60.0, jitter=0.0)  # shorter than the queue's 61 s
    with ConvivaAPI(
        "key",
        "id",
        transport=httpx2.MockTransport(answer),
        clock=clock,
        rate_limit=RateLimiter(scale=0.025),
        retry=policy,
        max_concurrency=1,
    ) as api:
        batch = api.get_many(one_hour_queries(11))
    assert all(isinstance(outcome, MetricsResult) for outcome in batch)
    assert len(answered) == 12  # the 11th was retried, not given up
    # 61 s queued for the budget, then the retry's backoff: only the 0.5 s counts.
    assert clock.sleeps == pytest.approx((WINDOW, 0.5))
