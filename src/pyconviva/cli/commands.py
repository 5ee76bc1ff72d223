"""The ``pyconviva`` commands (click). Imported by :mod:`pyconviva.cli` only when the ``cli``
extra is installed; only the ``pyconviva.cli`` package writes to the terminal.

Each command maps its options onto one library call and lets the library validate them, so the
command line and Python reject the same inputs with the same messages. Errors become one line on
stderr and an exit code (see :mod:`pyconviva.cli.errors`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pyconviva._files import atomic_path
from pyconviva._version import __version__
from pyconviva.cli.arguments import (
    export_call_arguments,
    metrics_call_arguments,
    positive_count,
)
from pyconviva.cli.catalogue import (
    catalogue_rows,
    complete_dimension,
    complete_metric,
    metric_group_rows,
    refuse_unknown_metrics,
)
from pyconviva.cli.conformance_command import conformance
from pyconviva.cli.connection import Connection, connected
from pyconviva.cli.destination import Destination, output_options, require_directory
from pyconviva.cli.errors import errors_reported
from pyconviva.cli.export_report import report_export
from pyconviva.cli.exporter_command import exporter
from pyconviva.cli.filter_check import filter_warnings
from pyconviva.cli.output import (
    Tabular,
    metadata_tabular,
    metrics_tabular,
    notes_shown,
    rows_to_parquet,
)
from pyconviva.cli.progress import progress_shown
from pyconviva.cli.summary import DEFAULT_TOP, SummaryView, build_summary
from pyconviva.cli.watch_command import watch

if TYPE_CHECKING:
    from pyconviva._client import ConvivaAPI
    from pyconviva._results import MetadataResult
    from pyconviva.emulator._command import Option

__all__ = ["app"]

_F = TypeVar("_F", bound=Callable[..., Any])


_HELP_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _example_date(days_ago: int) -> str:
    """A date for the help's examples, relative to today so that no example falls out of the
    API's 13-month retention as the calendar moves on."""
    return (datetime.now(timezone.utc).date() - timedelta(days=days_ago)).isoformat()


_TODAY, _YESTERDAY, _TWO_DAYS_AGO = _example_date(0), _example_date(1), _example_date(2)
_A_WEEK_AGO, _A_MONTH_AGO = _example_date(7), _example_date(31)


_MAIN_EPILOG = """\b
Examples:
  pyconviva historical attempts --group-by isp --days 5 --emulator
  pyconviva historical attempts bitrate --group-by isp --sort bitrate:asc --days 7
  pyconviva realtime concurrent-plays --minutes 10 --format json
  pyconviva export attempts plays --group-by isp --since-last --days 30 -d conviva-data
  pyconviva metrics --real-time
  pyconviva watch --emulator --group-by isp --alert "rebuffering-ratio>2"

\b
Credentials: CONVIVA_CLIENT_ID and CONVIVA_CLIENT_KEY, or a profile in
~/.config/pyconviva/config.toml (or $PYCONVIVA_CONFIG) chosen with --profile.

\b
Exit codes: 0 ok, 1 other error, 2 usage/invalid query/configuration,
3 authentication, 4 rate limited, 5 server, 6 network, 7 query rejected by the API,
130 interrupted.

\b
Shell completion (bash; zsh and fish alike with zsh_source/fish_source):
  eval "$(_PYCONVIVA_COMPLETE=bash_source pyconviva)"
"""


@click.group(context_settings=_HELP_SETTINGS, epilog=_MAIN_EPILOG)
@click.version_option(__version__, prog_name="pyconviva")
def app() -> None:
    """Query Conviva's Metrics V3 API: numbers, tables and exports from the shell."""


# The integrations' commands live in their own modules (they load their extras when run).
app.add_command(watch)
app.add_command(exporter)
app.add_command(conformance)


_METRIC_ROWS = (
    "tidy records, as MetricsResult.to_json() writes them, or one column per metric field with "
    "--wide"
)


