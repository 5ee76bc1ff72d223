"""Tidy records of every reply shape (API reference §4.4), pinned exactly, and odd replies."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva import MetricsResult, QuerySpec
from pyconviva._query import build_metrics_query
from tests.helpers import (
    CUSTOM_TAG,
    EMPTY,
    GROUPED,
    HOUR,
    MINUTE,
    MULTI,
    PLAIN,
    REAL_TIME,
    T0,
    UTC,
    at,
    result_of,
    row,
    stamp,
)


def test_plain_reply_gives_one_record_per_field_per_bucket() -> None:
    assert result_of(PLAIN).records() == [
        {"timestamp": at(4), "metric": "ended_plays", "field": "count", "value": 1520},
        {"timestamp": at(4), "metric": "ended_plays", "field": "per_unique_device", "value": 1.42},
        {"timestamp": at(5), "metric": "ended_plays", "field": "count", "value": 1388},
        {"timestamp": at(5), "metric": "ended_plays", "field": "per_unique_device", "value": 1.37},
    ]


def test_multi_metric_records_keep_reply_order_of_metrics_and_fields() -> None:
    assert result_of(MULTI).records() == [
        {"timestamp": at(4), "metric": "attempts", "field": "count", "value": 1700},
        {"timestamp": at(4), "metric": "bitrate", "field": "bps", "value": 4125000.0},
        {"timestamp": at(4), "metric": "plays", "field": "count", "value": 1610},
        {"timestamp": at(4), "metric": "plays", "field": "percentage", "value": 94.7},
    ]


def test_group_by_records_name_the_column_after_the_snake_dimension_key() -> None:
    result = result_of(GROUPED)
    assert result.dimension == "device_name"
    assert result.records() == [
        {"timestamp": at(4), "device_name": "Roku", "metric": "attempts", "field": "count",
         "value": 812},
        {"timestamp": at(4), "device_name": "Apple TV", "metric": "attempts", "field": "count",
         "value": 403},
        {"timestamp": at(5), "device_name": "Roku", "metric": "attempts", "field": "count",
         "value": 790},
        {"timestamp": at(5), "device_name": "Apple TV", "metric": "attempts", "field": "count",
         "value": 420},
    ]  # fmt: skip


def test_custom_tag_records_name_the_column_after_the_tag_from_the_query() -> None:
    reply = json.loads(json.dumps(CUSTOM_TAG))
    for item in reply["time_series"][0]["dimensional_data"]:
        item["dimension"]["key"] = "tag_appVersion"  # whatever the server calls it
    query = build_metrics_query(
        QuerySpec("metrics", "unique-devices", group_by={"custom-tag": "appVersion"}, time_range=1),
        now=datetime(2022, 1, 2, tzinfo=UTC),
    )
    result = result_of(reply, query=query)
    assert result.query is query
    assert result.records() == [
        {"timestamp": at(4), "appVersion": "1.2", "metric": "unique_devices", "field": "count",
         "value": 50},
        {"timestamp": at(4), "appVersion": "1.3", "metric": "unique_devices", "field": "count",
         "value": 70},
    ]  # fmt: skip


def test_custom_tag_without_query_uses_the_dimension_key_of_the_rows() -> None:
    assert result_of(CUSTOM_TAG).dimension == "appVersion"


def test_custom_tag_named_like_a_tidy_column_gets_a_suffix() -> None:
    reply = json.loads(json.dumps(CUSTOM_TAG))
    for item in reply["time_series"][0]["dimensional_data"]:
        item["dimension"]["key"] = "value"
    result = result_of(reply)
    assert result.dimension == "value_dimension"
    assert result.records()[0]["value_dimension"] == "1.2"
    assert list(result.to_polars().columns) == list(result.to_pandas().columns)


def test_real_time_reply_with_an_empty_latest_bucket_gives_records_of_the_full_bucket() -> None:
    result = result_of(REAL_TIME)
    assert result.records() == [
        {"timestamp": at(4, 58), "player_name": "MyApp_Roku", "metric": "attempts",
         "field": "count", "value": 57},
        {"timestamp": at(4, 58), "player_name": "MyApp_Roku", "metric": "rebuffering_ratio",
         "field": "ratio", "value": 0.41},
        {"timestamp": at(4, 58), "player_name": "MyApp_Roku", "metric": "video_start_time",
         "field": "value", "value": 2.31},
    ]  # fmt: skip
    assert not result.is_partial  # an empty latest bucket is normal, not missing data


def test_real_time_plain_bucket_without_metrics_gives_no_records() -> None:
    reply = {
        "time_series": [
            {"timestamp": stamp(T0), "attempts": {"count": 9}},
            {"timestamp": stamp(T0 + MINUTE)},
        ]
    }
    assert result_of(reply).records() == [
        {"timestamp": at(4), "metric": "attempts", "field": "count", "value": 9}
    ]


def test_empty_reply_gives_no_records_and_no_totals() -> None:
    result = result_of(EMPTY)
    assert result.records() == []
    assert result.totals() == []
    assert not result.is_partial


def test_grouped_query_with_no_rows_is_still_grouped() -> None:
    query = build_metrics_query(
        QuerySpec("metrics", "attempts", group_by="isp", time_range=1),
        now=datetime(2022, 1, 2, tzinfo=UTC),
    )
    result = result_of(EMPTY, query=query)
    assert result.dimension == "isp"
    assert list(result.to_pandas().columns) == ["timestamp", "isp", "metric", "field", "value"]


def test_totals_are_tidy_rows_of_the_total_block() -> None:
    assert result_of(MULTI).totals() == [
        {"metric": "attempts", "field": "count", "value": 1700},
        {"metric": "bitrate", "field": "bps", "value": 4125000.0},
        {"metric": "plays", "field": "count", "value": 1610},
        {"metric": "plays", "field": "percentage", "value": 94.7},
    ]


def test_reply_without_total_block_says_so_in_repr_and_gives_empty_totals() -> None:
    result = result_of({"time_series": PLAIN["time_series"]})
    assert result.totals() == []
    assert "totals: none in the reply" in repr(result)


def test_null_value_objects_and_nan_are_skipped_and_noted() -> None:
    body = (
        b'{"time_series": [{"timestamp": {"epoch_ms": 1641009600000}, "dimensional_data": ['
        b'{"dimension": {"key": "isp", "value": "A"}, "metrics": {"attempts": null,'
        b' "plays": {"count": 3, "percentage": NaN}}},'
        b'{"dimension": {"key": "isp", "value": "B"}, "metrics": {"attempts": {"count": 7},'
        b' "plays": {"count": 4, "percentage": 50.0}}},'
        b'{"dimension": {"value": null}, "metrics": {"attempts": {"count": 1}}}]}],'
        b' "total": {"attempts": {"count": "many"}}}'
    )
    result = MetricsResult.from_bytes(body)
    assert result.records() == [
        {"timestamp": at(4), "isp": "A", "metric": "plays", "field": "count", "value": 3},
        # within a row, series come in order of first appearance of a usable value
        {"timestamp": at(4), "isp": "B", "metric": "plays", "field": "count", "value": 4},
        {"timestamp": at(4), "isp": "B", "metric": "attempts", "field": "count", "value": 7},
        {"timestamp": at(4), "isp": "B", "metric": "plays", "field": "percentage", "value": 50.0},
    ]
    assert result.is_partial
    assert result.notes == (
        "skipped 1 metric values that are not objects (e.g. null) "
        "(first at 2022-01-01T04:00:00Z A attempts)",
        "skipped 1 values that are not finite numbers "
        "(first at 2022-01-01T04:00:00Z A plays.percentage)",
        "skipped 1 group-by rows without a dimension value (first at 2022-01-01T04:00:00Z)",
        "skipped 1 `total` values that are not finite numbers (first at total attempts.count)",
    )
    assert result.totals() == []


def test_notes_given_by_the_caller_come_first_and_mark_the_result_partial() -> None:
    result = MetricsResult(PLAIN, notes=("window 2 of 3 failed",))
    assert result.notes == ("window 2 of 3 failed",)
    assert result.is_partial


# ---- the fast path and the careful path agree ---------------------------------------------------

numbers = st.one_of(
    st.integers(min_value=0, max_value=10**12),
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
)
odd_values = st.one_of(st.none(), st.just("n/a"), st.just(math.nan), st.just(math.inf))


@st.composite
def grouped_replies(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A group-by reply, and whether an odd item was planted in it."""
    metrics = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["attempts", "plays", "bitrate", "video_start_time"]),
                st.lists(st.sampled_from(["count", "percentage", "bps", "value"]), min_size=1,
                         max_size=3, unique=True),
            ),
            min_size=1, max_size=3, unique_by=lambda pair: pair[0],
        )
    )  # fmt: skip
    groups = draw(st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4, unique=True))
    buckets = []
    for b in range(draw(st.integers(min_value=0, max_value=4))):
        rows = [
            row("isp", g, **{m: {f: draw(numbers) for f in fields} for m, fields in metrics})
            for g in groups
        ]
        buckets.append({"timestamp": stamp(T0 + b * HOUR), "dimensional_data": rows})
    planted = False
    if buckets and draw(st.booleans()):
        metric, fields = metrics[0]
        target = buckets[-1]["dimensional_data"][-1]["metrics"][metric]
        target[fields[0]] = draw(odd_values)
        planted = True
    return {"time_series": buckets, "total": {}}, planted


