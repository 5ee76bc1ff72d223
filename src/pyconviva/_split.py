"""Plan legal request windows for a range too long for one request, and halve a too-large one.

Pure: no I/O and no clock (``now`` is passed in). The limits come from :mod:`pyconviva._rules`.

Every window starts where a bucket of the unsplit query starts (the first one excepted, which
starts where the query does), so that each window's own buckets line up with the unsplit plan:
fetched one after another, the windows return exactly the buckets one request would have.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyconviva._exceptions import QueryError
from pyconviva._query import MetricsQuery
from pyconviva._rules import (
    Granularity,
    RangeViolation,
    align_down,
    bucket_starts,
    check_window,
    human_duration,
    max_span,
    parse_granularity,
)

__all__ = ["halve", "plan_windows"]


def plan_windows(
    query: MetricsQuery, now: datetime, *, max_window: timedelta | None = None
) -> list[MetricsQuery]:
    """The fewest legal, bucket-aligned windows that cover ``query``'s range exactly.

    A query one request may send comes back alone, unchanged. ``max_window`` caps each window
    below what the API allows (to make smaller requests). Raises ``QueryError`` when no split
    helps: a range that starts before the data retention, or a bucket longer than one request.
    """
    granularity = _granularity(query)
    start, end = query.window
    whole = _violation(query, start, end, granularity, now)
    if whole is None and (max_window is None or end - start <= max_window):
        return [query]
    allowed = max_span(query.root, granularity, grouped=_grouped(query), limit=query.limit)
    longest = allowed if max_window is None else min(allowed, max_window)
    capped = longest < allowed
    if granularity.step is None or granularity.step > longest:
        bucket = (
            "the whole range is one bucket"
            if granularity.step is None
            else f"each bucket spans {human_duration(granularity.step)}"
        )
        cap = " (the client's max_window)" if capped else ""
        fixes = (
            "a finer granularity, a shorter range or a longer max_window"
            if capped
            else ("a finer granularity or a shorter range")
        )
        raise QueryError(
            f"granularity={granularity.text!r}: {bucket}, longer than the "
            f"{human_duration(longest)}{cap} one request may cover for {query.describe()}; a "
            f"bucket cannot be split across requests, so use {fixes}",
            argument="granularity",
        )
    # Retention depends only on where a window starts, and the first starts earliest: check it
    # before laying out the rest (a range reaching centuries back would exhaust memory first).
    violation = _violation(query, start, min(end, start + longest), granularity, now)
    if violation is not None:
        raise QueryError(
            f"time_range: {query.describe()} cannot be fetched even in shorter windows: "
            f"{violation.message}. Splitting shortens windows but cannot move them into "
            "the period the API keeps.",
            argument="time_range",
        )
    bounds = _window_bounds(start, end, align_down(start, granularity), granularity.step, longest)
    return [query.with_window(s, e) for s, e in bounds]


def _window_bounds(
    start: datetime, end: datetime, origin: datetime, step: timedelta, longest: timedelta
) -> list[tuple[datetime, datetime]]:
    """Greedy windows of at most ``longest`` over [start, end), each ending where a bucket of
    the unsplit query starts (``origin`` plus a whole number of ``step``s): the fewest windows.

    Each window, bar the last, ends at the furthest bucket start within reach, found by
    arithmetic rather than by listing the buckets. One is always past the window's start, since
    a bucket is no longer than ``longest`` and the first one starts at or before ``start``.
    """
    windows: list[tuple[datetime, datetime]] = []
    window_start = start
    while end - window_start > longest:
        window_end = origin + step * ((window_start + longest - origin) // step)
        windows.append((window_start, window_end))
        window_start = window_end
    windows.append((window_start, end))
    return windows


def halve(query: MetricsQuery) -> tuple[MetricsQuery, MetricsQuery] | None:
    """Split ``query`` at the bucket boundary nearest the middle of its range (for a 413 reply).

    ``None`` when the range is a single bucket: nothing smaller can be asked for, and the
    caller should fail with the 413 it got.
    """
    start, end = query.window
    cuts = bucket_starts(start, end, _granularity(query))[1:]
    if not cuts:
        return None
    middle = start + (end - start) / 2
    cut = min(cuts, key=lambda t: abs(t - middle))
    return query.with_window(start, cut), query.with_window(cut, end)


def _granularity(query: MetricsQuery) -> Granularity:
    return parse_granularity(query.granularity, query.root)


def _grouped(query: MetricsQuery) -> bool:
    return query.group_by is not None or query.group_by_tag is not None


def _violation(
    query: MetricsQuery, start: datetime, end: datetime, granularity: Granularity, now: datetime
) -> RangeViolation | None:
    return check_window(
        query.root, start, end, granularity, grouped=_grouped(query), limit=query.limit, now=now
    )
