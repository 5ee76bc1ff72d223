"""Results of the API: read-only mappings over the raw JSON, plus tables, files and plots.

:class:`MetricsResult` is what ``get_historical_data`` / ``get_real_time_data`` return. It *is*
the reply (``result["time_series"]``, ``json.dumps(dict(result))``) and also a table:
``records()`` (standard library), ``to_pandas()``, ``to_polars()``, ``totals()``, ``to_csv()``,
``to_json()``, ``to_parquet()`` and ``plot()``. :class:`MetadataResult` does the same for the
dimensions, saved filters, KPIs and discovery replies.

The reply is decoded by ``decode`` and flattened once, on first use of a table (``tidy``,
``metadata``); pandas, polars, pyarrow and matplotlib are imported only by the methods that need
them (``_optional``).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyconviva._exceptions import QueryError, UnexpectedResponseError
from pyconviva._results import frames as _frames
from pyconviva._results import plot as _plot
from pyconviva._results import writers as _writers
from pyconviva._results.decode import build_checked
from pyconviva._results.metadata import METADATA_KINDS, MetadataTable, tidy_metadata
from pyconviva._results.response import ResponseInfo
from pyconviva._results.tidy import (
    ReplyShapeError,
    TidyTable,
    format_utc,
    records,
    reply_outline,
    tidy_metrics,
    totals_records,
)

if TYPE_CHECKING:
    import pandas as pd

    from pyconviva._query import MetricsQuery

__all__ = ["MetadataResult", "MetricsResult"]


class _Reply(Mapping[str, Any]):
    """What both result kinds share: a read-only mapping over the raw reply, and notes."""

    _raw: Mapping[str, Any]
    _notes: tuple[str, ...] = ()
    _responses: tuple[ResponseInfo, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """What is missing or was skipped."""
        return self._notes

    @property
    def responses(self) -> tuple[ResponseInfo, ...]:
        """Every HTTP reply this result was made from, in the order of the windows they
        cover: one for a single request, one per window (and per half after a 413) for a
        split call; empty for a result built from a body by hand."""
        return self._responses

    @property
    def response(self) -> ResponseInfo | None:
        """The HTTP reply (status, headers, elapsed, URL; no credentials) this result came
        from; for a split call the last window's (all are in :attr:`responses`); ``None`` for
        a result built from a body by hand."""
        return self._responses[-1] if self._responses else None

    def __getitem__(self, key: str) -> Any:
        return self._raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    @property
    def is_partial(self) -> bool:
        return bool(self.notes)


class MetricsResult(_Reply):
    """A metrics reply: the raw JSON as a read-only mapping, and the same data as tables.

    Attributes:
        query: the :class:`~pyconviva._query.MetricsQuery` that produced it (None if unknown).
        notes: what is missing or was skipped (odd items in the reply, windows of a merge).
        is_partial: True when ``notes`` is not empty.
        response: the HTTP reply it came from (the last window's for a split call).
        responses: every HTTP reply it came from, window by window.
    """

    def __init__(
        self,
        raw: Mapping[str, Any],
        *,
        query: MetricsQuery | None = None,
        notes: Sequence[str] = (),
        responses: Sequence[ResponseInfo] = (),
    ) -> None:
        try:
            self._bucket_ms = reply_outline(raw)
        except ReplyShapeError as exc:
            raise UnexpectedResponseError(f"unexpected metrics reply: {exc}") from exc
        self._raw = raw
        self.query = query
        self._given_notes = tuple(notes)
        self._responses = tuple(responses)

    @functools.cached_property
    def _table(self) -> TidyTable:
        # Built on first use: a caller who only reads the raw reply never pays for the tables.
        return tidy_metrics(
            self._raw,
            tag=self.query.group_by_tag if self.query is not None else None,
            group_by=self.query.group_by if self.query is not None else None,
            bucket_ms=self._bucket_ms,
        )

    @property
    def notes(self) -> tuple[str, ...]:
        """What is missing or was skipped: the given notes (e.g. of a merge), then the odd
        items the tables had to skip."""
        return (*self._given_notes, *self._table.notes)

    @classmethod
    def from_bytes(
        cls,
        content: bytes,
        *,
        query: MetricsQuery | None = None,
        request: str | None = None,
        responses: Sequence[ResponseInfo] = (),
    ) -> MetricsResult:
        """Decode a reply body and check its shape.

        Touches no process-wide state: the garbage collector is left as it is (see
        ``decode``); ``pip install 'pyconviva[fast]'`` (orjson) is what makes large replies fast.

        Raises:
            UnexpectedResponseError: not JSON, not an object, no ``time_series`` list, or a
                bucket without ``timestamp.epoch_ms``. Odd items in an otherwise usable reply
                (values no column can hold, such as ``null``, ``NaN`` or integers beyond 64
                bits) are skipped and listed in ``notes`` instead.
        """
        return build_checked(
            content, request, lambda raw: cls(raw, query=query, responses=responses)
        )

    # -- tables ----------------------------------------------------------------------------------

    @property
    def dimension(self) -> str | None:
        """The group-by column's name (snake dimension key or custom tag); None if ungrouped."""
        return self._table.dimension if self._table.row_group is not None else None

    def records(self) -> list[dict[str, Any]]:
        """Tidy rows: ``timestamp`` (UTC datetime, bucket start), the dimension when grouped,
        ``metric``, ``field``, ``value`` — one per value, in reply order (bucket, group, then
        each ``metric.field`` in the order its first usable value appears)."""
        return records(self._table)

    def to_pandas(self, wide: bool = False) -> pd.DataFrame:
        """The tidy table as a DataFrame; ``wide=True``: one column per ``metric.field``,
        indexed by timestamp (and dimension). Needs ``pip install 'pyconviva[pandas]'``.

        Counts (``count`` fields) are integers: nullable ``Int64`` columns in the wide frame,
        whether or not a row lacks a value. The long frame has one ``value`` column, and a
        column has one type: it is ``Int64`` when every series of the result is a count, and
        ``float64`` when counts share it with percentages, ratios or averages (an object
        column mixing ints and floats would make every numeric operation slow). The type thus
        follows the fields asked for, as ``melt`` of the wide frame would; float64 holds every
        count up to 2**53 exactly, and ``wide=True`` keeps counts as integers beside the rest.
        """
        return _frames.pandas_wide(self._table) if wide else _frames.pandas_long(self._table)

    def to_polars(self, wide: bool = False) -> Any:
        """The same tables as polars DataFrames (counts ``Int64`` by the same rules as
        :meth:`to_pandas`). Needs ``pip install 'pyconviva[polars]'``."""
        return _frames.polars_wide(self._table) if wide else _frames.polars_long(self._table)

    def totals(self) -> list[dict[str, Any]]:
        """The ``total`` block as tidy rows (metric, field, value).

        Empty when the reply has no total block; a merged result's ``notes`` say why.
        """
        return totals_records(self._table)

    # -- files and plots -------------------------------------------------------------------------

    def to_csv(self, path: str | Path) -> Path:
        """Write the tidy table as CSV (UTC ``…Z`` timestamps); returns the path."""
        return _writers.write_csv(self._table, path)

    def to_json(self, path: str | Path) -> Path:
        """Write the tidy table as a JSON array of records; returns the path."""
        return _writers.write_json(self._table, path)

    def to_parquet(self, path: str | Path) -> Path:
        """Write the tidy table as Parquet (``value`` int64 when every series is a count, as in
        :meth:`to_pandas`, else double). Needs ``pip install 'pyconviva[parquet]'``."""
        return _writers.write_parquet(self._table, path)

    def plot(
        self, path: str | Path | None = None, top: int = 10, *, metrics: Sequence[str] | None = None
    ) -> Any:
        """A line chart: one panel per metric (its first field, or each ``metrics`` entry such as
        ``"plays.percentage"``), one line per group — the ``top`` groups by volume when there are
        more. Saved to ``path`` when given; returns the matplotlib Figure.
        Needs ``pip install 'pyconviva[plot]'``."""
        subtitle = self.query.describe() if self.query is not None else None
        return _plot.plot_table(self._table, path=path, top=top, metrics=metrics, subtitle=subtitle)

    # -- display ---------------------------------------------------------------------------------

    def _facts(self) -> list[tuple[str, str]]:
        table = self._table
        dimension = self.dimension
        names = ["timestamp", *([dimension] if dimension else []), "metric", "field"]
        facts = [
            ("tidy", f"{table.n_values:,} rows x [{', '.join(names)}, value]"),
            ("wide", f"{table.n_rows:,} rows x {len(table.series)} series"),
        ]
        if table.bucket_ms:
            span = f"{format_utc(table.bucket_ms[0])} … {format_utc(table.bucket_ms[-1])}"
            step = f", {self.query.granularity}" if self.query is not None else ""
            facts.append(("time", f"{span} ({len(table.bucket_ms)} buckets{step})"))
        else:
            facts.append(("time", "no buckets"))
        facts.append(("metrics", ", ".join(s.name for s in table.series) or "none"))
        if table.row_group is not None:
            groups = table.groups()
            shown = ", ".join(groups[:5]) + (", …" if len(groups) > 5 else "")
            facts.append(("groups", f"{table.dimension} ({len(groups)}): {shown}"))
        if table.totals is None:
            facts.append(("totals", "none in the reply"))
        if self.query is not None:
            facts.append(("query", self.query.describe()))
        facts.extend(("note", note) for note in self.notes)
        return facts

    def __repr__(self) -> str:
        lines = [f"  {name}: {text}" for name, text in self._facts()]
        return "\n".join(["<MetricsResult", *lines]) + ">"

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
            f"<td style='text-align:left'>{html.escape(text)}</td></tr>"
            for name, text in self._facts()
        )
        return f"<div><strong>MetricsResult</strong><table>{cells}</table></div>"


