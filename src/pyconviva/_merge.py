"""Merge the replies of split windows into one reply, honestly.

What the merged reply holds:

- ``time_series``: every bucket once, in time order, as its own window's reply has it; a note
  counts buckets that came twice (kept once) or not at all.
- ``total``: the ``count`` of each additive metric (plays, attempts, minutes played), summed
  over the windows' totals. Every other total field — percentages, ratios, averages, rates,
  unique counts, and anything the catalogue does not know — is left out, and a note says which
  and why; so is a count that some window's total lacks (its sum would be short). On a group-by
  the API's total covers every group, not only the rows returned, so the sum stays exact.
- ``_meta`` and any other top-level key: the earliest window's.
- Group-by rows: each window's reply holds its own top ``limit`` groups (50 by default), ranked
  over that window alone, so the merged rows are the union of those and may differ from the
  top ``limit`` over the whole range (a note says so). A group that some windows ranked but a
  *full* window (one that returned ``limit`` groups, so that it may have cut some) did not has
  no rows in that window's buckets: its values there are unknown — missing, never zero —, the
  tables have no row for it there (null once pivoted), and a note names each such window and
  the groups it lacks. A sum of such a group over the range is short by those windows; nothing
  here rebuilds per-group totals or re-ranks groups from partial sums. A window that returned
  fewer than ``limit`` groups kept every group that had data in it.

Each reply is read as the single-reply decoder reads it (``reply_outline`` for the bucket
stamps, the tidy table for the groups, the value rules of ``values``): an odd item it skips
with a note (a null row, a total that is no object, a value that is no number) is skipped here
too, and what it refuses raises :class:`~pyconviva.UnexpectedResponseError`. Nothing else
escapes.

Pure: the replies are decoded JSON mappings; nothing is fetched here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyconviva._catalog import find_metric
from pyconviva._exceptions import UnexpectedResponseError
from pyconviva._query import MetricsQuery
from pyconviva._results.tidy import ReplyShapeError, format_utc, reply_outline, tidy_metrics
from pyconviva._results.values import number_problem
from pyconviva._rules import DEFAULT_LIMIT, bucket_starts, format_instant, parse_granularity

__all__ = ["merge_replies"]

# How many missing bucket stamps, windows and group values a note spells out before it counts.
_SHOWN = 5

Window = tuple[datetime, datetime]


def merge_replies(
    parts: Sequence[Mapping[str, Any]],
    query: MetricsQuery,
    windows: Sequence[Window] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """One reply from the replies of ``query``'s windows (in any order), and notes on what the
    merged reply cannot say. ``windows`` are the ranges the parts were asked for, one per part,
    to name them in notes (without them a window is named by the buckets its reply holds).
    A single part comes back as it is, with no notes.

    Raises:
        UnexpectedResponseError: a part the single-reply decoder refuses too (no
            ``time_series`` list, a bucket without an integer ``timestamp.epoch_ms``).
    """
    if not parts:
        raise ValueError("merge_replies needs at least one reply")
    if windows is not None and len(windows) != len(parts):
        raise ValueError(f"{len(parts)} replies but {len(windows)} windows")
    if len(parts) == 1:
        return dict(parts[0]), []
    stamps = [_outline(part, index) for index, part in enumerate(parts)]
    order = sorted(
        range(len(parts)),
        key=lambda i: windows[i][0].timestamp() * 1000 if windows else min(stamps[i], default=0),
    )
    replies = [
        _Reply(parts[i], stamps[i], f"window {n} of {len(parts)} ({_label(i, windows, stamps[i])})")
        for n, i in enumerate(order, start=1)
    ]
    notes: list[str] = []
    merged = dict(replies[0].raw)  # `_meta` and any other top-level key, from the first window
    merged["time_series"] = _series(replies, query, notes)
    if any("total" in reply.raw for reply in replies):
        merged["total"] = _total([reply.raw.get("total") for reply in replies], notes)
    if query.group_by is not None or query.group_by_tag is not None:
        notes.extend(_ranking_notes(replies, query))
    return merged, notes


@dataclass(frozen=True)
class _Reply:
    """One window's reply, its bucket stamps (ms) and how notes name it."""

    raw: Mapping[str, Any]
    stamps: list[int]
    label: str


def _outline(part: Mapping[str, Any], index: int) -> list[int]:
    try:
        return reply_outline(part)
    except ReplyShapeError as exc:
        raise UnexpectedResponseError(f"the reply of window {index + 1}: {exc}") from exc


def _label(index: int, windows: Sequence[Window] | None, stamps: list[int]) -> str:
    if windows is not None:
        start, end = windows[index]
        return f"{format_instant(start)}..{format_instant(end)}"
    if not stamps:
        return "no buckets"
    return f"buckets {format_utc(min(stamps))}..{format_utc(max(stamps))}"


