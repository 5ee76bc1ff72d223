"""The ``watch`` and ``exporter`` commands, run in process against the emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

pytest.importorskip("prometheus_client")

from prometheus_client.parser import text_string_to_metric_families

from pyconviva.cli.exporter_command import exporter
from pyconviva.cli.watch_command import watch
from pyconviva.emulator import Emulator

OUTAGE = "2025-06-04T00:30:05Z"  # Tuesday 19:30 on the US east coast: the weekly ISP outage


def run(command: click.Command, *arguments: str) -> Result:
    return CliRunner().invoke(command, list(arguments), env={"COLUMNS": "120"})


def test_watch_once_draws_the_screen_with_the_outage_flagged() -> None:
    result = run(
        watch,
        "--emulator",
        "--emulator-now",
        OUTAGE,
        "--once",
        "--group-by",
        "isp",
        "--top",
        "3",
        "--alert",
        "video-start-failures.percentage>20",
    )
    assert result.exit_code == 0, result.output
    flagged = [line for line in result.output.splitlines() if line.startswith("!")]
    assert len(flagged) == 1
    assert "video start failures %" in flagged[0]
    assert "Charter Spectrum" in result.output
    assert "alerts: video-start-failures.percentage>20" in result.output


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--top", "3"], "--top picks the top groups of --group-by"),
        (["--alert", "rebuffering-ratio>>2"], "is not METRIC OP NUMBER"),
        (["plays/x"], "is not a metric"),
    ],
)
def test_watch_refuses_bad_arguments_before_any_request(arguments: list[str], words: str) -> None:
    result = run(watch, "--emulator", "--once", *arguments)
    assert result.exit_code == 2
    assert words in result.output


def test_exporter_once_prints_a_scrape_prometheus_can_parse(tmp_path: Path) -> None:
    config = tmp_path / "exporter.toml"
    config.write_text(
        'metrics = ["plays", "bitrate"]\n'
        '[[filters]]\nname = "all"\ndimensions = ["cdn"]\nlimit = 2\n'
    )
    result = run(
        exporter, "--emulator", "--emulator-now", OUTAGE, "--once", "--config", str(config)
    )
    assert result.exit_code == 0, result.output
    families = {f.name: f for f in text_string_to_metric_families(result.output)}
    plays = families["conviva_plays"].samples
    assert {s.labels["dimension"] for s in plays} == {"", "cdn"}
    assert len(plays) == 3  # the totals and the top 2 CDNs
    assert families["conviva_exporter_requests"].samples[0].value == 1


def test_exporter_refuses_a_configuration_over_its_budget(tmp_path: Path) -> None:
    config = tmp_path / "exporter.toml"
    config.write_text("interval = 0.5\n")  # 120 requests a minute
    result = run(exporter, "--emulator", "--once", "--config", str(config))
    assert result.exit_code == 2
    assert "requests a minute" in result.output


WAIT = 20.0  # seconds: the bound on waiting for a child process, never a timing assumption


def test_ctrl_c_ends_watch_quietly_with_exit_code_0_even_mid_refresh() -> None:
    emulator = Emulator(audience="small")
    with emulator.serve() as url:
        environment = {
            **os.environ,
            "CONVIVA_BASE_URL": url,
            "CONVIVA_CLIENT_ID": emulator.client_id,
            "CONVIVA_CLIENT_KEY": emulator.client_key,
            "COLUMNS": "100",
        }
        code = "from pyconviva.cli.watch_command import watch; watch.main(['--no-bell'])"
        with subprocess.Popen(
            [sys.executable, "-c", code],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as child:
            deadline = time.monotonic() + WAIT
            while not emulator.requests() and time.monotonic() < deadline:
                time.sleep(0.02)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=WAIT)

    assert child.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert b"Error" not in out + err
    assert len(emulator.requests()) == 1  # one refresh (totals only); the next is a minute away
