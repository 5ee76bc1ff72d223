"""The dataset's units: one query over (at most) one UTC day, one file each. Pure.

Also the rules that decide which units a run fetches: the bucket grid the range must follow,
and whether a unit's data has settled (see :data:`SETTLE_DELAY`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeGuard

from pyconviva._exceptions import QueryError
from pyconviva._query import GroupBy
from pyconviva._rules import (
    HISTORICAL,
    HISTORICAL_SETTLE_DELAY,
    Granularity,
    format_instant,
    human_duration,
    parse_granularity,
)

__all__ = [
    "DAY",
    "SETTLE_DELAY",
    "ExportQuery",
    "ExportUnit",
    "check_granularity",
    "day_windows",
    "export_queries",
    "grid_floor",
    "on_grid",
    "plan_units",
    "query_pairs",
    "refuse_repeated",
]

DAY = timedelta(days=1)

SETTLE_DELAY = HISTORICAL_SETTLE_DELAY
"""A unit is *settled* (done, never fetched again) only when its last bucket ended at least this
long ago; a unit with a newer bucket is written as provisional and fetched again by the next run."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


@dataclass(frozen=True)
class ExportQuery:
    """One query of an export: a metric selection, a group-by, and the file stem they name."""

    metrics: tuple[str, ...]
    group_by: GroupBy
    stem: str


@dataclass(frozen=True)
class ExportUnit:
    """One file of the dataset: one query over [start, end), within one UTC day."""

    query: ExportQuery
    start: datetime
    end: datetime

    @property
    def path(self) -> str:
        """The file's path relative to the dataset directory (also its key in the manifest)."""
        day = self.start.date()
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        hours = ""
        if (self.start, self.end) != (midnight, midnight + DAY):
            hours = f"__{_clock_text(self.start - midnight)}-{_clock_text(self.end - midnight)}"
        return f"date={day.isoformat()}/{self.query.stem}{hours}.parquet"

    def is_settled(self, now: datetime) -> bool:
        """Whether every bucket of the unit is older than :data:`SETTLE_DELAY` at ``now``."""
        return self.end <= now - SETTLE_DELAY

    def has_started(self, now: datetime) -> bool:
        """Whether the unit's first bucket has begun at ``now`` (a later one has no data yet)."""
        return self.start < now


def export_queries(metrics: object, group_bys: object) -> list[ExportQuery]:
    """Every (metric selection, group-by) pair, each with a distinct file stem.

    ``metrics`` is one metric name or a list whose items are a metric (or metric group) name or
    a list of names fetched together (a custom selection). ``group_bys`` is a list of dimension
    names, ``{"custom-tag": name}`` dicts and ``None`` (not grouped). Whether the names exist is
    checked where each query is built; here only their shape, so that a wrong type is a
    ``QueryError`` too.
    """
    queries = [
        ExportQuery(names, group, _UNSAFE.sub("_", f"{'+'.join(names)}__{_group_label(group)}"))
        for names, group in query_pairs(metrics, group_bys)
    ]
    refuse_repeated([query.stem for query in queries], "file")
    return queries


def query_pairs(metrics: object, group_bys: object) -> list[tuple[tuple[str, ...], GroupBy]]:
    """Every (metric selection, group-by) pair, selections first, once the shapes of both
    arguments are checked (``QueryError`` naming the argument otherwise): what an export's
    files and the dlt source's tables are made of."""
    selections = _selections(metrics)
    groups = _group_bys(group_bys)
    return [(names, group) for names in selections for group in groups]


def refuse_repeated(names: Sequence[str], what: str) -> None:
    """A ``QueryError`` when two pairs would go to the same ``what`` (a file, a table)."""
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise QueryError(
            f"metrics/group_bys name the same {what} twice: {', '.join(repeated)}; list each "
            "metric selection and group-by once",
            argument="group_bys",
        )


_METRICS_FIX = (
    "pass e.g. metrics=['attempts'] or metrics=['attempts', ['plays', 'bitrate']] (a list of "
    "names, or of lists of names fetched together)"
)
_GROUP_BYS_FIX = "pass e.g. group_bys=[None, 'isp'] (None: not grouped)"


def _selections(metrics: object) -> list[tuple[str, ...]]:
    if isinstance(metrics, str):
        return [(metrics,)]
    selections = []
    for index, item in enumerate(
        _non_empty_list(metrics, "metrics", "a name or a list", _METRICS_FIX)
    ):
        names = (item,) if isinstance(item, str) else item
        if (
            not isinstance(names, (list, tuple))
            or not names
            or not all(isinstance(name, str) for name in names)
        ):
            raise QueryError(
                f"metrics[{index}]={_shown(item)} is not a metric name or a non-empty list of "
                f"names; {_METRICS_FIX}",
                argument="metrics",
            )
        selections.append(tuple(names))
    return selections