def _series(replies: Sequence[_Reply], query: MetricsQuery, notes: list[str]) -> list[Any]:
    """Every bucket once, in time order; notes for buckets seen twice or not at all."""
    buckets: dict[int, Any] = {}
    repeated = 0
    for reply in replies:
        for bucket, stamp in zip(reply.raw["time_series"], reply.stamps, strict=True):
            if stamp in buckets:
                repeated += 1  # windows that touch both hold the bucket: keep the first
            else:
                buckets[stamp] = bucket
    if repeated:
        notes.append(
            f"time_series: {repeated} bucket(s) came in two windows (the windows touched); "
            "each was kept once, from the first reply that held it"
        )
    start, end = query.window
    expected = bucket_starts(start, end, parse_granularity(query.granularity, query.root))
    missing = [t for t in expected if round(t.timestamp() * 1000) not in buckets]
    if missing:
        notes.append(
            f"time_series: {len(missing)} of {len(expected)} buckets are missing from the "
            f"replies: {_listed([format_instant(t) for t in missing], '')}"
        )
    return [buckets[stamp] for stamp in sorted(buckets)]


def _listed(items: Sequence[str], noun: str) -> str:
    """The first few items, then how many more (``noun`` names them: " values")."""
    shown = ", ".join(items[:_SHOWN])
    more = len(items) - _SHOWN
    return f"{shown} and {more} more{noun}" if more > 0 else shown


def _total(totals: Sequence[object], notes: list[str]) -> dict[str, Any]:
    """Counts of additive metrics summed over the windows' totals; every other field dropped.

    A total that is no object, a metric entry that is no object and a value that is no number
    are what the single-reply decoder skips; here they leave the window without that count, so
    the sum is dropped rather than short.
    """
    blocks = [total if isinstance(total, Mapping) else {} for total in totals]
    merged: dict[str, dict[str, Any]] = {}
    not_additive: list[str] = []
    unknown: list[str] = []
    incomplete: list[str] = []
    for key in dict.fromkeys(key for block in blocks for key in block):
        values = [block.get(key) for block in blocks]
        fields = dict.fromkeys(f for v in values if isinstance(v, Mapping) for f in v)
        info = find_metric(str(key))
        if info is None:
            unknown.append(str(key))
        for field in fields:
            name = f"{key}.{field}"
            if info is None or not info.additive or field != "count":
                not_additive.append(name)
                continue
            counts = [v.get(field) if isinstance(v, Mapping) else None for v in values]
            if all(number_problem(c) is None for c in counts):
                merged.setdefault(key, {})[field] = sum(counts)
            else:
                incomplete.append(name)
    if not_additive:
        catalogue = (
            f" ({', '.join(unknown)}: not in the built-in catalogue, so taken as non-additive)"
            if unknown
            else ""
        )
        notes.append(
            f"total: dropped {', '.join(not_additive)}: non-additive across windows{catalogue}; "
            "a percentage, ratio, average, rate or unique count over the whole range cannot be "
            "rebuilt from the windows' totals. The buckets in time_series are complete; for "
            "these totals, request a range that one request may cover"
        )
    if incomplete:
        notes.append(
            f"total: dropped {', '.join(incomplete)}: missing from the total of at least one "
            "window (or no number there), so the sum would be short"
        )
    return merged


def _ranking_notes(replies: Sequence[_Reply], query: MetricsQuery) -> list[str]:
    """The caveats on group-by rows (see the module docstring), unless no window can have cut
    any group from its rows: when every window returned fewer groups than the limit and their
    union fits the limit too, the rows are exactly those of one request."""
    limit = query.limit if query.limit is not None else DEFAULT_LIMIT
    per_window = [_groups(reply, query) for reply in replies]
    union = list(dict.fromkeys(group for groups in per_window for group in groups))
    if all(len(groups) < limit for groups in per_window) and len(union) <= limit:
        return []
    dimension = query.group_by or f"custom tag {query.group_by_tag}"
    notes = [
        f"group-by rows: each of the {len(replies)} windows ranked its own top {limit} "
        f"{dimension} values, so the rows are the union of those ({len(union)} values), and "
        f"may differ from the top {limit} over the whole range"
    ]
    gaps = [
        f"{reply.label} lacks {_listed([repr(g) for g in union if g not in groups], ' values')}"
        for reply, groups in zip(replies, map(set, per_window), strict=True)
        if len(groups) >= limit and not groups.issuperset(union)
    ]
    if gaps:
        more = f"; and {len(gaps) - _SHOWN} more windows" if len(gaps) > _SHOWN else ""
        notes.append(
            f"group-by rows: values missing from a full window's top {limit} are unknown in it, "
            "not zero: its buckets have no row for them (null once pivoted), so a sum over the "
            f"range for such a value would be short. {len(gaps)} of {len(replies)} windows lack "
            f"{dimension} values that other windows ranked: {'; '.join(gaps[:_SHOWN])}{more}"
        )
    return notes


def _groups(reply: _Reply, query: MetricsQuery) -> list[str]:
    """The groups a window's reply has values for, as its tables label them."""
    table = tidy_metrics(
        reply.raw, tag=query.group_by_tag, group_by=query.group_by, bucket_ms=reply.stamps
    )
    return table.groups()
