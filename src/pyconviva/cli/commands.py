"""The ``pyconviva`` commands (click). Imported by :mod:`pyconviva.cli` only when the ``cli``
extra is installed; this module and ``cli`` are the only ones that write to the terminal.

Each command maps its options onto one library call and lets the library validate them, so the
command line and Python reject the same inputs with the same messages. Errors become one line on
stderr and an exit code (see ``EXIT_CODES``); ``--debug`` adds the traceback.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.shell_completion import CompletionItem
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from pyconviva._exceptions import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    ConvivaError,
    PermissionDeniedError,
    QueryError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from pyconviva._files import atomic_path
from pyconviva._rules import (
    format_instant,
    parse_instant,
)
from pyconviva._version import __version__
from pyconviva.cli.arguments import export_call_arguments, metrics_call_arguments
from pyconviva.cli.output import (
    FORMATS,
    Tabular,
    choose_format,
    csv_text,
    json_text,
    jsonl_text,
    metadata_tabular,
    metrics_tabular,
    rich_tables,
    rows_to_parquet,
)
from pyconviva.cli.profiles import config_path, resolve_profile

if TYPE_CHECKING:
    from pyconviva._client import ConvivaAPI
    from pyconviva._dataset import ExportSummary
    from pyconviva._results import MetadataResult

__all__ = [
    "EXIT_CODES",
    "app",
    "exit_code_for",
    "export_summary_line",
]

EXIT_CODES: Mapping[int, str] = {
    0: "success",
    1: "any other error (a missing optional dependency, a file that cannot be written, ...)",
    2: "bad usage, an invalid query or bad configuration, found before any request is sent",
    3: "the API refused the credentials (401) or the permission (403)",
    4: "rate limited (429) after the client's retries",
    5: "the API failed (5xx after retries) or sent a reply that is not Metrics V3",
    6: "network error or timeout",
    7: "the API rejected the query (400, 404, 413, 422)",
    130: "interrupted (Ctrl-C); no partial output file is left behind",
}

_F = TypeVar("_F", bound=Callable[..., Any])


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for an error raised while running a command."""
    if isinstance(error, (QueryError, ConfigurationError)):
        return 2
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return 3
    if isinstance(error, RateLimitError):
        return 4
    if isinstance(error, (ServerError, UnexpectedResponseError)):
        return 5
    if isinstance(error, APIConnectionError):
        return 6
    if isinstance(error, APIStatusError):
        return 7
    return 1


@contextlib.contextmanager
def _errors_reported(debug: bool) -> Iterator[None]:
    """Errors as one line on stderr and the documented exit code; Ctrl-C as 130."""
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        raise click.exceptions.Exit(130) from None
    except Exception as error:
        if debug:
            # Library errors never hold a client key, and tracebacks do not show locals.
            traceback.print_exc()
        click.echo(f"Error: {_one_line(error, debug)}", err=True)
        raise click.exceptions.Exit(exit_code_for(error)) from None


def _one_line(error: Exception, debug: bool) -> str:
    if isinstance(error, ConvivaError):
        text = str(error)
    elif isinstance(error, OSError) and error.filename is not None:
        text = f"{error.strerror or error}: {error.filename}"
    else:
        text = f"{type(error).__name__}: {error}"
        if not debug:
            text += " (rerun with --debug for the traceback)"
    return " ".join(text.split())


# ---------------------------------------------------------------------------------- connection


@dataclass(frozen=True)
class Connection:
    """Where a command's requests go: the real API (profile or environment) or an emulator."""

    profile: str | None
    emulator: bool
    emulator_seed: int
    emulator_now: datetime | None
    retries: int | None
    timeout: float | None
    debug: bool

    def now(self) -> datetime:
        """The clock the client will use: the emulator's fixed one when given, else UTC now."""
        if self.emulator and self.emulator_now is not None:
            return self.emulator_now
        return datetime.now(timezone.utc)

    def open_client(self, **settings: Any) -> ConvivaAPI:
        """A client for the connection; ``settings`` are further ``ConvivaAPI`` arguments."""
        if self.retries is not None:
            settings["max_retries"] = self.retries
        if self.timeout is not None:
            settings["timeout"] = self.timeout
        if self.emulator:
            from pyconviva.emulator import Emulator

            return Emulator(seed=self.emulator_seed, now=self.emulator_now).client(**settings)
        from pyconviva._client import ConvivaAPI

        profile = resolve_profile(self.profile, os.environ, config_path(os.environ))
        if profile is not None:
            settings.update(
                client_key=profile.client_key,
                client_id=profile.client_id,
                base_url=profile.base_url,
            )
        # Without a profile the library reads CONVIVA_CLIENT_* and CONVIVA_BASE_URL itself.
        return ConvivaAPI(**settings)


