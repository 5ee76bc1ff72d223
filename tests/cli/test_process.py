"""The installed ``pyconviva`` console script, run as a separate process."""

from __future__ import annotations

import csv
import io
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from pyconviva._client import ConvivaAPI
from pyconviva.cli.output import cell_text
from pyconviva.emulator import Emulator, SlowReply
from tests.cli.support import NOW, NOW_TEXT, SCRIPT, WAIT, child_env

pytestmark = [pytest.mark.network, pytest.mark.slow]


def test_main_job_command_of_the_readme_prints_the_librarys_records(tmp_path: Path) -> None:
    command = [str(SCRIPT), "historical", "attempts", "--group-by", "isp", "--days", "5"]
    completed = subprocess.run(
        [*command, "--emulator", "--format", "csv"],
        env=child_env(tmp_path, PYCONVIVA_EMULATOR_NOW=NOW_TEXT),
        capture_output=True,
        text=True,
        timeout=WAIT * 3,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    with Emulator(now=NOW).client() as client:
        records = client.get_historical_data("attempts", group_by="isp", time_range=5).records()
    expected = [{key: cell_text(value) for key, value in row.items()} for row in records]
    assert list(csv.DictReader(io.StringIO(completed.stdout))) == expected


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def slow_emulator(tmp_path: Path) -> Iterator[Emulator]:
    emulator = Emulator(now=NOW)
    emulator.add_faults(SlowReply(delay=60.0))
    with emulator.serve() as url:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[profiles.slow]\nclient_id = "{emulator.client_id}"\n'
            f'client_key = "{emulator.client_key}"\nbase_url = "{url}"\n'
        )
        config.chmod(0o600)
        yield emulator


def test_ctrl_c_exits_130_and_leaves_no_output_file(
    tmp_path: Path, slow_emulator: Emulator
) -> None:
    target = tmp_path / "out" / "attempts.csv"
    target.parent.mkdir()
    child = subprocess.Popen(
        [str(SCRIPT), "historical", "attempts", "--profile", "slow", "-o", str(target)],
        env=child_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: len(slow_emulator.requests()) == 1, "the request to arrive")
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=WAIT)
    finally:
        child.kill()
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert list(target.parent.iterdir()) == []


def test_emulator_command_serves_with_its_controls_until_ctrl_c(tmp_path: Path) -> None:
    settings = ["--now", NOW_TEXT, "--seed", "3", "--latency", "0.01", "--jitter", "0.5"]
    flags = [
        "--rate-limit",
        "--fault-rate",
        "0.001",
        "--strict-real-time",
        "--legacy-default-range",
    ]
    child = subprocess.Popen(
        [str(SCRIPT), "emulator", "--port", "0", *settings, *flags],
        env=child_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().split(" on ")[1].split()[0]
        with ConvivaAPI(
            client_id="demo-client-id", client_key="demo-client-key", base_url=url
        ) as api:
            served = api.get_historical_data("attempts", time_range=2)
        with Emulator(seed=3, now=NOW).client() as client:
            assert dict(served) == dict(client.get_historical_data("attempts", time_range=2))
        with httpx2.Client(base_url=url, auth=("demo-client-id", "demo-client-key")) as http:
            config = http.get("/_emulator/config").json()
            faults = http.get("/_emulator/faults").json()
            no_range = http.get("/insights/3.0/metrics/attempts")
            not_real_time = http.get("/insights/3.0/real-time-metrics/ad-attempts")
        assert (config["seed"], config["now"], config["latency"], config["jitter"]) == (
            3,
            NOW_TEXT,
            0.01,
            0.5,
        )
        assert config["rate_limit"]
        assert faults["random"]["rate"] == 0.001
        assert no_range.status_code == 200  # --legacy-default-range: the last day
        assert not_real_time.is_client_error  # --strict-real-time: the real-time set only
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=WAIT)
    finally:
        child.kill()
    assert child.returncode == 0


def test_main_job_needs_only_the_cli_extra(tmp_path: Path) -> None:
    program = (
        "import sys\n"
        "for name in ('pandas', 'numpy', 'pyarrow', 'polars', 'matplotlib'):\n"
        "    sys.modules[name] = None\n"
        "from pyconviva.cli import main\n"
        "main(['historical', 'attempts', '--group-by', 'isp', '--days', '5', '--emulator'])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program],
        env=child_env(tmp_path, PYCONVIVA_EMULATOR_NOW=NOW_TEXT),
        capture_output=True,
        text=True,
        timeout=WAIT * 3,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("timestamp,isp,metric,field,value\n")


def test_without_the_cli_extra_main_names_the_install_line() -> None:
    program = (
        "import sys; sys.modules['click'] = None\n"
        "from pyconviva.cli import main\n"
        "main(['--help'])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=WAIT, check=False
    )
    assert completed.returncode == 1
    assert "pip install 'pyconviva[cli]'" in completed.stderr
    assert "Traceback" not in completed.stderr
