"""The API's limits in `pyconviva._rules`: granularities, range rules, buckets, instants."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva import _rules
from pyconviva._rules import (
    HISTORICAL,
    REAL_TIME,
    Granularity,
    Root,
    align_down,
    allowed_granularities,
    bucket_starts,
    check_window,
    days_window,
    default_granularity,
    format_instant,
    max_span,
    minutes_window,
    parse_granularity,
    parse_instant,
    to_kebab,
    to_snake,
)

UTC = timezone.utc
DOC_NOW = datetime(2023, 1, 1, tzinfo=UTC)
DOC_REAL_TIME_NOW = datetime(2023, 1, 1, 14, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return parse_instant(text)


def hist(text: str) -> Granularity:
    return parse_granularity(text, HISTORICAL)


# --- granularities -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "root", "canonical", "step", "unit"),
    [
        ("PT1H", HISTORICAL, "PT1H", timedelta(hours=1), "hour"),
        ("pt6h", HISTORICAL, "PT6H", timedelta(hours=6), "hour"),
        ("PT30M", HISTORICAL, "PT30M", timedelta(minutes=30), "minute"),
        ("p1d", HISTORICAL, "P1D", timedelta(days=1), "day"),
        ("P30D", HISTORICAL, "P30D", timedelta(days=30), "day"),
        ("P1W", HISTORICAL, "P1W", timedelta(weeks=1), "week"),
        ("P10W", HISTORICAL, "P10W", timedelta(weeks=10), "week"),
        ("all", HISTORICAL, "ALL", None, "all"),
        ("PT10S", REAL_TIME, "PT10S", timedelta(seconds=10), "second"),
        ("pt59s", REAL_TIME, "PT59S", timedelta(seconds=59), "second"),
        ("PT1M", REAL_TIME, "PT1M", timedelta(minutes=1), "minute"),
        (" ALL ", REAL_TIME, "ALL", None, "all"),
    ],
)
def test_parse_granularity_returns_canonical_text_step_and_unit(
    text: str, root: Root, canonical: str, step: timedelta | None, unit: str
) -> None:
    assert parse_granularity(text, root) == Granularity(canonical, step, unit)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "root"),
    [
        ("PT7M", HISTORICAL),
        ("PT24H", HISTORICAL),
        ("P31D", HISTORICAL),
        ("P11W", HISTORICAL),
        ("PT10S", HISTORICAL),
        ("PT1H", REAL_TIME),
        ("PT9S", REAL_TIME),
        ("PT2M", REAL_TIME),
        ("P1D", REAL_TIME),
        ("hourly", HISTORICAL),
        ("", HISTORICAL),
    ],
)
def test_parse_granularity_rejects_values_the_root_does_not_allow_and_lists_them(
    text: str, root: Root
) -> None:
    with pytest.raises(ValueError, match="use one of") as info:
        parse_granularity(text, root)
    assert repr(text) in str(info.value)


def test_allowed_granularities_have_the_documented_counts() -> None:
    historical = allowed_granularities(HISTORICAL)
    assert len(historical) == 11 + 23 + 30 + 10 + 1
    assert historical[:11] == tuple(f"PT{n}M" for n in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30))
    assert allowed_granularities(REAL_TIME) == (
        *(f"PT{n}S" for n in range(10, 60)),
        "PT1M",
        "ALL",
    )


def test_default_granularities_are_hourly_historical_and_minutely_real_time() -> None:
    assert default_granularity(HISTORICAL) == "PT1H"
    assert default_granularity(REAL_TIME) == "PT1M"


@pytest.mark.parametrize(
    ("granularity", "grouped", "limit", "expected"),
    [
        ("PT1H", False, None, timedelta(days=90)),
        ("PT1H", True, None, timedelta(days=90)),
        ("P1D", True, 50, timedelta(days=90)),
        ("PT1H", True, 51, timedelta(hours=24)),
        ("PT1M", False, None, timedelta(hours=24)),
        ("PT1M", True, None, timedelta(hours=1)),
        ("PT2M", True, None, timedelta(hours=2)),
        ("PT3M", True, None, timedelta(hours=3)),
        ("PT4M", True, None, timedelta(hours=4)),
        ("PT5M", True, None, timedelta(hours=5)),
        ("PT6M", True, None, timedelta(hours=6)),
        ("PT10M", True, None, timedelta(hours=10)),
        ("PT12M", True, None, timedelta(hours=12)),
        ("PT15M", True, None, timedelta(hours=15)),
        ("PT20M", True, None, timedelta(hours=20)),
        ("PT30M", True, None, timedelta(hours=24)),
        ("PT5M", True, 500, timedelta(hours=5)),
    ],
)
def test_max_span_of_historical_requests(
    granularity: str, grouped: bool, limit: int | None, expected: timedelta
) -> None:
    assert max_span(HISTORICAL, hist(granularity), grouped=grouped, limit=limit) == expected


def test_max_span_of_real_time_requests_is_fifteen_minutes() -> None:
    g = parse_granularity("PT10S", REAL_TIME)
    assert max_span(REAL_TIME, g, grouped=True, limit=500) == timedelta(minutes=15)


# --- range rules: the documented examples --------------------------------------------------


@pytest.mark.parametrize(("days", "ok"), [(85, True), (100, False), (90, True), (91, False)])
def test_days_examples_of_the_time_range_page(days: int, ok: bool) -> None:
    start, end = days_window(days, DOC_NOW)
    violation = check_window(
        HISTORICAL, start, end, hist("PT1H"), grouped=False, limit=None, now=DOC_NOW
    )
    assert (violation is None) is ok
    if violation is not None:
        assert violation.status == 422
        assert "90 days" in violation.message


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2022-10-24", "2022-12-25", None),
        ("2022-06-24", "2022-12-25", "spans 184 days, 94 days more than the 90 days allowed"),
        ("2021-01-01", "2022-12-25", "before the earliest allowed start 2021-12-01T00:00:00Z"),
    ],
)
def test_start_end_examples_of_the_time_range_page(
    start: str, end: str, expected: str | None
) -> None:
    violation = check_window(
        HISTORICAL, at(start), at(end), hist("PT1H"), grouped=False, limit=None, now=DOC_NOW
    )
    if expected is None:
        assert violation is None
    else:
        assert violation is not None
        assert violation.status == 422
        assert expected in violation.message


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("13:50", "14:10", None),  # an end in the future is accepted
        (
            "13:30",
            "14:00",
            "spans 30 minutes up to now, 15 minutes more than the 15 minutes allowed",
        ),
        ("13:30", "13:40", "starts 15 minutes before the earliest allowed start"),
    ],
)
def test_real_time_examples_of_the_time_range_page(
    start: str, end: str, expected: str | None
) -> None:
    violation = check_window(
        REAL_TIME,
        at(f"2023-01-01T{start}:00Z"),
        at(f"2023-01-01T{end}:00Z"),
        parse_granularity("PT1M", REAL_TIME),
        grouped=False,
        limit=None,
        now=DOC_REAL_TIME_NOW,
    )
    if expected is None:
        assert violation is None
    else:
        assert violation is not None
        assert violation.status == 422
        assert expected in violation.message


def test_minutes_twelve_is_accepted_in_real_time() -> None:
    start, end = minutes_window(12, DOC_REAL_TIME_NOW)
    g = parse_granularity("PT1M", REAL_TIME)
    assert (
        check_window(REAL_TIME, start, end, g, grouped=False, limit=None, now=DOC_REAL_TIME_NOW)
        is None
    )


def test_days_worked_example_snaps_to_the_clock_hour_and_stamps_bucket_starts() -> None:
    now = at("2022-01-02T04:20:00Z")
    start, end = days_window(5, now)
    assert (start, end) == (at("2021-12-28T04:00:00Z"), at("2022-01-02T04:00:00Z"))
    stamps = bucket_starts(start, end, hist("PT1H"))
    assert len(stamps) == 5 * 24
    assert stamps[-1] == at("2022-01-02T03:00:00Z")


# --- range rules: the rest of the table ----------------------------------------------------

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    ("root", "start", "end", "granularity", "grouped", "limit", "status", "needle"),
    [
        (HISTORICAL, NOW, NOW, "PT1H", False, None, 400, "start must be before the end"),
        (HISTORICAL, NOW, NOW - timedelta(hours=1), "PT1H", False, None, 400, "empty"),
        (REAL_TIME, NOW, NOW, "PT1M", False, None, 400, "start must be before the end"),
        (
            HISTORICAL,
            NOW - timedelta(days=397),
            NOW - timedelta(days=390),
            "P1D",
            False,
            None,
            422,
            "starts 24 hours before the earliest allowed start",
        ),
        (
            HISTORICAL,
            NOW - timedelta(days=32),
            NOW - timedelta(days=31, hours=23),
            "PT5M",
            False,
            None,
            422,
            "minutely data is kept for 31 days",
        ),
        (
            HISTORICAL,
            NOW - timedelta(hours=25),
            NOW,
            "PT1M",
            False,
            None,
            422,
            "1 hour more than the 24 hours allowed for minutely granularity PT1M without group-by",
        ),
        (
            HISTORICAL,
            NOW - timedelta(hours=7),
            NOW,
            "PT6M",
            True,
            None,
            422,
            "1 hour more than the 6 hours allowed for minutely granularity PT6M with group-by",
        ),
        (
            HISTORICAL,
            NOW - timedelta(hours=25),
            NOW,
            "PT30M",
            True,
            None,
            422,
            "more than the 24 hours allowed for minutely granularity PT30M with group-by",
        ),
        (
            HISTORICAL,
            NOW - timedelta(days=2),
            NOW,
            "PT1H",
            True,
            51,
            422,
            "24 hours more than the 24 hours allowed for a group-by request with limit=51",
        ),
        (
            REAL_TIME,
            NOW - timedelta(minutes=16),
            NOW - timedelta(minutes=10),
            "PT1M",
            False,
            None,
            422,
            "starts 1 minute before the earliest allowed start",
        ),
    ],
)
def test_check_window_reports_status_and_the_broken_limit(
    root: Root,
    start: datetime,
    end: datetime,
    granularity: str,
    grouped: bool,
    limit: int | None,
    status: int,
    needle: str,
) -> None:
    g = parse_granularity(granularity, root)
    violation = check_window(root, start, end, g, grouped=grouped, limit=limit, now=NOW)
    assert violation is not None
    assert violation.status == status
    assert needle in violation.message


@pytest.mark.parametrize(
    ("start", "end", "granularity", "grouped", "limit"),
    [
        (NOW - timedelta(days=90), NOW, "PT1H", False, None),
        (NOW - timedelta(days=396), NOW - timedelta(days=310), "P1W", True, 50),
        (NOW - timedelta(hours=24), NOW, "PT1M", False, None),
        (NOW - timedelta(hours=5), NOW, "PT5M", True, None),
        (NOW - timedelta(hours=24), NOW, "PT30M", True, 500),
        (NOW - timedelta(days=31), NOW - timedelta(days=30), "PT2M", False, None),
        (NOW - timedelta(hours=24), NOW, "ALL", True, 500),
    ],
)
def test_check_window_accepts_ranges_at_the_limits(
    start: datetime, end: datetime, granularity: str, grouped: bool, limit: int | None
) -> None:
    g = hist(granularity)
    assert check_window(HISTORICAL, start, end, g, grouped=grouped, limit=limit, now=NOW) is None


def test_span_violations_say_how_to_fix_them() -> None:
    violation = check_window(
        HISTORICAL,
        NOW - timedelta(days=120),
        NOW,
        hist("P1D"),
        grouped=False,
        limit=None,
        now=NOW,
    )
    assert violation is not None
    assert "bulk splitting" in violation.message


def test_check_window_takes_naive_datetimes_as_utc() -> None:
    naive_now = NOW.replace(tzinfo=None)
    g = hist("PT1H")
    assert (
        check_window(
            HISTORICAL,
            naive_now - timedelta(days=1),
            naive_now,
            g,
            grouped=False,
            limit=None,
            now=NOW,
        )
        is None
    )


# --- windows, alignment, buckets -----------------------------------------------------------


def test_minutes_window_ends_at_the_end_of_the_current_minute() -> None:
    assert minutes_window(5, NOW) == (at("2025-01-10T12:30:00Z"), at("2025-01-10T12:35:00Z"))


@pytest.mark.parametrize(
    ("granularity", "root", "expected"),
    [
        ("PT10S", REAL_TIME, "2025-01-08T12:34:56Z"),
        ("PT5M", HISTORICAL, "2025-01-08T12:34:00Z"),
        ("PT6H", HISTORICAL, "2025-01-08T12:00:00Z"),
        ("P1D", HISTORICAL, "2025-01-08T00:00:00Z"),
        ("P1W", HISTORICAL, "2025-01-06T00:00:00Z"),  # Monday
        ("ALL", HISTORICAL, "2025-01-08T12:34:56Z"),
    ],
)
def test_align_down_snaps_to_the_granularity_unit(
    granularity: str, root: Root, expected: str
) -> None:
    t = datetime(2025, 1, 8, 12, 34, 56, 789, tzinfo=UTC)  # a Wednesday
    g = parse_granularity(granularity, root)
    assert format_instant(align_down(t, g)) == expected


def test_bucket_starts_clip_the_last_bucket_but_keep_its_start_stamp() -> None:
    stamps = bucket_starts(at("2022-01-01T04:00:00Z"), at("2022-01-02T03:45:00Z"), hist("PT6H"))
    assert [format_instant(s) for s in stamps] == [
        "2022-01-01T04:00:00Z",
        "2022-01-01T10:00:00Z",
        "2022-01-01T16:00:00Z",
        "2022-01-01T22:00:00Z",  # runs to 03:45 only, still stamped 22:00
    ]


def test_bucket_starts_of_all_is_one_bucket_at_the_range_start() -> None:
    start, end = at("2025-01-01T10:17:00Z"), at("2025-01-03T00:00:00Z")
    assert bucket_starts(start, end, hist("ALL")) == [start]


def test_bucket_starts_of_an_empty_range_is_empty() -> None:
    assert bucket_starts(NOW, NOW, hist("PT1H")) == []


HISTORICAL_STEPPED = [g for g in allowed_granularities(HISTORICAL) if g != "ALL"]
REAL_TIME_STEPPED = [g for g in allowed_granularities(REAL_TIME) if g != "ALL"]
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(
    start=instants,
    steps=st.floats(min_value=0.001, max_value=60.0),
    granularity=st.sampled_from(HISTORICAL_STEPPED + REAL_TIME_STEPPED),
)
def test_bucket_starts_are_aligned_sorted_evenly_spaced_and_before_the_end(
    start: datetime, steps: float, granularity: str
) -> None:
    root = REAL_TIME if granularity.endswith("S") else HISTORICAL
    g = parse_granularity(granularity, root)
    assert g.step is not None
    end = start + max(g.step * steps, timedelta(microseconds=1))
    stamps = bucket_starts(start, end, g)
    assert stamps[0] == align_down(start, g)
    assert stamps[0] <= start
    assert all(s < end for s in stamps)
    assert stamps == sorted(stamps)
    assert all(b - a == g.step for a, b in pairwise(stamps))


@settings(max_examples=200, deadline=None)
@given(t=instants)
def test_format_then_parse_round_trips_to_the_second(t: datetime) -> None:
    assert parse_instant(format_instant(t)) == t.replace(microsecond=0)


@settings(max_examples=100, deadline=None)
@given(
    t=instants,
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_parse_instant_converts_offsets_to_utc(t: datetime, offset_minutes: int) -> None:
    t = t.replace(microsecond=0)
    zone = timezone(timedelta(minutes=offset_minutes))
    text = t.astimezone(zone).isoformat()
    assert parse_instant(text) == t
    assert format_instant(parse_instant(text)) == format_instant(t)


# --- instants and names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-01-01T04:00:00Z", "2022-01-01T04:00:00Z"),
        ("2022-01-01T04:00:00", "2022-01-01T04:00:00Z"),
        ("2022-01-01T04:00:00+02:00", "2022-01-01T02:00:00Z"),
        ("2022-01-01T04:00:00-0130", "2022-01-01T05:30:00Z"),
        ("2022-01-01", "2022-01-01T00:00:00Z"),
        ("2025-01-01T12:00:00.000Z", "2025-01-01T12:00:00Z"),
        ("2025-01-06T12:59:59.999999999Z", "2025-01-06T12:59:59Z"),
        ("2022-01-01T04:00Z", "2022-01-01T04:00:00Z"),
        ("2022-01-01 04:00:00z", "2022-01-01T04:00:00Z"),
    ],
)
def test_parse_instant_accepts_every_documented_iso_form(text: str, expected: str) -> None:
    parsed = parse_instant(text)
    assert parsed.tzinfo is not None
    assert parsed.utcoffset() == timedelta(0)
    assert format_instant(parsed) == expected


def test_parse_instant_keeps_fractional_seconds() -> None:
    assert parse_instant("2025-01-01T12:00:00.25Z").microsecond == 250_000


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2022-13-01", "2022-02-30T00:00:00Z", "1641009600", "2022-01-01T25:00"],
)
def test_parse_instant_rejects_what_is_not_an_iso_instant(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text).replace("\\", "\\\\")):
        parse_instant(text)


def test_format_instant_converts_to_utc_and_takes_naive_as_utc() -> None:
    aware = datetime(2025, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert format_instant(aware) == "2025-01-01T12:00:00Z"
    assert format_instant(datetime(2025, 1, 1, 12, 0, 0, 500_000)) == "2025-01-01T12:00:00Z"


@pytest.mark.parametrize(
    ("snake", "kebab"),
    [("device_name", "device-name"), ("geo_country_code", "geo-country-code"), ("isp", "isp")],
)
def test_snake_and_kebab_convert_both_ways(snake: str, kebab: str) -> None:
    assert to_kebab(snake) == kebab
    assert to_snake(kebab) == snake
    assert to_kebab(kebab) == kebab
    assert to_snake(snake) == snake


def test_published_limits() -> None:
    assert (_rules.MAX_METRICS, _rules.DEFAULT_LIMIT, _rules.MAX_LIMIT) == (12, 50, 500)
    assert _rules.API_PREFIX == "/insights/3.0"
    assert tuple(_rules.HISTORICAL_RATE) == (400, 60.0)
    assert tuple(_rules.REAL_TIME_RATE) == (500, 60.0)
    assert tuple(_rules.PER_IP_RATE) == (3000, 300.0)
    assert _rules.MAX_REPLY_BYTES == 5_700_000
