"""Window planning for long ranges and halving for 413 replies."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva import MetricsQuery, QueryError, QuerySpec
from pyconviva._query import build_metrics_query
from pyconviva._rules import (
    HISTORICAL,
    REAL_TIME,
    bucket_starts,
    check_window,
    max_span,
    parse_granularity,
)
from pyconviva._split import halve, plan_windows

NOW = datetime(2025, 6, 1, 12, 17, 43, tzinfo=timezone.utc)


def historical(
    start: datetime,
    end: datetime,
    granularity: str = "PT1H",
    *,
    group_by: str | None = None,
    limit: int | None = None,
) -> MetricsQuery:
    return build_metrics_query(
        QuerySpec(
            HISTORICAL,
            ["plays", "bitrate"],
            group_by=group_by,
            time_range=(start, end),
            granularity=granularity,
            limit=limit,
        ),
        now=NOW,
        check_limits=False,
    )


def longest(query: MetricsQuery) -> timedelta:
    return max_span(
        query.root,
        parse_granularity(query.granularity, query.root),
        grouped=query.group_by is not None,
        limit=query.limit,
    )


def buckets(query: MetricsQuery) -> list[datetime]:
    start, end = query.window
    return bucket_starts(start, end, parse_granularity(query.granularity, query.root))


def assert_plan_is_exact(query: MetricsQuery, windows: list[MetricsQuery]) -> None:
    """Legal windows, covering the range end to end, whose buckets are the unsplit buckets."""
    start, end = query.window
    assert windows[0].window[0] == start
    assert windows[-1].window[1] == end
    for before, after in itertools.pairwise(windows):
        assert before.window[1] == after.window[0]  # touching: no gap, no overlap
    granularity = parse_granularity(query.granularity, query.root)
    for window in windows:
        assert window.window[0] < window.window[1]
        violation = check_window(
            query.root,
            *window.window,
            granularity,
            grouped=query.group_by is not None,
            limit=query.limit,
            now=NOW,
        )
        assert violation is None, violation
    unsplit = buckets(query)
    assert {w.window[0] for w in windows[1:]} <= set(unsplit)  # aligned to the unsplit plan
    assert [b for w in windows for b in buckets(w)] == unsplit


GRANULARITIES = [
    *("PT1M", "PT5M", "PT12M", "PT30M"),
    *("PT1H", "PT5H", "PT23H", "P1D", "P7D", "P30D", "P1W", "P4W", "P10W"),
]


@settings(max_examples=80, deadline=None)
@given(
    granularity=st.sampled_from(GRANULARITIES),
    back=st.integers(min_value=0, max_value=395 * 86400),
    length=st.integers(min_value=1, max_value=395 * 86400),
    grouped=st.booleans(),
    limit=st.sampled_from([None, 10, 50, 500]),
)
def test_planned_windows_are_legal_exact_aligned_and_fewest(
    granularity: str, back: int, length: int, grouped: bool, limit: int | None
) -> None:
    if granularity.endswith("M"):  # minutely data is kept for 31 days, and plans are short
        back, length = back % (30 * 86400), length % (3 * 86400) + 1
    start = NOW.replace(second=0) - timedelta(seconds=back)
    end = min(start + timedelta(seconds=length), NOW)
    if start >= end:
        return
    query = historical(
        start,
        end,
        granularity,
        group_by="isp" if grouped else None,
        limit=limit if grouped else None,
    )
    span = longest(query)
    step = parse_granularity(granularity, HISTORICAL).step
    assert step is not None
    if step > span:
        if end - start > span:
            with pytest.raises(QueryError, match="cannot be split"):
                plan_windows(query, NOW)
        return
    windows = plan_windows(query, NOW)
    assert_plan_is_exact(query, windows)
    # Fewest: each window but the last reaches as far as a cut can (greedy is optimal).
    cuts = buckets(query)[1:]
    for window in windows[:-1]:
        later = [c for c in cuts if c > window.window[1]] + [end]
        assert later[0] - window.window[0] > span


@settings(max_examples=60, deadline=None)
@given(
    buckets_per_window=st.integers(min_value=1, max_value=30),
    bucket_count=st.integers(min_value=1, max_value=400),
    step_hours=st.sampled_from([1, 2, 3, 6]),
)
def test_aligned_range_needs_ceil_buckets_over_buckets_per_window(
    buckets_per_window: int, bucket_count: int, step_hours: int
) -> None:
    step = timedelta(hours=step_hours)
    start = datetime(2025, 3, 3, tzinfo=timezone.utc)
    query = historical(start, start + step * bucket_count, f"PT{step_hours}H")
    windows = plan_windows(query, NOW, max_window=step * buckets_per_window)
    assert len(windows) == math.ceil(bucket_count / buckets_per_window)
    assert_plan_is_exact(query, windows)


def test_query_that_fits_comes_back_unchanged() -> None:
    query = historical(NOW - timedelta(days=90), NOW)
    assert plan_windows(query, NOW) == [query]


def test_year_of_daily_data_takes_five_requests() -> None:
    query = historical(NOW - timedelta(days=365), NOW, "P1D", group_by="isp")
    windows = plan_windows(query, NOW)
    assert len(windows) == 5
    assert_plan_is_exact(query, windows)
    assert dict(windows[1].params)["start_date"].endswith("T00:00:00Z")  # cut at UTC midnight


def test_windows_are_sent_as_start_and_end_dates() -> None:
    query = historical(NOW - timedelta(days=100), NOW)
    first, second = plan_windows(query, NOW)
    assert dict(first.params)["end_date"] == dict(second.params)["start_date"]
    assert [k for k, _ in second.params].count("metric") == 2


def test_minutely_group_by_is_cut_at_its_hours_cap() -> None:
    start = datetime(2025, 5, 30, 0, 0, tzinfo=timezone.utc)
    query = historical(start, start + timedelta(hours=24), "PT5M", group_by="device-os")
    windows = plan_windows(query, NOW)
    assert [w.window[1] - w.window[0] for w in windows] == [timedelta(hours=5)] * 4 + [
        timedelta(hours=4)
    ]
    assert_plan_is_exact(query, windows)


def test_wide_limit_is_cut_into_days() -> None:
    query = historical(NOW - timedelta(days=3), NOW, group_by="isp", limit=200)
    windows = plan_windows(query, NOW)
    assert len(windows) == 4  # 72 hours from a start at 12:17:43 -> cuts on the hour
    assert_plan_is_exact(query, windows)


def test_unaligned_weekly_start_packs_the_partial_first_week() -> None:
    start = datetime(2025, 1, 2, tzinfo=timezone.utc)  # a Thursday: first week partial
    query = historical(start, start + timedelta(days=95), "P1W")
    windows = plan_windows(query, NOW)
    assert len(windows) == 2
    assert_plan_is_exact(query, windows)


def test_a_max_window_makes_smaller_windows() -> None:
    query = historical(NOW - timedelta(days=10), NOW)
    windows = plan_windows(query, NOW, max_window=timedelta(days=5))
    assert len(windows) == 3  # the range starts mid-hour, so the first window ends early
    assert_plan_is_exact(query, windows)


def test_range_older_than_retention_is_not_split() -> None:
    query = historical(NOW - timedelta(days=400), NOW)
    with pytest.raises(QueryError, match="13 months") as caught:
        plan_windows(query, NOW)
    assert caught.value.argument == "time_range"
    assert "cannot move" in str(caught.value)


def test_minutely_range_older_than_31_days_is_not_split() -> None:
    query = historical(NOW - timedelta(days=40), NOW - timedelta(days=38), "PT1M")
    with pytest.raises(QueryError, match="31 days"):
        plan_windows(query, NOW)


def test_fitting_range_outside_retention_is_refused_too() -> None:
    query = historical(NOW - timedelta(days=400), NOW - timedelta(days=399))
    with pytest.raises(QueryError, match="13 months"):
        plan_windows(query, NOW)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (QuerySpec(REAL_TIME, "plays", time_range=10**9), "earliest allowed start"),
        (QuerySpec(HISTORICAL, "plays", time_range=10**5, granularity="PT1H"), "13 months"),
    ],
    ids=["a billion minutes of real-time", "270 years of hourly history"],
)
def test_a_range_reaching_far_back_is_refused_before_its_windows_are_laid_out(
    spec: QuerySpec, reason: str
) -> None:
    # Laid out first, these would be billions of windows: refused at the first one instead.
    query = build_metrics_query(spec, now=NOW, check_limits=False)
    with pytest.raises(QueryError, match=reason):
        plan_windows(query, NOW)


def test_long_real_time_range_is_not_split() -> None:
    query = build_metrics_query(
        QuerySpec(REAL_TIME, "plays", time_range=(NOW - timedelta(minutes=40), NOW)),
        now=NOW,
        check_limits=False,
    )
    with pytest.raises(QueryError, match="historical endpoints"):
        plan_windows(query, NOW)


def test_granularity_all_over_a_long_range_cannot_be_planned() -> None:
    query = historical(NOW - timedelta(days=100), NOW, "ALL")
    with pytest.raises(QueryError, match="whole range is one bucket") as caught:
        plan_windows(query, NOW)
    assert caught.value.argument == "granularity"
    assert "90 days" in str(caught.value)


def test_bucket_longer_than_a_window_cannot_be_planned() -> None:
    query = historical(NOW - timedelta(days=6), NOW, "P2D", group_by="isp", limit=100)
    with pytest.raises(QueryError, match="each bucket spans 2 days, longer than the 24 hours"):
        plan_windows(query, NOW)


def test_a_bucket_longer_than_the_max_window_names_it_in_the_fix() -> None:
    query = historical(NOW - timedelta(days=10), NOW, "P1D")
    with pytest.raises(QueryError) as caught:
        plan_windows(query, NOW, max_window=timedelta(hours=12))
    message = str(caught.value)
    assert "longer than the 12 hours (the client's max_window)" in message
    assert message.endswith("a shorter range or a longer max_window")


def test_halve_splits_at_the_bucket_boundary_nearest_the_middle() -> None:
    start = datetime(2025, 5, 1, tzinfo=timezone.utc)
    query = historical(start, start + timedelta(days=9), "P1D")
    halves = halve(query)
    assert halves is not None
    first, second = halves
    assert first.window == (start, start + timedelta(days=4))  # 4.5 is no boundary; nearest
    assert second.window == (start + timedelta(days=4), start + timedelta(days=9))
    assert buckets(first) + buckets(second) == buckets(query)


def test_halve_of_an_unaligned_range_keeps_the_unsplit_buckets() -> None:
    query = historical(NOW - timedelta(hours=7), NOW)
    halves = halve(query)
    assert halves is not None
    assert buckets(halves[0]) + buckets(halves[1]) == buckets(query)


@pytest.mark.parametrize(
    ("granularity", "length"), [("P1D", timedelta(days=1)), ("ALL", timedelta(days=3))]
)
def test_halve_of_a_single_bucket_is_none(granularity: str, length: timedelta) -> None:
    start = datetime(2025, 5, 1, tzinfo=timezone.utc)
    assert halve(historical(start, start + length, granularity)) is None


def test_halving_repeatedly_reaches_single_buckets() -> None:
    start = datetime(2025, 5, 1, tzinfo=timezone.utc)
    pending = [historical(start, start + timedelta(hours=13))]
    leaves = []
    while pending:
        query = pending.pop()
        halves = halve(query)
        if halves is None:
            leaves.append(query)
        else:
            pending.extend(halves)
    assert sorted(q.window[0] for q in leaves) == buckets(
        historical(start, start + timedelta(hours=13))
    )
