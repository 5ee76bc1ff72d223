"""The emulator at a large account's scale, against the targets of issue 13, audiences side by side.

Each audience runs in a fresh process (so that building its data set, the first request and the
peak memory are its own), through the public seams a user has:
  * first:    ``Emulator(...)`` plus its first request (a one-day group-by by city, limit 500),
              building included; the import of ``pyconviva.emulator`` is shown apart
  * day-500:  that one-day group-by of up to 500 rows, in process (in-process transport), warm
  * 90d-cap:  90 days hourly by city, three metrics, ``limit`` the largest (up to 50) whose reply
              stays under the 5,700,000-byte cap, over a loopback server, cold then warm
  * peak MB:  the process's peak resident memory after all of the above
Targets: first <= 1000 ms, day-500 <= 50 ms, 90d-cap <= 1000 ms, peak <= 300 MB.

Run: python benchmarks/bench_emulator_scale.py [--repeat 5] [--audiences small,large]
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
BY_CITY = "/insights/3.0/metrics/custom-selection/group-by/geo-city-name"
DAY_500 = ("/insights/3.0/metrics/attempts/group-by/geo-city-name", {"days": "1", "limit": "500"})
THREE = [("metric", "attempts"), ("metric", "plays"), ("metric", "bitrate")]
TARGETS = {"first ms": 1000.0, "day-500 ms": 50.0, "90d-cap warm ms": 1000.0, "peak MB": 300.0}


def _ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    return statistics.median(_ms(call) for _ in range(repeat))


def _ninety_days(limit: int) -> list[tuple[str, str]]:
    return [*THREE, ("days", "90"), ("granularity", "PT1H"), ("limit", str(limit))]


def child(audience: str, repeat: int) -> dict[str, Any]:
    """One audience's figures, measured in this (fresh) process."""
    started = time.perf_counter()
    import httpx2

    from pyconviva.emulator import Emulator

    imported = (time.perf_counter() - started) * 1000
    options: dict[str, Any] = {"now": NOW}
    if "audience" in inspect.signature(Emulator).parameters:
        options["audience"] = audience
    auth = ("demo-client-id", "demo-client-key")
    figures: dict[str, Any] = {"import ms": imported}

    path, params = DAY_500
    started = time.perf_counter()
    emulator = Emulator(**options)
    with httpx2.Client(transport=emulator.transport(), auth=auth, base_url="http://emu") as api:
        first = api.get(path, params=params)
        figures["first ms"] = (time.perf_counter() - started) * 1000
        figures["day-500 rows"] = max(
            len(bucket["dimensional_data"]) for bucket in first.json()["time_series"]
        )
        figures["day-500 ms"] = _median_ms(lambda: api.get(path, params=params), repeat)

        # The largest limit under the cap: 413 above it (sizes grow with the limit).
        low, high = 1, 50
        while low < high:
            middle = (low + high + 1) // 2
            status = api.get(BY_CITY, params=_ninety_days(middle)).status_code
            low, high = (middle, high) if status == 200 else (low, middle - 1)
        figures["90d-cap limit"] = low

    fresh = Emulator(**{**options, "seed": 1})  # a seed not yet used: cold tables
    with fresh.serve() as url, httpx2.Client(base_url=url, auth=auth, timeout=60) as api:
        query = _ninety_days(figures["90d-cap limit"])
        reply: list[httpx2.Response] = []
        figures["90d-cap cold ms"] = _ms(lambda: reply.append(api.get(BY_CITY, params=query)))
        figures["90d-cap bytes"] = len(reply[0].content)
        figures["90d-cap status"] = reply[0].status_code
        figures["90d-cap warm ms"] = _median_ms(lambda: api.get(BY_CITY, params=query), repeat)
    figures["peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--audiences", default="small,large")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat)))
        return
    audiences = args.audiences.split(",")
    results = {}
    for audience in audiences:
        done = subprocess.run(
            [sys.executable, __file__, "--child", audience, "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[audience] = json.loads(done.stdout)
    rows = list(results[audiences[0]])
    print(f"{'figure':18}" + "".join(f"{a:>12}" for a in audiences) + f"{'target':>10}", end="")
    print(f"{audiences[-1] + '/' + audiences[0]:>14}" if len(audiences) > 1 else "")
    for row in rows:
        values = [results[a][row] for a in audiences]
        cells = "".join(f"{v:>12,.1f}" if isinstance(v, float) else f"{v:>12,}" for v in values)
        target = f"{TARGETS[row]:>10,.0f}" if row in TARGETS else f"{'':>10}"
        ratio = ""
        if len(values) > 1 and isinstance(values[0], float) and values[0]:
            ratio = f"{values[-1] / values[0]:>14.2f}"
        print(f"{row:18}{cells}{target}{ratio}")


if __name__ == "__main__":
    main()
