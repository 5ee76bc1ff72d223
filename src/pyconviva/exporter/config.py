"""The exporter's configuration: what to poll and how often, read from a TOML file.

Conviva's own exporter is configured per saved filter and dimension; so is this one::

    interval = 60                  # seconds between polls
    stale_after = 180              # drop a target's series when its last good poll is older
    max_requests_per_minute = 100  # this exporter's share of the account's real-time budget
    metrics = ["plays", "attempts", "video-start-failures", "rebuffering-ratio", "bitrate"]

    [[filters]]
    name = "all-traffic"           # the `filter` label
    dimensions = ["cdn", "device-os"]

    [[filters]]
    name = "live"
    id = "180"                     # a saved filter id (`pyconviva filters`)
    dimensions = ["isp"]
    limit = 10                     # the top 10 ISPs
    totals = false                 # no ungrouped series for this filter

Each filter polls its totals (unless ``totals = false``) and each of its dimensions: one request
each per poll. Pure: parsing and checks only; every mistake is a :class:`ConfigurationError`
naming the key and the fix.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyconviva._exceptions import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    # tomli is only installed on 3.10 (the cli extra); mypy checks this branch either way.
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "DEFAULT_METRICS",
    "ExporterConfig",
    "Target",
    "load_config",
    "parse_config",
]

# What Conviva's real-time alerts are computed on (API reference §5), plus plays.
DEFAULT_METRICS = (
    "attempts",
    "plays",
    "video-start-failures",
    "exit-before-video-starts",
    "video-playback-failures",
    "video-start-time",
    "rebuffering-ratio",
    "connection-induced-rebuffering-ratio",
    "bitrate",
)
_REAL_TIME_BUDGET = 500  # requests a minute per account on the real-time root (reference §8)
_MAX_LIMIT = 500
_TOP_KEYS = frozenset({"interval", "stale_after", "max_requests_per_minute", "metrics", "filters"})
_FILTER_KEYS = frozenset({"name", "id", "dimensions", "limit", "totals"})


@dataclass(frozen=True)
class Target:
    """One request per poll: a filter's totals (``dimension`` None) or one of its dimensions."""

    filter_name: str
    filter_id: str | None
    dimension: str | None
    limit: int | None

    @property
    def labels(self) -> tuple[str, str]:
        """The ``filter`` and ``dimension`` label values ("" for the totals)."""
        return self.filter_name, self.dimension or ""


@dataclass(frozen=True)
class ExporterConfig:
    """A checked configuration; build it with :func:`parse_config` or :func:`load_config`."""

    metrics: tuple[str, ...]
    targets: tuple[Target, ...]
    interval: float = 60.0
    stale_after: float = 180.0
    max_requests_per_minute: float = 100.0

    @property
    def requests_per_minute(self) -> float:
        """What the configuration spends: one request per target per poll."""
        return len(self.targets) * 60.0 / self.interval


def load_config(path: str | Path) -> ExporterConfig:
    """Read and check a TOML configuration file."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except OSError as exc:
        raise ConfigurationError(f"cannot read the exporter configuration {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from exc
    try:
        return parse_config(document)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc


def parse_config(document: Mapping[str, Any]) -> ExporterConfig:
    """Check a configuration given as a mapping (a parsed TOML document)."""
    _no_unknown_keys(document, _TOP_KEYS, "the top level")
    interval = _positive(document.get("interval", 60), "interval")
    stale_after = _positive(document.get("stale_after", 3 * interval), "stale_after")
    if stale_after < interval:
        raise ConfigurationError(
            f"stale_after = {stale_after:g} is shorter than interval = {interval:g}: every series "
            "would vanish between two polls; make it at least the interval (3 intervals rides "
            "out two failed polls)"
        )
    budget = _positive(document.get("max_requests_per_minute", 100), "max_requests_per_minute")
    metrics = _names(document.get("metrics", list(DEFAULT_METRICS)), "metrics")
    if len(metrics) > 12:
        raise ConfigurationError(
            f"metrics lists {len(metrics)} metrics; one request carries at most 12"
        )
    filters = document.get("filters", [{"name": "all"}])
    if not isinstance(filters, list) or not filters:
        raise ConfigurationError(
            'filters must be a non-empty array of tables: [[filters]] with name = "..."'
        )
    targets = tuple(t for i, entry in enumerate(filters) for t in _targets(entry, i))
    config = ExporterConfig(metrics, targets, interval, stale_after, budget)
    _check_budget(config)
    return config


def _targets(entry: object, index: int) -> list[Target]:
    where = f"filters[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigurationError(f'{where} must be a table with name = "..."')
    _no_unknown_keys(entry, _FILTER_KEYS, where)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"{where}.name must be a non-empty string (the filter label)")
    filter_id = entry.get("id")
    if filter_id is not None and (
        isinstance(filter_id, bool) or not isinstance(filter_id, str | int)
    ):
        raise ConfigurationError(f'{where}.id must be a saved filter id, e.g. "180"')
    limit = entry.get("limit")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT
    ):
        raise ConfigurationError(f"{where}.limit must be a whole number from 1 to {_MAX_LIMIT}")
    totals = entry.get("totals", True)
    if not isinstance(totals, bool):
        raise ConfigurationError(f"{where}.totals must be true or false")
    dimensions = _names(entry.get("dimensions", []), f"{where}.dimensions", allow_empty=True)
    if not totals and not dimensions:
        raise ConfigurationError(
            f"{where} has totals = false and no dimensions: it would poll nothing"
        )
    identity = None if filter_id is None else str(filter_id)
    grouped = [Target(name, identity, d, limit) for d in dimensions]
    return [Target(name, identity, None, None), *grouped] if totals else grouped


def _names(value: object, key: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigurationError(f'{key} must be an array of names, e.g. ["cdn"]')
    names = tuple(value)
    if not all(isinstance(n, str) and n for n in names) or (not names and not allow_empty):
        raise ConfigurationError(f'{key} must be an array of non-empty names, e.g. ["cdn"]')
    if len(set(names)) != len(names):
        raise ConfigurationError(f"{key} lists a name twice")
    return names


def _positive(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"{key} must be a number above 0, got {value!r}")
    if not math.isfinite(value):
        raise ConfigurationError(f"{key} must be finite, got {value!r}")
    return float(value)


def _no_unknown_keys(table: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigurationError(
            f"unknown key(s) in {where}: {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def _check_budget(config: ExporterConfig) -> None:
    spent = config.requests_per_minute
    if config.max_requests_per_minute > _REAL_TIME_BUDGET:
        raise ConfigurationError(
            f"max_requests_per_minute = {config.max_requests_per_minute:g} is more than the "
            f"account's whole real-time budget of {_REAL_TIME_BUDGET} a minute"
        )
    if spent > config.max_requests_per_minute:
        raise ConfigurationError(
            f"{len(config.targets)} targets polled every {config.interval:g} s spend "
            f"{spent:g} requests a minute, over max_requests_per_minute = "
            f"{config.max_requests_per_minute:g}; poll less often (interval), drop dimensions, "
            "or raise the share (the account has 500 a minute in all)"
        )
