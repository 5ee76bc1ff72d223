"""The built-in catalogue: names, response keys, value fields, units, groups and look-ups."""

from __future__ import annotations

import pytest

from pyconviva._catalog import (
    DIMENSIONS,
    METRIC_ALIASES,
    METRIC_GROUPS,
    METRICS,
    find_dimension,
    find_metric,
    suggest_dimensions,
    suggest_metrics,
)


def test_every_metric_of_the_reference_is_listed_with_kebab_name_and_snake_key() -> None:
    assert len(METRICS) == 81
    for name, info in METRICS.items():
        assert info.name == name
        assert "_" not in name
        assert info.key.replace("_", "-") == name or name == "exits-before-video-start"


def test_exits_before_video_start_answers_under_the_irregular_key_and_both_path_names() -> None:
    assert METRICS["exits-before-video-start"].key == "exit_before_video_starts"
    assert METRIC_ALIASES["exit-before-video-starts"] == "exits-before-video-start"
    assert find_metric("exit-before-video-starts") is METRICS["exits-before-video-start"]
    assert find_metric("exit_before_video_starts") is METRICS["exits-before-video-start"]


def test_ad_plays_is_a_legacy_metric_of_its_own_with_key_ad_plays() -> None:
    info = METRICS["ad-plays"]
    assert (info.key, info.fields) == ("ad_plays", ("count", "percentage"))


@pytest.mark.parametrize(
    ("name", "fields", "units"),
    [
        ("attempts", ("count",), {"count": "count"}),
        ("plays", ("count", "percentage"), {"count": "count", "percentage": "percent"}),
        ("rebuffering-ratio", ("ratio",), {"ratio": "percent"}),
        ("bitrate", ("bps",), {"bps": "bps"}),
        ("framerate", ("fps",), {"fps": "fps"}),
        ("video-start-time", ("value",), {"value": "seconds"}),
        ("good-session-average-life-playing-time-mins", ("value",), {"value": "minutes"}),
        ("streaming-performance-index", ("value",), {"value": "index"}),
        (
            "ended-plays",
            ("count", "per_unique_device"),
            {"count": "count", "per_unique_device": "count"},
        ),
        (
            "minutes-played",
            ("count", "per_unique_device", "per_ended_play"),
            {"count": "minutes", "per_unique_device": "minutes", "per_ended_play": "minutes"},
        ),
        ("ad-completed-creative-plays", ("value",), {"value": "percent"}),
    ],
)
def test_value_fields_and_units_follow_the_reference(
    name: str, fields: tuple[str, ...], units: dict[str, str]
) -> None:
    info = METRICS[name]
    assert info.fields == fields
    assert dict(info.units) == units


def test_real_time_set_is_the_alert_set_plus_plays_and_ended_plays() -> None:
    real_time = {name for name, info in METRICS.items() if info.real_time}
    assert {"attempts", "plays", "ended-plays", "concurrent-plays", "bitrate"} <= real_time
    assert "unique-devices" not in real_time
    assert len(real_time) == 16


def test_unique_counts_and_gauges_are_not_additive_but_plain_counts_are() -> None:
    assert METRICS["attempts"].additive
    assert METRICS["plays"].additive
    assert not METRICS["unique-devices"].additive
    assert not METRICS["concurrent-plays"].additive
    assert not METRICS["bitrate"].additive


def test_metric_groups_name_known_metrics() -> None:
    assert len(METRIC_GROUPS["quality-summary"]) == 10
    assert "connection-induced-rebuffering-ratio" in METRIC_GROUPS["quality-summary"]
    assert METRIC_GROUPS["audience"] == (
        "plays",
        "ended-plays",
        "concurrent-plays",
        "unique-devices",
        "minutes-played",
    )
    for members in METRIC_GROUPS.values():
        assert all(member in METRICS for member in members)


def test_dimensions_have_snake_keys_and_conviva_labels() -> None:
    assert DIMENSIONS["geo-country-code"].key == "geo_country_code"
    assert DIMENSIONS["cdn"].label == "CDNs"
    assert DIMENSIONS["asn"].label == "AS Numbers"
    assert DIMENSIONS["isp"].label == "ISP"
    assert not DIMENSIONS["ad-video-start-failure-error"].filterable
    assert DIMENSIONS["device-os"].filterable


def test_look_ups_accept_kebab_and_snake_and_return_none_for_unknown_names() -> None:
    assert find_dimension("device_os") is DIMENSIONS["device-os"]
    assert find_dimension("device-os") is DIMENSIONS["device-os"]
    assert find_dimension("country") is None
    assert find_metric("video_start_time") is METRICS["video-start-time"]
    assert find_metric("nonsense") is None


def test_suggestions_offer_close_names_best_first() -> None:
    assert suggest_metrics("atempts")[0] == "attempts"
    assert suggest_metrics("Ended_Plays")[0] == "ended-plays"
    assert suggest_dimensions("devce_os")[0] == "device-os"
    assert suggest_metrics("zzzzzz") == []