def _query_options(*, real_time: bool) -> Callable[[_F], _F]:
    """The query options of ``historical`` and ``realtime``, worded for the one they serve."""
    if real_time:
        length = click.option(
            "--minutes",
            "last",
            type=int,
            callback=positive_count,
            metavar="N",
            help="The last N minutes (default 5, max 15).",
        )
        start_help = "Range start (inclusive), an ISO instant at most 15 minutes ago."
        end_help = "Range end (exclusive), an ISO instant."
        # Only what real time accepts (pyconviva._rules.allowed_granularities; a test holds
        # this text to it): PT1H or P1D here would be refused after the user typed them.
        granularity_help = "Bucket size: PT10S..PT59S, PT1M or ALL (default PT1M)."
    else:
        length = click.option(
            "--days",
            "last",
            type=int,
            callback=positive_count,
            metavar="N",
            help="The last N days up to the last full hour.",
        )
        start_help = f"Range start (inclusive), e.g. {_A_WEEK_AGO}."
        end_help = f"Range end (exclusive), e.g. {_TWO_DAYS_AGO}T12:00Z."
        granularity_help = "Bucket size, e.g. PT15M, PT1H, P1D, P1W or ALL (default PT1H)."
    options = (
        click.argument(
            "metrics", nargs=-1, required=True, metavar="METRIC...", shell_complete=complete_metric
        ),
        click.option(
            "--group-by",
            metavar="DIM",
            shell_complete=complete_dimension,
            help="Break the numbers down by a dimension (see `pyconviva dimensions`).",
        ),
        click.option("--group-by-tag", metavar="TAG", help="Break them down by a custom tag."),
        click.option(
            "--filter",
            "filters",
            multiple=True,
            metavar="KEY=VALUE",
            help="Keep only sessions with this dimension value; repeat on one key for OR, on "
            "different keys for AND. When the reply is all zeros, one more request per key "
            "lists the key's values, to warn of a value that matches nothing.",
        ),
        click.option(
            "--filter-tag",
            "filter_tags",
            multiple=True,
            metavar="TAG=VALUE",
            help="Filter on a custom tag value (repeatable, like --filter).",
        ),
        click.option("--filter-id", metavar="ID", help="Use a saved filter (`pyconviva filters`)."),
        length,
        click.option("--start", metavar="ISO", help=start_help),
        click.option("--end", metavar="ISO", help=end_help),
        click.option("--granularity", metavar="ISO8601", help=granularity_help),
        click.option(
            "--sort",
            metavar="METRIC[:asc]",
            help="Order the groups by a metric, descending unless ':asc' is added.",
        ),
        click.option("--limit", type=int, metavar="N", help="Keep the top N groups (max 500)."),
        click.option(
            "--kpi-id", type=int, metavar="N", help="KPI threshold set (`pyconviva kpis`)."
        ),
        click.option(
            "--top",
            type=int,
            callback=positive_count,
            metavar="N",
            help=f"Rows of the terminal summary: the N biggest groups (default {DEFAULT_TOP}).",
        ),
        click.option(
            "--wide", is_flag=True, help="One column per metric field instead of long records."
        ),
        click.option(
            "--plot",
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            metavar="FILE.png",
            help="Also draw the result to an image file.",
        ),
    )

    def add(func: _F) -> _F:
        for option in reversed(options):
            func = option(func)
        return func

    return add


def _run_metrics_query(
    connection: Connection,
    *,
    real_time: bool,
    output_format: str | None,
    output: Path | None,
    wide: bool,
    top: int | None,
    plot: Path | None,
    **options: Any,
) -> None:
    arguments = metrics_call_arguments(**options)
    # --wide asks for rows, so on a terminal it shows the wide table rather than the summary.
    destination = Destination.choose(
        output_format, output, terminal_default="table" if wide else "summary"
    )
    if wide and destination.output_format in ("raw", "summary"):
        shown = {"raw": "the API's reply as it came", "summary": "one row per group"}
        raise click.UsageError(
            f"--wide shapes the rows, and --format {destination.output_format} writes "
            f"{shown[destination.output_format]}, with no rows to shape; drop --wide, or use "
            "--format json or --format table for the wide rows"
        )
    if top is not None and destination.output_format != "summary":
        raise click.UsageError(
            f"--top sets the rows of the terminal summary, and the output is "
            f"{destination.output_format}, which has every row; drop --top, or add "
            "--format summary"
        )
    if plot is not None:
        require_directory(plot, "--plot")
    from pyconviva import QuerySpec

    spec = (QuerySpec.real_time if real_time else QuerySpec.historical)(**arguments)
    with connection.open_client() as client:
        with progress_shown("Querying Conviva", client.rate_limiter) as progress:
            # get_many is get_*_data (same validation, splitting and merging) with progress.
            batch = client.get_many([spec], progress=progress)
        (result,) = batch.results
        if result is None:
            raise batch.errors[0]  # as get_*_data would raise it, without the batch's wording
        for note in notes_shown(result.notes, destination.output_format):
            click.echo(f"pyconviva: note: {note}", err=True)

        def summary() -> list[Any]:
            shown = build_summary(
                result, top=top or DEFAULT_TOP, ranked_by_api="sort_by" in arguments
            )
            return [SummaryView(shown)]

        destination.write(metrics_tabular(result, wide=wide, summary=summary))
        if plot is not None:
            with atomic_path(plot) as temporary:
                result.plot(temporary)
        warnings = filter_warnings(client, result, arguments.get("filter_by"), real_time=real_time)
    for warning in warnings:
        click.echo(f"pyconviva: warning: {warning}", err=True)