def _parse_instant_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def _complete_metric(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    from pyconviva._catalog import METRIC_GROUPS, METRICS

    names = [*METRICS, *METRIC_GROUPS]
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def _complete_dimension(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    from pyconviva._catalog import DIMENSIONS

    return [CompletionItem(name) for name in DIMENSIONS if name.startswith(incomplete)]


_CONNECTION_OPTIONS = (
    click.option(
        "--profile",
        metavar="NAME",
        help="Use this profile of the config file (default: the CONVIVA_CLIENT_* environment "
        "variables, else the 'default' profile).",
    ),
    click.option(
        "--emulator",
        is_flag=True,
        help="Run against an in-process emulator with its demo credentials: no account, "
        "no network.",
    ),
    click.option(
        "--emulator-seed",
        type=int,
        default=0,
        show_default=True,
        metavar="N",
        help="Seed of the emulator's synthetic data.",
    ),
    click.option(
        "--emulator-now",
        metavar="ISO",
        envvar="PYCONVIVA_EMULATOR_NOW",
        callback=_parse_instant_option,
        help="Fix the emulator's clock (for tests and demos) [env: PYCONVIVA_EMULATOR_NOW].",
    ),
    click.option(
        "--retries",
        type=int,
        metavar="N",
        help="Retries after a network error, 429 or 5xx (default 3); 0 fails fast.",
    ),
    click.option(
        "--timeout", type=float, metavar="SECONDS", help="Per-request timeout (default 30)."
    ),
    click.option("--debug", is_flag=True, help="Show tracebacks and the library's log on stderr."),
)


def _connected(func: Callable[..., None]) -> Callable[..., None]:
    """Add the connection options; the command receives them as one ``connection`` argument
    and its errors are reported as documented."""

    @functools.wraps(func)
    def command(
        profile: str | None,
        emulator: bool,
        emulator_seed: int,
        emulator_now: datetime | None,
        retries: int | None,
        timeout: float | None,
        debug: bool,
        **options: Any,
    ) -> None:
        connection = Connection(
            profile, emulator, emulator_seed, emulator_now, retries, timeout, debug
        )
        with _errors_reported(debug), _library_log(debug):
            func(connection=connection, **options)

    for option in reversed(_CONNECTION_OPTIONS):
        command = option(command)
    return command


class _StderrHandler(logging.Handler):
    """Log records on whatever stderr is at the time (a spinner redirects it to print above)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


@contextlib.contextmanager
def _library_log(debug: bool) -> Iterator[None]:
    """The ``pyconviva`` log on stderr: retries (warnings) always, everything with --debug."""
    logger = logging.getLogger("pyconviva")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("pyconviva: %(levelname)s: %(message)s"))
    level = logging.DEBUG if debug else logging.WARNING
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


# ------------------------------------------------------------------------------------- output


def _output_options(func: _F) -> _F:
    func = click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="Write to FILE (atomically: an interrupted run leaves no partial file) instead of "
        "stdout. Its suffix picks the format when --format is not given.",
    )(func)
    return click.option(
        "--format",
        "-f",
        "output_format",
        type=click.Choice(FORMATS),
        help="table (default on a terminal), csv (default otherwise), json (the API's reply), "
        "jsonl (one record a line) or parquet (needs --output).",
    )(func)


def _require_directory(path: Path, option: str) -> None:
    """Refuse a file in a missing directory before any request, not after the data came back."""
    if not path.parent.is_dir():
        raise click.UsageError(
            f"{option} {path}: the directory {path.parent} does not exist; create it first"
        )


_UNBOUNDED_WIDTH = 10_000  # a table off the terminal takes its natural width


@dataclass(frozen=True)
class Destination:
    """Where and how a command's result goes; checked before any request is sent."""

    output_format: str
    output: Path | None

    @classmethod
    def choose(cls, output_format: str | None, output: Path | None) -> Destination:
        stdout_is_terminal = sys.stdout.isatty()
        chosen = choose_format(output_format, output, stdout_is_terminal)
        if chosen == "parquet" and output is None:
            raise click.UsageError("--format parquet writes a file: add --output FILE.parquet")
        if output is not None:
            _require_directory(output, "--output")
        return cls(chosen, output)

    def write(self, tabular: Tabular) -> None:
        if self.output_format == "parquet":
            assert self.output is not None  # checked in choose()
            with atomic_path(self.output) as temporary:
                tabular.write_parquet(temporary)
            return
        if self.output_format == "table" and self.output is None:
            console = Console()
            if not console.is_terminal:
                # Piped or redirected: no terminal width to fit, so no folded cells either.
                console = Console(width=_UNBOUNDED_WIDTH)
            console.print(*rich_tables(tabular))
            return
        text = self._render(tabular)
        if self.output is None:
            click.echo(text, nl=False)
            return
        with atomic_path(self.output) as temporary:
            temporary.write_text(text, encoding="utf-8")

    def _render(self, tabular: Tabular) -> str:
        if self.output_format == "csv":
            return csv_text(tabular.rows)
        if self.output_format == "jsonl":
            return jsonl_text(tabular.rows)
        if self.output_format == "json":
            return json_text(tabular.document)
        buffer = io.StringIO()
        Console(file=buffer, width=_UNBOUNDED_WIDTH, no_color=True).print(*rich_tables(tabular))
        return buffer.getvalue()


ProgressCallback = Callable[[int, int], None]


@contextlib.contextmanager
def _progress(description: str) -> Iterator[ProgressCallback]:
    """Progress on stderr while requests run, when stderr is a terminal (never in pipes or logs).

    A spinner until the library reports how many requests the command needs (a long range is
    split into several), then a bar counting them. Yields the library's ``progress`` callback.
    """
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda done, total: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


# ----------------------------------------------------------------------------------- commands

_HELP_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_MAIN_EPILOG = """\b
Examples:
  pyconviva historical attempts --group-by isp --days 5 --emulator
  pyconviva historical attempts bitrate --group-by isp --sort bitrate:asc --days 7
  pyconviva realtime concurrent-plays --minutes 10 --format json
  pyconviva export attempts plays --group-by isp --since-last --days 30 -d conviva-data
  pyconviva metrics --real-time

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


def _query_options(length: Callable[[_F], _F]) -> Callable[[_F], _F]:
    """The query options of ``historical`` and ``realtime``; ``length`` is --days/--minutes."""
    return functools.partial(_add_query_options, length)


def _add_query_options(length: Callable[[_F], _F], func: _F) -> _F:
    options = (
        click.argument(
            "metrics", nargs=-1, required=True, metavar="METRIC...", shell_complete=_complete_metric
        ),
        click.option(
            "--group-by",
            metavar="DIM",
            shell_complete=_complete_dimension,
            help="Break the numbers down by a dimension (see `pyconviva dimensions`).",
        ),
        click.option("--group-by-tag", metavar="TAG", help="Break them down by a custom tag."),
        click.option(
            "--filter",
            "filters",
            multiple=True,
            metavar="KEY=VALUE",
            help="Keep only sessions with this dimension value; repeat on one key for OR, on "
            "different keys for AND.",
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
        click.option("--start", metavar="ISO", help="Range start (inclusive), e.g. 2025-01-01."),
        click.option("--end", metavar="ISO", help="Range end (exclusive), e.g. 2025-01-06T12:00Z."),
        click.option("--granularity", metavar="ISO8601", help="Bucket size: PT1M, PT1H, P1D, ALL"),
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
            "--wide", is_flag=True, help="One column per metric field instead of long records."
        ),
        click.option(
            "--plot",
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            metavar="FILE.png",
            help="Also draw the result to an image file.",
        ),
    )
    for option in reversed(options):
        func = option(func)
    return func


def _run_metrics_query(
    connection: Connection,
    *,
    real_time: bool,
    output_format: str | None,
    output: Path | None,
    wide: bool,
    plot: Path | None,
    **options: Any,
) -> None:
    arguments = metrics_call_arguments(**options)
    destination = Destination.choose(output_format, output)
    if plot is not None:
        _require_directory(plot, "--plot")
    from pyconviva._bulk import QuerySpec

    spec = (QuerySpec.real_time if real_time else QuerySpec.historical)(**arguments)
    with connection.open_client() as client, _progress("Querying Conviva") as progress:
        # get_many is get_*_data (same validation, splitting and merging) that reports progress.
        batch = client.get_many([spec], progress=progress)
    (result,) = batch.results
    if result is None:
        raise batch.errors[0]  # as get_*_data would raise it, without the batch's wording
    for note in result.notes:  # e.g. why a merged result has no totals
        click.echo(f"pyconviva: note: {note}", err=True)
    destination.write(metrics_tabular(result, wide=wide))
    if plot is not None:
        with atomic_path(plot) as temporary:
            result.plot(temporary)


_HISTORICAL_EPILOG = """\b
Examples:
  pyconviva historical attempts --group-by isp --days 5 --emulator
  pyconviva historical attempts --filter isp=Optus --filter isp=Vodafone --days 2
  pyconviva historical attempts bitrate --group-by isp --sort bitrate:asc --limit 10
  pyconviva historical plays --group-by-tag appVersion --start 2025-01-01 --end 2025-01-06
  pyconviva historical quality-summary --granularity P1D --days 30 -o month.parquet
  pyconviva historical attempts --days 7 --plot attempts.png
"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_HISTORICAL_EPILOG)
@_query_options(
    click.option(
        "--days", "last", type=int, metavar="N", help="The last N days up to the last full hour."
    )
)
@_output_options
@_connected
def historical(connection: Connection, **options: Any) -> None:
    """Historical metrics (the last day when no range is given).

    METRIC is a metric or metric-group name (see `pyconviva metrics`); up to 12 metrics.
    """
    _run_metrics_query(connection, real_time=False, **options)


_REALTIME_EPILOG = """\b
Examples:
  pyconviva realtime concurrent-plays --emulator
  pyconviva realtime attempts plays --group-by device-os --minutes 15 --granularity PT30S
  pyconviva realtime concurrent-plays --group-by isp --sort concurrent-plays --limit 5 -f jsonl
"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_REALTIME_EPILOG)
@_query_options(
    click.option(
        "--minutes", "last", type=int, metavar="N", help="The last N minutes (default 5, max 15)."
    )
)
@_output_options
@_connected
def realtime(connection: Connection, **options: Any) -> None:
    """Real-time metrics (at most the last 15 minutes).

    METRIC is a metric or metric-group name; `pyconviva metrics --real-time` lists the ones
    known to work in real time.
    """
    _run_metrics_query(connection, real_time=True, **options)


_EXPORT_EPILOG = """\b
Examples:
  pyconviva export attempts plays --group-by isp --ungrouped --days 7 -d conviva-data --emulator
  pyconviva export attempts plays bitrate --group-by device-os --group-by-tag appVersion \\
      --days 90 --granularity P1D --directory /data/conviva
  pyconviva export plays+bitrate --group-by cdn --start 2026-01-01 --end 2026-02-01 -d data
Nightly (cron): the first run exports the last 30 days, each later run only what is new:
  15 2 * * *  pyconviva export attempts plays --group-by isp --ungrouped --since-last \\
      --days 30 --directory /data/conviva >> /var/log/conviva-export.log 2>&1
Read it back: pandas.read_parquet("/data/conviva"),
  polars.read_parquet("/data/conviva/**/*.parquet", hive_partitioning=True),
  duckdb "SELECT * FROM read_parquet('/data/conviva/*/*.parquet', hive_partitioning=true)"
"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_EXPORT_EPILOG)
@click.argument(
    "metrics", nargs=-1, required=True, metavar="METRIC...", shell_complete=_complete_metric
)
@click.option(
    "--group-by",
    "group_bys",
    multiple=True,
    metavar="DIM",
    shell_complete=_complete_dimension,
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
@click.option("--start", metavar="ISO", help="Range start (inclusive), e.g. 2025-01-01.")
@click.option("--end", metavar="ISO", help="Range end (exclusive), e.g. 2025-02-01.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
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
    metavar="N",
    help="Requests in flight at once (default 8); the API's rate limit applies in any case.",
)
@_connected
def export(
    connection: Connection, directory: Path, concurrency: int | None, **options: Any
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
    first_run = not (directory / MANIFEST_NAME).exists()
    if arguments["since_last"] and "start" not in arguments and first_run:
        raise click.UsageError(
            f"--since-last continues an earlier export, and {directory} has none yet; add "
            "--start DATE or --days N for the first run"
        )
    settings = {} if concurrency is None else {"max_concurrency": concurrency}
    with connection.open_client(**settings) as client, _progress("Exporting") as progress:
        summary = export_dataset(client, directory=directory, progress=progress, **arguments)
    _report_export(summary)


_ERRORS_SHOWN = 5  # a network outage fails every unit alike: a few lines say it


def _report_export(summary: ExportSummary) -> None:
    """The summary line on stdout; failed units on stderr and the first one's exit code."""
    files = sum(1 for _ in summary.directory.rglob("*.parquet"))
    for path, error in list(summary.errors.items())[:_ERRORS_SHOWN]:
        click.echo(f"Error: {path}: {_one_line(error, debug=False)}", err=True)
    if len(summary.errors) > _ERRORS_SHOWN:
        click.echo(f"Error: ... and {len(summary.errors) - _ERRORS_SHOWN} more", err=True)
    click.echo(export_summary_line(summary, files=files))
    if summary.errors:
        click.echo(
            "pyconviva: what succeeded is saved; run the same command again to fetch only the "
            "missing windows",
            err=True,
        )
        raise click.exceptions.Exit(exit_code_for(next(iter(summary.errors.values()))))


def export_summary_line(summary: ExportSummary, *, files: int) -> str:
    """One line: what this run wrote, skipped and failed, and the dataset it left."""
    return (
        f"Exported {format_instant(summary.start)} to {format_instant(summary.end)} into "
        f"{summary.directory}: {len(summary.written)} units written ({summary.rows:,} rows), "
        f"{summary.skipped} skipped (already exported), {len(summary.errors)} failed; "
        f"{files} files in the dataset"
    )


def _show_metadata(
    connection: Connection,
    output_format: str | None,
    output: Path | None,
    title: str,
    fetch: Callable[[ConvivaAPI], MetadataResult],
) -> None:
    destination = Destination.choose(output_format, output)
    with connection.open_client() as client, _progress("Querying Conviva"):
        result = fetch(client)
    destination.write(metadata_tabular(result, title))


@app.command(context_settings=_HELP_SETTINGS, epilog="Example: pyconviva dimensions --emulator")
@_output_options
@_connected
def dimensions(connection: Connection, output_format: str | None, output: Path | None) -> None:
    """Dimensions the account can filter and group by."""
    _show_metadata(
        connection, output_format, output, "Dimensions", lambda c: c.get_available_dimensions()
    )


@app.command(context_settings=_HELP_SETTINGS, epilog="Example: pyconviva filters --format csv")
@_output_options
@_connected
def filters(connection: Connection, output_format: str | None, output: Path | None) -> None:
    """Saved filters (their ids go to --filter-id)."""
    _show_metadata(
        connection, output_format, output, "Saved filters", lambda c: c.get_saved_filters()
    )


@app.command(context_settings=_HELP_SETTINGS, epilog="Example: pyconviva kpis --emulator")
@_output_options
@_connected
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
@click.argument("metric_group", required=False, shell_complete=_complete_metric)
@click.option(
    "--dimension-tag", is_flag=True, help="With METRIC_GROUP: the custom-tag group-by endpoints."
)
@_output_options
@_connected
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


def catalogue_rows(*, real_time_only: bool) -> list[dict[str, Any]]:
    """The built-in metric catalogue, one row per metric, with the groups that include it."""
    from pyconviva._catalog import METRIC_GROUPS, METRICS

    rows = []
    for info in METRICS.values():
        if real_time_only and not info.real_time:
            continue
        groups = [group for group, members in METRIC_GROUPS.items() if info.name in members]
        rows.append(
            {
                "name": info.name,
                "label": info.label,
                "fields": list(info.fields),
                "real_time": info.real_time,
                "groups": groups,
            }
        )
    return rows


def metric_group_rows() -> list[dict[str, Any]]:
    from pyconviva._catalog import METRIC_GROUPS

    return [{"group": name, "metrics": list(members)} for name, members in METRIC_GROUPS.items()]


_METRICS_EPILOG = """\b
Examples:
  pyconviva metrics
  pyconviva metrics --real-time --format csv
  pyconviva metrics --groups
"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_METRICS_EPILOG)
@click.option("--real-time", is_flag=True, help="Only metrics known to work in real time.")
@click.option("--groups", is_flag=True, help="List the metric groups instead of the metrics.")
@_output_options
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def metrics(
    real_time: bool, groups: bool, output_format: str | None, output: Path | None, debug: bool
) -> None:
    """The built-in metric catalogue (no request is sent).

    Accounts may have more metrics; `pyconviva endpoints` asks the API.
    """
    with _errors_reported(debug):
        destination = Destination.choose(output_format, output)
        if groups:
            rows = metric_group_rows()
            title = "Metric groups"
        else:
            rows = catalogue_rows(real_time_only=real_time)
            title = "Real-time metrics" if real_time else "Metrics"
        destination.write(Tabular(rows, rows, lambda path: rows_to_parquet(rows, path), title))


_EMULATOR_EPILOG = """\b
Examples:
  pyconviva emulator --port 8080
  pyconviva emulator --now 2025-01-06T12:00:00Z --latency 0.2 --rate-limit
  pyconviva emulator --fault-rate 0.1 --seed 7     # soak-test your retries
Then, in another shell, point the library or the command line at it:
  export CONVIVA_BASE_URL=http://127.0.0.1:8080
  export CONVIVA_CLIENT_ID=demo-client-id CONVIVA_CLIENT_KEY=demo-client-key
"""


@app.command(context_settings=_HELP_SETTINGS, epilog=_EMULATOR_EPILOG)
@click.option("--port", type=int, default=8080, show_default=True, help="0 picks a free port.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic data.")
@click.option(
    "--now",
    metavar="ISO",
    callback=_parse_instant_option,
    help="A fixed clock instead of the real time.",
)
@click.option(
    "--latency", type=float, default=0.0, show_default=True, help="Seconds added to each reply."
)
@click.option(
    "--jitter",
    type=float,
    default=0.0,
    show_default=True,
    help="Latency varies by up to this fraction of it (0-1).",
)
@click.option("--rate-limit", is_flag=True, help="Enforce the API's rate limits (429).")
@click.option(
    "--fault-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fault this fraction of requests at random (reproducible from the seed).",
)
@click.option(
    "--strict-real-time", is_flag=True, help="Serve only the real-time alert set in real time."
)
@click.option(
    "--legacy-default-range",
    is_flag=True,
    help="Answer historical queries without a range with the last day (pre-2024 API).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def emulator(
    port: int,
    seed: int,
    now: datetime | None,
    latency: float,
    jitter: float,
    rate_limit: bool,
    fault_rate: float,
    strict_real_time: bool,
    legacy_default_range: bool,
    debug: bool,
) -> None:
    """Serve the Metrics V3 emulator on 127.0.0.1 until Ctrl-C.

    Its controls (reset, seed, clock, faults, request log) are also under /_emulator/ on the
    server.
    """
    from pyconviva.emulator import Emulator
    from pyconviva.emulator._foreground import serve_in_foreground

    with _errors_reported(debug):
        try:
            server = Emulator(
                seed=seed,
                now=now,
                latency=latency,
                jitter=jitter,
                rate_limit=rate_limit,
                fault_rate=fault_rate,
                strict_real_time=strict_real_time,
                legacy_default_range=legacy_default_range,
            )
        except ValueError as error:  # a setting out of range, e.g. a negative latency
            raise click.UsageError(str(error)) from None
        serve_in_foreground(server, write=click.echo, port=port)
        click.echo("emulator stopped", err=True)
