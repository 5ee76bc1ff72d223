"""How an error reaches the person at the terminal: one line on stderr, in the command line's
own words, and a documented exit code (``EXIT_CODES``); ``--debug`` adds the traceback. Ctrl-C
exits 130.

The library's messages speak Python (``add group_by= or drop sort_by``,
``ConvivaAPI(client_id=...)``); :func:`in_cli_terms` rewrites them with the flags and commands
of the command line through one table, ``_CLI_TERMS``, which the tests hold against the
library's real messages. A range over one of the API's limits is said limit first. Under
``--emulator`` a request is shown as what it was, a path served in process, not a URL of the
API it never reached.
"""

from __future__ import annotations

import ast
import contextlib
import re
import shlex
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeAlias

import click

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
from pyconviva._rules import (
    HISTORICAL_RETENTION,
    MINUTELY_RETENTION,
    REAL_TIME_MAX_SPAN,
    human_duration,
)

__all__ = [
    "EMULATED",
    "EXIT_CODES",
    "errors_reported",
    "exit_code_for",
    "in_cli_terms",
    "one_line",
]

# Key of the click context's ``meta``: True while a command runs against the in-process
# emulator (set by :func:`pyconviva.cli.connection.connected`).
EMULATED = "pyconviva.emulated"

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
def errors_reported(debug: bool, command: str) -> Iterator[None]:
    """Errors of ``command`` as one line on stderr and the documented exit code; Ctrl-C as 130."""
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
        click.echo(f"Error: {one_line(error, debug, command)}", err=True)
        raise click.exceptions.Exit(exit_code_for(error)) from None


def one_line(error: Exception, debug: bool, command: str) -> str:
    """The error's message on one line, in the terms of ``command``; errors of unknown kind
    name their type."""
    if isinstance(error, ConvivaError):
        text = in_cli_terms(str(error), command)
        if _emulated():
            text = re.sub(_REQUEST, r"(sent to the in-process emulator: \g<path>)", text)
    elif isinstance(error, OSError) and error.filename is not None:
        text = f"{error.strerror or error}: {error.filename}"
    else:
        text = f"{type(error).__name__}: {error}"
        if not debug:
            text += " (rerun with --debug for the traceback)"
    return " ".join(text.split())


# What the library appends to an error: "(request: GET https://api.conviva.com/insights/...)".
_REQUEST = r"\(request: [A-Z]+ https?://[^/\s)]+(?P<path>/[^\s)]*)\)"


def _emulated() -> bool:
    context = click.get_current_context(silent=True)
    return context is not None and bool(context.meta.get(EMULATED))


# ----------------------------------------------------------------------- the library's words

_Replacement: TypeAlias = "str | Callable[[re.Match[str]], str]"

# A Python value as the library's messages show it (repr): a string, a number, or a list,
# tuple or dict nested at most once.
_VALUE = (
    r"(?P<value>'[^']*'|-?\d+(?:\.\d+)?|\[[^\]]*\]|\((?:[^()]|\([^()]*\))*\)"
    r"|\{(?:[^{}]|\{[^{}]*\})*\})"
)


def _shown(value: Any) -> str:
    """A value as it would be typed in the shell."""
    if isinstance(value, str):
        return shlex.quote(value)
    if isinstance(value, (list, tuple)):
        return " ".join(_shown(item) for item in value)
    return str(value)


def _flag(flag: str, *, joiner: str = " ") -> Callable[[re.Match[str]], str]:
    """``name=<value>`` -> ``--flag value``; a list value joined as the option takes it."""

    def replace(match: re.Match[str]) -> str:
        try:
            value = ast.literal_eval(match.group("value"))
        except (ValueError, SyntaxError):  # a shape we do not render: leave it as shown
            return f"{flag} {match.group('value')}"
        if isinstance(value, (list, tuple)) and joiner != " ":
            return f"{flag} {joiner.join(str(item) for item in value)}"
        return f"{flag} {_shown(value)}"

    return replace


