"""End to end: the client over the in-process emulator returns results that are tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pandas as pd
import pytest

from pyconviva import ConvivaAPI, MetadataResult, MetricsResult
from pyconviva.emulator import Emulator

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def api() -> Iterator[ConvivaAPI]:
    with Emulator(now=NOW).client() as client:
        yield client


def test_grouped_historical_result_carries_its_query_and_a_utc_table(api: ConvivaAPI) -> None:
    result = api.get_historical_data(["attempts", "plays"], group_by="isp", time_range=1)
    assert isinstance(result, MetricsResult)
    assert result.query is not None
    assert result.query.group_by == "isp"
    frame = result.to_pandas()
    assert list(frame.columns) == ["timestamp", "isp", "metric", "field", "value"]
    start, end = result.query.window
    assert frame["timestamp"].min() == pd.Timestamp(start)
    assert frame["timestamp"].max() < pd.Timestamp(end)
    assert set(frame["metric"]) == {"attempts", "plays"}


def test_custom_tag_column_is_named_after_the_tag(api: ConvivaAPI) -> None:
    result = api.get_historical_data("attempts", group_by={"custom-tag": "appVersion"})
    assert result.dimension == "appVersion"
    assert "appVersion" in result.records()[0]


def test_totals_of_a_plain_reply_match_the_sum_of_its_buckets(api: ConvivaAPI) -> None:
    result = api.get_historical_data("attempts", time_range=1)
    [total] = result.totals()
    assert total["metric"] == "attempts"
    assert total["value"] == sum(r["value"] for r in result.records())


def test_real_time_wide_frame_is_indexed_by_minute_and_group(api: ConvivaAPI) -> None:
    frame = api.get_real_time_data("attempts", group_by="device-name").to_pandas(wide=True)
    assert frame.index.names == ["timestamp", "device_name"]
    assert frame["attempts.count"].dtype == "Int64"


def test_metadata_results_are_tables(api: ConvivaAPI) -> None:
    dimensions = api.get_available_dimensions()
    assert isinstance(dimensions, MetadataResult)
    names = dimensions.to_pandas()["name"].tolist()
    assert len(names) > 10
    assert api.get_saved_filters().to_polars().columns == ["id", "name"]
    assert api.get_kpis().records()[0].keys() == {"id", "name"}
