"""``export_dataset``: check the call, lock the directory, then fetch, cut, write and record
batch after batch until every unit due is done or has failed."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pyconviva._bulk import plan_batch, relabel
from pyconviva._dataset._lock import directory_lock
from pyconviva._dataset._manifest import MANIFEST_NAME, Manifest
from pyconviva._dataset._units import (
    DAY,
    ExportQuery,
    ExportUnit,
    check_granularity,
    export_queries,
    grid_floor,
    on_grid,
    plan_units,
)
from pyconviva._dataset._windows import (
    Fetch,
    QueryPlan,
    WindowLimits,
    measured_bytes_per_bucket,
    next_chunk,
    plan_fetches,
    prior_bytes_per_bucket,
    reply_size,
)
from pyconviva._dataset._writer import cut_into_units, write_unit
from pyconviva._exceptions import ConvivaError, QueryError
from pyconviva._files import remove_partials
from pyconviva._query import QuerySpec, to_instant
from pyconviva._results import MetricsResult
from pyconviva._rules import Granularity, format_instant, last_full_hour

if TYPE_CHECKING:
    from pyconviva._client import ConvivaAPI

__all__ = ["ExportSummary", "default_end", "export_dataset"]


@dataclass(frozen=True)
class ExportSummary:
    """What a run of :func:`export_dataset` did.

    Attributes:
        directory: the dataset directory.
        start, end: the range this run covered (UTC).
        written: the files written by this run (relative paths, in the order written).
        rows: the rows in the files written by this run.
        skipped: units already done (in the manifest with settled data), not fetched again.
        errors: the error of each unit that failed, by its relative path; a rerun retries them.
        provisional: the files of ``written`` that hold buckets newer than the settling delay
            (still filling in at the API); the next run fetches them again.
        pending: units that begin after now: nothing to fetch yet; a later run fetches them.
    """

    directory: Path
    start: datetime
    end: datetime
    written: tuple[str, ...] = ()
    rows: int = 0
    skipped: int = 0
    errors: Mapping[str, ConvivaError] = field(default_factory=dict)
    provisional: tuple[str, ...] = ()
    pending: int = 0

    def __repr__(self) -> str:
        # One line whatever the size of the run: a year's export writes thousands of files.
        counts = [f"{len(self.written):,} written", f"{self.rows:,} rows"]
        counts += [
            f"{count:,} {what}"
            for count, what in (
                (len(self.provisional), "provisional"),
                (self.skipped, "skipped"),
                (self.pending, "pending"),
                (len(self.errors), "failed"),
            )
            if count
        ]
        return (
            f"<ExportSummary {format_instant(self.start)}..{format_instant(self.end)}: "
            f"{', '.join(counts)} in {str(self.directory)!r}>"
        )

    def raise_for_errors(self) -> None:
        """Raise the first failed unit's error; a rerun fetches only the failed units."""
        if not self.errors:
            return
        path, error = next(iter(self.errors.items()))
        raise ConvivaError(
            f"export: {len(self.errors)} unit(s) failed, the first {path}: {error}; run the "
            "export again to fetch only what is missing"
        ) from error


def export_dataset(
    api: ConvivaAPI,
    *,
    metrics: str | Sequence[str | Sequence[str]],
    group_bys: Sequence[str | Mapping[str, str] | None],
    start: datetime | date | str | None = None,
    end: datetime | date | str | None = None,
    directory: str | os.PathLike[str],
    granularity: str = "PT1H",
    since_last: bool = False,
    progress: Callable[[int, int], object] | None = None,
) -> ExportSummary:
    """Export historical data of every metric selection × group-by into a Parquet dataset.

    One file per query and UTC day, ``date=YYYY-MM-DD/<metrics>__<group>.parquet`` (hive-style
    partitions: pandas, polars, DuckDB and Spark read them as a ``date`` column), and a manifest,
    ``_manifest.json``, of the files written.

    Each query is fetched in as few requests as the API allows (up to 90 days each, fewer where
    the replies would pass the API's size cap, estimated from the query's previous reply) and
    each reply is cut into the day files. A grouped query keeps the API's top 50 values of each
    request's range, so a day's file may list a value that was not in that day's own top 50.

    Resumable: files and manifest are replaced atomically, a unit is recorded only once its file
    is in place, and the requests are planned from the manifest alone, so rerunning the same call
    after a failure or a kill fetches only the windows with missing files and leaves exactly the
    dataset an uninterrupted run leaves.

    The API's newest data is still filling in (``SETTLE_DELAY``, 10 minutes). A unit whose last
    bucket is newer is written as *provisional* (its buckets so far) and fetched again by the
    next run, ``since_last`` runs included; a unit that begins after now is not written at all.
    Only settled units are done.

    One export at a time per directory: a second one, in this process or another, is refused at
    once with ``DatasetBusyError`` (it would otherwise only wait, possibly for hours).

    Args:
        api: the client to fetch with (its rate limit, ``max_concurrency`` and ``max_window``
            apply).
        metrics: a metric name, or a list of metric (or metric-group) names and lists of
            names fetched together; each is one query per group-by.
        group_bys: a list of dimensions (``"isp"``), ``{"custom-tag": "appVersion"}`` dicts,
            and ``None`` for the ungrouped totals.
        start, end: the range, as datetimes, dates (UTC midnight) or ISO strings; on the
            bucket grid counted from UTC midnight.
        directory: the dataset directory (created when missing).
        granularity: bucket size, one that divides a day (default ``"PT1H"``).
        since_last: continue from the end of the last range exported into ``directory``
            (``start`` is needed only for the first run) up to ``end``, by default the last
            full hour by ``api.clock``; unfinished and provisional units of earlier runs are
            fetched too. For nightly jobs.
        progress: called as ``progress(done, total)`` as units are written or fail.

    Returns:
        An :class:`ExportSummary`; failed units are in ``errors``, not raised.

    Raises:
        QueryError: invalid arguments, before any request and before any file is touched.
        ManifestError: the directory's manifest is damaged (a ``ConvivaError``).
        DatasetBusyError: another export is writing into the directory (a ``ConvivaError``).
    """
    folder = _folder(directory)
    parsed = check_granularity(granularity)
    queries = export_queries(metrics, group_bys)
    if progress is not None and not callable(progress):
        raise QueryError(
            f"progress={progress!r} is not callable; pass a function of (done, total) or None",
            argument="progress",
        )
    call = _Call(api, folder, queries, parsed, start, end, since_last)
    call.plan()  # every check before the directory is touched: bad arguments leave no trace
    folder.mkdir(parents=True, exist_ok=True)
    with directory_lock(folder):
        # Planned again under the lock: another export may have finished in between.
        return _Run(call, call.plan(), progress).run()


