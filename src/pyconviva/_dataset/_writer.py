"""The dataset's files: a window's replies cut into units, each written as one Parquet file.

Every file has the same columns, whatever the query: ``timestamp`` (UTC, bucket start),
``dimension`` (the group-by dimension or custom tag, null when ungrouped), ``dimension_value``,
``metric``, ``field``, ``value`` (float64). Rows are ordered by bucket, then dimension value,
then as the reply lists them, so a file's bytes depend on its data only, never on the window
that fetched it. Files are written atomically (a temporary file, then a rename).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pyconviva._dataset._units import ExportUnit
from pyconviva._files import atomic_path
from pyconviva._optional import require
from pyconviva._results import MetricsResult

__all__ = ["COLUMNS", "Rows", "cut_into_units", "data_files", "write_unit"]

COLUMNS = ("timestamp", "dimension", "dimension_value", "metric", "field", "value")
Rows = list[tuple[Any, ...]]  # one tuple per row, in COLUMNS order


def cut_into_units(
    results: Iterable[MetricsResult], units: Sequence[ExportUnit], now: datetime
) -> dict[str, Rows]:
    """The rows of ``results`` (replies covering ``units``, which follow each other) by unit
    path. Buckets that begin at or after ``now`` hold no data yet and are left out, as are any
    outside the units."""
    starts = [unit.start for unit in units]
    ends = [unit.end for unit in units]
    cut: list[Rows] = [[] for _ in units]
    for result in results:
        for row in _rows(result):
            timestamp = row[0]
            position = bisect_right(starts, timestamp) - 1
            if position < 0 or timestamp >= ends[position] or timestamp >= now:
                continue
            cut[position].append(row)
    return {unit.path: _in_order(rows) for unit, rows in zip(units, cut, strict=True)}


def _rows(result: MetricsResult) -> Iterator[tuple[Any, ...]]:
    """The result's tidy records in the dataset's columns."""
    dimension = result.dimension
    for record in result.records():
        value = record["value"]
        yield (
            record["timestamp"],
            dimension,
            None if dimension is None else _text(record.get(dimension)),
            record["metric"],
            record["field"],
            None if value is None else float(value),
        )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _in_order(rows: Rows) -> Rows:
    # Stable: within a bucket and group, the reply's own order of metrics and fields stays.
    return sorted(rows, key=lambda row: (row[0], row[2] is not None, row[2] or ""))


def write_unit(directory: Path, unit: ExportUnit, rows: Rows) -> int:
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
    columns = {name: [row[i] for row in rows] for i, name in enumerate(COLUMNS)}
    table = pyarrow.table(columns, schema=schema)
    target = directory / unit.path
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary:
        parquet.write_table(table, temporary)
    return int(table.num_rows)


def data_files(directory: Path) -> list[Path]:
    """The dataset's finished data files: hidden files (another run's temporaries) and the
    ``_``-named ones that dataset readers skip are not data."""
    return sorted(
        path for path in directory.glob("date=*/*.parquet") if not path.name.startswith((".", "_"))
    )
