"""Write the tidy table to CSV and JSON (standard library) and Parquet (pyarrow).

All three hold the long tidy table; timestamps are written as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC) in
CSV and JSON, and as ``timestamp[ms, tz=UTC]`` in Parquet.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pyconviva._optional import require
from pyconviva._results.frames import arrow_long
from pyconviva._results.tidy import (
    FIELD,
    METRIC,
    TIMESTAMP,
    VALUE,
    TidyTable,
    format_utc,
    long_columns,
)

__all__ = ["write_csv", "write_json", "write_parquet"]


def _header(table: TidyTable) -> list[str]:
    dimension = [table.dimension] if table.row_group is not None and table.dimension else []
    return [TIMESTAMP, *dimension, METRIC, FIELD, VALUE]


def _rows(table: TidyTable) -> list[list[object]]:
    stamps = {epoch: format_utc(epoch) for epoch in table.bucket_ms}
    rows, series, values = long_columns(table)
    groups = table.row_group
    out: list[list[object]] = []
    for r, s, value in zip(rows, series, values, strict=True):
        head: list[object] = [stamps[table.row_ms[r]]]
        if groups is not None and table.dimension:
            head.append(groups[r])
        out.append([*head, table.series[s].metric, table.series[s].field, value])
    return out


def write_csv(table: TidyTable, path: str | Path) -> Path:
    target = Path(path)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_header(table))
        writer.writerows(_rows(table))
    return target


def write_json(table: TidyTable, path: str | Path) -> Path:
    """A JSON array of tidy records (objects keyed by column name)."""
    target = Path(path)
    header = _header(table)
    records = [dict(zip(header, row, strict=True)) for row in _rows(table)]
    target.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return target


def write_parquet(table: TidyTable, path: str | Path) -> Path:
    parquet = require("pyarrow.parquet", feature="to_parquet()")
    target = Path(path)
    parquet.write_table(arrow_long(table), target)
    return target
