"""Client-side rate limiting: budgets, pacing, fairness, the waiters, and what 429s teach, on a
virtual clock."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva import ConfigurationError, QueryError, RateLimit, RateLimiter
from pyconviva._ratelimit import ARRIVAL_MARGIN, AsyncRateLimiter, SyncRateLimiter, TokenBucket
from pyconviva._rules import HISTORICAL, REAL_TIME, Root, request_cost
from pyconviva.testing import VirtualClock


def max_in_any_window(grants: list[tuple[float, float]], window: float) -> float:
    """The largest total cost of grants inside any half-open window [t, t + window).

    Grant instants are rebuilt as ``now + wait``, which may round a hair away from the instant
    booked; the tolerance keeps a token that returned exactly on time from counting twice.
    """
    times = sorted(grants)
    return max(sum(c for g, c in times if t <= g < t + window - 1e-9) for t, _ in times)


def test_burst_up_to_capacity_goes_out_immediately() -> None:
    bucket = TokenBucket(capacity=120, refill_per_second=2)
    assert [bucket.reserve(1, now=0.0) for _ in range(120)] == [0.0] * 120


def test_request_beyond_capacity_waits_for_a_token_to_return() -> None:
    bucket = TokenBucket(capacity=10, refill_per_second=1)  # 10 per 10 s
    for _ in range(10):
        bucket.reserve(1, now=0.0)
    assert bucket.reserve(1, now=0.0) == pytest.approx(10.0)
    assert bucket.reserve(1, now=4.0) == pytest.approx(6.0)  # queued behind the first waiter


def test_tokens_spent_late_return_late() -> None:
    bucket = TokenBucket(capacity=2, refill_per_second=0.5)  # 2 per 4 s
    assert bucket.reserve(1, now=0.0) == 0.0
    assert bucket.reserve(1, now=3.0) == 0.0
    assert bucket.reserve(1, now=3.0) == pytest.approx(1.0)  # the token spent at 0 is back at 4
    assert bucket.reserve(1, now=3.0) == pytest.approx(4.0)  # the one spent at 3 is back at 7


def test_long_job_is_paced_at_the_refill_rate() -> None:
    bucket = TokenBucket(capacity=400, refill_per_second=400 / 60)
    grants = [bucket.reserve(1, now=0.0) for _ in range(2000)]
    assert grants[:400] == [0.0] * 400
    assert grants[-1] == pytest.approx(240.0)  # 2000 requests = 5 budgets: the last at 4 windows
    assert 2000 / (grants[-1] + 60) == pytest.approx(400 / 60)


def test_callers_of_equal_cost_are_served_in_arrival_order() -> None:
    bucket = TokenBucket(capacity=4, refill_per_second=1)
    bucket.reserve(4, now=0.0)
    granted = [now + bucket.reserve(2, now) for now in (0.5, 0.6, 0.7, 0.8)]
    assert granted == sorted(granted)
    assert granted == pytest.approx([4.0, 4.0, 8.0, 8.0])


def test_later_caller_waits_behind_a_queued_one() -> None:
    bucket = TokenBucket(capacity=10, refill_per_second=1)  # 10 per 10 s
    assert bucket.reserve(8, now=0.0) == 0.0
    assert bucket.reserve(5, now=0.0) == pytest.approx(10.0)  # queued until the 8 return
    # Two tokens are free right now, but taking one would break the promise made to the 5.
    assert bucket.reserve(1, now=0.0) == pytest.approx(10.0)


def test_caller_passes_the_queue_when_the_budget_has_room_for_everyone() -> None:
    bucket = TokenBucket(capacity=10, refill_per_second=1)
    bucket.reserve(3, now=0.0)
    bucket.reserve(3, now=0.0)
    assert bucket.reserve(3, now=0.0) == 0.0  # 9 of 10: everyone fits at once
    assert bucket.reserve(1, now=0.0) == 0.0


def test_cost_weighs_against_the_budget() -> None:
    bucket = TokenBucket(capacity=10, refill_per_second=1)
    assert bucket.reserve(5, now=0.0) == 0.0
    assert bucket.reserve(5, now=0.0) == 0.0
    assert bucket.reserve(1, now=0.0) == pytest.approx(10.0)


def test_bucket_refuses_a_cost_above_its_capacity() -> None:
    with pytest.raises(ValueError, match="cost"):
        TokenBucket(capacity=3, refill_per_second=1).reserve(4, now=0.0)


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=20),
    window=st.sampled_from([1.0, 7.5, 60.0]),
    arrivals=st.lists(
        st.tuples(st.floats(min_value=0, max_value=5, allow_nan=False), st.integers(1, 20)),
        min_size=1,
        max_size=120,
    ),
)
def test_no_sliding_window_ever_exceeds_the_budget(
    capacity: int, window: float, arrivals: list[tuple[float, int]]
) -> None:
    bucket = TokenBucket(capacity, capacity / window)
    now, grants = 0.0, list[tuple[float, float]]()
    for gap, cost in arrivals:
        now += gap
        cost = min(cost, capacity)
        grants.append((now + bucket.reserve(cost, now), float(cost)))
    assert max_in_any_window(grants, window) <= capacity


@settings(max_examples=40, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=10),
    gaps=st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), min_size=1, max_size=60),
)
def test_a_request_waits_only_while_the_budget_is_spent(capacity: int, gaps: list[float]) -> None:
    """Each grant is the earliest legal instant: one moment earlier would break the budget."""
    window = 2.0
    bucket = TokenBucket(capacity, capacity / window)
    now, grants = 0.0, [float("-inf")]
    for gap in gaps:
        now += gap
        wait = bucket.reserve(1, now)
        granted = now + wait
        if wait > 0 and granted > grants[-1]:
            just_before = granted - 1e-6
            in_window = len([g for g in grants if just_before - window < g <= just_before])
            assert in_window >= capacity  # one moment earlier, the budget was still spent
        grants.append(granted)


def test_request_draws_from_its_root_and_the_per_ip_budget() -> None:
    limiter = RateLimiter(
        historical=RateLimit(5, 60.0),
        real_time=RateLimit(5, 60.0),
        per_ip=RateLimit(8, 60.0),
        margin=0.0,
    )
    waits = [limiter.reserve(HISTORICAL, 1, now=0.0) for _ in range(5)]
    waits += [limiter.reserve(REAL_TIME, 1, now=0.0) for _ in range(3)]
    assert waits == [0.0] * 8
    # Each root has budget left, but the per-IP budget of 8 is spent.
    assert limiter.reserve(REAL_TIME, 1, now=0.0) == pytest.approx(60.0)


def test_metadata_requests_draw_on_the_per_ip_budget_only() -> None:
    limiter = RateLimiter(historical=RateLimit(1, 60.0), per_ip=RateLimit(3, 60.0), margin=0.0)
    assert limiter.reserve(HISTORICAL, 1, now=0.0) == 0.0
    assert [limiter.reserve(None, 1, now=0.0) for _ in range(3)] == pytest.approx([0, 0, 60])


def test_roots_have_separate_account_budgets() -> None:
    limiter = RateLimiter(historical=RateLimit(2, 60.0), real_time=RateLimit(2, 60.0), margin=0.0)
    assert [limiter.reserve(HISTORICAL, 1, now=0.0) for _ in range(2)] == [0.0, 0.0]
    assert limiter.reserve(REAL_TIME, 2, now=0.0) == 0.0
    assert limiter.reserve(HISTORICAL, 1, now=0.0) == pytest.approx(60.0)


def test_published_budgets_allow_a_burst_of_400_historical_requests() -> None:
    limiter = RateLimiter()
    assert all(limiter.reserve(HISTORICAL, 1, now=0.0) == 0.0 for _ in range(400))
    # the 401st waits out the window plus the default arrival margin
    assert limiter.reserve(HISTORICAL, 1, now=0.0) == pytest.approx(60.0 + ARRIVAL_MARGIN)
    assert limiter.reserve(REAL_TIME, 1, now=0.0) == 0.0


def test_filter_values_are_charged_per_value() -> None:
    limiter = RateLimiter()
    cost = request_cost([("metric", "plays"), ("isp", "A"), ("isp", "B"), ("tag_app", "1")])
    assert cost == 3
    assert all(limiter.reserve(HISTORICAL, cost, now=0.0) == 0.0 for _ in range(133))
    # 399 + 3 > 400: wait out the window (plus the default arrival margin)
    assert limiter.reserve(HISTORICAL, cost, now=0.0) == pytest.approx(60.0 + ARRIVAL_MARGIN)


def test_unfiltered_request_costs_one() -> None:
    params = [("metric", "plays"), ("days", "3"), ("granularity", "PT1H"), ("limit", "10")]
    assert request_cost(params) == 1
    assert request_cost([("filter_id", "42")]) == 1


def test_scale_shrinks_every_budget() -> None:
    limiter = RateLimiter(scale=0.25, margin=0.0)
    assert all(limiter.reserve(HISTORICAL, 1, now=0.0) == 0.0 for _ in range(100))
    assert limiter.reserve(HISTORICAL, 1, now=0.0) == pytest.approx(60.0)


def test_disabled_limiter_never_waits() -> None:
    limiter = RateLimiter.disabled()
    assert all(limiter.reserve(HISTORICAL, 50, now=0.0) == 0.0 for _ in range(10_000))


def test_request_costlier_than_a_whole_budget_is_a_query_error() -> None:
    limiter = RateLimiter(historical=RateLimit(10, 60.0), margin=0.0)
    with pytest.raises(QueryError, match="11 filter values") as caught:
        limiter.reserve(HISTORICAL, 11, now=0.0)
    assert caught.value.argument == "filter_by"


@pytest.mark.parametrize("scale", [0.0, -1.0, 0.001])
def test_unusable_scale_is_a_configuration_error(scale: float) -> None:
    with pytest.raises(ConfigurationError, match="scale"):
        RateLimiter(scale=scale, margin=0.0)


def test_limiters_do_not_share_budgets() -> None:
    first, second = (
        RateLimiter(historical=RateLimit(1, 60.0), margin=0.0),
        RateLimiter(historical=RateLimit(1, 60.0), margin=0.0),
    )
    assert first.reserve(HISTORICAL, 1, now=0.0) == 0.0
    assert second.reserve(HISTORICAL, 1, now=0.0) == 0.0


async def waited(waiter: AsyncRateLimiter) -> float:
    """The seconds a historical request waited for its turn (its reply is in at once)."""
    with await waiter.acquire(HISTORICAL) as slot:
        return slot.waited


def test_sync_waiter_sleeps_the_reserved_time(clock: VirtualClock) -> None:
    waiter = SyncRateLimiter(RateLimiter(historical=RateLimit(2, 10.0), margin=0.0), clock=clock)
    assert [waiter.acquire(HISTORICAL).waited for _ in range(5)] == pytest.approx(
        [0.0, 0.0, 10.0, 0.0, 10.0]
    )
    assert clock.sleeps == pytest.approx((10.0, 10.0))
    assert clock.monotonic() == pytest.approx(20.0)


async def test_async_waiter_awaits_the_reserved_time(clock: VirtualClock) -> None:
    waiter = AsyncRateLimiter(RateLimiter(historical=RateLimit(3, 30.0), margin=0.0), clock=clock)
    waits = [(await waiter.acquire(HISTORICAL, 1)).waited for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 30.0])
    assert clock.sleeps == pytest.approx((30.0,))


async def test_concurrent_tasks_share_the_budget_fairly(clock: VirtualClock) -> None:
    limiter = RateLimiter(historical=RateLimit(4, 8.0), margin=0.0)
    waiter = AsyncRateLimiter(limiter, clock=clock)
    waits = await asyncio.gather(*(waited(waiter) for _ in range(10)))
    assert sorted(waits) == pytest.approx([0.0] * 4 + [8.0] * 4 + [16.0] * 2)
    assert clock.monotonic() == pytest.approx(16.0)  # the waits overlapped, as real ones would


def test_threads_never_overbook_the_budget() -> None:
    limiter = RateLimiter(historical=RateLimit(50, 60.0), per_ip=None, margin=0.0)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            wait = limiter.reserve(HISTORICAL, 1, now=0.0)
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([0.0] * 50 + [60.0] * 50 + [120.0] * 50 + [180.0] * 50)


def test_repr_shows_budgets() -> None:
    text = repr(RateLimiter(per_ip=None, margin=0.0))
    assert "capacity=400" in text
    assert "capacity=500" in text


@settings(max_examples=40, deadline=None)
@given(
    arrivals=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=4, allow_nan=False),
            st.sampled_from([HISTORICAL, REAL_TIME]),
            st.integers(1, 3),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_mixed_roots_keep_every_budget_in_every_window(
    arrivals: list[tuple[float, Root, int]],
) -> None:
    limits = {HISTORICAL: RateLimit(6, 10.0), REAL_TIME: RateLimit(5, 10.0)}
    per_ip = RateLimit(8, 20.0)
    limiter = RateLimiter(
        historical=limits[HISTORICAL], real_time=limits[REAL_TIME], per_ip=per_ip, margin=0.0
    )
    now = 0.0
    grants: dict[Root, list[tuple[float, float]]] = {HISTORICAL: [], REAL_TIME: []}
    for gap, root, cost in arrivals:
        now += gap
        wait = limiter.reserve(root, cost, now)
        grants[root].append((now + wait, float(cost)))
    for root, limit in limits.items():
        if grants[root]:
            assert max_in_any_window(grants[root], limit.period) <= limit.requests
    both = grants[HISTORICAL] + grants[REAL_TIME]
    assert max_in_any_window(both, per_ip.period) <= per_ip.requests


# --- learning from 429s -------------------------------------------------------------------------


def account_limiter(**options: object) -> RateLimiter:
    """A historical budget of 40 a minute (the published one at scale 0.1), margin 1 s."""
    options.setdefault("per_ip", None)
    return RateLimiter(historical=RateLimit(40, 60.0), **options)  # type: ignore[arg-type]


def test_a_429_without_retry_after_closes_the_budget_for_a_window_and_halves_the_estimate() -> None:
    limiter = account_limiter()
    for _ in range(8):
        assert limiter.reserve(HISTORICAL, 1, now=0.0) == 0.0
    opens = limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.5)
    assert opens == pytest.approx(0.5 + 60.0 + ARRIVAL_MARGIN)
    assert limiter.reserve(HISTORICAL, 1, now=1.0) == pytest.approx(opens - 1.0)
    assert "limit=20" in repr(limiter)


def test_429s_for_requests_sent_before_the_decrease_are_the_same_event() -> None:
    limiter = account_limiter()
    limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.2)
    later = limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.3)  # in flight meanwhile
    assert "limit=20" in repr(limiter)  # not halved twice
    assert later == pytest.approx(0.2 + 61.0)  # the event's pause, from its first 429


def test_a_late_429_of_an_event_whose_pause_is_over_retries_at_once() -> None:
    limiter = account_limiter()
    limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.0)
    assert limiter.rate_limited(HISTORICAL, sent_at=0.0, now=70.0) == 70.0


def test_a_429_for_a_request_sent_after_the_pause_halves_the_estimate_again() -> None:
    limiter = account_limiter()
    opens = limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.0)
    limiter.rate_limited(HISTORICAL, sent_at=opens, now=opens + 0.1)
    assert "limit=10" in repr(limiter)


def test_successes_grow_the_estimate_back_one_request_each_up_to_the_published_budget() -> None:
    limiter = account_limiter()
    limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.0)
    limiter.succeeded(HISTORICAL, 1, sent_at=0.0)  # sent before the decrease: no news
    assert "limit=20" in repr(limiter)
    for _ in range(5):
        limiter.succeeded(HISTORICAL, 1, sent_at=61.0)
    assert "limit=25" in repr(limiter)
    for _ in range(100):
        limiter.succeeded(HISTORICAL, 1, sent_at=61.0)
    assert "limit" not in repr(limiter)  # back at the full capacity of 40, no further


def test_after_the_pause_bookings_keep_to_the_lower_estimate() -> None:
    limiter = account_limiter(margin=0.0)
    opens = limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.0)
    waits = [limiter.reserve(HISTORICAL, 1, now=opens) for _ in range(25)]
    assert waits == [0.0] * 20 + [pytest.approx(60.0)] * 5


def test_the_estimate_never_falls_below_one_request() -> None:
    limiter = account_limiter()
    for event in range(10):
        limiter.rate_limited(HISTORICAL, sent_at=float(event), now=event + 0.5)
    assert "limit=1," in repr(limiter) or "limit=1)" in repr(limiter)
    # A request costlier than the estimate still goes, once the budget is otherwise empty.
    assert limiter.reserve(HISTORICAL, 3, now=1000.0) == 0.0


def test_a_429_with_retry_after_waits_only_its_own_request_and_lowers_the_estimate() -> None:
    limiter = account_limiter()
    assert limiter.rate_limited(HISTORICAL, sent_at=0.0, now=1.0, retry_after=7.0) == 8.0
    assert limiter.reserve(HISTORICAL, 1, now=1.0) == 0.0  # nobody else pauses
    assert "limit=20" in repr(limiter)


def test_real_time_429s_pause_the_real_time_budget_and_not_the_historical_one() -> None:
    limiter = RateLimiter(per_ip=None)
    opens = limiter.rate_limited(REAL_TIME, sent_at=0.0, now=0.0)
    assert limiter.reserve(REAL_TIME, 1, now=0.0) == pytest.approx(opens)
    assert limiter.reserve(HISTORICAL, 1, now=0.0) == 0.0
    assert repr(limiter).count("limit=250") == 1


def test_a_metadata_429_pauses_the_per_ip_budget_and_so_every_request() -> None:
    limiter = RateLimiter()
    opens = limiter.rate_limited(None, sent_at=0.0, now=0.0)
    assert opens == pytest.approx(60.0 + ARRIVAL_MARGIN)  # a minute, not the 5-minute window
    assert limiter.reserve(HISTORICAL, 1, now=0.0) == pytest.approx(opens)
    assert limiter.reserve(REAL_TIME, 1, now=0.0) == pytest.approx(opens)
    assert limiter.reserve(None, 1, now=0.0) == pytest.approx(opens)


def test_a_429_is_blamed_on_the_per_ip_budget_when_its_own_books_show_it_fuller() -> None:
    limiter = RateLimiter(per_ip=RateLimit(10, 300.0), margin=0.0)
    for _ in range(9):
        limiter.reserve(REAL_TIME, 1, now=0.0)  # 9 of 10 per IP, 9 of 500 real-time
    opens = limiter.rate_limited(REAL_TIME, sent_at=0.0, now=0.0)
    assert "per-IP=TokenBucket(capacity=10, refill_per_second=0.0333333, limit=5)" in repr(limiter)
    # Every request draws on the per-IP budget: a historical one waits too, here until the 9
    # return (300 s), since the lowered estimate of 5 leaves no room before.
    assert opens == 60.0
    assert limiter.reserve(HISTORICAL, 1, now=0.0) == pytest.approx(300.0)


def test_a_limiter_without_budgets_paces_nothing_but_still_pauses_after_a_429() -> None:
    limiter = RateLimiter.disabled()
    assert all(limiter.reserve(HISTORICAL, 50, now=0.0) == 0.0 for _ in range(1000))
    opens = limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.0)
    assert opens == pytest.approx(60.0 + ARRIVAL_MARGIN)
    assert limiter.reserve(HISTORICAL, 1, now=10.0) == pytest.approx(opens - 10.0)
    assert limiter.reserve(HISTORICAL, 1, now=opens) == 0.0


def test_a_budget_with_a_shorter_window_pauses_for_its_own_window() -> None:
    limiter = RateLimiter(historical=RateLimit(5, 10.0), per_ip=None, margin=0.0)
    assert limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.0) == 10.0


def test_a_pause_is_announced_once_at_info_when_a_request_first_waits_it_out(
    caplog: pytest.LogCaptureFixture, clock: VirtualClock
) -> None:
    pauses: list[tuple[float, str]] = []
    limiter = account_limiter(on_pause=lambda seconds, budget: pauses.append((seconds, budget)))
    caplog.set_level(logging.INFO, logger="pyconviva")
    for now in (0.0, 0.0, 0.1):  # three requests in flight refused together: one pause
        limiter.rate_limited(HISTORICAL, sent_at=0.0, now=now)
    assert pauses == []  # nobody waits yet
    clock.advance(0.1)
    limiter.awaiting_window(HISTORICAL, clock.monotonic())  # a refused request will retry
    # The pause runs from the first 429: later ones for requests sent with it do not extend it.
    assert SyncRateLimiter(limiter, clock=clock).acquire(HISTORICAL).waited == pytest.approx(60.9)
    assert pauses == [(pytest.approx(60.9), "historical")]
    records = [r for r in caplog.records if r.name == "pyconviva"]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    assert records[0].getMessage().startswith("waiting for the rate-limit window (61 s)")
    assert "resuming at 20 requests a window" in records[0].getMessage()


def test_a_new_request_that_meets_a_pause_announces_it(clock: VirtualClock) -> None:
    pauses: list[tuple[float, str]] = []
    limiter = account_limiter(on_pause=lambda seconds, budget: pauses.append((seconds, budget)))
    limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.0)
    clock.advance(1.0)
    SyncRateLimiter(limiter, clock=clock).acquire(HISTORICAL)
    assert pauses == [(pytest.approx(60.0), "historical")]


def test_a_pause_nobody_waits_out_is_not_announced(caplog: pytest.LogCaptureFixture) -> None:
    """A 429 that ends its call (max_retries=0) leaves the budget closed, silently."""
    pauses: list[tuple[float, str]] = []
    limiter = account_limiter(on_pause=lambda seconds, budget: pauses.append((seconds, budget)))
    caplog.set_level(logging.INFO, logger="pyconviva")
    assert limiter.rate_limited(HISTORICAL, sent_at=0.0, now=0.0) == 61.0
    assert pauses == []
    assert [r for r in caplog.records if r.name == "pyconviva"] == []


async def test_waiters_queued_when_a_429_comes_keep_their_order_behind_the_pause(
    clock: VirtualClock,
) -> None:
    limiter = RateLimiter(historical=RateLimit(2, 10.0), per_ip=None, margin=0.0)
    waiter = AsyncRateLimiter(limiter, clock=clock)

    async def refused_now() -> None:  # runs once the four have booked: two now, two at 10 s
        limiter.rate_limited(HISTORICAL, sent_at=0.0, now=clock.monotonic())

    *waits, _ = await asyncio.gather(*(waited(waiter) for _ in range(4)), refused_now())
    # Closed until 10 s, then one request a window (the estimate halved from 2): 10 s and 20 s.
    assert waits == pytest.approx([0.0, 0.0, 10.0, 20.0])


def test_a_thread_waiting_for_its_turn_wakes_and_waits_out_a_pause_that_began_meanwhile(
    clock: VirtualClock,
) -> None:
    limiter = RateLimiter(historical=RateLimit(1, 10.0), per_ip=None, margin=0.0)
    refused: list[float] = []

    class Refusing:
        """``clock``, except that 5 s into the first wait another request is refused."""

        def now(self) -> datetime:
            return clock.now()

        def monotonic(self) -> float:
            return clock.monotonic()

        def sleep(self, seconds: float) -> None:
            if not refused:
                clock.sleep(5.0)
                refused.append(limiter.rate_limited(HISTORICAL, sent_at=0.0, now=5.0))
                seconds -= 5.0
            clock.sleep(seconds)

        async def async_sleep(self, seconds: float) -> None:
            raise NotImplementedError

    waiter = SyncRateLimiter(limiter, clock=Refusing())
    assert waiter.acquire(HISTORICAL).waited == 0.0
    # Booked for 10 s; at 5 s a 429 closes the budget until 15 s: it wakes at 10, waits 5 more.
    assert waiter.acquire(HISTORICAL).waited == pytest.approx(15.0)
    assert refused == [15.0]
    assert clock.sleeps == pytest.approx((5.0, 5.0, 5.0))


@settings(max_examples=40, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=8, allow_nan=False),
            st.sampled_from(["book", "book", "book", "429", "ok"]),
        ),
        min_size=1,
        max_size=100,
    )
)
def test_pauses_and_estimates_never_let_a_window_exceed_the_budget(
    events: list[tuple[float, str]],
) -> None:
    limit = RateLimit(6, 10.0)
    limiter = RateLimiter(historical=limit, per_ip=None, margin=0.0)
    now, grants = 0.0, list[tuple[float, float]]()
    for gap, event in events:
        now += gap
        if event == "book":
            grants.append((now + limiter.reserve(HISTORICAL, 1, now), 1.0))
        elif event == "429":
            limiter.rate_limited(HISTORICAL, sent_at=max(0.0, now - gap), now=now)
        else:
            limiter.succeeded(HISTORICAL, 1, sent_at=now)
    if grants:
        assert max_in_any_window(grants, limit.period) <= limit.requests
    assert "limit=0" not in repr(limiter)