class MetadataResult(_Reply):
    """A metadata reply (dimensions, saved filters, KPIs, discovery) as a mapping and a table.

    ``kind`` is one of ``"dimensions"``, ``"filters"``, ``"kpis"``, ``"endpoints"`` and
    ``"group-by-endpoints"``; its table has the columns of API reference §4.5 (endpoints: one row
    per path, with ``section``, ``resource_name``, ``methods``, ``path``).
    """

    def __init__(
        self, raw: Mapping[str, Any], *, kind: str, responses: Sequence[ResponseInfo] = ()
    ) -> None:
        if kind not in METADATA_KINDS:
            raise QueryError(
                f"kind={kind!r} is not a metadata kind; use one of {', '.join(METADATA_KINDS)}",
                argument="kind",
            )
        try:
            table = tidy_metadata(raw, kind)
        except ReplyShapeError as exc:
            raise UnexpectedResponseError(f"unexpected {kind} reply: {exc}") from exc
        self._raw = raw
        self._table: MetadataTable = table
        self.kind = kind
        self._notes = table.notes
        self._responses = tuple(responses)

    @classmethod
    def from_bytes(
        cls,
        content: bytes,
        *,
        kind: str,
        request: str | None = None,
        responses: Sequence[ResponseInfo] = (),
    ) -> MetadataResult:
        """Decode a metadata reply and check its shape (raises UnexpectedResponseError)."""
        return build_checked(content, request, lambda raw: cls(raw, kind=kind, responses=responses))

    def records(self) -> list[dict[str, Any]]:
        names = self._table.column_names
        return [dict(zip(names, row, strict=True)) for row in self._table.rows]

    def to_pandas(self) -> pd.DataFrame:
        return _frames.pandas_rows(self._table.column_names, self._table.rows)

    def to_polars(self) -> Any:
        table = self._table
        return _frames.polars_rows(table.column_names, table.column_types, table.rows)

    def __repr__(self) -> str:
        columns = ", ".join(self._table.column_names)
        notes = "".join(f"\n  note: {note}" for note in self.notes)
        return f"<MetadataResult {self.kind}: {len(self._table.rows)} rows [{columns}]{notes}>"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(name)}</th>" for name in self._table.column_names)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
            for row in self._table.rows[:20]
        )
        more = len(self._table.rows) - 20
        tail = f"<p>… {more} more rows</p>" if more > 0 else ""
        return (
            f"<div><strong>MetadataResult {html.escape(self.kind)}</strong>"
            f"<table><tr>{head}</tr>{body}</table>{tail}</div>"
        )
