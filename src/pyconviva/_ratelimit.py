"""Client-side rate limiting shaped by the API's published request budgets.

The API allows 400 filter-weighted requests a minute per account on the historical root, 500 on
the real-time root, and 3000 per 5 minutes per IP address across both (reference §8). A request
draws from its root's budget *and* from the per-IP budget.

:class:`TokenBucket` is the bookkeeping for one budget. Its capacity is the whole budget of a
window, so a job that fits the budget goes out at once; only a larger job waits. A token comes
back one window after it was spent: that keeps every sliding window of the published length
within the budget, which is what a server counting requests per window enforces. (A bucket that
refilled continuously would let twice the budget through in the window that follows a full
burst, and draw 429 replies.) Over a long job the rate is ``capacity / window``, the refill rate.

Nothing in the bookkeeping reads a clock or sleeps: callers pass ``now`` and get back how long
to wait. :class:`SyncRateLimiter` and :class:`AsyncRateLimiter` are the thin waiters around it,
with an injectable clock and sleep. Reservations are booked at once, so callers that arrive
together queue in arrival order instead of racing for the same tokens.
"""

from __future__ import annotations

import asyncio
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Iterable
from itertools import accumulate

from pyconviva._exceptions import ConfigurationError, QueryError
from pyconviva._rules import (
    HISTORICAL,
    HISTORICAL_RATE,
    PER_IP_RATE,
    REAL_TIME,
    REAL_TIME_RATE,
    RateLimit,
    Root,
)

__all__ = [
    "AsyncRateLimiter",
    "RateLimiter",
    "SyncRateLimiter",
    "TokenBucket",
    "request_cost",
]

# Query parameters that shape a request without filtering it; every other parameter (a
# dimension, `tag_…` or `filter_id`) is a filter value, which the API charges for (§8).
_NON_FILTER_PARAMS = frozenset(
    {
        "metric",
        "granularity",
        "days",
        "minutes",
        "start_date",
        "end_date",
        "start_epoch",
        "end_epoch",
        "start_epoch_ms",
        "end_epoch_ms",
        "kpi_id",
        "sort_by",
        "order",
        "limit",
        "no_nils",
    }
)


def request_cost(params: Iterable[tuple[str, str]]) -> int:
    """What one request costs against the budgets: one per filter value, at least one.

    The API counts "requests and applied filters": 100 requests with 5 filters use the same
    budget as 500 requests with 1 (§8). A repeated key (OR within a dimension) is one value each.
    """
    return max(1, sum(1 for key, _ in params if key not in _NON_FILTER_PARAMS))


class TokenBucket:
    """At most ``capacity`` tokens spent in any window of ``capacity / refill_per_second`` s.

    ``reserve`` books tokens at the earliest instant the budget allows and returns the wait
    until then. A booking is a promise: a later caller may use tokens left over before it, but
    only where that keeps every window within the budget, so it never delays an earlier booking.
    Callers of equal cost are therefore served in arrival order.
    """

    def __init__(self, capacity: float, refill_per_second: float) -> None:
        if not capacity > 0 or not refill_per_second > 0:
            raise ConfigurationError(
                "a token bucket needs a capacity and a refill rate above 0, got "
                f"capacity={capacity!r}, refill_per_second={refill_per_second!r}"
            )
        self.capacity = float(capacity)
        self.refill_per_second = float(refill_per_second)
        self.window = self.capacity / self.refill_per_second
        # Bookings sorted by instant, as two parallel lists so that `bisect` works on instants.
        self._instants: list[float] = []
        self._costs: list[float] = []
        # The latest `now` seen: the bucket's time never runs backwards, even when threads read
        # the clock in one order and take the lock in another.
        self._horizon = float("-inf")

    def __repr__(self) -> str:
        return (
            f"TokenBucket(capacity={self.capacity:g}, refill_per_second={self.refill_per_second:g})"
        )

    def advance(self, now: float) -> None:
        """Move the bucket's time to ``now`` (never backwards) and forget returned bookings.

        Threads may read the clock in one order and take the lock in another; keeping the
        latest ``now`` seen means no booking is ever placed before a booking already forgotten.
        """
        self._horizon = max(self._horizon, now)
        returned = self._first_unreturned(self._horizon)
        del self._instants[:returned], self._costs[:returned]

    def earliest(self, cost: float, now: float) -> float:
        """The first instant at or after ``now`` at which ``cost`` tokens may be spent."""
        self._check_cost(cost)
        at = max(now, self._horizon)
        # The budget only frees up when a booked token returns, one window after its instant.
        while not self._fits(cost, at):
            at = self._instants[self._first_unreturned(at)] + self.window
        return at

    def book(self, cost: float, at: float) -> None:
        """Spend ``cost`` tokens at instant ``at``, which ``earliest`` said is allowed."""
        self._check_cost(cost)
        index = bisect_right(self._instants, at)
        self._instants.insert(index, at)
        self._costs.insert(index, cost)

    def reserve(self, cost: float, now: float) -> float:
        """Book ``cost`` tokens as early as allowed; the seconds to wait before sending (0: now)."""
        self.advance(now)
        at = self.earliest(cost, now)
        self.book(cost, at)
        return at - now

    def _fits(self, cost: float, at: float) -> bool:
        """Whether ``cost`` more tokens at ``at`` keep every window [a, a + window) that
        contains ``at`` within the capacity."""
        instants, window, room = self._instants, self.window, self.capacity - cost
        lo = self._first_unreturned(at)
        hi = bisect_left(instants, at + window, lo)
        mid = bisect_right(instants, at, lo, hi)
        sums = [0.0, *accumulate(self._costs[lo:hi])]  # sums[i]: cost of instants[lo:lo + i]
        # A window can slide later until it starts at a booking without losing any, so the
        # fullest window containing `at` starts at a booking still out at `at`, or at `at`.
        for start in (*instants[lo:mid], at):
            first = bisect_left(instants, start, lo, hi)
            past = bisect_left(instants, start + window, first, hi)
            if sums[past - lo] - sums[first - lo] > room:
                return False
        return True

    def _first_unreturned(self, at: float) -> int:
        """Index of the first booking whose tokens are still out at ``at`` (instant + window >
        at). Compared as a sum, never as ``at - window``, so that rounding cannot disagree with
        the instant a booking is said to return."""
        return bisect_right(self._instants, at, key=lambda instant: instant + self.window)

    def _check_cost(self, cost: float) -> None:
        if not 0 < cost <= self.capacity:
            raise ValueError(f"cost must be in (0, {self.capacity:g}], got {cost!r}")


