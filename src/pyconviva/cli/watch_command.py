"""``pyconviva watch``: the live terminal view (see :mod:`pyconviva.watch`), drawn with rich's
``Live`` and refreshed each minute until Ctrl-C, which ends it quietly with exit code 0."""

from __future__ import annotations

import click

from pyconviva.cli.catalogue import complete_dimension, complete_metric
from pyconviva.cli.connection import Connection, connected

__all__ = ["watch"]

_EPILOG = """\b
Examples:
  pyconviva watch --emulator
  pyconviva watch --group-by isp --top 5 --alert "video-start-failures.percentage>10"
  pyconviva watch plays rebuffering-ratio --alert "rebuffering-ratio>2" \\
      --alert-command "notify-send Conviva" --filter-id 180

\b
METRIC is a metric, or metric.field for one of its fields (video-start-failures.percentage);
default: plays, attempts, video-start-failures.percentage, rebuffering-ratio, bitrate.
An alert is METRIC OP NUMBER (OP: >, >=, <, <=) in the API's units: percent for ratios and
percentages, bits/s for bitrate, seconds for start times. It highlights the row and rings the
bell (and runs --alert-command) once each time the threshold is crossed, not every minute.
Requests: one a minute, two with --group-by, of the account's 500 real-time requests a minute.
"""


@click.command(epilog=_EPILOG)
@click.argument("metrics", nargs=-1, metavar="[METRIC]...", shell_complete=complete_metric)
@click.option(
    "--group-by",
    metavar="DIM",
    shell_complete=complete_dimension,
    help="Also show the top groups of this dimension.",
)
@click.option(
    "--top",
    type=click.IntRange(1, 50),
    metavar="N",
    help="How many groups with --group-by (default 5).",
)
@click.option("--filter-id", metavar="ID", help="Watch the traffic of a saved filter only.")
@click.option(
    "--alert",
    "alerts",
    multiple=True,
    metavar="METRIC>N",
    help='A threshold, e.g. "rebuffering-ratio>2" (repeatable).',
)
@click.option(
    "--alert-command",
    metavar="COMMAND",
    help="Run this command once per crossing; it finds PYCONVIVA_ALERT, PYCONVIVA_ALERT_GROUP, "
    "PYCONVIVA_ALERT_VALUE and PYCONVIVA_ALERT_MINUTE in its environment.",
)
@click.option("--no-bell", is_flag=True, help="Do not ring the terminal bell on a crossing.")
@click.option("--once", is_flag=True, help="Draw one screen and exit (for scripts and logs).")
@connected
def watch(
    connection: Connection,
    metrics: tuple[str, ...],
    group_by: str | None,
    top: int | None,
    filter_id: str | None,
    alerts: tuple[str, ...],
    alert_command: str | None,
    no_bell: bool,
    once: bool,
) -> None:
    """A live view of real-time metrics, refreshed each minute, with alert thresholds."""
    from rich.console import Console
    from rich.live import Live

    from pyconviva.watch import (
        DEFAULT_SERIES,
        AlertActions,
        Watch,
        WatchModel,
        parse_alert,
        parse_series,
        render,
    )

    if top is not None and group_by is None:
        raise click.UsageError("--top picks the top groups of --group-by; add --group-by DIM")
    series = [parse_series(m) for m in metrics] or list(DEFAULT_SERIES)
    model = WatchModel(series, [parse_alert(a) for a in alerts], group_by)
    console = Console()
    actions = AlertActions(bell=None if no_bell else console.bell, command=alert_command)
    with connection.open_client() as client:
        view = Watch(client, model, top=top or (5 if group_by else None), filter_id=filter_id)
        if once:
            view.refresh()
            console.print(render(model.view()))
            return
        with Live(console=console, auto_refresh=False) as live:
            try:
                view.run(lambda screen: live.update(render(screen), refresh=True), actions)
            except KeyboardInterrupt:
                pass  # Ctrl-C is how a watch ends
            finally:
                actions.wait()
