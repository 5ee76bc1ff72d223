"""The dataset's files: a window's replies cut into units, each written as one Parquet file.

Every file has the same columns, whatever the query: ``timestamp`` (UTC, bucket start),
``dimension`` (the group-by dimension or custom tag, null when ungrouped), ``dimension_value``,
``metric``, ``field``, ``value`` (float64). Rows are ordered by bucket, then dimension value,
then as the reply lists them, so a file's bytes depend on its data only, never on the window
that fetched it. Files are written atomically (a temporary file, then a rename).

The cut works on Arrow columns built from each reply's tidy table, never on a Python object per
value: a dict and a tuple per value cost about as much memory again as the decoded reply itself
(a 5 MB reply has up to 170,000 values), and most of the time of the cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pyconviva._dataset._units import ExportUnit
from pyconviva._files import atomic_path
from pyconviva._optional import require
from pyconviva._results import MetricsResult
from pyconviva._results.tidy import Number, TidyTable, tidy_metrics

__all__ = ["COLUMNS", "cut_into_units", "data_files", "write_unit"]

COLUMNS = ("timestamp", "dimension", "dimension_value", "metric", "field", "value")
_FEATURE = "export_dataset()"
# The order of a value in its fetch's replies (reply, bucket row, series), to keep it among the
# values of one bucket and dimension value; dropped before writing.
_POSITION = "position"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _arrow() -> tuple[Any, Any]:
    return require("pyarrow", feature=_FEATURE), require("pyarrow.compute", feature=_FEATURE)


def _schema(pa: Any) -> Any:
    return pa.schema(
        [
            ("timestamp", pa.timestamp("ms", tz="UTC")),
            ("dimension", pa.string()),
            ("dimension_value", pa.string()),
            ("metric", pa.string()),
            ("field", pa.string()),
            ("value", pa.float64()),
        ]
    )


def cut_into_units(
    results: Iterable[MetricsResult], units: Sequence[ExportUnit], now: datetime
) -> dict[str, Any]:
    """The rows of ``results`` (replies covering ``units``, which follow each other) as one
    Arrow table per unit path, in the dataset's row order. Buckets that begin at or after
    ``now`` hold no data yet and are left out, as are any outside the units."""
    pa, pc = _arrow()
    parts = []
    offset = 0
    for result in results:
        table = _table(result)
        parts.extend(_series_tables(pa, pc, table, offset))
        offset += table.n_rows * len(table.series)
    rows = pa.concat_tables(parts) if parts else _empty(pa)
    rows = rows.filter(pc.is_valid(rows["value"]))
    rows = rows.sort_by(
        [(name, "ascending") for name in ("timestamp", "dimension_value", _POSITION)]
    ).combine_chunks()
    stamps = rows["timestamp"]
    ordered = rows.drop_columns([_POSITION]).cast(_schema(pa))
    cut = {}
    for unit in units:
        end = min(unit.end, now)
        first = _count_before(pc, stamps, unit.start)
        last = max(first, _count_before(pc, stamps, end))
        cut[unit.path] = ordered.slice(first, last - first)
    return cut


def _table(result: MetricsResult) -> TidyTable:
    query = result.query
    return tidy_metrics(
        result,
        tag=query.group_by_tag if query is not None else None,
        group_by=query.group_by if query is not None else None,
    )


def _series_tables(pa: Any, pc: Any, table: TidyTable, offset: int) -> list[Any]:
    """One Arrow table per series of ``table``: every row with that series' value (null where
    the row has none), and each value's position in reply order from ``offset`` on."""
    n = table.n_rows
    width = len(table.series)
    stamps = pa.array(table.row_ms, pa.int64())
    grouped = table.row_group is not None
    dimension = pa.repeat(pa.scalar(table.dimension if grouped else None, pa.string()), n)
    groups = pa.array(table.row_group, pa.string()) if grouped else pa.nulls(n, pa.string())
    row_starts = pc.multiply(pa.array(range(n), pa.int64()), width)
    return [
        pa.table(
            {
                "timestamp": stamps,
                "dimension": dimension,
                "dimension_value": groups,
                "metric": pa.repeat(pa.scalar(series.metric, pa.string()), n),
                "field": pa.repeat(pa.scalar(series.field, pa.string()), n),
                "value": _floats(pa, column, integral),
                _POSITION: pc.add(row_starts, offset + index),
            }
        )
        for index, (series, column, integral) in enumerate(
            zip(table.series, table.columns, table.integral, strict=True)
        )
    ]


def _floats(pa: Any, column: list[Number | None], integral: bool) -> Any:
    """The column as float64, each value as ``float(value)`` would give it."""
    if integral:  # int64 -> double rounds to nearest, as float() does beyond 2**53
        return pa.array(column, pa.int64()).cast(pa.float64(), safe=False)
    try:
        return pa.array(column, pa.float64())
    except pa.ArrowInvalid:  # an integer beyond 2**53 among floats, which Arrow will not round
        return pa.array([None if v is None else float(v) for v in column], pa.float64())


def _empty(pa: Any) -> Any:
    stamps = pa.field("timestamp", pa.int64())
    fields = [stamps, *list(_schema(pa))[1:], pa.field(_POSITION, pa.int64())]
    return pa.schema(fields).empty_table()


def _count_before(pc: Any, stamps: Any, instant: datetime) -> int:
    """How many of the (sorted) epoch-ms ``stamps`` are before ``instant``."""
    epoch_ms = (instant - _EPOCH) // timedelta(milliseconds=1)
    return int(pc.sum(pc.less(stamps, epoch_ms)).as_py() or 0)


def write_unit(directory: Path, unit: ExportUnit, rows: Any) -> int:
    """Write the unit's file from its Arrow table (see :func:`cut_into_units`); returns its row
    count."""
    parquet = require("pyarrow.parquet", feature=_FEATURE)
    target = directory / unit.path
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary:
        parquet.write_table(rows, temporary)
    return int(rows.num_rows)


def data_files(directory: Path) -> list[Path]:
    """The dataset's finished data files: hidden files (another run's temporaries) and the
    ``_``-named ones that dataset readers skip are not data."""
    return sorted(
        path for path in directory.glob("date=*/*.parquet") if not path.name.startswith((".", "_"))
    )