# Library wording -> command-line wording, in order: arguments with their values first, then
# the names alone. "{length}" is the command's length option (--days or --minutes).
_CLI_TERMS: tuple[tuple[str, _Replacement], ...] = (
    # credentials
    (
        r"pass them: ConvivaAPI\([^)]*\), or set",
        "name a profile of the config file with --profile, or set",
    ),
    (
        r"ConvivaAPI takes its positional arguments.*?swapping them",
        "Check that CONVIVA_CLIENT_ID and CONVIVA_CLIENT_KEY (or the profile's client_id and "
        "client_key) are this API client's, and not swapped",
    ),
    (r"\bfrom argument client_id\b", "from the profile's client_id"),
    # where the names are listed, and what needs an extra
    (r"GET /insights/3\.0/metrics/_meta/references/dimensions", "`pyconviva dimensions`"),
    (r"GET /insights/3\.0/metrics(?![/\w])", "`pyconviva metrics`"),
    (r"\bget_kpis\(\)", "`pyconviva kpis`"),
    (r"\bto_pandas\(wide=True\)", "--wide"),
    (r"\bto_(?:pandas|parquet)\(\)", "--format parquet"),
    (r"\bplot\(\)", "--plot"),
    (r"\bexport_dataset\(\)", "`pyconviva export`"),
    # arguments with their values
    (
        r"\btime_range=\('(?P<start>[^']*)', '(?P<end>[^']*)'\)(?: \(sent as [^)]*\))?",
        r"--start \g<start> --end \g<end>",
    ),
    (r"\btime_range\[0\]=", "--start "),
    (r"\btime_range\[1\]=", "--end "),
    (rf"\btime_range={_VALUE}", _flag("{length}")),
    (r"\btime_range: ", ""),
    (rf"\bsort_by={_VALUE}", _flag("--sort", joiner=":")),
    (rf"\bgroup_by\['custom-tag'\]={_VALUE}", _flag("--group-by-tag")),
    (rf"\bgroup_by={_VALUE}", _flag("--group-by")),
    (rf"\bfilter_by\['custom-tag'\](?: key)?={_VALUE}", _flag("--filter-tag")),
    (
        rf"\bfilter_by={_VALUE} mixes a saved filter \(filter_id\) with dimension filters",
        "--filter-id with --filter mixes a saved filter with dimension filters",
    ),
    (r"drop filter_id or the dimension filters", "drop --filter-id or the --filter options"),
    (r"\bfilter_by key\b", "--filter key"),
    (r"\bin filter_by\b", "in --filter"),
    (rf"\bmetrics={_VALUE}", _flag("METRIC...")),
    (r"\bmetrics/group_bys\b", "METRIC... and --group-by"),
    (r"\badd it to metrics\b", "add it to the METRICs"),
    (rf"\blimit={_VALUE}", _flag("--limit")),
    (rf"\bkpi_id={_VALUE}", _flag("--kpi-id")),
    (rf"\bgranularity={_VALUE}", _flag("--granularity")),
    (r"\bgranularity '", "--granularity '"),
    (r"\bfor the metrics endpoints\b", "for `pyconviva historical`"),
    (r"\bfor the real-time-metrics endpoints\b", "for `pyconviva realtime`"),
    (r"\b(start|end)=(?=\d)", r"--\1 "),
    (rf"\b(?P<name>start|end)={_VALUE}", lambda m: f"--{m.group('name')} {m.group('value')}"),
    # dicts the messages propose, as the options that build them
    (r"\{'custom-tag': \{'<tag name>': '<value>'\}\}", "--filter-tag TAG=VALUE"),
    (
        r"\{'custom-tag': \{'(?P<tag>[^']*)': '(?P<value>[^']*)'\}\}",
        r"--filter-tag \g<tag>=\g<value>",
    ),
    (r"\{'custom-tag': '<tag name>'\}", "--group-by-tag TAG"),
    (r"\{'custom-tag': '(?P<tag>[^']*)'\}", r"--group-by-tag \g<tag>"),
    # names alone
    (r"\bgroup_by\b=?", "--group-by"),
    (r"\bsort_by\b=?", "--sort"),
    (r"\bkpi_id\b=?", "--kpi-id"),
    (r"\bdrop limit\b", "drop --limit"),
    (r"\blimit=(?!\w)", "--limit"),
    (r"\bseveral calls\b", "several commands"),
    (r"\ba \(start, end\) pair\b", "--start and --end"),
)

# What an over-long range broke, said first: "real-time covers at most the last 15 minutes".
_LIMITS: tuple[tuple[str, str], ...] = (
    (
        r"real-time data covers only the last|allowed for real-time requests",
        f"real-time covers at most the last {human_duration(REAL_TIME_MAX_SPAN)}",
    ),
    (
        r"minutely data is kept for",
        f"minutely data goes back at most {MINUTELY_RETENTION.days} days",
    ),
    (
        r"historical data is kept for",
        f"historical data goes back at most 13 months ({HISTORICAL_RETENTION.days} days)",
    ),
)


def in_cli_terms(message: str, command: str) -> str:
    """A library message in the words of the command line's ``command``: its flags and
    commands for the Python arguments and calls, an over-long range's limit first."""
    length = "--minutes" if command == "realtime" else "--days"
    text = message
    for pattern, replacement in _CLI_TERMS:
        text = re.sub(pattern, replacement, text)
    text = text.replace("{length}", length)
    for pattern, headline in _LIMITS:
        if re.search(pattern, message):
            return f"{headline}: {text}"
    return text
