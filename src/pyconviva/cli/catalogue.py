"""The built-in catalogue as the command line shows it: the rows of ``pyconviva metrics`` and
the shell completion of metric and dimension names. No request is sent."""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem

__all__ = ["catalogue_rows", "complete_dimension", "complete_metric", "metric_group_rows"]


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
