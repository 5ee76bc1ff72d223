"""Slow start: a cold account budget sends a first wave alone, so that a window another consumer
has nearly filled costs at most that wave's overflow in 429s.

Limiter-level tests drive ``AsyncRateLimiter`` with tasks that hold their slot until the test
says their reply is in; client-level tests reproduce the race slow start exists for: the first
replies come back before the 429s of requests that arrived later, and without waves the workers
that got them would send again into the full window.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx2
import pytest

from pyconviva import (
    AsyncConvivaAPI,
    Clock,
    ConvivaAPI,
    MetricsResult,
    RateLimit,
    RateLimiter,
    SystemClock,
    _ratelimit,
)
from pyconviva._ratelimit import FIRST_WAVE, AsyncRateLimiter, Slot, SyncRateLimiter
from pyconviva._rules import HISTORICAL, REAL_TIME
from pyconviva.testing import VirtualClock
from tests.bulk.test_shared_budget import one_hour_queries


class Requests:
    """Tasks that each acquire a slot and hold it until :meth:`answer` says their reply is in."""

    def __init__(self, limiter: RateLimiter, clock: Clock) -> None:
        self._waiter = AsyncRateLimiter(limiter, clock=clock)
        self._tasks: list[asyncio.Task[Slot]] = []
        self._answered: set[int] = set()

    def send(self, count: int, root: str = HISTORICAL) -> list[asyncio.Task[Slot]]:
        tasks = [asyncio.create_task(self._waiter.acquire(root)) for _ in range(count)]  # type: ignore[arg-type]
        self._tasks += tasks
        return tasks

    async def admitted(self) -> list[int]:
        """Indices of the requests admitted and not answered yet, once the tasks have run."""
        for _ in range(20):
            await asyncio.sleep(0)
        return [
            index
            for index, task in enumerate(self._tasks)
            if task.done() and not task.cancelled() and index not in self._answered
        ]

    def answer(self, indices: list[int]) -> None:
        for index in indices:
            self._tasks[index].result().release()
            self._answered.add(index)

    async def waves(self) -> list[int]:
        """Answer every admitted request, round after round; how many went in each round."""
        rounds = []
        while admitted := await self.admitted():
            rounds.append(len(admitted))
            self.answer(admitted)
        return rounds


def account(requests: int, **options: object) -> RateLimiter:
    """A limiter whose historical budget is ``requests`` a minute; no per-IP budget."""
    return RateLimiter(historical=RateLimit(requests, 60.0), per_ip=None, margin=0.0, **options)  # type: ignore[arg-type]


async def test_a_cold_budget_holds_the_request_after_its_first_wave_until_every_reply_is_in(
    clock: VirtualClock,
) -> None:
    requests = Requests(account(400), clock)
    requests.send(FIRST_WAVE + 1)
    assert await requests.admitted() == list(range(FIRST_WAVE))
    requests.answer(list(range(FIRST_WAVE - 1)))
    assert await requests.admitted() == [FIRST_WAVE - 1]  # one reply of the wave still out
    requests.answer([FIRST_WAVE - 1])
    assert await requests.admitted() == [FIRST_WAVE]
    assert clock.monotonic() == 0.0  # held back by replies, not by time


async def test_a_first_wave_answered_without_a_429_lets_the_rest_go_together(
    clock: VirtualClock,
) -> None:
    requests = Requests(account(1000), clock)
    requests.send(300)
    assert await requests.waves() == [FIRST_WAVE, 300 - FIRST_WAVE]


async def test_once_warm_only_the_bucket_paces_requests(clock: VirtualClock) -> None:
    requests = Requests(account(24), clock)
    requests.send(FIRST_WAVE)
    assert await requests.waves() == [FIRST_WAVE]
    requests.send(30)  # none of them is answered: nothing but the bucket holds them back
    assert len(await requests.admitted()) == 30
    assert clock.monotonic() == 60.0  # 16 left of the window now, the other 14 at 60 s


async def test_a_429_cools_the_budget_back_to_a_first_wave(clock: VirtualClock) -> None:
    limiter = account(1000)
    requests = Requests(limiter, clock)
    requests.send(20)
    assert await requests.waves() == [FIRST_WAVE, 12]  # warm
    limiter.rate_limited(HISTORICAL, sent_at=clock.monotonic(), now=clock.monotonic())
    again = Requests(limiter, clock)
    again.send(20)
    assert await again.waves() == [FIRST_WAVE, 12]  # after the pause, probed again
    assert clock.monotonic() == 60.0  # the pause: this limiter's window, without margin


async def test_a_budget_the_client_left_idle_for_a_window_is_cold_again(
    clock: VirtualClock,
) -> None:
    limiter = account(1000)
    requests = Requests(limiter, clock)
    requests.send(20)
    assert await requests.waves() == [FIRST_WAVE, 12]  # warm
    clock.advance(61.0)  # a window with nothing of ours in it: others may have filled it
    again = Requests(limiter, clock)
    again.send(10)
    assert await again.waves() == [FIRST_WAVE, 2]


async def test_replies_that_came_back_before_the_wave_was_whole_are_not_enough(
    clock: VirtualClock,
) -> None:
    """The race: early replies say nothing of the wave's requests sent after them."""
    requests = Requests(account(1000), clock)
    for _ in range(5):
        requests.send(1)
        assert len(await requests.admitted()) == 1
        requests.answer(await requests.admitted())
    requests.send(FIRST_WAVE)  # 3 complete the wave; the other 5 wait for its replies
    assert len(await requests.admitted()) == 3


