"""How errors reach the terminal: their exit codes, and the library's messages in the command
line's own words (flags and commands instead of Python arguments and calls)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pyconviva import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConvivaAPI,
    ConvivaError,
    MissingDependencyError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    UnexpectedResponseError,
    UnprocessableEntityError,
    export_dataset,
)
from pyconviva.cli.commands import app
from pyconviva.cli.errors import EXIT_CODES, exit_code_for, in_cli_terms
from pyconviva.emulator import Emulator
from tests.cli import support


def status(cls: type[Any], code: int) -> ConvivaError:
    error: ConvivaError = cls("x", status_code=code)
    return error


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (QueryError("bad"), 2),
        (ConfigurationError("bad"), 2),
        (status(AuthenticationError, 401), 3),
        (status(PermissionDeniedError, 403), 3),
        (status(RateLimitError, 429), 4),
        (status(ServerError, 503), 5),
        (UnexpectedResponseError("not json"), 5),
        (APIConnectionError("refused"), 6),
        (APITimeoutError("slow"), 6),
        (status(BadRequestError, 400), 7),
        (status(NotFoundError, 404), 7),
        (status(ResponseTooLargeError, 413), 7),
        (status(UnprocessableEntityError, 422), 7),
        (MissingDependencyError("plots", "plot", "matplotlib"), 1),
        (OSError("disk full"), 1),
    ],
)
def test_each_kind_of_error_has_its_documented_exit_code(error: Exception, code: int) -> None:
    assert exit_code_for(error) == code
    assert code in EXIT_CODES


# ------------------------------------------------- library messages in the command line's words

NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=timezone.utc)
# What a library message says in Python, which the command line must say with its own flags.
PYTHON_WORDS = re.compile(
    r"group_by|sort_by|filter_by|filter_id|time_range|kpi_id|max_concurrency|\b(?:metrics|limit"
    r"|granularity|start|end)=|ConvivaAPI|GET /insights|to_pandas|get_kpis|\(\)"
)


def library_error(call: Callable[[ConvivaAPI], object], **client: Any) -> str:
    """The message the library raises for ``call`` on an emulator's client."""
    with Emulator(now=NOW).client(**client) as api, pytest.raises(ConvivaError) as caught:
        call(api)
    return str(caught.value)


def historical(**query: Any) -> Callable[[ConvivaAPI], object]:
    return lambda api: api.get_historical_data(**{"metrics": "attempts", **query})


def real_time(**query: Any) -> Callable[[ConvivaAPI], object]:
    return lambda api: api.get_real_time_data(**{"metrics": "attempts", **query})


def export(tmp: Path, **arguments: Any) -> Callable[[ConvivaAPI], object]:
    defaults: dict[str, Any] = {"metrics": ["attempts"], "group_bys": [None], "directory": tmp}
    return lambda api: export_dataset(api, **{**defaults, **arguments})


