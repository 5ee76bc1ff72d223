"""The command line's options mapped onto library arguments: shape only, never the values.

What the values may be is the library's to judge, so the command line and Python accept and
refuse the same queries with the same messages. Usage mistakes of the options themselves
(``--start`` without ``--end``, a ``--filter`` that is not ``KEY=VALUE``) are click errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import click

from pyconviva._dataset import default_end
from pyconviva._rules import parse_instant

__all__ = [
    "export_call_arguments",
    "instant_option",
    "metrics_call_arguments",
    "positive_count",
]


def positive_count(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """Click callback of a count such as ``--days``: refused, saying what it must be, below 1."""
    if value is not None and value < 1:
        raise click.BadParameter(
            f"{value} is not a positive whole number (1, 2, 3, ...)", ctx=ctx, param=param
        )
    return value


def instant_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    """Click callback of an option that takes an ISO instant (``--emulator-now``, ``--now``)."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def metrics_call_arguments(
    *,
    metrics: Sequence[str],
    group_by: str | None = None,
    group_by_tag: str | None = None,
    filters: Sequence[str] = (),
    filter_tags: Sequence[str] = (),
    filter_id: str | None = None,
    last: int | None = None,
    start: str | None = None,
    end: str | None = None,
    granularity: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
    kpi_id: int | None = None,
) -> dict[str, Any]:
    """The keyword arguments of ``get_historical_data`` / ``get_real_time_data`` for the options.

    Only the shape is translated here (``KEY=VALUE`` pairs, ``METRIC:asc``, start/end pairs);
    what the values may be is the library's to judge, so both reject the same inputs alike.
    ``last`` is ``--days`` (historical) or ``--minutes`` (real-time).
    """
    if group_by is not None and group_by_tag is not None:
        raise click.UsageError("give --group-by or --group-by-tag, not both")
    if last is not None and (start is not None or end is not None):
        raise click.UsageError("give a length (--days/--minutes) or --start and --end, not both")
    if (start is None) != (end is None):
        raise click.UsageError("--start and --end go together: give both")
    filter_by: dict[str, Any] = _pairs(filters, "--filter")
    tags = _pairs(filter_tags, "--filter-tag")
    if tags:
        filter_by["custom-tag"] = tags
    if filter_id is not None:
        filter_by["filter_id"] = filter_id
    arguments: dict[str, Any] = {"metrics": metrics[0] if len(metrics) == 1 else list(metrics)}
    if group_by is not None:
        arguments["group_by"] = group_by
    if group_by_tag is not None:
        arguments["group_by"] = {"custom-tag": group_by_tag}
    if filter_by:
        arguments["filter_by"] = filter_by
    if last is not None:
        arguments["time_range"] = last
    if start is not None and end is not None:
        arguments["time_range"] = (start, end)
    if sort is not None:
        metric, _, order = sort.partition(":")
        arguments["sort_by"] = [metric, order] if order else metric
    if granularity is not None:
        arguments["granularity"] = granularity
    if limit is not None:
        arguments["limit"] = limit
    if kpi_id is not None:
        arguments["kpi_id"] = kpi_id
    return arguments


def _pairs(items: Sequence[str], option: str) -> dict[str, str | list[str]]:
    """``KEY=VALUE`` items as a mapping; a key given more than once collects its values (OR)."""
    values: dict[str, list[str]] = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise click.BadParameter(
                f"{item!r} is not KEY=VALUE (a name, '=', then the value to keep)",
                param_hint=f"'{option}'",
            )
        values.setdefault(key.strip(), []).append(value)
    return {key: found[0] if len(found) == 1 else found for key, found in values.items()}


def export_call_arguments(
    *,
    metrics: Sequence[str],
    group_bys: Sequence[str] = (),
    group_by_tags: Sequence[str] = (),
    ungrouped: bool = False,
    start: str | None = None,
    end: str | None = None,
    days: int | None = None,
    since_last: bool = False,
    granularity: str = "PT1H",
    now: datetime,
) -> dict[str, Any]:
    """The keyword arguments of ``export_dataset`` (all but the client, directory and progress).

    Each METRIC is one query (one file a day); ``a+b`` is one query of both metrics, as the
    dataset's file names write it. The ungrouped totals are exported when asked for or when no
    group-by is given. ``--days N`` is the N days up to ``now``'s last full hour (last midnight
    for daily buckets), where ``--since-last`` also ends; with ``--since-last``, ``--days`` (or
    ``--start``) only places the first run's start.
    """
    if days is not None and (start is not None or end is not None):
        raise click.UsageError("give --days or --start/--end, not both")
    if not since_last and days is None and start is None and end is None:
        raise click.UsageError(
            "give the range: --start and --end, --days N, or --since-last to continue an "
            "earlier export"
        )
    if not since_last and (start is None) != (end is None):
        raise click.UsageError("--start and --end go together: give both")
    selections: list[str | list[str]] = [_metric_selection(metric) for metric in metrics]
    groups: list[str | dict[str, str] | None] = []
    if ungrouped or not (group_bys or group_by_tags):
        groups.append(None)
    groups.extend(group_bys)
    groups.extend({"custom-tag": tag} for tag in group_by_tags)
    arguments: dict[str, Any] = {
        "metrics": selections,
        "group_bys": groups,
        "granularity": granularity,
        "since_last": since_last,
    }
    if days is not None or (since_last and end is None):
        last = default_end(now, granularity)
        arguments["end"] = last
        if days is not None:
            arguments["start"] = last - timedelta(days=days)
    if start is not None:
        arguments["start"] = start
    if end is not None:
        arguments["end"] = end
    return arguments


def _metric_selection(argument: str) -> str | list[str]:
    """``attempts`` -> ``"attempts"``; ``plays+bitrate`` -> ``["plays", "bitrate"]``."""
    names = argument.split("+")
    if not all(name.strip() for name in names):
        raise click.BadParameter(
            f"{argument!r} has an empty metric name; give METRIC or METRIC+METRIC+...",
            param_hint="'METRIC...'",
        )
    return names[0] if len(names) == 1 else names
