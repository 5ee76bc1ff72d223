"""Fixtures of the command-line tests: a clean environment and an emulator behind a profile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyconviva.emulator import Emulator
from tests.cli.support import NOW, NOW_TEXT, SECRET


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


@pytest.fixture
def env(config_file: Path) -> dict[str, str | None]:
    """A clean environment: no credentials, a config file of the test's own, a fixed clock,
    and stdout not declared a terminal (whatever the shell running the tests declares)."""
    return {
        "PYCONVIVA_CONFIG": str(config_file),
        "PYCONVIVA_EMULATOR_NOW": NOW_TEXT,
        "CONVIVA_CLIENT_ID": None,
        "CONVIVA_CLIENT_KEY": None,
        "CONVIVA_CLIENT_SECRET": None,
        "CONVIVA_BASE_URL": None,
        "TTY_COMPATIBLE": None,
        "FORCE_COLOR": None,
    }


@pytest.fixture
def served(config_file: Path) -> Iterator[Emulator]:
    """An emulator on loopback with credentials of its own, reachable through profile 'test'."""
    emulator = Emulator(now=NOW, client_id="cli-test-id", client_key=SECRET)
    with emulator.serve() as url:
        config_file.write_text(
            f'[profiles.test]\nclient_id = "cli-test-id"\nclient_key = "{SECRET}"\n'
            f'base_url = "{url}"\n'
        )
        config_file.chmod(0o600)
        yield emulator
