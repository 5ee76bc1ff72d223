"""``pyconviva export``, driven through click's runner: the dataset it writes is the one
``export_dataset`` writes for the same arguments, reruns fetch only what is missing, and bad
input is refused (exit 2) before any request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas
import pyarrow.dataset
import pytest
from click.testing import CliRunner, Result

from pyconviva import APITimeoutError, NotFoundError, ServerError, export_dataset
from pyconviva._rules import format_instant
from pyconviva.cli.arguments import export_call_arguments
from pyconviva.cli.commands import app
from pyconviva.cli.export_advice import export_advice
from pyconviva.emulator import Emulator, StatusFault

UTC = timezone.utc
NOW = datetime(2025, 6, 1, 12, 17, 43, tzinfo=UTC)
NOW_TEXT = "2025-06-01T12:17:43Z"
START, END = "2025-05-20", "2025-05-21T06:00:00Z"
COMMAND = ["export", "attempts", "plays+bitrate", "--group-by", "isp", "--ungrouped"]
SECRET = "export-test-key"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """No credentials from the environment, a config file of the test's own, no fixed clock."""
    return {
        "PYCONVIVA_CONFIG": str(tmp_path / "config.toml"),
        "PYCONVIVA_EMULATOR_NOW": None,
        "CONVIVA_CLIENT_ID": None,
        "CONVIVA_CLIENT_KEY": None,
        "CONVIVA_CLIENT_SECRET": None,
        "CONVIVA_BASE_URL": None,
    }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Emulator]:
    """An emulator on loopback (real clock) reachable through profile 'test'."""
    emulator = Emulator(client_id="export-test-id", client_key=SECRET)
    with emulator.serve() as url:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[profiles.test]\nclient_id = "export-test-id"\nclient_key = "{SECRET}"\n'
            f'base_url = "{url}"\n'
        )
        config.chmod(0o600)
        yield emulator


