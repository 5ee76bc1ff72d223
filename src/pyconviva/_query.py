"""The one typed query carrier (:class:`QuerySpec`), its validation, and its wire encoding.

A metrics call becomes a :class:`QuerySpec` in the public method and travels as that one frozen
object through planning down to :func:`build_metrics_query`, which validates it and encodes it
as the API's path and query (a :class:`MetricsQuery`).

Pure: no I/O, no clock (``now`` is passed in). Every bad argument raises
:class:`~pyconviva._exceptions.QueryError` naming the argument, the bad value and the fix.
The range rules themselves live in :mod:`pyconviva._rules` (``check_window``); this module only
resolves the caller's time range into the window the API will read and asks it.

The encoding keeps wire compatibility with pyconviva 0.1.0 (same path, same query multiset) for
everything 0.1.0 accepted, except three normalisations the API wants: filter keys in snake_case,
group-by names and metric names in kebab-case.

Every name that becomes a path segment is one segment exactly as given: metric and dimension
names are plain identifiers; a custom tag may hold any other character except those that
would leave or rewrite its segment (``/``, ``\\``, ``?``, ``#``, ``%``, the dot segments ``.``
and ``..``, control characters), and is percent-encoded here, so that the URL layer finds
nothing to rewrite. Filter keys and values travel in the query string, which the URL layer
percent-encodes; values that no URL can carry (lone surrogates) and integers that are no
64-bit id are refused. A request whose line would exceed :data:`MAX_REQUEST_LINE` is refused
too, before anything is sent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal, TypeAlias
from urllib.parse import quote

from pyconviva import _catalog
from pyconviva._exceptions import QueryError
from pyconviva._rules import (
    API_PREFIX,
    HISTORICAL,
    MAX_LIMIT,
    MAX_METRICS,
    REAL_TIME,
    REAL_TIME_DEFAULT_MINUTES,
    Granularity,
    Root,
    as_utc,
    check_window,
    days_window,
    default_granularity,
    format_instant,
    minutes_window,
    parse_granularity,
    parse_instant,
    to_kebab,
    to_snake,
)

__all__ = [
    "MAX_REQUEST_LINE",
    "FilterBy",
    "GroupBy",
    "Instant",
    "Metrics",
    "MetricsQuery",
    "QuerySpec",
    "SortBy",
    "TimeRange",
    "build_metrics_query",
    "group_by_endpoints_path",
    "metadata_path",
    "to_instant",
]

Metrics: TypeAlias = "str | Sequence[str]"
GroupBy: TypeAlias = "str | Mapping[str, str] | None"
FilterBy: TypeAlias = "Mapping[str, Any] | None"
Instant: TypeAlias = "str | datetime | date"
TimeRange: TypeAlias = "int | timedelta | Mapping[str, Any] | tuple[Instant, Instant] | None"
SortBy: TypeAlias = "str | Sequence[str] | None"

Param = tuple[str, str]
MetadataKind = Literal["endpoints", "dimensions", "filters", "kpis"]

# Metric and dimension names become path segments and filter keys: plain identifiers.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
_NAME_RULE = "letters, digits, '-', '_' or '.'"
# Custom tags are spelled by the customer, so any character may be in one except those that
# would end its path segment or let a URL parser rewrite the path: "/" and "\\" (a WHATWG
# parser, as in proxies and gateways, reads "\\" as "/"), "?", "#", "%" (an escape of its own),
# and the dot segments "." and ".." (removed or climbed by every URL normaliser).
_TAG_DELIMITERS = frozenset("/\\?#%")
_DOT_SEGMENTS = frozenset({".", ".."})
# Unicode categories no tag name holds: controls, format characters (bidi overrides, zero
# widths), surrogates, private use, unassigned, and line/paragraph separators.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_TAG_RULE = (
    "one path segment: not '.' or '..', no '/', '\\\\', '?', '#' or '%', no control or "
    "invisible characters, no surrounding spaces"
)

# The longest request line sent: "GET <path>?<query> HTTP/1.1". RFC 9112 (section 3) asks every
# HTTP sender and recipient to support request lines of at least 8000 octets, the size
# nginx's default buffers (8 KB), Apache (8190) and common API gateways accept; a longer one
# may be refused with 414 or cut. It is counted with every reserved character percent-encoded,
# so the real line is never longer. Only filters grow a request this much, and each filter
# value also costs one request of the account's rate budget (API reference section 8), so a
# saved filter (filter_id) is the remedy.
MAX_REQUEST_LINE = 8000
_REQUEST_LINE_FRAME = len("GET  HTTP/1.1")
_CUSTOM_TAG = "custom-tag"
_PAIR_KEYS: dict[str, tuple[str, str]] = {
    "date": ("start_date", "end_date"),
    "epoch": ("start_epoch", "end_epoch"),
    "epoch_ms": ("start_epoch_ms", "end_epoch_ms"),
}
_COUNT_KEY: dict[Root, str] = {HISTORICAL: "days", REAL_TIME: "minutes"}
_TIME_KEYS = frozenset({"days", "minutes"}.union(*_PAIR_KEYS.values()))
_ROOT_LABEL: dict[Root, str] = {HISTORICAL: "historical", REAL_TIME: "real-time"}
_SORT_ORDERS = ("asc", "desc")
# Query parameters that have their own argument: as filter keys they would change the request
# behind the caller's back (a second granularity, an extra metric) or be refused by the API.
_OWN_ARGUMENT: dict[str, str] = {
    "metric": "metrics=",
    **dict.fromkeys(_TIME_KEYS, "time_range="),
    "granularity": "granularity=",
    "sort_by": "sort_by=",
    "order": "sort_by=[metric, 'asc' | 'desc']",
    "limit": "limit=",
}


@dataclass(frozen=True)
class QuerySpec:
    """One metrics query, as the caller gave it: what ``get_historical_data`` and
    ``get_real_time_data`` build from their arguments, and what :meth:`ConvivaAPI.get_many`
    takes one of per query. Validated when it is planned, before anything is sent.

    The fields are the arguments of those methods; build one with :meth:`historical` or
    :meth:`real_time`.
    """

    root: Root
    metrics: Metrics
    group_by: GroupBy = None
    filter_by: FilterBy = None
    time_range: TimeRange = None
    sort_by: SortBy = None
    granularity: str | None = None
    limit: int | None = None
    kpi_id: int | str | None = None

    @classmethod
    def historical(
        cls,
        metrics: Metrics,
        group_by: GroupBy = None,
        filter_by: FilterBy = None,
        time_range: TimeRange = None,
        sort_by: SortBy = None,
        granularity: str | None = None,
        *,
        limit: int | None = None,
        kpi_id: int | str | None = None,
    ) -> QuerySpec:
        """A historical query, with the arguments of ``get_historical_data``."""
        return cls(
            HISTORICAL,
            metrics,
            group_by,
            filter_by,
            time_range,
            sort_by,
            granularity,
            limit,
            kpi_id,
        )

    @classmethod
    def real_time(
        cls,
        metrics: Metrics,
        group_by: GroupBy = None,
        filter_by: FilterBy = None,
        time_range: TimeRange = None,
        sort_by: SortBy = None,
        granularity: str | None = None,
        *,
        limit: int | None = None,
        kpi_id: int | str | None = None,
    ) -> QuerySpec:
        """A real-time query, with the arguments of ``get_real_time_data``."""
        return cls(
            REAL_TIME, metrics, group_by, filter_by, time_range, sort_by, granularity, limit, kpi_id
        )


@dataclass(frozen=True)
class MetricsQuery:
    """A validated metrics request: where it goes, what it sends, and the window it covers."""

    root: Root
    metrics: tuple[str, ...]
    group_by: str | None
    group_by_tag: str | None
    path: str
    params: tuple[Param, ...]
    window: tuple[datetime, datetime]
    granularity: str
    limit: int | None

    def with_window(self, start: datetime, end: datetime) -> MetricsQuery:
        """The same request over [start, end), sent as ``start_date``/``end_date``."""
        kept = [p for p in self.params if p[0] not in _TIME_KEYS]
        at = sum(1 for key, _ in kept if key == "metric")  # time params follow the metric list
        window_params, window = _date_pair(as_utc(start), as_utc(end))
        params = (*kept[:at], *window_params, *kept[at:])
        return replace(self, params=params, window=window)

    def describe(self) -> str:
        """One line for messages and reprs, e.g.
        ``historical attempts, bitrate by isp, <start>..<end>, PT1H`` with the window's instants
        as ``YYYY-MM-DDTHH:MM:SSZ``."""
        grouping = ""
        if self.group_by is not None:
            grouping = f" by {self.group_by}"
        elif self.group_by_tag is not None:
            grouping = f" by custom tag {self.group_by_tag}"
        start, end = self.window
        limit = f", limit {self.limit}" if self.limit is not None else ""
        return (
            f"{_ROOT_LABEL[self.root]} {', '.join(self.metrics)}{grouping}, "
            f"{format_instant(start)}..{format_instant(end)}, {self.granularity}{limit}"
        )


def build_metrics_query(
    spec: QuerySpec, *, now: datetime, check_limits: bool = True
) -> MetricsQuery:
    """Validate a query and encode it; raises ``QueryError`` on any bad argument.

    ``check_limits=False`` skips only the span and retention rules (422 family) so that a bulk
    planner can split the window; malformed input (400 family) is still refused.
    """
    root = spec.root
    if not isinstance(root, str) or root not in _COUNT_KEY:
        raise QueryError(
            f"root={_shown(root)} is not a Metrics V3 root; use {HISTORICAL!r} or "
            f"{REAL_TIME!r}, or build the spec with QuerySpec.historical(...) or "
            "QuerySpec.real_time(...), which set it",
            argument="root",
        )
    names, selection = _metric_names(spec.metrics)
    dimension, tag = _group_by(spec.group_by)
    grouped = dimension is not None or tag is not None
    filters, kpi_from_filters = _filters(spec.filter_by)
    time_params, window = _time_range(root, spec.time_range, now)
    parsed_granularity = _granularity(root, spec.granularity)
    sort_params = _sort(spec.sort_by, names, selection=selection, grouped=grouped)
    checked_limit = _limit(spec.limit, grouped=grouped)
    kpi = _kpi(spec.kpi_id, kpi_from_filters)
    effective = parsed_granularity or parse_granularity(default_granularity(root), root)

    violation = check_window(
        root, *window, effective, grouped=grouped, limit=checked_limit, now=now
    )
    if violation is not None and (check_limits or violation.status == 400):
        sent = "&".join(f"{key}={value}" for key, value in time_params) or "no time parameter"
        raise QueryError(
            f"time_range={_shown(spec.time_range)} (sent as {sent}): {violation.message}",
            argument="time_range",
        )

    params: list[Param] = [("metric", name) for name in names] if selection else []
    params += time_params
    params += filters
    if parsed_granularity is not None:
        params.append(("granularity", parsed_granularity.text))
    params += sort_params
    if checked_limit is not None:
        params.append(("limit", str(checked_limit)))
    if kpi is not None:
        params.append(("kpi_id", kpi))

    segment = "custom-selection" if selection else names[0]
    path = f"{API_PREFIX}/{root}/{segment}"
    grouping = ""
    if dimension is not None:
        grouping = f"/group-by/{dimension}"
    elif tag is not None:
        grouping = f"/group-by/dimension-tag/{quote(tag, safe='')}"
    path += grouping
    _check_request_line(
        path,
        params,
        time_params,
        shares=lambda: {
            "metrics": _query_length(params[: len(names)]) if selection else len(segment),
            "group_by": len(grouping),
            "filter_by": _query_length(filters),
        },
    )
    return MetricsQuery(
        root=root,
        metrics=names,
        group_by=dimension,
        group_by_tag=tag,
        path=path,
        params=tuple(params),
        window=(as_utc(window[0]), as_utc(window[1])),
        granularity=effective.text,
        limit=checked_limit,
    )


def _check_request_line(
    path: str,
    params: Sequence[Param],
    time_params: Sequence[Param],
    shares: Callable[[], Mapping[str, int]],
) -> None:
    """Refuse a request whose line would exceed :data:`MAX_REQUEST_LINE`, blaming the argument
    with the largest share of it (``shares``, computed only then)."""
    # Every character percent-encodes to at most 12 bytes (4 UTF-8 bytes, 3 each): almost every
    # query fits by that bound alone, and skips quoting each parameter (a tenth of a call's cost).
    characters = sum(len(key) + len(value) + 2 for key, value in params)
    if _REQUEST_LINE_FRAME + len(path) + 12 * characters + _WINDOW_PAIR_LENGTH <= MAX_REQUEST_LINE:
        return
    # A split window, or a half after a 413, sends its range as a start_date/end_date pair:
    # the longer of that and the caller's own spelling must fit, so that every window does.
    extra = max(0, _WINDOW_PAIR_LENGTH - _query_length(time_params))
    length = _REQUEST_LINE_FRAME + len(path) + len("?") + _query_length(params) + extra
    if length <= MAX_REQUEST_LINE:
        return
    blamed = shares()
    argument = max(blamed, key=lambda name: blamed[name])
    fix = (
        "use a saved filter (filter_by={'filter_id': ...}) or split the values over several "
        "queries (each value also costs one request of the rate budget)"
        if argument == "filter_by"
        else f"shorten {argument}"
    )
    raise QueryError(
        f"the request would be {length:,} bytes long (its request line), over the "
        f"{MAX_REQUEST_LINE:,} that HTTP servers must accept (RFC 9112); {argument} takes "
        f"{blamed[argument]:,} of them; {fix}",
        argument=argument,
    )


def _query_length(params: Sequence[Param]) -> int:
    """The length of ``k=v&k=v``, every reserved character percent-encoded (an upper bound of
    what the URL layer sends, which leaves some unescaped or writes a space as "+")."""
    pairs = [len(quote(key, safe="")) + 1 + len(quote(value, safe="")) for key, value in params]
    return sum(pairs) + max(0, len(pairs) - 1)


def metadata_path(kind: MetadataKind) -> str:
    """Path of a metadata endpoint: discovery, dimensions, saved filters or KPIs."""
    paths = {
        "endpoints": f"{API_PREFIX}/metrics",
        "dimensions": f"{API_PREFIX}/metrics/_meta/references/dimensions",
        "filters": f"{API_PREFIX}/metrics/_meta/references/filters",
        "kpis": f"{API_PREFIX}/kpis",
    }
    if kind not in paths:
        raise QueryError(
            f"kind={_shown(kind)} is not a metadata endpoint; use one of {', '.join(paths)}",
            argument="kind",
        )
    return paths[kind]


def group_by_endpoints_path(metric_group: str, dimension_tag_only: bool = False) -> str:
    """Path of the discovery endpoint listing the group-by endpoints of a metric or group."""
    name = _path_name(metric_group, "metric_group", "a metric or metric group such as 'audience'")
    path = f"{API_PREFIX}/metrics/{to_kebab(name)}/group-by"
    return f"{path}/dimension-tag" if dimension_tag_only else path


# --- metrics and group-by --------------------------------------------------------------------


def _metric_names(metrics: object) -> tuple[tuple[str, ...], bool]:
    """Kebab metric names, and whether they go to ``custom-selection`` (a list was given)."""
    fix = "pass a metric name such as 'attempts' or a list such as ['attempts', 'plays']"
    if isinstance(metrics, str):
        return (to_kebab(_path_name(metrics, "metrics", fix)),), False
    if not isinstance(metrics, (list, tuple)):
        raise QueryError(
            f"metrics={_shown(metrics)} is not a metric name or a list; {fix}", argument="metrics"
        )
    if not metrics:
        raise QueryError(f"metrics={_shown(metrics)} is empty; {fix}", argument="metrics")
    if len(metrics) > MAX_METRICS:
        raise QueryError(
            f"metrics={_shown(metrics)} has {len(metrics)} metrics, "
            f"{len(metrics) - MAX_METRICS} over the API's maximum of {MAX_METRICS} per request; "
            "split them over several calls",
            argument="metrics",
        )
    names: list[str] = []
    for index, item in enumerate(metrics):
        name = to_kebab(_path_name(item, "metrics", fix, f"metrics[{index}]"))
        if name in names:
            raise QueryError(
                f"metrics={_shown(metrics)} names {name!r} twice; give each metric once",
                argument="metrics",
            )
        names.append(name)
    return tuple(names), True


def _group_by(group_by: object) -> tuple[str | None, str | None]:
    """(kebab dimension, None), (None, custom tag) or (None, None)."""
    if group_by is None:
        return None, None
    if isinstance(group_by, str):
        fix = "pass a dimension name such as 'isp' or 'device-name'"
        return to_kebab(_path_name(group_by, "group_by", fix)), None
    if isinstance(group_by, Mapping):
        fix = "pass {'custom-tag': '<tag name>'}, e.g. {'custom-tag': 'appVersion'}"
        if list(group_by) != [_CUSTOM_TAG]:
            raise QueryError(
                f"group_by={_shown(group_by)} must have exactly the key 'custom-tag'; {fix}",
                argument="group_by",
            )
        return None, _tag_name(group_by[_CUSTOM_TAG], "group_by", fix, "group_by['custom-tag']")
    raise QueryError(
        f"group_by={_shown(group_by)} is neither a dimension name nor a custom-tag dict; pass a "
        "dimension such as 'isp' or {'custom-tag': 'appVersion'}",
        argument="group_by",
    )


def _path_name(value: object, argument: str, fix: str, shown: str | None = None) -> str:
    """``value`` if it is a metric or dimension name; ``shown`` is how the message names it."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise QueryError(
            f"{shown or argument}={_shown(value)} is not a usable name ({_NAME_RULE}); {fix}",
            argument=argument,
        )
    return value