TRANSLATED: list[tuple[str, str, Callable[[ConvivaAPI], object], str]] = [
    (
        "sort without group-by",
        "historical",
        historical(sort_by="attempts"),
        "--sort attempts needs --group-by: the API sorts the rows of a group-by; add --group-by "
        "or drop --sort",
    ),
    (
        "sort order",
        "historical",
        historical(group_by="isp", sort_by=["attempts", "sideways"]),
        "--sort attempts:sideways has the order 'sideways'",
    ),
    (
        "sort by a metric not asked for",
        "historical",
        historical(group_by="isp", sort_by="bitrate"),
        "add it to the METRICs",
    ),
    ("limit without group-by", "historical", historical(limit=5), "add --group-by or drop --limit"),
    ("limit out of range", "historical", historical(group_by="isp", limit=0), "--limit 0 is out"),
    (
        "too many metrics",
        "historical",
        historical(metrics=[f"m{i}" for i in range(13)]),
        "METRIC... m0 m1 m2 m3 m4 m5 m6 m7 m8 m9 m10 m11 m12 has 13 metrics",
    ),
    (
        "saved filter with dimension filters",
        "historical",
        historical(filter_by={"isp": "x", "filter_id": "1"}),
        "--filter-id with --filter mixes a saved filter with dimension filters; the API takes one "
        "or the other: drop --filter-id or the --filter options",
    ),
    (
        "filter on a parameter",
        "historical",
        historical(filter_by={"limit": "3"}),
        "--filter key 'limit' is not a dimension but the API's 'limit' parameter; pass it as "
        "--limit instead",
    ),
    (
        "kpi id twice",
        "historical",
        historical(kpi_id=2, filter_by={"kpi_id": 3}),
        "--kpi-id 2 is given twice (also in --filter); give it once, as --kpi-id",
    ),
    ("kpi id", "historical", historical(kpi_id=-1), "(see `pyconviva kpis`)"),
    (
        "unusable custom tag",
        "historical",
        historical(group_by={"custom-tag": ""}),
        "--group-by-tag '' is not a usable tag",
    ),
    (
        "unusable custom tag filter",
        "historical",
        historical(filter_by={"custom-tag": {"a/b": "1"}}),
        "--filter-tag a/b is not a usable tag",
    ),
    (
        "empty range",
        "historical",
        historical(time_range=("2026-11-03", "2026-11-01")),
        "--start 2026-11-03 --end 2026-11-01: the range",
    ),
    (
        "not an instant",
        "historical",
        historical(time_range=("yesterday", "2026-11-01")),
        "--start 'yesterday': 'yesterday' is not an ISO 8601 instant",
    ),
    (
        "not an end",
        "historical",
        historical(time_range=("2026-11-01", "tomorrow")),
        "--end 'tomorrow': 'tomorrow' is not an ISO 8601 instant",
    ),
    (
        "days out of range",
        "historical",
        historical(time_range=10**6),
        "--days 1000000 is out of range: it reaches outside the years 1-9999; pass a number of "
        "days (1 to 90) or --start and --end",
    ),
    (
        "minutes out of range",
        "realtime",
        real_time(time_range=10**10),
        "--minutes 10000000000 is out of range",
    ),
    (
        "historical granularity",
        "historical",
        historical(granularity="P1X"),
        "--granularity 'P1X' is not valid for `pyconviva historical`",
    ),
    (
        "real-time granularity",
        "realtime",
        real_time(granularity="PT1H"),
        "--granularity 'PT1H' is not valid for `pyconviva realtime`",
    ),
    (
        "unknown metric",
        "historical",
        historical(metrics="atempts"),
        "did you mean 'attempts'",
    ),
    (
        "unknown metric's list",
        "historical",
        historical(metrics="atempts"),
        "(`pyconviva metrics` lists them)",
    ),
    (
        "unknown dimension's list",
        "historical",
        historical(group_by="nope"),
        "(`pyconviva dimensions` lists them)",
    ),
]


@pytest.mark.parametrize(
    ("case", "command", "call", "expected"), TRANSLATED, ids=[c[0] for c in TRANSLATED]
)
def test_library_messages_name_the_command_lines_flags(
    case: str, command: str, call: Callable[[ConvivaAPI], object], expected: str
) -> None:
    text = in_cli_terms(library_error(call), command)
    assert expected in text
    assert not PYTHON_WORDS.search(text), text


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"granularity": "P1W"}, "--granularity P1W: the export writes one file per day"),
        (
            {"start": "2026-11-01T00:30:00Z", "end": "2026-11-02"},
            "--start 2026-11-01T00:30:00Z cuts a 1 hour bucket",
        ),
        (
            {"start": "2026-11-02", "end": "2026-11-01"},
            "--start 2026-11-02T00:00:00Z is not before --end 2026-11-01T00:00:00Z",
        ),
        (
            {"start": "yesterday", "end": "2026-11-02"},
            "--start 'yesterday': 'yesterday' is not an ISO 8601 instant",
        ),
        (
            {"start": "2026-11-01", "end": "2026-11-02", "group_bys": ["isp", "isp"]},
            "METRIC... and --group-by name the same file twice",
        ),
    ],
)
def test_export_messages_name_the_export_commands_flags(
    tmp_path: Path, arguments: dict[str, Any], expected: str
) -> None:
    text = in_cli_terms(library_error(export(tmp_path, **arguments)), "export")
    assert expected in text
    assert not PYTHON_WORDS.search(text), text


def test_a_refused_key_names_the_variables_and_the_profile_not_the_constructor() -> None:
    text = in_cli_terms(library_error(lambda api: api.get_kpis(), client_key="wrong"), "kpis")
    assert "401" in text
    assert "CONVIVA_CLIENT_ID and CONVIVA_CLIENT_KEY (or the profile's client_id and" in text
    assert not PYTHON_WORDS.search(text), text


