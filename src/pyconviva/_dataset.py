"""Export many queries over a long range into a Parquet dataset, incrementally and resumably.

The range is cut at UTC midnights into *units*: one query over (at most) one day. Each unit is
one file, ``date=YYYY-MM-DD/<metrics>__<group>.parquet`` (hive-style partitions, which pandas,
polars, DuckDB and Spark read as a ``date`` column), and one entry of the manifest,
``_manifest.json``. A unit is recorded only after its file is in place, and both are written
atomically (a temporary file, then ``os.replace``), so a run killed at any moment leaves only
whole files, and a rerun fetches exactly the units not yet recorded: no duplicates, no gaps.

A unit that covers part of a day (the range starts or ends inside it) is named with its hours,
``…__0200-2400.parquet``: a nightly ``since_last`` run adds the rest of a day beside the part an
earlier run wrote, never over it.

Every file has the same columns, whatever the query: ``timestamp`` (UTC, bucket start),
``dimension`` (the group-by dimension or custom tag, null when ungrouped), ``dimension_value``,
``metric``, ``field``, ``value`` (float64).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyconviva._bulk import plan_batch
from pyconviva._exceptions import ConvivaError, QueryError
from pyconviva._files import atomic_path, remove_partials
from pyconviva._optional import require
from pyconviva._query import GroupBy, QuerySpec, to_instant
from pyconviva._results import MetricsResult
from pyconviva._rules import (
    HISTORICAL,
    format_instant,
    human_duration,
    last_full_hour,
    parse_granularity,
    parse_instant,
)

if TYPE_CHECKING:
    from pyconviva._client import ConvivaAPI

__all__ = [
    "MANIFEST_NAME",
    "ExportQuery",
    "ExportSummary",
    "ExportUnit",
    "day_windows",
    "default_end",
    "export_dataset",
    "export_queries",
    "plan_units",
]

MANIFEST_NAME = "_manifest.json"  # a leading "_": dataset readers skip it
_MANIFEST_VERSION = 1
_DAY = timedelta(days=1)
_COLUMNS = ("timestamp", "dimension", "dimension_value", "metric", "field", "value")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


@dataclass(frozen=True)
class ExportQuery:
    """One query of an export: a metric selection, a group-by, and the file stem they name."""

    metrics: tuple[str, ...]
    group_by: GroupBy
    stem: str


@dataclass(frozen=True)
class ExportUnit:
    """One file of the dataset: one query over [start, end), within one UTC day."""

    query: ExportQuery
    start: datetime
    end: datetime

    @property
    def path(self) -> str:
        """The file's path relative to the dataset directory (also its key in the manifest)."""
        day = self.start.date()
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        hours = ""
        if (self.start, self.end) != (midnight, midnight + _DAY):
            hours = f"__{_clock_text(self.start - midnight)}-{_clock_text(self.end - midnight)}"
        return f"date={day.isoformat()}/{self.query.stem}{hours}.parquet"


@dataclass(frozen=True)
class ExportSummary:
    """What a run of :func:`export_dataset` did.

    Attributes:
        directory: the dataset directory.
        start, end: the range this run covered (UTC).
        written: the files written by this run (relative paths, in unit order).
        rows: the rows in the files written by this run.
        skipped: units already in the manifest, not fetched again.
        errors: the error of each unit that failed, by its relative path; a rerun retries them.
    """

    directory: Path
    start: datetime
    end: datetime
    written: tuple[str, ...] = ()
    rows: int = 0
    skipped: int = 0
    errors: Mapping[str, ConvivaError] = field(default_factory=dict)

    def raise_for_errors(self) -> None:
        """Raise the first failed unit's error; a rerun fetches only the failed units."""
        if not self.errors:
            return
        path, error = next(iter(self.errors.items()))
        raise ConvivaError(
            f"export: {len(self.errors)} unit(s) failed, the first {path}: {error}; run the "
            "export again to fetch only what is missing"
        ) from error


# --- pure planning ---------------------------------------------------------------------------


