"""How fast the pure emulator service answers (MetricsService.handle, no transport).

Queries, each timed cold (a fresh data model of a new seed: the per-segment count tables are
built on first use) and warm (the same service again), in one run:
  * big:      90 days hourly, grouped by isp, three metrics (attempts, plays, bitrate)
  * small:    one day of one metric
  * minutely: 24 hours at PT1M of three metrics (counts within hours take the slower path)
  * 413:      90 days hourly of quality-summary by cdn-edge-server (stops at the size cap)
Beside the warm figure: what ``json.dumps`` of the same reply content costs alone, to show what
writing the JSON text directly saves. Each query runs on both audiences, the small one (240
segments) and the large one (the default: a large service's thousands of values), side by side;
at the large audience's scale the 90-day group-by by ISP no longer fits in one reply (413).

Run: python benchmarks/bench_emulator_service.py [--repeat 5] [--audiences small,large]
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timezone

from pyconviva.emulator._service import EmulatorRequest, MetricsService, ServiceSettings

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)
HEADERS = {"authorization": "Basic " + base64.b64encode(b"demo-client-id:demo-client-key").decode()}
METRICS = (("metric", "attempts"), ("metric", "plays"), ("metric", "bitrate"))

QUERIES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "big (90 d hourly, by isp, 3 metrics)": (
        "/insights/3.0/metrics/custom-selection/group-by/isp",
        (*METRICS, ("days", "90")),
    ),
    "small (1 d, 1 metric)": ("/insights/3.0/metrics/attempts", (("days", "1"),)),
    "minutely (24 h PT1M, 3 metrics)": (
        "/insights/3.0/metrics/custom-selection",
        (
            *METRICS,
            ("start_date", "2025-01-09T12:00:00Z"),
            ("end_date", "2025-01-10T12:00:00Z"),
            ("granularity", "PT1M"),
        ),
    ),
    "413 (90 d quality-summary by edge)": (
        "/insights/3.0/metrics/quality-summary/group-by/cdn-edge-server",
        (("days", "90"),),
    ),
}
_seeds = itertools.count(1000)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def median_ms(call: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed(call) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--audiences", default="small,large")
    args = parser.parse_args()
    print(
        f"{'query':38} {'audience':>8} {'status':>6} {'bytes':>9} {'cold ms':>9} {'warm ms':>9}"
        f" {'cold/warm':>10} {'json.dumps ms':>14} {'dumps/warm':>11}"
    )
    for (name, (path, query)), audience in itertools.product(
        QUERIES.items(), args.audiences.split(",")
    ):
        request = EmulatorRequest("GET", path, query, HEADERS)
        fresh = MetricsService(ServiceSettings(seed=next(_seeds), audience=audience))
        cold = timed(lambda s=fresh, r=request: s.handle(r, NOW))
        reply = fresh.handle(request, NOW)
        warm = median_ms(lambda s=fresh, r=request: s.handle(r, NOW), args.repeat)
        content = json.loads(reply.body)
        dumps = median_ms(lambda c=content: json.dumps(c, separators=(",", ":")), args.repeat)
        print(
            f"{name:38} {audience:>8} {reply.status:>6} {len(reply.body):>9,} {cold:>9.1f}"
            f" {warm:>9.1f} {cold / warm:>10.2f} {dumps:>14.1f} {dumps / warm:>11.2f}"
        )


if __name__ == "__main__":
    main()
