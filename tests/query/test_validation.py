"""Every validation rule of `build_metrics_query`: a QueryError (also a ValueError) raised before
any I/O, whose message names the argument, the bad value and the fix."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pyconviva import QueryError, QuerySpec
from pyconviva._query import build_metrics_query, group_by_endpoints_path, metadata_path
from pyconviva._rules import HISTORICAL, REAL_TIME, Root

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)
TWELVE = [f"metric-{n}" for n in range(12)]

# (rule, root, arguments, argument named, text that must appear in the message)
RULES: list[tuple[str, Root, dict[str, Any], str, list[str]]] = [
    ("no metrics", HISTORICAL, {"metrics": None}, "metrics", ["metrics=None"]),
    ("empty metric name", HISTORICAL, {"metrics": ""}, "metrics", ["metrics=''"]),
    ("empty metric list", HISTORICAL, {"metrics": []}, "metrics", ["metrics=[]", "is empty"]),
    ("metrics of the wrong type", HISTORICAL, {"metrics": 5}, "metrics", ["metrics=5"]),
    ("non-string metric", HISTORICAL, {"metrics": ["attempts", 7]}, "metrics", ["7"]),
    ("metric name unusable in a path", HISTORICAL, {"metrics": "attempts/../x"}, "metrics",
     ["'attempts/../x'"]),
    ("more than 12 metrics", HISTORICAL, {"metrics": [*TWELVE, "one-more"]}, "metrics",
     ["13 metrics", "maximum of 12", "split them"]),
    ("duplicate metrics after normalisation", HISTORICAL,
     {"metrics": ["ended_plays", "ended-plays"]}, "metrics", ["'ended-plays' twice"]),
    ("group_by dict without 'custom-tag'", HISTORICAL,
     {"metrics": "attempts", "group_by": {"tag": "appVersion"}}, "group_by",
     ["{'tag': 'appVersion'}", "exactly the key 'custom-tag'"]),
    ("group_by dict with extra keys", HISTORICAL,
     {"metrics": "attempts", "group_by": {"custom-tag": "appVersion", "isp": "x"}}, "group_by",
     ["'isp': 'x'", "exactly the key 'custom-tag'"]),
    ("group_by with an empty tag", HISTORICAL,
     {"metrics": "attempts", "group_by": {"custom-tag": ""}}, "group_by",
     ["group_by['custom-tag']=''"]),
    ("custom tag with a URL delimiter", HISTORICAL,
     {"metrics": "attempts", "group_by": {"custom-tag": "app/Version"}}, "group_by",
     ["group_by['custom-tag']='app/Version'", "no '/'"]),
    *[
        (f"custom tag {shown}", HISTORICAL,
         {"metrics": "attempts", "group_by": {"custom-tag": tag}}, "group_by",
         [f"group_by['custom-tag']={tag!r} is not a usable tag (one path segment"])
        for shown, tag in [
            ("'..'", ".."), ("'.'", "."), ("with a backslash", "..\\x"), ("with '%'", "a%2Fb"),
            ("with '#'", "a#b"), ("with a control character", "a\x01b"), ("with a tab", "a\tb"),
            ("with DEL", "a\x7fb"), ("with a bidi override", "a\u202eb"),
            ("with a zero-width space", "a\u200bb"), ("with a line separator", "a\u2028b"),
            ("with a lone surrogate", "a\ud800"), ("with a trailing space", "a "),
        ]
    ],
    ("custom-tag filter named '..'", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"custom-tag": {"..": "1"}}}, "filter_by",
     ["filter_by['custom-tag'] key='..' is not a usable tag"]),
    ("tag_ filter key with a control character", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"tag_a\x00": "1"}}, "filter_by",
     ["'tag_a\\x00' is not a dimension name"]),
    ("custom-tag filter name with a URL delimiter", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"custom-tag": {"a?b": "1"}}}, "filter_by",
     ["'a?b'"]),
    ("unknown root", "metrics-v2", {"metrics": "attempts"}, "root",  # type: ignore[list-item]
     ["root='metrics-v2'", "'real-time-metrics'"]),
    ("group_by of the wrong type", HISTORICAL, {"metrics": "attempts", "group_by": ["isp"]},
     "group_by", ["group_by=['isp']"]),
    ("empty group_by name", HISTORICAL, {"metrics": "attempts", "group_by": ""}, "group_by",
     ["group_by=''"]),
    ("sort without group-by", HISTORICAL, {"metrics": "attempts", "sort_by": "attempts"},
     "sort_by", ["sort_by='attempts'", "needs group_by"]),
    ("sort order not asc/desc", HISTORICAL,
     {"metrics": "attempts", "group_by": "isp", "sort_by": ["attempts", "up"]}, "sort_by",
     ["'up'", "'asc' or 'desc'"]),
    ("sort_by of the wrong shape", HISTORICAL,
     {"metrics": "attempts", "group_by": "isp", "sort_by": ["attempts", "asc", "x"]}, "sort_by",
     ["['attempts', 'asc', 'x']"]),
    ("sort_by metric not requested", HISTORICAL,
     {"metrics": ["attempts", "plays"], "group_by": "isp", "sort_by": "bitrate"}, "sort_by",
     ["'bitrate'", "not among the requested metrics", "['attempts', 'plays']"]),
    ("filter_by not a dict", HISTORICAL, {"metrics": "attempts", "filter_by": "isp=Optus"},
     "filter_by", ["filter_by='isp=Optus'"]),
    ("filter_id mixed with dimension filters", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"filter_id": "180", "isp": "Optus"}}, "filter_by",
     ["'filter_id': '180'", "one or the other"]),
    ("filter_id mixed with custom-tag filters", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"filter_id": 180, "custom-tag": {"a": "1"}}},
     "filter_by", ["'filter_id': 180", "one or the other"]),
    ("filter_id that is not an id", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"filter_id": ["1", "2"]}}, "filter_by",
     ["['1', '2']", "saved-filter id"]),
    ("empty filter value list", HISTORICAL, {"metrics": "attempts", "filter_by": {"isp": []}},
     "filter_by", ["filter_by['isp']=[]", "empty list"]),
    ("non-string filter value", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"isp": ["Optus", 1.5]}}, "filter_by",
     ["filter_by['isp']=['Optus', 1.5]", "1.5"]),
    ("boolean filter value", HISTORICAL, {"metrics": "attempts", "filter_by": {"isp": True}},
     "filter_by", ["filter_by['isp']=True"]),
    ("custom-tag filter not a dict", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"custom-tag": "appVersion"}}, "filter_by",
     ["'appVersion'", "{'custom-tag': {'appVersion': '1.2'}}"]),
    ("empty custom-tag filter value list", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"custom-tag": {"appVersion": []}}}, "filter_by",
     ["filter_by['custom-tag']['appVersion']=[]"]),
    ("historical days below 1", HISTORICAL, {"metrics": "attempts", "time_range": 0},
     "time_range", ["time_range=0", "1 to 90"]),
    ("historical days above 90", HISTORICAL, {"metrics": "attempts", "time_range": 100},
     "time_range", ["time_range=100", "(sent as days=100)",
                    "100 days, 10 days more than the 90 days allowed"]),
    ("negative days", HISTORICAL, {"metrics": "attempts", "time_range": -3}, "time_range",
     ["time_range=-3 must be a positive whole number", "1 to 90"]),
    ("boolean time range", HISTORICAL, {"metrics": "attempts", "time_range": True},
     "time_range", ["time_range=True"]),
    ("time range of the wrong type", HISTORICAL, {"metrics": "attempts", "time_range": "5d"},
     "time_range", ["time_range='5d'"]),
    ("date range over 90 days", HISTORICAL,
     {"metrics": "attempts", "time_range": ("2024-09-01", "2025-01-01")}, "time_range",
     ["'2024-09-01'", "more than the 90 days allowed", "bulk splitting"]),
    ("start more than 13 months ago", HISTORICAL,
     {"metrics": "attempts", "time_range": {"start_date": "2023-12-01", "end_date": "2024-01-01"}},
     "time_range", ["'2023-12-01'", "13 months"]),
    ("start not before end", HISTORICAL,
     {"metrics": "attempts", "time_range": ("2025-01-05", "2025-01-01")}, "time_range",
     ["'2025-01-05'", "start must be before the end"]),
    ("unparsable date", HISTORICAL,
     {"metrics": "attempts", "time_range": {"start_date": "yesterday", "end_date": "today"}},
     "time_range", ["time_range['start_date']='yesterday'", "ISO 8601"]),
    ("unknown time_range keys", HISTORICAL,
     {"metrics": "attempts", "time_range": {"from": "2025-01-01", "to": "2025-01-02"}},
     "time_range", ["'from'", "unknown keys"]),
    ("empty time_range dict", HISTORICAL, {"metrics": "attempts", "time_range": {}},
     "time_range", ["time_range={}", "is empty"]),
    ("mixed pair styles", HISTORICAL,
     {"metrics": "attempts",
      "time_range": {"start_date": "2025-01-01", "end_epoch": 1736400000}},
     "time_range", ["'end_epoch': 1736400000", "mixes range styles"]),
    ("days together with a pair", HISTORICAL,
     {"metrics": "attempts",
      "time_range": {"days": 2, "start_date": "2025-01-01", "end_date": "2025-01-02"}},
     "time_range", ["'days': 2", "mixes range styles"]),
    ("half a pair", HISTORICAL,
     {"metrics": "attempts", "time_range": {"start_epoch_ms": 1736300000000}}, "time_range",
     ["1736300000000", "only half of the pair start_epoch_ms/end_epoch_ms"]),
    ("negative epoch", HISTORICAL,
     {"metrics": "attempts", "time_range": {"start_epoch": -5, "end_epoch": 10}}, "time_range",
     ["time_range['start_epoch']=-5", "whole Unix seconds"]),
    ("epoch beyond the calendar", HISTORICAL,
     {"metrics": "attempts",
      "time_range": {"start_epoch_ms": 0, "end_epoch_ms": "9" * 30}}, "time_range",
     ["'999999999999999999999999999999'", "out of range for Unix milliseconds"]),
    ("non-positive timedelta", HISTORICAL,
     {"metrics": "attempts", "time_range": timedelta(0)}, "time_range", ["timedelta(0)"]),
    ("real-time minutes below 1", REAL_TIME, {"metrics": "attempts", "time_range": 0},
     "time_range", ["time_range=0", "1 to 15"]),
    ("real-time minutes above 15", REAL_TIME, {"metrics": "attempts", "time_range": 16},
     "time_range", ["time_range=16", "(sent as minutes=16)", "more than the 15 minutes allowed"]),
    ("days on real-time", REAL_TIME, {"metrics": "attempts", "time_range": {"days": 1}},
     "time_range", ["{'days': 1}", "'days' is not supported by the real-time endpoints"]),
    ("minutes on historical", HISTORICAL,
     {"metrics": "attempts", "time_range": {"minutes": 5}}, "time_range",
     ["{'minutes': 5}", "'minutes' is not supported by the historical endpoints"]),
    ("real-time start more than 15 minutes ago", REAL_TIME,
     {"metrics": "attempts",
      "time_range": ("2025-01-10T12:10:00Z", "2025-01-10T12:20:00Z")},
     "time_range", ["'2025-01-10T12:10:00Z'", "earliest allowed start"]),
    ("granularity not valid for historical", HISTORICAL,
     {"metrics": "attempts", "granularity": "PT7M"}, "granularity",
     ["'PT7M'", "PT1H..PT23H, P1D..P30D, P1W..P10W or ALL"]),
    ("granularity not valid for real-time", REAL_TIME,
     {"metrics": "attempts", "granularity": "PT1H"}, "granularity",
     ["'PT1H'", "PT10S..PT59S, PT1M or ALL"]),
    ("granularity of the wrong type", HISTORICAL, {"metrics": "attempts", "granularity": 3600},
     "granularity", ["granularity=3600"]),
    ("minutely group-by range over its cap", HISTORICAL,
     {"metrics": "attempts", "group_by": "isp", "granularity": "PT5M", "time_range": 1},
     "time_range", ["19 hours more than the 5 hours allowed",
                    "for minutely granularity PT5M with group-by"]),
    ("limit above 50 over more than 24 hours", HISTORICAL,
     {"metrics": "attempts", "group_by": "isp", "limit": 100, "time_range": 2}, "time_range",
     ["limit=100", "2 days, 24 hours more than the 24 hours allowed"]),
    ("limit below 1", HISTORICAL, {"metrics": "attempts", "group_by": "isp", "limit": 0},
     "limit", ["limit=0", "1 to 500"]),
    ("limit above 500", HISTORICAL, {"metrics": "attempts", "group_by": "isp", "limit": 501},
     "limit", ["limit=501", "1 to 500"]),
    ("boolean limit", HISTORICAL, {"metrics": "attempts", "group_by": "isp", "limit": True},
     "limit", ["limit=True"]),
    ("limit without group-by", HISTORICAL, {"metrics": "attempts", "limit": 10}, "limit",
     ["limit=10", "needs group_by"]),
    ("negative kpi_id", HISTORICAL, {"metrics": "attempts", "kpi_id": -1}, "kpi_id",
     ["kpi_id=-1 must be a positive whole number"]),
    ("kpi_id 0", HISTORICAL, {"metrics": "attempts", "kpi_id": "0"}, "kpi_id",
     ["kpi_id='0' must be a positive whole number"]),
    ("negative kpi_id of 5000 digits", HISTORICAL, {"metrics": "attempts", "kpi_id": -(10**5000)},
     "kpi_id", ["kpi_id=<a negative number of about 5001 digits> must be a positive"]),
    ("negative saved-filter id of 5000 digits", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"filter_id": -(10**5000)}}, "filter_by",
     ["<a negative number of about 5001 digits> must be a positive whole number"]),
    ("limit of 5000 digits", HISTORICAL,
     {"metrics": "attempts", "group_by": "isp", "limit": 10**5000}, "limit",
     ["limit=<a number of about 5001 digits>", "1 to 500"]),
    ("filter value of 5000 digits", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"isp": 10**5000}}, "filter_by",
     ["<a number of about 5001 digits>, beyond the 64-bit range"]),
    ("filter value with a lone surrogate", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"isp": ["BT", "a\udcff"]}}, "filter_by",
     ["'a\\udcff'", "lone surrogate"]),
    ("a metric list holding a 5000-digit number", HISTORICAL,
     {"metrics": ["attempts", 10**5000]}, "metrics",
     ["metrics[1]=<a number of about 5001 digits>"]),
    ("sort_by holding a 5000-digit number", HISTORICAL,
     {"metrics": "attempts", "group_by": "isp", "sort_by": [10**5000]}, "sort_by",
     ["sort_by=<a list holding a number too long to print>"]),
    ("a filter value too long to show whole", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"isp": ["x" * 10_000, 1.5]}}, "filter_by",
     ["… (10,009 characters)"]),
    ("a request line over 8000 bytes", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"isp": [f"isp-{n}" for n in range(1000)]}},
     "filter_by", ["over the 8,000 that HTTP servers must accept", "filter_id"]),
    ("a root that is not a root (QuerySpec built positionally)", ["metrics"],  # type: ignore[list-item]
     {"metrics": "attempts"}, "root", ["root=['metrics']", "QuerySpec.historical(...)"]),
    ("boolean kpi_id", HISTORICAL, {"metrics": "attempts", "kpi_id": False}, "kpi_id",
     ["kpi_id=False"]),
    ("kpi_id given twice", HISTORICAL,
     {"metrics": "attempts", "kpi_id": 2, "filter_by": {"kpi_id": 3}}, "kpi_id",
     ["kpi_id=2", "given twice"]),
    ("kpi_id in filter_by not a number", HISTORICAL,
     {"metrics": "attempts", "filter_by": {"kpi_id": "good"}}, "filter_by",
     ["filter_by['kpi_id']='good'"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("root", "kwargs", "argument", "needles"),
    [pytest.param(*case, id=rule) for rule, *case in RULES],
)
def test_bad_arguments_raise_a_query_error_naming_argument_value_and_fix(
    root: Root, kwargs: dict[str, Any], argument: str, needles: list[str]
) -> None:
    with pytest.raises(QueryError) as info:
        build_metrics_query(QuerySpec(root, **kwargs), now=NOW)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.argument == argument
    message = str(error)
    assert argument in message
    for needle in needles:
        assert needle in message
    assert ";" in message  # every message ends with what to do about it


def test_unknown_metric_names_are_not_rejected() -> None:
    query = build_metrics_query(QuerySpec(HISTORICAL, "brand-new-metric"), now=NOW)
    assert query.path == "/insights/3.0/metrics/brand-new-metric"


def test_check_limits_false_skips_only_span_and_retention_rules() -> None:
    long_range = {"start_date": "2023-06-01", "end_date": "2025-01-01"}
    query = build_metrics_query(
        QuerySpec(HISTORICAL, "attempts", time_range=long_range), now=NOW, check_limits=False
    )
    assert query.params == (("start_date", "2023-06-01"), ("end_date", "2025-01-01"))
    backwards = QuerySpec(HISTORICAL, "attempts", time_range=("2025-01-02", "2025-01-01"))
    with pytest.raises(QueryError, match="start must be before the end"):
        build_metrics_query(backwards, now=NOW, check_limits=False)
    with pytest.raises(QueryError, match="'PT7M'"):
        build_metrics_query(
            QuerySpec(HISTORICAL, "attempts", granularity="PT7M"), now=NOW, check_limits=False
        )


def test_unknown_metadata_kind_is_rejected() -> None:
    with pytest.raises(QueryError, match="kind='sessions'"):
        metadata_path("sessions")  # type: ignore[arg-type]


def test_unusable_metric_group_name_is_rejected() -> None:
    with pytest.raises(QueryError, match="metric_group='quality summary'"):
        group_by_endpoints_path("quality summary")
