"""The ``pyconviva`` command line, driven through click's runner against the emulator.

Every data command runs with ``--emulator`` and a fixed emulator clock, and its output is
parsed back and compared with what the library returns for the same query on an emulator with
the same seed and clock.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pyconviva import MetadataResult, MetricsResult
from pyconviva._catalog import METRIC_GROUPS, METRICS
from pyconviva._rules import HISTORICAL, REAL_TIME, Root, allowed_granularities
from pyconviva.cli.commands import app
from pyconviva.cli.output import cell_text
from pyconviva.emulator import Emulator, SlowReply, StatusFault
from tests.cli.support import (
    NOW,
    NOW_TEXT,
    SECRET,
    WIDE_TERMINAL,
    run,
    run_in_terminal,
    without_escapes,
)


def library(**kwargs: Any) -> MetricsResult:
    with Emulator(now=NOW).client() as client:
        return client.get_historical_data(**kwargs)


def library_real_time(**kwargs: Any) -> MetricsResult:
    with Emulator(now=NOW).client() as client:
        return client.get_real_time_data(**kwargs)


def as_text(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [{key: cell_text(value) for key, value in row.items()} for row in rows]


def parsed_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def plain(document: Any) -> Any:
    """A reply as JSON would give it back (tuples and mappings become lists and dicts)."""
    return json.loads(json.dumps(document, default=dict))


# ------------------------------------------------------------------- formats against the library

GROUPED = ("attempts", "bitrate", "--group-by", "isp", "--days", "3", "--emulator")
GROUPED_QUERY: dict[str, Any] = {
    "metrics": ["attempts", "bitrate"],
    "group_by": "isp",
    "time_range": 3,
}


def test_csv_is_the_librarys_tidy_records(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", *GROUPED, "--format", "csv")
    assert outcome.exit_code == 0, outcome.output
    records = library(**GROUPED_QUERY).records()
    assert records
    assert parsed_csv(outcome.stdout) == as_text(records)


def test_csv_is_the_default_when_stdout_is_not_a_terminal(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", *GROUPED)
    assert parsed_csv(outcome.stdout) == as_text(library(**GROUPED_QUERY).records())


def test_jsonl_is_one_tidy_record_per_line(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", *GROUPED, "--format", "jsonl")
    lines = [json.loads(line) for line in outcome.stdout.splitlines()]
    assert lines == plain(as_text_json(library(**GROUPED_QUERY).records()))


def as_text_json(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records as JSON writes them: instants as API-style text, other values unchanged."""
    return [
        {
            key: cell_text(value) if isinstance(value, datetime) else value
            for key, value in row.items()
        }
        for row in rows
    ]


