"""The exporter's metrics as a prometheus-client collector: the poller's readings, never a
request.

Register it on a registry of your own (``CollectorRegistry()``); nothing here touches the
global one. A target whose last good poll is older than ``stale_after`` has its series dropped
(Prometheus marks them stale, and graphs show a gap rather than a frozen line) and
``conviva_exporter_stale`` says so.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from pyconviva.exporter.families import LABELS, family_for
from pyconviva.exporter.poller import Poller, TargetState

__all__ = ["ConvivaCollector"]

_TARGET_LABELS = ("filter", "dimension")


class ConvivaCollector:
    """Yields the latest real-time values per filter and dimension value, and the exporter's
    health, from ``poller``'s state at scrape time."""

    def __init__(self, poller: Poller) -> None:
        self._poller = poller

    def collect(self) -> Iterator[Metric]:
        poller = self._poller
        now = poller.api.clock.now()
        stale_after = poller.config.stale_after
        values: dict[str, GaugeMetricFamily] = {}
        health = _Health()
        for target, state in poller.states().items():
            labels = list(target.labels)
            reading = state.reading
            fresh = reading is not None and (now - reading.polled_at).total_seconds() <= stale_after
            health.add(labels, state, stale=not fresh)
            if reading is None or not fresh:
                continue
            for metric, field, group, value in reading.values:
                family = family_for(metric, field)
                gauge = values.get(family.name)
                if gauge is None:
                    gauge = GaugeMetricFamily(family.name, family.documentation, labels=LABELS)
                    values[family.name] = gauge
                gauge.add_metric([*labels, group], value / family.divisor)
        yield from values.values()
        yield from health.families()


class _Health:
    """The exporter's own families, one sample per target."""

    def __init__(self) -> None:
        self.requests = CounterMetricFamily(
            "conviva_exporter_requests",
            "Requests sent to the Conviva API (one per target per poll).",
            labels=_TARGET_LABELS,
        )
        self.errors = CounterMetricFamily(
            "conviva_exporter_errors",
            "Failed polls, by error type (RateLimitError, ServerError, APIConnectionError...).",
            labels=(*_TARGET_LABELS, "error"),
        )
        self.last_success = GaugeMetricFamily(
            "conviva_exporter_last_success_timestamp_seconds",
            "When the target's last good poll ran (Unix time).",
            labels=_TARGET_LABELS,
        )
        self.minute = GaugeMetricFamily(
            "conviva_exporter_minute_timestamp_seconds",
            "The start of the minute the target's values show (Unix time).",
            labels=_TARGET_LABELS,
        )
        self.stale = GaugeMetricFamily(
            "conviva_exporter_stale",
            "1 when the target's series are left out: no good poll within stale_after.",
            labels=_TARGET_LABELS,
        )

    def add(self, labels: list[str], state: TargetState, *, stale: bool) -> None:
        self.requests.add_metric(labels, state.requests)
        for kind, count in sorted(state.errors.items()):
            self.errors.add_metric([*labels, kind], count)
        self.stale.add_metric(labels, 1.0 if stale else 0.0)
        reading = state.reading
        if reading is not None:
            self.last_success.add_metric(labels, reading.polled_at.timestamp())
            if reading.minute is not None and not stale:
                self.minute.add_metric(labels, reading.minute.timestamp())

    def families(self) -> Iterator[Metric]:
        yield from (self.requests, self.errors, self.last_success, self.minute, self.stale)