_HISTORICAL_EPILOG = f"""\b
Examples:
  pyconviva historical attempts --group-by isp --days 5 --emulator
  pyconviva historical attempts --filter isp=Optus --filter isp=Vodafone --days 2
  pyconviva historical attempts bitrate --group-by isp --sort bitrate:asc --limit 10
  pyconviva historical bitrate --group-by cdn --days 7 --granularity ALL   # one value per CDN
  pyconviva historical plays --group-by-tag appVersion --start {_A_WEEK_AGO} --end {_TWO_DAYS_AGO}
  pyconviva historical quality-summary --granularity P1D --days 30 -o month.parquet
  pyconviva historical attempts --days 7 --plot attempts.png
"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_HISTORICAL_EPILOG)
@_query_options(real_time=False)
@output_options(rows=_METRIC_ROWS, summary=True)
@connected
def historical(connection: Connection, **options: Any) -> None:
    """Historical metrics (the last day when no range is given).

    METRIC is a metric or metric-group name (see `pyconviva metrics`); up to 12 metrics. On a
    terminal the result is summed up, a row per group; --format table shows every row.
    """
    _run_metrics_query(connection, real_time=False, **options)


_REALTIME_EPILOG = """\b
Examples:
  pyconviva realtime concurrent-plays --emulator
  pyconviva realtime attempts plays --group-by device-os --minutes 15 --granularity PT30S
  pyconviva realtime concurrent-plays --group-by isp --sort concurrent-plays --limit 5 -f jsonl
"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_REALTIME_EPILOG)
@_query_options(real_time=True)
@output_options(rows=_METRIC_ROWS, summary=True)
@connected
def realtime(connection: Connection, **options: Any) -> None:
    """Real-time metrics (at most the last 15 minutes).

    METRIC is a metric or metric-group name; `pyconviva metrics --real-time` lists the ones
    known to work in real time. On a terminal the result is summed up, a row per group;
    --format table shows every row.
    """
    _run_metrics_query(connection, real_time=True, **options)


