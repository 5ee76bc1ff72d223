"""Read a Metrics V3 request: which endpoint its path names, and what its query asks.

Pure parsing and validation; every refusal is a :class:`Problem` carrying the status and the
message the reply will have. The checks run in the API's order: unknown paths (404) before
malformed parameters (400) before range rules (422).

Strictness (our choice; the reference suggests it): an unknown query parameter is refused with
400 naming it, rather than silently ignored, so that a typo such as ``device-os=`` (the path
spelling) or ``metrics=`` never returns unfiltered data that looks right. Likewise parameters
that only make sense elsewhere (``metric`` outside ``custom-selection``; ``sort_by``, ``order``
and ``limit`` without group-by; ``days`` on real-time, ``minutes`` on historical) are refused.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

from pyconviva import _rules
from pyconviva._catalog import (
    DIMENSIONS,
    METRIC_ALIASES,
    METRIC_GROUPS,
    METRICS,
    DimensionInfo,
    MetricInfo,
    find_metric,
    suggest_dimensions,
    suggest_metrics,
)
from pyconviva._rules import HISTORICAL, REAL_TIME, Granularity, Root
from pyconviva.emulator._population import CUSTOM_TAGS, KPIS, SAVED_FILTERS

__all__ = [
    "CUSTOM_SELECTION",
    "DataQuery",
    "Problem",
    "Route",
    "parse_path",
    "parse_query",
]

CUSTOM_SELECTION = "custom-selection"
_ROOTS: Mapping[str, Root] = {
    f"{_rules.API_PREFIX}/{HISTORICAL}": HISTORICAL,
    f"{_rules.API_PREFIX}/{REAL_TIME}": REAL_TIME,
}
_FILTER_KEYS: Mapping[str, DimensionInfo] = {d.key: d for d in DIMENSIONS.values() if d.filterable}
_RANGE_STYLES: Mapping[str, tuple[str, str]] = {
    "date": ("start_date", "end_date"),
    "epoch": ("start_epoch", "end_epoch"),
    "epoch_ms": ("start_epoch_ms", "end_epoch_ms"),
}
_SINGLE = frozenset(
    {
        "days",
        "minutes",
        "granularity",
        "filter_id",
        "kpi_id",
        "sort_by",
        "order",
        "limit",
        "no_nils",
        *(name for pair in _RANGE_STYLES.values() for name in pair),
    }
)


class Problem(Exception):
    """A request the API refuses: status, error name and a message saying how to fix it."""

    _NAMES: Mapping[int, str] = {
        400: "BadRequest",
        404: "NotFound",
        405: "MethodNotAllowed",
        413: "RequestEntityTooLarge",
        422: "UnprocessableEntity",
    }

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.name = self._NAMES[status]
        self.message = message


RouteKind = Literal["data", "endpoints", "group_by_endpoints", "dimensions", "filters", "kpis"]


@dataclass(frozen=True)
class Route:
    """What a path names. `target` is the metric, group or custom-selection it starts with."""

    kind: RouteKind
    root: Root | None = None
    target: str = ""
    group_by: DimensionInfo | None = None
    tag: str | None = None
    tags_only: bool = False  # group-by discovery of custom tags


@dataclass(frozen=True)
class DataQuery:
    """A valid metrics request, ready to compute."""

    root: Root
    metrics: tuple[MetricInfo, ...]
    group_by: DimensionInfo | None
    tag: str | None
    start: datetime
    end: datetime
    granularity: Granularity
    filter_id: int | None
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    tag_filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    kpi_id: int = 1
    sort_by: MetricInfo | None = None
    descending: bool = True
    limit: int = _rules.DEFAULT_LIMIT
    no_nils: bool = False

    @property
    def grouped(self) -> bool:
        return self.group_by is not None or self.tag is not None


def _hint(names: Sequence[str]) -> str:
    return f"; did you mean {' or '.join(repr(n) for n in names)}?" if names else ""


def parse_path(path: str, *, strict_real_time: bool) -> Route:
    """The endpoint `path` names; Problem(404) for anything the API does not serve."""
    path = path[:-1] if path.endswith("/") and len(path) > 1 else path
    if path == f"{_rules.API_PREFIX}/kpis":
        return Route("kpis")
    for prefix, root in _ROOTS.items():
        if path == prefix and root == HISTORICAL:
            return Route("endpoints")
        if path.startswith(prefix + "/"):
            return _parse_under_root(root, path[len(prefix) + 1 :].split("/"), strict_real_time)
    raise Problem(
        404,
        f"no endpoint at {path}; Metrics V3 paths start with {_rules.API_PREFIX}/"
        f"{HISTORICAL}/ or {_rules.API_PREFIX}/{REAL_TIME}/",
    )


def _parse_under_root(root: Root, parts: list[str], strict_real_time: bool) -> Route:
    historical = root == HISTORICAL
    if historical and parts[0] == "_meta":
        if parts in (["_meta", "references", "dimensions"], ["_meta", "references", "filters"]):
            return Route("dimensions" if parts[2] == "dimensions" else "filters")
        raise Problem(
            404,
            "the metadata endpoints are _meta/references/dimensions and _meta/references/filters",
        )
    target = _target(parts[0], root, strict_real_time)
    rest = parts[1:]
    if not rest:
        return Route("data", root, target)
    if rest[0] != "group-by":
        raise Problem(
            404,
            f"unknown path segment {rest[0]!r} after {parts[0]!r}; use "
            f"{parts[0]}/group-by/<dimension> or {parts[0]}/group-by/dimension-tag/<tag>",
        )
    if len(rest) == 1 and historical:
        return Route("group_by_endpoints", target=target)
    if rest[1:] == ["dimension-tag"] and historical:
        return Route("group_by_endpoints", target=target, tags_only=True)
    if len(rest) == 3 and rest[1] == "dimension-tag":
        return Route("data", root, target, tag=_tag(rest[2]))
    if len(rest) == 2:
        return Route("data", root, target, group_by=_dimension(rest[1]))
    raise Problem(
        404,
        f"no endpoint at .../{'/'.join(parts)}; group by one dimension: "
        "group-by/<dimension> or group-by/dimension-tag/<tag>",
    )


def _target(name: str, root: Root, strict_real_time: bool) -> str:
    if name == CUSTOM_SELECTION or name in METRIC_GROUPS:
        members = METRIC_GROUPS.get(name, ())
    elif name in METRICS or name in METRIC_ALIASES:
        members = (METRIC_ALIASES.get(name, name),)
    else:
        hint = _hint(suggest_metrics(name) or suggest_groups(name))
        raise Problem(
            404,
            f"unknown metric or metric group {name!r}{hint} (GET /insights/3.0/metrics lists them)",
        )
    if strict_real_time and root == REAL_TIME:
        for member in members:
            _check_real_time(METRICS[member])
    return name


def suggest_groups(name: str) -> list[str]:
    """Metric-group names close to `name`."""
    return difflib.get_close_matches(name, [*METRIC_GROUPS, CUSTOM_SELECTION], n=2)


def _check_real_time(metric: MetricInfo) -> None:
    if not metric.real_time:
        served = ", ".join(sorted(m.name for m in METRICS.values() if m.real_time))
        raise Problem(
            404,
            f"metric {metric.name!r} is not available on the real-time endpoints; "
            f"use /insights/3.0/metrics for it, or one of: {served}",
        )


def _dimension(name: str) -> DimensionInfo:
    dimension = DIMENSIONS.get(name)
    if dimension is None:
        raise Problem(
            404,
            f"unknown group-by dimension {name!r}{_hint(suggest_dimensions(name))}"
            " (GET /insights/3.0/metrics/_meta/references/dimensions lists them)",
        )
    return dimension


def _tag(name: str) -> str:
    if name not in CUSTOM_TAGS:
        raise Problem(
            404,
            f"unknown custom tag {name!r}; this account's custom tags are "
            f"{', '.join(CUSTOM_TAGS)} (tag names are case-sensitive)",
        )
    return name


def parse_query(
    route: Route,
    pairs: Sequence[tuple[str, str]],
    *,
    now: datetime,
    legacy_default_range: bool,
    strict_real_time: bool,
) -> DataQuery:
    """Validate the query of a data request; Problem(400/404/422) names what to fix."""
    assert route.root is not None
    root = route.root
    single: dict[str, str] = {}
    metric_names: list[str] = []
    filters: dict[str, set[str]] = {}
    tag_filters: dict[str, set[str]] = {}
    for key, value in pairs:
        if key == "metric":
            metric_names.append(value)
        elif key in _FILTER_KEYS:
            filters.setdefault(key, set()).add(value)
        elif key.startswith("tag_"):
            tag_filters.setdefault(_filter_tag(key[4:]), set()).add(value)
        elif key in _SINGLE:
            if key in single:
                raise Problem(400, f"query parameter {key!r} is given twice; give it once")
            single[key] = value
        else:
            raise Problem(400, _unknown_parameter(key))
    metrics = _metrics(route, metric_names, strict_real_time)
    grouped = route.group_by is not None or route.tag is not None
    granularity = _granularity(single.get("granularity"), root)
    filter_id = _filter_id(single.get("filter_id"), bool(filters or tag_filters))
    kpi_id = _whole(single.get("kpi_id", "1"), "kpi_id", "a KPI id from GET /insights/3.0/kpis")
    if kpi_id not in KPIS:
        known = ", ".join(f"{k.id} ({k.name})" for k in KPIS.values())
        raise Problem(400, f"unknown kpi_id {kpi_id}; this account's KPI sets are {known}")
    sort_by, descending, limit = _ordering(single, metrics, grouped)
    no_nils = _flag(single.get("no_nils", "false"), "no_nils")
    start, end = _window(single, root, now, legacy_default_range)
    violation = _rules.check_window(
        root,
        start,
        end,
        granularity,
        grouped=grouped,
        limit=_explicit_limit(single),
        now=now,
    )
    if violation is not None:
        raise Problem(violation.status, violation.message)
    return DataQuery(
        root=root,
        metrics=metrics,
        group_by=route.group_by,
        tag=route.tag,
        start=start,
        end=end,
        granularity=granularity,
        filter_id=filter_id,
        filters={k: frozenset(v) for k, v in filters.items()},
        tag_filters={k: frozenset(v) for k, v in tag_filters.items()},
        kpi_id=kpi_id,
        sort_by=sort_by,
        descending=descending,
        limit=limit,
        no_nils=no_nils,
    )


def _unknown_parameter(key: str) -> str:
    snake = key.replace("-", "_")
    if snake in _FILTER_KEYS:
        return (
            f"unknown query parameter {key!r}: dimension filters use the snake_case name; "
            f"send {snake}=<value>"
        )
    hint = _hint([d.replace("-", "_") for d in suggest_dimensions(key)])
    return (
        f"unknown query parameter {key!r}{hint} Parameters are days, minutes, start_date/"
        "end_date, start_epoch/end_epoch, start_epoch_ms/end_epoch_ms, granularity, metric, "
        "filter_id, kpi_id, sort_by, order, limit, no_nils, a dimension filter such as "
        "device_os=<value> or a custom-tag filter such as tag_appVersion=<value>"
    )


def _filter_tag(name: str) -> str:
    if name not in CUSTOM_TAGS:
        raise Problem(
            400,
            f"unknown custom tag in filter 'tag_{name}'; this account's custom "
            f"tags are {', '.join(CUSTOM_TAGS)} (tag names are case-sensitive)",
        )
    return name


def _metrics(route: Route, names: list[str], strict_real_time: bool) -> tuple[MetricInfo, ...]:
    if route.target != CUSTOM_SELECTION:
        if names:
            raise Problem(
                400,
                f"'metric' is only for custom-selection; {route.target!r} in the "
                "path already says what to return",
            )
        members = METRIC_GROUPS.get(route.target) or (route.target,)
        return tuple(METRICS[METRIC_ALIASES.get(m, m)] for m in members)
    if not names:
        raise Problem(
            400,
            "custom-selection needs at least one metric: add metric=<name> "
            "once per metric, e.g. metric=attempts&metric=plays",
        )
    if len(names) > _rules.MAX_METRICS:
        raise Problem(
            400,
            f"{len(names)} metrics requested; custom-selection takes at most "
            f"{_rules.MAX_METRICS}: split them over several requests",
        )
    metrics = []
    for name in names:
        canonical = METRIC_ALIASES.get(name, name)
        if canonical not in METRICS:
            raise Problem(
                400, f"unknown metric {name!r} in metric={name}{_hint(suggest_metrics(name))}"
            )
        metric = METRICS[canonical]
        if metric in metrics:
            raise Problem(400, f"metric {name!r} is requested twice; request it once")
        if strict_real_time and route.root == REAL_TIME:
            _check_real_time(metric)
        metrics.append(metric)
    return tuple(metrics)


def _granularity(text: str | None, root: Root) -> Granularity:
    try:
        return _rules.parse_granularity(text or _rules.default_granularity(root), root)
    except ValueError as exc:
        raise Problem(400, str(exc)) from exc


def _filter_id(text: str | None, other_filters: bool) -> int | None:
    if text is None:
        return None
    if other_filters:
        raise Problem(
            400,
            "filter_id cannot be combined with dimension or custom-tag filters; "
            "use the saved filter alone, or the dimension filters alone",
        )
    filter_id = _whole(text, "filter_id", "a saved filter id")
    if filter_id not in SAVED_FILTERS:
        known = ", ".join(f"{f.id} ({f.name})" for f in SAVED_FILTERS.values())
        raise Problem(
            400,
            f"unknown filter_id {filter_id}; this account's saved filters are "
            f"{known} (GET /insights/3.0/metrics/_meta/references/filters)",
        )
    return filter_id


def _ordering(
    single: Mapping[str, str], metrics: Sequence[MetricInfo], grouped: bool
) -> tuple[MetricInfo | None, bool, int]:
    for name in ("sort_by", "order", "limit"):
        if name in single and not grouped:
            raise Problem(
                400,
                f"{name!r} only applies to group-by requests; add "
                "/group-by/<dimension> to the path or drop it",
            )
    sort_by = None
    if "sort_by" in single:
        sort_by = find_metric(single["sort_by"])
        if sort_by not in metrics:
            requested = ", ".join(m.name for m in metrics)
            raise Problem(
                400,
                f"sort_by={single['sort_by']} is not among the requested "
                f"metrics ({requested}); sort by one of them",
            )
    order = single.get("order", "desc")
    if order not in ("asc", "desc"):
        raise Problem(400, f"order={order!r} is not valid; use asc or desc")
    limit = _explicit_limit(single)
    return sort_by, order == "desc", _rules.DEFAULT_LIMIT if limit is None else limit


def _explicit_limit(single: Mapping[str, str]) -> int | None:
    if "limit" not in single:
        return None
    limit = _whole(single["limit"], "limit", f"a number of rows from 1 to {_rules.MAX_LIMIT}")
    if not 1 <= limit <= _rules.MAX_LIMIT:
        raise Problem(400, f"limit={limit} is out of range; use 1 to {_rules.MAX_LIMIT}")
    return limit


def _flag(text: str, name: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise Problem(400, f"{name}={text!r} is not valid; use true or false")
    return text.lower() == "true"


def _whole(text: str, name: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Problem(400, f"{name}={text!r} is not a whole number; give {what}") from None


def _window(
    single: Mapping[str, str], root: Root, now: datetime, legacy_default_range: bool
) -> tuple[datetime, datetime]:
    """The [start, end) the range parameters select (one style only)."""
    other = "minutes" if root == HISTORICAL else "days"
    if other in single:
        fix = "days=N or start/end" if root == HISTORICAL else "minutes=N (at most 15) or start/end"
        raise Problem(400, f"'{other}' is not supported on the {root} endpoints; use {fix}")
    relative = "days" if root == HISTORICAL else "minutes"
    styles = [s for s, pair in _RANGE_STYLES.items() if pair[0] in single or pair[1] in single]
    if relative in single:
        styles.append(relative)
    if len(styles) > 1:
        raise Problem(
            400,
            f"time range given in several styles ({', '.join(styles)}); "
            "use exactly one: days/minutes, start_date/end_date, start_epoch/end_epoch "
            "or start_epoch_ms/end_epoch_ms",
        )
    if not styles:
        if root == REAL_TIME:
            return _rules.minutes_window(_rules.REAL_TIME_DEFAULT_MINUTES, now)
        if legacy_default_range:
            return _rules.days_window(1, now)
        raise Problem(
            400,
            "a time range is required for historical metrics: add days=N "
            "(N up to 90), start_date/end_date, start_epoch/end_epoch or "
            "start_epoch_ms/end_epoch_ms",
        )
    style = styles[0]
    if style in ("days", "minutes"):
        count = _whole(single[style], style, f"a whole number of {style}")
        if count < 1:
            raise Problem(400, f"{style}={count} is not valid; give at least 1")
        if style == "minutes" and count > _rules.REAL_TIME_MAX_MINUTES:
            # Refused as such, not by the span it happens to give: minutes=16 ends at the end
            # of the current minute, so at hh:mm:00 it spans only 15 minutes up to now.
            raise Problem(
                422,
                f"minutes={count} is more than the {_rules.REAL_TIME_MAX_MINUTES} allowed for "
                "real-time requests; ask for 15 minutes or fewer, or use the historical "
                "endpoints for older data",
            )
        try:
            if style == "days":
                return _rules.days_window(count, now)
            return _rules.minutes_window(count, now)
        except OverflowError:
            raise Problem(
                422,
                f"{style}={count} reaches beyond the calendar; use a range "
                "within the limits (90 days, or 15 minutes for real-time)",
            ) from None
    start_key, end_key = _RANGE_STYLES[style]
    for present, missing in ((start_key, end_key), (end_key, start_key)):
        if present in single and missing not in single:
            raise Problem(400, f"{present} needs {missing}: give both ends of the range")
    return _instant(single[start_key], start_key, style), _instant(single[end_key], end_key, style)


def _instant(text: str, name: str, style: str) -> datetime:
    if style == "date":
        try:
            return _rules.parse_instant(text)
        except ValueError as exc:
            raise Problem(400, f"{name}: {exc}") from exc
    per_second = 1000 if style == "epoch_ms" else 1
    unit = "milliseconds" if per_second == 1000 else "seconds"
    value = _whole(text, name, f"Unix time in {unit}")
    try:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(
            milliseconds=value * 1000 // per_second
        )
    except OverflowError:
        raise Problem(400, f"{name}={text} is out of range; give Unix time in {unit}") from None