def _tag_name(value: object, argument: str, fix: str, shown: str) -> str:
    """``value`` if it is usable as a custom tag's name (see ``_TAG_DELIMITERS``)."""
    if not isinstance(value, str) or not _is_tag(value):
        raise QueryError(
            f"{shown}={_shown(value)} is not a usable tag ({_TAG_RULE}); {fix}", argument=argument
        )
    return value


def _is_tag(name: str) -> bool:
    return (
        name.strip() == name != ""
        and name not in _DOT_SEGMENTS
        and _TAG_DELIMITERS.isdisjoint(name)
        and all(unicodedata.category(c) not in _UNPRINTABLE_CATEGORIES for c in name)
    )


# --- filters ---------------------------------------------------------------------------------


def _filters(filter_by: object) -> tuple[list[Param], str | None]:
    """Filter params in the caller's order, and a ``kpi_id`` given inside ``filter_by``."""
    if filter_by is None:
        return [], None
    if not isinstance(filter_by, Mapping):
        raise QueryError(
            f"filter_by={_shown(filter_by)} is not a dict; pass e.g. {{'isp': 'Optus'}}",
            argument="filter_by",
        )
    params: list[Param] = []
    kpi: str | None = None
    saved: str | None = None
    for key, value in filter_by.items():
        if not isinstance(key, str) or not _is_filter_key(key):
            raise QueryError(
                f"filter_by key {_shown(key)} is not a dimension name; use e.g. 'isp' or "
                "'device_name' (or {'custom-tag': {'<tag name>': '<value>'}} for a custom tag)",
                argument="filter_by",
            )
        if key == "kpi_id":
            kpi = _whole_number(value, "filter_by['kpi_id']", "a KPI id such as 2")
        elif key == "filter_id":
            saved = _filter_id(value)
        elif key == _CUSTOM_TAG:
            params += _tag_filters(value)
        elif not key.startswith(_TAG_PREFIX) and to_snake(key) in _OWN_ARGUMENT:
            raise QueryError(
                f"filter_by key {key!r} is not a dimension but the API's {to_snake(key)!r} "
                f"parameter; pass it as {_OWN_ARGUMENT[to_snake(key)]} instead",
                argument="filter_by",
            )
        else:
            # A custom tag's name is case- and spelling-exact: only dimension keys are normalised.
            name = key if key.startswith(_TAG_PREFIX) else to_snake(key)
            params += [(name, v) for v in _filter_values(value, f"filter_by[{_shown(key)}]")]
    if saved is not None and params:
        raise QueryError(
            f"filter_by={_shown(filter_by)} mixes a saved filter (filter_id) with dimension "
            "filters; the API takes one or the other: drop filter_id or the dimension filters",
            argument="filter_by",
        )
    if saved is not None:
        params.append(("filter_id", saved))
    return params, kpi


