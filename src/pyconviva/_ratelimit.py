"""Client-side rate limiting shaped by the API's published request budgets, and what 429s teach.

The API allows 400 filter-weighted requests a minute per account on the historical root, 500 on
the real-time root, and 3000 per 5 minutes per IP address across both (reference §8). A request
draws from its root's budget *and* from the per-IP budget.

:class:`TokenBucket` is the bookkeeping for one budget. Its capacity is the whole budget of a
window, so a job that fits the budget goes out at once; only a larger job waits. A token comes
back one window after it was spent: that keeps every sliding window of the published length
within the budget, which is what a server counting requests per window enforces. (A bucket that
refilled continuously would let twice the budget through in the window that follows a full
burst, and draw 429 replies.) Over a long job the rate is ``capacity / window``, the refill rate.

What the limiter learns from 429 replies (the budgets are the account's, and others spend them
too) is told in :class:`RateLimiter`'s documentation, the public face of this module.

Nothing in the bookkeeping reads a clock or sleeps: callers pass ``now`` and get back how long
to wait. :class:`SyncRateLimiter` and :class:`AsyncRateLimiter` are the thin waiters around it,
measuring and waiting on a :class:`~pyconviva.Clock` (the client's). Reservations are booked at
once, so callers that arrive together queue in arrival order instead of racing for the same
tokens; a waiter that a pause moved wakes up, sees its new turn, and waits again. A waiter held
back by a cold budget's first wave (see :class:`RateLimiter`) waits instead for the limiter to
admit it, which happens when the replies of that wave are all in: an event, not a time.

A limiter made with ``shared=`` also counts the bookings and pauses of the host's other
processes, kept in a locked file (:mod:`pyconviva._shared_budget`): while booking, the other
processes' bookings join its buckets, and only its own stay there afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from itertools import accumulate
from pathlib import Path

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
from pyconviva._shared_budget import Booking, BudgetFile, default_path

__all__ = [
    "ARRIVAL_MARGIN",
    "FIRST_WAVE",
    "FIRST_WAVE_PATIENCE",
    "FULL_WINDOW_PAUSE",
    "AsyncRateLimiter",
    "PauseListener",
    "RateLimiter",
    "Slot",
    "SyncRateLimiter",
    "TokenBucket",
]

logger = logging.getLogger("pyconviva")

# The server counts a request when it arrives, the client when it books the send. A request on a
# fresh connection (TCP and TLS set-up first) arrives later after its booking than one on a warm
# connection, so two requests booked exactly one window apart can arrive less than a window apart
# and draw a 429 (measured: 16 of 120 at a binding limit, one per request in flight). Holding each
# token back one more second covers that spread for 1/60 of the historical throughput.
ARRIVAL_MARGIN = 1.0

# How long a full window keeps its budget closed after a 429 without Retry-After (plus the
# budget's margin): the API's account windows are a minute long. A budget with a shorter window
# (a test's RateLimit) pauses for its own window.
FULL_WINDOW_PAUSE = 60.0

# Multiplicative decrease of a budget's estimate after a 429.
_DECREASE = 0.5

# The requests a cold budget sends before any reply says whether the account's window has room
# for more (see RateLimiter): get_many's default concurrency, so that a batch's first requests
# still go out together, and single calls or small splits are never held back.
FIRST_WAVE = 8

# Seconds a whole first wave waits for its last replies. A 429 is the cheapest reply a server
# makes, back within a round trip; a reply still out after this is a slow query, not a refusal,
# and the requests held back go (a 429 coming later still cools the budget).
FIRST_WAVE_PATIENCE = 2.0

PauseListener = Callable[[float, str], object]
"""``on_pause(seconds, budget)``: a pause began; ``budget`` is ``"historical"``, ``"real-time"``
or ``"per-IP"``."""


class TokenBucket:
    """At most ``capacity`` tokens spent in any window of ``capacity / refill_per_second`` s.

    ``margin`` holds each token back that many seconds longer than the window (see
    :data:`ARRIVAL_MARGIN`). ``limit`` is the number of tokens a window may hold now: the
    capacity, or less while 429s have lowered the estimate (see :class:`RateLimiter`).

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
        self.limit = self.capacity
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
        lowered = f", limit={self.limit:g}" if self.limit < self.capacity else ""
        return (
            f"TokenBucket(capacity={self.capacity:g}, refill_per_second="
            f"{self.refill_per_second:g}{lowered})"
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
        booking older than that: the bookings still out then, plus ``cost``, bound it. A cost
        above a lowered ``limit`` waits until the bucket is otherwise empty.
        """
        self._check_cost(cost)
        at = max(now, self._horizon)
        totals = self._totals
        # The oldest bookings that must return first: all before index `keep`.
        keep = bisect_left(totals, totals[-1] - (max(self.limit, cost) - cost))
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

    def cancel(self, cost: float, at: float) -> None:
        """Take back a booking of ``cost`` tokens at instant ``at`` (one not yet returned)."""
        instants, totals = self._instants, self._totals
        index = bisect_left(instants, at)
        while index < len(instants) and instants[index] == at:
            if math.isclose(totals[index + 1] - totals[index], cost):
                del instants[index], totals[index + 1]
                totals[index + 1 :] = [total - cost for total in totals[index + 1 :]]
                return
            index += 1

    def idle(self, now: float) -> bool:
        """Whether no booking is out at ``now``: none has been made in the last window, and
        none is booked for later."""
        self.advance(now)
        return not self._instants

    def spent(self, now: float) -> float:
        """Tokens booked at or before ``now`` that have not come back yet."""
        self.advance(now)
        return self._totals[bisect_right(self._instants, now)] - self._totals[0]

    def bookings(self) -> list[Booking]:
        """The bookings not forgotten yet, as ``(instant, cost)``, in order of instant."""
        totals = self._totals
        return [(at, totals[index + 1] - totals[index]) for index, at in enumerate(self._instants)]

    def load(self, bookings: Iterable[Booking]) -> None:
        """Replace the bookings with ``bookings``, ``(instant, cost)`` pairs in any order."""
        ordered = sorted(bookings)
        self._instants = [at for at, _ in ordered]
        self._totals = list(accumulate((cost for _, cost in ordered), initial=0.0))

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


class _FirstWave:
    """Slow start on one budget: a cold budget's first requests go alone, as a probe.

    A budget is *cold* when this limiter knows nothing of the account's window: at first, after
    a 429, and after a window in which this limiter sent nothing. Then the first
    :data:`FIRST_WAVE` requests (filter-weighted, like the bucket's costs) go together, and the
    rest wait until every reply of that wave is in, or for :data:`FIRST_WAVE_PATIENCE` seconds
    after the wave was whole. No 429 among them: the budget is *warm*, and requests go as the
    bucket allows. A 429 cools it: after the pause, a new first wave. One wave, not a doubling
    series: every wave waits for its slowest reply, and one slow query in each of several waves
    would cost more than the few 429s the later waves save.
    """

    __slots__ = ("id", "open", "sent", "warm", "whole_at")

    def __init__(self) -> None:
        self.id = 0
        self.sent = 0  # the cost sent in the wave
        self.open = 0  # the part of it whose replies are not in yet
        self.whole_at = math.inf  # when the wave was whole
        self.warm = False

    def cool(self) -> None:
        """Probe again with a new first wave (the one under way, if any, is forgotten)."""
        self.id += 1
        self.sent = self.open = 0
        self.whole_at = math.inf
        self.warm = False

    def room(self, cost: int, limit: float, now: float) -> bool:
        """Whether a request of ``cost`` may go at ``now`` (joining the wave when cold)."""
        if not self.warm and (limit <= FIRST_WAVE or self.patience_left(now) == 0.0):
            # A window no larger than the wave needs no probe (the bucket alone paces it); a
            # wave whose last replies are slow queries has shown what it could.
            self.warm = True
        # A request too costly for what is left of the wave goes once the replies are in.
        fits = self.sent + cost <= FIRST_WAVE or (self.sent < FIRST_WAVE and self.open == 0)
        return self.warm or fits

    def patience_left(self, now: float) -> float | None:
        """Seconds the whole wave still waits for its last replies (``None``: not whole)."""
        if self.whole_at == math.inf:
            return None
        return max(0.0, self.whole_at + FIRST_WAVE_PATIENCE - now)

    def join(self, cost: int, at: float) -> int | None:
        """Count a request booked to go at ``at`` in the wave; its id (``None``: warm, no
        wave)."""
        if self.warm:
            return None
        self.sent += cost
        self.open += cost
        if self.sent >= FIRST_WAVE and self.whole_at == math.inf:
            self.whole_at = at  # the patience counts from when the wave's last request goes
        return self.id

    def settled(self, wave: int, cost: int) -> None:
        """A reply (or failure) of wave ``wave`` is in; the budget is warm when the wave is
        whole and all its replies are in (a 429 among them would have cooled it)."""
        if wave != self.id:  # a wave that a 429 already closed
            return
        self.open -= cost
        # A wave that is not whole yet goes on: replies that come back before the rest of the
        # wave is sent say nothing about the rest (that is the race slow start is for).
        if self.open == 0 and self.sent >= FIRST_WAVE:
            self.warm = True


class _Budget:
    """One published budget: its bucket (``None``: not paced) and what replies taught about it."""

    def __init__(
        self, name: str, bucket: TokenBucket | None, pause: float, *, slow_start: bool
    ) -> None:
        self.name = name
        self.bucket = bucket
        self.pause = pause  # seconds a 429 without Retry-After closes it
        self.closed_until = float("-inf")
        self.announced = True  # whether the pause under way (if any) has been announced
        self.lowered_at = float("-inf")  # when a 429 last lowered the estimate
        self.first_wave = _FirstWave() if slow_start and bucket is not None else None

    def fullness(self, now: float) -> float:
        """The share of the current limit this limiter's own books show spent."""
        if self.bucket is None:
            return 0.0
        return self.bucket.spent(now) / self.bucket.limit

    def room(self, cost: int, now: float) -> bool:
        """Whether a request of ``cost`` may be admitted now as far as slow start goes."""
        bucket, wave = self.bucket, self.first_wave
        if bucket is None or wave is None:
            return True
        if bucket.idle(now):  # nothing of ours in the window: what it taught is stale
            wave.cool()
        return wave.room(cost, bucket.limit, now)

    def cool(self) -> None:
        """A 429 for this budget: slow start begins again."""
        if self.first_wave is not None:
            self.first_wave.cool()


class _Ticket:
    """A request from its arrival at the limiter to its outcome.

    ``at`` is when it may be sent: infinite while slow start holds it back, then booked (a
    pause may move it later; the waiter re-reads it when it wakes). ``waves`` are the first
    waves it was counted in, ``wake`` tells a held-back waiter that it was admitted.
    """

    __slots__ = ("at", "budgets", "cost", "released", "wake", "waves")

    def __init__(self, budgets: tuple[_Budget, ...], cost: int) -> None:
        self.budgets = budgets
        self.cost = cost
        self.at = math.inf
        self.waves: tuple[tuple[_FirstWave, int], ...] = ()
        self.wake: Callable[[], object] | None = None
        self.released = False


class _Effects:
    """What a change of the books calls for once the lock is let go: waiters admitted (to wake)
    and pauses that someone now waits out (to announce)."""

    __slots__ = ("admitted", "pauses")

    def __init__(self) -> None:
        self.admitted: list[_Ticket] = []
        self.pauses: list[tuple[str, float, float | None]] = []


class RateLimiter:
    """The published budgets of one client, per root and per IP, and what 429s taught about them.

    Paces requests so that no window of a budget holds more than the budget: a burst up to a
    whole budget goes out at once, only a larger job waits.

    The budgets are the account's, not the client's: dashboards, the Datadog and New Relic
    integrations and other teams' jobs spend them too, unseen. The API answers 429 without
    ``Retry-After`` when a window is full. Then:

    - *Which budget.* The reply does not say. It is blamed on the account budget of the
      request's root (historical or real-time): per minute that budget is the tightest (400 or
      500, against 600 a minute on average per IP), and it is the one every consumer of the
      account shares, wherever it runs, while the per-IP budget is shared only by this host.
      The per-IP budget is blamed when the request draws on nothing else (metadata calls) or
      when this limiter's own books show it fuller than the account's.
    - *A pause shared by everyone.* Every request that draws on the blamed budget, in every
      thread or task sharing the limiter, queued ones included, waits until the window can have
      freed: a minute (the account windows' length, and Conviva's own advice after a 429; the
      per-IP window is five minutes long, and a minute frees its oldest fifth) plus ``margin``,
      counted from the 429. Queued requests keep their order behind the pause. The pause is
      logged once on the ``pyconviva`` logger at INFO, as "waiting for the rate-limit window
      (61 s)", and reported to ``on_pause``.
    - *A lower estimate that grows back (AIMD).* The budget's limit, the requests a window may
      hold, halves (one request at least stays allowed), once per congestion event: a 429 for a
      request sent before the last decrease belongs to the event that caused it. Every later
      success gives its cost back, up to the published budget. That is faster than TCP's one
      segment per round trip: a window's worth of successes doubles the limit, so a one-off
      burst by another consumer (a dashboard refresh, another job's batch: the common case)
      costs one pause, not ten windows of slow growth, while a steady competitor keeps halving
      it.
    - A 429 *with* ``Retry-After`` makes only its own request wait, as the server said; it
      still lowers the estimate, so a server that keeps refusing cannot draw a hot loop.
    - *Slow start on a cold account budget.* Until replies have shown room in the window, a
      first wave of :data:`FIRST_WAVE` (8) requests goes alone; the rest wait until every reply
      of that wave is in (or, for a reply that is slow to come, :data:`FIRST_WAVE_PATIENCE`,
      2 s: a 429 comes back within a round trip, a reply slower than that is a slow query),
      and then, if none was a 429, go as the bucket allows. So when another
      consumer has nearly filled the window, the 429s drawn are at most the first wave's
      overflow: without the wave, the workers whose first replies came back early would send
      again before the 429s of the others arrived. A budget is cold at first, after a 429, and
      after a window in which this limiter sent nothing. The wave costs a large batch about
      one round trip (its slowest reply) at its start, and nothing to a call of up to 8
      requests. The per-IP budget, this host's alone, is not probed.

    A limiter without budgets (:meth:`disabled`, a client's ``rate_limit=False``) paces nothing
    and estimates nothing, but a 429 without ``Retry-After`` still pauses every request of its
    client for the window: sending into a full window only draws more 429s.

    The clients report every 429 (:meth:`rate_limited`) and success (:meth:`succeeded`), and
    hold each request's :class:`Slot` until its outcome is taken in; time a request waits here
    is not charged to its call's deadline.

    Args:
        historical, real_time: the per-account budget of each root; ``None`` leaves it unpaced.
        per_ip: the per-IP budget shared by both roots; ``None`` leaves it unpaced.
        scale: multiplies every budget, e.g. ``0.5`` to leave half for other jobs on the account.
        margin: seconds each token is held back beyond its window, so that requests booked one
            window apart also *arrive* one window apart (default :data:`ARRIVAL_MARGIN`);
            0 keeps the windows exact. A pause after a 429 lasts this much longer too.
        on_pause: called as ``on_pause(seconds, budget)`` when a request first waits out a
            pause that a 429 without ``Retry-After`` began (once per pause, outside any lock;
            a pause nobody waits out, as after a 429 that ends its call, is not reported):
            ``budget`` is ``"historical"``, ``"real-time"`` or ``"per-IP"``. For progress
            displays; may also be set later as the ``on_pause`` attribute.
        shared: share the budgets with the host's other processes (cron jobs, a scheduler's
            workers) through a file: ``True`` uses ``$XDG_CACHE_HOME/pyconviva/rate-budget.json``
            (else ``~/.cache/pyconviva/rate-budget.json``), a path names the file. ``None`` (the
            default) or ``False``: the budgets are this limiter's alone. POSIX only.

    Thread-safe: every method holds a lock only while booking. One per client, never global;
    clients given the same instance share its budgets, its pauses and its estimates.

    Limiters of several processes given the same ``shared`` file book from one budget: while
    booking, a limiter holds a lock on the file and counts the bookings of every process there
    with its own, so together they never book more than a window holds; a 429 without
    ``Retry-After`` in one process closes the budget for all of them until it opens (requests
    another process had already queued keep their turn). Each process keeps its own AIMD
    estimate and slow start. Give every process the same budgets. The file keeps wall-clock
    times, so a shared limiter books on the real clock: a client on another clock (a
    ``VirtualClock``) is refused. A corrupt or unreadable file is logged once at WARNING and
    never stops a job.
    """

    def __init__(
        self,
        *,
        historical: RateLimit | None = HISTORICAL_RATE,
        real_time: RateLimit | None = REAL_TIME_RATE,
        per_ip: RateLimit | None = PER_IP_RATE,
        scale: float = 1.0,
        margin: float = ARRIVAL_MARGIN,
        on_pause: PauseListener | None = None,
        shared: bool | str | os.PathLike[str] | None = None,
    ) -> None:
        if not scale > 0:
            raise ConfigurationError(f"rate limit scale must be above 0, got {scale!r}")
        if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin >= 0):
            raise ConfigurationError(f"rate limit margin must be 0 or more, got {margin!r}")
        self._roots: dict[Root, _Budget] = {
            HISTORICAL: _budget("historical", historical, HISTORICAL_RATE, scale, margin, True),
            REAL_TIME: _budget("real-time", real_time, REAL_TIME_RATE, scale, margin, True),
        }
        # Slow start probes the account's windows, which every consumer of the account shares;
        # the per-IP window is this host's alone, and rarely the one that fills.
        self._per_ip = _budget("per-IP", per_ip, PER_IP_RATE, scale, margin, False)
        self._lock = threading.Lock()
        self._waiting: list[_Ticket] = []  # booked for later: a pause may move them
        self._held: list[_Ticket] = []  # held back by slow start, in arrival order
        self.on_pause = on_pause
        self._shared = _budget_file(shared)

    @classmethod
    def disabled(cls, *, on_pause: PauseListener | None = None) -> RateLimiter:
        """A limiter that paces nothing; it still pauses for a full window after a 429."""
        return cls(historical=None, real_time=None, per_ip=None, on_pause=on_pause)

    def __repr__(self) -> str:
        budgets = [*self._roots.values(), self._per_ip]
        shared = "" if self._shared is None else f", shared={str(self._shared.path)!r}"
        return f"RateLimiter({', '.join(f'{b.name}={b.bucket!r}' for b in budgets)}{shared})"

    def reserve(self, root: Root | None, cost: int, now: float) -> float:
        """Book a request of ``cost`` on ``root``; the seconds to wait before sending it.

        ``root=None`` (metadata endpoints) draws on the per-IP budget alone. A booking made
        here is not moved by a later pause (the waiters' bookings are), and takes no part in
        slow start, which needs each request's outcome: the clients book through their waiters.

        Raises QueryError when the cost alone exceeds a budget: no wait would ever admit it.
        """
        budgets = self._budgets(root, cost)
        with self._lock:
            at = self._book(budgets, cost, now)
        return at - now

    def rate_limited(
        self, root: Root | None, *, sent_at: float, now: float, retry_after: float | None = None
    ) -> float:
        """Take in a 429 for a request on ``root`` sent at ``sent_at``; the instant to retry it.

        Lowers the blamed budget's estimate and cools it, once per congestion event: a 429 for
        a request sent before the last decrease belongs to the event that caused it. Without
        ``retry_after`` the budget closes for a window from the event's first 429: every
        request drawing on it waits, and the instant returned is when it opens (``now``, for a
        late 429 of an event whose pause is over). With ``retry_after`` only this request
        waits: the instant is ``now + retry_after``. Times are on the caller's monotonic clock.
        """
        budgets = self._budgets(root, 1)
        effects = _Effects()
        with self._lock:
            blamed = self._blame(budgets, now)
            # News: a request sent after the last decrease. A 429 for one sent before belongs
            # to the congestion event that caused that decrease, and its pause.
            news = sent_at > blamed.lowered_at
            if news:
                _lower(blamed, now)
                blamed.cool()
            if retry_after is not None:
                opens = now + retry_after
            else:
                if news and now + blamed.pause > blamed.closed_until:
                    _close(blamed, now + blamed.pause, now)
                    if self._shared is not None:
                        with self._shared.session() as books:
                            books.close(blamed.name, blamed.closed_until)
                    if self._move_waiting(blamed, now):
                        self._awaited(blamed, now, effects)
                opens = max(now, blamed.closed_until)
            self._admit_held(now, effects)
        self._carry_out(effects)
        return opens

    def awaiting_window(self, root: Root | None, now: float) -> None:
        """A request on ``root`` is about to wait out a pause (its own 429's): announce the
        pause if nobody waiting has yet."""
        effects = _Effects()
        with self._lock:
            for budget in self._budgets(root, 1):
                self._awaited(budget, now, effects)
        self._carry_out(effects)

    def succeeded(self, root: Root | None, cost: int, *, sent_at: float) -> None:
        """Take in a success: each estimate lowered before ``sent_at`` grows back by ``cost``."""
        with self._lock:
            for budget in self._budgets(root, cost):
                bucket = budget.bucket
                if bucket is not None and sent_at > budget.lowered_at:
                    bucket.limit = min(bucket.capacity, bucket.limit + cost)

    def _budgets(self, root: Root | None, cost: int) -> tuple[_Budget, ...]:
        """The budgets a request on ``root`` draws on, after checking that ``cost`` can fit."""
        budgets = (self._per_ip,) if root is None else (self._roots[root], self._per_ip)
        for budget in budgets:
            bucket = budget.bucket
            if bucket is not None and cost > bucket.capacity:
                raise QueryError(
                    f"filter_by: a request with {cost} filter values costs {cost} requests of "
                    f"the API's budget of {bucket.capacity:g} per {bucket.window:g} s, so it "
                    "can never be sent; use fewer filter values per request or a saved "
                    "filter (filter_id)",
                    argument="filter_by",
                )
        return budgets

    def _ticket(self, root: Root | None, cost: int, now: float) -> _Ticket:
        """A waiter's ticket: booked at once (``at`` finite) unless slow start holds it back."""
        ticket = _Ticket(self._budgets(root, cost), cost)
        effects = _Effects()
        with self._lock:
            self._waiting = [waiting for waiting in self._waiting if waiting.at > now]
            self._held.append(ticket)
            self._admit_held(now, effects)
        self._carry_out(effects)  # the new ticket has no `wake`: its caller reads `at`
        return ticket

    def _wake_when_admitted(self, ticket: _Ticket, wake: Callable[[], object]) -> bool:
        """Have ``wake`` called when ``ticket`` is admitted; False if it already is."""
        with self._lock:
            if ticket.at != math.inf:
                return False
            ticket.wake = wake
            return True

    def _patience_left(self, ticket: _Ticket, now: float) -> float | None:
        """Seconds until a held-back ticket's first waves stop waiting for their last replies
        (``None``: nothing to wait for but replies, whenever they come)."""
        with self._lock:
            lefts = [
                left
                for budget in ticket.budgets
                if budget.first_wave is not None and (left := budget.first_wave.patience_left(now))
            ]
        return min(lefts, default=None)

    def _recheck(self, now: float) -> None:
        """Admit the held-back tickets that the time passed lets go."""
        effects = _Effects()
        with self._lock:
            self._admit_held(now, effects)
        self._carry_out(effects)

    def _release(self, ticket: _Ticket, now: float) -> None:
        """The request's outcome is in (or it was given up before being sent): its wave may
        end, letting held-back requests go. Safe to call more than once."""
        effects = _Effects()
        with self._lock:
            if ticket.released:
                return
            ticket.released = True
            if ticket.at == math.inf:
                self._held.remove(ticket)
            for first_wave, wave in ticket.waves:
                first_wave.settled(wave, ticket.cost)
            if self._held:
                self._admit_held(now, effects)
        self._carry_out(effects)

    def _admit_held(self, now: float, effects: _Effects) -> None:
        """Admit, in arrival order, the held-back tickets that slow start lets go now.

        A ticket stays behind an earlier held-back one that needs the same budget, so a budget's
        requests keep their order; requests on other budgets pass.
        """
        blocked: set[_Budget] = set()
        held: list[_Ticket] = []
        for ticket in self._held:
            lacking = [
                budget
                for budget in ticket.budgets
                if budget in blocked or not budget.room(ticket.cost, now)
            ]
            if lacking:
                blocked.update(lacking)
                held.append(ticket)
                continue
            ticket.at = self._book(ticket.budgets, ticket.cost, now)
            ticket.waves = tuple(
                (first_wave, wave)
                for first_wave in (budget.first_wave for budget in ticket.budgets)
                if first_wave is not None
                and (wave := first_wave.join(ticket.cost, ticket.at)) is not None
            )
            if ticket.at > now:
                self._waiting.append(ticket)
                for budget in ticket.budgets:
                    self._awaited(budget, now, effects)
            effects.admitted.append(ticket)
        self._held = held

    def _book(self, budgets: tuple[_Budget, ...], cost: int, now: float) -> float:
        """Book ``cost`` on every budget at the first instant all allow; that instant."""
        if self._shared is not None:
            return self._book_shared(self._shared, budgets, cost, now)
        return self._book_here(budgets, cost, now)

    def _book_shared(
        self, shared: BudgetFile, budgets: tuple[_Budget, ...], cost: int, now: float
    ) -> float:
        """:meth:`_book`, counting the other processes' bookings and pauses in the shared file;
        this limiter's own bookings stay in its buckets and go to the file.

        The file lock is taken only under the limiter's lock, never the other way round.
        """
        with shared.session() as books:
            own: list[tuple[_Budget, TokenBucket, list[Booking]]] = []
            for budget in budgets:
                # No pause lasts longer than this limiter's own would: a wrong clock or a
                # damaged file cannot close a budget for longer.
                closed = min(books.closed_until(budget.name), now + budget.pause)
                if closed > max(now, budget.closed_until):
                    _close(budget, closed, now)
                if budget.bucket is not None:
                    mine = budget.bucket.bookings()
                    budget.bucket.load([*mine, *books.others(budget.name)])
                    own.append((budget, budget.bucket, mine))
            at = self._book_here(budgets, cost, now)
            for budget, bucket, mine in own:
                mine.append((at, cost))
                bucket.load(mine)
                books.keep(budget.name, mine, returned_before=now - bucket.window - bucket.margin)
        return at

    def _book_here(self, budgets: tuple[_Budget, ...], cost: int, now: float) -> float:
        """:meth:`_book` on this limiter's books alone."""
        start = max([now, *(budget.closed_until for budget in budgets)])
        buckets = [budget.bucket for budget in budgets if budget.bucket is not None]
        for bucket in buckets:
            bucket.advance(now)
        # Each bucket allows every instant from its earliest on, so the latest of those is
        # the first instant all of them allow.
        at = max([start, *(bucket.earliest(cost, start) for bucket in buckets)])
        for bucket in buckets:
            bucket.book(cost, at)
        return at

    def _blame(self, budgets: tuple[_Budget, ...], now: float) -> _Budget:
        if len(budgets) == 1:
            return budgets[0]
        account, per_ip = budgets
        return per_ip if per_ip.fullness(now) > account.fullness(now) else account

    def _move_waiting(self, closed: _Budget, now: float) -> bool:
        """Book again, in their order, the waiters on ``closed`` that were due before it opens;
        whether there were any."""
        moved = sorted(
            (t for t in self._waiting if t.at > now and closed in t.budgets), key=lambda t: t.at
        )
        for ticket in moved:
            for budget in ticket.budgets:
                if budget.bucket is not None:
                    budget.bucket.cancel(ticket.cost, ticket.at)
        for ticket in moved:
            ticket.at = self._book(ticket.budgets, ticket.cost, now)
        return bool(moved)

    def _awaited(self, budget: _Budget, now: float, effects: _Effects) -> None:
        """Someone waits for ``budget`` to open: its pause is announced the first time."""
        if budget.closed_until > now and not budget.announced:
            budget.announced = True
            estimate = budget.bucket.limit if budget.bucket is not None else None
            effects.pauses.append((budget.name, budget.closed_until - now, estimate))

    def _carry_out(self, effects: _Effects) -> None:
        """Outside the lock: wake the waiters admitted, announce the pauses now waited out."""
        for ticket in effects.admitted:
            if ticket.wake is not None:
                ticket.wake()
        for name, seconds, estimate in effects.pauses:
            self._announce(name, seconds, estimate)

    def _announce(self, budget: str, seconds: float, estimate: float | None) -> None:
        resumes = "" if estimate is None else f", then resuming at {estimate:g} requests a window"
        logger.info(
            "waiting for the rate-limit window (%.0f s): the API answered 429 without "
            "Retry-After, so the %s budget is taken to be full%s",
            seconds,
            budget,
            resumes,
            extra={"budget": budget, "delay": seconds},
        )
        if self.on_pause is not None:
            self.on_pause(seconds, budget)


def _budget(
    name: str,
    limit: RateLimit | None,
    published: RateLimit,
    scale: float,
    margin: float,
    slow_start: bool,
) -> _Budget:
    period = published.period if limit is None else limit.period
    bucket = None if limit is None else _bucket(limit, scale, margin)
    return _Budget(name, bucket, min(period, FULL_WINDOW_PAUSE) + margin, slow_start=slow_start)


def _bucket(limit: RateLimit, scale: float, margin: float) -> TokenBucket:
    capacity = limit.requests * scale
    if capacity < 1:
        raise ConfigurationError(
            f"rate limit scale {scale!r} leaves less than one request per {limit.period:g} s "
            f"of the budget {limit.requests}; use a larger scale"
        )
    return TokenBucket(capacity, capacity / limit.period, margin=margin)


def _budget_file(shared: bool | str | os.PathLike[str] | None) -> BudgetFile | None:
    """The file a limiter's ``shared`` argument names; ``None`` when it shares nothing."""
    if shared is None or shared is False:
        return None
    if shared is not True and not isinstance(shared, (str, os.PathLike)):
        raise ConfigurationError(
            f"rate limiter shared={shared!r}: pass True (a file in the user's cache dir), the "
            "path of the file every process shares, or None"
        )
    path = default_path() if shared is True else Path(shared)
    # The limiter's times are monotonic, which processes do not share; the file keeps epoch
    # seconds, this far ahead of them.
    return BudgetFile(path, offset=time.time() - time.monotonic())


def _close(budget: _Budget, until: float, now: float) -> None:
    """Close ``budget`` until ``until``, later than it was closed."""
    if budget.closed_until <= now:
        budget.announced = False  # a new pause: announced when someone waits
    budget.closed_until = until


def _lower(budget: _Budget, now: float) -> None:
    budget.lowered_at = now
    if budget.bucket is not None:
        budget.bucket.limit = max(1.0, math.floor(budget.bucket.limit * _DECREASE))


class Slot:
    """A request's admission by the limiter, held until its outcome has been taken in.

    ``waited`` is the seconds it waited to be sent. Releasing it (or leaving its ``with``
    block) tells slow start that the request's reply is in; report the reply itself
    (:meth:`RateLimiter.succeeded`, :meth:`RateLimiter.rate_limited`) before that.
    """

    __slots__ = ("_clock", "_limiter", "_ticket", "waited")

    def __init__(self, limiter: RateLimiter, ticket: _Ticket, clock: Clock, waited: float) -> None:
        self._limiter = limiter
        self._ticket = ticket
        self._clock = clock
        self.waited = waited

    def __repr__(self) -> str:
        return f"Slot(waited={self.waited:g}, released={self._ticket.released})"

    def release(self) -> None:
        """The request's outcome is in; safe to call more than once."""
        self._limiter._release(self._ticket, self._clock.monotonic())

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class _Waiter:
    """What both waiters hold: the limiter (a new one by default) and the clock that measures
    and waits (default: real time)."""

    def __init__(self, limiter: RateLimiter | None = None, *, clock: Clock | None = None) -> None:
        self.limiter = limiter if limiter is not None else RateLimiter()
        self._clock = clock if clock is not None else SystemClock()
        _check_clock(self.limiter, self._clock)


class SyncRateLimiter(_Waiter):
    """Blocks the calling thread until a request may go; the lock is never held while sleeping.

    ``clock`` measures (``monotonic``) and waits (``sleep``); default: real time.
    """

    def acquire(self, root: Root | None, cost: int = 1) -> Slot:
        """Wait until a request of ``cost`` on ``root`` may be sent; its slot, to release once
        its outcome is in."""
        clock, limiter = self._clock, self.limiter
        started = clock.monotonic()
        ticket = limiter._ticket(root, cost, started)
        try:
            if ticket.at == math.inf:
                admitted = threading.Event()
                if limiter._wake_when_admitted(ticket, admitted.set):
                    # Replies admit it; so does the first wave's patience running out (a wait in
                    # real time, re-checked on the client's clock).
                    while not admitted.wait(limiter._patience_left(ticket, clock.monotonic())):
                        limiter._recheck(clock.monotonic())
            # A pause that began meanwhile moves the booking: wait again for the new turn.
            while (wait := ticket.at - clock.monotonic()) > 0:
                clock.sleep(wait)
        except BaseException:
            limiter._release(ticket, clock.monotonic())
            raise
        return Slot(limiter, ticket, clock, clock.monotonic() - started)


class AsyncRateLimiter(_Waiter):
    """Suspends the calling task until a request may go; other tasks run meanwhile.

    ``clock`` measures (``monotonic``) and waits (``async_sleep``); default: real time.
    """

    async def acquire(self, root: Root | None, cost: int = 1) -> Slot:
        """Wait until a request of ``cost`` on ``root`` may be sent; its slot, to release once
        its outcome is in."""
        clock, limiter = self._clock, self.limiter
        started = clock.monotonic()
        ticket = limiter._ticket(root, cost, started)
        try:
            if ticket.at == math.inf:
                await _admission(limiter, ticket, clock)
            while (wait := ticket.at - clock.monotonic()) > 0:
                await clock.async_sleep(wait)
        except BaseException:
            limiter._release(ticket, clock.monotonic())
            raise
        return Slot(limiter, ticket, clock, clock.monotonic() - started)


def _check_clock(limiter: RateLimiter, clock: Clock) -> None:
    """Refuse a clock other than the real one for a limiter shared between processes: its
    bookings are converted to wall-clock times that the processes compare."""
    if limiter._shared is not None and abs(clock.monotonic() - time.monotonic()) > 1.0:
        raise ConfigurationError(
            f"a RateLimiter shared between processes (shared=) books on the real clock, and the "
            f"clock {clock!r} keeps another time; use the real clock (the default) with it, or "
            "an unshared RateLimiter with a virtual clock"
        )


async def _admission(limiter: RateLimiter, ticket: _Ticket, clock: Clock) -> None:
    """Suspend until slow start admits ``ticket``; the admission may come from any thread, or
    from the first wave's patience running out (as in :meth:`SyncRateLimiter.acquire`)."""
    import asyncio  # only async callers pay for it (see SystemClock.async_sleep)

    loop = asyncio.get_running_loop()
    admitted: asyncio.Future[None] = loop.create_future()

    def settle() -> None:
        if not admitted.done():
            admitted.set_result(None)

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(settle)

    if limiter._wake_when_admitted(ticket, wake):
        while ticket.at == math.inf:
            patience = limiter._patience_left(ticket, clock.monotonic())
            try:
                await asyncio.wait_for(asyncio.shield(admitted), patience)
            except asyncio.TimeoutError:
                limiter._recheck(clock.monotonic())
