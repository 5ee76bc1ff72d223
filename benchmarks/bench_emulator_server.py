"""How fast the emulator answers: pure service, in-process transport, loopback server.

Two queries, each timed side by side on the three paths in one run:
  * big:   90 days, hourly, grouped by isp, three metrics (attempts, plays, bitrate)
  * small: one day of one metric (attempts)
The loopback client is one kept-alive httpx2.Client, so the figures include HTTP/1.1 framing
and the socket but no connection set-up; a last row times a tiny control-plane reply, which is
the wire's own cost. "svc share" is the pure service's part of the loopback time. The paths are
timed in turns (medians). A short cProfile of the in-process path (the same handler, minus the
socket) then shows what dominates.

Run: python benchmarks/bench_emulator_server.py [--repeat-big 5] [--repeat-small 200]
     [--audience small|large]   (default large; the big query is by ISP, which at the large
     audience's scale no longer fits in one reply: use --audience small for the 5 MB reply)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from functools import partial

import httpx2

from pyconviva.emulator import Emulator
from pyconviva.emulator._service import EmulatorRequest, MetricsService

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
AUTH = ("demo-client-id", "demo-client-key")
CONFIG = "/_emulator/config"
HEADERS = {"authorization": "Basic ZGVtby1jbGllbnQtaWQ6ZGVtby1jbGllbnQta2V5"}

QUERIES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "big (90 d hourly, by isp, 3 metrics)": (
        "/insights/3.0/metrics/custom-selection/group-by/isp",
        (
            ("metric", "attempts"),
            ("metric", "plays"),
            ("metric", "bitrate"),
            ("days", "90"),
            ("granularity", "PT1H"),
        ),
    ),
    "small (1 d, 1 metric)": ("/insights/3.0/metrics/attempts", (("days", "1"),)),
}


def median_ms(calls: Sequence[Callable[[], object]], repeat: int) -> list[float]:
    """Median milliseconds of each call, taken in turns so that a busy machine skews all alike."""
    times: list[list[float]] = [[] for _ in calls]
    for call in calls:
        call()  # warm-up: caches, connection, first-use imports
    for turn in range(repeat):
        for index in range(len(calls)):
            which = (turn + index) % len(calls)  # rotate who goes first: caches warm up alike
            started = time.perf_counter()
            calls[which]()
            times[which].append(time.perf_counter() - started)
    return [statistics.median(taken) * 1000 for taken in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat-big", type=int, default=7)
    parser.add_argument("--repeat-small", type=int, default=200)
    parser.add_argument("--audience", default="large")
    args = parser.parse_args()

    emulator = Emulator(now=NOW, audience=args.audience)
    print(f"audience: {args.audience}")
    service = MetricsService(emulator.settings.service_settings())
    in_process = httpx2.Client(transport=emulator.transport(), auth=AUTH, base_url="http://emu")

    print(f"{'query':40} {'bytes':>10} {'service ms':>11} {'in-proc ms':>11} {'loopback ms':>12}"
          f" {'in-proc/svc':>12} {'loop/in-proc':>13} {'svc share':>10}")  # fmt: skip
    with emulator.serve() as url, httpx2.Client(base_url=url, auth=AUTH) as over_socket:
        for name, (path, query) in QUERIES.items():
            repeat = args.repeat_big if name.startswith("big") else args.repeat_small
            request = EmulatorRequest(method="GET", path=path, query=query, headers=HEADERS)
            reply = service.handle(request, NOW)
            socket_reply = over_socket.get(path, params=list(query))
            assert socket_reply.content == reply.body, "loopback and service disagree"
            pure, wired, looped = median_ms(
                [
                    partial(service.handle, request, NOW),
                    partial(in_process.get, path, params=list(query)),
                    partial(over_socket.get, path, params=list(query)),
                ],
                repeat,
            )
            print(
                f"{name:40} {len(reply.body):>10} {pure:>11.2f} {wired:>11.2f} {looped:>12.2f}"
                f" {wired / pure:>12.2f} {looped / wired:>13.2f} {pure / looped:>10.0%}"
                f"   (status {reply.status})"
            )
        # The wire alone: a tiny control-plane reply, no service work.
        wired, looped = median_ms(
            [partial(in_process.get, CONFIG), partial(over_socket.get, CONFIG)], args.repeat_small
        )
        size = len(over_socket.get(CONFIG).content)
        print(
            f"{'wire only (GET ' + CONFIG + ')':40} {size:>10} {'-':>11} {wired:>11.2f}"
            f" {looped:>12.2f} {'-':>12} {looped / wired:>13.2f}"
        )

    big_path, big_query = next(iter(QUERIES.values()))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(2):
        in_process.get(big_path, params=list(big_query))
    profiler.disable()
    in_process.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    print("\nWhere the time goes (in-process, big query x2, by own time):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:4000])


if __name__ == "__main__":
    main()
