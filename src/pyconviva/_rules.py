"""The Metrics V3 API's limits as data, and pure checks over them.

One place for every rule about granularities, time ranges, bucket alignment and instants, so
that the client (which turns a violation into ``QueryError``) and the emulator (which turns it
into a 400/422 reply) can never disagree. Sources: the API reference §3.1–3.3, §3.5, §4.6, §8, §9.

Bucket alignment (our choice where the docs are silent): the range start is snapped down to the
granularity's unit (second, minute, hour, UTC midnight, Monday 00:00 UTC); buckets then start
every ``step`` from there; the last one is clipped to the range end but keeps its start stamp.
``ALL`` is one bucket stamped at the range start. Every datetime in and out is aware UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, NamedTuple

__all__ = [
    "API_PREFIX",
    "DEFAULT_LIMIT",
    "HISTORICAL",
    "HISTORICAL_MAX_DAYS",
    "HISTORICAL_MAX_SPAN",
    "HISTORICAL_RATE",
    "HISTORICAL_RETENTION",
    "MAX_LIMIT",
    "MAX_METRICS",
    "MAX_REPLY_BYTES",
    "MINUTELY_MAX_SPAN",
    "MINUTELY_RETENTION",
    "PER_IP_RATE",
    "REAL_TIME",
    "REAL_TIME_DEFAULT_MINUTES",
    "REAL_TIME_MAX_MINUTES",
    "REAL_TIME_MAX_SPAN",
    "REAL_TIME_RATE",
    "WIDE_LIMIT_MAX_SPAN",
    "Granularity",
    "GranularityUnit",
    "RangeViolation",
    "RateLimit",
    "Root",
    "align_down",
    "allowed_granularities",
    "as_utc",
    "bucket_starts",
    "check_window",
    "days_window",
    "default_granularity",
    "format_instant",
    "human_duration",
    "is_filter_parameter",
    "last_full_hour",
    "max_span",
    "minutes_window",
    "parse_granularity",
    "parse_instant",
    "request_cost",
    "to_kebab",
    "to_snake",
]

Root = Literal["metrics", "real-time-metrics"]
HISTORICAL: Root = "metrics"
REAL_TIME: Root = "real-time-metrics"
API_PREFIX = "/insights/3.0"

MAX_METRICS = 12
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
HISTORICAL_MAX_DAYS = 90
REAL_TIME_MAX_MINUTES = 15
REAL_TIME_DEFAULT_MINUTES = 5

HISTORICAL_MAX_SPAN = timedelta(days=90)
HISTORICAL_RETENTION = timedelta(days=396)
MINUTELY_RETENTION = timedelta(days=31)
MINUTELY_MAX_SPAN = timedelta(hours=24)
REAL_TIME_MAX_SPAN = timedelta(minutes=15)
WIDE_LIMIT_MAX_SPAN = timedelta(hours=24)
MAX_REPLY_BYTES = 5_700_000

# How long the newest data keeps filling in after its bucket ends (API reference §9; the emulator
# models both): historical buckets for about 10 minutes, real-time minutes for about one. Work
# that stores data for good (exports, loads into a warehouse) waits this long; live views show
# the newest minute that has settled.
HISTORICAL_SETTLE_DELAY = timedelta(minutes=10)
REAL_TIME_SETTLE_DELAY = timedelta(minutes=1)


class RateLimit(NamedTuple):
    """A request budget: at most ``requests`` per ``period`` seconds."""

    requests: int
    period: float


HISTORICAL_RATE = RateLimit(400, 60.0)
REAL_TIME_RATE = RateLimit(500, 60.0)
PER_IP_RATE = RateLimit(3000, 300.0)

GranularityUnit = Literal["second", "minute", "hour", "day", "week", "all"]


@dataclass(frozen=True)
class Granularity:
    """A parsed granularity: canonical text, bucket step (``None`` for ALL) and unit."""

    text: str
    step: timedelta | None
    unit: GranularityUnit


class RangeViolation(NamedTuple):
    """A broken time-range rule: the status the API answers (400 malformed, 422 outside limits)
    and a message that says which limit, by how much, and what to do."""

    status: int
    message: str


# Group-by caps of the minutely granularities: `PTnM` allows n hours, 24 at most (§3.3).
_GROUPED_MINUTELY_HOURS = {
    1: 1,
    2: 2,
    3: 3,
    4: 4,
    5: 5,
    6: 6,
    10: 10,
    12: 12,
    15: 15,
    20: 20,
    30: 24,
}


def _family(
    template: str, counts: Iterable[int], unit: GranularityUnit, step: timedelta
) -> dict[str, Granularity]:
    """One family of granularities, e.g. ``PT{n}H`` for n in 1..23, by canonical text."""
    family = (Granularity(template.format(n=n), step * n, unit) for n in counts)
    return {granularity.text: granularity for granularity in family}


_ALL = {"ALL": Granularity("ALL", None, "all")}
_GRANULARITIES: dict[Root, dict[str, Granularity]] = {
    HISTORICAL: {
        **_family("PT{n}M", tuple(_GROUPED_MINUTELY_HOURS), "minute", timedelta(minutes=1)),
        **_family("PT{n}H", range(1, 24), "hour", timedelta(hours=1)),
        **_family("P{n}D", range(1, 31), "day", timedelta(days=1)),
        **_family("P{n}W", range(1, 11), "week", timedelta(weeks=1)),
        **_ALL,
    },
    REAL_TIME: {
        **_family("PT{n}S", range(10, 60), "second", timedelta(seconds=1)),
        **_family("PT{n}M", (1,), "minute", timedelta(minutes=1)),
        **_ALL,
    },
}
# The same lists written compactly, for error messages.
_ALLOWED_TEXT: dict[Root, str] = {
    HISTORICAL: "PT1M, PT2M, PT3M, PT4M, PT5M, PT6M, PT10M, PT12M, PT15M, PT20M, PT30M, "
    "PT1H..PT23H, P1D..P30D, P1W..P10W or ALL",
    REAL_TIME: "PT10S..PT59S, PT1M or ALL",
}


def allowed_granularities(root: Root) -> tuple[str, ...]:
    """Every granularity the root accepts, in canonical text."""
    return tuple(_GRANULARITIES[root])


def default_granularity(root: Root) -> str:
    """The granularity the API uses when none is given: PT1H historical, PT1M real-time."""
    return "PT1H" if root == HISTORICAL else "PT1M"


def parse_granularity(text: str, root: Root) -> Granularity:
    """Parse a granularity for ``root`` (case-insensitive); ValueError names the allowed values."""
    granularity = _GRANULARITIES[root].get(text.strip().upper())
    if granularity is None:
        raise ValueError(
            f"granularity {text!r} is not valid for the {root} endpoints; "
            f"use one of {_ALLOWED_TEXT[root]}"
        )
    return granularity


def max_span(
    root: Root, granularity: Granularity, *, grouped: bool, limit: int | None
) -> timedelta:
    """The longest range one request may cover with these settings."""
    if root == REAL_TIME:
        return REAL_TIME_MAX_SPAN
    span = HISTORICAL_MAX_SPAN
    if granularity.unit == "minute":
        span = _minutely_cap(granularity, grouped=grouped)
    if limit is not None and limit > DEFAULT_LIMIT:
        span = min(span, WIDE_LIMIT_MAX_SPAN)
    return span


def _minutely_cap(granularity: Granularity, *, grouped: bool) -> timedelta:
    if not grouped or granularity.step is None:
        return MINUTELY_MAX_SPAN
    minutes = granularity.step // timedelta(minutes=1)
    return timedelta(hours=_GROUPED_MINUTELY_HOURS[minutes])


_FIX = "split the range into shorter requests or use pyconviva's bulk splitting"


def check_window(
    root: Root,
    start: datetime,
    end: datetime,
    granularity: Granularity,
    *,
    grouped: bool,
    limit: int | None,
    now: datetime,
) -> RangeViolation | None:
    """The first rule the range [start, end) breaks at ``now``, or ``None`` when it is legal.

    Real-time ranges may end in the future (the API accepts it), so their length is counted up
    to ``now``. Naive datetimes are taken as UTC.
    """
    start, end, now = as_utc(start), as_utc(end), as_utc(now)
    if start >= end:
        return RangeViolation(
            400,
            f"the range {_shown(start, end)} is empty: the start must be before the end; "
            "swap or fix them",
        )
    if root == REAL_TIME:
        return _check_real_time(start, end, now)
    return _check_historical(start, end, granularity, grouped=grouped, limit=limit, now=now)


def _shown(start: datetime, end: datetime) -> str:
    """The range as messages write it (built only for a violation: a legal range is the
    common case, checked on every request)."""
    return f"{format_instant(start)}..{format_instant(end)}"


def _check_real_time(start: datetime, end: datetime, now: datetime) -> RangeViolation | None:
    span = min(end, now) - start
    if span > REAL_TIME_MAX_SPAN:
        return RangeViolation(
            422,
            f"the real-time range {_shown(start, end)} spans {human_duration(span)} up to now, "
            f"{human_duration(span - REAL_TIME_MAX_SPAN)} more than the "
            f"{human_duration(REAL_TIME_MAX_SPAN)} allowed for real-time requests; shorten it, "
            "or use the historical endpoints for older data",
        )
    earliest = now - REAL_TIME_MAX_SPAN
    if start < earliest:
        return RangeViolation(
            422,
            f"the real-time range {_shown(start, end)} starts "
            f"{human_duration(earliest - start)} before the earliest allowed start "
            f"{format_instant(earliest)} (real-time data covers only the last "
            f"{human_duration(REAL_TIME_MAX_SPAN)}); use a later start, or the historical "
            "endpoints for older data",
        )
    return None


def _check_historical(
    start: datetime,
    end: datetime,
    granularity: Granularity,
    *,
    grouped: bool,
    limit: int | None,
    now: datetime,
) -> RangeViolation | None:
    earliest = now - HISTORICAL_RETENTION
    if start < earliest:
        return RangeViolation(
            422,
            f"the range {_shown(start, end)} starts {human_duration(earliest - start)} before the "
            "earliest "
            f"allowed start {format_instant(earliest)} (historical data is kept for 13 months, "
            f"{HISTORICAL_RETENTION.days} days); use a later start",
        )
    if granularity.unit == "minute":
        earliest_minutely = now - MINUTELY_RETENTION
        if start < earliest_minutely:
            return RangeViolation(
                422,
                f"the range {_shown(start, end)} starts "
                f"{human_duration(earliest_minutely - start)} before "
                f"{format_instant(earliest_minutely)}, the earliest start for minutely granularity "
                f"{granularity.text} (minutely data is kept for {MINUTELY_RETENTION.days} days); "
                "use a later start or an hourly or coarser granularity",
            )
    span = end - start
    allowed = max_span(HISTORICAL, granularity, grouped=grouped, limit=limit)
    if span <= allowed:
        return None
    return RangeViolation(
        422,
        f"the range {_shown(start, end)} spans {human_duration(span)}, "
        f"{human_duration(span - allowed)} more than the {human_duration(allowed)} allowed for "
        f"{_span_reason(granularity, grouped=grouped, limit=limit)}; {_FIX}",
    )


def _span_reason(granularity: Granularity, *, grouped: bool, limit: int | None) -> str:
    """Which rule set the span limit, in words. Minutely caps (24 h at most) are never looser
    than the wide-limit cap, so they take precedence."""
    if granularity.unit == "minute":
        grouping = "with group-by" if grouped else "without group-by"
        return f"minutely granularity {granularity.text} {grouping}"
    if limit is not None and limit > DEFAULT_LIMIT:
        return f"a group-by request with limit={limit} (over {DEFAULT_LIMIT})"
    return "one historical request"


def last_full_hour(now: datetime) -> datetime:
    """``now`` floored to the clock hour: where ``days=N`` ranges end (§3.2)."""
    return as_utc(now).replace(minute=0, second=0, microsecond=0)


def days_window(days: int, now: datetime) -> tuple[datetime, datetime]:
    """The range ``days=N`` selects: N days back from ``now`` floored to the clock hour."""
    end = last_full_hour(now)
    return end - timedelta(days=days), end


def minutes_window(minutes: int, now: datetime) -> tuple[datetime, datetime]:
    """The range ``minutes=N`` selects: N minutes up to the end of the current minute."""
    end = as_utc(now).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return end - timedelta(minutes=minutes), end


def align_down(t: datetime, granularity: Granularity) -> datetime:
    """Snap ``t`` down to the granularity's unit (Monday 00:00 UTC for weeks; as is for ALL)."""
    t = as_utc(t)
    unit = granularity.unit
    if unit == "all":
        return t
    t = t.replace(microsecond=0)
    if unit == "second":
        return t
    t = t.replace(second=0)
    if unit == "minute":
        return t
    t = t.replace(minute=0)
    if unit == "hour":
        return t
    t = t.replace(hour=0)
    if unit == "day":
        return t
    return t - timedelta(days=t.weekday())