def export_queries(
    metrics: str | Sequence[str | Sequence[str]], group_bys: Sequence[GroupBy]
) -> list[ExportQuery]:
    """Every (metric selection, group-by) pair, each with a distinct file stem.

    ``metrics`` is one metric name or a list whose items are a metric (or metric group) name or
    a list of names fetched together (a custom selection).
    """
    selections = [metrics] if isinstance(metrics, str) else list(metrics)
    if not selections or not group_bys:
        raise QueryError(
            "export needs at least one metric and one group-by; pass e.g. metrics=['attempts'] "
            "and group_bys=[None, 'isp'] (None: not grouped)",
            argument="metrics" if not selections else "group_bys",
        )
    queries = []
    for selection in selections:
        names = (selection,) if isinstance(selection, str) else tuple(selection)
        for group in group_bys:
            stem = f"{'+'.join(names)}__{_group_label(group)}"
            queries.append(ExportQuery(names, group, _UNSAFE.sub("_", stem)))
    stems = [q.stem for q in queries]
    repeated = sorted({s for s in stems if stems.count(s) > 1})
    if repeated:
        raise QueryError(
            f"metrics/group_bys name the same file twice: {', '.join(repeated)}; list each "
            "metric selection and group-by once",
            argument="group_bys",
        )
    return queries


def _group_label(group: GroupBy) -> str:
    if group is None:
        return "all"
    if isinstance(group, str):
        return group.replace("_", "-")
    return "-".join(f"{key}-{value}" for key, value in group.items())


def day_windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at every UTC midnight inside it."""
    windows = []
    cursor = start
    while cursor < end:
        midnight = datetime(cursor.year, cursor.month, cursor.day, tzinfo=timezone.utc) + _DAY
        stop = min(midnight, end)
        windows.append((cursor, stop))
        cursor = stop
    return windows


def plan_units(
    queries: Sequence[ExportQuery], ranges: Sequence[tuple[datetime, datetime]]
) -> list[ExportUnit]:
    """Every unit of ``queries`` over each range, day by day, without repeats."""
    units = {
        unit.path: unit
        for range_start, range_end in ranges
        for window_start, window_end in day_windows(range_start, range_end)
        for unit in (ExportUnit(q, window_start, window_end) for q in queries)
    }
    return list(units.values())


def _clock_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{minutes // 60:02d}{minutes % 60:02d}"


def _check_granularity(granularity: str) -> str:
    try:
        parsed = parse_granularity(granularity, HISTORICAL)
    except ValueError as exc:
        raise QueryError(f"granularity={granularity!r}: {exc}", argument="granularity") from exc
    if parsed.step is None or parsed.step > _DAY or _DAY % parsed.step:
        raise QueryError(
            f"granularity={granularity!r}: the export writes one file per day, so its buckets "
            "must divide a day; use e.g. 'PT1H', 'PT15M' or 'P1D'",
            argument="granularity",
        )
    return parsed.text


def _rows(result: MetricsResult) -> dict[str, list[Any]]:
    """The result's tidy records in the dataset's columns (the same for every query)."""
    dimension = result.dimension
    columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
    for record in result.records():
        columns["timestamp"].append(record["timestamp"])
        columns["dimension"].append(dimension)
        columns["dimension_value"].append(
            None if dimension is None else _text(record.get(dimension))
        )
        columns["metric"].append(record["metric"])
        columns["field"].append(record["field"])
        value = record["value"]
        columns["value"].append(None if value is None else float(value))
    return columns


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# --- the manifest ------------------------------------------------------------------------------


@dataclass
class Manifest:
    """The finished units (by relative path) and the ranges requested so far, oldest first."""

    granularity: str
    ranges: list[tuple[datetime, datetime]] = field(default_factory=list)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": _MANIFEST_VERSION,
                "granularity": self.granularity,
                "ranges": [[format_instant(s), format_instant(e)] for s, e in self.ranges],
                "units": self.units,
            },
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def read(cls, path: Path, granularity: str) -> Manifest:
        if not path.exists():
            return cls(granularity)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            ranges = [(parse_instant(s), parse_instant(e)) for s, e in data["ranges"]]
            manifest = cls(data["granularity"], ranges, dict(data["units"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConvivaError(
                f"{path} is not a pyconviva export manifest ({exc}); export into an empty "
                "directory or restore the manifest"
            ) from exc
        if manifest.granularity != granularity:
            raise QueryError(
                f"granularity={granularity!r}, but the dataset in {path.parent} was exported "
                f"with {manifest.granularity!r}; use that granularity or another directory",
                argument="granularity",
            )
        return manifest


# --- I/O -----------------------------------------------------------------------------------------


def _write_unit(directory: Path, unit: ExportUnit, result: MetricsResult) -> int:
    """Write the unit's file; returns its row count."""
    pyarrow = require("pyarrow", feature="export_dataset()")
    parquet = require("pyarrow.parquet", feature="export_dataset()")
    schema = pyarrow.schema(
        [
            ("timestamp", pyarrow.timestamp("ms", tz="UTC")),
            ("dimension", pyarrow.string()),
            ("dimension_value", pyarrow.string()),
            ("metric", pyarrow.string()),
            ("field", pyarrow.string()),
            ("value", pyarrow.float64()),
        ]
    )
    table = pyarrow.table(_rows(result), schema=schema)
    target = directory / unit.path
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary:
        parquet.write_table(table, temporary)
    return int(table.num_rows)