class RateLimiter:
    """The published budgets of one client: per root, and per IP across both roots.

    Args:
        historical, real_time: the per-account budget of each root; ``None`` leaves it unlimited.
        per_ip: the per-IP budget shared by both roots; ``None`` leaves it unlimited.
        scale: multiplies every budget, e.g. ``0.5`` to leave half for other jobs on the account.

    Thread-safe: ``reserve`` holds a lock only while booking. One per client, never global;
    clients given the same instance share its budgets.
    """

    def __init__(
        self,
        *,
        historical: RateLimit | None = HISTORICAL_RATE,
        real_time: RateLimit | None = REAL_TIME_RATE,
        per_ip: RateLimit | None = PER_IP_RATE,
        scale: float = 1.0,
    ) -> None:
        if not scale > 0:
            raise ConfigurationError(f"rate limit scale must be above 0, got {scale!r}")
        self._roots: dict[Root, TokenBucket] = {}
        for root, limit in ((HISTORICAL, historical), (REAL_TIME, real_time)):
            if limit is not None:
                self._roots[root] = _bucket(limit, scale)
        self._per_ip = _bucket(per_ip, scale) if per_ip is not None else None
        self._lock = threading.Lock()

    @classmethod
    def disabled(cls) -> RateLimiter:
        """A limiter that never waits."""
        return cls(historical=None, real_time=None, per_ip=None)

    def __repr__(self) -> str:
        named = [*self._roots.items(), ("per-ip", self._per_ip)]
        return f"RateLimiter({', '.join(f'{name}={bucket!r}' for name, bucket in named)})"

    def reserve(self, root: Root | None, cost: int, now: float) -> float:
        """Book a request of ``cost`` on ``root``; the seconds to wait before sending it.

        ``root=None`` (metadata endpoints) draws on the per-IP budget alone.

        Raises QueryError when the cost alone exceeds a budget: no wait would ever admit it.
        """
        account = self._roots.get(root) if root is not None else None
        buckets = [b for b in (account, self._per_ip) if b is not None]
        for bucket in buckets:
            if cost > bucket.capacity:
                raise QueryError(
                    f"filter_by: a request with {cost} filter values costs {cost} requests of "
                    f"the API's budget of {bucket.capacity:g} per {bucket.window:g} s, so it "
                    "can never be sent; use fewer filter values per request or a saved "
                    "filter (filter_id)",
                    argument="filter_by",
                )
        with self._lock:
            for bucket in buckets:
                bucket.advance(now)
            # The first instant every budget allows: move to the latest of their earliest
            # instants until they agree (each move passes a returning booking, so this ends).
            at, later = now, max((b.earliest(cost, now) for b in buckets), default=now)
            while later > at:
                at, later = later, max(b.earliest(cost, later) for b in buckets)
            for bucket in buckets:
                bucket.book(cost, at)
        return at - now


def _bucket(limit: RateLimit, scale: float) -> TokenBucket:
    capacity = limit.requests * scale
    if capacity < 1:
        raise ConfigurationError(
            f"rate limit scale {scale!r} leaves less than one request per {limit.period:g} s "
            f"of the budget {limit.requests}; use a larger scale"
        )
    return TokenBucket(capacity, capacity / limit.period)


class SyncRateLimiter:
    """Blocks the calling thread until a request may go; the lock is never held while sleeping."""

    def __init__(
        self,
        limiter: RateLimiter | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.limiter = limiter if limiter is not None else RateLimiter()
        self._clock = clock
        self._sleep = sleep

    def acquire(self, root: Root | None, cost: int = 1) -> float:
        """Wait until a request of ``cost`` on ``root`` may be sent; returns the seconds waited."""
        wait = self.limiter.reserve(root, cost, self._clock())
        if wait > 0:
            self._sleep(wait)
        return wait


class AsyncRateLimiter:
    """Suspends the calling task until a request may go; other tasks run meanwhile."""

    def __init__(
        self,
        limiter: RateLimiter | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.limiter = limiter if limiter is not None else RateLimiter()
        self._clock = clock
        self._sleep = sleep

    async def acquire(self, root: Root | None, cost: int = 1) -> float:
        """Wait until a request of ``cost`` on ``root`` may be sent; returns the seconds waited."""
        wait = self.limiter.reserve(root, cost, self._clock())
        if wait > 0:
            await self._sleep(wait)
        return wait
