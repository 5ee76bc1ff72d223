"""``conviva_async_api`` in a user's suite, in both pytest-asyncio modes, with no marker."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a user's pytest in a subprocess, twice

UNMARKED_ASYNC_TESTS = textwrap.dedent(
    """
    import pytest


    async def test_unmarked_async_test_gets_the_async_client(conviva_async_api):
        data = await conviva_async_api.get_real_time_data("attempts", time_range=5)
        assert "_meta" in data


    class TestInAClass:
        async def test_unmarked_method_too(self, conviva_async_api):
            assert (await conviva_async_api.get_kpis())["kpis"]


    @pytest.mark.asyncio
    async def test_a_marked_test_still_runs_once(conviva_async_api):
        assert (await conviva_async_api.get_kpis())["kpis"]
    """
)


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_async_tests_using_the_fixture_run_without_a_marker_in_either_mode(
    tmp_path: Path, mode: str
) -> None:
    (tmp_path / "test_user_async.py").write_text(UNMARKED_ASYNC_TESTS)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            f"asyncio_mode={mode}",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
