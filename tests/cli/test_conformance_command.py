"""``pyconviva conformance``: the conformance suite from the shell, within its request cap,
exiting 1 when a check differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyconviva.conformance import check_names
from pyconviva.emulator import Emulator
from tests.cli.support import SECRET, run


def test_the_emulator_conforms_within_the_default_cap(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    target = tmp_path / "report.json"
    outcome = run(env, "conformance", "--emulator", "--report", str(target))
    assert outcome.exit_code == 0, outcome.output
    report = json.loads(target.read_text())
    assert report["counts"]["differ"] == 0
    assert report["counts"]["hold"] == len(check_names())
    assert report["max_requests"] == 60
    assert 0 < report["requests_made"] <= 60
    for name in check_names():
        assert name in outcome.stdout
    assert f"{report['requests_made']} of at most 60 requests" in outcome.stdout


def test_a_tight_cap_is_never_exceeded_and_leaves_checks_untested(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    target = tmp_path / "report.json"
    outcome = run(env, "conformance", "--emulator", "--max-requests", "4", "--report", str(target))
    assert outcome.exit_code == 0, outcome.output  # untested checks do not fail the run
    report = json.loads(target.read_text())
    assert report["requests_made"] <= 4
    assert report["counts"]["could not test"] > 0


def test_only_runs_the_checks_named_by_a_word(env: dict[str, str | None]) -> None:
    outcome = run(env, "conformance", "--emulator", "--only", "group-by", "--only", "KPI")
    assert outcome.exit_code == 0, outcome.output
    listed = [name for name in check_names() if name in outcome.stdout]
    assert listed
    assert all("group-by" in name or "KPI" in name for name in listed)


def test_a_server_that_differs_exits_1_and_the_key_is_never_shown(
    env: dict[str, str | None], served: Emulator, tmp_path: Path
) -> None:
    served.configure(disabled_metrics=["attempts"])  # the account answers 403 for it
    target = tmp_path / "report.txt"
    outcome = run(
        env, "conformance", "--profile", "test", "--only", "historical metric",
        "--report", str(target),
    )  # fmt: skip
    assert outcome.exit_code == 1, outcome.output
    assert "differ" in outcome.stdout
    assert "answered 403" in outcome.stdout
    assert served.requests()  # the profile's server was asked, over loopback
    assert SECRET not in outcome.output + target.read_text()


def test_a_live_run_can_be_recorded(env: dict[str, str | None], tmp_path: Path) -> None:
    cassette = tmp_path / "conformance.jsonl"
    outcome = run(env, "conformance", "--emulator", "--only", "KPI", "--record", str(cassette))
    assert outcome.exit_code == 0, outcome.output
    assert "/insights/3.0/kpis" in cassette.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "no-such-check"], "no check's name contains 'no-such-check'"),
        (["--retries", "2"], "drop --retries"),
        (["--max-requests", "0"], "--max-requests"),
    ],
)
def test_bad_usage_exits_2_before_any_request(
    env: dict[str, str | None], args: list[str], message: str
) -> None:
    outcome = run(env, "conformance", "--emulator", *args)
    assert outcome.exit_code == 2
    assert message in outcome.stderr


def test_help_does_not_offer_the_flags_it_refuses(env: dict[str, str | None]) -> None:
    outcome = run(env, "conformance", "--help")
    assert outcome.exit_code == 0
    assert "--retries" not in outcome.output
    assert "--replay FILE" not in outcome.output
    assert "--timeout" in outcome.output  # the other connection options stay


def test_a_replay_is_refused(env: dict[str, str | None], tmp_path: Path) -> None:
    cassette = tmp_path / "kpis.jsonl"
    assert run(env, "kpis", "--emulator", "--record", str(cassette)).exit_code == 0
    outcome = run(env, "conformance", "--replay", str(cassette))
    assert outcome.exit_code == 2
    assert "drop --replay" in outcome.stderr
