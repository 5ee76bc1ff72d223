"""Property: any argument combination either reaches the emulator as a request it accepts, or
fails with QueryError before any request is sent — never another exception.

Arguments mix valid and invalid values for every parameter of ``get_historical_data`` and
``get_real_time_data``. Client and emulator share one fixed clock, so "now" means the same on
both sides. Only answers the client cannot know offline are allowed from the emulator: a 404 or
400 naming a metric, dimension or custom tag outside the built-in catalogue (accounts differ),
and a 413 for a reply over the size cap.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from pyconviva import (
    APIStatusError,
    BadRequestError,
    ConvivaAPI,
    MetricsResult,
    NotFoundError,
    QueryError,
    QuerySpec,
    ResponseTooLargeError,
)
from pyconviva._catalog import DIMENSIONS, METRIC_ALIASES, METRIC_GROUPS, METRICS
from pyconviva._query import build_metrics_query
from pyconviva._rules import (
    HISTORICAL,
    REAL_TIME,
    Root,
    allowed_granularities,
    to_kebab,
    to_snake,
)
from pyconviva.emulator import Emulator
from pyconviva.emulator._population import CUSTOM_TAGS, KPIS, SAVED_FILTERS

NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=timezone.utc)
EXAMPLES = 600
# Property-based like the hostile suite, and as costly: it runs in that CI step.
pytestmark = pytest.mark.hostile

METRIC_NAMES = sorted(METRICS)
KNOWN_METRICS = {*METRICS, *METRIC_ALIASES, *METRIC_GROUPS}
KNOWN_METRICS |= {name.replace("-", "_") for name in KNOWN_METRICS}
DIMENSION_NAMES = sorted(DIMENSIONS)
FILTERABLE = sorted(d.name for d in DIMENSIONS.values() if d.filterable)
KNOWN_DIMENSIONS = {*DIMENSIONS, *(d.key for d in DIMENSIONS.values())}
UNKNOWN_NAME = "not-in-the-catalogue"
GRANULARITIES = sorted(
    set(allowed_granularities(HISTORICAL)) | set(allowed_granularities(REAL_TIME))
)


@dataclass
class Names:
    """Which names of an example the catalogue does not know (the server may refuse them)."""

    unknown: set[str] = field(default_factory=set)


def junk() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.just(""),
        st.just("a/b"),
        st.just("x?y=1"),
        st.just(" attempts"),
        st.lists(st.integers(), max_size=2),
        st.just({"k": "v"}),
        st.just(object()),
    )


def spelled(name: str) -> st.SearchStrategy[str]:
    """A catalogue name as kebab or snake case, as callers write it."""
    return st.sampled_from([name, name.replace("-", "_")])


def mostly(
    valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """``valid`` nine times in ten: with nine parameters, about a third of the calls are valid
    throughout and reach the emulator, the rest probe one or more bad values."""
    return st.integers(0, 9).flatmap(lambda n: invalid if n == 0 else valid)


metric_name = st.sampled_from(METRIC_NAMES).flatmap(spelled)
metrics_arg = mostly(
    st.one_of(
        metric_name,
        st.sampled_from(sorted(METRIC_GROUPS)),
        st.lists(st.sampled_from(METRIC_NAMES), min_size=1, max_size=4, unique=True),
    ),
    st.one_of(
        st.lists(metric_name, min_size=1, max_size=14),
        st.just(UNKNOWN_NAME),
        st.just([]),
        st.just(("attempts", "attempts")),
        junk(),
    ),
)
group_by_arg = mostly(
    st.one_of(
        st.none(),
        st.sampled_from(DIMENSION_NAMES).flatmap(spelled),
        st.sampled_from(CUSTOM_TAGS).map(lambda tag: {"custom-tag": tag}),
    ),
    st.one_of(
        st.just(UNKNOWN_NAME),
        st.just({"custom-tag": "a/b"}),
        st.just({"custom-tag": "unknownTag"}),
        st.just({"dimension": "isp"}),
        st.builds(lambda value: {"custom-tag": value}, junk()),
        junk(),
    ),
)
good_value = st.one_of(
    st.text(alphabet="abcXYZ019 ,.-", max_size=8),
    st.integers(0, 10**6),
    st.lists(st.text(alphabet="abc", min_size=1, max_size=3), min_size=1, max_size=3),
)
filter_value = mostly(good_value, junk())
filter_key = mostly(
    st.sampled_from(FILTERABLE).flatmap(spelled),
    st.one_of(
        st.just(UNKNOWN_NAME),
        st.sampled_from(
            ["metric", "days", "minutes", "granularity", "limit", "sort_by", "order", "start_date"]
        ),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6), st.just("a/b")),
    ),
)
filter_by_arg = mostly(
    st.one_of(
        st.none(),
        st.dictionaries(filter_key, filter_value, max_size=3),
        st.builds(
            lambda tags: {"custom-tag": tags},
            st.dictionaries(st.sampled_from(CUSTOM_TAGS), filter_value, min_size=1, max_size=2),
        ),
        st.builds(lambda saved: {"filter_id": saved}, st.sampled_from(sorted(SAVED_FILTERS))),
        st.builds(lambda kpi: {"kpi_id": kpi}, st.sampled_from(sorted(KPIS))),
    ),
    st.one_of(
        st.builds(lambda tags: {"custom-tag": tags}, junk()),
        st.builds(
            lambda saved, extra: {"filter_id": saved, **extra},
            st.one_of(st.sampled_from(sorted(SAVED_FILTERS)), junk()),
            st.sampled_from([{}, {"isp": "Optus"}]),
        ),
        st.builds(lambda kpi: {"kpi_id": kpi}, junk()),
        junk(),
    ),
)
offset = st.integers(-400 * 24 * 60, 30 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))
recent = st.integers(-30, 10).map(lambda minutes: timedelta(minutes=minutes))


def instant_forms(delta: timedelta) -> st.SearchStrategy[Any]:
    """Every way a caller may write the instant NOW + delta."""
    when = NOW + delta
    return st.sampled_from(
        [
            when,
            when.replace(tzinfo=None),
            when.astimezone(timezone(timedelta(hours=-5))),
            when.date(),
            when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            when.strftime("%Y-%m-%dT%H:%M:%S"),
            when.strftime("%Y-%m-%dT%H:%M:%S.250Z"),
            when.strftime("%Y-%m-%d"),
            when.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="seconds"),
        ]
    )


instant = st.one_of(offset, recent).flatmap(instant_forms)
epoch_value = st.one_of(offset, recent).map(lambda d: int((NOW + d).timestamp()))
any_time_range = mostly(
    st.one_of(
        st.none(),
        st.integers(-3, 120),
        st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=120)),
        st.tuples(instant, instant),
        st.builds(lambda s, e: {"start_date": s, "end_date": e}, instant, instant),
        st.builds(lambda s, e: {"start_epoch": s, "end_epoch": e}, epoch_value, epoch_value),
        st.builds(
            lambda s, e: {"start_epoch_ms": s * 1000, "end_epoch_ms": str(e * 1000)},
            epoch_value,
            epoch_value,
        ),
        st.builds(lambda n: {"days": n}, st.integers(0, 100)),
        st.builds(lambda n: {"minutes": n}, st.integers(0, 20)),
    ),
    st.one_of(
        st.integers(-(10**30), 10**30),
        st.sampled_from([timedelta.max, timedelta.min, timedelta(microseconds=1)]),
        st.lists(instant, max_size=3),
        st.dictionaries(
            st.sampled_from(
                ["days", "minutes", "start_date", "end_date", "start_epoch", "end_epoch", "bogus"]
            ),
            st.one_of(st.integers(-5, 100), instant, junk()),
            max_size=3,
        ),
        st.just(("0001-01-01T00:00:00+01:00", "2026-11-20")),
        st.just((datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))), NOW)),
        st.just({"start_epoch": "9" * 5000, "end_epoch": "1"}),
        st.just(10**5000),
        junk(),
    ),
)
sort_by_arg = mostly(
    st.one_of(
        st.none(),
        metric_name,
        st.tuples(metric_name, st.sampled_from(["asc", "desc", "DESC"])),
    ),
    st.one_of(
        st.tuples(metric_name, st.sampled_from(["up", "", None])),
        st.lists(metric_name, min_size=0, max_size=3),
        junk(),
    ),
)
any_granularity = mostly(
    st.one_of(
        st.none(),
        st.sampled_from(GRANULARITIES),
        st.sampled_from(GRANULARITIES).map(str.lower),
    ),
    st.one_of(
        st.sampled_from(["PT7M", "P31D", "PT24H", "P11W", "PT9S", "PT60S", "P1M", "pt1h "]),
        junk(),
    ),
)
limit_arg = mostly(
    st.one_of(st.none(), st.none(), st.integers(1, 500)),
    st.one_of(st.sampled_from([0, -1, 501, 10**9]), junk()),
)
kpi_arg = mostly(st.one_of(st.none(), st.sampled_from(sorted(KPIS))), junk())


@dataclass(frozen=True)
class Call:
    root: Root
    metrics: Any
    group_by: Any
    filter_by: Any
    time_range: Any
    sort_by: Any
    granularity: Any
    limit: Any
    kpi_id: Any

    def run(self, api: ConvivaAPI) -> MetricsResult:
        method = api.get_historical_data if self.root == HISTORICAL else api.get_real_time_data
        return method(
            self.metrics,
            self.group_by,
            self.filter_by,
            self.time_range,
            self.sort_by,
            self.granularity,
            limit=self.limit,
            kpi_id=self.kpi_id,
            split=False,  # one request: this property is about the query layer, not bulk
        )

    def unknown_names(self) -> set[str]:
        """Well-formed names the catalogue lacks; a server may refuse them (404/400)."""
        names: set[str] = set()
        metrics = [self.metrics] if isinstance(self.metrics, str) else self.metrics
        if isinstance(metrics, (list, tuple)):
            names |= {m for m in metrics if isinstance(m, str) and m not in KNOWN_METRICS}
        if isinstance(self.group_by, str) and self.group_by not in KNOWN_DIMENSIONS:
            names.add(self.group_by)
        if isinstance(self.group_by, dict):
            tag = self.group_by.get("custom-tag")
            if isinstance(tag, str) and tag not in CUSTOM_TAGS:
                names.add(tag)
        ids: list[tuple[str, object, Mapping[int, object]]] = [("kpi_id", self.kpi_id, KPIS)]
        if isinstance(self.filter_by, dict):
            ids += [
                (k, self.filter_by.get(k), KPIS if k == "kpi_id" else SAVED_FILTERS)
                for k in ("kpi_id", "filter_id")
            ]
        for _, value, known in ids:
            if isinstance(value, (int, str)) and str(value).isdigit() and int(value) not in known:
                names.add(str(value))
        if isinstance(self.filter_by, dict):
            for key, value in self.filter_by.items():
                if key == "custom-tag" and isinstance(value, dict):
                    names |= {t for t in value if isinstance(t, str) and t not in CUSTOM_TAGS}
                elif isinstance(key, str) and key not in (
                    *KNOWN_DIMENSIONS,
                    "filter_id",
                    "kpi_id",
                    "custom-tag",
                ):
                    names.add(key)
        return names


def as_pair(start: datetime, end: datetime) -> st.SearchStrategy[Any]:
    """A legal window written in each form the client accepts."""
    return st.sampled_from(["tuple", "dates", "epoch", "epoch_ms"]).flatmap(
        lambda form: (
            st.tuples(instant_forms(start - NOW), instant_forms(end - NOW)).map(
                lambda pair: tuple(pair)
            )
            if form == "tuple"
            else st.just(
                {
                    "dates": {"start_date": start.isoformat(), "end_date": end.isoformat()},
                    "epoch": {
                        "start_epoch": int(start.timestamp()),
                        "end_epoch": int(end.timestamp()),
                    },
                    "epoch_ms": {
                        "start_epoch_ms": int(start.timestamp()) * 1000,
                        "end_epoch_ms": int(end.timestamp()) * 1000,
                    },
                }[form]
            )
        )
    )


def legal_window(root: Root) -> st.SearchStrategy[Any]:
    """Time ranges inside the root's documented limits (§3.2), in every form."""
    if root == HISTORICAL:
        span = st.one_of(
            st.integers(1, 48).map(lambda h: timedelta(hours=h)),
            st.integers(1, 90).map(lambda d: timedelta(days=d)),
        )
        pair = span.flatmap(
            lambda length: st.integers(
                int(length.total_seconds() // 3600), 395 * 24 - int(length.total_seconds() // 3600)
            ).flatmap(
                lambda hours_back: as_pair(
                    NOW - timedelta(hours=hours_back), NOW - timedelta(hours=hours_back) + length
                )
            )
        )
        counts = st.one_of(
            st.none(),
            st.integers(1, 90),
            st.integers(1, 90).map(lambda d: {"days": d}),
            st.integers(1, 90 * 24).map(lambda h: timedelta(hours=h)),
        )
        return st.one_of(counts, pair)
    pair = st.integers(1, 14).flatmap(
        lambda back: st.integers(1, back).flatmap(
            lambda length: as_pair(
                NOW - timedelta(minutes=back), NOW - timedelta(minutes=back - length)
            )
        )
    )
    counts = st.one_of(
        st.none(),
        st.integers(1, 15),
        st.integers(1, 15).map(lambda m: {"minutes": m}),
        st.integers(1, 15).map(lambda m: timedelta(minutes=m)),
    )
    return st.one_of(counts, pair)


def legal_granularity(root: Root) -> st.SearchStrategy[Any]:
    coarse = [g for g in allowed_granularities(root) if not g.endswith("M") or root == REAL_TIME]
    return st.one_of(
        st.none(),
        st.sampled_from(coarse),
        st.sampled_from(allowed_granularities(root)),
    )


def sort_by_requested(metrics: Any) -> st.SearchStrategy[Any]:
    """Sorting by one of the requested metrics (or a member of the requested group)."""
    names = [metrics] if isinstance(metrics, str) else metrics
    if isinstance(metrics, str) and metrics in METRIC_GROUPS:
        names = list(METRIC_GROUPS[metrics])
    usable = [n for n in names if isinstance(n, str)] if isinstance(names, (list, tuple)) else []
    if not usable:
        return st.none()
    order = st.sampled_from(["asc", "desc", "DESC"])
    name = st.sampled_from(usable)
    return st.one_of(name, st.tuples(name, order), st.lists(name, min_size=1, max_size=1))


@st.composite
def calls(draw: st.DrawFn) -> Call:
    root: Root = draw(st.sampled_from([HISTORICAL, REAL_TIME]))
    metrics = draw(metrics_arg)
    return Call(
        root=root,
        metrics=metrics,
        group_by=draw(group_by_arg),
        filter_by=draw(filter_by_arg),
        time_range=draw(mostly(legal_window(root), any_time_range)),
        sort_by=draw(mostly(st.one_of(st.none(), sort_by_requested(metrics)), sort_by_arg)),
        granularity=draw(mostly(legal_granularity(root), any_granularity)),
        limit=draw(limit_arg),
        kpi_id=draw(kpi_arg),
    )


@pytest.fixture(scope="module")
def emulator() -> Emulator:
    return Emulator(now=NOW)


@pytest.fixture(scope="module")
def api(emulator: Emulator) -> Iterator[ConvivaAPI]:
    with emulator.client(max_retries=0, rate_limit=False) as client:
        yield client


def server_may_refuse(call: Call, error: APIStatusError) -> bool:
    """Whether the emulator's refusal is one the client cannot foresee offline."""
    if isinstance(error, ResponseTooLargeError):
        return True
    if isinstance(error, (NotFoundError, BadRequestError)) and call.unknown_names():
        spellings = {
            spelling
            for name in call.unknown_names()
            for spelling in (name, to_snake(name), to_kebab(name), repr(to_snake(name))[1:-1])
        }
        return any(name in error.message for name in spellings)
    return False


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=calls())
@example(
    call=Call(
        HISTORICAL,
        "attempts",
        "isp",
        {"isp": ["Optus", "Vodafone"]},
        5,
        "attempts",
        "P1D",
        limit=10,
        kpi_id=1,
    )
)
@example(call=Call(REAL_TIME, ["attempts", "plays"], None, None, 15, None, "PT30S", None, None))
def test_any_arguments_reach_the_emulator_accepted_or_fail_with_query_error_before_io(
    api: ConvivaAPI, emulator: Emulator, call: Call
) -> None:
    sent_before = len(emulator.requests())
    outcome: MetricsResult | QueryError | APIStatusError
    try:
        outcome = call.run(api)
    except (QueryError, APIStatusError) as error:
        outcome = error
    sent = len(emulator.requests()) - sent_before
    if isinstance(outcome, QueryError):
        event(f"QueryError before any request: {outcome.argument}")
        assert sent == 0, "QueryError after a request was sent"
    elif isinstance(outcome, APIStatusError):
        event(f"refused by the emulator: {type(outcome).__name__}")
        assert sent == 1
        assert server_may_refuse(call, outcome), f"the emulator refused what was sent: {outcome}"
    else:
        event("accepted by the emulator")
        assert sent == 1
        assert outcome.query is not None
        assert outcome.query.root == call.root


