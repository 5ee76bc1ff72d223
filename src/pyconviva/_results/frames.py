"""pandas, polars and Arrow tables built from a :class:`~pyconviva._results.tidy.TidyTable`.

Frames are built column-wise, never record by record: the values become one float matrix
(rows x series) whose row-major ravel *is* the tidy order, so the long format is a mask away;
timestamps are converted once, vectorised; the dimension, metric and field columns are
categoricals built from integer codes.

Dtypes (documented in the README): long format — ``timestamp`` datetime64[ns, UTC], the dimension,
``metric`` and ``field`` categorical, ``value`` nullable ``Int64`` when every series is a count
(``TidyTable.counts``), float64 when counts share the column with other fields (one column holds
one type; ``MetricsResult.to_pandas`` says why); wide format — nullable ``Int64`` for a count,
int64 for another series whose values are all integers in every row, float64 otherwise (NaN where
a row has no value). polars uses ``Datetime("ms", "UTC")``, ``Categorical`` and ``Int64`` /
``Float64`` by the same rules (null where a row has no value); Arrow ``int64`` / ``double``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pyconviva._optional import require
from pyconviva._results.metadata import ColumnType
from pyconviva._results.tidy import FIELD, METRIC, TIMESTAMP, VALUE, TidyTable, long_columns

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

__all__ = [
    "arrow_long",
    "pandas_long",
    "pandas_rows",
    "pandas_wide",
    "polars_long",
    "polars_rows",
    "polars_wide",
]


_POSITION = "__series"  # polars_long's internal column: the series index of each value


def _pandas(feature: str) -> tuple[Any, Any]:
    return require("pandas", feature=feature), require("numpy", feature=feature)


def _codes(labels: Sequence[str]) -> tuple[list[int], list[str]]:
    """Integer codes and categories (in order of first appearance) for ``labels``."""
    categories = list(dict.fromkeys(labels))
    index = {label: code for code, label in enumerate(categories)}
    return [index[label] for label in labels], categories


def _timestamps(pandas: Any, epoch_ms: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    index: pd.DatetimeIndex = pandas.to_datetime(epoch_ms, unit="ms", utc=True).as_unit("ns")
    return index


def _present(numpy: Any, column: list[Any]) -> Any:
    return numpy.fromiter((v is not None for v in column), dtype=bool, count=len(column))


def _filled(numpy: Any, column: list[Any], dtype: Any, complete: bool) -> Any:
    """The column as a numpy array; where it has no value, NaN (floats) or 0 (integers), so
    :func:`_present` tells."""
    if complete:
        return numpy.fromiter(column, dtype=dtype, count=len(column))  # the faster reader
    if dtype is numpy.float64:
        return numpy.asarray(column, dtype=dtype)  # None -> NaN
    return numpy.fromiter((0 if v is None else v for v in column), dtype=dtype, count=len(column))


def _nullable_ints(pandas: Any, numpy: Any, column: list[Any], complete: bool) -> Any:
    """A pandas ``Int64`` array (NA where the column has no value)."""
    values = _filled(numpy, column, numpy.int64, complete)
    missing = numpy.zeros(len(column), dtype=bool) if complete else ~_present(numpy, column)
    return pandas.arrays.IntegerArray(values, missing)


def pandas_long(table: TidyTable) -> pd.DataFrame:
    """The tidy table: timestamp, [dimension,] metric, field, value — one row per value."""
    pandas, numpy = _pandas("to_pandas()")
    n_rows, n_series = table.n_rows, len(table.series)
    dtype = numpy.int64 if table.counts_only else numpy.float64
    matrix = numpy.empty((n_rows, n_series), dtype=dtype)
    present = None if all(table.complete) else numpy.ones((n_rows, n_series), dtype=bool)
    for s, (column, complete) in enumerate(zip(table.columns, table.complete, strict=True)):
        matrix[:, s] = _filled(numpy, column, dtype, complete)
        if present is not None and not complete:
            present[:, s] = _present(numpy, column)
    values = matrix.ravel()
    rows = numpy.repeat(numpy.arange(n_rows), n_series)
    series = numpy.tile(numpy.arange(n_series), n_rows)
    if present is not None:
        keep = present.ravel()
        values, rows, series = values[keep], rows[keep], series[keep]
    row_stamps = _timestamps(pandas, numpy.asarray(table.row_ms, dtype=numpy.int64))
    data: dict[str, Any] = {TIMESTAMP: row_stamps.take(rows)}  # convert per row, then gather
    if table.row_group is not None and table.dimension is not None:
        codes, uniques = pandas.factorize(numpy.asarray(table.row_group, dtype=object))
        data[table.dimension] = pandas.Categorical.from_codes(codes[rows], categories=uniques)
    for name, labels in (
        (METRIC, [s.metric for s in table.series]),
        (FIELD, [s.field for s in table.series]),
    ):
        codes_of_series, categories = _codes(labels)
        codes = numpy.asarray(codes_of_series, dtype=numpy.int64)[series]
        data[name] = pandas.Categorical.from_codes(codes, categories=categories)
    data[VALUE] = (
        pandas.arrays.IntegerArray(values, numpy.zeros(len(values), dtype=bool))
        if table.counts_only
        else values
    )
    frame: pd.DataFrame = pandas.DataFrame(data, copy=False)
    return frame


def pandas_wide(table: TidyTable) -> pd.DataFrame:
    """One column per series (``attempts.count`` …), indexed by timestamp [and dimension]."""
    pandas, numpy = _pandas("to_pandas(wide=True)")
    data = {
        series.name: (
            _nullable_ints(pandas, numpy, column, complete)
            if count
            else numpy.asarray(
                column, dtype=numpy.int64 if integral and complete else numpy.float64
            )
        )
        for series, column, count, integral, complete in zip(
            table.series, table.columns, table.counts, table.integral, table.complete, strict=True
        )
    }
    stamps = _timestamps(pandas, numpy.asarray(table.row_ms, dtype=numpy.int64)).rename(TIMESTAMP)
    index: pd.Index = stamps
    if table.row_group is not None and table.dimension is not None:
        groups = pandas.CategoricalIndex(table.row_group, categories=table.groups())
        index = pandas.MultiIndex.from_arrays([stamps, groups], names=[TIMESTAMP, table.dimension])
    frame: pd.DataFrame = pandas.DataFrame(data, index=index, columns=list(data), copy=False)
    return frame


def polars_long(table: TidyTable) -> Any:
    """The tidy table as a polars DataFrame (same columns and order as :func:`pandas_long`)."""
    pl = require("polars", feature="to_polars()")
    names = [f"__value_{index}" for index in range(len(table.series))]  # internal, dropped below
    base = pl.DataFrame(_polars_row_columns(pl, table))
    dtype = pl.Int64 if table.counts_only else pl.Float64
    if not names:
        long = base.clear().with_columns(pl.lit(None, pl.Int64).alias(_POSITION))
        long = long.with_columns(pl.lit(None, dtype).alias(VALUE))
    else:
        values = [
            pl.Series(name, column, dtype=dtype, strict=False)
            for name, column in zip(names, table.columns, strict=True)
        ]
        long = (
            base.with_columns(values)
            .select(
                pl.exclude(names),
                pl.int_ranges(0, len(names)).alias(_POSITION),
                pl.concat_list(names).alias(VALUE),
            )
            .explode(_POSITION, VALUE)
            .filter(pl.col(VALUE).is_not_null())
        )
    positions = long[_POSITION]
    metric = pl.Series(METRIC, [s.metric for s in table.series], dtype=pl.String)
    field = pl.Series(FIELD, [s.field for s in table.series], dtype=pl.String)
    return long.select(
        pl.exclude(_POSITION, VALUE),
        metric.gather(positions).cast(pl.Categorical),
        field.gather(positions).cast(pl.Categorical),
        pl.col(VALUE),
    )


def polars_wide(table: TidyTable) -> Any:
    """One column per series after the timestamp [and dimension] columns."""
    pl = require("polars", feature="to_polars(wide=True)")
    columns = _polars_row_columns(pl, table)
    for series, column, count, integral, complete in zip(
        table.series, table.columns, table.counts, table.integral, table.complete, strict=True
    ):
        dtype = pl.Int64 if count or (integral and complete) else pl.Float64
        columns.append(pl.Series(series.name, column, dtype=dtype, strict=False))
    return pl.DataFrame(columns)


def _polars_row_columns(pl: Any, table: TidyTable) -> list[Any]:
    stamps = pl.Series(TIMESTAMP, table.row_ms, dtype=pl.Int64).cast(pl.Datetime("ms", "UTC"))
    if table.row_group is None or table.dimension is None:
        return [stamps]
    return [stamps, pl.Series(table.dimension, table.row_group, dtype=pl.Categorical)]


def arrow_long(table: TidyTable) -> Any:
    """The tidy table as a pyarrow Table (dictionary-encoded labels), for Parquet."""
    pa = require("pyarrow", feature="to_parquet()")
    rows, series, values = long_columns(table)
    arrays = {TIMESTAMP: pa.array([table.row_ms[r] for r in rows], pa.timestamp("ms", tz="UTC"))}
    if table.row_group is not None and table.dimension is not None:
        codes, categories = _codes(table.row_group)
        arrays[table.dimension] = _dictionary(pa, [codes[r] for r in rows], categories)
    for name, labels in (
        (METRIC, [s.metric for s in table.series]),
        (FIELD, [s.field for s in table.series]),
    ):
        codes, categories = _codes(labels)
        arrays[name] = _dictionary(pa, [codes[s] for s in series], categories)
    arrays[VALUE] = pa.array(values, pa.int64() if table.counts_only else pa.float64())
    return pa.table(arrays)


def _dictionary(pa: Any, codes: list[int], categories: list[str]) -> Any:
    return pa.DictionaryArray.from_arrays(
        pa.array(codes, pa.int32()), pa.array(categories, pa.string())
    )


def pandas_rows(column_names: Sequence[str], rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """A small table (metadata) from rows."""
    pandas, _ = _pandas("to_pandas()")
    frame: pd.DataFrame = pandas.DataFrame.from_records(list(rows), columns=list(column_names))
    return frame


def polars_rows(
    column_names: Sequence[str],
    column_types: Sequence[ColumnType],
    rows: Sequence[Sequence[Any]],
) -> Any:
    """A small polars table (metadata) from rows whose columns each hold one type (or None)."""
    pl = require("polars", feature="to_polars()")
    dtypes = {"text": pl.String, "flag": pl.Boolean, "integer": pl.Int64}
    schema = [(name, dtypes[kind]) for name, kind in zip(column_names, column_types, strict=True)]
    return pl.DataFrame(list(rows), schema=schema, orient="row")