def _group_bys(group_bys: object) -> list[GroupBy]:
    checked: list[GroupBy] = []
    for index, group in enumerate(
        _non_empty_list(group_bys, "group_bys", "a list", _GROUP_BYS_FIX)
    ):
        if not _is_group_by(group):
            raise QueryError(
                f"group_bys[{index}]={_shown(group)} is not a dimension name, a "
                f"{{'custom-tag': name}} dict or None; {_GROUP_BYS_FIX}",
                argument="group_bys",
            )
        checked.append(group)
    return checked


def _is_group_by(group: object) -> TypeGuard[GroupBy]:
    """A dimension name, a ``{"custom-tag": name}`` dict (names are checked later) or None."""
    if isinstance(group, Mapping):
        return all(isinstance(value, str) for value in group.values())
    return group is None or isinstance(group, str)


def _non_empty_list(
    value: object, argument: str, expected: str, fix: str
) -> list[object] | tuple[object, ...]:
    """``value`` if it is a non-empty list or tuple; else a ``QueryError`` saying it is empty
    or not ``expected`` (e.g. "a name or a list")."""
    if isinstance(value, (list, tuple)) and value:
        return value
    problem = "empty" if isinstance(value, (list, tuple)) else f"not {expected}"
    raise QueryError(f"{argument}={_shown(value)} is {problem}; {fix}", argument=argument)


def _shown(value: object) -> str:
    """A value for a message, kept short (a wrong argument can be huge)."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _group_label(group: GroupBy) -> str:
    if group is None:
        return "all"
    if isinstance(group, str):
        return group.replace("_", "-")
    return "-".join(f"{key}-{value}" for key, value in group.items())


def day_windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at every UTC midnight inside it."""
    windows = []
    cursor = start
    while cursor < end:
        midnight = datetime(cursor.year, cursor.month, cursor.day, tzinfo=timezone.utc) + DAY
        stop = min(midnight, end)
        windows.append((cursor, stop))
        cursor = stop
    return windows


def plan_units(
    queries: Sequence[ExportQuery], ranges: Sequence[tuple[datetime, datetime]]
) -> list[ExportUnit]:
    """Every unit of ``queries`` over each range, day by day, without repeats."""
    units = {
        unit.path: unit
        for range_start, range_end in ranges
        for window_start, window_end in day_windows(range_start, range_end)
        for unit in (ExportUnit(q, window_start, window_end) for q in queries)
    }
    return list(units.values())


def _clock_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{minutes // 60:02d}{minutes % 60:02d}"


def check_granularity(granularity: object) -> Granularity:
    """``granularity`` parsed; its buckets must divide a day (one file a day)."""
    if not isinstance(granularity, str):
        raise QueryError(
            f"granularity={_shown(granularity)} is not a string; pass e.g. 'PT1H'",
            argument="granularity",
        )
    try:
        parsed = parse_granularity(granularity, HISTORICAL)
    except ValueError as exc:
        raise QueryError(f"granularity={granularity!r}: {exc}", argument="granularity") from exc
    if parsed.step is None or parsed.step > DAY or DAY % parsed.step:
        raise QueryError(
            f"granularity={granularity!r}: the export writes one file per day, so its buckets "
            "must divide a day; use e.g. 'PT1H', 'PT15M' or 'P1D'",
            argument="granularity",
        )
    return parsed


def grid_floor(t: datetime, step: timedelta) -> datetime:
    """``t`` taken down to the grid of ``step`` counted from its UTC midnight."""
    midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
    return t - (t - midnight) % step


def on_grid(t: datetime, step: timedelta, argument: str) -> datetime:
    """``t`` itself when it starts a bucket; else a ``QueryError`` naming the aligned value.

    The API widens a bucket cut by the range to the whole bucket, so an off-grid edge would
    fetch part of a neighbouring unit's data twice.
    """
    if grid_floor(t, step) != t:
        raise QueryError(
            f"{argument}={format_instant(t)} cuts a {human_duration(step)} bucket; the API would "
            f"return the whole bucket and the export would hold it twice. Pass {argument}="
            f"{format_instant(grid_floor(t, step))} (or the next bucket start)",
            argument=argument,
        )
    return t
