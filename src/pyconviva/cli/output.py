"""The output formats of the command line: rows and replies as table, CSV, JSON, JSON Lines
or Parquet.

Everything here returns text or writes a given path; :mod:`pyconviva.cli.destination` decides
which format and where it goes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from pyconviva._optional import require
from pyconviva._rules import format_instant

if TYPE_CHECKING:
    from pyconviva._results import MetadataResult, MetricsResult

__all__ = [
    "FORMATS",
    "Tabular",
    "csv_text",
    "json_text",
    "jsonl_text",
    "metadata_tabular",
    "metrics_tabular",
    "rich_tables",
    "rows_to_parquet",
]

FORMATS = ("table", "csv", "json", "jsonl", "parquet", "raw")

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Tabular:
    """What a command has to show, in the shapes the formats need.

    ``rows`` feed the table, CSV, JSON and JSON Lines; ``document`` is what ``--format raw``
    writes (the API's reply as it came); ``write_parquet`` writes the rows' frame to a path;
    ``totals`` are the reply's totals, shown under a table (of the machine formats, only the
    raw reply carries them).
    """

    rows: Sequence[Row]
    document: Any
    write_parquet: Callable[[Path], object]
    title: str = ""
    totals: Sequence[Row] = ()  # shown under a table: the number a quick look is after


def cell_text(value: Any) -> str:
    """One value as text in CSV and tables: instants as the API writes them, None as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return " ".join(cell_text(item) for item in value)
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):  # results are read-only mappings over the raw reply
        return dict(value)
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    # numpy/pandas scalars (from frames) know how to become plain Python values
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def columns(rows: Sequence[Row]) -> list[str]:
    """Every key of every row, in first-seen order (rows of a reply may differ in fields)."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def csv_text(rows: Sequence[Row]) -> str:
    buffer = io.StringIO()
    names = columns(rows)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([cell_text(row.get(name)) for name in names])
    return buffer.getvalue()


def jsonl_text(rows: Sequence[Row]) -> str:
    return "".join(json.dumps(dict(row), default=_json_default) + "\n" for row in rows)


def json_text(document: Any) -> str:
    return json.dumps(document, indent=2, default=_json_default) + "\n"


def rich_tables(tabular: Tabular) -> list[Table]:
    """The rows as a table, and the totals as a second one when the reply has them."""
    tables = [_rich_table(tabular.rows, tabular.title)]
    if tabular.totals:
        tables.append(_rich_table(tabular.totals, "Total"))
    return tables


def _rich_table(rows: Sequence[Row], title: str) -> Table:
    table = Table(title=title or None)
    names = columns(rows)
    for name in names:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(cell_text(row.get(name)) for name in names))
    return table


def rows_to_parquet(rows: Sequence[Row], path: Path) -> None:
    """Rows with no frame of their own (the built-in catalogue) as a Parquet file."""
    arrow = require("pyarrow", feature="Parquet output")
    parquet = require("pyarrow.parquet", feature="Parquet output")
    parquet.write_table(arrow.Table.from_pylist([dict(row) for row in rows]), path)


def metrics_tabular(result: MetricsResult, *, wide: bool) -> Tabular:
    """A metrics reply for the output formats: tidy records (long, or wide with ``--wide``)."""
    title = result.query.describe() if result.query is not None else ""
    totals = result.totals()
    if not wide:
        return Tabular(result.records(), result, result.to_parquet, title, totals)
    frame = result.to_pandas(wide=True).reset_index()
    rows = [
        {str(name): _missing_as_none(value) for name, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    return Tabular(rows, result, lambda path: frame.to_parquet(path, index=False), title, totals)


def _missing_as_none(value: Any) -> Any:
    # A wide frame marks "no value in this bucket" as NaN; CSV and JSON show it as empty/null.
    return None if isinstance(value, float) and math.isnan(value) else value


def metadata_tabular(result: MetadataResult, title: str) -> Tabular:
    return Tabular(
        result.records(), result, lambda path: result.to_pandas().to_parquet(path), title
    )