def bucket_starts(start: datetime, end: datetime, granularity: Granularity) -> list[datetime]:
    """Start stamps of the buckets covering [start, end), per the module's alignment rule."""
    start, end = as_utc(start), as_utc(end)
    if start >= end:
        return []
    if granularity.step is None:
        return [start]
    stamps = []
    t = align_down(start, granularity)
    while t < end:
        stamps.append(t)
        t += granularity.step
    return stamps


_INSTANT_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"([Zz]|[+-]\d{2}:?\d{2})?)?"
)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant as the API accepts it (§3.1): ``Z``, an offset, no zone (UTC),
    fractional seconds, or a date alone (UTC midnight). Returns aware UTC; ValueError otherwise."""
    match = _INSTANT_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not an ISO 8601 instant; use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS, "
            "YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS+HH:MM"
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micros,
            tzinfo=_zone(zone),
        )
        return parsed.astimezone(timezone.utc)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date or time: {exc}") from exc
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError(f"{text!r} is out of range once converted to UTC") from exc


def _zone(text: str | None) -> timezone:
    if text is None or text in "Zz":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(sign * offset)


def format_instant(t: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC (naive means UTC; sub-second digits are dropped)."""
    return as_utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


# Query parameters that shape a request without filtering it; every other parameter (a
# dimension, `tag_…` or `filter_id`) is a filter value, which the rate limits charge for (§8).
_SHAPING_PARAMETERS = frozenset(
    {
        "metric",
        "granularity",
        "days",
        "minutes",
        "start_date",
        "end_date",
        "start_epoch",
        "end_epoch",
        "start_epoch_ms",
        "end_epoch_ms",
        "kpi_id",
        "sort_by",
        "order",
        "limit",
        "no_nils",
    }
)


