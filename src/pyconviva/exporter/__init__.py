"""A Prometheus exporter of Conviva real-time metrics (``pip install 'pyconviva[prometheus]'``;
``pyconviva exporter`` runs it).

A :class:`Poller` polls the real-time API on its own schedule, one request per configured filter
× dimension per poll, and keeps the newest complete minute of each; a :class:`ConvivaCollector`
turns what the polls left into metric families at scrape time, with labels ``filter``,
``dimension`` and ``dimension_value``, plus the exporter's own health (requests, errors by type,
last good poll, stale targets). :func:`serve_metrics` serves it on ``/metrics`` from a registry
of its own. The configuration (:func:`load_config`) is a TOML file.

Example:
    >>> from pyconviva.emulator import Emulator
    >>> from pyconviva.exporter import ConvivaCollector, Poller, parse_config, serve_metrics
    >>> config = parse_config({"metrics": ["plays"], "filters": [{"name": "all"}]})
    >>> poller = Poller(Emulator().client(max_retries=0), config)
    >>> poller.poll()
    >>> with serve_metrics(ConvivaCollector(poller)) as url:  # doctest: +SKIP
    ...     ...
"""

from __future__ import annotations

from pyconviva._exceptions import MissingDependencyError

try:
    import prometheus_client  # noqa: F401  (checked here, used by the modules below)
except ModuleNotFoundError as exc:  # pragma: no cover - the extra is installed in the suite
    raise MissingDependencyError("pyconviva.exporter", "prometheus", "prometheus_client") from exc

from pyconviva.exporter.collector import ConvivaCollector
from pyconviva.exporter.config import (
    DEFAULT_METRICS,
    ExporterConfig,
    Target,
    load_config,
    parse_config,
)
from pyconviva.exporter.families import Family, family_for
from pyconviva.exporter.poller import Poller, Reading, TargetState
from pyconviva.exporter.server import serve_metrics

__all__ = [
    "DEFAULT_METRICS",
    "ConvivaCollector",
    "ExporterConfig",
    "Family",
    "Poller",
    "Reading",
    "Target",
    "TargetState",
    "family_for",
    "load_config",
    "parse_config",
    "serve_metrics",
]
