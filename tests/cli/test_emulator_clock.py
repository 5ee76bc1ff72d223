"""``--emulator-speed``: the in-process emulator's clock runs from ``--emulator-now`` at a chosen
speed, for live demos of ``pyconviva watch``."""

from __future__ import annotations

import json
import re

import click
from click.testing import CliRunner

from pyconviva.cli.connection import Connection, connected
from tests.cli.support import WIDE_TERMINAL, run_in_terminal

TUESDAY_EVENING = "2026-11-24T20:55:00Z"


@click.command()
@connected
def show_emulator(connection: Connection) -> None:
    """The settings of the emulator a command would run against."""
    click.echo(json.dumps(connection.new_emulator().settings.to_json()))


def test_speed_and_now_reach_the_emulator(env: dict[str, str | None]) -> None:
    args = ["--emulator", "--emulator-now", TUESDAY_EVENING, "--emulator-speed", "60"]
    outcome = CliRunner().invoke(show_emulator, args, env=env, catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    settings = json.loads(outcome.stdout)
    assert (settings["now"], settings["speed"]) == (TUESDAY_EVENING, 60.0)


def test_without_speed_the_emulator_clock_stays_fixed(env: dict[str, str | None]) -> None:
    outcome = CliRunner().invoke(show_emulator, ["--emulator"], env=env, catch_exceptions=False)
    assert json.loads(outcome.stdout)["speed"] is None


def test_watch_runs_once_on_a_sped_up_emulator(env: dict[str, str | None]) -> None:
    outcome = run_in_terminal(
        env,
        "watch",
        "--emulator",
        "--emulator-now",
        TUESDAY_EVENING,
        "--emulator-speed",
        "60",
        "--group-by",
        "isp",
        "--once",
        terminal=WIDE_TERMINAL,
    )
    assert outcome.exit_code == 0, outcome.output
    assert "Conviva real time by isp" in outcome.stdout
    updated = re.search(r"updated (\d\d:\d\d:\d\d) UTC", outcome.stdout)
    assert updated is not None
    assert updated.group(1) >= "20:55:00"  # the clock started at 20:55 and only runs forward
