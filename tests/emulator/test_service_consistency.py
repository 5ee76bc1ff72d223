"""The emulator's numbers agree with each other however a question is sliced: groups add up to
the whole, OR filters to their parts, split windows and finer buckets to the unsplit ones, and
the same question always gets the same bytes."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva._catalog import METRICS
from pyconviva.emulator._service import EmulatorRequest, MetricsService, ServiceSettings

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)
AUTH = {"authorization": "Basic " + base64.b64encode(b"demo-client-id:demo-client-key").decode()}
HISTORICAL = "/insights/3.0/metrics"
REAL_TIME = "/insights/3.0/real-time-metrics"
SERVICE = MetricsService(ServiceSettings(seed=7, audience="small"))

ADDITIVE = sorted(name for name, info in METRICS.items() if info.additive)
DIMENSIONS = [
    "isp",
    "cdn",
    "device-name",
    "content-category",
    "geo-country-code",
    "app-version",
    "asset",
    "dimension-tag/subscriptionTier",
]
ISPS = ["Comcast", "Optus", "BT", "Vodafone", "Telstra", "Charter Spectrum", "Orange"]
SOME = settings(max_examples=12, deadline=None)


def get(path: str, *query: tuple[str, str], root: str = HISTORICAL) -> Any:
    reply = SERVICE.handle(EmulatorRequest("GET", root + path, query, AUTH), NOW)
    assert reply.status == 200, reply.body
    return json.loads(reply.body)


def selection(metrics: list[str]) -> list[tuple[str, str]]:
    return [("metric", name) for name in metrics]


def counts(reply: Any, key: str) -> list[int]:
    return [bucket[key]["count"] for bucket in reply["time_series"]]


def grouped_counts(reply: Any, key: str) -> list[int]:
    return [
        sum(row["metrics"][key]["count"] for row in bucket["dimensional_data"])
        for bucket in reply["time_series"]
    ]


windows = st.sampled_from(
    [
        (("days", "1"), ("granularity", "PT1H")),
        (("days", "2"), ("granularity", "PT4H")),
        (("days", "3"), ("granularity", "P1D")),
        (("days", "2"), ("granularity", "ALL")),
        (
            ("start_date", "2025-01-10T09:00:00Z"),
            ("end_date", "2025-01-10T10:00:00Z"),
            ("granularity", "PT5M"),
        ),
    ]
)


@SOME
@given(
    st.lists(st.sampled_from(ADDITIVE), min_size=1, max_size=3, unique=True),
    st.sampled_from(DIMENSIONS),
    windows,
)
def test_group_counts_add_up_to_the_ungrouped_count_per_bucket_and_in_total(
    metrics: list[str], dimension: str, window: tuple[tuple[str, str], ...]
) -> None:
    whole = get("/custom-selection", *window, *selection(metrics))
    grouped = get(f"/custom-selection/group-by/{dimension}", *window, *selection(metrics))
    assert grouped["total"] == whole["total"]
    for metric in metrics:
        key = METRICS[metric].key
        assert grouped_counts(grouped, key) == counts(whole, key)
        assert sum(counts(whole, key)) == whole["total"][key]["count"]


@SOME
@given(st.lists(st.sampled_from(ISPS), min_size=2, max_size=4, unique=True), windows)
def test_or_filter_equals_the_sum_of_the_single_filters(
    isps: list[str], window: tuple[tuple[str, str], ...]
) -> None:
    metrics = selection(["attempts", "plays", "minutes-played"])
    either = get("/custom-selection", *window, *metrics, *(("isp", isp) for isp in isps))
    singles = [get("/custom-selection", *window, *metrics, ("isp", isp)) for isp in isps]
    for key in ("attempts", "plays", "minutes_played"):
        expected = [sum(parts) for parts in zip(*(counts(s, key) for s in singles), strict=True)]
        assert counts(either, key) == expected


@SOME
@given(
    st.integers(min_value=2, max_value=72),
    st.integers(min_value=1, max_value=71),
    st.sampled_from(ADDITIVE),
)
def test_a_range_split_in_two_windows_gives_the_unsplit_buckets(
    hours: int, cut: int, metric: str
) -> None:
    cut = min(cut, hours - 1)
    end = datetime(2025, 1, 10, 6, tzinfo=timezone.utc)
    start = end - timedelta(hours=hours)
    middle = start + timedelta(hours=cut)

    def window(a: datetime, b: datetime) -> Any:
        return get(
            f"/{metric}",
            ("start_epoch", str(int(a.timestamp()))),
            ("end_epoch", str(int(b.timestamp()))),
        )

    key = METRICS[metric].key
    whole, first, second = window(start, end), window(start, middle), window(middle, end)
    assert first["time_series"] + second["time_series"] == whole["time_series"]
    assert (
        first["total"][key]["count"] + second["total"][key]["count"] == whole["total"][key]["count"]
    )


@SOME
@given(st.sampled_from(["PT1M", "PT5M", "PT15M", "PT30M"]), st.integers(min_value=0, max_value=20))
def test_finer_buckets_add_up_to_the_hour(granularity: str, hours_back: int) -> None:
    hour = datetime(2025, 1, 10, 11, tzinfo=timezone.utc) - timedelta(hours=hours_back)
    window = (
        ("start_epoch", str(int(hour.timestamp()))),
        ("end_epoch", str(int(hour.timestamp()) + 3600)),
    )
    metrics = selection(["attempts", "ended-plays", "video-start-failures"])
    fine = get("/custom-selection", *window, *metrics, ("granularity", granularity))
    hourly = get("/custom-selection", *window, *metrics, ("granularity", "PT1H"))
    for key in ("attempts", "ended_plays", "video_start_failures"):
        assert [sum(counts(fine, key))] == counts(hourly, key)


@SOME
@given(st.sampled_from(DIMENSIONS), windows)
def test_grouped_percentages_are_the_rows_own_counts_in_percent(
    dimension: str, window: tuple[tuple[str, str], ...]
) -> None:
    reply = get(
        f"/custom-selection/group-by/{dimension}",
        *window,
        *selection(["attempts", "plays", "video-start-failures"]),
    )
    for bucket in reply["time_series"]:
        for row in bucket["dimensional_data"]:
            m = row["metrics"]
            attempts = m["attempts"]["count"]
            for key in ("plays", "video_start_failures"):
                assert m[key]["count"] <= attempts
                expected = round(100 * m[key]["count"] / attempts, 2) if attempts else 0.0
                assert m[key]["percentage"] == expected


def test_the_same_question_gets_the_same_bytes_from_any_service_of_the_seed() -> None:
    request = EmulatorRequest(
        "GET",
        f"{HISTORICAL}/quality-summary/group-by/device-name",
        (("days", "3"), ("sort_by", "bitrate"), ("limit", "5")),
        AUTH,
    )
    first = SERVICE.handle(request, NOW)
    again = MetricsService(ServiceSettings(seed=7, audience="small")).handle(request, NOW)
    other_seed = MetricsService(ServiceSettings(seed=8, audience="small")).handle(request, NOW)
    assert first == again
    assert first.body != other_seed.body


def test_unique_devices_over_a_range_are_fewer_than_the_sum_over_its_buckets() -> None:
    reply = get("/unique-devices", ("days", "2"))
    per_bucket = counts(reply, "unique_devices")
    assert 0 < reply["total"]["unique_devices"]["count"] < sum(per_bucket)


def test_real_time_and_historical_agree_once_the_data_has_settled() -> None:
    window = (("start_date", "2025-01-10T12:20:00Z"), ("end_date", "2025-01-10T12:24:00Z"))
    live = get("/attempts", *window, ("granularity", "PT1M"), root=REAL_TIME)
    stored = get("/attempts", *window, ("granularity", "PT1M"))
    assert live["time_series"] == stored["time_series"]


def test_incidents_show_in_the_data() -> None:
    # Charter Spectrum's weekly outage (Tuesdays 19:00-22:00 local) fails its start attempts.
    tuesday = (("start_date", "2025-01-07T00:00:00Z"), ("end_date", "2025-01-08T12:00:00Z"))
    reply = get("/video-start-failures", *tuesday, ("isp", "Charter Spectrum"))
    shares = [b["video_start_failures"]["percentage"] for b in reply["time_series"]]
    assert max(shares) > 20 > 5 > sorted(shares)[len(shares) // 2]
