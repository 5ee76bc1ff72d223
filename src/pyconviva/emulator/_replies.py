"""Reply bodies of the emulated Metrics V3 API, as compact JSON bytes.

Metric replies are the hot path (a 90-day hourly group-by has tens of thousands of rows), so
they are written as text directly from the computed columns rather than built as nested dicts
and then serialised; the result is the same compact JSON ``json.dumps`` would give. Writing
stops as soon as the body passes the API's size cap, so that an oversized reply costs little.

Shapes (reference §4, with the choices of the design notes): ``_meta`` always, holding
``group_by_dimension.description`` on group-by, and ``filter_info`` when filtered:
``{"id": "180"}`` (a string) for a saved filter, ``{"filters": {"isp": ["BT", "Optus"]}}``
(query-parameter names, sorted values) for dimension and custom-tag filters. ``time_series``
buckets are stamped at their start with ``epoch_ms`` and an ``iso_date`` of the form
``YYYY-MM-DDTHH:MM:SSZ``; ``total`` covers the whole range and, on group-by, every group (not
only the rows returned). Group-by rows are the top ``limit`` dimension values by the sort
metric's total (first value field), biggest first unless ``order=asc``; each bucket lists those
of them that have data, ordered by that bucket's values.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pyconviva import _rules
from pyconviva._catalog import DIMENSIONS, METRIC_GROUPS, METRICS, MetricInfo
from pyconviva._rules import HISTORICAL, REAL_TIME
from pyconviva.emulator._audience import Audience, Conditions
from pyconviva.emulator._data import (
    HISTORICAL_LAG,
    REAL_TIME_LAG,
    RECIPES,
    DataModel,
    Mix,
    Number,
    counters_for,
    evaluate,
)
from pyconviva.emulator._population import CUSTOM_TAGS, KPIS, SAVED_FILTERS
from pyconviva.emulator._routes import CUSTOM_SELECTION, DataQuery

__all__ = [
    "dimensions_body",
    "endpoints_body",
    "filters_body",
    "group_by_endpoints_body",
    "json_bytes",
    "kpis_body",
    "metrics_body",
]


def json_bytes(value: Any) -> bytes:
    """Compact JSON, ASCII only (so that characters and bytes count the same)."""
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def metrics_body(
    query: DataQuery, audience: Audience, model: DataModel, now: datetime
) -> bytes | None:
    """The reply to a metrics request, or None when it would exceed the API's size cap."""
    groups = _groups(query, audience)
    starts = _rules.bucket_starts(query.start, query.end, query.granularity)
    boundaries = [*starts, query.end]
    counters = counters_for(m.name for m in query.metrics)
    lag = HISTORICAL_LAG if query.root == HISTORICAL else REAL_TIME_LAG

    def cumulative(
        chosen: Mapping[str, Mix], at: Sequence[datetime]
    ) -> Mapping[str, dict[str, list[int]]]:
        return model.cumulative(chosen, counters, at, now=now, lag=lag, kpi_id=query.kpi_id)

    hours = [(b - a).total_seconds() / 3600.0 for a, b in zip(starts, boundaries[1:], strict=True)]
    total_hours = (boundaries[-1] - boundaries[0]).total_seconds() / 3600.0
    stamps = [
        f'{{"timestamp":{{"epoch_ms":{int(t.timestamp()) * 1000},'
        f'"iso_date":"{_rules.format_instant(t)}"}},'
        for t in starts
    ]
    buckets: list[str] | None
    if query.grouped:
        # Rank every group on its totals (two instants), then compute the kept rows in full.
        group_totals = {
            name: _totals(sums)
            for name, sums in cumulative(groups, [boundaries[0], boundaries[-1]]).items()
        }
        total = _sum_totals(group_totals.values(), counters)
        ranked = _rank(query, group_totals, total_hours)
        series = cumulative({name: groups[name] for name in ranked}, boundaries)
        buckets = _grouped_buckets(query, ranked, series, hours, stamps)
    else:
        series_all = cumulative(groups, boundaries)[""]
        total = _totals(series_all)
        buckets = _plain_buckets(query, series_all, hours, stamps)
    if buckets is None:
        return None
    writer = _Writer()
    writer.add('{"_meta":' + json.dumps(_meta(query), separators=(",", ":")) + ',"time_series":[')
    for number, bucket in enumerate(buckets):
        if not writer.add("," + bucket if number else bucket):
            return None
    totals = _texts(query.metrics, _columns(query.metrics, total, [total_hours]))[0]
    if not writer.add('],"total":{' + totals + "}}"):
        return None
    return writer.finish()