_TAG_PREFIX = "tag_"


def _is_filter_key(key: str) -> bool:
    """A dimension name, ``custom-tag``, or ``tag_<custom tag>`` (the API's own spelling)."""
    if key.startswith(_TAG_PREFIX):
        return _is_tag(key[len(_TAG_PREFIX) :])
    return _NAME.fullmatch(key) is not None


def _tag_filters(tags: object) -> list[Param]:
    fix = (
        "pass {'custom-tag': {'<tag name>': '<value>'}}, e.g. {'custom-tag': {'appVersion': '1.2'}}"
    )
    if not isinstance(tags, Mapping) or not tags:
        raise QueryError(
            f"filter_by['custom-tag']={_shown(tags)} is not a non-empty dict; {fix}",
            argument="filter_by",
        )
    params: list[Param] = []
    for tag, value in tags.items():
        name = _tag_name(tag, "filter_by", fix, "filter_by['custom-tag'] key")
        shown = f"filter_by['custom-tag'][{_shown(tag)}]"
        params += [(f"{_TAG_PREFIX}{name}", v) for v in _filter_values(value, shown)]
    return params


def _filter_values(value: object, argument: str) -> list[str]:
    """One value, or a list of them (repeated key = OR); strings or integers."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values:
        raise QueryError(
            f"{argument}={_shown(value)} is an empty list; give at least one value or drop the "
            "filter",
            argument="filter_by",
        )
    for item in values:
        problem = _filter_value_problem(item)
        if problem is not None:
            raise QueryError(
                f"{argument}={_shown(value)} holds {_shown(item)}, {problem}; filter values are "
                "exact strings or 64-bit integers (a list of them means OR)",
                argument="filter_by",
            )
    return [str(item) for item in values]


def _filter_value_problem(item: object) -> str | None:
    if isinstance(item, str):
        if not _is_utf8(item):
            return "which holds a lone surrogate that no URL can carry"
        return None
    if isinstance(item, int) and not isinstance(item, bool):
        return None if -_MAX_WHOLE - 1 <= item <= _MAX_WHOLE else "beyond the 64-bit range"
    return "which is not a string or an integer"


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _filter_id(value: object) -> str:
    """A saved-filter id: integer-like (API reference §3.1), as an int or its digits."""
    return _whole_number(
        value, "filter_by['filter_id']", "one saved-filter id such as 180 (see get_saved_filters())"
    )


def _kpi(kpi_id: object, from_filters: str | None) -> str | None:
    if kpi_id is None:
        return from_filters
    if from_filters is not None:
        raise QueryError(
            f"kpi_id={_shown(kpi_id)} is given twice (also in filter_by); give it once, as kpi_id=",
            argument="kpi_id",
        )
    return _whole_number(kpi_id, "kpi_id", "a KPI id such as 2 (see get_kpis())")


# --- time range ------------------------------------------------------------------------------


def _time_range(
    root: Root, time_range: object, now: datetime
) -> tuple[list[Param], tuple[datetime, datetime]]:
    """The time params to send and the window [start, end) the API will read from them."""
    try:
        return _resolve_time_range(root, time_range, now)
    except OverflowError as exc:  # a count or span that reaches before year 1 or after 9999
        raise QueryError(
            f"time_range={_shown(time_range)} is out of range: it reaches outside the years "
            f"1-9999; pass {_count_fix(root)} or a (start, end) pair",
            argument="time_range",
        ) from exc


def _resolve_time_range(
    root: Root, time_range: object, now: datetime
) -> tuple[list[Param], tuple[datetime, datetime]]:
    count_key = _COUNT_KEY[root]
    if time_range is None:
        if root == REAL_TIME:  # the API's own default: the last 5 minutes
            return [], minutes_window(REAL_TIME_DEFAULT_MINUTES, now)
        # The API requires a historical range; 0.1.0 sent one day when none was given.
        return [("days", "1")], days_window(1, now)
    if isinstance(time_range, int) and not isinstance(time_range, bool):
        count = _count(time_range, "time_range", _count_fix(root))
        return [(count_key, str(count))], _count_window(root, count, now)
    if isinstance(time_range, timedelta):
        return _timedelta_range(root, time_range, now)
    if isinstance(time_range, Mapping):
        return _dict_range(root, time_range, now)
    if isinstance(time_range, (tuple, list)) and len(time_range) == 2:
        return _date_pair(
            to_instant(time_range[0], "time_range[0]"), to_instant(time_range[1], "time_range[1]")
        )
    raise QueryError(
        f"time_range={_shown(time_range)} is not a time range; pass {_count_fix(root)}, a "
        "timedelta, a (start, end) pair of datetimes or ISO strings, or a dict such as "
        "{'start_date': 'YYYY-MM-DD', 'end_date': 'YYYY-MM-DD'}",
        argument="time_range",
    )


def _count(value: object, argument: str, what: str) -> int:
    return int(_whole_number(value, argument, what))


def _count_fix(root: Root) -> str:
    if root == HISTORICAL:
        return "a number of days (1 to 90)"
    return "a number of minutes (1 to 15)"


def _count_window(root: Root, count: int, now: datetime) -> tuple[datetime, datetime]:
    return days_window(count, now) if root == HISTORICAL else minutes_window(count, now)


def _timedelta_range(
    root: Root, span: timedelta, now: datetime
) -> tuple[list[Param], tuple[datetime, datetime]]:
    if span <= timedelta(0):
        raise QueryError(
            f"time_range={_shown(span)} is not positive; pass a positive timedelta",
            argument="time_range",
        )
    unit = timedelta(days=1) if root == HISTORICAL else timedelta(minutes=1)
    if span % unit == timedelta(0):
        count = span // unit
        return [(_COUNT_KEY[root], str(count))], _count_window(root, count, now)
    # Not a whole number of days/minutes: an explicit pair ending where days/minutes would end.
    _, end = _count_window(root, 1, now)
    return _date_pair(end - span, end)


def _dict_range(
    root: Root, time_range: Mapping[object, object], now: datetime
) -> tuple[list[Param], tuple[datetime, datetime]]:
    shown = f"time_range={_shown(dict(time_range))}"
    count_key = _COUNT_KEY[root]
    other_count = _COUNT_KEY[REAL_TIME if root == HISTORICAL else HISTORICAL]
    known = {count_key, *(k for pair in _PAIR_KEYS.values() for k in pair)}
    keys = list(time_range)
    if not keys:
        raise QueryError(
            f"{shown} is empty; give '{count_key}' or a start/end pair", argument="time_range"
        )
    if other_count in keys:
        raise QueryError(
            f"{shown}: '{other_count}' is not supported by the {_ROOT_LABEL[root]} endpoints; "
            f"use '{count_key}' or a start/end pair",
            argument="time_range",
        )
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise QueryError(
            f"{shown} has unknown keys {_shown(unknown)}; use '{count_key}' or one pair of "
            "start_date/end_date, start_epoch/end_epoch or start_epoch_ms/end_epoch_ms",
            argument="time_range",
        )
    if keys == [count_key]:
        count = _count(time_range[count_key], f"time_range['{count_key}']", _count_fix(root))
        return [(count_key, str(count))], _count_window(root, count, now)
    styles = [style for style, pair in _PAIR_KEYS.items() if set(pair) & set(keys)]
    if count_key in keys or len(styles) != 1:
        raise QueryError(
            f"{shown} mixes range styles; use exactly one of '{count_key}', start_date/end_date, "
            "start_epoch/end_epoch or start_epoch_ms/end_epoch_ms",
            argument="time_range",
        )
    start_key, end_key = _PAIR_KEYS[styles[0]]
    if set(keys) != {start_key, end_key}:
        raise QueryError(
            f"{shown} gives only half of the pair {start_key}/{end_key}; give both",
            argument="time_range",
        )
    if styles[0] == "date":
        (start_text, start), (end_text, end) = (
            _date_value(time_range[key], f"time_range['{key}']") for key in (start_key, end_key)
        )
    else:
        scale = 1000 if styles[0] == "epoch_ms" else 1
        (start_text, start), (end_text, end) = (
            _epoch_value(time_range[key], f"time_range['{key}']", scale)
            for key in (start_key, end_key)
        )
    return [(start_key, start_text), (end_key, end_text)], (start, end)


def _date_value(value: object, argument: str) -> tuple[str, datetime]:
    """A date as sent (strings pass through unchanged, as 0.1.0 did) and as read."""
    if isinstance(value, str):
        try:
            return value, parse_instant(value)
        except ValueError as exc:
            raise QueryError(f"{argument}={_shown(value)}: {exc}", argument="time_range") from exc
    instant = to_instant(value, argument)
    return format_instant(instant), instant


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _epoch_value(value: object, argument: str, scale: int) -> tuple[str, datetime]:
    unit = "milliseconds" if scale == 1000 else "seconds"
    out_of_range = f"is out of range for Unix {unit}; pass an instant between 1970 and 9999"
    count = _whole_number(value, argument, f"whole Unix {unit}", minimum=0, too_large=out_of_range)
    try:  # exact integer arithmetic: no float rounding of milliseconds
        instant = _EPOCH + timedelta(**{unit: int(count)})
    except OverflowError as exc:
        raise QueryError(
            f"{argument}={_shown(value)} {out_of_range}", argument="time_range"
        ) from exc
    return count, instant


def to_instant(value: object, name: str, *, argument: str = "time_range") -> datetime:
    """A datetime (aware converted, naive taken as UTC), a date (UTC midnight) or an ISO string.

    ``name`` is how the value is shown in a message (``time_range[0]``, ``start``); ``argument``
    is the parameter the ``QueryError`` blames.
    """
    if isinstance(value, datetime):
        try:
            return as_utc(value)
        except OverflowError as exc:  # e.g. datetime.max at a negative offset
            raise QueryError(
                f"{name}={_shown(value)} is out of range once converted to UTC", argument=argument
            ) from exc
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError as exc:
            raise QueryError(f"{name}={_shown(value)}: {exc}", argument=argument) from exc
    raise QueryError(
        f"{name}={_shown(value)} is not a datetime, date or ISO 8601 string; pass e.g. "
        "'YYYY-MM-DD', 'YYYY-MM-DDTHH:MM:SSZ' or a datetime with tzinfo=timezone.utc",
        argument=argument,
    )


def _date_pair(start: datetime, end: datetime) -> tuple[list[Param], tuple[datetime, datetime]]:
    """start_date/end_date params, and the window they say (whole seconds, as sent)."""
    window = (start.replace(microsecond=0), end.replace(microsecond=0))
    return [("start_date", format_instant(start)), ("end_date", format_instant(end))], window


# The start_date/end_date pair a split window sends, the same length for every instant.
_WINDOW_PAIR_LENGTH = _query_length(_date_pair(_EPOCH, _EPOCH)[0])


# --- granularity, sorting, limit -------------------------------------------------------------


def _granularity(root: Root, granularity: object) -> Granularity | None:
    if granularity is None:
        return None
    if not isinstance(granularity, str):
        raise QueryError(
            f"granularity={_shown(granularity)} is not a string; pass an ISO 8601 duration such as "
            "'PT1H' or 'P1D'",
            argument="granularity",
        )
    try:
        return parse_granularity(granularity, root)
    except ValueError as exc:
        raise QueryError(str(exc), argument="granularity") from exc


def _sort(
    sort_by: object, metrics: tuple[str, ...], *, selection: bool, grouped: bool
) -> list[Param]:
    if sort_by is None:
        return []
    fix = "pass a metric name, or [metric, 'asc' | 'desc']"
    if isinstance(sort_by, str):
        parts: Sequence[object] = [sort_by]
    elif isinstance(sort_by, (list, tuple)) and len(sort_by) in (1, 2):
        parts = sort_by
    else:
        raise QueryError(
            f"sort_by={_shown(sort_by)} is not a metric or a pair; {fix}", argument="sort_by"
        )
    if not grouped:
        raise QueryError(
            f"sort_by={_shown(sort_by)} needs group_by: the API sorts the rows of a group-by; "
            "add group_by= or drop sort_by",
            argument="sort_by",
        )
    metric = to_kebab(_path_name(parts[0], "sort_by", fix, f"sort_by={_shown(sort_by)}: metric"))
    requested = _sortable(metrics, selection=selection)
    if requested is not None and _canonical(metric) not in requested:
        shown = list(metrics) if selection else metrics[0]
        raise QueryError(
            f"sort_by={_shown(sort_by)} sorts by {metric!r}, which is not among the requested "
            f"metrics {_shown(shown)}; sort by one of them or add it to metrics",
            argument="sort_by",
        )
    params = [("sort_by", metric)]
    if len(parts) == 2:
        order = parts[1]
        if not isinstance(order, str) or order.lower() not in _SORT_ORDERS:
            raise QueryError(
                f"sort_by={_shown(sort_by)} has the order {_shown(order)}; use 'asc' or 'desc'",
                argument="sort_by",
            )
        params.append(("order", order.lower()))
    return params


def _sortable(metrics: tuple[str, ...], *, selection: bool) -> frozenset[str] | None:
    """The metrics a request returns, which are the ones it may sort by; None when unknown
    offline (a single name the catalogue lacks may be an account's own metric group)."""
    if selection:
        return frozenset(map(_canonical, metrics))
    name = metrics[0]
    if name in _catalog.METRIC_GROUPS:
        return frozenset(map(_canonical, _catalog.METRIC_GROUPS[name]))
    if _catalog.find_metric(name) is not None:
        return frozenset({_canonical(name)})
    return None


def _canonical(metric: str) -> str:
    """The catalogue's name for a metric (aliases and snake keys resolved), else as given."""
    known = _catalog.find_metric(metric)
    return known.name if known is not None else metric


def _limit(limit: object, *, grouped: bool) -> int | None:
    if limit is None:
        return None
    fix = f"pass a whole number from 1 to {MAX_LIMIT}"
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit={_shown(limit)} is out of range; {fix}", argument="limit")
    if not grouped:
        raise QueryError(
            f"limit={_shown(limit)} needs group_by: it caps the number of dimension values; "
            "add group_by= or drop limit",
            argument="limit",
        )
    return limit


# --- numbers ---------------------------------------------------------------------------------

# Ids, counts and epochs the API reads are 64-bit integers; larger ones are typos (and huge digit
# strings would also exceed Python's int-from-text limit).
_MAX_WHOLE = 2**63 - 1
_INTEGER_TEXT = re.compile(r"-?[0-9]+")


def _whole_number(
    value: object, argument: str, what: str, *, minimum: int = 1, too_large: str | None = None
) -> str:
    """An integer from ``minimum`` up to 64 bits (or its digits as a string), as the text to send
    (canonical digits: no leading zeros). ``too_large`` replaces the message beyond 64 bits."""
    blamed = argument.split("[")[0]
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        sign, digits = ("-", value[1:]) if value.startswith("-") else ("", value)
        significant = digits.lstrip("0") or "0"
        # Beyond 19 digits the exact value does not matter (and int() of a huge text fails).
        number = int(sign + significant) if len(significant) <= 19 else int(sign + "9" * 20)
    else:
        raise QueryError(
            f"{argument}={_shown(value)} is not a whole number; pass {what}", argument=blamed
        )
    if number < minimum:
        kind = "a positive whole number" if minimum == 1 else f"a whole number, {minimum} or more"
        raise QueryError(f"{argument}={_shown(value)} must be {kind}; pass {what}", argument=blamed)
    if number > _MAX_WHOLE:
        raise QueryError(
            f"{argument}={_shown(value)} {too_large or f'is too large; pass {what}'}",
            argument=blamed,
        )
    return str(number)


# --- messages --------------------------------------------------------------------------------

_SHOWN_CHARS = 200
_DIGITS_PER_BIT = 0.30103  # log10(2)


def _shown(value: object) -> str:
    """``repr(value)`` for a message, kept short: integers beyond 30 digits are shown by their
    size (Python refuses to print those beyond 4300), and a long repr is cut after 200
    characters (a filter value can be megabytes)."""
    if type(value) is int and value.bit_length() > 100:
        digits = int(value.bit_length() * _DIGITS_PER_BIT) + 1
        sign = "negative " if value < 0 else ""
        return f"<a {sign}number of about {digits} digits>"
    try:
        text = repr(value)
    except ValueError:  # a container holding an integer too long to print
        return f"<a {type(value).__name__} holding a number too long to print>"
    if len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[:_SHOWN_CHARS]}… ({len(text):,} characters)"
