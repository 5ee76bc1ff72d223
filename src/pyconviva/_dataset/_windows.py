"""Which requests fetch an export's units: the fewest the API allows. Pure.

A query's units (one per day) are fetched in *windows* as long as one request may cover: the
API's span limit for the query (90 days; 24 hours for minutely buckets; n hours for a grouped
``PTnM``), the client's ``max_window`` if shorter, and the reply size cap (5,700,000 bytes).
The size of a reply is estimated before it is asked for, as the query's bytes per bucket times
the window's buckets: measured on the query's previous reply (with some headroom, since traffic
and so the digits vary), or, before the first reply, a generous guess from the number of metrics
and groups. A window that draws a 413 anyway is halved by the client: the safety net.

A window covers whole units that follow each other; a unit longer than one request may cover
(a day of grouped ``PT1M``, say) is fetched in several windows on its bucket grid. Greedy
planning at unit boundaries sends at most twice the fewest windows the limits allow: any two
neighbouring windows together cover more than one window may.

The plan is a function of the units still to fetch and the estimate alone, both kept in the
manifest, so a run killed at any moment and run again plans the same windows it would have.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pyconviva._catalog import METRIC_GROUPS
from pyconviva._dataset._units import DAY, ExportQuery, ExportUnit
from pyconviva._results import MetricsResult
from pyconviva._rules import DEFAULT_LIMIT, HISTORICAL, MAX_REPLY_BYTES, Granularity, max_span

__all__ = [
    "CHUNK_REPLY_BYTES",
    "CHUNK_WINDOWS",
    "Fetch",
    "QueryPlan",
    "WindowLimits",
    "measured_bytes_per_bucket",
    "next_chunk",
    "plan_fetches",
    "prior_bytes_per_bucket",
    "reply_size",
]

# Before a query's first reply: bytes per metric, group and bucket, generously (the emulator's
# compact JSON takes 50 to 100; a metric's fields and its share of the keys around them).
_PRIOR_BYTES_PER_METRIC = 150
# A measured estimate is raised by this much: the next window's traffic, and so its digits and
# the groups present, differ from the last one's.
_HEADROOM = 1.1
# One batch of requests holds at most about this many reply bytes (its replies are all in memory
# until their files are written), and at most this many windows. Decoded, a reply takes about 10
# times its size, and decoding it (orjson) briefly 20 times: one full-size reply per batch keeps
# a year's export near 100 MB above the process's start (two: nearly 200), and costs no time, as
# replies are decoded one after another anyway (one interpreter lock).
CHUNK_REPLY_BYTES = MAX_REPLY_BYTES
CHUNK_WINDOWS = 32
# Buckets of a reply written out to measure its size (see reply_size).
_SIZE_SAMPLE = 64


@dataclass(frozen=True)
class WindowLimits:
    """What one request of a query may cover: ``span`` (the API's limit, or the client's
    ``max_window`` when shorter), whole buckets of ``step``, replies under ``reply_bytes``."""

    span: timedelta
    step: timedelta
    reply_bytes: int = MAX_REPLY_BYTES

    @classmethod
    def of(
        cls, query: ExportQuery, granularity: Granularity, max_window: timedelta | None
    ) -> WindowLimits:
        """The limits of ``query`` at ``granularity``, one whose buckets divide a day (the
        export never sends ``limit``)."""
        grouped = query.group_by is not None
        span = max_span(HISTORICAL, granularity, grouped=grouped, limit=None)
        if max_window is not None:
            span = min(span, max_window)
        return cls(span, granularity.step or DAY)

    def longest(self, bytes_per_bucket: float) -> timedelta:
        """The longest window: whole buckets, within the span and the size cap, one at least
        (a single bucket too large is for the 413 to say)."""
        by_size = math.floor(self.reply_bytes / max(bytes_per_bucket, 1.0))
        by_span = self.span // self.step
        return max(1, min(by_size, by_span)) * self.step


@dataclass(frozen=True)
class Fetch:
    """Consecutive units of one query and the request windows that cover them exactly: one
    window for several whole units, or several for one unit too long for a request."""

    units: tuple[ExportUnit, ...]
    windows: tuple[tuple[datetime, datetime], ...]

    @property
    def span(self) -> timedelta:
        return self.units[-1].end - self.units[0].start


def plan_fetches(
    units: Sequence[ExportUnit], limits: WindowLimits, bytes_per_bucket: float
) -> list[Fetch]:
    """The fetches of one query's ``units`` (in time order), greedily as long as ``limits``
    allow with replies of ``bytes_per_bucket``."""
    longest = limits.longest(bytes_per_bucket)
    fetches: list[Fetch] = []
    run: list[ExportUnit] = []

    def close_run() -> None:
        if run:
            fetches.append(Fetch(tuple(run), ((run[0].start, run[-1].end),)))
            run.clear()

    for unit in units:
        if unit.end - unit.start > longest:
            close_run()
            fetches.append(Fetch((unit,), _cut(unit.start, unit.end, longest)))
            continue
        if run and (run[-1].end != unit.start or unit.end - run[0].start > longest):
            close_run()
        run.append(unit)
    close_run()
    return fetches


def _cut(
    start: datetime, end: datetime, longest: timedelta
) -> tuple[tuple[datetime, datetime], ...]:
    """[start, end) in windows of ``longest`` (the last one shorter); ``start`` is on the
    bucket grid and ``longest`` whole buckets, so every cut is too."""
    windows = []
    cursor = start
    while cursor < end:
        windows.append((cursor, min(cursor + longest, end)))
        cursor += longest
    return tuple(windows)


@dataclass(frozen=True)
class QueryPlan:
    """One query's planned fetches, the estimate they were planned with, and whether that
    estimate was measured on a reply (else only the first fetch goes out, to measure it)."""

    fetches: tuple[Fetch, ...]
    bytes_per_bucket: float
    measured: bool
    step: timedelta

    def due(self) -> tuple[Fetch, ...]:
        """The fetches that may be sent now."""
        return self.fetches if self.measured else self.fetches[:1]

    def reply_bytes(self, fetch: Fetch) -> float:
        return fetch.span / self.step * self.bytes_per_bucket


def next_chunk(
    plans: Sequence[QueryPlan],
    *,
    max_bytes: float = CHUNK_REPLY_BYTES,
    max_windows: int = CHUNK_WINDOWS,
) -> list[Fetch]:
    """The fetches of the next batch: the due ones, one query after another in turn, while
    their estimated replies fit ``max_bytes`` and their windows ``max_windows`` (one fetch at
    least). Depends on nothing but ``plans``, so a resumed run batches as the first did."""
    queues = [list(plan.due()) for plan in plans]
    chunk: list[Fetch] = []
    size = 0.0
    windows = 0
    while any(queues):
        for queue, plan in zip(queues, plans, strict=True):
            if not queue:
                continue
            fetch = queue[0]
            cost = plan.reply_bytes(fetch)
            if chunk and (size + cost > max_bytes or windows + len(fetch.windows) > max_windows):
                return chunk
            chunk.append(queue.pop(0))
            size += cost
            windows += len(fetch.windows)
    return chunk


def prior_bytes_per_bucket(query: ExportQuery) -> float:
    """A generous guess at a reply's bytes per bucket before the query has any reply: each
    metric (a metric group counts its members) of each group, ``DEFAULT_LIMIT`` groups when
    grouped (the API's own top N)."""
    metrics = sum(len(METRIC_GROUPS.get(name, (name,))) for name in query.metrics)
    groups = DEFAULT_LIMIT if query.group_by is not None else 1
    return float(groups * metrics * _PRIOR_BYTES_PER_METRIC)


def measured_bytes_per_bucket(reply_bytes: int, buckets: int) -> float:
    """The estimate for a query's next windows from a reply of ``reply_bytes`` over
    ``buckets`` buckets (with headroom; whole bytes, so that the manifest keeps it exactly)."""
    return float(math.ceil(_HEADROOM * reply_bytes / max(buckets, 1)))


def reply_size(result: MetricsResult) -> int:
    """A reply's size as compact JSON (what the API sends, give or take its formatting),
    measured on an even sample of its buckets: they differ little, and writing out all of a
    5 MB reply again would cost as long as decoding it."""
    raw = dict(result)
    buckets = raw.get("time_series")
    if not isinstance(buckets, list) or len(buckets) <= _SIZE_SAMPLE:
        return _json_size(raw)
    sample = buckets[:: len(buckets) // _SIZE_SAMPLE]
    envelope = _json_size({**raw, "time_series": []})
    return envelope + math.ceil(_json_size(sample) * len(buckets) / len(sample))


def _json_size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":")))
