"""Poll the real-time API on the exporter's own schedule and keep each target's latest reading.

A poll sends one request per target (a filter's totals or one of its dimensions) and keeps, per
target, the values of the newest minute that has settled. Scrapes only read what the last polls
left (see :mod:`pyconviva.exporter.collector`), so the API is never called once per scrape.

A poll never raises: an error is counted by its type on the target and logged, and the target's
previous reading stays until the collector finds it too old. The client should not retry
(``max_retries=0``): the next poll is the retry, so every poll of a target is exactly one
request and the budget spent is ``targets × polls``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pyconviva._query import QuerySpec, build_metrics_query
from pyconviva._rules import REAL_TIME_SETTLE_DELAY
from pyconviva.exporter.config import ExporterConfig, Target

if TYPE_CHECKING:
    from pyconviva._client import ConvivaAPI

__all__ = ["SETTLE", "Poller", "Reading", "TargetState", "latest_minute"]

_log = logging.getLogger("pyconviva.exporter")
_MINUTE = timedelta(minutes=1)
# The newest real-time minute is still filling for about a minute after it ends (API reference
# §9; the emulator models it): a minute is exported once it ended this long ago.
SETTLE = REAL_TIME_SETTLE_DELAY
# Three buckets: the settled minute, the one settling and the one filling.
_POLL_MINUTES = 3


@dataclass(frozen=True)
class Reading:
    """One good poll of a target: when it ran, the minute it shows, and its values as
    ``(metric, field, dimension value, value)`` ("" as the dimension value of totals)."""

    polled_at: datetime
    minute: datetime | None  # None: the reply had no minute with data yet
    values: tuple[tuple[str, str, str, float], ...]


@dataclass(frozen=True)
class TargetState:
    """What the exporter knows of a target: its latest reading and its health."""

    reading: Reading | None = None
    requests: int = 0
    errors: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


def latest_minute(
    records: Iterable[Mapping[str, Any]], dimension: str | None, now: datetime
) -> tuple[datetime | None, tuple[tuple[str, str, str, float], ...]]:
    """The newest minute that ended ``SETTLE`` before ``now``, and its values (pure)."""
    by_minute: dict[datetime, list[tuple[str, str, str, float]]] = {}
    for record in records:
        value = record["value"]
        if value is None or record["timestamp"] + _MINUTE > now - SETTLE:
            continue
        group = "" if dimension is None else str(record[dimension])
        by_minute.setdefault(record["timestamp"], []).append(
            (record["metric"], record["field"], group, float(value))
        )
    if not by_minute:
        return None, ()
    newest = max(by_minute)
    return newest, tuple(by_minute[newest])


class Poller:
    """Polls every target of ``config`` through ``api``; thread-safe.

    Args:
        api: the client; its ``clock`` stamps the readings. Give it ``max_retries=0`` so that
            each poll of a target is one request (the next poll is the retry).
        config: what to poll and how often.

    Raises:
        QueryError: a metric or dimension name the API could never accept, before any request.
    """

    def __init__(self, api: ConvivaAPI, config: ExporterConfig) -> None:
        self._api = api
        self._config = config
        self._lock = threading.Lock()
        self._states = {target: TargetState() for target in config.targets}
        now = api.clock.now()
        for target in config.targets:
            build_metrics_query(self._spec(target), now=now)

    @property
    def config(self) -> ExporterConfig:
        return self._config

    @property
    def api(self) -> ConvivaAPI:
        return self._api

    def states(self) -> dict[Target, TargetState]:
        """Each target's state now (immutable values; a copy of the mapping)."""
        with self._lock:
            return dict(self._states)

    def poll(self) -> None:
        """Poll every target once, one request each."""
        for target in self._config.targets:
            self._poll(target)

    def run(self, stop: threading.Event) -> None:
        """Poll every ``interval`` seconds (measured from each poll's start) until ``stop`` is
        set; the first poll is at once."""
        clock = self._api.clock
        while not stop.is_set():
            started = clock.monotonic()
            self.poll()
            stop.wait(max(0.0, self._config.interval - (clock.monotonic() - started)))

    def _spec(self, target: Target) -> QuerySpec:
        return QuerySpec.real_time(
            list(self._config.metrics),
            target.dimension,
            None if target.filter_id is None else {"filter_id": target.filter_id},
            _POLL_MINUTES,
            limit=target.limit,
        )

    def _poll(self, target: Target) -> None:
        spec = self._spec(target)
        self._update(target, requests=1)
        try:
            result = self._api.get_real_time_data(
                spec.metrics,
                spec.group_by,
                spec.filter_by,
                spec.time_range,
                limit=spec.limit,
                split=False,
            )
            now = self._api.clock.now()
            minute, values = latest_minute(result.records(), result.dimension, now)
        # An exporter outlives any one poll: whatever went wrong is counted, logged, and tried
        # again at the next poll.
        except Exception as error:
            kind = type(error).__name__
            _log.warning("poll of %s failed: %s: %s", _describe(target), kind, error)
            self._update(target, error=kind)
            return
        self._update(target, reading=Reading(now, minute, values))

    def _update(
        self,
        target: Target,
        *,
        requests: int = 0,
        error: str | None = None,
        reading: Reading | None = None,
    ) -> None:
        with self._lock:
            state = self._states[target]
            errors = state.errors
            if error is not None:
                errors = MappingProxyType({**errors, error: errors.get(error, 0) + 1})
            self._states[target] = replace(
                state,
                requests=state.requests + requests,
                errors=errors,
                reading=reading if reading is not None else state.reading,
            )


def _describe(target: Target) -> str:
    by = f" by {target.dimension}" if target.dimension else " totals"
    return f"filter {target.filter_name!r}{by}"
