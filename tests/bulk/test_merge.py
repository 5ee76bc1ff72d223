"""Merging the replies of split windows: buckets, totals and the notes that explain them."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pyconviva import MetricsQuery, QuerySpec, UnexpectedResponseError
from pyconviva._merge import merge_replies
from pyconviva._query import build_metrics_query
from pyconviva._rules import HISTORICAL, format_instant
from pyconviva._split import plan_windows
from pyconviva.emulator._service import EmulatorRequest, MetricsService, ServiceSettings

NOW = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
START = datetime(2025, 5, 1, tzinfo=timezone.utc)


def query(
    hours: int, metrics: list[str], *, group_by: str | None = None, limit: int | None = None
) -> MetricsQuery:
    return build_metrics_query(
        QuerySpec(
            HISTORICAL,
            metrics,
            group_by=group_by,
            time_range=(START, START + timedelta(hours=hours)),
            limit=limit,
        ),
        now=NOW,
    )


def stamp(hour: int) -> dict[str, Any]:
    t = START + timedelta(hours=hour)
    return {"epoch_ms": int(t.timestamp() * 1000), "iso_date": format_instant(t)}


def reply(hours: range, total: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "_meta": meta,
        "time_series": [
            {"timestamp": stamp(h), "plays": {"count": h, "percentage": 50.0}} for h in hours
        ],
        "total": total,
    }


def test_buckets_are_concatenated_in_time_order_once_each() -> None:
    parts = [reply(range(3), {}), reply(range(3, 6), {})]
    merged, notes = merge_replies(parts, query(6, ["plays"]))
    assert [b["timestamp"]["epoch_ms"] for b in merged["time_series"]] == [
        stamp(h)["epoch_ms"] for h in range(6)
    ]
    assert notes == []


def test_parts_out_of_order_are_sorted_by_time() -> None:
    parts = [reply(range(3, 6), {}), reply(range(3), {})]
    merged, _ = merge_replies(parts, query(6, ["plays"]))
    assert [b["plays"]["count"] for b in merged["time_series"]] == list(range(6))


def test_bucket_in_two_touching_windows_is_kept_once_and_noted() -> None:
    parts = [reply(range(4), {}), reply(range(3, 6), {})]
    merged, notes = merge_replies(parts, query(6, ["plays"]))
    assert len(merged["time_series"]) == 6
    assert notes == [
        "time_series: 1 bucket(s) came in two windows (the windows touched); each was kept once, "
        "from the first reply that held it"
    ]


def test_missing_buckets_are_reported_by_stamp() -> None:
    parts = [reply(range(2), {}), reply(range(4, 6), {})]
    merged, notes = merge_replies(parts, query(6, ["plays"]))
    assert len(merged["time_series"]) == 4
    assert notes == [
        "time_series: 2 of 6 buckets are missing from the replies: "
        "2025-05-01T02:00:00Z, 2025-05-01T03:00:00Z"
    ]


def test_many_missing_buckets_are_counted_after_the_first_few() -> None:
    parts = [reply(range(1), {}), reply(range(19, 20), {})]
    _, notes = merge_replies(parts, query(20, ["plays"]))
    assert notes[0].startswith("time_series: 18 of 20 buckets are missing")
    assert notes[0].endswith("2025-05-01T05:00:00Z and 13 more")


def test_meta_comes_from_the_first_part() -> None:
    parts = [reply(range(3), {}, window="first"), reply(range(3, 6), {}, window="second")]
    merged, _ = merge_replies(parts, query(6, ["plays"]))
    assert merged["_meta"] == {"window": "first"}


def test_counts_of_additive_metrics_are_summed() -> None:
    parts = [
        reply(range(3), {"plays": {"count": 10}, "attempts": {"count": 30}}),
        reply(range(3, 6), {"plays": {"count": 5}, "attempts": {"count": 2.5}}),
    ]
    merged, notes = merge_replies(parts, query(6, ["plays", "attempts"]))
    assert merged["total"] == {"plays": {"count": 15}, "attempts": {"count": 32.5}}
    assert notes == []


def test_non_additive_totals_are_dropped_with_a_note_naming_each_field() -> None:
    totals = {
        "plays": {"count": 10, "percentage": 90.0},
        "bitrate": {"bps": 3_000_000},
        "rebuffering_ratio": {"ratio": 0.4},
        "video_start_time": {"value": 1.8},
        "unique_devices": {"count": 70},
        "minutes_played": {"count": 100.5, "per_unique_device": 3.0, "per_ended_play": 2.0},
    }
    parts = [reply(range(3), totals), reply(range(3, 6), totals)]
    merged, notes = merge_replies(parts, query(6, ["plays"]))
    assert merged["total"] == {"plays": {"count": 20}, "minutes_played": {"count": 201.0}}
    dropped = (
        "plays.percentage, bitrate.bps, rebuffering_ratio.ratio, video_start_time.value, "
        "unique_devices.count, minutes_played.per_unique_device, minutes_played.per_ended_play"
    )
    assert len(notes) == 1
    assert notes[0].startswith(f"total: dropped {dropped}: non-additive across windows;")


def test_unknown_metric_totals_are_taken_as_non_additive() -> None:
    parts = [reply(range(3), {"brand_new_metric": {"count": 4}}) for _ in range(2)]
    merged, notes = merge_replies(parts, query(3, ["plays"]))
    assert merged["total"] == {}
    assert "brand_new_metric: not in the built-in catalogue" in notes[-1]


def test_count_missing_from_one_window_is_dropped_not_undercounted() -> None:
    parts = [reply(range(3), {"plays": {"count": 10}}), reply(range(3, 6), {})]
    merged, notes = merge_replies(parts, query(6, ["plays"]))
    assert merged["total"] == {}
    assert notes == [
        "total: dropped plays.count: missing from the total of at least one window, "
        "so the sum would be short"
    ]


def test_metric_alias_key_is_recognised_as_additive() -> None:
    total = {"exit_before_video_starts": {"count": 3}}
    parts = [reply(range(3), total), reply(range(3, 6), total)]
    merged, _ = merge_replies(parts, query(6, ["plays"]))
    assert merged["total"] == {"exit_before_video_starts": {"count": 6}}


def grouped_reply(hours: range, rows: list[str]) -> dict[str, Any]:
    return {
        "_meta": {"group_by_dimension": {"description": "ISP"}},
        "time_series": [
            {
                "timestamp": stamp(h),
                "dimensional_data": [
                    {"dimension": {"key": "isp", "value": v}, "metrics": {"plays": {"count": 1}}}
                    for v in rows
                ],
            }
            for h in hours
        ],
        "total": {"plays": {"count": len(rows) * len(hours)}},
    }


def test_group_by_rows_are_the_union_and_the_top_n_caveat_is_noted() -> None:
    parts = [grouped_reply(range(2), ["A", "B"]), grouped_reply(range(2, 4), ["B", "C"])]
    merged, notes = merge_replies(parts, query(4, ["plays"], group_by="isp", limit=2))
    values = {
        row["dimension"]["value"] for b in merged["time_series"] for row in b["dimensional_data"]
    }
    assert values == {"A", "B", "C"}
    assert merged["total"] == {"plays": {"count": 8}}
    assert notes == [
        "group-by rows: each of the 2 windows ranked its own top 2 isp values, so the rows are "
        "the union of those (3 values), and may differ from the top 2 over the whole range"
    ]


def test_group_by_without_limit_is_ranked_by_the_api_default_of_50() -> None:
    many = [f"isp-{n}" for n in range(50)]
    parts = [grouped_reply(range(2), many), grouped_reply(range(2, 4), many[:3])]
    _, notes = merge_replies(parts, query(4, ["plays"], group_by="isp"))
    assert "top 50 isp values" in notes[0]


def test_no_caveat_when_no_window_can_have_cut_a_group() -> None:
    parts = [grouped_reply(range(2), ["A", "B"]), grouped_reply(range(2, 4), ["B", "C"])]
    _, notes = merge_replies(parts, query(4, ["plays"], group_by="isp", limit=3))
    assert notes == []


def test_caveat_when_the_union_exceeds_the_limit() -> None:
    parts = [grouped_reply(range(2), ["A", "B"]), grouped_reply(range(2, 4), ["C", "D"])]
    _, notes = merge_replies(parts, query(4, ["plays"], group_by="isp", limit=3))
    assert "(4 values)" in notes[0]


def test_single_part_is_returned_as_is() -> None:
    part = reply(range(2), {"plays": {"count": 1, "percentage": 5.0}})
    merged, notes = merge_replies([part], query(6, ["plays"]))
    assert merged == part
    assert notes == []


def test_no_parts_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        merge_replies([], query(6, ["plays"]))


def test_bucket_without_a_timestamp_is_an_unexpected_response() -> None:
    parts = [reply(range(2), {}), {"time_series": [{"plays": {"count": 1}}]}]
    with pytest.raises(UnexpectedResponseError, match="epoch_ms"):
        merge_replies(parts, query(6, ["plays"]))


# -- against the emulator: split-and-merged equals one unsplit request ---------------------------


def fetch(service: MetricsService, q: MetricsQuery) -> dict[str, Any]:
    credentials = base64.b64encode(b"demo-client-id:demo-client-key").decode()
    request = EmulatorRequest(
        method="GET", path=q.path, query=q.params, headers={"authorization": f"Basic {credentials}"}
    )
    response = service.handle(request, NOW)
    assert response.status == 200, response.body[:300]
    body: dict[str, Any] = json.loads(response.body)
    return body


@pytest.mark.parametrize(
    ("group_by", "granularity", "span", "windows"),
    [
        (None, "PT1H", timedelta(days=5, hours=6), 2),
        ("device-os", "PT1H", timedelta(days=5, hours=6), 2),
        (None, "P1D", timedelta(days=3, hours=12), 4),
        ("isp", "PT6H", timedelta(days=2, hours=15), 4),
    ],
)
def test_split_and_merged_reply_equals_the_unsplit_reply(
    group_by: str | None, granularity: str, span: timedelta, windows: int
) -> None:
    """Windows cut at bucket starts that are not day or 6-hour boundaries of the range start."""
    service = MetricsService(ServiceSettings())
    start = datetime(2025, 5, 10, 7, tzinfo=timezone.utc)
    whole = build_metrics_query(
        QuerySpec(
            HISTORICAL,
            ["plays", "attempts", "bitrate", "unique-devices", "minutes-played"],
            group_by=group_by,
            time_range=(start, start + timedelta(days=10)),
            granularity=granularity,
            limit=50 if group_by else None,
        ),
        now=NOW,
    )
    planned = plan_windows(whole, NOW, max_window=span)
    assert len(planned) == windows
    merged, notes = merge_replies([fetch(service, q) for q in planned], whole)
    unsplit = fetch(service, whole)

    assert merged["_meta"] == unsplit["_meta"]
    assert merged["time_series"] == unsplit["time_series"]  # every bucket, row and value
    additive = {"plays", "attempts", "minutes_played"}
    assert set(merged["total"]) == additive
    for key in additive:
        assert merged["total"][key] == {"count": unsplit["total"][key]["count"]}
    dropped = notes[0]
    assert "bitrate.bps" in dropped
    assert "unique_devices.count" in dropped
    assert "plays.percentage" in dropped
    assert len(notes) == 1  # every group fits the limit in every window: no ranking caveat
