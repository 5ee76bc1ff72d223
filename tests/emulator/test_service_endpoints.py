"""Every endpoint and parameter form of the emulated API answers with the documented shape."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pyconviva.emulator._service import EmulatorRequest, MetricsService, ServiceSettings

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)
AUTH = {"authorization": "Basic " + base64.b64encode(b"demo-client-id:demo-client-key").decode()}
HISTORICAL = "/insights/3.0/metrics"
REAL_TIME = "/insights/3.0/real-time-metrics"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def call(
    path: str, *query: tuple[str, str], settings: ServiceSettings | None = None, now: datetime = NOW
) -> tuple[int, bytes]:
    service = MetricsService(settings or ServiceSettings())
    reply = service.handle(EmulatorRequest("GET", path, query, AUTH), now)
    return reply.status, reply.body


def ok(path: str, *query: tuple[str, str], **kwargs: Any) -> Any:
    status, body = call(path, *query, **kwargs)
    assert status == 200, body
    return json.loads(body)


def test_plain_metric_has_meta_hourly_buckets_and_a_total_that_adds_up() -> None:
    reply = ok(f"{HISTORICAL}/attempts", ("days", "1"))
    assert list(reply) == ["_meta", "time_series", "total"]
    assert reply["_meta"] == {}
    buckets = reply["time_series"]
    assert len(buckets) == 24
    first = buckets[0]["timestamp"]
    assert first == {"epoch_ms": 1736424000000, "iso_date": "2025-01-09T12:00:00Z"}
    assert all(ISO.fullmatch(b["timestamp"]["iso_date"]) for b in buckets)
    assert reply["total"]["attempts"]["count"] == sum(b["attempts"]["count"] for b in buckets)


def test_metric_groups_answer_each_member_under_its_response_key() -> None:
    quality = ok(f"{HISTORICAL}/quality-summary", ("days", "1"))["total"]
    assert set(quality) == {
        "attempts",
        "video_start_failures",
        "exit_before_video_starts",
        "plays",
        "video_start_time",
        "rebuffering_ratio",
        "bitrate",
        "video_playback_failures",
        "ended_plays",
        "connection_induced_rebuffering_ratio",
    }
    audience = ok(f"{HISTORICAL}/audience", ("days", "1"))["total"]
    assert set(audience) == {
        "plays",
        "ended_plays",
        "concurrent_plays",
        "unique_devices",
        "minutes_played",
    }
    assert set(audience["minutes_played"]) == {"count", "per_unique_device", "per_ended_play"}


def test_custom_selection_keeps_the_requested_order_and_value_fields() -> None:
    reply = ok(
        f"{HISTORICAL}/custom-selection",
        ("days", "1"),
        ("metric", "bitrate"),
        ("metric", "plays"),
        ("metric", "exit-before-video-starts"),
    )
    bucket = reply["time_series"][0]
    assert list(bucket) == ["timestamp", "bitrate", "plays", "exit_before_video_starts"]
    assert set(bucket["bitrate"]) == {"bps"}
    assert 1_000_000 < bucket["bitrate"]["bps"] < 20_000_000
    assert 80 < bucket["plays"]["percentage"] < 100


@pytest.mark.parametrize(
    ("path", "key", "description"),
    [
        (f"{HISTORICAL}/attempts/group-by/isp", "isp", "ISP"),
        (f"{HISTORICAL}/custom-selection/group-by/geo-country-code", "geo_country_code", "Country"),
        (f"{HISTORICAL}/attempts/group-by/dimension-tag/appVersion", "appVersion", "appVersion"),
        (f"{HISTORICAL}/custom-selection/group-by/dimension-tag/title", "title", "title"),
        (f"{HISTORICAL}/quality-summary/group-by/cdn", "cdn", "CDNs"),
    ],
)
def test_group_by_replies_carry_the_dimension_and_rows_biggest_first(
    path: str, key: str, description: str
) -> None:
    query = [("days", "1"), ("metric", "attempts"), ("metric", "plays")]
    if "custom-selection" not in path:
        query = query[:1]
    reply = ok(path, *query)
    assert reply["_meta"]["group_by_dimension"] == {"description": description}
    for bucket in reply["time_series"]:
        rows = bucket["dimensional_data"]
        assert rows
        assert {row["dimension"]["key"] for row in rows} == {key}
        counts = [row["metrics"]["attempts"]["count"] for row in rows]
        assert counts == sorted(counts, reverse=True)


def test_country_codes_are_two_lower_case_letters_and_cities_name_state_and_country() -> None:
    countries = ok(f"{HISTORICAL}/attempts/group-by/geo-country-code", ("days", "1"))
    values = {r["dimension"]["value"] for r in countries["time_series"][0]["dimensional_data"]}
    assert all(re.fullmatch("[a-z]{2}", v) for v in values)
    cities = ok(f"{HISTORICAL}/attempts/group-by/geo-city-name", ("days", "1"))
    city = cities["time_series"][0]["dimensional_data"][0]["dimension"]["value"]
    assert city.count(", ") == 2


def test_real_time_defaults_to_five_minutely_buckets_with_a_partial_newest_one() -> None:
    buckets = ok(f"{REAL_TIME}/attempts")["time_series"]
    assert [b["timestamp"]["iso_date"][11:16] for b in buckets] == [
        "12:30",
        "12:31",
        "12:32",
        "12:33",
        "12:34",
    ]
    counts = [b["attempts"]["count"] for b in buckets]
    assert 0 < counts[-1] < min(counts[:-1])


def test_real_time_accepts_second_granularities_and_saved_filters() -> None:
    reply = ok(
        f"{REAL_TIME}/custom-selection/group-by/player-name",
        ("minutes", "2"),
        ("granularity", "PT10S"),
        ("filter_id", "1234"),
        ("metric", "attempts"),
        ("metric", "rebuffering-ratio"),
    )
    assert reply["_meta"]["filter_info"] == {"id": "1234"}
    assert len(reply["time_series"]) == 12


@pytest.mark.parametrize(
    "query",
    [
        (("start_date", "2025-01-08T00:00:00Z"), ("end_date", "2025-01-09T00:00:00Z")),
        (("start_date", "2025-01-08T00:00:00"), ("end_date", "2025-01-09")),
        (("start_date", "2025-01-08T01:00:00+01:00"), ("end_date", "2025-01-09T00:00:00.000Z")),
        (("start_epoch", "1736294400"), ("end_epoch", "1736380800")),
        (("start_epoch_ms", "1736294400000"), ("end_epoch_ms", "1736380800000")),
    ],
)
def test_every_range_style_selects_the_same_window(query: tuple[tuple[str, str], ...]) -> None:
    reference = call(
        f"{HISTORICAL}/attempts",
        ("days", "1"),
        now=datetime(2025, 1, 9, 0, 30, tzinfo=timezone.utc),
    )
    assert call(f"{HISTORICAL}/attempts", *query) == reference


@pytest.mark.parametrize(
    ("granularity", "buckets", "first"),
    [
        ("PT1H", 48, "2025-01-08T12:00:00Z"),
        ("PT6H", 8, "2025-01-08T12:00:00Z"),
        ("P1D", 3, "2025-01-08T00:00:00Z"),
        ("P1W", 1, "2025-01-06T00:00:00Z"),
        ("ALL", 1, "2025-01-08T12:00:00Z"),
    ],
)
def test_granularity_sets_the_bucket_grid(granularity: str, buckets: int, first: str) -> None:
    reply = ok(f"{HISTORICAL}/attempts", ("days", "2"), ("granularity", granularity))
    assert len(reply["time_series"]) == buckets
    assert reply["time_series"][0]["timestamp"]["iso_date"] == first


def test_minutely_historical_buckets_cover_the_recent_past() -> None:
    reply = ok(
        f"{HISTORICAL}/attempts",
        ("start_date", "2025-01-10T10:00:00Z"),
        ("end_date", "2025-01-10T11:00:00Z"),
        ("granularity", "PT5M"),
    )
    assert len(reply["time_series"]) == 12


def test_saved_filter_equals_its_definition_as_dimension_filters() -> None:
    saved = ok(f"{HISTORICAL}/attempts", ("days", "1"), ("filter_id", "180"))
    assert saved["_meta"] == {"filter_info": {"id": "180"}}
    spelled_out = ok(f"{HISTORICAL}/attempts", ("days", "1"), ("content_category", "Live"))
    assert saved["time_series"] == spelled_out["time_series"]
    everything = ok(f"{HISTORICAL}/attempts", ("days", "1"))
    assert 0 < saved["total"]["attempts"]["count"] < everything["total"]["attempts"]["count"]


def test_dimension_and_tag_filters_narrow_the_data() -> None:
    total = ok(f"{HISTORICAL}/attempts", ("days", "1"))["total"]["attempts"]["count"]
    optus = ok(f"{HISTORICAL}/attempts", ("days", "1"), ("isp", "Optus"))
    both = ok(
        f"{HISTORICAL}/attempts",
        ("days", "1"),
        ("isp", "Optus"),
        ("tag_subscriptionTier", "Premium"),
    )
    assert both["_meta"]["filter_info"] == {
        "filters": {"isp": ["Optus"], "tag_subscriptionTier": ["Premium"]}
    }
    optus_count = optus["total"]["attempts"]["count"]
    assert 0 < optus_count < total
    assert both["total"]["attempts"]["count"] <= optus_count


def test_a_filter_matching_nothing_gives_zero_buckets_which_no_nils_drops() -> None:
    zeros = ok(f"{HISTORICAL}/attempts", ("days", "1"), ("isp", "Nobody"))
    assert len(zeros["time_series"]) == 24
    assert zeros["total"] == {"attempts": {"count": 0}}
    dropped = ok(f"{HISTORICAL}/attempts", ("days", "1"), ("isp", "Nobody"), ("no_nils", "true"))
    assert dropped["time_series"] == []


def test_stricter_kpi_flags_more_bad_sessions_without_changing_attempts() -> None:
    query = (("days", "1"), ("metric", "attempts"), ("metric", "bad-session"))
    good = ok(f"{HISTORICAL}/custom-selection", *query)["total"]
    strict = ok(f"{HISTORICAL}/custom-selection", *query, ("kpi_id", "2"))["total"]
    assert strict["attempts"] == good["attempts"]
    assert strict["bad_session"]["count"] > good["bad_session"]["count"]


def test_sort_by_accepts_kebab_or_snake_and_order_asc_reverses_rows() -> None:
    base = (("days", "1"), ("metric", "attempts"), ("metric", "video-start-time"))
    path = f"{HISTORICAL}/custom-selection/group-by/device-name"
    kebab = call(path, *base, ("sort_by", "video-start-time"))
    snake = call(path, *base, ("sort_by", "video_start_time"))
    assert kebab == snake
    rows = json.loads(kebab[1])["time_series"][3]["dimensional_data"]
    values = [r["metrics"]["video_start_time"]["value"] for r in rows]
    assert values == sorted(values, reverse=True)
    ascending = ok(path, *base, ("sort_by", "video-start-time"), ("order", "asc"))
    rows = ascending["time_series"][3]["dimensional_data"]
    values = [r["metrics"]["video_start_time"]["value"] for r in rows]
    assert values == sorted(values)


def test_limit_keeps_the_same_top_values_in_every_bucket() -> None:
    reply = ok(f"{HISTORICAL}/attempts/group-by/isp", ("days", "1"), ("limit", "3"))
    names = {
        frozenset(r["dimension"]["value"] for r in b["dimensional_data"])
        for b in reply["time_series"]
    }
    assert len(names) == 1
    assert len(next(iter(names))) == 3
    everyone = ok(f"{HISTORICAL}/attempts/group-by/isp", ("days", "1"))
    assert reply["total"] == everyone["total"]


def test_recent_historical_data_is_incomplete_until_ten_minutes_have_passed() -> None:
    query = (
        ("start_date", "2025-01-10T12:00:00Z"),
        ("end_date", "2025-01-10T12:35:00Z"),
        ("granularity", "PT5M"),
    )
    early = ok(f"{HISTORICAL}/attempts", *query)["time_series"]
    later = ok(f"{HISTORICAL}/attempts", *query, now=NOW + timedelta(minutes=30))["time_series"]
    assert early[:4] == later[:4]  # older than ten minutes: settled
    assert early[-2]["attempts"]["count"] < later[-2]["attempts"]["count"]


def test_legacy_default_range_reads_a_missing_range_as_one_day() -> None:
    legacy = ServiceSettings(legacy_default_range=True)
    assert call(f"{HISTORICAL}/attempts", settings=legacy) == call(
        f"{HISTORICAL}/attempts", ("days", "1")
    )


def test_strict_real_time_serves_only_the_real_time_metrics() -> None:
    strict = ServiceSettings(strict_real_time=True)
    assert call(f"{REAL_TIME}/attempts", settings=strict)[0] == 200
    assert call(f"{REAL_TIME}/unique-devices", settings=strict)[0] == 404
    assert call(f"{REAL_TIME}/unique-devices")[0] == 200
    assert call(f"{HISTORICAL}/unique-devices", ("days", "1"), settings=strict)[0] == 200


def test_discovery_lists_metrics_groups_and_references_under_the_base_url() -> None:
    reply = ok(HISTORICAL, settings=ServiceSettings(base_url="http://127.0.0.1:9"))
    paths = {e["path"] for r in reply["resources"] for e in r["endpoints"]}
    assert "http://127.0.0.1:9/insights/3.0/metrics/ended-plays" in paths
    assert "http://127.0.0.1:9/insights/3.0/real-time-metrics/quality-summary" in paths
    assert "http://127.0.0.1:9/insights/3.0/metrics/custom-selection" in paths
    references = {r["resource_name"] for r in reply["references"]}
    assert references == {"dimensions", "filters", "kpis"}


def test_group_by_discovery_lists_dimension_and_custom_tag_endpoints() -> None:
    dims = ok(f"{HISTORICAL}/audience/group-by")["resources"]
    assert any(r["endpoints"][0]["path"].endswith("/audience/group-by/device-os") for r in dims)
    tags = ok(f"{HISTORICAL}/audience/group-by/dimension-tag")["resources"]
    assert [r["resource_name"] for r in tags] == [
        "appVersion",
        "title",
        "specialContentId",
        "subscriptionTier",
    ]


def test_dimensions_reference_gives_labels_filters_and_group_by_paths() -> None:
    entries = ok(f"{HISTORICAL}/_meta/references/dimensions")["dimensions"]
    by_name = {e["name"]: e for e in entries}
    assert by_name["Device OS"] == {
        "name": "Device OS",
        "query_filter": "?device_os",
        "is_custom": False,
        "group_by": "/group-by/device-os",
    }
    assert by_name["appVersion"]["query_filter"] == "?tag_appVersion"
    assert by_name["appVersion"]["is_custom"] is True


def test_filters_and_kpis_references_list_the_ids_queries_accept() -> None:
    filters = ok(f"{HISTORICAL}/_meta/references/filters")["filters"]
    assert {"id": 180, "name": "Live Only"} in filters
    assert {"id": 1234, "name": "All Traffic"} in filters
    kpis = ok("/insights/3.0/kpis")["kpis"]
    assert [k["id"] for k in kpis] == [1, 2]
    assert kpis[0]["name"] == "Conviva Good"
