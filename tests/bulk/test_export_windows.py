"""The export's request planning (pure): every unit fetched once, no request over a limit of the
API, and at most twice the fewest requests the limits allow; batches that measure a query's
replies before sizing its windows by them."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from pyconviva._dataset import ExportUnit, export_queries, plan_units
from pyconviva._dataset._windows import (
    Fetch,
    QueryPlan,
    WindowLimits,
    next_chunk,
    plan_fetches,
    prior_bytes_per_bucket,
)
from pyconviva._rules import (
    HISTORICAL,
    HISTORICAL_RETENTION,
    MAX_REPLY_BYTES,
    MINUTELY_RETENTION,
    check_window,
    max_span,
    parse_granularity,
)

UTC = timezone.utc
DAY = timedelta(days=1)
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
# Granularities whose buckets divide a day: the ones an export accepts.
GRANULARITIES = [
    text
    for text in ("PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT2H", "PT3H", "PT6H", "PT12H", "P1D")
    if DAY % (parse_granularity(text, HISTORICAL).step or DAY) == timedelta(0)
]


def units_of(group_by: str | None, start: datetime, end: datetime) -> list[ExportUnit]:
    (query,) = export_queries("attempts", [group_by])
    return plan_units([query], [(start, end)])


def api_limit(granularity: str, grouped: bool, max_window: timedelta | None) -> timedelta:
    """The longest range one request may cover, from the API's rules (and the client's cap)."""
    span = max_span(
        HISTORICAL, parse_granularity(granularity, HISTORICAL), grouped=grouped, limit=None
    )
    return span if max_window is None else min(span, max_window)


def fewest_windows(
    units: list[ExportUnit], step: timedelta, span: timedelta, bytes_per_bucket: float
) -> int:
    """The floor: for each stretch of consecutive units, the fewest bucket-aligned windows that
    keep within ``span`` and the reply size cap (a lone bucket over the cap cannot be helped)."""
    most = max(1, min(span // step, math.floor(MAX_REPLY_BYTES / bytes_per_bucket)))
    stretches: list[timedelta] = []
    previous_end = None
    for unit in units:
        if unit.start == previous_end:
            stretches[-1] += unit.end - unit.start
        else:
            stretches.append(unit.end - unit.start)
        previous_end = unit.end
    return sum(math.ceil((length // step) / most) for length in stretches)


@st.composite
def plans(draw: st.DrawFn) -> tuple[list[ExportUnit], str, bool, timedelta | None, float]:
    granularity = draw(st.sampled_from(GRANULARITIES))
    step = parse_granularity(granularity, HISTORICAL).step
    assert step is not None
    grouped = draw(st.booleans())
    start = EPOCH + draw(st.integers(0, 2 * 24 * 60 // (step // timedelta(minutes=1)))) * step
    days = draw(st.integers(0, 390 if step >= timedelta(hours=1) else 6))
    end = start + days * DAY + draw(st.integers(1, DAY // step)) * step
    units = units_of("isp" if grouped else None, start, end)
    # Some units already done (a resumed run): holes in the stretch to fetch.
    kept = draw(st.lists(st.booleans(), min_size=len(units), max_size=len(units)))
    units = [unit for unit, keep in zip(units, kept, strict=True) if keep] or units[:1]
    max_window = draw(st.none() | st.integers(1, 24 * 100).map(lambda h: timedelta(hours=h)))
    assume(max_window is None or max_window >= step)
    bytes_per_bucket = draw(st.floats(10, 2 * MAX_REPLY_BYTES))
    return units, granularity, grouped, max_window, bytes_per_bucket


@settings(max_examples=300, deadline=None)
@given(plans())
@example(  # a day of grouped one-minute buckets: 24 windows of an hour, the API's limit
    (units_of("isp", EPOCH, EPOCH + DAY), "PT1M", True, None, 500.0)
)
@example(  # a 413-sized bucket: one bucket a window, nothing shorter to ask for
    (units_of(None, EPOCH, EPOCH + DAY), "PT1H", False, None, 2.0 * MAX_REPLY_BYTES)
)
def test_every_unit_is_fetched_once_within_the_limits_in_at_most_twice_the_fewest_windows(
    case: tuple[list[ExportUnit], str, bool, timedelta | None, float],
) -> None:
    units, granularity, grouped, max_window, bytes_per_bucket = case
    parsed = parse_granularity(granularity, HISTORICAL)
    (query,) = {unit.query for unit in units}
    limits = WindowLimits.of(query, parsed, max_window)
    step = limits.step

    fetches = plan_fetches(units, limits, bytes_per_bucket)

    assert [unit for fetch in fetches for unit in fetch.units] == units
    span = api_limit(granularity, grouped, max_window)
    # The latest the API still keeps the first unit: within retention, and after the last.
    retention = MINUTELY_RETENTION if parsed.unit == "minute" else HISTORICAL_RETENTION
    now = units[0].start + retention
    windows = [window for fetch in fetches for window in fetch.windows]
    for fetch in fetches:
        assert len(fetch.windows) == 1 or len(fetch.units) == 1
        assert all(a.end == b.start for a, b in pairwise(fetch.units))
        edges = [fetch.windows[0][0], *(end for _, end in fetch.windows)]
        assert (edges[0], edges[-1]) == (fetch.units[0].start, fetch.units[-1].end)
        assert all(start < end for start, end in pairwise(edges))  # contiguous, in order
        assert all((edge - EPOCH) % step == timedelta(0) for edge in edges)  # on the grid
    for start, end in windows:
        buckets = (end - start) // step
        if buckets > 1:
            assert end - start <= span
            assert buckets * bytes_per_bucket <= MAX_REPLY_BYTES
        assert (
            check_window(HISTORICAL, start, end, parsed, grouped=grouped, limit=None, now=now)
            is None
        )
    assert len(windows) <= 2 * fewest_windows(units, step, span, bytes_per_bucket)


def test_a_year_is_fetched_in_the_fewest_90_day_windows_when_replies_are_small() -> None:
    units = units_of(None, EPOCH, EPOCH + 365 * DAY)
    limits = WindowLimits.of(units[0].query, parse_granularity("PT1H", HISTORICAL), None)
    fetches = plan_fetches(units, limits, bytes_per_bucket=120.0)
    assert [len(fetch.units) for fetch in fetches] == [90, 90, 90, 90, 5]


def test_the_size_estimate_shortens_windows_to_stay_under_the_reply_cap() -> None:
    units = units_of("isp", EPOCH, EPOCH + 90 * DAY)
    limits = WindowLimits.of(units[0].query, parse_granularity("PT1H", HISTORICAL), None)
    # 10,000 bytes a bucket: 570 buckets fit under 5,700,000, so 23 whole days (552 buckets).
    fetches = plan_fetches(units, limits, bytes_per_bucket=10_000.0)
    assert [len(fetch.units) for fetch in fetches] == [23, 23, 23, 21]


def test_a_unit_longer_than_one_request_is_fetched_in_windows_on_its_bucket_grid() -> None:
    units = units_of("isp", EPOCH, EPOCH + DAY)
    limits = WindowLimits.of(units[0].query, parse_granularity("PT5M", HISTORICAL), None)
    (fetch,) = plan_fetches(units, limits, bytes_per_bucket=100.0)
    assert fetch.units == tuple(units)
    assert [end - start for start, end in fetch.windows] == [timedelta(hours=5)] * 4 + [
        timedelta(hours=4)
    ]


def test_units_already_done_split_the_windows_around_them() -> None:
    units = units_of(None, EPOCH, EPOCH + 10 * DAY)
    todo = units[:3] + units[5:]
    limits = WindowLimits.of(units[0].query, parse_granularity("PT1H", HISTORICAL), None)
    fetches = plan_fetches(todo, limits, bytes_per_bucket=100.0)
    assert [fetch.windows for fetch in fetches] == [
        ((EPOCH, EPOCH + 3 * DAY),),
        ((EPOCH + 5 * DAY, EPOCH + 10 * DAY),),
    ]


def test_the_clients_max_window_caps_the_windows() -> None:
    units = units_of(None, EPOCH, EPOCH + 10 * DAY)
    limits = WindowLimits.of(units[0].query, parse_granularity("PT1H", HISTORICAL), 3 * DAY)
    fetches = plan_fetches(units, limits, bytes_per_bucket=100.0)
    assert [len(fetch.units) for fetch in fetches] == [3, 3, 3, 1]


def test_the_first_guess_at_a_reply_size_grows_with_metrics_and_groups() -> None:
    plain, grouped = export_queries("attempts", [None, "isp"])
    (group,) = export_queries("quality-summary", [None])
    (pair,) = export_queries([["plays", "bitrate"]], [None])
    assert prior_bytes_per_bucket(grouped) == 50 * prior_bytes_per_bucket(plain)
    assert prior_bytes_per_bucket(pair) == 2 * prior_bytes_per_bucket(plain)
    assert prior_bytes_per_bucket(group) > 5 * prior_bytes_per_bucket(plain)


def query_plan(days: int, *, measured: bool, bytes_per_bucket: float = 100.0) -> QueryPlan:
    units = units_of(None, EPOCH, EPOCH + days * DAY)
    fetches = tuple(Fetch((unit,), ((unit.start, unit.end),)) for unit in units)
    return QueryPlan(fetches, bytes_per_bucket, measured, timedelta(hours=1))


def test_a_query_without_a_measured_reply_sends_one_window_first() -> None:
    unmeasured, measured = query_plan(3, measured=False), query_plan(3, measured=True)
    chunk = next_chunk([unmeasured, measured])
    assert chunk == [unmeasured.fetches[0], measured.fetches[0], *measured.fetches[1:]]


def test_a_batch_keeps_its_estimated_replies_under_the_byte_budget() -> None:
    # 24 buckets of 100,000 bytes: 2,400,000 a day; two days fit under 5,000,000, not three.
    plan = query_plan(5, measured=True, bytes_per_bucket=100_000.0)
    assert next_chunk([plan], max_bytes=5_000_000) == list(plan.fetches[:2])
    too_big = query_plan(1, measured=True, bytes_per_bucket=10 * MAX_REPLY_BYTES)
    assert next_chunk([too_big], max_bytes=1) == list(too_big.fetches)  # one fetch at least


def test_batches_take_the_queries_in_turn_up_to_the_window_cap() -> None:
    first, second = query_plan(3, measured=True), query_plan(3, measured=True)
    chunk = next_chunk([first, second], max_windows=4)
    assert chunk == [first.fetches[0], second.fetches[0], first.fetches[1], second.fetches[1]]
    assert next_chunk([]) == []


@pytest.mark.parametrize("granularity", ["PT1M", "PT30M", "PT1H", "P1D"])
def test_limits_follow_the_apis_rules_for_each_granularity(granularity: str) -> None:
    plain, grouped = export_queries("attempts", [None, "isp"])
    parsed = parse_granularity(granularity, HISTORICAL)
    for query, is_grouped in ((plain, False), (grouped, True)):
        limits = WindowLimits.of(query, parsed, None)
        assert limits.span == max_span(HISTORICAL, parsed, grouped=is_grouped, limit=None)
