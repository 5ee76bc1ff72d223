"""What the command-line tests share: the fixed clock, the test key, and running a command as
from a pipe, from a terminal, or as the installed script in a process of its own."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner, Result

from pyconviva.cli.commands import app

NOW_TEXT = "2026-11-20T12:34:56Z"
NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=timezone.utc)
SECRET = "k3y-that-must-never-be-printed"

SCRIPT = Path(sys.executable).with_name("pyconviva")  # the installed console script
WAIT = 20.0  # seconds: the bound on waiting for a child process, never a timing assumption

# A terminal as rich sees one, declared through the environment (no real TTY needed): stdout
# counts as a terminal (TTY_COMPATIBLE, rich's convention), of 80 columns without colours
# (TERM=dumb).
TERMINAL = {"TTY_COMPATIBLE": "1", "TERM": "dumb", "COLUMNS": None, "FORCE_COLOR": None}
# A colour terminal of 120 columns, for layouts that need the width (escapes are stripped).
WIDE_TERMINAL = {"TTY_COMPATIBLE": "1", "TERM": "xterm-256color", "COLUMNS": "120"}
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run(env: Mapping[str, str | None], *args: str, charset: str = "utf-8") -> Result:
    """The command as from a pipe (click's runner: stdout is not a terminal)."""
    return CliRunner(charset=charset).invoke(app, list(args), env=dict(env), catch_exceptions=False)


def run_in_terminal(
    env: Mapping[str, str | None], *args: str, terminal: Mapping[str, str | None] = TERMINAL
) -> Result:
    """The command as from a terminal: what it writes, without colour escapes, is in
    ``stdout``."""
    return run({**env, **terminal}, *args)


def without_escapes(text: str) -> str:
    return _ESCAPES.sub("", text)


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process: no credentials or settings of the shell running the
    tests, and a config file of the test's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CONVIVA_", "PYCONVIVA_"))
    }
    env["PYCONVIVA_CONFIG"] = str(tmp_path / "config.toml")
    env.update(extra)
    return env
