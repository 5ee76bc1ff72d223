"""``python -m pyconviva.emulator`` serves in the foreground and says where and how to connect."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest

pytestmark = pytest.mark.network

ARGS = ["--port", "0", "--seed", "3", "--now", "2025-06-02T12:00:00Z", "--rate-limit", "0.5"]


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pyconviva.emulator", *ARGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(4)]
    try:
        yield process, lines
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_module_prints_url_and_credentials_then_serves(
    server: tuple[subprocess.Popen[str], list[str]],
) -> None:
    _process, lines = server
    assert lines[0].startswith("pyconviva emulator serving on http://127.0.0.1:")
    url = lines[1].strip().removeprefix("CONVIVA_BASE_URL=")
    assert lines[2].strip() == "CONVIVA_CLIENT_ID=demo-client-id"
    assert lines[3].strip() == "CONVIVA_CLIENT_KEY=demo-client-key"
    config = httpx2.get(url + "/_emulator/config").json()
    assert (config["seed"], config["now"], config["rate_limit"]) == (3, "2025-06-02T12:00:00Z", 0.5)
    reply = httpx2.get(
        url + "/insights/3.0/metrics/attempts",
        params={"days": "1"},
        auth=("demo-client-id", "demo-client-key"),
    )
    assert reply.status_code == 200


def test_module_does_not_echo_a_custom_client_key() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pyconviva.emulator", "--host", "0.0.0.0", "--client-key", "s3cret"],  # noqa: S104
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "allow_remote" in done.stderr
    assert "s3cret" not in done.stdout + done.stderr


def test_module_prints_no_custom_key_when_serving() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pyconviva.emulator", "--port", "0", "--client-key", "s3cret"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        printed = "".join(process.stdout.readline() for _ in range(4))
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert "CONVIVA_CLIENT_KEY=(the key you gave)" in printed
    assert "s3cret" not in printed


def test_module_takes_the_whole_option_set() -> None:
    args = ["--port", "0", "--host", "127.0.0.1", "--audience", "small", "--rate-limit",
            "--disable-metric", "plays", "--disable-dimension", "asn",
            "--client-id", "me"]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "pyconviva.emulator", *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        url = lines[1].strip().removeprefix("CONVIVA_BASE_URL=")
        config = httpx2.get(url + "/_emulator/config").json()
        plays = httpx2.get(
            url + "/insights/3.0/metrics/plays",
            params={"days": "1"},
            auth=("me", "demo-client-key"),
        )
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert lines[2].strip() == "CONVIVA_CLIENT_ID=me"
    assert (config["audience"], config["rate_limit"]) == ("small", 1.0)
    assert (config["disabled_metrics"], config["disabled_dimensions"]) == (["plays"], ["asn"])
    assert plays.status_code == 403


def test_module_refuses_a_bad_setting_with_its_reason() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pyconviva.emulator", "--disable-metric", "plais"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown metric 'plais'" in done.stderr
