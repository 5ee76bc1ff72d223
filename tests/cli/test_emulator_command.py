"""``pyconviva emulator`` is ``python -m pyconviva.emulator``: one option set, listed by both
helps, taken and refused alike."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from tests.cli.support import SCRIPT, WAIT, child_env, run

_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def flags(help_text: str) -> set[str]:
    return set(_FLAG.findall(help_text))


def test_both_helps_list_the_same_options(env: dict[str, str | None]) -> None:
    outcome = run(env, "emulator", "--help")
    module = subprocess.run(
        [sys.executable, "-m", "pyconviva.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=True,
    )
    assert outcome.exit_code == 0
    assert flags(outcome.stdout) == flags(module.stdout)
    assert {"--host", "--client-id", "--client-key", "--speed", "--audience"} <= flags(
        outcome.stdout
    )
    assert "--rate-limit [on|off|SCALE]" in outcome.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--disable-metric", "plais"], "unknown metric 'plais'"),
        (["--rate-limit", "fast"], "--rate-limit takes on, off or a positive scale"),
        (["--speed", "0"], "speed"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["--debug", "--jitter", "3"], "jitter"),  # --debug, of the old command, still taken
    ],
)
def test_bad_settings_exit_2_with_the_emulators_reason(
    env: dict[str, str | None], args: list[str], message: str
) -> None:
    outcome = run(env, "emulator", "--port", "0", *args)
    assert outcome.exit_code == 2
    assert message in outcome.stderr


def test_a_non_loopback_host_needs_allow_remote_and_no_key_is_echoed(
    env: dict[str, str | None],
) -> None:
    outcome = run(env, "emulator", "--host", "0.0.0.0", "--client-key", "s3cret")  # noqa: S104
    assert outcome.exit_code == 2
    assert "--allow-remote" in outcome.stderr
    assert "s3cret" not in outcome.output


@pytest.mark.network
def test_host_credentials_and_a_rate_limit_scale_reach_the_served_emulator(
    tmp_path: Path,
) -> None:
    args = ["--port", "0", "--host", "127.0.0.1", "--client-id", "me", "--client-key", "s3cret",
            "--rate-limit", "0.1", "--audience", "small"]  # fmt: skip
    child = subprocess.Popen(
        [str(SCRIPT), "emulator", *args],
        env=child_env(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        lines = [child.stdout.readline() for _ in range(4)]
        url = lines[1].strip().removeprefix("CONVIVA_BASE_URL=")
        config = httpx2.get(url + "/_emulator/config").json()
        params = {"days": "1"}
        mine = httpx2.get(url + "/insights/3.0/metrics/plays", params=params, auth=("me", "s3cret"))
        demo = ("demo-client-id", "demo-client-key")
        theirs = httpx2.get(url + "/insights/3.0/metrics/plays", params=params, auth=demo)
    finally:
        child.terminate()
        child.communicate(timeout=WAIT)
    assert url.startswith("http://127.0.0.1:")
    assert lines[2].strip() == "CONVIVA_CLIENT_ID=me"
    assert "s3cret" not in "".join(lines)
    assert (config["client_id"], config["rate_limit"], config["audience"]) == ("me", 0.1, "small")
    assert (mine.status_code, theirs.status_code) == (200, 401)
