"""Serve a collector on ``/metrics`` over HTTP, from a registry of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.registry import Collector

__all__ = ["serve_metrics"]


@contextmanager
def serve_metrics(collector: Collector, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``collector`` for the ``with`` block (port 0 picks a free port); yields the
    ``/metrics`` URL. The registry is the exporter's own, never prometheus-client's global one,
    so the exporter shows only its metrics and two exporters in one process do not collide."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    server, thread = start_http_server(port, addr=host, registry=registry)
    try:
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