def test_raw_is_the_apis_reply(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", *GROUPED, "--format", "raw")
    assert json.loads(outcome.stdout) == plain(library(**GROUPED_QUERY))


def test_json_is_what_to_json_writes(env: dict[str, str | None], tmp_path: Path) -> None:
    outcome = run(env, "historical", *GROUPED, "--format", "json")
    assert outcome.exit_code == 0, outcome.output
    written = library(**GROUPED_QUERY).to_json(tmp_path / "library.json")
    assert json.loads(outcome.stdout) == json.loads(written.read_text())


def test_wide_json_file_holds_the_wide_rows(env: dict[str, str | None], tmp_path: Path) -> None:
    target = tmp_path / "w.json"
    outcome = run(env, "historical", *GROUPED, "--wide", "-o", str(target))
    assert outcome.exit_code == 0, outcome.output
    wide_csv = parsed_csv(run(env, "historical", *GROUPED, "--wide", "-f", "csv").stdout)
    rows = json.loads(target.read_text())
    assert [{key: cell_text(value) for key, value in row.items()} for row in rows] == wide_csv
    assert "attempts.count" in rows[0]


def test_wide_with_the_raw_reply_is_refused(env: dict[str, str | None], tmp_path: Path) -> None:
    outcome = run(env, "historical", *GROUPED, "--wide", "-f", "raw")
    assert outcome.exit_code == 2
    assert "--wide" in outcome.stderr
    assert "--format json" in outcome.stderr


def test_help_says_what_json_and_raw_write(env: dict[str, str | None]) -> None:
    text = " ".join(run(env, "historical", "--help").stdout.split())
    assert "json (the rows as one array)" in text
    assert "raw (the API's reply as it came)" in text
    assert "The rows: tidy records, as MetricsResult.to_json() writes them" in text


def test_parquet_file_matches_the_librarys_frame(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    pd = pytest.importorskip("pandas")
    target = tmp_path / "out.parquet"
    outcome = run(env, "historical", *GROUPED, "--output", str(target))
    assert outcome.exit_code == 0, outcome.output
    expected = tmp_path / "expected.parquet"
    library(**GROUPED_QUERY).to_parquet(expected)
    pd.testing.assert_frame_equal(pd.read_parquet(target), pd.read_parquet(expected))


def test_wide_csv_has_one_column_per_metric_field(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", *GROUPED, "--wide")
    assert outcome.exit_code == 0, outcome.output
    frame = library(**GROUPED_QUERY).to_pandas(wide=True).reset_index()
    rows = parsed_csv(outcome.stdout)
    assert list(rows[0]) == [str(column) for column in frame.columns]
    assert len(rows) == len(frame)
    assert rows[0]["attempts.count"] == str(frame["attempts.count"].iloc[0])


def test_table_format_shows_the_records_and_the_totals(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", "attempts", "--days", "1", "--emulator", "-f", "table")
    assert outcome.exit_code == 0, outcome.output
    result = library(metrics="attempts", time_range=1)
    first = result.records()[0]
    for text in ("timestamp", "metric", "value", cell_text(first["timestamp"])):
        assert text in outcome.stdout
    (total,) = result.totals()
    assert "Total" in outcome.stdout
    assert str(total["value"]) in outcome.stdout


def test_output_file_gets_the_format_of_its_suffix(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"
    outcome = run(env, "historical", *GROUPED, "-o", str(target))
    assert outcome.exit_code == 0, outcome.output
    assert outcome.stdout == ""
    lines = target.read_text().splitlines()
    assert [json.loads(line) for line in lines] == plain(
        as_text_json(library(**GROUPED_QUERY).records())
    )
    assert [p.name for p in tmp_path.iterdir() if p.name != "config.toml"] == ["out.jsonl"]


def test_plot_writes_a_png(env: dict[str, str | None], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "attempts.png"
    outcome = run(env, "historical", *GROUPED, "--plot", str(target), "-o", str(tmp_path / "a.csv"))
    assert outcome.exit_code == 0, outcome.output
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# --------------------------------------------------------------------- every query option


def dimension_values(dimension: str, count: int) -> list[str]:
    """Real values of a dimension in the emulator's data, biggest first."""
    records = library(metrics="attempts", group_by=dimension, time_range=1, limit=count).records()
    return list(dict.fromkeys(record[dimension] for record in records))[:count]


def saved_filter_id() -> str:
    with Emulator(now=NOW).client() as client:
        return str(client.get_saved_filters().records()[0]["id"])


@pytest.fixture(scope="module")
def isps() -> list[str]:
    return dimension_values("isp", 2)


OPTION_CASES: list[tuple[str, list[str], dict[str, Any]]] = [
    ("one metric", ["attempts", "--days", "2"], {"metrics": "attempts", "time_range": 2}),
    ("default range", ["plays"], {"metrics": "plays"}),
    (
        "metric group",
        ["quality-summary", "--days", "1"],
        {"metrics": "quality-summary", "time_range": 1},
    ),
    (
        "start and end",
        ["attempts", "--start", "2026-11-10", "--end", "2026-11-12T06:00:00Z"],
        {"metrics": "attempts", "time_range": ("2026-11-10", "2026-11-12T06:00:00Z")},
    ),
    (
        "granularity",
        ["attempts", "--days", "7", "--granularity", "P1D"],
        {"metrics": "attempts", "time_range": 7, "granularity": "P1D"},
    ),
    (
        "sort ascending and limit",
        ["attempts", "bitrate", "--group-by", "isp", "--sort", "bitrate:asc", "--limit", "3"],
        {
            "metrics": ["attempts", "bitrate"],
            "group_by": "isp",
            "sort_by": ["bitrate", "asc"],
            "limit": 3,
        },
    ),
    (
        "sort descending",
        ["attempts", "--group-by", "device-os", "--sort", "attempts"],
        {"metrics": "attempts", "group_by": "device-os", "sort_by": "attempts"},
    ),
    (
        "group by custom tag",
        ["attempts", "--group-by-tag", "appVersion"],
        {"metrics": "attempts", "group_by": {"custom-tag": "appVersion"}},
    ),
    (
        "kpi id",
        ["good-session", "--kpi-id", "1"],
        {"metrics": "good-session", "kpi_id": 1},
    ),
]


@pytest.mark.parametrize(("case", "args", "query"), OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_historical_options_give_the_librarys_reply(
    env: dict[str, str | None], case: str, args: list[str], query: dict[str, Any]
) -> None:
    outcome = run(env, "historical", *args, "--emulator", "-f", "raw")
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout) == plain(library(**query))


def test_repeated_filter_on_one_key_is_or(env: dict[str, str | None], isps: list[str]) -> None:
    first, second = isps
    args = [
        "attempts",
        "--filter",
        f"isp={first}",
        "--filter",
        f"isp={second}",
        "--group-by",
        "isp",
    ]
    outcome = run(env, "historical", *args, "--emulator", "-f", "raw")
    expected = library(metrics="attempts", filter_by={"isp": [first, second]}, group_by="isp")
    assert json.loads(outcome.stdout) == plain(expected)
    assert {record["isp"] for record in expected.records()} == {first, second}


def test_filters_on_different_keys_and_custom_tags_are_and(env: dict[str, str | None]) -> None:
    (isp,) = dimension_values("isp", 1)
    args = ["attempts", "--filter", f"isp={isp}", "--filter-tag", "appVersion=1.2"]
    outcome = run(env, "historical", *args, "--emulator", "-f", "raw")
    assert outcome.exit_code == 0, outcome.output
    query = {"isp": isp, "custom-tag": {"appVersion": "1.2"}}
    assert json.loads(outcome.stdout) == plain(library(metrics="attempts", filter_by=query))


def test_saved_filter_id(env: dict[str, str | None]) -> None:
    filter_id = saved_filter_id()
    outcome = run(
        env, "historical", "attempts", "--filter-id", filter_id, "--emulator", "-f", "raw"
    )
    assert outcome.exit_code == 0, outcome.output
    expected = library(metrics="attempts", filter_by={"filter_id": filter_id})
    assert json.loads(outcome.stdout) == plain(expected)


def test_long_range_is_split_and_merged_as_the_library_does(env: dict[str, str | None]) -> None:
    args = ["attempts", "--days", "120", "--granularity", "P1D", "--emulator", "-f", "csv"]
    outcome = run(env, "historical", *args)
    assert outcome.exit_code == 0, outcome.output
    expected = library(metrics="attempts", time_range=120, granularity="P1D")
    assert parsed_csv(outcome.stdout) == as_text(expected.records())
    assert outcome.stderr == ""  # no progress drawn into pipes and logs


def test_progress_counts_the_requests_on_a_terminal(env: dict[str, str | None]) -> None:
    args = ["attempts", "--days", "120", "--granularity", "P1D", "--emulator", "-f", "csv"]
    outcome = run({**env, "FORCE_COLOR": "1"}, "historical", *args)  # rich: stderr is a terminal
    assert outcome.exit_code == 0, outcome.output
    assert "Querying Conviva" in outcome.stderr
    assert "2/2" in outcome.stderr


def test_emulator_seed_changes_the_data(env: dict[str, str | None]) -> None:
    seeded = run(env, "historical", "attempts", "--emulator", "--emulator-seed", "7", "-f", "raw")
    with Emulator(seed=7, now=NOW).client() as client:
        expected = client.get_historical_data("attempts")
    assert json.loads(seeded.stdout) == plain(expected)
    assert json.loads(seeded.stdout) != plain(library(metrics="attempts"))


def test_emulator_now_option_fixes_the_clock(env: dict[str, str | None]) -> None:
    env = {**env, "PYCONVIVA_EMULATOR_NOW": None}
    args = ["attempts", "--emulator", "--emulator-now", NOW_TEXT, "-f", "raw"]
    outcome = run(env, "historical", *args)
    assert json.loads(outcome.stdout) == plain(library(metrics="attempts"))


@pytest.mark.parametrize(
    ("args", "query"),
    [
        (["concurrent-plays"], {"metrics": "concurrent-plays"}),
        (
            ["attempts", "plays", "--minutes", "10", "--granularity", "PT30S", "--group-by", "isp"],
            {
                "metrics": ["attempts", "plays"],
                "time_range": 10,
                "granularity": "PT30S",
                "group_by": "isp",
            },
        ),
    ],
)
def test_realtime_gives_the_librarys_reply(
    env: dict[str, str | None], args: list[str], query: dict[str, Any]
) -> None:
    outcome = run(env, "realtime", *args, "--emulator", "-f", "raw")
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout) == plain(library_real_time(**query))


# ---------------------------------------------------------------- metadata and catalogue


def metadata(name: str) -> MetadataResult:
    with Emulator(now=NOW).client() as client:
        if name == "dimensions":
            return client.get_available_dimensions()
        if name == "filters":
            return client.get_saved_filters()
        if name == "kpis":
            return client.get_kpis()
        return client.get_available_endpoints()


@pytest.mark.parametrize("name", ["dimensions", "filters", "kpis", "endpoints"])
def test_metadata_commands_give_the_librarys_reply(env: dict[str, str | None], name: str) -> None:
    as_raw = run(env, name, "--emulator", "-f", "raw")
    assert as_raw.exit_code == 0, as_raw.output
    assert json.loads(as_raw.stdout) == plain(metadata(name))
    as_csv = run(env, name, "--emulator", "-f", "csv")
    assert parsed_csv(as_csv.stdout) == as_text(metadata(name).records())
    as_json = run(env, name, "--emulator", "-f", "json")
    assert json.loads(as_json.stdout) == plain(metadata(name).records())


def test_group_by_endpoints_of_a_metric_group(env: dict[str, str | None]) -> None:
    outcome = run(env, "endpoints", "quality-summary", "--dimension-tag", "--emulator", "-f", "raw")
    assert outcome.exit_code == 0, outcome.output
    with Emulator(now=NOW).client() as client:
        expected = client.get_available_group_by_endpoints("quality-summary", True)
    assert json.loads(outcome.stdout) == plain(expected)


def test_metrics_lists_the_catalogue_with_real_time_support(env: dict[str, str | None]) -> None:
    rows = json.loads(run(env, "metrics", "-f", "json").stdout)
    assert [row["name"] for row in rows] == list(METRICS)
    assert {row["name"]: row["real_time"] for row in rows} == {
        name: info.real_time for name, info in METRICS.items()
    }
    only = json.loads(run(env, "metrics", "--real-time", "-f", "json").stdout)
    assert [row["name"] for row in only] == [n for n, i in METRICS.items() if i.real_time]


def test_metrics_groups_lists_the_metric_groups(env: dict[str, str | None]) -> None:
    rows = parsed_csv(run(env, "metrics", "--groups").stdout)
    assert {row["group"]: row["metrics"].split() for row in rows} == {
        name: list(members) for name, members in METRIC_GROUPS.items()
    }


# ------------------------------------------------------------- bad input: exit 2, nothing sent


BAD_INPUT: list[tuple[list[str], str]] = [
    (["historical", "attempts", "--days", "500"], "goes back at most 13 months (396 days)"),
    (["historical", "attempts", "--granularity", "P1X"], "granularity"),
    (["historical", "attempts", "--filter", "isp"], "KEY=VALUE"),
    (["historical", "attempts", "--group-by", "isp", "--group-by-tag", "app"], "not both"),
    (["historical", "attempts", "--start", "2026-11-01"], "--end"),
    (
        ["historical", "attempts", "--days", "2", "--start", "2026-11-01", "--end", "2026-11-02"],
        "not both",
    ),
    (["historical", "attempts", "--start", "yesterday", "--end", "today"], "yesterday"),
    (["historical", "attempts", "--format", "parquet"], "--output"),
    (["historical", "attempts", "--format", "xml"], "xml"),
    (["historical", "attempts", "--limit", "0", "--group-by", "isp"], "limit"),
    (["historical", "attempts", "--days", "two"], "two"),
    (["historical", *[f"m{i}" for i in range(13)]], "12"),
    (["historical", "attempts", "--filter-id", "1", "--filter", "isp=x"], "drop --filter-id"),
    (["historical"], "METRIC"),
    (["realtime", "attempts", "--minutes", "60"], "real-time covers at most the last 15 min"),
    (["historical", "attempts", "--days", "-3"], "-3 is not a positive whole number"),
    (["realtime", "attempts", "--minutes", "0"], "0 is not a positive whole number"),
    (["historical", "attempts", "--retries", "-1"], "--retries"),
    (["historical", "attempts", "--timeout", "0"], "--timeout"),
    (["historical", "attempts", "--emulator-now", "2026-11-20T12:00:00Z"], "add --emulator"),
    (["historical", "attempts", "--emulator-seed", "7"], "--emulator-seed set the emulator"),
    (["realtime", "plays", "--emulator-speed", "60"], "--emulator-speed set the emulator"),
    (["realtime", "plays", "--emulator", "--emulator-speed", "0"], "--emulator-speed"),
    (["endpoints", "--dimension-tag"], "METRIC_GROUP"),
    (["historical", "attempts", "-o", "/nonexistent-dir/out.csv"], "does not exist"),
    (["historical", "attempts", "--plot", "/nonexistent-dir/out.png"], "does not exist"),
    (["historical", "attempts", "-o", "out.xlsx"], ".csv, .json, .jsonl"),
    (["historical", "attempts", "-o", "out"], "without a suffix"),
    (["historical", "attempts", "-f", "csv", "-o", "out.parquet"], "contradicts"),
    (["kpis", "-f", "jsonl", "-o", "kpis.csv"], "contradicts"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_the_message_and_sends_nothing(
    env: dict[str, str | None], served: Emulator, args: list[str], message: str
) -> None:
    outcome = run(env, *args, "--profile", "test")
    assert outcome.exit_code == 2, outcome.output
    assert message in outcome.stderr
    assert "Traceback" not in outcome.output
    assert served.requests() == ()


# ------------------------------------------------------------ credentials and exit codes


def test_profile_credentials_reach_the_api_and_the_key_is_never_printed(
    env: dict[str, str | None], served: Emulator
) -> None:
    outcome = run(env, "historical", *GROUPED[:-1], "--profile", "test", "-f", "raw")
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout) == plain(library(**GROUPED_QUERY))
    assert len(served.requests()) == 1
    assert SECRET not in outcome.output


def test_key_is_not_printed_even_in_debug_tracebacks(
    env: dict[str, str | None], served: Emulator
) -> None:
    served.add_faults(StatusFault(status=500, times=5))
    outcome = run(env, "historical", "attempts", "--profile", "test", "--retries", "0", "--debug")
    assert outcome.exit_code == 5
    assert "Traceback" in outcome.stderr
    assert SECRET not in outcome.output


def test_default_profile_is_used_when_the_environment_has_no_credentials(
    env: dict[str, str | None], served: Emulator, config_file: Path
) -> None:
    config_file.write_text(config_file.read_text().replace("[profiles.test]", "[profiles.default]"))
    outcome = run(env, "kpis", "-f", "json")
    assert outcome.exit_code == 0, outcome.output
    assert len(served.requests()) == 1


def test_environment_credentials_are_used_when_no_profile_is_asked_for(
    env: dict[str, str | None], served: Emulator, config_file: Path
) -> None:
    base_url = config_file.read_text().split('base_url = "')[1].split('"')[0]
    env = {**env, "CONVIVA_CLIENT_ID": "cli-test-id", "CONVIVA_CLIENT_KEY": SECRET}
    env["CONVIVA_BASE_URL"] = base_url
    outcome = run(env, "kpis", "-f", "json")
    assert outcome.exit_code == 0, outcome.output


def test_no_credentials_exits_2_naming_every_way_to_give_them(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", "attempts")
    assert outcome.exit_code == 2
    assert "CONVIVA_CLIENT_ID" in outcome.stderr
    assert "--emulator" in outcome.stderr


def test_config_file_readable_by_others_is_refused_with_the_fix(
    env: dict[str, str | None], served: Emulator, config_file: Path
) -> None:
    config_file.chmod(0o644)
    outcome = run(env, "historical", "attempts", "--profile", "test")
    assert outcome.exit_code == 2
    assert f"chmod 600 {config_file}" in outcome.stderr
    assert SECRET not in outcome.output
    assert served.requests() == ()


def test_wrong_key_exits_3(env: dict[str, str | None], served: Emulator, config_file: Path) -> None:
    config_file.write_text(config_file.read_text().replace(SECRET, "wrong-key"))
    outcome = run(env, "historical", "attempts", "--profile", "test")
    assert outcome.exit_code == 3
    assert "401" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("status", "code"), [(429, 4), (500, 5), (503, 5), (403, 3), (404, 7), (422, 7), (400, 7)]
)
def test_api_errors_exit_with_their_documented_code(
    env: dict[str, str | None], served: Emulator, status: int, code: int
) -> None:
    served.add_faults(StatusFault(status=status, times=5))
    outcome = run(env, "historical", "attempts", "--profile", "test", "--retries", "0")
    assert outcome.exit_code == code, outcome.output
    assert str(status) in outcome.stderr
    # One line: a 429 that ends the call announces no wait for the rate-limit window.
    assert len(outcome.stderr.strip().splitlines()) == 1
    assert "Traceback" not in outcome.stderr


def test_network_failure_exits_6(env: dict[str, str | None], config_file: Path) -> None:
    emulator = Emulator(now=NOW)
    with emulator.serve() as url:
        pass  # the port is closed again: nothing listens there now
    config_file.write_text(
        f'[profiles.gone]\nclient_id = "i"\nclient_key = "k"\nbase_url = "{url}"\n'
    )
    config_file.chmod(0o600)
    outcome = run(env, "kpis", "--profile", "gone", "--retries", "0")
    assert outcome.exit_code == 6, outcome.output


def test_unknown_metric_exits_7_with_a_suggestion(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", "atempts", "--emulator")
    assert outcome.exit_code == 7
    assert "attempts" in outcome.stderr


# ------------------------------------------------------------------------------------ help


@pytest.mark.parametrize(
    "command",
    ["historical", "realtime", "dimensions", "filters", "kpis", "endpoints", "metrics", "emulator"],
)
def test_every_command_has_help_with_examples(env: dict[str, str | None], command: str) -> None:
    outcome = run(env, command, "--help")
    assert outcome.exit_code == 0
    assert "Example" in outcome.stdout
    assert f"pyconviva {command}" in outcome.stdout


HELP_COMMANDS = ["historical", "realtime", "export", "emulator", "metrics"]


@pytest.mark.parametrize("command", HELP_COMMANDS)
def test_dates_in_help_are_recent_enough_for_the_apis_retention(
    env: dict[str, str | None], command: str
) -> None:
    today = datetime.now(timezone.utc).date()
    text = run(env, command, "--help").stdout
    dates = [date.fromisoformat(found) for found in re.findall(r"\d{4}-\d{2}-\d{2}", text)]
    assert all(today - timedelta(days=396) <= found <= today for found in dates), dates


def test_the_dated_historical_example_of_the_help_runs(env: dict[str, str | None]) -> None:
    text = run(env, "historical", "--help").stdout
    (example,) = [
        line.split() for line in text.splitlines() if "--start" in line and "pyconviva" in line
    ]
    env = {**env, "PYCONVIVA_EMULATOR_NOW": None}  # the real clock, as a reader's
    outcome = run(env, *example[1:], "--emulator", "-f", "csv")
    assert outcome.exit_code == 0, outcome.output
    assert parsed_csv(outcome.stdout)


@pytest.mark.parametrize(("command", "root"), [("historical", HISTORICAL), ("realtime", REAL_TIME)])
def test_help_lists_only_granularities_the_command_accepts(
    env: dict[str, str | None], command: str, root: Root
) -> None:
    listed = re.findall(r"\bPT?\d+[SMHDW]\b", run(env, command, "--help").stdout)
    assert listed
    assert set(listed) <= set(allowed_granularities(root))


def test_emulator_with_a_profile_is_refused_before_anything_runs(
    env: dict[str, str | None], served: Emulator
) -> None:
    outcome = run(env, "historical", "attempts", "--emulator", "--profile", "test")
    assert outcome.exit_code == 2
    assert "--profile test would be ignored" in outcome.stderr
    assert served.requests() == ()


def test_emulator_clock_from_the_environment_stays_a_quiet_default(
    env: dict[str, str | None], served: Emulator
) -> None:
    assert env["PYCONVIVA_EMULATOR_NOW"]
    outcome = run(env, "kpis", "--profile", "test", "-f", "csv")
    assert outcome.exit_code == 0, outcome.output


def test_metric_groups_cannot_be_narrowed_to_real_time(env: dict[str, str | None]) -> None:
    outcome = run(env, "metrics", "--groups", "--real-time")
    assert outcome.exit_code == 2
    assert "give one of them" in outcome.stderr


def test_main_help_documents_exit_codes_and_completion(env: dict[str, str | None]) -> None:
    outcome = run(env, "--help")
    assert "Exit codes" in outcome.stdout
    assert "_PYCONVIVA_COMPLETE" in outcome.stdout


def test_table_can_be_written_to_a_file(env: dict[str, str | None], tmp_path: Path) -> None:
    target = tmp_path / "kpis.txt"
    outcome = run(env, "kpis", "--emulator", "-f", "table", "-o", str(target))
    assert outcome.exit_code == 0, outcome.output
    text = target.read_text()
    for record in metadata("kpis").records():
        assert str(record["name"]) in text


def test_retries_are_reported_on_stderr_as_they_happen(
    env: dict[str, str | None], served: Emulator
) -> None:
    served.add_faults(StatusFault(status=503, retry_after=0.0))
    outcome = run(env, "kpis", "--profile", "test", "-f", "json")
    assert outcome.exit_code == 0, outcome.output
    assert "Retrying" in outcome.stderr
    assert len(served.requests()) == 2


def test_timeout_option_bounds_each_request(env: dict[str, str | None], served: Emulator) -> None:
    served.add_faults(SlowReply(delay=5.0))
    outcome = run(env, "kpis", "--profile", "test", "--timeout", "0.2", "--retries", "0")
    assert outcome.exit_code == 6, outcome.output
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_emulator_settings_out_of_range_are_usage_errors(env: dict[str, str | None]) -> None:
    outcome = run(env, "emulator", "--port", "0", "--jitter", "3")
    assert outcome.exit_code == 2
    assert "jitter" in outcome.stderr


def test_metric_and_dimension_names_complete_in_the_shell(env: dict[str, str | None]) -> None:
    def complete(words: str) -> list[str]:
        completion = {
            "_PYCONVIVA_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        outcome = CliRunner().invoke(app, [], env={**env, **completion}, prog_name="pyconviva")
        return [line.split(",", 1)[1] for line in outcome.stdout.splitlines()]

    assert "attempts" in complete("pyconviva historical att")
    assert "device-os" in complete("pyconviva historical attempts --group-by device-o")


# ------------------------------------------------------------- notes, names, terminal tables


def test_a_note_on_dropped_totals_comes_only_with_a_format_that_shows_totals(
    env: dict[str, str | None],
) -> None:
    args = ["plays", "--days", "120", "--granularity", "P1D", "--emulator"]
    for rows_only in ("csv", "json", "jsonl"):
        outcome = run(env, "historical", *args, "-f", rows_only)
        assert outcome.exit_code == 0, outcome.output
        assert outcome.stderr == ""
    with_totals = run(env, "historical", *args, "-f", "raw")
    assert "pyconviva: note: total: dropped plays.percentage" in with_totals.stderr


def table_rows(text: str) -> list[list[str]]:
    """The cells of a boxed rich table's body rows (a wrapped cell continues on a row of its
    own)."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in without_escapes(text).splitlines()
        if line.startswith("│")
    ]


def test_metric_names_are_never_wrapped_in_the_terminal_table(env: dict[str, str | None]) -> None:
    outcome = run_in_terminal(env, "metrics", terminal=WIDE_TERMINAL)
    assert outcome.exit_code == 0, outcome.output
    names = [cells[0] for cells in table_rows(outcome.stdout) if cells[0]]
    assert names == list(METRICS)


def test_dimensions_table_shows_the_name_to_type_and_where(env: dict[str, str | None]) -> None:
    outcome = run_in_terminal(env, "dimensions", "--emulator", terminal=WIDE_TERMINAL)
    assert outcome.exit_code == 0, outcome.output
    rows = {cells[0]: cells[1:] for cells in table_rows(outcome.stdout)}
    assert rows["device-os"] == ["Device OS", "--group-by, --filter"]
    assert rows["ad-video-start-failure-error"][-1] == "--group-by"
    assert rows["appVersion"][-1] == "--group-by-tag, --filter-tag"
    typed = run(env, "historical", "attempts", "--group-by-tag", "appVersion", "--emulator")
    assert typed.exit_code == 0, typed.output
