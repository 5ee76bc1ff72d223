"""The terminal summary of a metrics result: one row per group, one column per metric field
with the number that field allows, and a sparkline of the series.

What each field allows decides its number. A count that adds up over time (the catalogue's
``additive`` metrics: attempts, plays, minutes) is summed over the buckets. A percentage, ratio,
average or unique count does not add up: a group's value over several buckets is the API's to
compute, so its cell is blank and a footnote says why and how to get it (``--granularity ALL``:
one bucket, computed by the API per group). The total row is the reply's own ``total`` block.

:func:`build_summary` is pure (a :class:`~pyconviva.MetricsResult` in, a :class:`Summary`
out); :class:`SummaryView` lays it out for rich, at the width of the console.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from pyconviva._catalog import find_metric
from pyconviva._rules import align_down, format_instant, parse_granularity
from pyconviva.cli.output import TOTALS_NOTE, cell_text
from pyconviva.cli.sparkline import ASCII_LEVELS, BLOCK_LEVELS, sparkline

if TYPE_CHECKING:
    from pyconviva._query import MetricsQuery
    from pyconviva._results import MetricsResult

__all__ = [
    "DEFAULT_TOP",
    "FieldColumn",
    "Summary",
    "SummaryRow",
    "SummaryView",
    "build_summary",
    "column_heading",
    "format_value",
    "partial_buckets_note",
]

DEFAULT_TOP = 10
TREND_WIDTH = 24  # characters of each sparkline, whatever the number of buckets
BLANK = "n/a"  # a number the field does not allow; a footnote says why

Number = int | float
_SeriesKey = tuple[str, str]  # (metric as the reply names it, field)

_MIN_TREND_WIDTH = 8
_TREND_PADDING = 2  # the trend column's own padding

# The unit each column heading names, by the catalogue's unit (a plain count has none).
_UNIT_SYMBOLS: Mapping[str, str] = {
    "percent": "%",
    "bps": "bps",
    "fps": "fps",
    "seconds": "s",
    "minutes": "min",
}


@dataclass(frozen=True)
class FieldColumn:
    """One metric field of the result, and what the catalogue says about adding it up."""

    metric: str
    field: str
    unit: str | None
    summable: bool
    not_summable_because: str  # empty when summable

    @property
    def name(self) -> str:
        return f"{self.metric}.{self.field}"


def _field_column(metric: str, field: str) -> FieldColumn:
    """The column of ``metric.field``: summable when the catalogue knows it as an additive
    count (the rule the library's merge of totals follows too)."""
    info = find_metric(metric)
    if info is None:
        return FieldColumn(metric, field, None, False, "not in the built-in catalogue")
    unit = info.units.get(field)
    if field == "count" and info.additive:
        return FieldColumn(metric, field, unit, True, "")
    if field == "count":
        reason = "a unique or concurrent count"
    elif field in ("percentage", "ratio"):
        reason = f"a {field}"
    else:
        reason = "an average"
    return FieldColumn(metric, field, unit, False, reason)


@dataclass(frozen=True)
class SummaryRow:
    label: str
    cells: tuple[Number | None, ...]  # one per field column; None: blank (see the footnotes)
    trends: tuple[tuple[Number | None, ...], ...]  # one per field column, bucket by bucket


@dataclass(frozen=True)
class Summary:
    """What the summary shows, before any layout."""

    title: str
    dimension: str | None  # None: an ungrouped result, its one row the totals
    columns: tuple[FieldColumn, ...]
    buckets: int
    granularity: str | None
    rows: tuple[SummaryRow, ...]  # the top groups (or the one row of totals when ungrouped)
    hidden: int  # groups beyond the top
    hidden_cells: tuple[Number | None, ...]  # the summable fields' sums over the hidden groups
    total: tuple[Number | None, ...] | None  # the reply's total block; None when ungrouped
    ranked_by: str | None  # the field the rows were ranked by, when not the API's order
    footnotes: tuple[str, ...]


def build_summary(result: MetricsResult, *, top: int, ranked_by_api: bool) -> Summary:
    """The summary of ``result``: the ``top`` groups by the first summable field (or in the
    API's order when it ranked them, ``ranked_by_api``), then how many more there are."""
    records = result.records()
    dimension = result.dimension
    keys: dict[_SeriesKey, None] = {}
    stamps: set[datetime] = set()
    groups: dict[str, dict[_SeriesKey, dict[datetime, Number]]] = {}
    for record in records:
        key = (str(record["metric"]), str(record["field"]))
        keys[key] = None
        stamps.add(record["timestamp"])
        label = cell_text(record[dimension]) if dimension is not None else "Total"
        groups.setdefault(label, {}).setdefault(key, {})[record["timestamp"]] = record["value"]
    columns = tuple(_field_column(*key) for key in keys)
    buckets = sorted(stamps)
    totals = {(str(t["metric"]), str(t["field"])): t["value"] for t in result.totals()}
    single = len(buckets) == 1
    grouped = dimension is not None

    def row(label: str, series: Mapping[_SeriesKey, Mapping[datetime, Number]]) -> SummaryRow:
        cells = tuple(
            _cell(column, key, series.get(key, {}), single=single, total=totals, grouped=grouped)
            for column, key in zip(columns, keys, strict=True)
        )
        trends = tuple(tuple(series.get(key, {}).get(stamp) for stamp in buckets) for key in keys)
        return SummaryRow(label, cells, trends)

    rows = [row(label, series) for label, series in groups.items()]
    ranked_by = None
    if dimension is not None and not ranked_by_api:
        rank = next((i for i, column in enumerate(columns) if column.summable), None)
        if rank is not None:
            rows.sort(key=lambda r: -(r.cells[rank] or 0))
            ranked_by = columns[rank].name
    shown, hidden = rows[:top], rows[top:]
    hidden_cells = tuple(
        sum(r.cells[i] or 0 for r in hidden) if column.summable and hidden else None
        for i, column in enumerate(columns)
    )
    total = None
    if dimension is not None:
        total = tuple(totals.get(key) for key in keys)
    query = result.query
    return Summary(
        title=query.describe() if query is not None else "",
        dimension=dimension,
        columns=columns,
        buckets=len(buckets),
        granularity=query.granularity if query is not None else None,
        rows=tuple(shown),
        hidden=len(hidden),
        hidden_cells=hidden_cells,
        total=total,
        ranked_by=ranked_by,
        footnotes=_footnotes(
            columns, shown, total, dimension, len(buckets), result.notes, bool(records)
        )
        + _partial_buckets_notes(query),
    )


def _partial_buckets_notes(query: MetricsQuery | None) -> tuple[str, ...]:
    note = None if query is None else partial_buckets_note(query)
    return () if note is None else (note,)


def partial_buckets_note(query: MetricsQuery) -> str | None:
    """Say so when the range cuts its first or last bucket: ``--days 1 --granularity P1D``
    ending at 14:00 gives two part-days, each stamped like a whole one."""
    granularity = parse_granularity(query.granularity, query.root)
    if granularity.step is None:
        return None
    start, end = query.window
    grid = align_down(start, granularity)
    cut = []
    if start != grid:
        cut.append(f"the first starts at {format_instant(start)}, inside its bucket")
    if (end - grid) % granularity.step != timedelta(0):
        cut.append(f"the last ends at {format_instant(end)}, before its bucket does")
    if not cut:
        return None
    return (
        f"Partial {granularity.text} buckets: {'; '.join(cut)}. For whole buckets, give "
        "--start and --end on the bucket grid (midnights UTC for days)."
    )


def _cell(
    column: FieldColumn,
    key: _SeriesKey,
    values: Mapping[datetime, Number],
    *,
    single: bool,
    total: Mapping[_SeriesKey, Number],
    grouped: bool,
) -> Number | None:
    """A row's number for one field: the API's where it computed one (the total of an
    ungrouped result, the value of a single bucket), else the sum when the field adds up."""
    if not grouped and key in total:
        return total[key]
    if single:
        return next(iter(values.values()), None)
    if column.summable:
        return sum(values.values())
    return None


def _footnotes(
    columns: Sequence[FieldColumn],
    rows: Sequence[SummaryRow],
    total: Sequence[Number | None] | None,
    dimension: str | None,
    buckets: int,
    notes: Sequence[str],
    has_values: bool,
) -> tuple[str, ...]:
    """Why each blank is blank: a field that does not add up over several buckets, in the
    rows of groups; a field the reply's total lacks, in the total."""
    if not has_values:
        return ("The reply has no values for this query.",)
    footnotes: list[str] = []
    if dimension is not None:
        blank = [
            c
            for i, c in enumerate(columns)
            if not c.summable and any(row.cells[i] is None for row in rows)
        ]
        if blank:
            footnotes.append(
                f"{BLANK}: these do not add up over the {buckets} buckets: {_listed(blank)}; "
                f"and the API's total covers every {dimension} at once. For the API's value "
                f"per {dimension}, add --granularity ALL (one bucket for the whole range)."
            )
        untotalled = [c for c, value in zip(columns, total or (), strict=True) if value is None]
        where = "Total"
    else:
        untotalled = [c for i, c in enumerate(columns) if any(row.cells[i] is None for row in rows)]
        where = "total"
    if untotalled:
        merged = any(note.startswith(TOTALS_NOTE) for note in notes)
        why = (
            "the range took several requests, and their totals add up only for counts (see "
            "the note above)"
            if merged
            else "the reply's total block has no value for it"
        )
        footnotes.append(f"{where} {BLANK} for {_listed(untotalled)}: {why}.")
    return tuple(footnotes)


def _listed(columns: Sequence[FieldColumn]) -> str:
    return ", ".join(f"{c.name} ({c.not_summable_because})" for c in columns)


def format_value(value: Number | None) -> str:
    """A number as the summary shows it: thousands separated, two decimals below 1,000
    (``1,234,567``, ``0.52``, ``5,313,940``); its unit is in the column's header."""
    if value is None:
        return BLANK
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def column_heading(column: FieldColumn) -> str:
    """The catalogue's label (words wrap where the reply's name would not), then the field
    and its unit: ``Plays`` / ``percentage %``, ``Avg. Peak Bitrate`` / ``bps``."""
    info = find_metric(column.metric)
    label = info.label if info is not None else column.metric
    symbol = _UNIT_SYMBOLS.get(column.unit or "", "")
    unit = f" {symbol}" if symbol and symbol != column.field else ""
    return f"{label}\n{column.field}{unit}"


class SummaryView:
    """The summary laid out for rich: its title, the table and the footnotes.

    Grouped: a row per group, a column per field, the API's total as the footer and the
    first field's trend. Ungrouped: a row per field with its total and its own trend. The
    sparklines take the width the numbers leave, up to :data:`TREND_WIDTH`. A console whose
    encoding has no block characters gets ASCII ones (rich's boxes do the same).
    """

    def __init__(self, summary: Summary) -> None:
        self.summary = summary

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        summary = self.summary
        glyphs = _ASCII if options.ascii_only else _UNICODE
        if summary.title:
            yield Text(summary.title, style="bold")
        if summary.columns and summary.buckets < 2:  # one bucket has no trend to draw
            yield self._table(glyphs, trend_width=None)
        elif summary.columns:
            numbers = self._table(glyphs, trend_width=None)
            spare = options.max_width - Measurement.get(console, options, numbers).maximum
            width = max(_MIN_TREND_WIDTH, min(TREND_WIDTH, spare - _TREND_PADDING))
            yield self._table(glyphs, trend_width=width)
        caption = _caption(summary)
        if caption:
            yield Text(caption, style="dim")
        for footnote in summary.footnotes:
            yield Text(footnote)
        yield Text("Every row: --format table; files: --format csv, json, jsonl or parquet.", "dim")

    def _table(self, glyphs: _Glyphs, *, trend_width: int | None) -> Table:
        """The table; without its trend column when ``trend_width`` is None (to measure the
        room the numbers take)."""
        if self.summary.dimension is None:
            return self._fields_table(glyphs, trend_width)
        return self._groups_table(glyphs, trend_width)

    def _groups_table(self, glyphs: _Glyphs, trend_width: int | None) -> Table:
        summary = self.summary
        table = Table(box=box.SIMPLE, show_footer=summary.total is not None, pad_edge=False)
        table.add_column(summary.dimension or "", "Total", overflow="fold", max_width=32)
        totals = summary.total or (None,) * len(summary.columns)
        for column, total in zip(summary.columns, totals, strict=True):
            footer = format_value(total) if summary.total is not None else ""
            table.add_column(column_heading(column), footer, justify="right")
        if trend_width is not None:
            table.add_column(f"trend\n{column_heading(summary.columns[0])}", overflow="crop")
        for row in summary.rows:
            table.add_row(
                row.label, *map(format_value, row.cells), *glyphs.trend(row.trends[0], trend_width)
            )
        if summary.hidden:
            table.add_row(
                f"{glyphs.more} {summary.hidden:,} more",
                *("" if value is None else format_value(value) for value in summary.hidden_cells),
            )
        return table

    def _fields_table(self, glyphs: _Glyphs, trend_width: int | None) -> Table:
        (row,) = self.summary.rows
        table = Table(box=box.SIMPLE, pad_edge=False)
        table.add_column("metric", overflow="fold")
        table.add_column("field", overflow="fold")
        table.add_column("total", justify="right")
        if trend_width is not None:
            table.add_column("trend", overflow="crop")
        for column, value, trend in zip(self.summary.columns, row.cells, row.trends, strict=True):
            label, field = column_heading(column).split("\n")
            table.add_row(label, field, format_value(value), *glyphs.trend(trend, trend_width))
        return table


@dataclass(frozen=True)
class _Glyphs:
    """The characters of the layout: blocks and an ellipsis, or their ASCII stand-ins."""

    levels: str
    more: str

    def trend(self, values: Sequence[Number | None], width: int | None) -> list[str]:
        """The sparkline cell, or none when the table is measured without it."""
        return [] if width is None else [sparkline(values, width, self.levels)]


_UNICODE = _Glyphs(BLOCK_LEVELS, "…")
_ASCII = _Glyphs(ASCII_LEVELS, "...")


def _caption(summary: Summary) -> str | None:
    parts = []
    if summary.granularity == "ALL":
        parts.append("one bucket for the whole range (ALL)")
    elif summary.buckets:
        step = f" of {summary.granularity}" if summary.granularity else ""
        parts.append(f"{summary.buckets:,} bucket{'s' if summary.buckets != 1 else ''}{step}")
    if summary.ranked_by is not None:
        parts.append(f"rows by {summary.ranked_by}, largest first")
    if summary.hidden:
        parts.append(f"top {len(summary.rows)} shown (--top N for more)")
    return "; ".join(parts) or None
