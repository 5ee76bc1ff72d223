"""Merging the replies of split windows: buckets, totals and the notes that explain them."""

from __future__ import annotations

import base64
import copy
import functools
import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva import (
    ConvivaError,
    MetricsQuery,
    MetricsResult,
    QuerySpec,
    UnexpectedResponseError,
)
from pyconviva._merge import merge_replies
from pyconviva._query import build_metrics_query
from pyconviva._rules import HISTORICAL, format_instant
from pyconviva._split import plan_windows
from pyconviva.emulator._service import EmulatorRequest, MetricsService, ServiceSettings
from tests.reliability.hostile_servers import REMOVE, json_fields, set_json_field

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
        "total: dropped plays.count: missing from the total of at least one window "
        "(or no number there), so the sum would be short"
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
    assert notes[0] == (
        "group-by rows: each of the 2 windows ranked its own top 2 isp values, so the rows are "
        "the union of those (3 values), and may differ from the top 2 over the whole range"
    )
    assert notes[1].endswith(
        "2 of 2 windows lack isp values that other windows ranked: "
        "window 1 of 2 (buckets 2025-05-01T00:00:00Z..2025-05-01T01:00:00Z) lacks 'C'; "
        "window 2 of 2 (buckets 2025-05-01T02:00:00Z..2025-05-01T03:00:00Z) lacks 'A'"
    )
    assert len(notes) == 2


WINDOWS = [
    (START, START + timedelta(hours=2)),
    (START + timedelta(hours=2), START + timedelta(hours=4)),
    (START + timedelta(hours=4), START + timedelta(hours=6)),
]


def test_a_group_missing_from_a_full_windows_top_n_reads_as_missing_and_the_window_is_named() -> (
    None
):
    parts = [
        grouped_reply(range(2), ["A", "B"]),
        grouped_reply(range(2, 4), ["A", "C"]),
        grouped_reply(range(4, 6), ["B", "A"]),
    ]
    merged, notes = merge_replies(parts, query(6, ["plays"], group_by="isp", limit=2), WINDOWS)
    rows = [
        (b["timestamp"]["epoch_ms"], row["dimension"]["value"], row["metrics"])
        for b in merged["time_series"]
        for row in b["dimensional_data"]
    ]
    # No row is made up for a group in a window that did not rank it: no zero, no null row.
    assert [(stamp, group) for stamp, group, _ in rows if group == "C"] == [
        (stamp(h)["epoch_ms"], "C") for h in (2, 3)
    ]
    assert all(metrics == {"plays": {"count": 1}} for _, _, metrics in rows)
    assert notes[-1].startswith(
        "group-by rows: values missing from a full window's top 2 are unknown in it, not zero"
    )
    assert notes[-1].endswith(
        "3 of 3 windows lack isp values that other windows ranked: "
        "window 1 of 3 (2025-05-01T00:00:00Z..2025-05-01T02:00:00Z) lacks 'C'; "
        "window 2 of 3 (2025-05-01T02:00:00Z..2025-05-01T04:00:00Z) lacks 'B'; "
        "window 3 of 3 (2025-05-01T04:00:00Z..2025-05-01T06:00:00Z) lacks 'C'"
    )


def test_a_window_with_fewer_groups_than_the_limit_is_not_said_to_lack_any() -> None:
    parts = [grouped_reply(range(2), ["A", "B"]), grouped_reply(range(2, 4), ["A"])]
    _, notes = merge_replies(parts, query(4, ["plays"], group_by="isp", limit=2), WINDOWS[:2])
    # Window 2 returned 1 of at most 2 groups: B had no data there, which its absence says.
    assert len(notes) == 1
    assert notes[0].startswith("group-by rows: each of the 2 windows ranked its own top 2")


def test_parts_given_out_of_order_are_numbered_by_their_windows() -> None:
    parts = [grouped_reply(range(2, 4), ["A", "C"]), grouped_reply(range(2), ["A", "B"])]
    _, notes = merge_replies(
        parts, query(4, ["plays"], group_by="isp", limit=2), [WINDOWS[1], WINDOWS[0]]
    )
    assert "window 1 of 2 (2025-05-01T00:00:00Z..2025-05-01T02:00:00Z) lacks 'C'" in notes[-1]
    assert "window 2 of 2 (2025-05-01T02:00:00Z..2025-05-01T04:00:00Z) lacks 'B'" in notes[-1]


def test_a_window_list_that_does_not_match_the_parts_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 replies but 1 windows"):
        merge_replies(
            [reply(range(2), {}), reply(range(2, 4), {})], query(4, ["plays"]), WINDOWS[:1]
        )


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
    with pytest.raises(UnexpectedResponseError, match=r"window 2: .*epoch_ms"):
        merge_replies(parts, query(6, ["plays"]))


