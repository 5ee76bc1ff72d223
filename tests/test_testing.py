"""pyconviva.testing: a client wired to the emulator in one line; pytest fixtures for users."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyconviva import ConvivaAPI
from pyconviva._exceptions import ServerError
from pyconviva.emulator import Emulator, StatusFault
from pyconviva.testing import (
    FIXED_NOW,
    RecordingTransport,
    ReplayTransport,
    UnrecordedRequestError,
    emulated_async_client,
    emulated_client,
)


def test_emulated_client_answers_a_readme_call_at_the_fixed_clock() -> None:
    with emulated_client() as api:
        assert isinstance(api, ConvivaAPI)
        data = api.get_historical_data("attempts", group_by="isp", time_range=5)
    assert data["time_series"]
    assert "_meta" in data


def test_emulated_client_uses_the_given_emulator_and_client_options() -> None:
    emulator = Emulator(now=FIXED_NOW)
    emulator.add_faults(StatusFault(status=503))
    with emulated_client(emulator, max_retries=0) as api, pytest.raises(ServerError) as caught:
        api.get_historical_data("attempts", time_range=1)
    assert caught.value.status_code == 503
    assert [entry.status for entry in emulator.requests()] == [503]


async def test_emulated_async_client_gives_the_same_data_as_the_sync_one() -> None:
    with emulated_client() as api:
        expected = dict(api.get_historical_data(["attempts", "plays"], time_range=2))
    async with emulated_async_client() as api:
        got = dict(await api.get_historical_data(["attempts", "plays"], time_range=2))
    assert got == expected


def test_recorded_replies_replay_through_the_testing_names(tmp_path: Path) -> None:
    cassette = tmp_path / "conviva.jsonl"
    emulator = Emulator(now=FIXED_NOW, audience="small")
    with emulator.client(transport=RecordingTransport(cassette, emulator.transport())) as api:
        recorded = dict(api.get_historical_data("attempts", group_by="isp", time_range=1))
    with ConvivaAPI("any-key", "any-id", transport=ReplayTransport(cassette)) as api:
        assert dict(api.get_historical_data("attempts", group_by="isp", time_range=1)) == recorded
        with pytest.raises(UnrecordedRequestError, match="no recorded reply"):
            api.get_historical_data("plays", time_range=1)


def test_the_recording_names_are_those_of_pyconviva_recording() -> None:
    from pyconviva import recording, testing

    assert testing.RecordingTransport is recording.RecordingTransport
    assert testing.ReplayTransport is recording.ReplayTransport
    assert testing.UnrecordedRequestError is recording.UnrecordedRequestError
    assert {"RecordingTransport", "ReplayTransport", "UnrecordedRequestError"} <= set(
        testing.__all__
    )
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        testing.NoSuchName  # noqa: B018


def test_emulator_client_shares_the_emulator_clock() -> None:
    emulator = Emulator(now=FIXED_NOW)
    with emulator.client() as api:
        api.get_historical_data("attempts", time_range=1)
    (entry,) = emulator.requests()
    assert entry.time == FIXED_NOW
    assert entry.status == 200


USER_CONFTEST = 'pytest_plugins = ["pyconviva.testing"]\n'

USER_TESTS = textwrap.dedent(
    """
    import httpx2
    import pytest

    from pyconviva.emulator import DropConnection


    def test_conviva_api_is_wired_to_the_emulator(conviva_api, conviva_emulator):
        data = conviva_api.get_historical_data("attempts", group_by="isp", time_range=5)
        assert data["time_series"]
        assert [entry.path for entry in conviva_emulator.requests()] == [
            "/insights/3.0/metrics/attempts/group-by/isp"
        ]


    def test_my_code_survives_a_dropped_connection(conviva_api, conviva_emulator):
        conviva_emulator.add_faults(DropConnection())
        assert conviva_api.get_historical_data("attempts", time_range=1)["time_series"]
        assert [entry.fault for entry in conviva_emulator.requests()] == ["drop", None]


    @pytest.fixture
    def conviva_emulator_options():
        return {"seed": 9}


    def test_options_fixture_can_be_overridden(conviva_emulator):
        assert conviva_emulator.settings.seed == 9
        assert conviva_emulator.settings.now is None


    def test_emulator_url_serves_over_loopback(conviva_emulator_url):
        assert httpx2.get(conviva_emulator_url + "/_emulator/config").json()["seed"] == 9


    @pytest.mark.asyncio
    async def test_async_api(conviva_async_api):
        data = await conviva_async_api.get_real_time_data("attempts", time_range=5)
        assert "_meta" in data
    """
)


def _run_user_suite(directory: Path) -> subprocess.CompletedProcess[str]:
    (directory / "test_user.py").write_text(USER_TESTS)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_fixtures_reach_a_users_suite_with_no_configuration(tmp_path: Path) -> None:
    done = _run_user_suite(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


@pytest.mark.slow
def test_an_explicit_pytest_plugins_line_still_works_beside_the_entry_point(
    tmp_path: Path,
) -> None:
    (tmp_path / "conftest.py").write_text(USER_CONFTEST)
    done = _run_user_suite(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_the_plugin_is_registered_under_its_module_name() -> None:
    from importlib.metadata import entry_points

    (plugin,) = [e for e in entry_points(group="pytest11") if e.value == "pyconviva.testing"]
    assert plugin.name == "pyconviva.testing"


def test_importing_the_plugin_loads_neither_httpx2_nor_the_emulator() -> None:
    code = (
        "import sys, pytest, pyconviva.testing\n"
        "heavy = {'httpx2', 'pyconviva.emulator', 'pyconviva._client', 'pyconviva.recording'}\n"
        "heavy &= set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_testing_imports_without_pytest(tmp_path: Path) -> None:
    blocker = tmp_path / "pytest.py"
    blocker.write_text("raise ImportError('pytest is not installed here')\n")
    code = (
        "import pyconviva.testing as t\n"
        "assert not hasattr(t, 'conviva_api')\n"
        "with t.emulated_client() as api: api.get_historical_data('attempts', time_range=1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