def reference_records(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """The obvious nested loop, skipping what is not a finite number."""
    out = []
    for bucket in reply["time_series"]:
        when = datetime.fromtimestamp(bucket["timestamp"]["epoch_ms"] / 1000, UTC)
        for item in bucket["dimensional_data"]:
            for metric, fields in item["metrics"].items():
                for field, value in fields.items():
                    if type(value) in (int, float) and math.isfinite(value):
                        out.append(
                            {"timestamp": when, "isp": item["dimension"]["value"],
                             "metric": metric, "field": field, "value": value}
                        )  # fmt: skip
    return out


@settings(max_examples=60, deadline=None)
@given(grouped_replies())
def test_records_match_a_plain_nested_loop_for_regular_and_odd_replies(
    case: tuple[dict[str, Any], bool],
) -> None:
    reply, planted = case
    result = MetricsResult(reply)
    assert result.records() == reference_records(reply)
    assert result.is_partial == planted
    frame = result.to_pandas()
    assert len(frame) == len(result.records())


@st.composite
def plain_replies(draw: st.DrawFn) -> dict[str, Any]:
    """An ungrouped reply whose buckets may lack some metrics (as the newest real-time one may)."""
    names = ["attempts", "plays", "bitrate"]
    buckets = []
    for b in range(draw(st.integers(min_value=0, max_value=5))):
        present = draw(st.lists(st.sampled_from(names), unique=True, max_size=3))
        bucket: dict[str, Any] = {"timestamp": stamp(T0 + b * MINUTE)}
        bucket.update({name: {"count": draw(numbers)} for name in present})
        buckets.append(bucket)
    return {"time_series": buckets}


def reference_plain_records(reply: dict[str, Any]) -> list[tuple[datetime, str, Any]]:
    return sorted(
        (
            datetime.fromtimestamp(bucket["timestamp"]["epoch_ms"] / 1000, UTC),
            metric,
            fields["count"],
        )
        for bucket in reply["time_series"]
        for metric, fields in bucket.items()
        if metric != "timestamp"
    )


@settings(max_examples=60, deadline=None)
@given(plain_replies())
def test_plain_records_match_a_nested_loop_when_buckets_lack_metrics(reply: dict[str, Any]) -> None:
    result = MetricsResult(reply)
    found = sorted((r["timestamp"], r["metric"], r["value"]) for r in result.records())
    assert found == reference_plain_records(reply)
    assert not result.is_partial
    assert len(result.to_pandas()) == len(found) == result.to_polars().height
