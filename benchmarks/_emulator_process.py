"""The emulator in a process of its own (``python -m pyconviva.emulator``), as a remote API is.

In the benchmark's own process the emulator's request handling (milliseconds of Python a
request) would compete with the client under test for one interpreter lock, and the client
would be charged for the server's work. Its request log is read over the control plane
(``GET /_emulator/requests``), the same log ``Emulator.requests()`` returns in process.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import httpx2

__all__ = ["RunningEmulator", "emulator_process"]

_STARTUP_LINES = 10  # the CLI prints its URL and credentials in its first few lines


@dataclass(frozen=True)
class RunningEmulator:
    base_url: str
    client_id: str
    client_key: str

    def statuses(self) -> Counter[int | None]:
        """How many data-plane requests got each status (None: connection dropped)."""
        reply = httpx2.get(f"{self.base_url}/_emulator/requests", timeout=30.0)
        reply.raise_for_status()
        return Counter(entry["status"] for entry in reply.json()["requests"])


def _announced(process: subprocess.Popen[str], errors: IO[str]) -> dict[str, str]:
    """The ``NAME=value`` lines the CLI prints once it is serving."""
    assert process.stdout is not None
    values: dict[str, str] = {}
    for _ in range(_STARTUP_LINES):
        line = process.stdout.readline()
        if not line:
            break
        name, sep, value = line.strip().partition("=")
        if sep:
            values[name] = value
        if {"CONVIVA_BASE_URL", "CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_KEY"} <= values.keys():
            return values
    process.kill()
    process.wait()
    errors.seek(0)
    raise RuntimeError(f"the emulator did not start:\n{errors.read().strip()}")


@contextmanager
def emulator_process(
    *, now: datetime, latency: float = 0.0, rate_limit: float | None = None
) -> Iterator[RunningEmulator]:
    """Serve the emulator on a free loopback port with a fixed clock, for the ``with`` block."""
    command = [sys.executable, "-m", "pyconviva.emulator", "--port", "0"]
    command += ["--now", now.isoformat(), "--latency", str(latency)]
    if rate_limit is not None:
        command += ["--rate-limit", str(rate_limit)]
    # stderr goes to a file: a pipe nobody reads could fill up and stall the server.
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            values = _announced(process, errors)
            yield RunningEmulator(
                values["CONVIVA_BASE_URL"],
                values["CONVIVA_CLIENT_ID"],
                values["CONVIVA_CLIENT_KEY"],
            )
        finally:
            process.terminate()
            process.communicate(timeout=10)
