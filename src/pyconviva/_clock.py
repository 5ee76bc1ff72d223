"""Time for the clients: one object that tells the time, measures it and waits.

Everything a client does with time goes through its :class:`Clock`: relative time ranges ("the
last 5 days") and an export's default end are resolved with ``now()``; the retries' time budget
and the rate limiter's pacing are measured with ``monotonic()``; backoff and rate-limit waits
are ``sleep()`` (sync client) or ``async_sleep()`` (async client). No other part of a client
reads a clock or sleeps, so a clock passed to the constructor controls all of it.

:class:`SystemClock` is real time, the default. :class:`VirtualClock` (offered as
``pyconviva.testing.VirtualClock``) is time for tests: its waits return at once and move it
forward, so retries and rate limits are tested without waiting, through the same constructor
argument a user's own tests would use.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

from pyconviva._exceptions import ConfigurationError
from pyconviva._rules import as_utc, parse_instant

__all__ = ["Clock", "SystemClock", "VirtualClock", "as_clock", "with_wall_time"]

# Real seconds a VirtualClock's sync wait gives other threads before the clock moves.
_THREADS_CATCH_UP = 0.001


@runtime_checkable
class Clock(Protocol):
    """The time a client reads, measures and waits on (see :class:`SystemClock`).

    Implement all four methods to give a client another notion of time; the sync client calls
    ``sleep`` and the async client ``async_sleep``.
    """

    def now(self) -> datetime:
        """The current wall time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds since an arbitrary origin; never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        ...

    async def async_sleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds``."""
        ...


class SystemClock:
    """Real time: UTC ``datetime.now``, ``time.monotonic``, ``time.sleep``, ``asyncio.sleep``.

    The clock every client uses unless given another.
    """

    def __repr__(self) -> str:
        return "SystemClock()"

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        # asyncio is imported where it is used: this module loads with pyconviva.testing, a
        # pytest plugin on every pytest start, and sync users never need asyncio.
        import asyncio

        await asyncio.sleep(seconds)


class _WallTime:
    """``now()`` from a function; monotonic time and waits from another clock."""

    def __init__(self, timing: Clock, now: Callable[[], datetime]) -> None:
        self._timing = timing
        self._now = now

    def __repr__(self) -> str:
        return f"<clock: wall time from {self._now!r}, waits on {self._timing!r}>"

    def now(self) -> datetime:
        return self._now()

    def monotonic(self) -> float:
        return self._timing.monotonic()

    def sleep(self, seconds: float) -> None:
        self._timing.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        await self._timing.async_sleep(seconds)


def with_wall_time(timing: Clock, now: Callable[[], datetime]) -> Clock:
    """A clock that tells the time with ``now`` and measures and waits with ``timing``.

    How the emulator's clients keep the emulator's "now" while waiting on the caller's clock.
    """
    return _WallTime(timing, now)


def as_clock(clock: Clock | Callable[[], datetime] | None) -> Clock:
    """The clock a client's ``clock=`` argument stands for.

    ``None``: a :class:`SystemClock`. A :class:`Clock`: itself. A function returning the current
    UTC time (the argument's earlier form): wall time from it, real monotonic time and waits.
    """
    if clock is None:
        return SystemClock()
    if isinstance(clock, Clock):
        return clock
    if callable(clock):
        return with_wall_time(SystemClock(), clock)
    raise ConfigurationError(
        f"clock={clock!r} is not a Clock or a function; pass an object with now(), monotonic(), "
        "sleep() and async_sleep() (pyconviva.SystemClock(), pyconviva.testing.VirtualClock()), "
        "or a function returning the current UTC datetime"
    )


class VirtualClock:
    """A :class:`Clock` for tests: waits take next to no real time and move the clock forward.

    Pass it as ``ConvivaAPI(..., clock=VirtualClock())`` (or ``emulator.client(clock=...)``)
    and backoff, ``Retry-After`` and rate-limit waits cost next to no real time, while the
    client sees them pass: its retry budget and rate limiter measure virtual seconds. Afterwards
    :attr:`sleeps` lists each wait in order and :attr:`slept` totals them.

    ``now()`` and ``monotonic()`` move together: ``now()`` is ``start`` plus the virtual
    seconds elapsed, ``monotonic()`` those seconds (it starts at ``0.0``). Time moves only when
    something sleeps or :meth:`advance` is called, and work between two looks at the clock
    takes no virtual time. Waits that overlap in real life overlap here: each ends where it
    would have ended, and the clock moves to the latest end, so it may move less than
    :attr:`slept`. A thread's wait begins at the thread's last look at the clock
    (``monotonic()`` or ``now()``) when it looked since its previous wait, else at the current
    virtual time; so threads that read the clock, work out a wait and sleep overlap as real
    ones would, instead of adding up, while a thread's own waits in a row add up. Before the
    clock moves, a sync wait lets other threads run for a millisecond of real time, so that
    threads about to wait alongside it (a batch's workers) start their waits first, as in real
    life; an async wait lets other tasks run once, and waits they begin meanwhile overlap.
    Thread-safe.

    Args:
        start: the wall time at virtual second 0, as an aware datetime (a naive one is taken as
            UTC) or an ISO 8601 string; default: the real UTC time when the clock is made.

    Example:
        >>> from pyconviva.testing import VirtualClock
        >>> clock = VirtualClock("2025-06-02T12:00:00Z")
        >>> clock.sleep(1.5)
        >>> clock.monotonic(), clock.now().isoformat(), clock.slept
        (1.5, '2025-06-02T12:00:01.500000+00:00', 1.5)
    """

    def __init__(self, start: datetime | str | None = None) -> None:
        self._start = _start_time(start)
        self._lock = threading.Lock()
        self._elapsed = 0.0
        self._sleeps: list[float] = []
        # The time each thread last looked at, until its next wait starts from it.
        self._looked: dict[int, float] = {}

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now().isoformat()!r}, slept={self.slept:g})"

    def now(self) -> datetime:
        """``start`` plus the virtual seconds elapsed (aware UTC)."""
        return self._start + timedelta(seconds=self.monotonic())

    def monotonic(self) -> float:
        """The virtual seconds elapsed since the clock was made."""
        with self._lock:
            self._looked[threading.get_ident()] = self._elapsed
            return self._elapsed

    def sleep(self, seconds: float) -> None:
        """Record the wait, let other threads run for a moment, and move the clock to the
        wait's end (see above)."""
        wait = _wait_length(seconds)
        with self._lock:
            begins = self._looked.pop(threading.get_ident(), self._elapsed)
            self._sleeps.append(wait)
        # Threads about to wait alongside this one start their waits before the clock moves, as
        # the async wait lets other tasks do: a bare yield of the GIL is not enough for a thread
        # pool's workers to reach their first wait, a millisecond is.
        time.sleep(_THREADS_CATCH_UP)
        with self._lock:
            self._elapsed = max(self._elapsed, begins + wait)

    async def async_sleep(self, seconds: float) -> None:
        """Record the wait, let other tasks run once, and move the clock to this wait's end."""
        import asyncio  # see SystemClock.async_sleep

        wait = _wait_length(seconds)
        with self._lock:
            self._sleeps.append(wait)
            wakes = self._elapsed + wait
        await asyncio.sleep(0)  # tasks that start waiting meanwhile wait alongside this one
        with self._lock:
            self._elapsed = max(self._elapsed, wakes)
            self._looked.pop(threading.get_ident(), None)  # the thread's look is out of date

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward, as time passing outside any wait (not counted in
        :attr:`slept`)."""
        step = _wait_length(seconds)
        with self._lock:
            self._elapsed += step
            self._looked.pop(threading.get_ident(), None)  # this thread saw the time pass

    @property
    def sleeps(self) -> tuple[float, ...]:
        """Every wait so far, in seconds, in the order they began."""
        with self._lock:
            return tuple(self._sleeps)

    @property
    def slept(self) -> float:
        """The virtual seconds of all waits so far."""
        with self._lock:
            return math.fsum(self._sleeps)


def _start_time(start: datetime | str | None) -> datetime:
    if start is None:
        return datetime.now(timezone.utc)
    if isinstance(start, datetime):
        return as_utc(start)
    if isinstance(start, str):
        try:
            return parse_instant(start)
        except ValueError as exc:
            raise ConfigurationError(f"VirtualClock(start={start!r}): {exc}") from exc
    raise ConfigurationError(
        f"VirtualClock(start={start!r}) is not a datetime or an ISO 8601 string; pass e.g. "
        "'2025-06-02T12:00:00Z'"
    )


def _wait_length(seconds: float) -> float:
    """``seconds`` as a float, refused (like ``time.sleep``) when negative or not finite."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"a wait is a number of seconds, got {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a wait must be a finite number of seconds >= 0, got {seconds!r}")
    return float(seconds)
