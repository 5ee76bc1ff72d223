"""Draw a :class:`~pyconviva.watch.model.View` with rich: one table row per series and group,
its value in the newest complete minute, the change since the minute before, and a sparkline
of the last 15 minutes. Rows over an alert threshold are highlighted; stale data is dimmed
under a banner saying since when and why. Pure apart from rich itself: the same view at the
same width always gives the same text (:func:`render_text`)."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from datetime import datetime

from rich.console import Console, ConsoleOptions, JustifyMethod, RenderableType
from rich.table import Table
from rich.text import Text

from pyconviva.watch.model import Row, View

__all__ = ["format_delta", "format_value", "render", "render_text", "sparkline"]

_BARS = "▁▂▃▄▅▆▇█"
_ALERT_STYLE = "bold white on red"
_STALE_STYLE = "dim"


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value between the smallest and the largest; a space where there is none."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    bars = []
    for v in values:
        if v is None:
            bars.append(" ")
        elif span == 0:
            bars.append(_BARS[len(_BARS) // 2])
        else:
            bars.append(_BARS[min(len(_BARS) - 1, int((v - low) / span * len(_BARS)))])
    return "".join(bars)


def format_value(value: float | None, field: str | None) -> str:
    """A value in its unit: counts with separators, shares in percent, bitrates in Mbps."""
    if value is None or not math.isfinite(value):
        return "–"
    if field == "count":
        return f"{value:,.0f}"
    if field in ("percentage", "ratio"):
        return f"{value:.2f}%"
    if field == "bps":
        return f"{value / 1e6:.2f} Mbps" if value >= 1e6 else f"{value / 1e3:.0f} kbps"
    if field == "value":
        return f"{value:.2f} s"
    return f"{value:,.4g}"


def format_delta(row: Row) -> str:
    delta = row.delta
    if delta is None:
        return "–"
    return f"{delta:+.2f} pp" if row.in_points else f"{delta:+.1f}%"


def _clock(moment: datetime | None) -> str:
    return "–" if moment is None else moment.strftime("%H:%M")


def _header(view: View) -> Text:
    grouping = f" by {view.group_by}" if view.group_by else ""
    header = Text(f"Conviva real time{grouping}", style="bold")
    header.append(f" · minute {_clock(view.minute)} UTC")
    if view.updated_at is not None:
        header.append(f" · updated {view.updated_at:%H:%M:%S} UTC")
    return header


def _stale_banner(view: View) -> Text | None:
    if view.stale_since is None:
        return None
    since = view.stale_since.strftime("%H:%M:%S")
    return Text(
        f"STALE since {since} UTC, showing the last good refresh: {view.error}",
        style="bold yellow",
    )


_GAP = 2  # columns between two cells
_MIN_NAME = 6


def render(view: View) -> RenderableType:
    """The whole screen for ``view``, fitted to the console's width when drawn."""
    return _Screen(view)


class _Screen:
    """A view laid out at draw time: on a narrow console the names are shortened (with an
    ellipsis) so that the numbers and the sparklines keep their width."""

    def __init__(self, view: View) -> None:
        self.view = view

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        view = self.view
        yield _header(view)
        banner = _stale_banner(view)
        if banner is not None:
            yield banner
        yield _table(view, options.max_width)
        footer = "Ctrl-C quits"
        if view.alerts:
            footer = f"alerts: {', '.join(a.text for a in view.alerts)} · {footer}"
        yield Text(footer, style="dim")


def _cells(view: View) -> list[list[str]]:
    """Each row's cells: alert mark, [group,] metric, now, change, sparkline."""
    rows = []
    previous_group: object = object()
    for row in view.rows:
        names = [row.series.label]
        if view.group_by:
            first = row.group != previous_group
            names.insert(0, ("all traffic" if row.group is None else row.group) if first else "")
        previous_group = row.group
        rows.append(
            [
                "!" if row.alerting else "",
                *names,
                format_value(row.now, row.field),
                format_delta(row),
                sparkline(row.history),
            ]
        )
    return rows


def _name_widths(natural: list[int], room: int) -> list[int]:
    """Shrink the name columns, the widest first, until they fit ``room``."""
    widths = list(natural)
    while sum(widths) > room and max(widths) > _MIN_NAME:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    return widths


def _table(view: View, max_width: int) -> Table:
    groups = [view.group_by] if view.group_by else []
    headers = ["", *groups, "metric", "now", "Δ 1 min", "last 15 min"]
    cells = _cells(view)
    natural = [max(len(text) for text in column) for column in zip(headers, *cells, strict=True)]
    names = slice(1, len(headers) - 3)
    fixed = sum(natural) - sum(natural[names]) + _GAP * (len(headers) - 1)
    natural[names] = _name_widths(natural[names], max_width - fixed)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for header, width in zip(headers, natural, strict=True):
        numeric = header in ("now", "Δ 1 min")
        justify: JustifyMethod = "right" if numeric else "left"
        table.add_column(header, width=width, no_wrap=True, overflow="ellipsis", justify=justify)
    for row, texts in zip(view.rows, cells, strict=True):
        style = _ALERT_STYLE if row.alerting else (_STALE_STYLE if view.stale else None)
        table.add_row(*texts, style=style)
    return table


def render_text(view: View, width: int = 100) -> str:
    """The screen as plain text at ``width`` columns, without colour or trailing spaces (for
    tests and logs)."""
    buffer = io.StringIO()
    Console(width=width, file=buffer, color_system=None, force_terminal=False).print(render(view))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