def run(env: Mapping[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=dict(env), catch_exceptions=False)


def emulated(env: Mapping[str, str | None], *args: str, now: str = NOW_TEXT) -> Result:
    return run(env, *args, "--emulator", "--emulator-now", now)


def dataset_files(directory: Path) -> dict[str, bytes]:
    """Every data file, by relative path, with its bytes."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*.parquet"))
    }


def sorted_frame(directory: Path) -> pandas.DataFrame:
    table = pyarrow.dataset.dataset(directory, format="parquet", partitioning="hive").to_table()
    frame = table.to_pandas()
    ordered: pandas.DataFrame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return ordered


def test_export_writes_the_dataset_the_library_writes(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    cli_dir, library_dir = tmp_path / "cli", tmp_path / "library"

    outcome = emulated(env, *COMMAND, "--start", START, "--end", END, "-d", str(cli_dir))

    assert outcome.exit_code == 0, outcome.output
    with Emulator(now=NOW).client() as client:
        summary = export_dataset(
            client,
            metrics=["attempts", ["plays", "bitrate"]],
            group_bys=[None, "isp"],
            start=START,
            end=END,
            directory=library_dir,
        )
    assert len(summary.written) == 4 * 2  # 4 queries x (1 day + 6 hours of the next)
    assert sorted(dataset_files(cli_dir)) == sorted(summary.written)
    assert sorted_frame(cli_dir).equals(sorted_frame(library_dir))
    assert dataset_files(cli_dir) == dataset_files(library_dir)
    assert outcome.stdout.count("\n") == 1
    assert "8 units written" in outcome.stdout
    assert "0 skipped" in outcome.stdout
    assert "0 failed" in outcome.stdout
    assert str(cli_dir) in outcome.stdout


def test_summary_counts_the_rows_written(env: dict[str, str | None], tmp_path: Path) -> None:
    outcome = emulated(env, "export", "attempts", "--days", "1", "-d", str(tmp_path))
    table = pyarrow.dataset.dataset(tmp_path, format="parquet", partitioning="hive").to_table()
    assert outcome.exit_code == 0, outcome.output
    assert table.num_rows == 24  # the ungrouped totals (the default), one a hour
    assert "(24 rows)" in outcome.stdout


def test_a_second_run_skips_everything(env: dict[str, str | None], tmp_path: Path) -> None:
    args = [*COMMAND, "--start", START, "--end", END, "-d", str(tmp_path)]
    emulated(env, *args)
    before = dataset_files(tmp_path)

    again = emulated(env, *args)

    assert again.exit_code == 0, again.output
    assert "0 units written (0 rows), 8 skipped" in again.stdout
    assert "0 failed; 8 files in the dataset" in again.stdout
    assert dataset_files(tmp_path) == before


def test_since_last_fetches_only_the_new_windows(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    args = ["export", "attempts", "--group-by", "isp", "--ungrouped", "-d", str(tmp_path)]
    emulated(env, *args, "--start", START, "--end", END)
    before = dataset_files(tmp_path)

    later = emulated(env, *args, "--since-last", now="2025-05-22T02:30:00Z")

    assert later.exit_code == 0, later.output
    assert "2025-05-21T06:00:00Z to 2025-05-22T02:00:00Z" in later.stdout
    assert "4 units written" in later.stdout
    after = dataset_files(tmp_path)
    assert sorted(set(after) - set(before)) == [
        "date=2025-05-21/attempts__all__0600-2400.parquet",
        "date=2025-05-21/attempts__isp__0600-2400.parquet",
        "date=2025-05-22/attempts__all__0000-0200.parquet",
        "date=2025-05-22/attempts__isp__0000-0200.parquet",
    ]
    assert {path: after[path] for path in before} == before


def test_since_last_with_days_starts_a_new_dataset_then_continues_it(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    args = ["export", "attempts", "--since-last", "--days", "1", "-d", str(tmp_path)]
    first = emulated(env, *args)
    assert "2025-05-31T12:00:00Z to 2025-06-01T12:00:00Z" in first.stdout

    second = emulated(env, *args, now="2025-06-01T15:05:00Z")

    assert second.exit_code == 0, second.output
    assert "2025-06-01T12:00:00Z to 2025-06-01T15:00:00Z" in second.stdout
    assert "1 units written" in second.stdout


def test_daily_buckets_are_whole_days_so_nightly_runs_never_fetch_a_day_twice(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    args = ["export", "attempts", "--granularity", "P1D", "--since-last", "-d", str(tmp_path)]
    first = emulated(env, *args, "--days", "2")
    same_day = emulated(env, *args, now="2025-06-01T23:59:00Z")
    next_day = emulated(env, *args, now="2025-06-02T00:30:00Z")

    assert "2025-05-30T00:00:00Z to 2025-06-01T00:00:00Z" in first.stdout
    assert "0 units written" in same_day.stdout
    assert "2025-06-01T00:00:00Z to 2025-06-02T00:00:00Z" in next_day.stdout
    assert sorted(dataset_files(tmp_path)) == [
        "date=2025-05-30/attempts__all.parquet",
        "date=2025-05-31/attempts__all.parquet",
        "date=2025-06-01/attempts__all.parquet",
    ]


def day_range() -> list[str]:
    """A whole day two days before the real clock's (the loopback client uses the real clock)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=2)
    return ["--start", start.isoformat(), "--end", (start + timedelta(days=1)).isoformat()]


def test_failed_units_exit_with_their_code_and_a_rerun_completes_them(
    env: dict[str, str | None], served: Emulator, tmp_path: Path
) -> None:
    window = day_range()
    args = [*COMMAND, *window, "-d", str(tmp_path), "--profile", "test", "--retries", "0"]
    served.add_faults(StatusFault(status=503, times=2, path="/group-by/isp"))

    failed = run(env, *args)

    assert failed.exit_code == 5, failed.output
    assert "2 units written" in failed.stdout
    assert "2 failed" in failed.stdout
    assert "503" in failed.stderr
    assert "run the same command again" in failed.stderr
    assert SECRET not in failed.output
    assert sorted(dataset_files(tmp_path)) == [
        f"date={window[1][:10]}/attempts__all.parquet",
        f"date={window[1][:10]}/plays+bitrate__all.parquet",
    ]

    rerun = run(env, *args)

    assert rerun.exit_code == 0, rerun.output
    assert "2 units written" in rerun.stdout
    assert "2 skipped" in rerun.stdout
    assert len(dataset_files(tmp_path)) == 4


def test_since_last_reports_the_range_of_the_units_it_completed_for_an_earlier_run(
    env: dict[str, str | None], served: Emulator, tmp_path: Path
) -> None:
    window = day_range()
    args = [*COMMAND, "-d", str(tmp_path), "--profile", "test", "--retries", "0"]
    served.add_faults(StatusFault(status=503, times=2, path="/group-by/isp"))
    run(env, *args, *window)

    nothing_new = run(env, *args, "--since-last", "--end", window[3])

    assert nothing_new.exit_code == 0, nothing_new.output
    assert "2 units written" in nothing_new.stdout
    start, end = (datetime.fromisoformat(text) for text in window[1::2])
    assert f"Exported {format_instant(start)} to {format_instant(end)} into" in nothing_new.stdout


def test_a_run_with_nothing_due_says_so(env: dict[str, str | None], tmp_path: Path) -> None:
    args = ["export", "attempts", "--since-last", "-d", str(tmp_path)]
    emulated(env, *args, "--days", "1")

    again = emulated(env, *args)

    assert again.exit_code == 0, again.output
    assert "Nothing new to export after 2025-06-01T12:00:00Z" in again.stdout
    assert "0 units written" in again.stdout


BAD_INPUT: list[tuple[list[str], str]] = [
    (["--start", "2025-05-22", "--end", "2025-05-21"], "not before"),
    (["--days", "2", "--start", "2025-05-20"], "not both"),
    (["--start", "2025-05-20"], "go together"),
    ([], "--since-last"),
    (["--days", "0"], "0 is not a positive whole number"),
    (["--days", "-3"], "-3 is not a positive whole number"),
    (["--days", "1", "--granularity", "P1W"], "granularity"),
    (["--days", "1", "--concurrency", "0"], "--concurrency"),
    (["--days", "1", "--group-by", "isp", "--group-by", "isp"], "same file twice"),
    (["--days", "1", "--start-date", "2025-05-20"], "--start-date"),
    (["--since-last"], "--start DATE or --days N"),
    (["--start", "yesterday", "--end", "2025-05-21"], "yesterday"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_exits_2_and_sends_nothing(
    env: dict[str, str | None], served: Emulator, tmp_path: Path, args: list[str], message: str
) -> None:
    directory = tmp_path / "data"
    outcome = run(env, "export", "attempts", *args, "-d", str(directory), "--profile", "test")
    assert outcome.exit_code == 2, outcome.output
    assert message in outcome.stderr
    assert "Traceback" not in outcome.output
    assert served.requests() == ()
    assert not directory.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["attempts", "--days", "1"], "--directory"), (["plays+", "--days", "1", "-d", "x"], "empty")],
)
def test_missing_directory_or_empty_metric_is_a_usage_error(
    env: dict[str, str | None], served: Emulator, args: list[str], message: str
) -> None:
    outcome = run(env, "export", *args, "--profile", "test")
    assert outcome.exit_code == 2, outcome.output
    assert message in outcome.stderr
    assert served.requests() == ()


