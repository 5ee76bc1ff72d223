"""Client-side rate limiting: budgets, pacing, fairness and the waiters, on a virtual clock."""

from __future__ import annotations

import asyncio
import threading

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


def test_sync_waiter_sleeps_the_reserved_time(clock: VirtualClock) -> None:
    waiter = SyncRateLimiter(RateLimiter(historical=RateLimit(2, 10.0), margin=0.0), clock=clock)
    assert [waiter.acquire(HISTORICAL) for _ in range(5)] == pytest.approx(
        [0.0, 0.0, 10.0, 0.0, 10.0]
    )
    assert clock.sleeps == pytest.approx((10.0, 10.0))
    assert clock.monotonic() == pytest.approx(20.0)


async def test_async_waiter_awaits_the_reserved_time(clock: VirtualClock) -> None:
    waiter = AsyncRateLimiter(RateLimiter(historical=RateLimit(3, 30.0), margin=0.0), clock=clock)
    waits = [await waiter.acquire(HISTORICAL, 1) for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 30.0])
    assert clock.sleeps == pytest.approx((30.0,))


async def test_concurrent_tasks_share_the_budget_fairly(clock: VirtualClock) -> None:
    limiter = RateLimiter(historical=RateLimit(4, 8.0), margin=0.0)
    waiter = AsyncRateLimiter(limiter, clock=clock)
    waits = await asyncio.gather(*(waiter.acquire(HISTORICAL) for _ in range(10)))
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
