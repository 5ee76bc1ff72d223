"""A matplotlib line chart of a :class:`~pyconviva._results.tidy.TidyTable`.

One panel per plotted series, one line per group (the top N groups by volume when there are
more), UTC time axis, units from the metric catalogue. Uses ``matplotlib.figure.Figure``
directly, not pyplot: no global state, no GUI backend needed to save a PNG, and notebooks
display the returned figure.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import timezone
from pathlib import Path
from typing import Any

from pyconviva._exceptions import QueryError
from pyconviva._optional import require
from pyconviva._results.tidy import Series, TidyTable, utc_datetime

__all__ = ["describe_series", "plot_table"]


def describe_series(series: Series) -> tuple[str, str]:
    """(display label of the metric, unit of the field) from the catalogue when it knows them."""
    try:
        catalog: Any = importlib.import_module("pyconviva._catalog")
        info = catalog.find_metric(series.metric)
    except (ImportError, AttributeError):  # the catalogue is optional for plotting
        info = None
    if info is None:
        return series.metric, series.field
    return str(info.label), str(info.units.get(series.field, series.field))


def _pick_series(table: TidyTable, metrics: Sequence[str] | None) -> list[int]:
    """Indexes of the series to plot: by ``metric`` (its first field) or ``metric.field``."""
    if metrics is None:
        firsts = {s.metric: index for index, s in reversed(list(enumerate(table.series)))}
        return sorted(firsts.values())
    by_name = {s.name: index for index, s in enumerate(table.series)}
    for index, s in reversed(list(enumerate(table.series))):
        by_name[s.metric] = index
    missing = [name for name in metrics if name not in by_name]
    if missing:
        raise QueryError(
            f"plot(metrics=...): {missing} not in this result; choose from {sorted(by_name)}",
            argument="metrics",
        )
    return [by_name[name] for name in metrics]


def _ranked_groups(table: TidyTable, plotted: int) -> list[str]:
    """Groups ordered by volume: the sum of the first ``count`` series, else of the plotted one."""
    counts = [index for index, s in enumerate(table.series) if s.field == "count"]
    weights = table.columns[counts[0] if counts else plotted]
    volume: dict[str, float] = dict.fromkeys(table.groups(), 0.0)
    for group, weight in zip(table.row_group or (), weights, strict=True):
        if weight is not None:
            volume[group] += weight
    return sorted(volume, key=volume.__getitem__, reverse=True)


def plot_table(
    table: TidyTable,
    *,
    path: str | Path | None = None,
    top: int = 10,
    metrics: Sequence[str] | None = None,
    subtitle: str | None = None,
) -> Any:
    """Draw the chart, save it to ``path`` (format from its suffix) if given, return the Figure."""
    if top < 1:
        raise QueryError(f"plot(top={top!r}): top must be at least 1", argument="top")
    figure_module = require("matplotlib.figure", feature="plot()")
    dates = require("matplotlib.dates", feature="plot()")
    chosen = _pick_series(table, metrics)
    if not chosen:
        raise QueryError("plot(): this result has no values to plot", argument="metrics")
    figure = figure_module.Figure(figsize=(10, 1.0 + 3.2 * len(chosen)), layout="constrained")
    axes = figure.subplots(len(chosen), 1, sharex=True, squeeze=False)[:, 0]
    for ax, index in zip(axes, chosen, strict=True):
        _draw(ax, table, index, top)
        locator = dates.AutoDateLocator(tz=timezone.utc)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator, tz=timezone.utc))
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (UTC, bucket start)")
    if subtitle:
        figure.suptitle(subtitle, fontsize="medium")
    if path is not None:
        figure.savefig(Path(path), dpi=110)
    return figure


def _draw(ax: Any, table: TidyTable, index: int, top: int) -> None:
    series = table.series[index]
    label, unit = describe_series(series)
    column = table.columns[index]
    stamps = {epoch: utc_datetime(epoch) for epoch in table.bucket_ms}
    title = f"{label} — {series.field}"
    if table.row_group is None:
        points = [
            (stamps[e], v) for e, v in zip(table.row_ms, column, strict=True) if v is not None
        ]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=series.name)
    else:
        ranked = _ranked_groups(table, index)
        shown = set(ranked[:top])
        lines: dict[str, tuple[list[Any], list[Any]]] = {g: ([], []) for g in ranked[:top]}
        for epoch, group, value in zip(table.row_ms, table.row_group, column, strict=True):
            if value is not None and group in shown:
                lines[group][0].append(stamps[epoch])
                lines[group][1].append(value)
        for group, (xs, ys) in lines.items():
            ax.plot(xs, ys, label=group)
        ax.legend(title=table.dimension, fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
        if len(ranked) > top:
            title += f" (top {top} of {len(ranked)} {table.dimension} by volume)"
    ax.set_title(title)
    ax.set_ylabel(unit)
