"""Values that no column type can hold are left out (null in wide frames) with a note.

A reply may carry numbers no 64-bit column holds (``10**400``), non-finite floats, or text, flags,
lists and objects where a number belongs; a metadata reply may carry lists or objects where text
belongs. Every table and file of the result then still works: such a value is skipped, counted in
``result.notes``, and never surfaces as a raw ``OverflowError``, ``ArrowInvalid`` or polars error.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva import MetadataResult, MetricsResult
from tests.helpers import HOUR, T0, row, stamp

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def grouped_reply() -> dict[str, Any]:
    """Two hourly buckets of two ISPs, a count and a percentage each, with a total block."""
    buckets = [
        {
            "timestamp": stamp(T0 + b * HOUR),
            "dimensional_data": [
                row("isp", isp, attempts={"count": 100 * b + g}, plays={"percentage": 90.5 + g})
                for g, isp in enumerate(["Comcast", "Verizon"])
            ],
        }
        for b in range(2)
    ]
    total = {"attempts": {"count": 401}, "plays": {"percentage": 91.0}}
    return {"time_series": buckets, "total": total}


def body_of(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply).encode()  # NaN and Infinity as the standard parser writes them


def test_integer_beyond_64_bits_is_left_out_of_every_table_and_noted(tmp_path: Path) -> None:
    reply = grouped_reply()
    reply["time_series"][0]["dimensional_data"][0]["metrics"]["attempts"]["count"] = 10**400
    result = MetricsResult.from_bytes(body_of(reply))
    assert result.notes == (
        "skipped 1 values beyond the 64-bit integer range "
        "(first at 2022-01-01T04:00:00Z Comcast attempts.count)",
    )
    assert len(result.records()) == 7
    assert len(result.to_pandas()) == 7
    wide = result.to_pandas(wide=True)
    assert wide["attempts.count"].isna().tolist() == [True, False, False, False]
    assert result.to_polars().height == 7
    assert result.to_polars(wide=True)["attempts.count"].null_count() == 1
    assert pq.read_table(result.to_parquet(tmp_path / "a.parquet")).num_rows == 7
    assert len(json.loads(result.to_json(tmp_path / "a.json").read_text())) == 7
    assert result.to_csv(tmp_path / "a.csv").read_text().count("\n") == 8


def test_the_largest_64_bit_integers_are_kept_and_the_next_ones_skipped() -> None:
    reply = grouped_reply()
    rows = [r for bucket in reply["time_series"] for r in bucket["dimensional_data"]]
    for r, value in zip(rows, [INT64_MAX, INT64_MIN, INT64_MAX + 1, INT64_MIN - 1], strict=True):
        r["metrics"]["attempts"]["count"] = value
    result = MetricsResult.from_bytes(body_of(reply))
    counts = [r["value"] for r in result.records() if r["metric"] == "attempts"]
    assert counts == [INT64_MAX, INT64_MIN]
    assert result.notes[0].startswith("skipped 2 values beyond the 64-bit integer range")
    assert result.to_pandas(wide=True)["attempts.count"].dtype == "Int64"


def test_integer_beyond_64_bits_in_the_total_is_left_out_and_noted() -> None:
    reply = grouped_reply()
    reply["total"]["attempts"]["count"] = -(10**30)
    result = MetricsResult.from_bytes(body_of(reply))
    assert result.totals() == [{"metric": "plays", "field": "percentage", "value": 91.0}]
    assert result.notes == (
        "skipped 1 `total` values beyond the 64-bit integer range (first at total attempts.count)",
    )


def test_dimension_value_beyond_64_bits_skips_the_row_with_a_note() -> None:
    reply = grouped_reply()
    reply["time_series"][1]["dimensional_data"][1]["dimension"]["value"] = 10**40
    result = MetricsResult(reply)
    assert len(result.records()) == 6
    assert result.notes == (
        "skipped 1 group-by rows without a dimension value (first at 2022-01-01T05:00:00Z)",
    )


DIMENSIONS = {
    "dimensions": [
        {"name": "Device OS", "query_filter": "?device_os", "is_custom": False,
         "group_by": "/group-by/device-os"},
        {"name": ["ISP"], "query_filter": {"q": "?isp"}, "is_custom": "no",
         "group_by": 7},
    ]
}  # fmt: skip


def test_metadata_fields_of_odd_types_become_nulls_with_a_note() -> None:
    result = MetadataResult(DIMENSIONS, kind="dimensions")
    assert result.records()[1] == {
        "name": None,
        "query_filter": None,
        "is_custom": None,
        "group_by": None,
    }
    assert result.notes == (
        "skipped 1 `name` values that are not text (first at dimensions[1])",
        "skipped 1 `query_filter` values that are not text (first at dimensions[1])",
        "skipped 1 `is_custom` values that are not true or false (first at dimensions[1])",
        "skipped 1 `group_by` values that are not text (first at dimensions[1])",
    )
    frame = result.to_polars()
    assert frame["name"].to_list() == ["Device OS", None]
    assert str(frame.schema["is_custom"]) == "Boolean"
    assert result.to_pandas()["name"].isna().tolist() == [False, True]


def test_metadata_ids_beyond_64_bits_become_nulls_with_a_note() -> None:
    result = MetadataResult({"filters": [{"id": 10**40, "name": "All"}]}, kind="filters")
    assert result.records() == [{"id": None, "name": "All"}]
    assert result.notes == (
        "skipped 1 `id` values that are not whole numbers or text (first at filters[0])",
    )
    assert result.to_polars()["name"].to_list() == ["All"]


def test_metadata_ids_mixing_numbers_and_text_read_as_text_in_every_table() -> None:
    reply = {"kpis": [{"id": 1, "name": "Good"}, {"id": "k-2", "name": "Bad"}]}
    result = MetadataResult(reply, kind="kpis")
    assert [r["id"] for r in result.records()] == ["1", "k-2"]
    assert result.to_polars()["id"].to_list() == ["1", "k-2"]
    assert result.to_pandas()["id"].tolist() == ["1", "k-2"]
    assert not result.is_partial  # nothing was lost


def test_endpoint_methods_that_are_not_text_become_null_with_a_note() -> None:
    reply = {
        "resources": [
            {"resource_name": "plays", "endpoints": [{"methods": [{"GET": 1}], "path": "/p"}]},
            {"resource_name": ["odd"], "endpoints": [{"methods": ["GET", "HEAD"], "path": "/q"}]},
        ]
    }
    result = MetadataResult(reply, kind="group-by-endpoints")
    assert result.records() == [
        {"section": "resources", "resource_name": "plays", "methods": None, "path": "/p"},
        {"section": "resources", "resource_name": None, "methods": "GET,HEAD", "path": "/q"},
    ]
    assert result.to_polars().height == 2
    assert len(result.notes) == 2


# ---- mutated replies: every table and file works, and says what it left out --------------------

unfit_values = st.one_of(
    st.integers(min_value=INT64_MAX + 1, max_value=10**400),
    st.integers(min_value=-(10**400), max_value=INT64_MIN - 1),
    st.sampled_from([math.inf, -math.inf, math.nan]),
    st.text(max_size=4),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(min_value=-5, max_value=5), max_size=2),
)

Place = tuple[int, int, str, str]  # bucket, row, metric, field; bucket -1 is the total block


def places(reply: dict[str, Any]) -> list[Place]:
    found = [
        (b, r, metric, field)
        for b, bucket in enumerate(reply["time_series"])
        for r, item in enumerate(bucket["dimensional_data"])
        for metric, fields in item["metrics"].items()
        for field in fields
    ]
    in_total = [
        (-1, 0, metric, field) for metric, fields in reply["total"].items() for field in fields
    ]
    return found + in_total


def fields_at(reply: dict[str, Any], place: Place) -> dict[str, Any]:
    b, r, metric, _ = place
    if b < 0:
        return reply["total"][metric]  # type: ignore[no-any-return]
    return reply["time_series"][b]["dimensional_data"][r]["metrics"][metric]  # type: ignore[no-any-return]


@st.composite
def mutated_replies(draw: st.DrawFn) -> tuple[dict[str, Any], set[Place]]:
    reply = grouped_reply()
    chosen = draw(st.sets(st.sampled_from(places(reply)), min_size=1, max_size=3))
    for place in chosen:
        fields_at(reply, place)[place[3]] = draw(unfit_values)
    return reply, chosen


@settings(max_examples=60, deadline=None)
@given(mutated_replies())
def test_mutated_values_are_left_out_of_every_table_and_file_with_notes(
    case: tuple[dict[str, Any], set[Place]],
) -> None:
    reply, mutated = case
    in_rows = {place for place in mutated if place[0] >= 0}
    in_total = {(metric, field) for b, _, metric, field in mutated if b < 0}
    kept = len([place for place in places(grouped_reply()) if place[0] >= 0]) - len(in_rows)
    body = body_of(reply)
    result = MetricsResult.from_bytes(body)  # orjson, when the fast extra is installed
    assert result.is_partial
    records = result.records()
    assert len(records) == kept
    by_standard_parser = MetricsResult(json.loads(body))
    assert by_standard_parser.records() == records
    assert by_standard_parser.notes == result.notes
    assert all(type(r["value"]) in (int, float) and math.isfinite(r["value"]) for r in records)
    assert {(t["metric"], t["field"]) for t in result.totals()} == {
        ("attempts", "count"),
        ("plays", "percentage"),
    } - in_total
    assert len(result.to_pandas()) == kept
    assert result.to_polars().height == kept
    wide = result.to_pandas(wide=True)
    for b, r, metric, field in in_rows:
        key = (pd.Timestamp(T0 + b * HOUR, unit="ms", tz="UTC"), ["Comcast", "Verizon"][r])
        if key in wide.index:  # a row that lost every value is left out
            assert pd.isna(wide.loc[key, f"{metric}.{field}"])
    assert result.to_polars(wide=True).height == len(wide)
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        assert pq.read_table(result.to_parquet(folder / "r.parquet")).num_rows == kept
        assert len(json.loads(result.to_json(folder / "r.json").read_text())) == kept
        assert len(result.to_csv(folder / "r.csv").read_text().splitlines()) == kept + 1


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=4),
    ),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner, max_size=2)
    ),
    max_leaves=4,
)

METADATA_REPLIES = {
    "dimensions": [dict(DIMENSIONS["dimensions"][0]), dict(DIMENSIONS["dimensions"][0])],
    "filters": [{"id": 180, "name": "Live Only"}, {"id": 181, "name": "VOD"}],
    "kpis": [{"id": 1, "name": "Conviva Good"}],
}


def fits_its_column(field: str, value: object) -> bool:
    """The metadata column types, written out independently of the code under test."""
    if value is None or field not in ("is_custom", "id"):
        return value is None or type(value) is str
    if field == "is_custom":
        return type(value) is bool
    return type(value) is str or (type(value) is int and INT64_MIN <= value <= INT64_MAX)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(METADATA_REPLIES)), st.data(), json_values)
def test_metadata_fields_mutated_to_any_json_value_are_kept_or_nulled_with_a_note(
    kind: str, data: st.DataObject, value: Any
) -> None:
    items = copy.deepcopy(METADATA_REPLIES[kind])
    index = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    field = data.draw(st.sampled_from(sorted(items[index])))
    items[index][field] = value
    result = MetadataResult.from_bytes(json.dumps({kind: items}).encode(), kind=kind)
    records = result.records()
    if fits_its_column(field, value):
        assert records[index][field] == value
        assert not result.is_partial
    else:
        assert records[index][field] is None
        expected = {"is_custom": "true or false", "id": "whole numbers or text"}.get(field, "text")
        assert result.notes == (
            f"skipped 1 `{field}` values that are not {expected} (first at {kind}[{index}])",
        )
    assert result.to_polars().rows() == [tuple(r.values()) for r in records]
    assert len(result.to_pandas()) == len(items)


@pytest.mark.parametrize("value", [10**400, math.inf, "12", True, [1], {"n": 1}, None])
def test_every_unfit_value_in_a_plain_reply_leaves_the_other_values_usable(value: Any) -> None:
    reply = {
        "time_series": [
            {"timestamp": stamp(T0), "attempts": {"count": value}, "bitrate": {"bps": 3.5e6}},
            {"timestamp": stamp(T0 + HOUR), "attempts": {"count": 9}, "bitrate": {"bps": 3.1e6}},
        ],
        "total": {"attempts": {"count": value}},
    }
    result = MetricsResult.from_bytes(body_of(reply))
    assert [r["value"] for r in result.records()] == [3.5e6, 3.1e6, 9]  # series by first use
    assert result.totals() == []
    assert len(result.notes) == 2
    assert result.to_pandas(wide=True)["attempts.count"].isna().tolist() == [True, False]
