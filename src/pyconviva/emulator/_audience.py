"""Who watches: an audience as columns of segments over a few traffic profiles.

A segment is a slice of traffic with one value for every dimension and custom tag; each is a
whole number of copies of one traffic :class:`~pyconviva.emulator._data.Profile`, the unit the
data model builds counts for. The audience keeps, per dimension, each segment's value as a code
into that dimension's values (a *column*, built on first use). A filter selects segments; a
group-by splits the selection by value; each group is handed to the model as a *mix* of
profiles, so that every count is an exact sum over the group's segments.

Two audiences, both independent of the emulator's seed:

* ``"large"`` (the default): a large streaming service, thousands of cities, ASNs and video
  assets with long-tailed popularity (see ``_world``).
* ``"small"``: the 240 segments of ``_population``, for tests that want tiny replies.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from pyconviva.emulator._data import (
    INCIDENTS,
    TOTAL_ATTEMPTS_PER_HOUR,
    DataModel,
    Mix,
    Profile,
)
from pyconviva.emulator._population import CUSTOM_TAGS, POPULATION

__all__ = [
    "AUDIENCES",
    "DEFAULT_AUDIENCE",
    "Audience",
    "Column",
    "Conditions",
    "audience_named",
    "check_audience",
    "column_of",
    "model_for",
]

AUDIENCES = ("large", "small")
DEFAULT_AUDIENCE = "large"

# Filter conditions as (key, allowed values) pairs, sorted: AND over keys, OR over values.
Conditions = tuple[tuple[str, frozenset[str]], ...]


@dataclass(frozen=True)
class Column:
    """One dimension over an audience: its distinct values and each segment's value code."""

    values: tuple[str, ...]
    codes: Sequence[int]
    index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {value: code for code, value in enumerate(self.values)}
        object.__setattr__(self, "index", MappingProxyType(index))


def column_of(values_per_segment: Iterable[str]) -> Column:
    """A column from each segment's value, codes in order of first appearance."""
    index: dict[str, int] = {}
    codes = array("I", (index.setdefault(value, len(index)) for value in values_per_segment))
    return Column(tuple(index), codes)


class Audience:
    """Segments over profiles, with their dimension and custom-tag columns."""

    def __init__(
        self,
        name: str,
        profiles: Sequence[Profile],
        profile_of: Sequence[int],
        copies: Sequence[int],
        columns: Mapping[str, Callable[[], Column]],
        tags: Mapping[str, Callable[[], Column]],
    ) -> None:
        self.name = name
        self.profiles = tuple(profiles)
        self.size = len(profile_of)
        self._profile_of = profile_of
        self._copies = copies
        self._column_makers = columns
        self._tag_makers = tags
        self._columns: dict[tuple[bool, str], Column] = {}

    def column(self, key: str, *, tag: bool = False) -> Column:
        """The column of a dimension (snake key) or, with ``tag``, of a custom tag."""
        cached = self._columns.get((tag, key))
        if cached is None:
            cached = (self._tag_makers if tag else self._column_makers)[key]()
            self._columns[(tag, key)] = cached
        return cached

    def mixes(
        self, conditions: Conditions, tag_conditions: Conditions, by: str | None, by_tag: bool
    ) -> dict[str, Mix]:
        """The selected segments as one mix (``by`` None, name ``""``) or one per value of the
        dimension (or custom tag) ``by``; groups without segments are absent."""
        return _mixes(self.name, conditions, tag_conditions, by, by_tag)

    def selected(self, conditions: Conditions, tag_conditions: Conditions) -> Sequence[int]:
        """Indices of the segments that meet every condition."""
        chosen: Sequence[int] = range(self.size)
        for tag, pairs in ((False, conditions), (True, tag_conditions)):
            for key, allowed in pairs:
                column = self.column(key, tag=tag)
                wanted = {column.index[v] for v in allowed if v in column.index}
                codes = column.codes
                chosen = [i for i in chosen if codes[i] in wanted]
        return chosen

    def group(self, selection: Sequence[int], by: str | None, by_tag: bool) -> dict[str, Mix]:
        """Mixes of the selected segments, per value of ``by``; one mix named ``""`` (empty
        when nothing is selected) when ``by`` is None."""
        profile_of, copies = self._profile_of, self._copies
        if by is None:
            whole: dict[int, int] = {}
            for i in selection:
                whole[profile_of[i]] = whole.get(profile_of[i], 0) + copies[i]
            return {"": _mix(whole)}
        column = self.column(by, tag=by_tag)
        codes = column.codes
        grouped: dict[int, dict[int, int]] = {}
        for i in selection:
            mix = grouped.get(codes[i])
            if mix is None:
                mix = grouped[codes[i]] = {}
            profile = profile_of[i]
            mix[profile] = mix.get(profile, 0) + copies[i]
        return {column.values[code]: _mix(mix) for code, mix in grouped.items()}


# A group-by of the whole large audience is about 2 MB of mixes: a few dozen recent ones.
def _mix(copies: Mapping[int, int]) -> Mix:
    profiles = sorted(copies)
    return tuple(profiles), tuple(map(copies.__getitem__, profiles))


@functools.lru_cache(maxsize=32)
def _mixes(
    name: str, conditions: Conditions, tag_conditions: Conditions, by: str | None, by_tag: bool
) -> dict[str, Mix]:
    audience = audience_named(name)
    return audience.group(audience.selected(conditions, tag_conditions), by, by_tag)


def check_audience(name: object) -> str:
    """``name`` when it names an audience; ValueError saying which do otherwise."""
    if name not in AUDIENCES:
        raise ValueError(f"unknown audience {name!r}; use one of {', '.join(AUDIENCES)}")
    return str(name)


@functools.lru_cache(maxsize=len(AUDIENCES))
def audience_named(name: str) -> Audience:
    """The audience of that name, built once per process."""
    if check_audience(name) == "small":
        return _small()
    from pyconviva.emulator._world import large_audience  # its vocabulary loads only when used

    return large_audience()


@functools.lru_cache(maxsize=8)
def model_for(audience: str, seed: int) -> DataModel:
    """The shared data model of an audience and a seed (tables are built once, whoever asks)."""
    return DataModel(audience_named(audience).profiles, seed)


_SMALL_EMERGING = frozenset({"br", "in"})


def _small() -> Audience:
    """The ``_population`` segments, each its own profile (one copy)."""
    profiles = [
        Profile(
            index=s.index,
            attempts_per_hour=s.weight * TOTAL_ATTEMPTS_PER_HOUR,
            tz_hours=s.tz_hours,
            mobile=s.values["device_category"] in ("Mobile", "Tablet"),
            emerging=s.values["geo_country_code"] in _SMALL_EMERGING,
            cdn=s.values["cdn"],
            incidents=frozenset(i.name for i in INCIDENTS if s.values[i.dimension] == i.value),
            traits=s.traits,
        )
        for s in POPULATION
    ]

    def maker(key: str, tag: bool) -> Callable[[], Column]:
        return lambda: column_of(s.tags[key] if tag else s.values[key] for s in POPULATION)

    return Audience(
        "small",
        profiles,
        profile_of=range(len(POPULATION)),
        copies=[1] * len(POPULATION),
        columns={key: maker(key, False) for key in POPULATION[0].values},
        tags={tag: maker(tag, True) for tag in CUSTOM_TAGS},
    )