def _save(manifest: Manifest, path: Path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(manifest.to_json(), "utf-8")


def _chunks(units: Sequence[ExportUnit], size: int) -> Iterator[Sequence[ExportUnit]]:
    for first in range(0, len(units), size):
        yield units[first : first + size]


def export_dataset(
    api: ConvivaAPI,
    *,
    metrics: str | Sequence[str | Sequence[str]],
    group_bys: Sequence[GroupBy],
    start: datetime | date | str | None = None,
    end: datetime | date | str | None = None,
    directory: str | os.PathLike[str],
    granularity: str = "PT1H",
    since_last: bool = False,
    progress: Callable[[int, int], object] | None = None,
) -> ExportSummary:
    """Export historical data of every metric selection × group-by into a Parquet dataset.

    Resumable: units already in the directory's manifest are skipped, so rerunning the same
    call after a failure or a kill fetches only what is missing.

    Args:
        api: the client to fetch with (its rate limit and ``max_concurrency`` apply).
        metrics: a metric name, or a list of metric (or metric-group) names and lists of
            names fetched together; each is one query per group-by.
        group_bys: dimensions (``"isp"``), ``{"custom-tag": "appVersion"}``, or ``None`` for
            the ungrouped totals.
        start, end: the range, as datetimes, dates (UTC midnight) or ISO strings.
        directory: the dataset directory (created when missing).
        granularity: bucket size, one that divides a day (default ``"PT1H"``).
        since_last: continue from the end of the last range exported into ``directory``
            (``start`` is needed only for the first run) up to ``end``, by default the last
            full hour by ``api.clock``; unfinished units of earlier runs are fetched too. For
            nightly jobs.
        progress: called as ``progress(done, total)`` after each unit is written or fails.

    Returns:
        An :class:`ExportSummary`; failed units are in ``errors``, not raised.

    Raises:
        QueryError: invalid arguments, before any request.
    """
    folder = Path(directory)
    granularity = _check_granularity(granularity)
    queries = export_queries(metrics, group_bys)
    manifest = Manifest.read(folder / MANIFEST_NAME, granularity)
    step = parse_granularity(granularity, HISTORICAL).step or _DAY
    range_start, range_end = _run_range(api, manifest, start, end, since_last, step)
    _check_queries(api, queries, range_start, range_end, granularity)

    ranges = (
        [*manifest.ranges, (range_start, range_end)] if since_last else [(range_start, range_end)]
    )
    units = plan_units(queries, [r for r in ranges if r[0] < r[1]])
    todo = [unit for unit in units if unit.path not in manifest.units]
    folder.mkdir(parents=True, exist_ok=True)
    remove_partials(folder, "date=*")  # left by a run killed mid-write
    if (range_start, range_end) not in manifest.ranges and range_start < range_end:
        manifest.ranges.append((range_start, range_end))
        _save(manifest, folder / MANIFEST_NAME)

    written: list[str] = []
    errors: dict[str, ConvivaError] = {}
    done = rows_written = 0
    # Chunks of a few batches' worth: files land (and are recorded) while the export runs.
    for chunk in _chunks(todo, 4 * api.max_concurrency):
        batch = api.get_many([_spec(unit, granularity) for unit in chunk])
        for unit, outcome in zip(chunk, batch, strict=True):
            if isinstance(outcome, ConvivaError):
                errors[unit.path] = outcome
                continue
            rows = _write_unit(folder, unit, outcome)
            manifest.units[unit.path] = {
                "query": unit.query.stem,
                "start": format_instant(unit.start),
                "end": format_instant(unit.end),
                "rows": rows,
                "notes": list(outcome.notes),
            }
            written.append(unit.path)
            rows_written += rows
        _save(manifest, folder / MANIFEST_NAME)
        for _ in chunk:
            done += 1
            if progress is not None:
                progress(done, len(todo))
    return ExportSummary(
        directory=folder,
        start=range_start,
        end=range_end,
        written=tuple(written),
        rows=rows_written,
        skipped=len(units) - len(todo),
        errors=errors,
    )


def _run_range(
    api: ConvivaAPI,
    manifest: Manifest,
    start: object,
    end: object,
    since_last: bool,
    step: timedelta,
) -> tuple[datetime, datetime]:
    """The run's [start, end), on the bucket grid of ``step`` counted from UTC midnight.

    The API widens a bucket cut by the range to the whole bucket, so an off-grid edge would
    fetch part of a neighbouring unit's data twice: explicit edges off the grid are refused,
    and the default end (now) is taken down to the last whole bucket.
    """
    if since_last:
        if manifest.ranges:
            first = max(e for _, e in manifest.ranges)
        elif start is not None:
            first = _on_grid(to_instant(start, "start", argument="start"), step, "start")
        else:
            raise QueryError(
                "since_last=True continues an earlier export, and the directory has none yet; "
                "pass start= for the first run",
                argument="start",
            )
        last = (
            _on_grid(to_instant(end, "end", argument="end"), step, "end")
            if end is not None
            else _grid_floor(last_full_hour(api.clock.now()), step)
        )
        return first, max(first, last)
    if start is None or end is None:
        raise QueryError(
            "export needs start= and end= (or since_last=True to continue an earlier export)",
            argument="start" if start is None else "end",
        )
    first = _on_grid(to_instant(start, "start", argument="start"), step, "start")
    last = _on_grid(to_instant(end, "end", argument="end"), step, "end")
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
    step = parse_granularity(_check_granularity(granularity), HISTORICAL).step or _DAY
    return _grid_floor(last_full_hour(now), step)


def _grid_floor(t: datetime, step: timedelta) -> datetime:
    """``t`` taken down to the grid of ``step`` counted from its UTC midnight."""
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    return t - (t - midnight) % step


def _on_grid(t: datetime, step: timedelta, argument: str) -> datetime:
    if _grid_floor(t, step) != t:
        raise QueryError(
            f"{argument}={format_instant(t)} cuts a {human_duration(step)} bucket; the API would "
            f"return the whole bucket and the export would hold it twice. Pass {argument}="
            f"{format_instant(_grid_floor(t, step))} (or the next bucket start)",
            argument=argument,
        )
    return t


def _spec(unit: ExportUnit, granularity: str) -> QuerySpec:
    metrics = unit.query.metrics
    return QuerySpec.historical(
        # one name goes in the path: a metric group cannot be a custom selection's member
        metrics[0] if len(metrics) == 1 else list(metrics),
        group_by=unit.query.group_by,
        time_range=(unit.start, unit.end),
        granularity=granularity,
    )


def _check_queries(
    api: ConvivaAPI,
    queries: Sequence[ExportQuery],
    start: datetime,
    end: datetime,
    granularity: str,
) -> None:
    """Validate each query once (over the run's first day) before anything is fetched."""
    first_day = (start, min(end, start + _DAY)) if start < end else (start - _DAY, start)
    sample = [_spec(ExportUnit(q, *first_day), granularity) for q in queries]
    _, errors = plan_batch(sample, api.clock.now())
    for error in errors.values():
        raise error
