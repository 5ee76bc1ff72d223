"""pandas and polars tables, their dtypes and time zone, and the file writers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

from pyconviva import MetricsResult
from tests.helpers import EMPTY, GROUPED, MULTI, PLAIN, REAL_TIME, result_of

UTC_NS = pd.DatetimeTZDtype("ns", "UTC")


def test_long_pandas_frame_has_utc_timestamps_categoricals_and_float_values() -> None:
    frame = result_of(GROUPED).to_pandas()
    assert list(frame.columns) == ["timestamp", "device_name", "metric", "field", "value"]
    assert frame["timestamp"].dtype == UTC_NS
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert isinstance(frame["device_name"].dtype, pd.CategoricalDtype)
    assert list(frame["device_name"].cat.categories) == ["Roku", "Apple TV"]  # reply order
    assert isinstance(frame["metric"].dtype, pd.CategoricalDtype)
    assert isinstance(frame["field"].dtype, pd.CategoricalDtype)
    assert frame["value"].dtype == "float64"
    assert frame["timestamp"].tolist() == [
        pd.Timestamp("2022-01-01T04:00:00Z"),
        pd.Timestamp("2022-01-01T04:00:00Z"),
        pd.Timestamp("2022-01-01T05:00:00Z"),
        pd.Timestamp("2022-01-01T05:00:00Z"),
    ]
    assert frame["device_name"].tolist() == ["Roku", "Apple TV", "Roku", "Apple TV"]
    assert frame["value"].tolist() == [812.0, 403.0, 790.0, 420.0]


def test_long_pandas_frame_equals_the_records() -> None:
    result = result_of(MULTI)
    expected = pd.DataFrame(result.records())
    frame = result.to_pandas()
    assert frame.astype({"metric": str, "field": str}).to_dict("records") == expected.astype(
        {"value": float}
    ).to_dict("records")


def test_wide_pandas_frame_has_one_column_per_field_and_keeps_integers() -> None:
    frame = result_of(MULTI).to_pandas(wide=True)
    assert list(frame.columns) == [
        "attempts.count",
        "bitrate.bps",
        "plays.count",
        "plays.percentage",
    ]
    assert frame.index.name == "timestamp"
    assert frame.index.dtype == UTC_NS
    assert frame.dtypes.astype(str).tolist() == ["int64", "float64", "int64", "float64"]
    assert frame.loc[pd.Timestamp("2022-01-01T04:00:00Z"), "plays.percentage"] == 94.7


def test_wide_grouped_frame_is_indexed_by_timestamp_and_dimension() -> None:
    frame = result_of(GROUPED).to_pandas(wide=True)
    assert frame.index.names == ["timestamp", "device_name"]
    assert frame.loc[(pd.Timestamp("2022-01-01T05:00:00Z"), "Apple TV"), "attempts.count"] == 420
    assert frame["attempts.count"].dtype == "int64"


def test_wide_frame_uses_nan_and_float_where_a_row_lacks_a_value() -> None:
    reply = {
        "time_series": [
            {"timestamp": {"epoch_ms": 0}, "attempts": {"count": 1}, "plays": {"count": 2}},
            {"timestamp": {"epoch_ms": 60_000}, "attempts": {"count": 3}, "plays": None},
        ]
    }
    frame = MetricsResult(reply).to_pandas(wide=True)
    assert frame["attempts.count"].dtype == "int64"
    assert frame["plays.count"].dtype == "float64"
    assert frame["plays.count"].isna().tolist() == [False, True]
    assert len(MetricsResult(reply).to_pandas()) == 3


def test_empty_reply_gives_empty_frames_with_the_same_dtypes() -> None:
    frame = result_of(EMPTY).to_pandas()
    assert frame.empty
    assert frame["timestamp"].dtype == UTC_NS
    assert frame["value"].dtype == "float64"
    assert result_of(EMPTY).to_polars().height == 0


def test_real_time_frame_skips_the_empty_latest_bucket() -> None:
    frame = result_of(REAL_TIME).to_pandas()
    assert frame["timestamp"].unique().tolist() == [pd.Timestamp("2022-01-01T04:58:00Z")]
    assert frame["metric"].tolist() == ["attempts", "rebuffering_ratio", "video_start_time"]


def test_polars_long_frame_matches_pandas() -> None:
    result = result_of(GROUPED)
    frame = result.to_polars()
    assert frame.columns == ["timestamp", "device_name", "metric", "field", "value"]
    assert frame.schema["timestamp"] == pl.Datetime("ms", "UTC")
    assert frame.schema["device_name"] == pl.Categorical
    assert frame.schema["value"] == pl.Float64
    assert frame["value"].to_list() == result.to_pandas()["value"].tolist()
    assert frame["device_name"].to_list() == ["Roku", "Apple TV", "Roku", "Apple TV"]


def test_polars_long_frame_leaves_out_missing_values_in_row_order() -> None:
    reply = {
        "time_series": [
            {"timestamp": {"epoch_ms": 0}, "attempts": {"count": 1}, "plays": {"count": 2}},
            {"timestamp": {"epoch_ms": 60_000}, "attempts": None, "plays": {"count": 4}},
        ]
    }
    frame = MetricsResult(reply).to_polars()
    assert frame.select("metric", "value").rows() == [
        ("attempts", 1.0),
        ("plays", 2.0),
        ("plays", 4.0),
    ]


def test_polars_wide_frame_keeps_integers_and_has_null_for_missing() -> None:
    frame = result_of(MULTI).to_polars(wide=True)
    assert frame.columns == [
        "timestamp",
        "attempts.count",
        "bitrate.bps",
        "plays.count",
        "plays.percentage",
    ]
    assert frame.schema["attempts.count"] == pl.Int64
    assert frame.schema["plays.percentage"] == pl.Float64


def test_csv_holds_the_tidy_table_with_utc_z_timestamps(tmp_path: Path) -> None:
    path = result_of(GROUPED).to_csv(tmp_path / "out.csv")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["timestamp", "device_name", "metric", "field", "value"],
        ["2022-01-01T04:00:00Z", "Roku", "attempts", "count", "812"],
        ["2022-01-01T04:00:00Z", "Apple TV", "attempts", "count", "403"],
        ["2022-01-01T05:00:00Z", "Roku", "attempts", "count", "790"],
        ["2022-01-01T05:00:00Z", "Apple TV", "attempts", "count", "420"],
    ]


def test_json_file_is_an_array_of_tidy_records(tmp_path: Path) -> None:
    path = result_of(PLAIN).to_json(str(tmp_path / "out.json"))
    assert json.loads(path.read_text()) == [
        {"timestamp": "2022-01-01T04:00:00Z", "metric": "ended_plays", "field": "count",
         "value": 1520},
        {"timestamp": "2022-01-01T04:00:00Z", "metric": "ended_plays",
         "field": "per_unique_device", "value": 1.42},
        {"timestamp": "2022-01-01T05:00:00Z", "metric": "ended_plays", "field": "count",
         "value": 1388},
        {"timestamp": "2022-01-01T05:00:00Z", "metric": "ended_plays",
         "field": "per_unique_device", "value": 1.37},
    ]  # fmt: skip


def test_parquet_round_trips_to_the_same_long_table(tmp_path: Path) -> None:
    result = result_of(GROUPED)
    path = result.to_parquet(tmp_path / "out.parquet")
    table = pq.read_table(path)
    assert str(table.schema.field("timestamp").type) == "timestamp[ms, tz=UTC]"
    back = table.to_pandas()
    expected = result.to_pandas()
    assert back["value"].tolist() == expected["value"].tolist()
    assert back["device_name"].astype(str).tolist() == expected["device_name"].astype(str).tolist()
    assert back["timestamp"].tolist() == expected["timestamp"].tolist()


@pytest.mark.parametrize("reply", [PLAIN, MULTI, GROUPED, REAL_TIME, EMPTY])
def test_frame_lengths_equal_the_number_of_records(reply: dict[str, object]) -> None:
    result = result_of(reply)  # type: ignore[arg-type]
    assert len(result.to_pandas()) == len(result.records()) == result.to_polars().height