class _Writer:
    """Collects body parts while they fit under the API's reply size cap."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0

    def add(self, part: str) -> bool:
        self._size += len(part)
        self._parts.append(part)
        return self._size <= _rules.MAX_REPLY_BYTES

    def finish(self) -> bytes:
        return "".join(self._parts).encode("ascii")


def _conditions(filters: Mapping[str, frozenset[str]]) -> Conditions:
    return tuple(sorted(filters.items(), key=lambda item: item[0]))


def _groups(query: DataQuery, audience: Audience) -> dict[str, Mix]:
    """The mixes of profiles the query aggregates: one (named "") or one per group."""
    tag_conditions: Conditions = ()
    if query.filter_id is not None:
        conditions = _conditions(SAVED_FILTERS[query.filter_id].conditions)
    else:
        conditions, tag_conditions = _conditions(query.filters), _conditions(query.tag_filters)
    by = query.tag if query.group_by is None else query.group_by.key
    return audience.mixes(
        conditions, tag_conditions, by if query.grouped else None, query.group_by is None
    )


def _meta(query: DataQuery) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if query.grouped:
        label = query.tag if query.group_by is None else query.group_by.label
        meta["group_by_dimension"] = {"description": label}
    if query.filter_id is not None:
        meta["filter_info"] = {"id": str(query.filter_id)}
    elif query.filters or query.tag_filters:
        applied = {key: sorted(values) for key, values in query.filters.items()}
        applied.update({f"tag_{tag}": sorted(v) for tag, v in query.tag_filters.items()})
        meta["filter_info"] = {"filters": dict(sorted(applied.items()))}
    return meta


def _sum_totals(
    totals: Iterable[Mapping[str, list[int]]], counters: Sequence[str]
) -> dict[str, list[int]]:
    summed: dict[str, list[int]] = {c: [0] for c in counters}
    for group in totals:
        for counter in counters:
            summed[counter] = [summed[counter][0] + group[counter][0]]
    return summed


def _rank(
    query: DataQuery, totals: Mapping[str, Mapping[str, list[int]]], hours: float
) -> list[str]:
    """The `limit` groups with the largest (or, ascending, smallest) total of the sort metric's
    first value field; ties by name."""
    recipe = RECIPES[(query.sort_by or query.metrics[0]).name][:1]
    sign = -1 if query.descending else 1

    def key(name: str) -> tuple[Number, str]:
        return sign * evaluate(recipe, totals[name], [hours])[0][0], name

    return sorted(totals, key=key)[: query.limit]


def _differences(cumulative: Mapping[str, list[int]]) -> dict[str, list[int]]:
    return {c: list(map(operator.sub, v[1:], v[:-1])) for c, v in cumulative.items()}


def _totals(cumulative: Mapping[str, list[int]]) -> dict[str, list[int]]:
    return {c: [v[-1] - v[0]] for c, v in cumulative.items()}


def _template(metric: MetricInfo) -> str:
    fields = ",".join(f'"{name}":%s' for name in metric.fields)
    return f'"{metric.key}":{{{fields}}}'


def _columns(
    metrics: Sequence[MetricInfo], sums: Mapping[str, list[int]], hours: Sequence[float]
) -> list[list[list[Number]]]:
    """Per metric, its value fields as columns over the buckets."""
    return [evaluate(RECIPES[m.name], sums, hours) for m in metrics]


def _texts(metrics: Sequence[MetricInfo], columns: Sequence[list[list[Number]]]) -> list[str]:
    """Each bucket's metric objects as JSON members ``"key":{...},...``."""
    template = ",".join(_template(metric) for metric in metrics)
    flat = [column for metric_columns in columns for column in metric_columns]
    return [template % values for values in zip(*flat, strict=True)]


def _has_data(columns: Sequence[list[list[Number]]]) -> list[bool]:
    flat = [column for metric_columns in columns for column in metric_columns]
    return [any(values) for values in zip(*flat, strict=True)]


def _plain_buckets(
    query: DataQuery,
    overall: Mapping[str, list[int]],
    hours: Sequence[float],
    stamps: Sequence[str],
) -> list[str]:
    columns = _columns(query.metrics, _differences(overall), hours)
    texts = _texts(query.metrics, columns)
    keep = _has_data(columns) if query.no_nils else [True] * len(stamps)
    return [
        stamp + text + "}" for stamp, text, kept in zip(stamps, texts, keep, strict=True) if kept
    ]


