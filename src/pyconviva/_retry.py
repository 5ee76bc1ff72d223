"""Retry policy as pure functions: what to retry, how long to wait, when to give up.

Every Metrics V3 call is a GET, so repeating one is safe. Connection failures, timeouts, 408,
429 and 5xx replies are retried; every other status is an answer about the request itself and
would come back the same. Retries are bounded by time first: a call's deadline
(``total_timeout``) sized for this API, whose rate-limit windows are a minute long and whose
replies take seconds. A count (``max_retries``) is only a backstop against a server that fails
at once every time; retries after a 429 are not counted, since a 429 says "later", and only
the deadline ends them. Waits after faults grow exponentially with jitter; a ``Retry-After``
is obeyed as given when it fits the deadline.

Nothing here sleeps, reads a clock or draws a random number: callers pass ``now`` and a random
value in ``[0, 1)``, which keeps every decision reproducible in tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Literal

from pyconviva._exceptions import ConfigurationError

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TOTAL_TIMEOUT",
    "RATE_LIMITED",
    "RetryPolicy",
    "TransportFailure",
    "counts_against_max_retries",
    "next_delay",
    "parse_retry_after",
    "should_retry",
    "within_budget",
]

TransportFailure = Literal["connection", "timeout"]
"""A request that got no reply: the connection failed, or the reply did not come in time."""

# Five minutes, the longest of the API's rate-limit windows (per IP): a call outlasts any one
# full budget, or four full one-minute account windows in a row (each waited out after a 429,
# plus the limiter's arrival margin) with time left for replies and backoff. Measured: at 30 %
# faults of every kind, 180 s still lost a query in some runs (three 429 pauses on one window).
DEFAULT_TOTAL_TIMEOUT = 300.0
# A backstop, not the bound: 10 retries of a server that fails at once take about 55 s of
# backoff. At 30 % faults a window loses its 11 attempts about once in 10**6 windows.
DEFAULT_MAX_RETRIES = 10

RATE_LIMITED = 429
# 408: the server gave up waiting for us; 429: rate limited. Both say "later", not "never".
_RETRYABLE_CLIENT_STATUSES = frozenset({408, RATE_LIMITED})


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries failed requests. Per client, never process-global.

    A call is bounded by time first: no retry starts whose wait would end past
    ``total_timeout``, counted from when the request could first be sent (time queued in the
    client's own rate limiter is not charged; time the API makes it wait is). The count is a
    backstop. Every ongoing exchange is also cut at the deadline plus one attempt's
    ``timeout``, so a server that trickles bytes cannot hold a call longer.

    Attributes:
        max_retries: retries after faults (connection errors, timeouts, 408 and 5xx) after the
            first attempt (so ``3`` means at most 4 requests for a failing server). Retries
            after a 429 are not counted: the deadline alone ends them. ``0`` disables every
            retry, 429s included.
        backoff_base: wait before the first retry after a fault, in seconds.
        backoff_factor: each further retry waits this many times longer.
        max_delay: cap on one computed wait, in seconds.
        jitter: fraction of each computed wait that is randomised away (0 disables jitter);
            spreads out clients that failed together so they do not retry in step.
        total_timeout: the call's deadline in seconds (default 300: the API's longest
            rate-limit window, or four of its one-minute windows, and time for replies); a
            retry whose wait would end past it is not attempted, and the error says why.
        retry_after_cap: longest ``Retry-After`` obeyed, in seconds; the default ``None``
            obeys any that fits the deadline. A longer one ends the call with an error that
            names it (waiting less than the server asked would only draw another refusal).
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base: float = 0.5
    backoff_factor: float = 2.0
    max_delay: float = 8.0
    jitter: float = 0.25
    total_timeout: float = DEFAULT_TOTAL_TIMEOUT
    retry_after_cap: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise ConfigurationError(
                f"max_retries must be a whole number >= 0, got {self.max_retries!r}"
            )
        if self.max_retries < 0:
            raise ConfigurationError(
                f"max_retries must be >= 0 (0 disables retries), got {self.max_retries!r}"
            )
        for name in ("backoff_base", "max_delay", "total_timeout"):
            _require_finite(name, getattr(self, name), minimum=0.0)
        if self.retry_after_cap is not None:
            _require_finite("retry_after_cap", self.retry_after_cap, minimum=0.0)
        _require_finite("backoff_factor", self.backoff_factor, minimum=1.0)
        _require_finite("jitter", self.jitter, minimum=0.0)
        if self.jitter > 1.0:
            raise ConfigurationError(f"jitter is a fraction between 0 and 1, got {self.jitter!r}")


def _require_finite(name: str, value: float, *, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < minimum:
        raise ConfigurationError(f"{name} must be a finite number >= {minimum:g}, got {value!r}")


def should_retry(failure: int | TransportFailure) -> bool:
    """Whether a request that ended this way is worth sending again.

    ``failure`` is an HTTP status code, or ``"connection"`` / ``"timeout"`` when no reply came.
    """
    if isinstance(failure, str):
        return True
    return failure >= 500 or failure in _RETRYABLE_CLIENT_STATUSES


def counts_against_max_retries(failure: int | TransportFailure) -> bool:
    """Whether a retry after this failure uses up one of ``max_retries``: all but a 429's."""
    return failure != RATE_LIMITED


def parse_retry_after(value: str | None, now: datetime, cap: float | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or ``None`` when unusable.

    Accepts delay-seconds (fractions tolerated) and an HTTP-date; a date in the past means
    "now" (``0.0``). Empty, garbage, negative and non-finite values give ``None`` so the caller
    falls back to its own backoff. ``cap``, when given, cuts longer values to it.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    seconds = _delay_seconds(text)
    if seconds is None:
        seconds = _seconds_until_http_date(text, now)
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds if cap is None else min(seconds, cap)


def _delay_seconds(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _seconds_until_http_date(text: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def next_delay(
    attempt: int, policy: RetryPolicy, retry_after: float | None, rng_value: float
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry after a fault).

    A usable ``Retry-After`` (already parsed) is obeyed as given: the server knows when it will
    take requests again (whether the wait fits is the caller's question). Otherwise the wait is
    ``min(max_delay, backoff_base * backoff_factor ** (attempt - 1))``, shortened by up to
    ``jitter`` of itself according to ``rng_value`` in ``[0, 1)``, so it never exceeds the cap.
    """
    if retry_after is not None:
        return retry_after
    exponent = max(attempt - 1, 0)
    try:
        raw = policy.backoff_base * policy.backoff_factor**exponent
    except OverflowError:
        raw = policy.max_delay
    capped = min(raw, policy.max_delay)
    return capped * (1.0 - policy.jitter * rng_value)


def within_budget(elapsed: float, delay: float, policy: RetryPolicy) -> bool:
    """Whether waiting ``delay`` more seconds still starts the retry inside the time budget."""
    return elapsed + delay <= policy.total_timeout