def is_filter_parameter(name: str) -> bool:
    """Whether query parameter ``name`` filters (a dimension, ``tag_…``, ``filter_id``)."""
    return name not in _SHAPING_PARAMETERS


def request_cost(params: Iterable[tuple[str, str]]) -> int:
    """What one request costs against the rate budgets: one per filter value, at least one.

    The API counts "requests and applied filters": 100 requests with 5 filters use the same
    budget as 500 requests with 1 (§8). A repeated key (OR within a dimension) is one value each.
    The client's limiter and the emulator's enforcement both charge with this.
    """
    return max(1, sum(1 for key, _ in params if is_filter_parameter(key)))


def to_snake(name: str) -> str:
    """``device-name`` -> ``device_name`` (the query-parameter and response-key spelling)."""
    return name.replace("-", "_")


def to_kebab(name: str) -> str:
    """``device_name`` -> ``device-name`` (the path spelling)."""
    return name.replace("_", "-")


def as_utc(t: datetime) -> datetime:
    """Aware UTC: naive datetimes are taken as UTC, aware ones are converted."""
    if t.tzinfo is None:
        return t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc)


def human_duration(delta: timedelta) -> str:
    """A duration in words, largest units first (hours up to two days): ``90 days``,
    ``30 hours``, ``15 minutes 56 seconds``."""
    seconds = int(delta.total_seconds())
    units: tuple[tuple[str, int], ...] = (
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
        ("second", 1),
    )
    if seconds < 2 * 86400:
        units = units[1:]
    parts = []
    for name, size in units:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts) or "less than a second"