def test_help_shows_examples_with_a_nightly_since_last_job(env: dict[str, str | None]) -> None:
    outcome = run(env, "export", "--help")
    assert outcome.exit_code == 0
    assert "Examples:" in outcome.stdout
    assert "pyconviva export" in outcome.stdout
    assert "cron" in outcome.stdout
    assert "--since-last" in outcome.stdout


def test_metrics_joined_by_plus_are_one_query_and_days_ends_at_the_last_full_hour() -> None:
    arguments = export_call_arguments(
        metrics=["attempts", "plays+bitrate"],
        group_bys=["isp"],
        group_by_tags=["appVersion"],
        days=2,
        now=NOW,
    )
    assert arguments == {
        "metrics": ["attempts", ["plays", "bitrate"]],
        "group_bys": ["isp", {"custom-tag": "appVersion"}],
        "granularity": "PT1H",
        "since_last": False,
        "start": datetime(2025, 5, 30, 12, tzinfo=UTC),
        "end": datetime(2025, 6, 1, 12, tzinfo=UTC),
    }


def test_since_last_ends_at_the_last_full_hour_or_midnight_for_daily_buckets() -> None:
    hourly = export_call_arguments(metrics=["attempts"], since_last=True, now=NOW)
    daily = export_call_arguments(metrics=["attempts"], since_last=True, granularity="P1D", now=NOW)
    assert hourly["end"] == datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert daily["end"] == datetime(2025, 6, 1, tzinfo=UTC)
    assert "start" not in hourly


def test_a_metric_group_is_exported_as_historical_fetches_it(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    args = ["export", "quality-summary", "--start", "2025-05-20", "--end", "2025-05-21"]
    outcome = emulated(env, *args, "-d", str(tmp_path))
    assert outcome.exit_code == 0, outcome.output
    assert sorted(dataset_files(tmp_path)) == ["date=2025-05-20/quality-summary__all.parquet"]


# ------------------------------------------------------- metric names, and what to do next


def test_a_misspelt_metric_is_refused_with_suggestions_before_any_request(
    env: dict[str, str | None], served: Emulator, tmp_path: Path
) -> None:
    directory = tmp_path / "data"
    args = ["export", "atempts", "plays+bitrat", "quality_summary", "--days", "30"]

    outcome = run(env, *args, "-d", str(directory), "--profile", "test")

    assert outcome.exit_code == 2, outcome.output
    assert "unknown metrics 'atempts' (did you mean 'attempts'" in outcome.stderr
    assert "'bitrat' (did you mean 'bitrate'" in outcome.stderr
    assert "quality_summary" not in outcome.stderr  # a metric group, in snake case
    assert "--allow-unknown-metrics" in outcome.stderr
    assert served.requests() == ()
    assert not directory.exists()


def test_an_unknown_metric_goes_through_when_allowed_and_a_404_says_to_fix_the_command(
    env: dict[str, str | None], served: Emulator, tmp_path: Path
) -> None:
    args = ["export", "house-metric", *day_range(), "-d", str(tmp_path), "--profile", "test"]

    outcome = run(env, *args, "--allow-unknown-metrics")

    assert outcome.exit_code == 7, outcome.output
    assert len(served.requests()) >= 1
    assert "HTTP 404" in outcome.stderr
    assert "fix the command" in outcome.stderr
    assert "run the same command again" not in outcome.stderr


def test_the_advice_depends_on_the_kind_of_each_failure() -> None:
    refused = NotFoundError("unknown metric", status_code=404)
    advice = export_advice([refused, ServerError("down", status_code=503), APITimeoutError("t")])

    assert advice[0].startswith("1 unit failed with HTTP 404, which running the same command")
    assert "fix the command" in advice[0]
    assert advice[1].startswith("2 units failed with HTTP 503 and a timeout, which may pass")
    assert "run the same command again" in advice[1]
