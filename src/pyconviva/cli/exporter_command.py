"""``pyconviva exporter``: serve Conviva real-time metrics to Prometheus (see
:mod:`pyconviva.exporter`) until Ctrl-C, which ends it quietly with exit code 0."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from pyconviva.cli.connection import Connection, connected

__all__ = ["exporter"]

DEFAULT_PORT = 9730

_EPILOG = f"""\b
Examples:
  pyconviva exporter --config exporter.toml
  pyconviva exporter --config exporter.toml --host 0.0.0.0 --port {DEFAULT_PORT}
  pyconviva exporter --config exporter.toml --once --emulator    # print one scrape

\b
The configuration (TOML) names the metrics, the saved filters and their dimensions, the poll
interval and the share of the account's real-time budget the exporter may spend; see the
docs' Integrations page. Each poll sends one request per filter and dimension; scrapes never
call the API. Failed polls are not retried within the poll (the next poll is the retry), so
each request is counted in conviva_exporter_requests_total.
"""


@click.command(epilog=_EPILOG)
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.toml",
    help="What to poll and how often.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve /metrics on (0.0.0.0: every interface).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--once", is_flag=True, help="Poll once, print what /metrics would serve, and exit.")
@connected
def exporter(connection: Connection, config_path: Path, host: str, port: int, once: bool) -> None:
    """Serve Conviva real-time metrics on /metrics for Prometheus."""
    from pyconviva.exporter import ConvivaCollector, Poller, load_config, serve_metrics

    config = load_config(config_path)
    with connection.open_client(max_retries=0) as client:
        poller = Poller(client, config)
        collector = ConvivaCollector(poller)
        if once:
            from prometheus_client import CollectorRegistry, generate_latest

            registry = CollectorRegistry(auto_describe=False)
            registry.register(collector)
            poller.poll()
            click.echo(generate_latest(registry).decode(), nl=False)
            return
        with serve_metrics(collector, host, port) as url:
            click.echo(
                f"Serving {url}: {len(config.targets)} targets polled every "
                f"{config.interval:g} s ({config.requests_per_minute:g} requests a minute). "
                "Ctrl-C stops.",
                err=True,
            )
            try:
                poller.run(threading.Event())
            except KeyboardInterrupt:
                click.echo("Stopped.", err=True)