def _grouped_buckets(
    query: DataQuery,
    ranked: Sequence[str],
    series: Mapping[str, Mapping[str, list[int]]],
    hours: Sequence[float],
    stamps: Sequence[str],
) -> list[str] | None:
    """Each bucket with its rows; None as soon as the rows alone pass the size cap."""
    sign = -1 if query.descending else 1
    sort_index = query.metrics.index(query.sort_by or query.metrics[0])
    key = json.dumps(query.tag if query.group_by is None else query.group_by.key)
    rows = []
    size = 0
    for name in ranked:
        columns = _columns(query.metrics, _differences(series[name]), hours)
        prefix = f'{{"dimension":{{"key":{key},"value":{json.dumps(name)}}},"metrics":{{'
        texts = [prefix + text + "}}" for text in _texts(query.metrics, columns)]
        has_data = _has_data(columns)
        size += sum(len(text) + 1 for text, kept in zip(texts, has_data, strict=True) if kept)
        if size > _rules.MAX_REPLY_BYTES:
            return None
        rows.append((name, columns[sort_index][0], has_data, texts))
    buckets = []
    for k, stamp in enumerate(stamps):
        present = [
            (sign * values[k], name, texts[k]) for name, values, has, texts in rows if has[k]
        ]
        if not present and query.no_nils:
            continue
        present.sort(key=lambda row: (row[0], row[1]))
        body = ",".join(text for _, _, text in present)
        buckets.append(stamp + '"dimensional_data":[' + body + "]}")
    return buckets


# --------------------------------------------------------------------------------------------
# Metadata replies
# --------------------------------------------------------------------------------------------


def _endpoint(base_url: str, path: str) -> dict[str, Any]:
    return {"methods": ["GET"], "path": f"{base_url}{_rules.API_PREFIX}/{path}"}


def endpoints_body(base_url: str, *, strict_real_time: bool) -> bytes:
    """Discovery: every metric, metric group and custom-selection endpoint, and references."""

    def served_in_real_time(name: str) -> bool:
        members = METRIC_GROUPS.get(name, (name,))
        return not strict_real_time or all(METRICS[m].real_time for m in members)

    names = [*sorted(METRICS), *METRIC_GROUPS, CUSTOM_SELECTION]
    resources = [
        {
            "resource_name": name.replace("-", " "),
            "endpoints": [
                _endpoint(base_url, f"{HISTORICAL}/{name}"),
                *(
                    [_endpoint(base_url, f"{REAL_TIME}/{name}")]
                    if name == CUSTOM_SELECTION or served_in_real_time(name)
                    else []
                ),
            ],
        }
        for name in names
    ]
    references = [
        {"resource_name": kind, "endpoints": [_endpoint(base_url, path)]}
        for kind, path in (
            ("dimensions", f"{HISTORICAL}/_meta/references/dimensions"),
            ("filters", f"{HISTORICAL}/_meta/references/filters"),
            ("kpis", "kpis"),
        )
    ]
    return json_bytes({"resources": resources, "references": references})


def group_by_endpoints_body(base_url: str, target: str, *, tags_only: bool) -> bytes:
    """Discovery of the group-by endpoints of one metric or metric group."""
    if tags_only:
        entries = [(tag, f"dimension-tag/{tag}") for tag in CUSTOM_TAGS]
    else:
        entries = [(d.label, d.name) for d in DIMENSIONS.values()]
    resources = [
        {
            "resource_name": label,
            "endpoints": [_endpoint(base_url, f"{HISTORICAL}/{target}/group-by/{path}")],
        }
        for label, path in entries
    ]
    return json_bytes({"resources": resources})


def dimensions_body() -> bytes:
    """The dimensions and custom tags, each with its filter parameter and group-by path."""
    dimensions = [
        {
            "name": d.label,
            "query_filter": f"?{d.key}" if d.filterable else None,
            "is_custom": False,
            "group_by": f"/group-by/{d.name}",
        }
        for d in DIMENSIONS.values()
    ]
    tags = [
        {
            "name": tag,
            "query_filter": f"?tag_{tag}",
            "is_custom": True,
            "group_by": f"/group-by/dimension-tag/{tag}",
        }
        for tag in CUSTOM_TAGS
    ]
    return json_bytes({"dimensions": dimensions + tags})


def filters_body() -> bytes:
    """The saved filters (ids for ``filter_id``)."""
    return json_bytes(
        {
            "filters": [
                {"id": f.id, "name": f.name}
                for f in sorted(SAVED_FILTERS.values(), key=lambda f: f.id)
            ]
        }
    )


def kpis_body() -> bytes:
    """The KPI threshold sets (ids for ``kpi_id``)."""
    return json_bytes(
        {
            "kpis": [
                {"id": k.id, "name": k.name, "thresholds": dict(k.thresholds)}
                for k in KPIS.values()
            ]
        }
    )
