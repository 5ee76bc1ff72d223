"""A filter value that matches nothing, caught: ``--filter isp=Optsu`` gives all zeros, which
looks like an answer. When a reply holds nothing but zeros, each filter's dimension is looked
up with one more request (the same metric and range, grouped by that dimension, unfiltered, in
one ``ALL`` bucket) and a filter none of whose values has data is warned about, with the
values that come close.

:func:`unmatched_filter_warning` is pure; :func:`filter_warnings` makes the requests.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyconviva._exceptions import ConvivaError
from pyconviva._rules import DEFAULT_LIMIT, format_instant
from pyconviva.cli.errors import one_line

if TYPE_CHECKING:
    from pyconviva._client import ConvivaAPI
    from pyconviva._results import MetricsResult

__all__ = ["FilterLookup", "filter_lookups", "filter_warnings", "unmatched_filter_warning"]

_TAG_PREFIX = "tag_"  # the API's own spelling of a custom-tag filter key


@dataclass(frozen=True)
class FilterLookup:
    """One filter key of a query, the values it keeps, and how to list the key's values."""

    option: str  # as the command line spells the filter: "--filter isp" or "--filter-tag app"
    name: str  # the dimension or custom tag
    values: tuple[str, ...]
    group_by: str | dict[str, str]  # the group-by that lists the key's values

    def typed(self) -> str:
        return " ".join(f"{self.option}={value}" for value in self.values)

    def listing(self) -> str:
        """The options that list the key's values."""
        if isinstance(self.group_by, str):
            return f"--group-by {self.group_by}"
        return f"--group-by-tag {self.group_by['custom-tag']}"


def filter_lookups(filter_by: Mapping[str, Any]) -> list[FilterLookup]:
    """The filters of a query's ``filter_by`` whose values a group-by can list (a saved
    filter's contents are the API's, so ``filter_id`` is left alone)."""
    lookups: list[FilterLookup] = []
    for key, value in filter_by.items():
        if key == "custom-tag":
            lookups.extend(
                _lookup("--filter-tag", tag, values, {"custom-tag": tag})
                for tag, values in value.items()
            )
        elif key.startswith(_TAG_PREFIX):
            tag = key.removeprefix(_TAG_PREFIX)
            lookups.append(_lookup("--filter", key, value, {"custom-tag": tag}))
        elif key not in ("filter_id", "kpi_id"):
            lookups.append(_lookup("--filter", key, value, key.replace("_", "-")))
    return lookups


def _lookup(
    option: str, name: str, values: str | Sequence[str], group_by: str | dict[str, str]
) -> FilterLookup:
    kept = (values,) if isinstance(values, str) else tuple(values)
    return FilterLookup(f"{option} {name}", name, kept, group_by)


def holds_only_zeros(result: MetricsResult) -> bool:
    """No value at all, or every value 0: what a filter that matches nothing gives."""
    return all(record["value"] == 0 for record in result.records())


def unmatched_filter_warning(
    lookup: FilterLookup, known: Sequence[str], *, capped: bool, window: str
) -> str | None:
    """The warning for ``lookup`` when none of its values is among ``known`` (the values with
    data in the range; ``capped``: only the API's top ones), with the closest known values."""
    if not known or any(value in known for value in lookup.values):
        return None
    among = f"the top {len(known)}" if capped else f"the {len(known)}"
    if len(lookup.values) == 1:
        missing = f"{lookup.values[0]!r} is not"
    else:
        missing = f"none of {', '.join(map(repr, lookup.values))} is"
    hints = []
    for value in lookup.values:
        close = _close_values(value, known)
        if close:
            which = "" if len(lookup.values) == 1 else f" for {value!r}"
            hints.append(f"did you mean {' or '.join(map(repr, close))}{which}?")
    hint = " ".join(hints) if hints else f"list the values with {lookup.listing()}"
    return (
        f"{lookup.typed()} matched nothing: the reply is all zeros, and {missing} among "
        f"{among} {lookup.name} values with data in {window}; {hint}"
    )


def _close_values(value: str, known: Sequence[str]) -> list[str]:
    """Known values close to ``value``, a difference of case alone first."""
    by_case = {item.casefold(): item for item in known}
    same = by_case.get(value.casefold())
    close = difflib.get_close_matches(value.casefold(), list(by_case), n=3, cutoff=0.6)
    found = [by_case[item] for item in close]
    return ([same] if same is not None else []) + [item for item in found if item != same]


def filter_warnings(
    client: ConvivaAPI,
    result: MetricsResult,
    filter_by: Mapping[str, Any] | None,
    *,
    real_time: bool,
) -> list[str]:
    """Warnings for the filters of a reply that holds only zeros; one more request per filter
    key (none when the reply has a non-zero value or no filter can be looked up)."""
    query = result.query
    if not filter_by or query is None or not holds_only_zeros(result):
        return []
    start, end = query.window
    window = f"{format_instant(start)}..{format_instant(end)}"
    fetch = client.get_real_time_data if real_time else client.get_historical_data
    warnings = []
    for lookup in filter_lookups(filter_by):
        try:
            listing = fetch(
                query.metrics[0],
                group_by=lookup.group_by,
                time_range=(start, end),
                granularity="ALL",
            )
        except ConvivaError as error:
            command = "realtime" if real_time else "historical"
            warnings.append(
                f"{lookup.typed()}: the reply is all zeros, and the {lookup.name} values could "
                f"not be listed to check the filter: {one_line(error, False, command)}"
            )
            continue
        dimension = listing.dimension
        known = list(
            dict.fromkeys(str(record[dimension]) for record in listing.records())
            if dimension is not None
            else ()
        )
        warning = unmatched_filter_warning(
            lookup, known, capped=len(known) >= DEFAULT_LIMIT, window=window
        )
        if warning is not None:
            warnings.append(warning)
    return warnings