# -- odd items: read as the single-reply decoder reads them (issue 12 item 5) --------------------


def merged_result(parts: list[dict[str, Any]], q: MetricsQuery) -> MetricsResult:
    raw, notes = merge_replies(parts, q)
    return MetricsResult(raw, query=q, notes=notes)


ROW_SKIP = "group-by rows without a dimension value"
TOTAL_SKIP = "`total` blocks that are not objects"


@pytest.mark.parametrize(
    ("path", "value", "skipped"),
    [
        (("time_series", 0, "dimensional_data", 0), None, ROW_SKIP),
        (("time_series", 1, "dimensional_data", 1, "dimension"), 7, ROW_SKIP),
        (("total",), "n/a", TOTAL_SKIP),
        (("total",), True, TOTAL_SKIP),
        (("total", "plays"), None, "`total` metric values that are not objects"),
        (("total", "plays", "count"), "n/a", "`total` values that are not finite numbers"),
    ],
)
def test_an_odd_item_in_one_window_is_skipped_with_a_note_as_in_a_single_reply(
    path: tuple[Any, ...], value: Any, skipped: str
) -> None:
    parts = [grouped_reply(range(2), ["A", "B"]), grouped_reply(range(2, 4), ["A", "B"])]
    set_json_field(parts[0], path, value)
    q = query(4, ["plays"], group_by="isp", limit=5)
    assert any(skipped in note for note in MetricsResult(parts[0], query=q).notes)

    merged = merged_result(parts, q)
    assert all(isinstance(record["value"], int) for record in merged.records())
    if path[0] == "total":  # window 1's count is unusable, so the sum would be short
        assert merged.totals() == []
        assert any("total: dropped plays.count: missing" in note for note in merged.notes)
    else:
        assert any(skipped in note for note in merged.notes)
        assert merged.totals() == [{"metric": "plays", "field": "count", "value": 8}]
        assert len(merged.records()) == 2 * 4 - 1


def test_an_integral_float_epoch_is_read_as_the_single_reply_decoder_reads_it() -> None:
    parts = [reply(range(2), {}), reply(range(2, 4), {})]
    parts[1]["time_series"][0]["timestamp"]["epoch_ms"] = float(stamp(2)["epoch_ms"])
    merged, notes = merge_replies(parts, query(4, ["plays"]))
    assert len(merged["time_series"]) == 4
    assert notes == []


ODD_VALUES: list[Any] = [
    None, "n/a", "", True, False, 0, 0.0, -1, 1.5, 10**30, math.nan, math.inf, [], {}, [None],
    {"x": None}, REMOVE,
]  # fmt: skip


@functools.cache
def split_replies(group_by: str | None) -> tuple[MetricsQuery, list[dict[str, Any]]]:
    """A query of the emulator's small audience over 4 hours, and its two 2-hour windows."""
    service = MetricsService(ServiceSettings(audience="small"))
    whole = build_metrics_query(
        QuerySpec(
            HISTORICAL,
            ["plays", "attempts"],
            group_by=group_by,
            time_range=(START, START + timedelta(hours=4)),
            limit=3 if group_by else None,
        ),
        now=NOW,
    )
    return whole, [
        fetch(service, q) for q in plan_windows(whole, NOW, max_window=timedelta(hours=2))
    ]


SPLIT_CASES = {"by isp": "isp", "ungrouped": None}


def usable(result: MetricsResult) -> None:
    for record in result.records():
        assert math.isfinite(record["value"])
    for total in result.totals():
        assert math.isfinite(total["value"])
    repr(result)


@settings(max_examples=150, deadline=None)
@given(
    case=st.sampled_from(sorted(SPLIT_CASES)),
    window=st.sampled_from([0, 1]),
    target=st.integers(0, 10_000),
    value=st.sampled_from(ODD_VALUES),
)
def test_any_one_field_mutation_of_a_window_merges_to_a_result_or_a_conviva_error(
    case: str, window: int, target: int, value: Any
) -> None:
    whole, originals = split_replies(SPLIT_CASES[case])
    parts = copy.deepcopy(originals)
    fields = json_fields(parts[window])
    set_json_field(parts[window], fields[target % len(fields)], value)
    try:
        merged = merged_result(parts, whole)
    except ConvivaError:
        # Only where the single-reply decoder refuses the mutated reply as well.
        with pytest.raises(ConvivaError):
            MetricsResult(parts[window], query=whole).records()
        return
    usable(merged)


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
    """Windows cut at bucket starts that are not day or 6-hour boundaries of the range start.

    The small audience has fewer ISPs than the limit, so that no window cuts a group."""
    service = MetricsService(ServiceSettings(audience="small"))
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
