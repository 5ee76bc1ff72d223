"""The output formats of the command line: rows and replies as a terminal summary, table,
CSV, JSON, JSON Lines or Parquet.

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

from rich.console import RenderableType
from rich.table import Table

from pyconviva._optional import require
from pyconviva._rules import format_instant

if TYPE_CHECKING:
    from pyconviva._results import MetadataResult, MetricsResult

__all__ = [
    "FORMATS",
    "TOTALS_FORMATS",
    "TOTALS_NOTE",
    "Tabular",
    "csv_text",
    "json_text",
    "jsonl_text",
    "metadata_tabular",
    "metrics_tabular",
    "notes_shown",
    "rich_tables",
    "rows_to_parquet",
]

FORMATS = ("summary", "table", "csv", "json", "jsonl", "parquet", "raw")

# The formats that show the reply's totals; the others hold rows only.
TOTALS_FORMATS = frozenset({"summary", "table", "raw"})

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Tabular:
    """What a command has to show, in the shapes the formats need.

    ``rows`` feed the table, CSV, JSON and JSON Lines; ``document`` is what ``--format raw``
    writes (the API's reply as it came); ``write_parquet`` writes the rows' frame to a path;
    ``totals`` are the reply's totals, shown under a table (of the machine formats, only the
    raw reply carries them). ``table_rows`` replace ``rows`` in the terminal table where it
    shows more than the machine formats (the names to type); ``summary`` lays out the
    terminal summary, for the commands that have one.
    """

    rows: Sequence[Row]
    document: Any
    write_parquet: Callable[[Path], object]
    title: str = ""
    totals: Sequence[Row] = ()  # shown under a table: the number a quick look is after
    table_rows: Sequence[Row] | None = None
    summary: Callable[[], Sequence[RenderableType]] | None = None


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
    rows = tabular.rows if tabular.table_rows is None else tabular.table_rows
    tables = [_rich_table(rows, tabular.title)]
    if tabular.totals:
        tables.append(_rich_table(tabular.totals, "Total"))
    return tables


def _rich_table(rows: Sequence[Row], title: str) -> Table:
    """The first column names each row (a metric, a dimension, a timestamp) and is never
    wrapped: the others fold to make room for it."""
    table = Table(title=title or None)
    names = columns(rows)
    for index, name in enumerate(names):
        table.add_column(name, overflow="fold", no_wrap=index == 0)
    for row in rows:
        table.add_row(*(cell_text(row.get(name)) for name in names))
    return table


def rows_to_parquet(rows: Sequence[Row], path: Path) -> None:
    """Rows with no frame of their own (the built-in catalogue) as a Parquet file."""
    arrow = require("pyarrow", feature="Parquet output")
    parquet = require("pyarrow.parquet", feature="Parquet output")
    parquet.write_table(arrow.Table.from_pylist([dict(row) for row in rows]), path)


def metrics_tabular(
    result: MetricsResult,
    *,
    wide: bool,
    summary: Callable[[], Sequence[RenderableType]] | None = None,
) -> Tabular:
    """A metrics reply for the output formats: tidy records (long, or wide with ``--wide``),
    and the terminal summary when one is given."""
    title = result.query.describe() if result.query is not None else ""
    totals = result.totals()
    if not wide:
        return Tabular(result.records(), result, result.to_parquet, title, totals, summary=summary)
    frame = result.to_pandas(wide=True).reset_index()
    rows = [
        {str(name): _missing_as_none(value) for name, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    return Tabular(rows, result, lambda path: frame.to_parquet(path, index=False), title, totals)


TOTALS_NOTE = "total:"  # how the library's notes on the total block begin (pyconviva._merge)


def notes_shown(notes: Sequence[str], output_format: str) -> list[str]:
    """The result's notes worth saying for ``output_format``: those on the totals only where
    the format shows totals (a note on dropped totals beside a CSV file is noise)."""
    if output_format in TOTALS_FORMATS:
        return list(notes)
    return [note for note in notes if not note.startswith(TOTALS_NOTE)]


def _missing_as_none(value: Any) -> Any:
    # A wide frame marks "no value in this bucket" as NaN; CSV and JSON show it as empty/null.
    return None if isinstance(value, float) and math.isnan(value) else value


def metadata_tabular(result: MetadataResult, title: str) -> Tabular:
    records = result.records()
    return Tabular(
        records,
        result,
        lambda path: result.to_pandas().to_parquet(path),
        title,
        table_rows=dimension_rows(records) if result.kind == "dimensions" else None,
    )


_TAG_PATH = "/group-by/dimension-tag/"


def dimension_rows(records: Sequence[Row]) -> list[dict[str, str]]:
    """The dimensions reply as the terminal shows it: first the name to type after the
    options (read from the reply's own paths), then the API's label, then the options."""
    rows = []
    for record in records:
        group_by = str(record.get("group_by") or "")
        query_filter = str(record.get("query_filter") or "").lstrip("?")
        if record.get("is_custom") or group_by.startswith(_TAG_PATH):
            name = group_by.removeprefix(_TAG_PATH) or query_filter.removeprefix("tag_")
            options = ["--group-by-tag" if group_by else "", "--filter-tag" if query_filter else ""]
        else:
            name = group_by.rpartition("/")[2] or query_filter.replace("_", "-")
            options = ["--group-by" if group_by else "", "--filter" if query_filter else ""]
        rows.append(
            {
                "dimension": name,
                "label": cell_text(record.get("name")),
                "options": ", ".join(option for option in options if option),
            }
        )
    return rows