async def test_a_request_too_costly_for_the_rest_of_the_wave_goes_once_the_replies_are_in(
    clock: VirtualClock,
) -> None:
    waiter = AsyncRateLimiter(account(1000), clock=clock)
    with await waiter.acquire(HISTORICAL, 5):
        pass
    costly = asyncio.create_task(waiter.acquire(HISTORICAL, 5))  # 5 + 5 > FIRST_WAVE
    (await costly).release()


async def test_a_whole_wave_waits_for_its_slow_replies_only_so_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reply still out after the patience is a slow query, not a 429 on its way."""
    monkeypatch.setattr(_ratelimit, "FIRST_WAVE_PATIENCE", 0.05)
    requests = Requests(account(1000), SystemClock())
    requests.send(FIRST_WAVE + 2)
    assert await requests.admitted() == list(range(FIRST_WAVE))
    requests.answer(list(range(FIRST_WAVE - 1)))  # the last reply of the wave is slow
    assert await requests.admitted() == [FIRST_WAVE - 1]
    await asyncio.sleep(0.2)  # real time: the patience is measured on the client's clock
    assert await requests.admitted() == [FIRST_WAVE - 1, FIRST_WAVE, FIRST_WAVE + 1]


def test_a_sync_waiter_held_back_goes_when_the_patience_runs_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_ratelimit, "FIRST_WAVE_PATIENCE", 0.05)
    waiter = SyncRateLimiter(account(1000), clock=SystemClock())
    first_wave = [waiter.acquire(HISTORICAL) for _ in range(FIRST_WAVE)]  # none answered
    waiter.acquire(HISTORICAL).release()  # held back, then let go after 0.05 s
    assert not any(slot._ticket.released for slot in first_wave)


async def test_a_request_given_up_while_held_back_leaves_no_hole_in_the_wave(
    clock: VirtualClock,
) -> None:
    requests = Requests(account(400), clock)
    first_wave = requests.send(FIRST_WAVE)
    held = requests.send(2)
    await requests.admitted()
    held[0].cancel()
    requests.answer(list(range(FIRST_WAVE)))
    assert await requests.admitted() == [FIRST_WAVE + 1]
    assert all(task.done() for task in first_wave)


async def test_a_real_time_request_passes_historical_requests_held_back(
    clock: VirtualClock,
) -> None:
    requests = Requests(RateLimiter(margin=0.0), clock)  # the published budgets, per-IP too
    requests.send(FIRST_WAVE + 1, HISTORICAL)
    requests.send(1, REAL_TIME)
    assert await requests.admitted() == [*range(FIRST_WAVE), FIRST_WAVE + 1]


def test_a_budget_smaller_than_the_first_wave_is_never_held_back() -> None:
    limiter = account(4)
    assert [limiter.reserve(HISTORICAL, 1, now=0.0) for _ in range(4)] == [0.0] * 4


# -- the race slow start is for, through the clients ---------------------------------------------

ROOM = 5  # what another consumer left of the account's window
BATCH = 20


class NearlyFullWindow:
    """An account window with ``ROOM`` requests left until the window turns (61 s on ``clock``).

    Successes answer at once; a 429 comes back only after ``delay`` (its connection was slower,
    as fresh connections are), which is when the workers whose replies came back first would
    send again.
    """

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.statuses: list[int] = []

    def decide(self) -> int:
        with self._lock:
            admitted = self._clock.monotonic() >= 61.0 or self.statuses.count(200) < ROOM
            status = 200 if admitted else 429
            self.statuses.append(status)
            return status


def reply(request: httpx2.Request, status: int) -> httpx2.Response:
    if status == 429:
        return httpx2.Response(429, json={"message": "rate limit exceeded"}, request=request)
    return httpx2.Response(200, json={"time_series": [], "total": {}}, request=request)


def test_sync_batch_into_a_nearly_full_window_draws_only_the_first_waves_overflow(
    clock: VirtualClock,
) -> None:
    window = NearlyFullWindow(clock)

    def answer(request: httpx2.Request) -> httpx2.Response:
        status = window.decide()
        if status == 429:
            time.sleep(0.05)
        return reply(request, status)

    with ConvivaAPI("key", "id", transport=httpx2.MockTransport(answer), clock=clock) as api:
        batch = api.get_many(one_hour_queries(BATCH))
    assert [type(outcome) for outcome in batch] == [MetricsResult] * BATCH
    assert window.statuses.count(429) == FIRST_WAVE - ROOM


async def test_async_batch_into_a_nearly_full_window_draws_only_the_first_waves_overflow(
    clock: VirtualClock,
) -> None:
    window = NearlyFullWindow(clock)

    async def answer(request: httpx2.Request) -> httpx2.Response:
        status = window.decide()
        if status == 429:
            for _ in range(50):  # every success meanwhile is taken in, and its worker goes on
                await asyncio.sleep(0)
        return reply(request, status)

    async with AsyncConvivaAPI(
        "key", "id", transport=httpx2.MockTransport(answer), clock=clock
    ) as api:
        batch = await api.get_many(one_hour_queries(BATCH))
    assert [type(outcome) for outcome in batch] == [MetricsResult] * BATCH
    assert window.statuses.count(429) == FIRST_WAVE - ROOM
