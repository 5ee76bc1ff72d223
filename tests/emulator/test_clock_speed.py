"""The emulator's clock at a chosen speed (for live demos such as ``pyconviva watch``): it starts
at ``now`` and moves ``speed`` emulated seconds per real second; without a speed a fixed clock
stands still, as it always did.

The running clock is checked against real time measured around it, so every assertion is a
bound that holds however slow the machine is, never an exact duration.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import httpx2
import pytest

from pyconviva import QueryError
from pyconviva.emulator import Emulator

NOW = datetime(2026, 11, 24, 20, 55, tzinfo=timezone.utc)  # a Tuesday evening
LATER = NOW + timedelta(days=1)
AUTH = ("demo-client-id", "demo-client-key")


def emulated_seconds_over_a_short_sleep(emulator: Emulator) -> tuple[float, float, float]:
    """(emulated seconds elapsed, least and most real seconds that can have passed between the
    two readings of the emulator's clock)."""
    outer_start = time.monotonic()
    before = emulator.now()
    inner_start = time.monotonic()
    time.sleep(0.05)
    inner_end = time.monotonic()
    after = emulator.now()
    outer_end = time.monotonic()
    return (after - before).total_seconds(), inner_end - inner_start, outer_end - outer_start


def test_a_running_clock_moves_speed_emulated_seconds_per_real_second() -> None:
    emulator = Emulator(now=NOW, speed=600)
    emulated, least, most = emulated_seconds_over_a_short_sleep(emulator)
    assert 600 * least <= emulated <= 600 * most + 1e-3
    assert emulated >= 30  # 0.05 s of sleep at 600x


def test_a_running_clock_starts_at_now() -> None:
    before = time.monotonic()
    emulator = Emulator(now=NOW, speed=60)
    first = emulator.now()
    elapsed = time.monotonic() - before
    assert NOW <= first <= NOW + timedelta(seconds=60 * elapsed + 1e-3)


def test_a_speed_without_now_starts_at_the_real_time() -> None:
    real_before = datetime.now(timezone.utc)
    started = time.monotonic()
    emulator = Emulator(speed=60)
    reading = emulator.now()
    elapsed = time.monotonic() - started
    real_after = datetime.now(timezone.utc)
    assert real_before <= reading <= real_after + timedelta(seconds=60 * elapsed + 1e-3)


def test_without_a_speed_a_fixed_clock_stands_still() -> None:
    emulator = Emulator(now=NOW)
    emulated, _, _ = emulated_seconds_over_a_short_sleep(emulator)
    assert emulated == 0
    assert emulator.now() == NOW
    assert emulator.settings.speed is None


def test_advance_moves_a_running_clock_on_top_of_its_speed() -> None:
    emulator = Emulator(now=NOW, speed=60)
    emulator.advance(3600)
    assert emulator.now() >= NOW + timedelta(hours=1)


def test_a_new_speed_goes_on_from_where_the_clock_is() -> None:
    emulator = Emulator(now=NOW)
    emulator.advance(600)
    emulator.configure(speed=600)
    emulated, least, most = emulated_seconds_over_a_short_sleep(emulator)
    assert 600 * least <= emulated <= 600 * most + 1e-3
    assert emulator.now() >= NOW + timedelta(seconds=600 + emulated)


def test_speed_none_stops_a_running_clock_where_it_is() -> None:
    emulator = Emulator(now=NOW, speed=600)
    time.sleep(0.01)
    emulator.configure(speed=None)
    stopped = emulator.now()
    emulated, _, _ = emulated_seconds_over_a_short_sleep(emulator)
    assert emulated == 0
    assert stopped >= NOW + timedelta(seconds=6)  # 0.01 s at 600x before it stopped
    assert emulator.settings.now == stopped


def test_now_and_speed_together_restart_the_clock_at_now() -> None:
    emulator = Emulator(now=NOW, speed=60)
    emulator.advance(86_400 * 3)
    started = time.monotonic()
    emulator.configure(now=LATER, speed=60)
    reading = emulator.now()
    elapsed = time.monotonic() - started
    assert LATER <= reading <= LATER + timedelta(seconds=60 * elapsed + 1e-3)


def test_reset_restarts_the_construction_clock() -> None:
    emulator = Emulator(now=NOW)
    emulator.configure(speed=600)
    time.sleep(0.01)
    emulator.reset()
    assert emulator.now() == NOW
    assert emulator.settings.speed is None


def test_requests_are_answered_at_the_running_clock() -> None:
    emulator = Emulator(now=NOW, speed=600, audience="small")
    time.sleep(0.05)  # 30 emulated seconds at least
    with emulator.client() as api:
        api.get_real_time_data("plays", time_range=1)
    (logged,) = emulator.requests()
    assert logged.time >= NOW + timedelta(seconds=30)


@pytest.mark.parametrize(
    ("speed", "error"),
    [(0, QueryError), (-5, QueryError), (math.inf, QueryError), (math.nan, QueryError),
     ("60", TypeError), (True, TypeError)],
)  # fmt: skip
def test_a_speed_that_is_not_a_positive_number_is_refused(speed: object, error: type) -> None:
    with pytest.raises(error, match="speed"):
        Emulator(now=NOW, speed=speed)  # type: ignore[arg-type]
    with pytest.raises(error, match="speed"):
        Emulator(now=NOW).configure(speed=speed)  # type: ignore[arg-type]


def test_the_http_control_sets_and_shows_the_speed() -> None:
    emulator = Emulator(now=NOW)
    with httpx2.Client(transport=emulator.transport(), base_url="https://api.conviva.com") as http:
        shown = http.post(
            "/_emulator/config", json={"now": "2026-11-25T20:55:00Z", "speed": 600}
        ).json()
        time.sleep(0.01)
        now = http.post("/_emulator/advance", json={"seconds": 0}).json()["now"]
        refused = http.post("/_emulator/config", json={"speed": "fast"})
    assert (shown["now"], shown["speed"]) == ("2026-11-25T20:55:00Z", 600.0)
    assert now > "2026-11-25T20:55:05Z"  # 0.01 s at 600x; ISO instants sort as text
    assert refused.status_code == 400
    assert "speed" in refused.json()["message"]


@pytest.mark.network
def test_python_m_emulator_takes_speed() -> None:
    args = ["--port", "0", "--now", "2026-11-24T20:55:00Z", "--speed", "60", "--audience", "small"]
    process = subprocess.Popen(
        [sys.executable, "-m", "pyconviva.emulator", *args], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    try:
        url = [process.stdout.readline() for _ in range(4)][1].strip().split("=", 1)[1]
        config = httpx2.get(url + "/_emulator/config").json()
        reply = httpx2.get(
            url + "/insights/3.0/real-time-metrics/plays", params={"minutes": "1"}, auth=AUTH
        )
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert (config["now"], config["speed"]) == ("2026-11-24T20:55:00Z", 60.0)
    assert reply.status_code == 200
