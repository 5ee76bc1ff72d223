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
measuring and waiting on a :class:`~pyconviva.Clock` (the client's). Reservations are booked at
once, so callers that arrive together queue in arrival order instead of racing for the same
tokens.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right

from pyconviva._clock import Clock, SystemClock
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
    "ARRIVAL_MARGIN",
    "AsyncRateLimiter",
    "RateLimiter",
    "SyncRateLimiter",
    "TokenBucket",
]


# The server counts a request when it arrives, the client when it books the send. A request on a
# fresh connection (TCP and TLS set-up first) arrives later after its booking than one on a warm
# connection, so two requests booked exactly one window apart can arrive less than a window apart
# and draw a 429 (measured: 16 of 120 at a binding limit, one per request in flight). Holding each
# token back one more second covers that spread for 1/60 of the historical throughput.
ARRIVAL_MARGIN = 1.0


class TokenBucket:
    """At most ``capacity`` tokens spent in any window of ``capacity / refill_per_second`` s.

    ``margin`` holds each token back that many seconds longer than the window (see
    :data:`ARRIVAL_MARGIN`).

    ``reserve`` books tokens at the earliest instant the budget allows and returns the wait
    until then. A booking is a promise that later callers cannot break: a new booking counts,
    against the budget at its instant, every booking whose tokens are still out then, the ones
    booked for later included. So callers queue in arrival order, and a caller jumps the queue
    only when the budget has room for it and everyone waiting. Each step costs O(log n).
    """

    def __init__(self, capacity: float, refill_per_second: float, *, margin: float = 0.0) -> None:
        if not capacity > 0 or not refill_per_second > 0 or not margin >= 0:
            raise ConfigurationError(
                "a token bucket needs a capacity and a refill rate above 0 and a margin of 0 or "
                f"more, got capacity={capacity!r}, refill_per_second={refill_per_second!r}, "
                f"margin={margin!r}"
            )
        self.capacity = float(capacity)
        self.refill_per_second = float(refill_per_second)
        self.window = self.capacity / self.refill_per_second
        self.margin = float(margin)
        # Bookings sorted by instant, with running totals: the cost of bookings [i, j) is
        # _totals[j] - _totals[i] (one more total than instants; forgetting the oldest bookings
        # drops the same number from both lists and keeps every difference right).
        self._instants: list[float] = []
        self._totals: list[float] = [0.0]
        # The latest `now` seen: the bucket's time never runs backwards, even when threads read
        # the clock in one order and take the lock in another.
        self._horizon = float("-inf")

    def __repr__(self) -> str:
        return (
            f"TokenBucket(capacity={self.capacity:g}, refill_per_second={self.refill_per_second:g})"
        )

    def advance(self, now: float) -> None:
        """Move the bucket's time to ``now`` (never backwards) and forget returned bookings."""
        self._horizon = max(self._horizon, now)
        # Compared as instant + window, the same sum `earliest` uses for a token's return.
        returned = bisect_right(self._instants, self._horizon, key=self._returns_at)
        del self._instants[:returned], self._totals[:returned]

    def earliest(self, cost: float, now: float) -> float:
        """The first instant at or after ``now`` at which ``cost`` tokens may be booked.

        Any window holding that instant starts less than a window before it, so it holds no
        booking older than that: the bookings still out then, plus ``cost``, bound it.
        """
        self._check_cost(cost)
        at = max(now, self._horizon)
        totals = self._totals
        # The oldest bookings that must return first: all before index `keep`.
        keep = bisect_left(totals, totals[-1] - (self.capacity - cost))
        if keep > 0:
            at = max(at, self._returns_at(self._instants[keep - 1]))
        return at

    def book(self, cost: float, at: float) -> None:
        """Spend ``cost`` tokens at instant ``at``, which ``earliest`` said is allowed."""
        self._check_cost(cost)
        index = bisect_right(self._instants, at)
        self._instants.insert(index, at)
        totals = self._totals
        totals[index + 1 :] = [total + cost for total in totals[index:]]

    def reserve(self, cost: float, now: float) -> float:
        """Book ``cost`` tokens as early as allowed; the seconds to wait before sending (0: now)."""
        self.advance(now)
        at = self.earliest(cost, now)
        self.book(cost, at)
        return at - now

    def _returns_at(self, instant: float) -> float:
        return instant + self.window + self.margin

    def _check_cost(self, cost: float) -> None:
        if not 0 < cost <= self.capacity:
            raise ValueError(f"cost must be in (0, {self.capacity:g}], got {cost!r}")


class RateLimiter:
    """The published budgets of one client: per root, and per IP across both roots.

    Args:
        historical, real_time: the per-account budget of each root; ``None`` leaves it unlimited.
        per_ip: the per-IP budget shared by both roots; ``None`` leaves it unlimited.
        scale: multiplies every budget, e.g. ``0.5`` to leave half for other jobs on the account.
        margin: seconds each token is held back beyond its window, so that requests booked one
            window apart also *arrive* one window apart (default :data:`ARRIVAL_MARGIN`);
            0 keeps the windows exact.

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
        margin: float = ARRIVAL_MARGIN,
    ) -> None:
        if not scale > 0:
            raise ConfigurationError(f"rate limit scale must be above 0, got {scale!r}")
        self._roots: dict[Root, TokenBucket] = {}
        for root, limit in ((HISTORICAL, historical), (REAL_TIME, real_time)):
            if limit is not None:
                self._roots[root] = _bucket(limit, scale, margin)
        self._per_ip = _bucket(per_ip, scale, margin) if per_ip is not None else None
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
            # Each bucket allows every instant from its earliest on, so the latest of those is
            # the first instant all of them allow.
            at = max([now, *(bucket.earliest(cost, now) for bucket in buckets)])
            for bucket in buckets:
                bucket.book(cost, at)
        return at - now


def _bucket(limit: RateLimit, scale: float, margin: float) -> TokenBucket:
    capacity = limit.requests * scale
    if capacity < 1:
        raise ConfigurationError(
            f"rate limit scale {scale!r} leaves less than one request per {limit.period:g} s "
            f"of the budget {limit.requests}; use a larger scale"
        )
    return TokenBucket(capacity, capacity / limit.period, margin=margin)


class SyncRateLimiter:
    """Blocks the calling thread until a request may go; the lock is never held while sleeping.

    ``clock`` measures (``monotonic``) and waits (``sleep``); default: real time.
    """

    def __init__(self, limiter: RateLimiter | None = None, *, clock: Clock | None = None) -> None:
        self.limiter = limiter if limiter is not None else RateLimiter()
        self._clock = clock if clock is not None else SystemClock()

    def acquire(self, root: Root | None, cost: int = 1) -> float:
        """Wait until a request of ``cost`` on ``root`` may be sent; returns the seconds waited."""
        wait = self.limiter.reserve(root, cost, self._clock.monotonic())
        if wait > 0:
            self._clock.sleep(wait)
        return wait


class AsyncRateLimiter:
    """Suspends the calling task until a request may go; other tasks run meanwhile.

    ``clock`` measures (``monotonic``) and waits (``async_sleep``); default: real time.
    """

    def __init__(self, limiter: RateLimiter | None = None, *, clock: Clock | None = None) -> None:
        self.limiter = limiter if limiter is not None else RateLimiter()
        self._clock = clock if clock is not None else SystemClock()

    async def acquire(self, root: Root | None, cost: int = 1) -> float:
        """Wait until a request of ``cost`` on ``root`` may be sent; returns the seconds waited."""
        wait = self.limiter.reserve(root, cost, self._clock.monotonic())
        if wait > 0:
            await self._clock.async_sleep(wait)
        return wait
