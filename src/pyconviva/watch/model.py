"""What ``pyconviva watch`` shows, as data: no terminal, no clock, no network (pure).

:class:`WatchModel` takes each refresh's real-time records (the totals and, when grouped, the top
groups) with the time they were fetched, keeps the last 15 complete minutes of every row, and
tells which alert thresholds were crossed. :meth:`WatchModel.view` is an immutable snapshot that
:mod:`pyconviva.watch.render` draws. A failed refresh keeps the data and marks it stale.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pyconviva._exceptions import QueryError
from pyconviva._rules import REAL_TIME_SETTLE_DELAY

__all__ = [
    "DEFAULT_SERIES",
    "HISTORY_MINUTES",
    "SETTLE",
    "Alert",
    "Crossing",
    "Row",
    "Series",
    "View",
    "WatchModel",
    "parse_alert",
    "parse_series",
]

HISTORY_MINUTES = 15
_MINUTE = timedelta(minutes=1)
# A minute is shown once it ended this long ago: until then it is still filling in.
SETTLE = REAL_TIME_SETTLE_DELAY
# Fields that are shares in percent: their change is shown in points, not in percent of itself.
_PERCENT_FIELDS = frozenset({"percentage", "ratio"})
_SERIES_RE = re.compile(r"(?P<metric>[A-Za-z][A-Za-z0-9_-]*)(?:\.(?P<field>[A-Za-z_]+))?")
_ALERT_RE = re.compile(
    r"\s*(?P<series>[A-Za-z][A-Za-z0-9_.-]*)\s*(?P<op>>=|<=|>|<)\s*(?P<threshold>[-+0-9.eE]+)\s*"
)
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class Series:
    """One value a row shows: a metric (as the API path names it) and one of its fields
    (``None``: the first field the reply gives, e.g. ``count`` of ``plays``)."""

    metric: str
    field: str | None = None

    @property
    def key(self) -> str:
        """The metric as replies name it (snake_case)."""
        return self.metric.replace("-", "_")

    @property
    def label(self) -> str:
        text = self.metric.replace("-", " ").replace("_", " ")
        if self.field is None:
            return text
        return f"{text} %" if self.field == "percentage" else f"{text} ({self.field})"


DEFAULT_SERIES = (
    Series("plays"),
    Series("attempts"),
    Series("video-start-failures", "percentage"),
    Series("rebuffering-ratio"),
    Series("bitrate"),
)


def parse_series(text: str) -> Series:
    """``metric`` or ``metric.field``, e.g. ``video-start-failures.percentage``."""
    match = _SERIES_RE.fullmatch(text.strip())
    if match is None:
        raise QueryError(
            f"{text!r} is not a metric; use a metric name such as 'plays', or metric.field "
            "such as 'video-start-failures.percentage'",
            argument="metrics",
        )
    metric = match["metric"].replace("_", "-").lower()
    return Series(metric, match["field"].lower() if match["field"] else None)


@dataclass(frozen=True)
class Alert:
    """A threshold on a series, in the API's units (percent for ratios, bits/s for bitrate)."""

    series: Series
    op: str
    threshold: float

    @property
    def text(self) -> str:
        field = f".{self.series.field}" if self.series.field else ""
        return f"{self.series.metric}{field}{self.op}{self.threshold:g}"

    def holds(self, value: float) -> bool:
        return _OPERATORS[self.op](value, self.threshold)


def parse_alert(text: str) -> Alert:
    """``rebuffering-ratio>2``, ``bitrate<3000000``, ``video-start-failures.count>=50``."""
    match = _ALERT_RE.fullmatch(text)
    threshold = math.nan
    if match is not None:
        try:
            threshold = float(match["threshold"])
        except ValueError:
            threshold = math.nan
    if match is None or not math.isfinite(threshold):
        raise QueryError(
            f"alert {text!r} is not METRIC OP NUMBER; write e.g. 'rebuffering-ratio>2' "
            "(percent), 'bitrate<3000000' (bits/s) or 'video-start-failures.count>=50' "
            "(OP is >, >=, < or <=)",
            argument="alert",
        )
    return Alert(parse_series(match["series"]), match["op"], threshold)


@dataclass(frozen=True)
class Crossing:
    """An alert's condition became true for a group (``None``: all traffic) at ``minute``."""

    alert: Alert
    group: str | None
    value: float
    minute: datetime


@dataclass(frozen=True)
class Row:
    """One line of the view: a series of one group, over the last minutes."""

    group: str | None
    series: Series
    field: str | None  # the field shown (None: no data yet)
    history: tuple[float | None, ...]  # one value per minute, oldest first; the last is "now"
    alerting: bool

    @property
    def now(self) -> float | None:
        return self.history[-1] if self.history else None

    @property
    def previous(self) -> float | None:
        return self.history[-2] if len(self.history) > 1 else None

    @property
    def in_points(self) -> bool:
        """The value is a share in percent: its change is in percentage points."""
        return self.field in _PERCENT_FIELDS

    @property
    def delta(self) -> float | None:
        """The change against the minute before: in points for shares, else in percent."""
        now, before = self.now, self.previous
        if now is None or before is None:
            return None
        if self.in_points:
            return now - before
        return None if before == 0 else (now - before) / before * 100.0


