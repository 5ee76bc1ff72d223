"""Bulk extraction with the async client: the same behaviour as the sync client, with tasks
bounded by a semaphore and the rate limit awaited."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx2
import pytest

from pyconviva import (
    AsyncConvivaAPI,
    ConvivaAPI,
    MetricsResult,
    QueryError,
    QuerySpec,
    RateLimit,
    RateLimiter,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
)
from pyconviva.emulator import Emulator, StatusFault
from pyconviva.testing import VirtualClock

NOW = datetime(2025, 6, 1, 12, 17, 43, tzinfo=timezone.utc)
DAY_START = datetime(2025, 6, 1, tzinfo=timezone.utc)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(now=NOW, audience="small")  # replies small enough to compare whole


@pytest.fixture
async def api(emulator: Emulator) -> AsyncIterator[AsyncConvivaAPI]:
    async with emulator.async_client() as client:
        yield client


def test_get_many_has_the_same_signature_on_both_clients() -> None:
    sync = inspect.signature(ConvivaAPI.get_many)
    asynchronous = inspect.signature(AsyncConvivaAPI.get_many)
    assert list(sync.parameters.items()) == list(asynchronous.parameters.items())
    assert inspect.iscoroutinefunction(AsyncConvivaAPI.get_many)
    for method in ("get_historical_data", "get_real_time_data"):
        assert inspect.signature(getattr(AsyncConvivaAPI, method)).parameters["split"].default


async def test_async_split_query_merges_to_what_the_sync_client_returns(
    emulator: Emulator,
) -> None:
    weekly = timedelta(days=7)
    async with emulator.async_client(max_window=weekly) as api:
        merged = await api.get_historical_data(["attempts", "plays"], group_by="isp", time_range=30)
    with emulator.client(max_window=weekly) as sync, emulator.client() as unsplit:
        expected = sync.get_historical_data(["attempts", "plays"], group_by="isp", time_range=30)
        whole = unsplit.get_historical_data(["attempts", "plays"], group_by="isp", time_range=30)
    assert dict(merged) == dict(expected)
    assert merged.notes == expected.notes
    assert merged["time_series"] == whole["time_series"]


async def test_async_365_day_query_takes_five_requests(
    api: AsyncConvivaAPI, emulator: Emulator
) -> None:
    result = await api.get_historical_data("attempts", time_range=365)
    assert len(emulator.requests()) == 5
    assert len(result["time_series"]) == 365 * 24


async def test_async_413_is_halved(api: AsyncConvivaAPI, emulator: Emulator) -> None:
    two_days = (DAY_START - timedelta(days=2), DAY_START)
    whole = await api.get_historical_data("attempts", time_range=two_days)
    emulator.add_faults(StatusFault(status=413))
    merged = await api.get_historical_data("attempts", time_range=two_days)
    assert [r.status for r in emulator.requests()[1:]] == [413, 200, 200]
    assert merged["time_series"] == whole["time_series"]


class InFlight(httpx2.AsyncBaseTransport):
    """Counts requests in flight through the emulator's transport (and the most at once)."""

    def __init__(self, emulator: Emulator) -> None:
        self._inner = emulator.transport()
        self.now = 0
        self.most = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            return await self._inner.handle_async_request(request)
        finally:
            self.now -= 1


@pytest.mark.parametrize("bound", [1, 4])
async def test_async_windows_never_exceed_max_concurrency(bound: int) -> None:
    emulator = Emulator(now=NOW, latency=0.005)
    counter = InFlight(emulator)
    async with emulator.async_client(
        transport=counter, max_concurrency=bound, max_window=timedelta(days=1)
    ) as api:
        result = await api.get_historical_data("attempts", time_range=12)
    assert len(result["time_series"]) == 12 * 24
    assert counter.most == bound


async def test_async_rate_limit_keeps_every_window_within_its_budget(
    clock: VirtualClock,
) -> None:
    emulator = Emulator(now=NOW)
    sent: list[float] = []
    inner = emulator.transport()

    async def record(request: httpx2.Request) -> httpx2.Response:
        sent.append(clock.monotonic())
        return await inner.handle_async_request(request)

    budget = RateLimiter(historical=RateLimit(5, 60.0), per_ip=None, margin=0.0)
    async with emulator.async_client(
        transport=httpx2.MockTransport(record),
        rate_limit=budget,
        max_concurrency=4,
        max_window=timedelta(days=1),
        clock=clock,
    ) as api:
        await api.get_historical_data("attempts", time_range=12)

    assert sorted(sent) == [0.0] * 5 + [60.0] * 5 + [120.0] * 2
    assert all(sum(1 for t in sent if s <= t < s + 60) <= 5 for s in sent)


async def test_async_retries_wait_for_the_rate_limit_again(
    emulator: Emulator, clock: VirtualClock
) -> None:
    budget = RateLimiter(historical=RateLimit(1, 60.0), per_ip=None, margin=0.0)
    policy = RetryPolicy(max_retries=1, backoff_base=0.5, jitter=0.0)
    async with emulator.async_client(rate_limit=budget, retry=policy, clock=clock) as api:
        emulator.add_faults(StatusFault(status=503))
        await api.get_historical_data("attempts", time_range=1)
    # The retry's backoff (0.5 s) is not enough: the attempt waits for the budget's window.
    assert clock.sleeps == (0.5, 59.5)
    assert clock.monotonic() == 60.0
    assert [r.status for r in emulator.requests()] == [503, 200]


async def test_async_get_many_keeps_order_reports_errors_and_progress(
    emulator: Emulator, clock: VirtualClock
) -> None:
    emulator.add_faults(StatusFault(status=500, times=4, path="/plays"))
    calls: list[tuple[int, int]] = []
    specs = [
        QuerySpec.historical("attempts", time_range=2),
        QuerySpec.historical("plays", time_range=1),
        QuerySpec.historical("attempts", time_range=1, limit=0),
    ]
    # Four 500s outlast three retries, whatever the default policy is.
    async with emulator.async_client(
        max_window=timedelta(days=1), clock=clock, max_retries=3
    ) as api:
        batch = await api.get_many(specs, progress=lambda d, t: calls.append((d, t)))

    assert isinstance(batch[0], MetricsResult)
    assert len(batch[0]["time_series"]) == 48
    assert isinstance(batch[1], ServerError)
    assert isinstance(batch[2], QueryError)
    assert calls[-1] == (3, 3)
    assert [done for done, _ in calls] == [1, 2, 3]
    with pytest.raises(ServerError, match="query 1 of the batch failed; 1 other"):
        batch.raise_for_errors()


async def test_async_get_many_refuses_a_bad_bound(api: AsyncConvivaAPI) -> None:
    with pytest.raises(QueryError, match="max_concurrency=0"):
        await api.get_many([], max_concurrency=0)


async def test_async_get_many_refuses_a_progress_that_is_not_callable_before_sending(
    api: AsyncConvivaAPI, emulator: Emulator
) -> None:
    with pytest.raises(QueryError, match="progress must be callable, not int"):
        await api.get_many([QuerySpec.historical("attempts")], progress=5)  # type: ignore[arg-type]
    assert emulator.requests() == ()


async def test_async_without_split_a_413_is_raised_after_one_request(
    api: AsyncConvivaAPI, emulator: Emulator
) -> None:
    emulator.add_faults(StatusFault(status=413))
    with pytest.raises(ResponseTooLargeError):
        await api.get_historical_data("attempts", time_range=2, split=False)
    assert len(emulator.requests()) == 1