def _folder(directory: object) -> Path:
    if not isinstance(directory, (str, os.PathLike)):
        raise QueryError(
            f"directory={directory!r} is not a path; pass e.g. directory='conviva-data'",
            argument="directory",
        )
    return Path(directory)


@dataclass(frozen=True)
class _Plan:
    """A run's plan: the manifest it starts from, its range, its units and its clock reading."""

    manifest: Manifest
    start: datetime
    end: datetime
    units: list[ExportUnit]
    now: datetime


@dataclass(frozen=True)
class _Call:
    """The checked arguments of one ``export_dataset`` call."""

    api: ConvivaAPI
    folder: Path
    queries: list[ExportQuery]
    granularity: Granularity
    start: object
    end: object
    since_last: bool

    @property
    def step(self) -> timedelta:
        return self.granularity.step or DAY

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST_NAME

    def plan(self) -> _Plan:
        """Read the manifest, place the run's range and check every query over it."""
        now = self.api.clock.now()
        manifest = Manifest.read(self.manifest_path, self.granularity.text)
        start, end = _run_range(now, manifest, self.start, self.end, self.since_last, self.step)
        self._check_queries(start, end, now)
        ranges = [*manifest.ranges, (start, end)] if self.since_last else [(start, end)]
        units = plan_units(self.queries, [r for r in ranges if r[0] < r[1]])
        return _Plan(manifest, start, end, units, now)

    def spec(self, query: ExportQuery, window: tuple[datetime, datetime]) -> QuerySpec:
        metrics = query.metrics
        return QuerySpec.historical(
            # one name goes in the path: a metric group cannot be a custom selection's member
            metrics[0] if len(metrics) == 1 else list(metrics),
            group_by=query.group_by,
            time_range=window,
            granularity=self.granularity.text,
        )

    def _check_queries(self, start: datetime, end: datetime, now: datetime) -> None:
        """Validate each query once (over the run's first day) before anything is fetched;
        the first invalid one is refused, named."""
        first_day = (start, min(end, start + DAY)) if start < end else (start - DAY, start)
        sample = [self.spec(query, first_day) for query in self.queries]
        _, errors = plan_batch(sample, now, max_window=self.api.max_window)
        for index, error in errors.items():
            raise relabel(error, f"export query {self.queries[index].stem}")


