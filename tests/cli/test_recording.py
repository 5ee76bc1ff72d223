"""``--record FILE`` writes a command's exchanges to a cassette with no secret in it, and
``--replay FILE`` answers the same command from it: offline, with no credentials."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from pyconviva.emulator import Emulator
from tests.cli.support import SECRET, run

DAYS_AGO = "2026-11-10"  # within the emulator's retention at NOW
WEEK_LATER = "2026-11-17"

# Each data command, with arguments whose requests do not depend on the clock of the run.
COMMANDS = [
    ["historical", "attempts", "plays", "--group-by", "isp", "--days", "2", "-f", "csv"],
    ["realtime", "plays", "--minutes", "5", "-f", "csv"],
    ["dimensions", "-f", "csv"],
    ["filters", "-f", "csv"],
    ["kpis", "-f", "csv"],
    ["endpoints", "quality-summary", "-f", "csv"],
]


def assert_no_secret(cassette: Path) -> None:
    text = cassette.read_text()
    assert SECRET not in text
    assert base64.b64encode(f"cli-test-id:{SECRET}".encode()).decode() not in text
    assert "authorization" not in text.lower()


@pytest.mark.parametrize("args", COMMANDS, ids=[a[0] for a in COMMANDS])
def test_a_recorded_command_replays_offline_with_the_same_output(
    env: dict[str, str | None], served: Emulator, tmp_path: Path, args: list[str]
) -> None:
    cassette = tmp_path / "conviva.jsonl"
    recorded = run(env, *args, "--profile", "test", "--record", str(cassette))
    assert recorded.exit_code == 0, recorded.output
    asked = len(served.requests())
    replayed = run(env, *args, "--replay", str(cassette))  # env: no credentials at all
    assert replayed.exit_code == 0, replayed.output
    assert replayed.stdout == recorded.stdout
    assert len(served.requests()) == asked
    assert_no_secret(cassette)


def test_an_export_recorded_on_the_emulator_replays_into_the_same_files(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    cassette = tmp_path / "export.jsonl"
    args = ["export", "attempts", "--group-by", "isp", "--start", DAYS_AGO, "--end", WEEK_LATER]
    first = run(env, *args, "-d", str(tmp_path / "a"), "--emulator", "--record", str(cassette))
    assert first.exit_code == 0, first.output
    second = run(env, *args, "-d", str(tmp_path / "b"), "--replay", str(cassette))
    assert second.exit_code == 0, second.output
    recorded = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    replayed = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.parquet"))
    assert recorded
    assert recorded == replayed
    for name in recorded:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_request_the_cassette_does_not_hold_fails_naming_it(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    cassette = tmp_path / "kpis.jsonl"
    assert run(env, "kpis", "--emulator", "--record", str(cassette)).exit_code == 0
    outcome = run(env, "historical", "attempts", "--replay", str(cassette))
    assert outcome.exit_code == 1
    assert "no recorded reply for GET /insights/3.0/metrics/attempts?days=1" in outcome.stderr
    assert "Traceback" not in outcome.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--emulator"], "so --emulator would not be used"),
        (["--record", "other.jsonl"], "so --record other.jsonl would not be used"),
        (["--profile", "test"], "so --profile test would not be used"),
    ],
)
def test_replay_beside_another_source_of_replies_is_a_usage_error(
    env: dict[str, str | None], served: Emulator, tmp_path: Path, extra: list[str], message: str
) -> None:
    cassette = tmp_path / "kpis.jsonl"
    assert run(env, "kpis", "--emulator", "--record", str(cassette)).exit_code == 0
    outcome = run(env, "kpis", "--replay", str(cassette), *extra)
    assert outcome.exit_code == 2
    assert message in outcome.stderr
    assert served.requests() == ()


def test_replay_of_a_file_that_is_not_a_cassette_is_a_usage_error(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a cassette\n")
    outcome = run(env, "kpis", "--replay", str(notes))
    assert outcome.exit_code == 2
    assert "is not a pyconviva cassette" in outcome.stderr