def test_missing_credentials_name_the_profile_option(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONVIVA_CLIENT_KEY", "CONVIVA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        ConvivaAPI(client_id="only-the-id")
    text = in_cli_terms(str(caught.value), "historical")
    assert "name a profile of the config file with --profile, or set" in text
    assert "CONVIVA_CLIENT_KEY" in text
    assert not PYTHON_WORDS.search(text), text


@pytest.mark.parametrize(
    ("command", "call", "limit"),
    [
        ("realtime", real_time(time_range=60), "real-time covers at most the last 15 minutes: "),
        (
            "historical",
            historical(time_range=500),
            "historical data goes back at most 13 months (396 days): ",
        ),
        (
            "historical",
            historical(group_by="isp", time_range=100, granularity="PT1M"),
            "minutely data goes back at most 31 days: ",
        ),
    ],
)
def test_an_over_long_range_says_the_limit_first(
    command: str, call: Callable[[ConvivaAPI], object], limit: str
) -> None:
    text = in_cli_terms(library_error(call), command)
    assert text.startswith(limit), text
    assert not PYTHON_WORDS.search(text), text


# ------------------------------------------------------------- the same, through each command


def run(*args: str) -> Result:
    env = {"PYCONVIVA_EMULATOR_NOW": "2026-11-20T12:34:56Z"}
    return CliRunner().invoke(app, [*args, "--emulator"], env=env, catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["historical", "attempts", "--sort", "attempts"], "Error: --sort attempts needs"),
        (["historical", "attempts", "--days", "500"], "Error: historical data goes back at most"),
        (["realtime", "attempts", "--minutes", "60"], "Error: real-time covers at most the last"),
        (["realtime", "attempts", "--granularity", "P1D"], "for `pyconviva realtime`"),
        (["historical", "atempts"], "(`pyconviva metrics` lists them)"),
        (["export", "attempts", "--days", "1", "--granularity", "P1W", "-d", "x"], "--granularity"),
    ],
)
def test_each_command_reports_library_errors_in_its_own_terms(
    args: list[str], expected: str
) -> None:
    outcome = run(*args)
    assert outcome.exit_code in (2, 7), outcome.output
    assert expected in outcome.stderr
    assert not PYTHON_WORDS.search(outcome.stderr), outcome.stderr


def uninstalled(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """Make ``module`` and its submodules unimportable, as if it were not installed."""
    for name in [name for name in sys.modules if name.partition(".")[0] == module] or [module]:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize(
    ("module", "args", "expected"),
    [
        ("pandas", ["historical", "attempts", "--wide", "-f", "csv"], "--wide needs"),
        ("pyarrow", ["historical", "attempts", "-o", "{tmp}/a.parquet"], "--format parquet needs"),
        ("pandas", ["kpis", "-o", "{tmp}/k.parquet"], "--format parquet needs"),
        ("matplotlib", ["historical", "attempts", "--plot", "{tmp}/a.png"], "--plot needs"),
        (
            "pyarrow",
            ["export", "attempts", "--days", "1", "-d", "{tmp}"],
            "`pyconviva export` needs",
        ),
    ],
)
def test_a_missing_extra_names_what_needs_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, module: str, args: list[str], expected: str
) -> None:
    uninstalled(monkeypatch, module)
    outcome = run(*(arg.format(tmp=tmp_path) for arg in args))
    assert outcome.exit_code == 1, outcome.output
    assert f"{expected} the optional dependency '{module}'" in outcome.stderr
    assert "pip install 'pyconviva[" in outcome.stderr
    assert not PYTHON_WORDS.search(outcome.stderr), outcome.stderr


# --------------------------------------------------------------- where the request went


@pytest.mark.parametrize(
    "args",
    [
        ["historical", "atempts"],
        ["export", "house-metric", "--days", "1", "-d", "{tmp}", "--allow-unknown-metrics"],
    ],
)
def test_an_emulated_request_is_shown_as_the_path_the_emulator_served(
    tmp_path: Path, args: list[str]
) -> None:
    outcome = run(*(arg.format(tmp=tmp_path) for arg in args))
    assert outcome.exit_code == 7, outcome.output
    assert "(sent to the in-process emulator: /insights/3.0/metrics/" in outcome.stderr
    assert "api.conviva.com" not in outcome.stderr


def test_a_request_to_a_server_keeps_its_url(
    env: dict[str, str | None], served: Emulator, config_file: Path
) -> None:
    base_url = config_file.read_text().split('base_url = "')[1].split('"')[0]
    outcome = support.run(env, "historical", "atempts", "--profile", "test")
    assert outcome.exit_code == 7, outcome.output
    assert f"(request: GET {base_url}/insights/3.0/metrics/atempts?" in outcome.stderr