@dataclass(frozen=True)
class View:
    """A snapshot of everything the screen shows."""

    group_by: str | None
    minute: datetime | None  # the newest complete minute shown
    updated_at: datetime | None  # the last good refresh
    stale_since: datetime | None  # the first failed refresh after it, if any
    error: str | None  # what failed
    rows: tuple[Row, ...]
    alerts: tuple[Alert, ...]

    @property
    def stale(self) -> bool:
        return self.stale_since is not None


_Values = dict[tuple[str, str], float]  # (metric key, field) -> value


class WatchModel:
    """The state of the view between refreshes.

    Args:
        series: the values each row shows, in order.
        alerts: thresholds; their series are shown too when not listed.
        group_by: the dimension of the grouped rows, or None for totals only.
    """

    def __init__(
        self,
        series: Sequence[Series] = DEFAULT_SERIES,
        alerts: Sequence[Alert] = (),
        group_by: str | None = None,
    ) -> None:
        shown = list(dict.fromkeys(series))
        shown += [a.series for a in alerts if a.series not in shown]
        self.series = tuple(shown)
        self.alerts = tuple(alerts)
        self.group_by = group_by
        # minute -> group (None: totals) -> values, for the last HISTORY_MINUTES minutes
        self._minutes: dict[datetime, dict[str | None, _Values]] = {}
        self._fields: dict[str, str] = {}  # metric key -> its first field in the replies
        self._groups: tuple[str, ...] = ()
        self._holding: set[tuple[Alert, str | None]] = set()
        self._updated_at: datetime | None = None
        self._stale_since: datetime | None = None
        self._error: str | None = None

    @property
    def metrics(self) -> list[str]:
        """The metric names to request (each once)."""
        return list(dict.fromkeys(s.metric for s in self.series))

    def update(
        self,
        now: datetime,
        totals: Iterable[Mapping[str, Any]],
        grouped: Iterable[Mapping[str, Any]] = (),
    ) -> list[Crossing]:
        """Take a refresh's records (``grouped`` keyed by ``group_by``), fetched at ``now``;
        returns the alerts crossed by the newest complete minute."""
        newest = (now - SETTLE).replace(second=0, microsecond=0) - _MINUTE
        groups: dict[str, None] = {}
        seen: dict[datetime, dict[str | None, _Values]] = {}
        for group_key, records in ((None, totals), (self.group_by, grouped)):
            for record in records:
                minute = record["timestamp"]
                value = record["value"]
                if minute > newest or value is None:
                    continue  # a minute still filling
                group = None if group_key is None else str(record[group_key])
                if group is not None:
                    groups[group] = None
                self._fields.setdefault(record["metric"], record["field"])
                values = seen.setdefault(minute, {}).setdefault(group, {})
                values[record["metric"], record["field"]] = float(value)
        # A newer reply holds the settled numbers of the minutes it repeats.
        self._minutes.update(seen)
        oldest = newest - (HISTORY_MINUTES - 1) * _MINUTE
        self._minutes = {m: v for m, v in self._minutes.items() if oldest <= m <= newest}
        self._groups = tuple(groups)
        self._updated_at, self._stale_since, self._error = now, None, None
        return self._crossings(newest)

    def failed(self, now: datetime, error: str) -> None:
        """A refresh failed at ``now``: the data stays, shown as stale since the first failure."""
        if self._stale_since is None:
            self._stale_since = now
        self._error = error

    def view(self) -> View:
        newest = max(self._minutes, default=None)
        rows = [
            self._row(group, series, newest)
            for group in (None, *self._ordered_groups(newest))
            for series in self.series
        ]
        return View(
            self.group_by,
            newest,
            self._updated_at,
            self._stale_since,
            self._error,
            tuple(rows),
            self.alerts,
        )

    def _field(self, series: Series) -> str | None:
        return series.field or self._fields.get(series.key)

    def _value(self, minute: datetime, group: str | None, series: Series) -> float | None:
        field = self._field(series)
        if field is None:
            return None
        return self._minutes.get(minute, {}).get(group, {}).get((series.key, field))

    def _history(
        self, group: str | None, series: Series, newest: datetime | None
    ) -> list[float | None]:
        if newest is None:
            return []
        minutes = [newest - i * _MINUTE for i in reversed(range(HISTORY_MINUTES))]
        return [self._value(m, group, series) for m in minutes]

    def _row(self, group: str | None, series: Series, newest: datetime | None) -> Row:
        alerting = any(
            (alert, group) in self._holding for alert in self.alerts if alert.series == series
        )
        history = tuple(self._history(group, series, newest))
        return Row(group, series, self._field(series), history, alerting)

    def _ordered_groups(self, newest: datetime | None) -> list[str]:
        """Biggest first by the first series' newest value, as the API ranks its top groups."""
        if newest is None or not self.series:
            return list(self._groups)
        first = self.series[0]

        def size(group: str) -> float:
            value = self._value(newest, group, first)
            return -math.inf if value is None else value

        return sorted(self._groups, key=size, reverse=True)

    def _crossings(self, newest: datetime) -> list[Crossing]:
        """Alerts whose condition holds now and did not at the last known value; a group with
        no value this minute keeps its state, so a gap in the data rings nothing."""
        crossings = []
        holding = set()
        for alert in self.alerts:
            for group in (None, *self._groups):
                key = (alert, group)
                value = self._value(newest, group, alert.series)
                if value is None:
                    if key in self._holding:
                        holding.add(key)
                    continue
                if not alert.holds(value):
                    continue
                holding.add(key)
                if key not in self._holding:
                    crossings.append(Crossing(alert, group, value, newest))
        self._holding = holding
        return crossings