class _Run:
    """One locked run: batches of fetches, each written and recorded before the next."""

    def __init__(
        self, call: _Call, plan: _Plan, progress: Callable[[int, int], object] | None
    ) -> None:
        self.call = call
        self.plan = plan
        self.manifest = plan.manifest
        self.progress = progress
        due = [unit for unit in plan.units if not self.manifest.is_done(unit)]
        self.todo: dict[str, list[ExportUnit]] = {q.stem: [] for q in call.queries}
        for unit in sorted(due, key=lambda u: u.start):
            if unit.has_started(plan.now):
                self.todo[unit.query.stem].append(unit)
        self.total = sum(map(len, self.todo.values()))
        self.pending = len(due) - self.total
        self.skipped = len(plan.units) - len(due)
        self.written: list[str] = []
        self.provisional: list[str] = []
        self.errors: dict[str, ConvivaError] = {}
        self.rows = 0
        self.done = 0

    def run(self) -> ExportSummary:
        folder, plan = self.call.folder, self.plan
        remove_partials(folder, "date=*")  # left by a run killed mid-write
        if (plan.start, plan.end) not in self.manifest.ranges and plan.start < plan.end:
            self.manifest.ranges.append((plan.start, plan.end))
            self.manifest.save(self.call.manifest_path)
        while chunk := next_chunk(self._query_plans()):
            self._fetch(chunk)
        return ExportSummary(
            directory=folder,
            start=plan.start,
            end=plan.end,
            written=tuple(self.written),
            rows=self.rows,
            skipped=self.skipped,
            errors=self.errors,
            provisional=tuple(self.provisional),
            pending=self.pending,
        )

    def _query_plans(self) -> list[QueryPlan]:
        plans = []
        for query in self.call.queries:
            units = self.todo[query.stem]
            if not units:
                continue
            measured = query.stem in self.manifest.estimates
            estimate = (
                self.manifest.estimates[query.stem] if measured else prior_bytes_per_bucket(query)
            )
            limits = WindowLimits.of(query, self.call.granularity, self.call.api.max_window)
            fetches = tuple(plan_fetches(units, limits, estimate))
            plans.append(QueryPlan(fetches, estimate, measured, limits.step))
        return plans

    def _fetch(self, chunk: Sequence[Fetch]) -> None:
        """Fetch a batch, write and record its units, then save the manifest once."""
        specs = [
            self.call.spec(fetch.units[0].query, window)
            for fetch in chunk
            for window in fetch.windows
        ]
        # Held here only, so that each fetch's replies are freed once its files are written.
        replies: list[MetricsResult | ConvivaError] = list(self.call.api.get_many(specs))
        estimates: dict[str, float] = {}
        for fetch in chunk:
            outcomes = replies[: len(fetch.windows)]
            del replies[: len(fetch.windows)]
            stem = fetch.units[0].query.stem
            fetched = {unit.path for unit in fetch.units}
            self.todo[stem] = [u for u in self.todo[stem] if u.path not in fetched]
            results = [o for o in outcomes if isinstance(o, MetricsResult)]
            if len(results) < len(outcomes):
                error = next(o for o in outcomes if not isinstance(o, MetricsResult))
                self.errors.update((unit.path, error) for unit in fetch.units)
                continue
            self._write(fetch, results)
            buckets = fetch.span // self.call.step
            size = sum(reply_size(result) for result in results)
            estimates[stem] = max(
                estimates.get(stem, 0.0), measured_bytes_per_bucket(size, buckets)
            )
        self.manifest.estimates.update(estimates)
        self.manifest.save(self.call.manifest_path)
        for fetch in chunk:
            for _ in fetch.units:
                self.done += 1
                if self.progress is not None:
                    self.progress(self.done, self.total)

    def _write(self, fetch: Fetch, results: Sequence[MetricsResult]) -> None:
        now = self.plan.now
        notes = tuple(note for result in results for note in result.notes)
        by_unit = cut_into_units(results, fetch.units, now)
        for unit in fetch.units:
            rows = write_unit(self.call.folder, unit, by_unit[unit.path])
            settled = unit.is_settled(now)
            self.manifest.record(unit, rows=rows, notes=notes, settled=settled)
            self.written.append(unit.path)
            self.rows += rows
            if not settled:
                self.provisional.append(unit.path)


def _run_range(
    now: datetime,
    manifest: Manifest,
    start: object,
    end: object,
    since_last: bool,
    step: timedelta,
) -> tuple[datetime, datetime]:
    """The run's [start, end), on the bucket grid of ``step`` counted from UTC midnight.

    Explicit edges off the grid are refused (see :func:`on_grid`); the default end (now) is
    taken down to the last whole bucket.
    """
    if since_last:
        if manifest.ranges:
            first = max(e for _, e in manifest.ranges)
        elif start is not None:
            first = on_grid(to_instant(start, "start", argument="start"), step, "start")
        else:
            raise QueryError(
                "since_last=True continues an earlier export, and the directory has none yet; "
                "pass start= for the first run",
                argument="start",
            )
        last = (
            on_grid(to_instant(end, "end", argument="end"), step, "end")
            if end is not None
            else grid_floor(last_full_hour(now), step)
        )
        return first, max(first, last)
    if start is None or end is None:
        raise QueryError(
            "export needs start= and end= (or since_last=True to continue an earlier export)",
            argument="start" if start is None else "end",
        )
    first = on_grid(to_instant(start, "start", argument="start"), step, "start")
    last = on_grid(to_instant(end, "end", argument="end"), step, "end")
    if not first < last:
        raise QueryError(
            f"start={format_instant(first)} is not before end={format_instant(last)}; pass a "
            "start before the end",
            argument="start",
        )
    return first, last


def default_end(now: datetime, granularity: str) -> datetime:
    """Where an export that names no end stops: the last full hour (as the API's ``days``),
    taken down to the bucket grid — the last UTC midnight for ``P1D``."""
    step = check_granularity(granularity).step or DAY
    return grid_floor(last_full_hour(now), step)
