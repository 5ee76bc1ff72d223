"""The built-in catalogue as the command line shows it: the rows of ``pyconviva metrics``, the
shell completion of metric and dimension names, and the check of metric names that a command
sending many requests (``export``) makes before the first one. No request is sent."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import click
from click.shell_completion import CompletionItem

__all__ = [
    "catalogue_rows",
    "complete_dimension",
    "complete_metric",
    "metric_group_rows",
    "refuse_unknown_metrics",
    "unknown_metrics",
]


def catalogue_rows(*, real_time_only: bool) -> list[dict[str, Any]]:
    """One row per metric, with the groups that include it."""
    from pyconviva._catalog import METRIC_GROUPS, METRICS

    rows = []
    for info in METRICS.values():
        if real_time_only and not info.real_time:
            continue
        groups = [group for group, members in METRIC_GROUPS.items() if info.name in members]
        rows.append(
            {
                "name": info.name,
                "label": info.label,
                "fields": list(info.fields),
                "real_time": info.real_time,
                "groups": groups,
            }
        )
    return rows


def metric_group_rows() -> list[dict[str, Any]]:
    """One row per metric group, with its member metrics."""
    from pyconviva._catalog import METRIC_GROUPS

    return [{"group": name, "metrics": list(members)} for name, members in METRIC_GROUPS.items()]


def complete_metric(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Metric and metric-group names starting with what was typed."""
    from pyconviva._catalog import METRIC_GROUPS, METRICS

    names = [*METRICS, *METRIC_GROUPS]
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_dimension(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Dimension names starting with what was typed."""
    from pyconviva._catalog import DIMENSIONS

    return [CompletionItem(name) for name in DIMENSIONS if name.startswith(incomplete)]


def unknown_metrics(names: Iterable[str]) -> list[str]:
    """The names that are neither a metric (kebab or snake, or an alias) nor a metric group
    of the built-in catalogue, each once, in order."""
    from pyconviva._catalog import METRIC_GROUPS, find_metric

    return [
        name
        for name in dict.fromkeys(names)
        if find_metric(name) is None and name.replace("_", "-") not in METRIC_GROUPS
    ]


def refuse_unknown_metrics(names: Iterable[str], *, way_through: str) -> None:
    """A usage error for the names the catalogue does not know, with the closest known names;
    ``way_through`` is the option that sends them anyway (an account may have metrics the
    catalogue lacks)."""
    from pyconviva._catalog import METRIC_GROUPS, suggest_metrics

    unknown = unknown_metrics(names)
    if not unknown:
        return
    described = []
    for name in unknown:
        groups = difflib.get_close_matches(name.replace("_", "-").lower(), list(METRIC_GROUPS))
        close = list(dict.fromkeys([*suggest_metrics(name), *groups]))[:3]
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        described.append(f"{name!r}{hint}")
    noun = "metric" if len(unknown) == 1 else "metrics"
    raise click.UsageError(
        f"unknown {noun} {', '.join(described)}: not in the built-in catalogue, which "
        f"`pyconviva metrics` lists; nothing was sent. For a metric of your account that the "
        f"catalogue lacks, add {way_through}"
    )