_READ_BACK = """Read it back: pandas.read_parquet("/data/conviva"),
  polars.read_parquet("/data/conviva/**/*.parquet", hive_partitioning=True),
  duckdb "SELECT * FROM read_parquet('/data/conviva/*/*.parquet', hive_partitioning=true)"
"""
_EXPORT_EPILOG = f"""\b
Examples:
  pyconviva export attempts plays --group-by isp --ungrouped --days 7 -d conviva-data --emulator
  pyconviva export attempts plays bitrate --group-by device-os --group-by-tag appVersion \\
      --days 90 --granularity P1D --directory /data/conviva
  pyconviva export plays+bitrate --group-by cdn --start {_A_MONTH_AGO} --end {_YESTERDAY} -d data
Nightly (cron): the first run exports the last 30 days, each later run only what is new:
  15 2 * * *  pyconviva export attempts plays --group-by isp --ungrouped --since-last \\
      --days 30 --directory /data/conviva >> /var/log/conviva-export.log 2>&1
{_READ_BACK}"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_EXPORT_EPILOG)
@click.argument(
    "metrics", nargs=-1, required=True, metavar="METRIC...", shell_complete=complete_metric
)
@click.option(
    "--group-by",
    "group_bys",
    multiple=True,
    metavar="DIM",
    shell_complete=complete_dimension,
    help="Also export each METRIC broken down by this dimension (repeatable).",
)
@click.option(
    "--group-by-tag",
    "group_by_tags",
    multiple=True,
    metavar="TAG",
    help="Also export each METRIC broken down by this custom tag (repeatable).",
)
@click.option(
    "--ungrouped",
    is_flag=True,
    help="Also export the ungrouped totals (the default when no group-by is given).",
)
@click.option("--start", metavar="ISO", help=f"Range start (inclusive), e.g. {_A_MONTH_AGO}.")
@click.option("--end", metavar="ISO", help=f"Range end (exclusive), e.g. {_YESTERDAY}.")
@click.option(
    "--days",
    type=int,
    callback=positive_count,
    metavar="N",
    help="The last N days up to the last full hour (midnight with P1D), instead of --start/--end.",
)
@click.option(
    "--since-last",
    is_flag=True,
    help="Continue from where the last export into DIR ended, up to --end or the last full "
    "hour (midnight with P1D); --start or --days place only the first run's start.",
)
@click.option(
    "--directory",
    "-d",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="The dataset directory (created when missing; holds the manifest of finished windows).",
)
@click.option(
    "--granularity",
    default="PT1H",
    show_default=True,
    metavar="ISO8601",
    help="Bucket size; one that divides a day (e.g. PT15M, PT1H, P1D). Fixed per dataset.",
)
@click.option(
    "--concurrency",
    type=int,
    callback=positive_count,
    metavar="N",
    help="Requests in flight at once (default 8); the API's rate limit applies in any case.",
)
@click.option(
    "--allow-unknown-metrics",
    is_flag=True,
    help="Send METRIC names the built-in catalogue does not know (metrics your account has "
    "and the catalogue lacks); without it they are refused before any request.",
)
@connected
def export(
    connection: Connection,
    directory: Path,
    concurrency: int | None,
    allow_unknown_metrics: bool,
    **options: Any,
) -> None:
    """Export historical metrics into a Parquet dataset partitioned by date.

    One file per METRIC x group-by x day, under DIR/date=YYYY-MM-DD/, with the columns
    timestamp, dimension, dimension_value, metric, field, value. METRIC is a metric or
    metric-group name; METRIC+METRIC fetches several in one query (one file). Rerunning the
    same command fetches only the windows not yet in DIR's manifest, so a failed or killed run
    is completed by running it again: no duplicates, no gaps.
    """
    from pyconviva._dataset import MANIFEST_NAME, export_dataset

    arguments = export_call_arguments(now=connection.now(), **options)
    if not allow_unknown_metrics:  # a typo would otherwise fail every unit, one request each
        names = [name for metric in arguments["metrics"] for name in _names(metric)]
        refuse_unknown_metrics(names, way_through="--allow-unknown-metrics")
    first_run = not (directory / MANIFEST_NAME).exists()
    if arguments["since_last"] and "start" not in arguments and first_run:
        raise click.UsageError(
            f"--since-last continues an earlier export, and {directory} has none yet; add "
            "--start DATE or --days N for the first run"
        )
    settings = {} if concurrency is None else {"max_concurrency": concurrency}
    with (
        connection.open_client(**settings) as client,
        progress_shown("Exporting", client.rate_limiter) as progress,
    ):
        summary = export_dataset(client, directory=directory, progress=progress, **arguments)
    report_export(summary, granularity=arguments["granularity"])


def _names(selection: str | list[str]) -> list[str]:
    return [selection] if isinstance(selection, str) else selection


def _show_metadata(
    connection: Connection,
    output_format: str | None,
    output: Path | None,
    title: str,
    fetch: Callable[[ConvivaAPI], MetadataResult],
) -> None:
    destination = Destination.choose(output_format, output)
    with (
        connection.open_client() as client,
        progress_shown("Querying Conviva", client.rate_limiter),
    ):
        result = fetch(client)
    destination.write(metadata_tabular(result, title))


@app.command(context_settings=_HELP_SETTINGS, epilog="Example: pyconviva dimensions --emulator")
@output_options(rows="one per item the API lists")
@connected
def dimensions(connection: Connection, output_format: str | None, output: Path | None) -> None:
    """Dimensions the account can filter and group by.

    The table's first column is the name to type after the options in its last column
    (--group-by and --filter take the kebab or the snake form alike).
    """
    _show_metadata(
        connection, output_format, output, "Dimensions", lambda c: c.get_available_dimensions()
    )


@app.command(context_settings=_HELP_SETTINGS, epilog="Example: pyconviva filters --format csv")
@output_options(rows="one per item the API lists")
@connected
def filters(connection: Connection, output_format: str | None, output: Path | None) -> None:
    """Saved filters (their ids go to --filter-id)."""
    _show_metadata(
        connection, output_format, output, "Saved filters", lambda c: c.get_saved_filters()
    )


@app.command(context_settings=_HELP_SETTINGS, epilog="Example: pyconviva kpis --emulator")
@output_options(rows="one per item the API lists")
@connected
def kpis(connection: Connection, output_format: str | None, output: Path | None) -> None:
    """KPI threshold sets (their ids go to --kpi-id)."""
    _show_metadata(connection, output_format, output, "KPIs", lambda c: c.get_kpis())


_ENDPOINTS_EPILOG = """\b
Examples:
  pyconviva endpoints --emulator
  pyconviva endpoints quality-summary --emulator
  pyconviva endpoints quality-summary --dimension-tag --emulator
