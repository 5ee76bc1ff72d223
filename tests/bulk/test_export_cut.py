"""Replies cut into the dataset's day files, column-wise: the files hold exactly the rows, in
exactly the order and bytes, that a cut value by value from the tidy records gives."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow
import pyarrow.parquet
from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva import MetricsResult
from pyconviva._dataset import ExportUnit, export_queries
from pyconviva._dataset._writer import cut_into_units, write_unit

UTC = timezone.utc
MIDNIGHT = datetime(2022, 1, 1, tzinfo=UTC)
HOUR_MS = 3_600_000
T0 = int(MIDNIGHT.timestamp() * 1000)
QUERY = export_queries(["plays"], ["isp"])[0]
SCHEMA = pyarrow.schema(
    [
        ("timestamp", pyarrow.timestamp("ms", tz="UTC")),
        ("dimension", pyarrow.string()),
        ("dimension_value", pyarrow.string()),
        ("metric", pyarrow.string()),
        ("field", pyarrow.string()),
        ("value", pyarrow.float64()),
    ]
)


def days(count: int) -> list[ExportUnit]:
    day = timedelta(days=1)
    return [ExportUnit(QUERY, MIDNIGHT + i * day, MIDNIGHT + (i + 1) * day) for i in range(count)]


def bucket(epoch_ms: int, **metrics: Any) -> dict[str, Any]:
    return {"timestamp": {"epoch_ms": epoch_ms}, **metrics}


def grouped(epoch_ms: int, rows: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    data = [{"dimension": {"key": "isp", "value": v}, "metrics": m} for v, m in rows]
    return {"timestamp": {"epoch_ms": epoch_ms}, "dimensional_data": data}


def result(*buckets: dict[str, Any]) -> MetricsResult:
    return MetricsResult.from_bytes(json.dumps({"time_series": list(buckets)}).encode())


def reference_rows(
    results: list[MetricsResult], unit: ExportUnit, now: datetime
) -> list[tuple[Any, ...]]:
    """The unit's rows as 0.2.0 cut them: one tuple per tidy record, sorted by bucket, then
    dimension value, stably."""
    rows = []
    for one in results:
        dimension = one.dimension
        for record in one.records():
            stamp = record["timestamp"]
            if unit.start <= stamp < unit.end and stamp < now:
                group = None if dimension is None else str(record[dimension])
                rows.append(
                    (
                        stamp,
                        dimension,
                        group,
                        record["metric"],
                        record["field"],
                        float(record["value"]),
                    )
                )
    return sorted(rows, key=lambda row: (row[0], row[2] is not None, row[2] or ""))


def test_rows_are_ordered_by_bucket_then_group_keeping_the_replys_order_of_fields() -> None:
    reply = result(
        grouped(T0 + HOUR_MS, [("b", {"plays": {"count": 1, "percentage": 50.0}})]),
        grouped(
            T0,
            [
                ("b", {"plays": {"count": 2, "percentage": 2.5}}),
                ("a", {"plays": {"count": 3, "percentage": 3.5}}),
            ],
        ),
    )
    [unit] = days(1)
    table = cut_into_units([reply], [unit], MIDNIGHT + timedelta(days=2))[unit.path]
    assert table.schema == SCHEMA
    assert [(r["dimension_value"], r["field"], r["value"]) for r in table.to_pylist()] == [
        ("a", "count", 3.0),
        ("a", "percentage", 3.5),
        ("b", "count", 2.0),
        ("b", "percentage", 2.5),
        ("b", "count", 1.0),
        ("b", "percentage", 50.0),
    ]
    assert table.column("dimension").to_pylist() == ["isp"] * 6


def test_a_windows_rows_go_to_the_unit_of_their_bucket_and_none_from_now_on() -> None:
    units = days(3)
    reply = result(*(bucket(T0 + h * 6 * HOUR_MS, attempts={"count": h}) for h in range(12)))
    now = MIDNIGHT + timedelta(days=2, hours=6)
    cut = cut_into_units([reply], units, now)
    counts = {path: [r["value"] for r in table.to_pylist()] for path, table in cut.items()}
    assert counts == {
        units[0].path: [0.0, 1.0, 2.0, 3.0],
        units[1].path: [4.0, 5.0, 6.0, 7.0],
        units[2].path: [8.0],  # 06:00 and later have no data yet
    }
    assert cut[units[2].path].column("dimension").null_count == 1


def test_values_no_column_holds_are_not_rows_and_an_empty_unit_is_an_empty_file(
    tmp_path: Path,
) -> None:
    units = days(2)
    reply = result(
        bucket(T0, plays={"count": None, "percentage": 7.5}),
        bucket(T0 + HOUR_MS, plays={"count": 4, "percentage": float("nan")}),
    )
    cut = cut_into_units([reply], units, MIDNIGHT + timedelta(days=3))
    assert [(r["field"], r["value"]) for r in cut[units[0].path].to_pylist()] == [
        ("percentage", 7.5),
        ("count", 4.0),
    ]
    assert write_unit(tmp_path, units[1], cut[units[1].path]) == 0
    assert pyarrow.parquet.read_table(tmp_path / units[1].path).schema == SCHEMA


def test_integers_become_the_floats_that_float_gives_them_beyond_2_to_the_53() -> None:
    big = 2**53 + 1
    reply = result(
        bucket(T0, attempts={"count": big}, bitrate={"bps": 1.5}),
        bucket(T0 + HOUR_MS, attempts={"count": 3}, bitrate={"bps": big}),
    )
    [unit] = days(1)
    values = cut_into_units([reply], [unit], MIDNIGHT + timedelta(days=1))[unit.path]
    assert values.column("value").to_pylist() == [float(big), 1.5, 3.0, float(big)]


groups = st.sampled_from(["a", "b", "Ünï", "a b", "10", "9"])
numbers = st.one_of(
    st.integers(0, 2**60), st.floats(0, 1e12, allow_nan=False), st.none(), st.just("n/a")
)
grouped_rows = st.lists(
    st.tuples(
        groups,
        st.fixed_dictionaries(
            {"plays": st.fixed_dictionaries({"count": numbers, "percentage": numbers})}
        ),
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(
    windows=st.lists(
        st.lists(st.tuples(st.integers(0, 71), grouped_rows), max_size=8), min_size=1, max_size=2
    ),
    now_hours=st.integers(0, 80),
)
def test_files_are_byte_identical_to_a_cut_value_by_value(
    tmp_path_factory: Any, windows: list[list[tuple[int, list[Any]]]], now_hours: int
) -> None:
    """Any reply (buckets and groups in any order, repeats, odd values) over several windows."""
    folder = tmp_path_factory.mktemp("cut")
    results = [
        result(*(grouped(T0 + h * HOUR_MS, rows) for h, rows in window)) for window in windows
    ]
    units = days(3)
    now = MIDNIGHT + timedelta(hours=now_hours)
    cut = cut_into_units(results, units, now)
    for unit in units:
        ours = folder / "ours"
        expected = folder / "expected"
        write_unit(ours, unit, cut[unit.path])
        rows = reference_rows(results, unit, now)
        columns = {name: [row[i] for row in rows] for i, name in enumerate(SCHEMA.names)}
        write_unit(expected, unit, pyarrow.table(columns, schema=SCHEMA))
        assert (ours / unit.path).read_bytes() == (expected / unit.path).read_bytes()
