"""Merge the replies of split windows into one reply, honestly.

Buckets are concatenated in time order, each once. A ``total`` is rebuilt only where it adds up
across windows: the ``count`` of an additive metric (plays, attempts, minutes played). Every
other total field — percentages, ratios, averages, rates, unique counts, and anything the
catalogue does not know — is left out of the merged reply, and a note says which and why.

Pure: the replies are decoded JSON mappings; nothing is fetched here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyconviva._catalog import find_metric
from pyconviva._exceptions import UnexpectedResponseError
from pyconviva._query import MetricsQuery
from pyconviva._rules import DEFAULT_LIMIT, bucket_starts, format_instant, parse_granularity

__all__ = ["merge_replies"]

# How many missing bucket stamps a note spells out before it only counts them.
_SHOWN_STAMPS = 5


def merge_replies(
    parts: Sequence[Mapping[str, Any]], query: MetricsQuery
) -> tuple[dict[str, Any], list[str]]:
    """One reply from the replies of ``query``'s windows (in any order), and notes on what the
    merged reply cannot say. A single part comes back as it is, with no notes."""
    if not parts:
        raise ValueError("merge_replies needs at least one reply")
    if len(parts) == 1:
        return dict(parts[0]), []
    notes: list[str] = []
    merged = dict(parts[0])  # `_meta` and any other top-level key, from the first window
    merged["time_series"] = _series(parts, query, notes)
    if any("total" in part for part in parts):
        merged["total"] = _total([part.get("total") or {} for part in parts], notes)
    if query.group_by is not None or query.group_by_tag is not None:
        note = _ranking_note(parts, query)
        if note is not None:
            notes.append(note)
    return merged, notes


def _ranking_note(parts: Sequence[Mapping[str, Any]], query: MetricsQuery) -> str | None:
    """The caveat on group-by rows, unless no window can have cut any group from its rows.

    A window that returned fewer values than the limit kept every group it had; when all did,
    and their union fits the limit too, the rows are exactly those of one request.
    """
    limit = query.limit if query.limit is not None else DEFAULT_LIMIT
    per_window = [_group_values(part) for part in parts]
    union = set().union(*per_window)
    if all(len(values) < limit for values in per_window) and len(union) <= limit:
        return None
    dimension = query.group_by or f"custom tag {query.group_by_tag}"
    return (
        f"group-by rows: each of the {len(parts)} windows ranked its own top {limit} "
        f"{dimension} values, so the rows are the union of those ({len(union)} values), and "
        f"may differ from the top {limit} over the whole range"
    )


def _group_values(part: Mapping[str, Any]) -> set[str]:
    return {
        str(row.get("dimension", {}).get("value"))
        for bucket in part.get("time_series") or ()
        for row in bucket.get("dimensional_data") or ()
    }


def _series(parts: Sequence[Mapping[str, Any]], query: MetricsQuery, notes: list[str]) -> list[Any]:
    """Every bucket once, in time order; notes for buckets seen twice or not at all."""
    buckets: dict[int, Any] = {}
    repeated = 0
    for part in parts:
        for bucket in part.get("time_series") or ():
            stamp = _epoch_ms(bucket)
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
        shown = ", ".join(format_instant(t) for t in missing[:_SHOWN_STAMPS])
        more = f" and {len(missing) - _SHOWN_STAMPS} more" if len(missing) > _SHOWN_STAMPS else ""
        notes.append(
            f"time_series: {len(missing)} of {len(expected)} buckets are missing from the "
            f"replies: {shown}{more}"
        )
    return [buckets[stamp] for stamp in sorted(buckets)]


def _epoch_ms(bucket: Any) -> int:
    try:
        stamp = bucket["timestamp"]["epoch_ms"]
    except (KeyError, TypeError) as exc:
        raise UnexpectedResponseError(
            f"a time_series bucket has no timestamp.epoch_ms: {str(bucket)[:200]}"
        ) from exc
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise UnexpectedResponseError(
            f"a time_series bucket's epoch_ms is not an integer: {stamp!r}"
        )
    return stamp


def _total(totals: Sequence[Mapping[str, Any]], notes: list[str]) -> dict[str, Any]:
    """Counts of additive metrics summed over the windows' totals; every other field dropped."""
    merged: dict[str, dict[str, Any]] = {}
    not_additive: list[str] = []
    unknown: list[str] = []
    incomplete: list[str] = []
    for key in dict.fromkeys(key for total in totals for key in total):
        values = [total.get(key) for total in totals]
        fields = dict.fromkeys(f for v in values if isinstance(v, Mapping) for f in v)
        info = find_metric(key)
        if info is None:
            unknown.append(key)
        for field in fields:
            name = f"{key}.{field}"
            if info is None or not info.additive or field != "count":
                not_additive.append(name)
                continue
            counts = [v.get(field) if isinstance(v, Mapping) else None for v in values]
            if all(_is_number(c) for c in counts):
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
            "window, so the sum would be short"
        )
    return merged


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
