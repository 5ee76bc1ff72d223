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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import httpx2

__all__ = ["RunningEmulator", "emulator_process"]

_STARTUP_LINES = 10  # the CLI prints its URL and credentials in its first few lines


@dataclass(frozen=True)
class RunningEmulator:
    base_url: str
    client_id: str
    client_key: str

    def _control(self, method: str, route: str, body: object = None) -> Any:
        reply = httpx2.request(
            method, f"{self.base_url}/_emulator/{route}", json=body, timeout=30.0
        )
        reply.raise_for_status()
        return reply.json()

    def warm_up(self, path: str, params: Mapping[str, str]) -> None:
        """Send one request untimed: the first one builds the emulator's data tables (about
        170 ms here), which a timed run should not be charged for."""
        reply = httpx2.get(
            f"{self.base_url}{path}",
            params=params,
            auth=(self.client_id, self.client_key),
            timeout=30.0,
        )
        reply.raise_for_status()

    def restart(self, **settings: object) -> None:
        """Clear the request log and rate-limit windows, then apply ``settings`` (``latency``,
        ``rate_limit``, ...) over the ones the process started with."""
        self._control("POST", "reset")
        self._control("POST", "config", settings)

    def statuses(self) -> Counter[int | None]:
        """How many data-plane requests got each status (None: connection dropped)."""
        log = self._control("GET", "requests")["requests"]
        return Counter(entry["status"] for entry in log)


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
def emulator_process(*, now: datetime) -> Iterator[RunningEmulator]:
    """Serve the emulator on a free loopback port with a fixed clock, for the ``with`` block.

    It starts without latency or rate limit; :meth:`RunningEmulator.restart` sets them.
    """
    command = [sys.executable, "-m", "pyconviva.emulator", "--port", "0", "--now", now.isoformat()]
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
