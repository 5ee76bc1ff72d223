"""pyconviva 0.1.0 from PyPI, in a virtual environment of its own, run through a driver script.

The old package and ours share the import name ``pyconviva``, so the old one lives in
``benchmarks/.legacy-venv`` (created on first use with ``python -m venv`` and
``pip install pyconviva==0.1.0``) and runs in a subprocess: ``_legacy_driver.py`` under that
environment's interpreter. Timings are taken inside the subprocess around the call loop only,
so interpreter start-up is not counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LEGACY_REQUIREMENT", "LegacyCall", "LegacyRun", "ensure_legacy_venv", "run_legacy"]

LEGACY_REQUIREMENT = "pyconviva==0.1.0"
HERE = Path(__file__).resolve().parent
VENV = HERE / ".legacy-venv"
DRIVER = HERE / "_legacy_driver.py"


@dataclass(frozen=True)
class LegacyCall:
    """One call of the 0.1.0 API, e.g. ``LegacyCall("get_historical_data", {"metrics": ...})``."""

    method: str
    kwargs: Mapping[str, Any]


@dataclass(frozen=True)
class LegacyRun:
    seconds: float  # the call loop, measured in the subprocess
    failures: dict[int, int]  # HTTP status -> calls that failed with it (keep_going only)
    replies: list[Any] | None  # the decoded replies, when asked for


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_legacy_venv() -> Path:
    """The legacy environment's interpreter; the environment is created when missing."""
    python = _python()
    if not python.exists():
        print(f"creating {VENV.relative_to(HERE.parent)} with {LEGACY_REQUIREMENT} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", LEGACY_REQUIREMENT], check=True
        )
    return python


def run_legacy(
    base_url: str,
    calls: Sequence[LegacyCall],
    *,
    client_id: str,
    client_key: str,
    ca_path: str | None = None,
    keep_going: bool = False,
    keep_replies: bool = False,
) -> LegacyRun:
    """Make ``calls`` with pyconviva 0.1.0, in order, against ``base_url``."""
    job = {
        "base_url": base_url,
        "ca_path": ca_path,
        "client_id": client_id,
        "client_key": client_key,
        "keep_going": keep_going,
        "keep_replies": keep_replies,
        "calls": [{"method": call.method, "kwargs": dict(call.kwargs)} for call in calls],
    }
    # -I: isolated mode, so neither PYTHONPATH nor the script's folder can put our package
    # in front of the legacy one.
    finished = subprocess.run(
        [str(ensure_legacy_venv()), "-I", str(DRIVER)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the pyconviva 0.1.0 driver failed:\n{finished.stderr.strip()}")
    report = json.loads(finished.stdout)
    return LegacyRun(
        seconds=report["seconds"],
        failures={int(status): count for status, count in report["failures"].items()},
        replies=report["replies"],
    )
