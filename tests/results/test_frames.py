"""pandas and polars tables: dtypes, time zone, integer counts, and missing values."""

from __future__ import annotations

from typing import Any

import pandas as pd
import polars as pl
import pytest

from pyconviva import MetricsResult
from tests.helpers import EMPTY, GROUPED, MULTI, PLAIN, REAL_TIME, result_of

UTC_NS = pd.DatetimeTZDtype("ns", "UTC")


def two_buckets(second: dict[str, Any]) -> dict[str, Any]:
    """A plain reply whose first bucket has attempts and plays counts and a bitrate."""
    first = {"attempts": {"count": 1}, "plays": {"count": 2}, "bitrate": {"bps": 3.5e6}}
    return {
        "time_series": [
            {"timestamp": {"epoch_ms": 0}, **first},
            {"timestamp": {"epoch_ms": 60_000}, **second},
        ]
    }


def test_long_pandas_frame_has_utc_timestamps_categoricals_and_integer_counts() -> None:
    frame = result_of(GROUPED).to_pandas()
    assert list(frame.columns) == ["timestamp", "device_name", "metric", "field", "value"]
    assert frame["timestamp"].dtype == UTC_NS
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert isinstance(frame["device_name"].dtype, pd.CategoricalDtype)
    assert list(frame["device_name"].cat.categories) == ["Roku", "Apple TV"]  # reply order
    assert isinstance(frame["metric"].dtype, pd.CategoricalDtype)
    assert isinstance(frame["field"].dtype, pd.CategoricalDtype)
    assert frame["value"].dtype == "Int64"  # every value is a count
    assert frame["timestamp"].tolist() == [
        pd.Timestamp("2022-01-01T04:00:00Z"),
        pd.Timestamp("2022-01-01T04:00:00Z"),
        pd.Timestamp("2022-01-01T05:00:00Z"),
        pd.Timestamp("2022-01-01T05:00:00Z"),
    ]
    assert frame["device_name"].tolist() == ["Roku", "Apple TV", "Roku", "Apple TV"]
    assert frame["value"].tolist() == [812, 403, 790, 420]


def test_long_frame_mixing_counts_and_fractions_has_float_values() -> None:
    frame = result_of(MULTI).to_pandas()
    assert frame["value"].dtype == "float64"
    assert frame["value"].tolist() == [1700.0, 4125000.0, 1610.0, 94.7]


def test_long_frame_of_counts_keeps_counts_beyond_two_to_the_53_exact() -> None:
    exact = 2**53 + 1  # the first integer float64 cannot hold
    reply = {"time_series": [{"timestamp": {"epoch_ms": 0}, "attempts": {"count": exact}}]}
    result = MetricsResult(reply)
    assert result.to_pandas()["value"].tolist() == [exact]
    assert result.to_polars()["value"].to_list() == [exact]
    assert result.to_pandas(wide=True)["attempts.count"].tolist() == [exact]


def test_long_pandas_frame_equals_the_records() -> None:
    result = result_of(MULTI)
    expected = pd.DataFrame(result.records())
    frame = result.to_pandas()
    assert frame.astype({"metric": str, "field": str}).to_dict("records") == expected.astype(
        {"value": float}
    ).to_dict("records")


def test_wide_pandas_frame_has_one_column_per_field_and_int64_counts() -> None:
    frame = result_of(MULTI).to_pandas(wide=True)
    assert list(frame.columns) == [
        "attempts.count",
        "bitrate.bps",
        "plays.count",
        "plays.percentage",
    ]
    assert frame.index.name == "timestamp"
    assert frame.index.dtype == UTC_NS
    assert frame.dtypes.astype(str).tolist() == ["Int64", "float64", "Int64", "float64"]
    assert frame.loc[pd.Timestamp("2022-01-01T04:00:00Z"), "plays.percentage"] == 94.7


def test_wide_grouped_frame_is_indexed_by_timestamp_and_dimension() -> None:
    frame = result_of(GROUPED).to_pandas(wide=True)
    assert frame.index.names == ["timestamp", "device_name"]
    assert frame.loc[(pd.Timestamp("2022-01-01T05:00:00Z"), "Apple TV"), "attempts.count"] == 420
    assert frame["attempts.count"].dtype == "Int64"


def test_wide_count_column_stays_int64_with_na_where_a_row_lacks_a_value() -> None:
    reply = two_buckets({"attempts": {"count": 3}, "plays": None, "bitrate": {"bps": 3e6}})
    result = MetricsResult(reply)
    frame = result.to_pandas(wide=True)
    assert frame["attempts.count"].dtype == "Int64"
    assert frame["plays.count"].dtype == "Int64"
    assert frame["plays.count"].isna().tolist() == [False, True]
    assert frame["plays.count"].tolist()[0] == 2
    assert len(result.to_pandas()) == 5


def test_wide_non_count_column_lacking_a_value_is_float_with_nan() -> None:
    reply = two_buckets({"attempts": {"count": 3}, "plays": {"count": 4}})
    frame = MetricsResult(reply).to_pandas(wide=True)
    assert frame["bitrate.bps"].dtype == "float64"
    assert frame["bitrate.bps"].isna().tolist() == [False, True]


def test_count_with_a_fraction_stays_float_rather_than_lose_it() -> None:
    reply = two_buckets({"attempts": {"count": 2.5}, "plays": {"count": 4}, "bitrate": {"bps": 1}})
    result = MetricsResult(reply)
    assert result.to_pandas(wide=True)["attempts.count"].dtype == "float64"
    assert result.to_pandas(wide=True)["attempts.count"].tolist() == [1.0, 2.5]
    assert result.to_polars(wide=True).schema["attempts.count"] == pl.Float64


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
    assert frame.schema["value"] == pl.Int64  # every value is a count
    assert frame["value"].to_list() == result.to_pandas()["value"].tolist()
    assert frame["device_name"].to_list() == ["Roku", "Apple TV", "Roku", "Apple TV"]


def test_polars_long_frame_mixing_counts_and_fractions_has_float_values() -> None:
    frame = result_of(PLAIN).to_polars()
    assert frame.schema["value"] == pl.Float64
    assert frame["value"].to_list() == result_of(PLAIN).to_pandas()["value"].tolist()


def test_polars_long_frame_leaves_out_missing_values_in_row_order() -> None:
    reply = {
        "time_series": [
            {"timestamp": {"epoch_ms": 0}, "attempts": {"count": 1}, "plays": {"count": 2}},
            {"timestamp": {"epoch_ms": 60_000}, "attempts": None, "plays": {"count": 4}},
        ]
    }
    frame = MetricsResult(reply).to_polars()
    assert frame.select("metric", "value").rows() == [
        ("attempts", 1),
        ("plays", 2),
        ("plays", 4),
    ]


def test_polars_wide_frame_has_int64_counts_with_null_for_missing() -> None:
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
    reply = two_buckets({"attempts": {"count": 3}, "plays": None, "bitrate": {"bps": 3e6}})
    wide = MetricsResult(reply).to_polars(wide=True)
    assert wide.schema["plays.count"] == pl.Int64
    assert wide["plays.count"].to_list() == [2, None]


@pytest.mark.parametrize("reply", [PLAIN, MULTI, GROUPED, REAL_TIME, EMPTY])
def test_frame_lengths_equal_the_number_of_records(reply: dict[str, object]) -> None:
    result = result_of(reply)
    assert len(result.to_pandas()) == len(result.records()) == result.to_polars().height
