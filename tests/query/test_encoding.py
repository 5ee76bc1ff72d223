"""How `build_metrics_query` encodes calls: path, query multiset, window.

The first table is wire compatibility: every call of the seed README and of pyconviva 0.1.0's
docstrings, with the path and query 0.1.0 sends (API reference §10.1). The second covers every
argument form added since.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx2
import pytest

from pyconviva import MetricsQuery, QueryError, QuerySpec
from pyconviva._query import (
    MAX_REQUEST_LINE,
    build_metrics_query,
    group_by_endpoints_path,
    metadata_path,
)
from pyconviva._rules import HISTORICAL, REAL_TIME, Root

UTC = timezone.utc
NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=UTC)
H = "/insights/3.0/metrics"
RT = "/insights/3.0/real-time-metrics"

Case = tuple[Root, dict[str, Any], str, list[tuple[str, str]]]

SEED_README_DATES = {
    "start_date": "2025-01-01T12:00:00.000Z",
    "end_date": "2025-01-06T12:59:59.000Z",
}

# fmt: off
COMPATIBLE: list[Case] = [
    # seed README
    (HISTORICAL, {"metrics": "attempts", "group_by": "isp", "time_range": 5},
     f"{H}/attempts/group-by/isp", [("days", "5")]),
    (HISTORICAL, {"metrics": "attempts"}, f"{H}/attempts", [("days", "1")]),
    (HISTORICAL, {"metrics": ["attempts", "bitrate"]}, f"{H}/custom-selection",
     [("metric", "attempts"), ("metric", "bitrate"), ("days", "1")]),
    (HISTORICAL, {"metrics": "attempts", "group_by": "isp"}, f"{H}/attempts/group-by/isp",
     [("days", "1")]),
    (HISTORICAL, {"metrics": "attempts", "group_by": {"custom-tag": "appVersion"}},
     f"{H}/attempts/group-by/dimension-tag/appVersion", [("days", "1")]),
    (HISTORICAL, {"metrics": "attempts", "filter_by": {"isp": "Optus"}}, f"{H}/attempts",
     [("days", "1"), ("isp", "Optus")]),
    (HISTORICAL, {"metrics": "attempts", "filter_by": {"isp": ["Optus", "Vodafone"]}},
     f"{H}/attempts", [("days", "1"), ("isp", "Optus"), ("isp", "Vodafone")]),
    (HISTORICAL, {"metrics": ["attempts", "bitrate"], "filter_by": {"filter_id": "180"}},
     f"{H}/custom-selection",
     [("metric", "attempts"), ("metric", "bitrate"), ("days", "1"), ("filter_id", "180")]),
    (REAL_TIME, {"metrics": "attempts", "time_range": 5}, f"{RT}/attempts", [("minutes", "5")]),
    (HISTORICAL, {"metrics": "attempts", "time_range": 5}, f"{H}/attempts", [("days", "5")]),
    (HISTORICAL, {"metrics": "attempts", "time_range": SEED_README_DATES}, f"{H}/attempts",
     [("start_date", "2025-01-01T12:00:00.000Z"), ("end_date", "2025-01-06T12:59:59.000Z")]),
    (HISTORICAL, {"metrics": ["attempts", "bitrate"], "group_by": "isp", "sort_by": "bitrate"},
     f"{H}/custom-selection/group-by/isp",
     [("metric", "attempts"), ("metric", "bitrate"), ("days", "1"), ("sort_by", "bitrate")]),
    (HISTORICAL,
     {"metrics": ["attempts", "bitrate"], "group_by": "isp", "sort_by": ["bitrate", "asc"]},
     f"{H}/custom-selection/group-by/isp",
     [("metric", "attempts"), ("metric", "bitrate"), ("days", "1"), ("sort_by", "bitrate"),
      ("order", "asc")]),
    (HISTORICAL, {"metrics": "attempts", "granularity": "P1W"}, f"{H}/attempts",
     [("days", "1"), ("granularity", "P1W")]),
    # pyconviva 0.1.0 docstrings: get_real_time_data
    (REAL_TIME, {"metrics": "ended-plays", "group_by": "geo-country-code", "time_range": 15},
     f"{RT}/ended-plays/group-by/geo-country-code", [("minutes", "15")]),
    (REAL_TIME, {"metrics": "attempts", "group_by": {"custom-tag": "appVersion"}},
     f"{RT}/attempts/group-by/dimension-tag/appVersion", []),
    (REAL_TIME,
     {"metrics": ["bitrate", "attempts"], "group_by": "device-name",
      "filter_by": {"device_name": "Mac", "isp": ["Optus", "Vodafone"]}, "sort_by": "bitrate"},
     f"{RT}/custom-selection/group-by/device-name",
     [("metric", "bitrate"), ("metric", "attempts"), ("device_name", "Mac"), ("isp", "Optus"),
      ("isp", "Vodafone"), ("sort_by", "bitrate")]),
    # pyconviva 0.1.0 docstrings: get_historical_data
    (HISTORICAL, {"metrics": "ended-plays", "group_by": "geo-country-code", "time_range": 5},
     f"{H}/ended-plays/group-by/geo-country-code", [("days", "5")]),
    (HISTORICAL,
     {"metrics": ["bitrate", "attempts"], "filter_by": {"isp": "Optus"},
      "time_range": SEED_README_DATES},
     f"{H}/custom-selection",
     [("metric", "bitrate"), ("metric", "attempts"), ("start_date", "2025-01-01T12:00:00.000Z"),
      ("end_date", "2025-01-06T12:59:59.000Z"), ("isp", "Optus")]),
    (HISTORICAL, {"metrics": "attempts", "group_by": {"custom-tag": "appVersion"}},
     f"{H}/attempts/group-by/dimension-tag/appVersion", [("days", "1")]),
    (HISTORICAL,
     {"metrics": ["bitrate", "attempts"], "group_by": "device-name",
      "filter_by": {"device_name": "Mac", "isp": ["Optus", "Vodafone"]},
      "sort_by": ["bitrate", "asc"]},
     f"{H}/custom-selection/group-by/device-name",
     [("metric", "bitrate"), ("metric", "attempts"), ("days", "1"), ("device_name", "Mac"),
      ("isp", "Optus"), ("isp", "Vodafone"), ("sort_by", "bitrate"), ("order", "asc")]),
    # API reference §10.1 mapping table
    (HISTORICAL, {"metrics": "attempts", "filter_by": {"kpi_id": 2}}, f"{H}/attempts",
     [("days", "1"), ("kpi_id", "2")]),
    (HISTORICAL,
     {"metrics": ["attempts", "bitrate"], "group_by": "device-name",
      "filter_by": {"isp": "Optus"}, "time_range": 5, "granularity": "PT6H"},
     f"{H}/custom-selection/group-by/device-name",
     [("metric", "attempts"), ("metric", "bitrate"), ("days", "5"), ("isp", "Optus"),
      ("granularity", "PT6H")]),
    (HISTORICAL,
     {"metrics": "attempts", "time_range": {"start_epoch": "1736300000", "end_epoch": 1736400000}},
     f"{H}/attempts", [("start_epoch", "1736300000"), ("end_epoch", "1736400000")]),
    (HISTORICAL, {"metrics": "attempts", "group_by": "isp", "sort_by": ["attempts"]},
     f"{H}/attempts/group-by/isp", [("days", "1"), ("sort_by", "attempts")]),
    (HISTORICAL, {"metrics": "attempts", "filter_by": {"tag_appVersion": "1.2"}},
     f"{H}/attempts", [("days", "1"), ("tag_appVersion", "1.2")]),
]

NORMALISED_AND_NEW: list[Case] = [
    # deliberate normalisations
    (HISTORICAL, {"metrics": "attempts", "filter_by": {"device-name": "Roku"}}, f"{H}/attempts",
     [("days", "1"), ("device_name", "Roku")]),
    (HISTORICAL, {"metrics": "attempts", "group_by": "device_name"},
     f"{H}/attempts/group-by/device-name", [("days", "1")]),
    (HISTORICAL, {"metrics": "video_start_time"}, f"{H}/video-start-time", [("days", "1")]),
    (HISTORICAL, {"metrics": ["video_start_time", "ended_plays"]}, f"{H}/custom-selection",
     [("metric", "video-start-time"), ("metric", "ended-plays"), ("days", "1")]),
    (HISTORICAL, {"metrics": "attempts", "granularity": "pt6h"}, f"{H}/attempts",
     [("days", "1"), ("granularity", "PT6H")]),
    # metric groups are path segments like metrics
    (HISTORICAL, {"metrics": "quality-summary", "group_by": "asn"},
     f"{H}/quality-summary/group-by/asn", [("days", "1")]),
    (HISTORICAL, {"metrics": "audience", "group_by": "isp", "sort_by": "plays"},
     f"{H}/audience/group-by/isp", [("days", "1"), ("sort_by", "plays")]),
    (HISTORICAL, {"metrics": ("attempts", "plays")}, f"{H}/custom-selection",
     [("metric", "attempts"), ("metric", "plays"), ("days", "1")]),
    (HISTORICAL, {"metrics": "plays", "group_by": {"custom-tag": "Content Type"}},
     f"{H}/plays/group-by/dimension-tag/Content%20Type", [("days", "1")]),  # as sent
    # custom-tag filters
    (HISTORICAL, {"metrics": "attempts", "filter_by": {"custom-tag": {"appVersion": "1.2"}}},
     f"{H}/attempts", [("days", "1"), ("tag_appVersion", "1.2")]),
    # the API's own spelling of a tag filter keeps the tag's exact name (no snake_case)
    (HISTORICAL, {"metrics": "attempts", "filter_by": {"tag_app-Version": "1.2"}},
     f"{H}/attempts", [("days", "1"), ("tag_app-Version", "1.2")]),
    # any other character of a tag is percent-encoded into its one path segment
    (HISTORICAL, {"metrics": "plays", "group_by": {"custom-tag": "a|b [v]^x:y@z;é"}},
     f"{H}/plays/group-by/dimension-tag/a%7Cb%20%5Bv%5D%5Ex%3Ay%40z%3B%C3%A9", [("days", "1")]),
    (HISTORICAL, {"metrics": "plays", "group_by": {"custom-tag": "..."}},
     f"{H}/plays/group-by/dimension-tag/...", [("days", "1")]),
    (HISTORICAL,
     {"metrics": "attempts",
      "filter_by": {"isp": "Optus", "custom-tag": {"appVersion": ["1.2", "1.3"], "title": 7}}},
     f"{H}/attempts",
     [("days", "1"), ("isp", "Optus"), ("tag_appVersion", "1.2"), ("tag_appVersion", "1.3"),
      ("tag_title", "7")]),
    (HISTORICAL, {"metrics": "attempts", "filter_by": {"geo_country_code": ("us", "ca")}},
     f"{H}/attempts", [("days", "1"), ("geo_country_code", "us"), ("geo_country_code", "ca")]),
    # limit and kpi_id
    (HISTORICAL, {"metrics": "attempts", "group_by": "isp", "limit": 10, "kpi_id": 2},
     f"{H}/attempts/group-by/isp", [("days", "1"), ("limit", "10"), ("kpi_id", "2")]),
    (HISTORICAL, {"metrics": "attempts", "group_by": "isp", "limit": 500},
     f"{H}/attempts/group-by/isp", [("days", "1"), ("limit", "500")]),
    (REAL_TIME,
     {"metrics": "concurrent-plays", "group_by": "asset", "time_range": 5, "granularity": "PT1M",
      "limit": 500, "sort_by": ("concurrent-plays", "desc")},
     f"{RT}/concurrent-plays/group-by/asset",
     [("minutes", "5"), ("granularity", "PT1M"), ("sort_by", "concurrent-plays"),
      ("order", "desc"), ("limit", "500")]),
    (REAL_TIME,
     {"metrics": ["attempts", "rebuffering-ratio"], "group_by": "player-name",
      "filter_by": {"filter_id": 1234}, "time_range": 2, "granularity": "PT1M"},
     f"{RT}/custom-selection/group-by/player-name",
     [("metric", "attempts"), ("metric", "rebuffering-ratio"), ("minutes", "2"),
      ("filter_id", "1234"), ("granularity", "PT1M")]),
    (HISTORICAL,
     {"metrics": "attempts", "filter_by": {"filter_id": "180"}, "kpi_id": "3"},
     f"{H}/attempts", [("days", "1"), ("filter_id", "180"), ("kpi_id", "3")]),
    (HISTORICAL,
     {"metrics": "attempts", "group_by": "isp", "sort_by": ["attempts", "DESC"]},
     f"{H}/attempts/group-by/isp", [("days", "1"), ("sort_by", "attempts"), ("order", "desc")]),
    # time_range: dict forms
    (HISTORICAL, {"metrics": "attempts", "time_range": {"days": 7}}, f"{H}/attempts",
     [("days", "7")]),
    (REAL_TIME, {"metrics": "attempts", "time_range": {"minutes": "10"}}, f"{RT}/attempts",
     [("minutes", "10")]),
    (HISTORICAL,
     {"metrics": "attempts",
      "time_range": {"start_epoch_ms": 1736300000000, "end_epoch_ms": "1736400000000"}},
     f"{H}/attempts",
     [("start_epoch_ms", "1736300000000"), ("end_epoch_ms", "1736400000000")]),
    (HISTORICAL,
     {"metrics": "attempts",
      "time_range": {"start_date": date(2025, 1, 1), "end_date": datetime(2025, 1, 2, 6)}},
     f"{H}/attempts",
     [("start_date", "2025-01-01T00:00:00Z"), ("end_date", "2025-01-02T06:00:00Z")]),
    (REAL_TIME,
     {"metrics": "attempts",
      "time_range": {"start_date": "2025-01-10T12:25:00Z", "end_date": "2025-01-10T12:40:00Z"}},
     f"{RT}/attempts",
     [("start_date", "2025-01-10T12:25:00Z"), ("end_date", "2025-01-10T12:40:00Z")]),
    # time_range: timedelta
    (HISTORICAL, {"metrics": "attempts", "time_range": timedelta(days=3)}, f"{H}/attempts",
     [("days", "3")]),
    (HISTORICAL, {"metrics": "attempts", "time_range": timedelta(hours=6)}, f"{H}/attempts",
     [("start_date", "2025-01-10T06:00:00Z"), ("end_date", "2025-01-10T12:00:00Z")]),
    (REAL_TIME, {"metrics": "attempts", "time_range": timedelta(minutes=10)}, f"{RT}/attempts",
     [("minutes", "10")]),
    (REAL_TIME, {"metrics": "attempts", "time_range": timedelta(seconds=90)}, f"{RT}/attempts",
     [("start_date", "2025-01-10T12:33:30Z"), ("end_date", "2025-01-10T12:35:00Z")]),
    # time_range: (start, end) pairs
    (HISTORICAL,
     {"metrics": "attempts",
      "time_range": (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 5, tzinfo=UTC))},
     f"{H}/attempts",
     [("start_date", "2025-01-01T00:00:00Z"), ("end_date", "2025-01-05T00:00:00Z")]),
    (HISTORICAL,
     {"metrics": "attempts", "time_range": (date(2025, 1, 1), "2025-01-05T10:00:00+02:00")},
     f"{H}/attempts",
     [("start_date", "2025-01-01T00:00:00Z"), ("end_date", "2025-01-05T08:00:00Z")]),
    (HISTORICAL,
     {"metrics": "attempts",
      "time_range": [
          datetime(2025, 1, 1, 9, tzinfo=timezone(timedelta(hours=9))),
          datetime(2025, 1, 2),  # naive: taken as UTC
      ]},
     f"{H}/attempts",
     [("start_date", "2025-01-01T00:00:00Z"), ("end_date", "2025-01-02T00:00:00Z")]),
    (HISTORICAL,
     {"metrics": "attempts", "time_range": ("2025-01-01T12:00:00.000Z", "2025-01-06")},
     f"{H}/attempts",
     [("start_date", "2025-01-01T12:00:00Z"), ("end_date", "2025-01-06T00:00:00Z")]),
]
# fmt: on


def encode(root: Root, kwargs: dict[str, Any]) -> MetricsQuery:
    return build_metrics_query(QuerySpec(root, **kwargs), now=NOW)


@pytest.mark.parametrize(("root", "kwargs", "path", "query"), COMPATIBLE)
def test_calls_of_the_seed_readme_and_0_1_0_docstrings_send_what_0_1_0_sent(
    root: Root, kwargs: dict[str, Any], path: str, query: list[tuple[str, str]]
) -> None:
    q = encode(root, kwargs)
    assert q.path == path
    assert sorted(q.params) == sorted(query)


@pytest.mark.parametrize(("root", "kwargs", "path", "query"), NORMALISED_AND_NEW)
def test_normalised_and_new_argument_forms_encode_as_documented(
    root: Root, kwargs: dict[str, Any], path: str, query: list[tuple[str, str]]
) -> None:
    q = encode(root, kwargs)
    assert q.path == path
    assert sorted(q.params) == sorted(query)


def test_parameter_order_is_metric_time_filters_granularity_sort_limit_kpi() -> None:
    q = encode(
        HISTORICAL,
        {
            "metrics": ["attempts", "plays"],
            "group_by": "isp",
            "filter_by": {"device_name": "Roku", "kpi_id": 2},
            "time_range": 1,
            "sort_by": ["plays", "asc"],
            "granularity": "PT1H",
            "limit": 20,
        },
    )
    assert [key for key, _ in q.params] == [
        "metric", "metric", "days", "device_name", "granularity", "sort_by", "order", "limit",
        "kpi_id",
    ]  # fmt: skip


# --- what else the query carries -------------------------------------------------------------


def test_query_records_root_metrics_group_by_granularity_and_limit() -> None:
    q = encode(
        HISTORICAL,
        {"metrics": ["attempts", "ended_plays"], "group_by": "device_name", "limit": 60},
    )
    assert q.root == HISTORICAL
    assert q.metrics == ("attempts", "ended-plays")
    assert (q.group_by, q.group_by_tag) == ("device-name", None)
    assert q.granularity == "PT1H"  # the root's default when none is given
    assert q.limit == 60
    tagged = encode(REAL_TIME, {"metrics": "plays", "group_by": {"custom-tag": "appVersion"}})
    assert (tagged.group_by, tagged.group_by_tag) == (None, "appVersion")
    assert tagged.granularity == "PT1M"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("root", "time_range", "start", "end"),
    [
        (HISTORICAL, None, "2025-01-09T12:00:00Z", "2025-01-10T12:00:00Z"),
        (HISTORICAL, 5, "2025-01-05T12:00:00Z", "2025-01-10T12:00:00Z"),
        (HISTORICAL, {"days": "2"}, "2025-01-08T12:00:00Z", "2025-01-10T12:00:00Z"),
        (HISTORICAL, SEED_README_DATES, "2025-01-01T12:00:00Z", "2025-01-06T12:59:59Z"),
        (HISTORICAL, {"start_epoch": 1736300000, "end_epoch": 1736400000},
         "2025-01-08T01:33:20Z", "2025-01-09T05:20:00Z"),
        (HISTORICAL, {"start_epoch_ms": 1736300000123, "end_epoch_ms": 1736400000000},
         "2025-01-08T01:33:20.123Z", "2025-01-09T05:20:00Z"),
        (HISTORICAL, timedelta(hours=6), "2025-01-10T06:00:00Z", "2025-01-10T12:00:00Z"),
        (HISTORICAL, (datetime(2025, 1, 1, 0, 0, 0, 700_000), "2025-01-02"),
         "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"),  # whole seconds, as sent
        (REAL_TIME, None, "2025-01-10T12:30:00Z", "2025-01-10T12:35:00Z"),
        (REAL_TIME, 15, "2025-01-10T12:20:00Z", "2025-01-10T12:35:00Z"),
        (REAL_TIME, timedelta(seconds=90), "2025-01-10T12:33:30Z", "2025-01-10T12:35:00Z"),
    ],
)  # fmt: skip
def test_window_is_the_range_the_api_will_read(
    root: Root, time_range: object, start: str, end: str
) -> None:
    q = encode(root, {"metrics": "attempts", "time_range": time_range})
    assert q.window == (at(start), at(end))
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in q.window)


def test_window_is_not_snapped_to_the_granularity() -> None:
    q = encode(
        HISTORICAL,
        {"metrics": "attempts", "time_range": ("2025-01-01T04:10:00Z", "2025-01-02T03:45:00Z")},
    )
    assert q.window == (at("2025-01-01T04:10:00Z"), at("2025-01-02T03:45:00Z"))


def test_with_window_replaces_the_time_params_in_place() -> None:
    q = encode(
        HISTORICAL,
        {"metrics": ["attempts", "plays"], "filter_by": {"isp": "Optus"}, "time_range": 5},
    )
    moved = q.with_window(datetime(2025, 1, 2, 3), datetime(2025, 1, 3, 3, 0, 0, 999))
    assert moved.params == (
        ("metric", "attempts"),
        ("metric", "plays"),
        ("start_date", "2025-01-02T03:00:00Z"),
        ("end_date", "2025-01-03T03:00:00Z"),
        ("isp", "Optus"),
    )
    assert moved.window == (at("2025-01-02T03:00:00Z"), at("2025-01-03T03:00:00Z"))
    assert (moved.path, moved.metrics, moved.granularity) == (q.path, q.metrics, q.granularity)


def test_with_window_adds_a_range_to_a_real_time_query_that_had_none() -> None:
    q = encode(REAL_TIME, {"metrics": "attempts", "granularity": "PT30S"})
    moved = q.with_window(at("2025-01-10T12:30:00Z"), at("2025-01-10T12:35:00Z"))
    assert moved.params == (
        ("start_date", "2025-01-10T12:30:00Z"),
        ("end_date", "2025-01-10T12:35:00Z"),
        ("granularity", "PT30S"),
    )


def test_describe_names_root_metrics_group_by_window_and_granularity() -> None:
    q = encode(
        HISTORICAL,
        {"metrics": ["attempts", "bitrate"], "group_by": "isp", "granularity": "P1D",
         "limit": 100, "time_range": 1},
    )  # fmt: skip
    assert q.describe() == (
        "historical attempts, bitrate by isp, 2025-01-09T12:00:00Z..2025-01-10T12:00:00Z, "
        "P1D, limit 100"
    )
    tagged = encode(REAL_TIME, {"metrics": "plays", "group_by": {"custom-tag": "appVersion"}})
    assert tagged.describe() == (
        "real-time plays by custom tag appVersion, 2025-01-10T12:30:00Z..2025-01-10T12:35:00Z, PT1M"
    )


def test_check_limits_false_lets_a_long_range_through_for_splitting() -> None:
    q = build_metrics_query(
        QuerySpec(HISTORICAL, "attempts", time_range=200), now=NOW, check_limits=False
    )
    assert q.params == (("days", "200"),)
    assert q.window[1] - q.window[0] == timedelta(days=200)


# --- metadata paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("endpoints", "/insights/3.0/metrics"),
        ("dimensions", "/insights/3.0/metrics/_meta/references/dimensions"),
        ("filters", "/insights/3.0/metrics/_meta/references/filters"),
        ("kpis", "/insights/3.0/kpis"),
    ],
)
def test_metadata_paths_are_those_0_1_0_called(kind: Any, path: str) -> None:
    assert metadata_path(kind) == path


def test_group_by_endpoints_paths() -> None:
    assert group_by_endpoints_path("audience") == "/insights/3.0/metrics/audience/group-by"
    assert (
        group_by_endpoints_path("quality-summary", dimension_tag_only=True)
        == "/insights/3.0/metrics/quality-summary/group-by/dimension-tag"
    )


# --- the request line --------------------------------------------------------------------------


def request_line(query: MetricsQuery) -> int:
    """The length of the request line the URL layer writes for ``query``."""
    url = httpx2.URL("https://api.conviva.com" + query.path, params=list(query.params))
    return len(b"GET " + url.raw_path + b" HTTP/1.1")


def filtered(value: str) -> QuerySpec:
    return QuerySpec(HISTORICAL, "attempts", filter_by={"isp": value}, time_range=1)


def test_the_longest_accepted_request_and_each_of_its_windows_fit_the_request_line_cap() -> None:
    low, high = 1, MAX_REQUEST_LINE  # the longest filter value accepted, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        try:
            build_metrics_query(filtered("é" * middle), now=NOW)
        except QueryError:
            high = middle - 1
        else:
            low = middle
    longest = build_metrics_query(filtered("é" * low), now=NOW)
    window = longest.with_window(*longest.window)  # a split window sends a start/end pair
    assert request_line(longest) <= request_line(window) <= MAX_REQUEST_LINE
    assert request_line(window) > MAX_REQUEST_LINE - 6  # one more "é" (%C3%A9) would not fit
    with pytest.raises(QueryError, match="8,000"):
        build_metrics_query(filtered("é" * (low + 1)), now=NOW)