"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_ENDPOINTS_EPILOG)
@click.argument("metric_group", required=False, shell_complete=complete_metric)
@click.option(
    "--dimension-tag", is_flag=True, help="With METRIC_GROUP: the custom-tag group-by endpoints."
)
@output_options(rows="one per item the API lists")
@connected
def endpoints(
    connection: Connection,
    metric_group: str | None,
    dimension_tag: bool,
    output_format: str | None,
    output: Path | None,
) -> None:
    """Endpoints available to the account; with METRIC_GROUP, its group-by endpoints."""
    if metric_group is None:
        if dimension_tag:
            raise click.UsageError("--dimension-tag needs a METRIC_GROUP")
        _show_metadata(
            connection, output_format, output, "Endpoints", lambda c: c.get_available_endpoints()
        )
        return
    _show_metadata(
        connection,
        output_format,
        output,
        f"Group-by endpoints of {metric_group}",
        lambda c: c.get_available_group_by_endpoints(metric_group, dimension_tag),
    )


_METRICS_EPILOG = """\b
Examples:
  pyconviva metrics
  pyconviva metrics --real-time --format csv
  pyconviva metrics --groups
"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_METRICS_EPILOG)
@click.option("--real-time", is_flag=True, help="Only metrics known to work in real time.")
@click.option("--groups", is_flag=True, help="List the metric groups instead of the metrics.")
@output_options(rows="one per metric, or per metric group with --groups", raw=False)
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def metrics(
    real_time: bool, groups: bool, output_format: str | None, output: Path | None, debug: bool
) -> None:
    """The built-in metric catalogue (no request is sent).

    Accounts may have more metrics; `pyconviva endpoints` asks the API.
    """
    with errors_reported(debug, "metrics"):
        if groups and real_time:
            raise click.UsageError(
                "--groups lists the metric groups, which --real-time cannot narrow; give one "
                "of them"
            )
        destination = Destination.choose(output_format, output)
        if groups:
            rows = metric_group_rows()
            title = "Metric groups"
        else:
            rows = catalogue_rows(real_time_only=real_time)
            title = "Real-time metrics" if real_time else "Metrics"
        destination.write(Tabular(rows, rows, lambda path: rows_to_parquet(rows, path), title))


_EMULATOR_EPILOG = f"""\b
Examples:
  pyconviva emulator --port 8080
  pyconviva emulator --now {_TODAY}T12:00:00Z --latency 0.2 --rate-limit 0.1
  pyconviva emulator --fault-rate 0.1 --seed 7     # soak-test your retries
  pyconviva emulator --speed 60                    # a minute a second, for live demos
  pyconviva emulator --client-id me --client-key "$KEY" --disable-metric plays
Then, in another shell, point the library or the command line at it:
  export CONVIVA_BASE_URL=http://127.0.0.1:8080
  export CONVIVA_CLIENT_ID=demo-client-id CONVIVA_CLIENT_KEY=demo-client-key
"""


class _EmulatorCommand(click.Command):
    """A command whose arguments all go to the emulator's own command line (``python -m
    pyconviva.emulator``), and whose help lists that command line's option table: one option
    set, parsed and checked in one place."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return ["[OPTIONS]"]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from pyconviva.emulator._command import OPTIONS

        rows = [(_option_usage(option), option.help) for option in OPTIONS]
        rows.append(("-h, --help", "show this message and exit"))
        with formatter.section("Options"):
            formatter.write_dl(rows)


def _option_usage(option: Option) -> str:
    """How an option of the emulator's table is typed: ``--seed N``, ``--rate-limit [SCALE]``."""
    if option.parse is None:
        return option.flag
    value = option.metavar or option.dest.upper()
    return f"{option.flag} [{value}]" if option.bare is not None else f"{option.flag} {value}"


@app.command(
    cls=_EmulatorCommand,
    context_settings={**_HELP_SETTINGS, "ignore_unknown_options": True},
    epilog=_EMULATOR_EPILOG,
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
# Before the one option set, `pyconviva emulator` had --debug; it is still taken, unlisted.
@click.option("--debug", is_flag=True, hidden=True)
def emulator(arguments: tuple[str, ...], debug: bool) -> None:
    """Serve the Metrics V3 emulator on 127.0.0.1 until Ctrl-C.

    The same command as `python -m pyconviva.emulator`, with the same options. Its controls
    (reset, seed, clock, faults, request log) are also under /_emulator/ on the server.
    """
    from pyconviva.emulator._command import main

    with errors_reported(debug, "emulator"):
        code = main(list(arguments), prog=click.get_current_context().command_path)
    if code:
        raise click.exceptions.Exit(code)