REGRESSIONS: list[tuple[str, Root, dict[str, Any], str]] = [
    ("days past the calendar", HISTORICAL, {"time_range": 10**10}, "out of range"),
    ("a 5000-digit count", HISTORICAL, {"time_range": 10**5000}, "about 5001 digits"),
    ("timedelta.max", HISTORICAL, {"time_range": timedelta.max}, "out of range"),
    (
        "an offset instant before year 1 in UTC",
        HISTORICAL,
        {"time_range": ("0001-01-01T00:00:00+01:00", "2026-11-20")},
        "out of range once converted to UTC",
    ),
    (
        "datetime.max at a negative offset",
        HISTORICAL,
        {"time_range": (datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))), NOW)},
        "out of range once converted to UTC",
    ),
    (
        "a 5000-digit epoch string",
        HISTORICAL,
        {"time_range": {"start_epoch": "9" * 5000, "end_epoch": "1"}},
        "out of range for Unix seconds",
    ),
    ("a 5000-digit kpi_id", HISTORICAL, {"kpi_id": "9" * 5000}, "too large"),
    ("a filter on the 'days' parameter", HISTORICAL, {"filter_by": {"days": 3}}, "time_range="),
    ("a filter adding a metric", HISTORICAL, {"filter_by": {"metric": "plays"}}, "metrics="),
    (
        "a filter setting granularity",
        REAL_TIME,
        {"filter_by": {"granularity": "ALL"}},
        "granularity=",
    ),
    (
        "a saved-filter id that is not a number",
        HISTORICAL,
        {"filter_by": {"filter_id": "a/b"}},
        "not a whole number",
    ),
    ("a filter key with a slash", HISTORICAL, {"filter_by": {"a/b": "x"}}, "not a dimension name"),
    (
        "sorting one metric by another",
        HISTORICAL,
        {"group_by": "isp", "sort_by": "plays"},
        "not among the requested metrics",
    ),
    (
        "sorting a metric group by a non-member",
        HISTORICAL,
        {"metrics": "quality-summary", "group_by": "isp", "sort_by": "abandonment"},
        "not among the requested metrics",
    ),
]


@pytest.mark.parametrize(
    ("case", "root", "arguments", "message"), REGRESSIONS, ids=[r[0] for r in REGRESSIONS]
)
def test_inputs_that_once_escaped_as_other_exceptions_or_reached_the_api_raise_query_error(
    case: str, root: Root, arguments: dict[str, Any], message: str
) -> None:
    """Found by the property above: each raised OverflowError/ValueError from inside, or was
    sent and refused by the API (400), before the fix in _query/_rules."""
    arguments = {"metrics": "attempts", **arguments}
    with pytest.raises(QueryError, match=message):
        build_metrics_query(QuerySpec(root, **arguments), now=NOW)


def test_sorting_a_metric_group_by_its_member_or_an_alias_is_accepted() -> None:
    query = build_metrics_query(
        QuerySpec(HISTORICAL, "quality-summary", group_by="isp", sort_by="plays"), now=NOW
    )
    assert ("sort_by", "plays") in query.params
    alias = build_metrics_query(
        QuerySpec(
            HISTORICAL,
            "exits_before_video_start",
            group_by="isp",
            sort_by="exit-before-video-starts",
        ),
        now=NOW,
    )
    assert ("sort_by", "exit-before-video-starts") in alias.params


def test_split_false_sends_one_request_even_when_the_reply_is_too_large(
    emulator: Emulator, api: ConvivaAPI
) -> None:
    sent_before = len(emulator.requests())
    with pytest.raises(ResponseTooLargeError):
        api.get_historical_data("audience", {"custom-tag": "title"}, time_range=58, split=False)
    assert len(emulator.requests()) - sent_before == 1
