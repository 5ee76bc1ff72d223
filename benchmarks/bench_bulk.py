"""Client cost, bulk throughput and long ranges: pyconviva against pyconviva 0.1.0, side by side.

Three parts, each timed in one run and printed as ratios in one table:

1. Client cost. 300 small sequential queries against a loopback HTTPS server that answers from a
   canned reply (so server time is negligible): ours vs a bare, kept-alive ``httpx2.Client``
   issuing the same GETs and decoding the JSON (the floor), and vs pyconviva 0.1.0 (a new
   connection, so a TLS handshake, per call). Ours and bare httpx2 alternate over several
   rounds and the best round of each is compared: the machine may be shared, and the fastest
   round is the one least disturbed by other work.
2. Bulk under latency. 120 one-day queries against the emulator with 100 ms latency and its
   rate limit enforced: ours (``get_many``, 16 in flight) vs the sequential loop with 0.1.0, in
   two regimes:
   a. the published limits (400 a minute; a batch of 120 fits the budget, so latency and
      concurrency bound the run): ours against the exact bound and against a bare httpx2 client
      on 16 threads (the floor), and the speed-up over the loop;
   b. the limits scaled to a quarter (100 a minute, 750 per 5 minutes per IP; emulator and our
      limiter alike) so that the limit binds: ours against the exact bound, and the 429s each
      side receives. The emulator scales budgets, not windows, so this regime takes a minute.
   One set of conditions cannot show both targets: a sequential loop that receives no 429
   stays under the limit, so a run bound by that limit cannot be 10x faster than the loop.
3. A 365-day hourly group-by, without and with 100 ms latency: ours in one call (split into
   legal windows, fetched concurrently, merged) vs the manual 90-day-window loop with 0.1.0;
   the ratio and whether both return identical rows.

pyconviva 0.1.0 (PyPI) runs in its own virtual environment, ``benchmarks/.legacy-venv``, created
on first use (needs PyPI). In parts 2 and 3 the emulator runs in a process of its own, as a
remote API would, with a fixed clock; every run gets a fresh emulator, so rate-limit windows
start empty. Every timing covers the query loop only, not interpreter start-up. A part whose
features have not landed yet prints why and is skipped.

Run: python benchmarks/bench_bulk.py [--parts 1,2,3] [--rounds 7] [--bulk-rounds 3]
(about 2.5 minutes, most of it the minute-long window of part 2b)
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import ssl
import textwrap
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2
from _emulator_process import RunningEmulator, emulator_process
from _legacy import LegacyCall, LegacyRun, run_legacy
from _schedule import Budget, ideal_finish
from _tls_server import serve_canned

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)  # the emulator's fixed clock
SMALL_QUERIES = 300
BULK_QUERIES = 120
ATTEMPTS_PATH = "/insights/3.0/metrics/attempts"
LATENCY = 0.1
BULK_CONCURRENCY = 16
BINDING_SCALE = 0.25
LONG_RANGE_DAYS = 365
LEGACY_WINDOW_DAYS = 90
PUBLISHED_BUDGETS = (Budget(400, 60.0), Budget(3000, 300.0))  # historical per account; per IP

# Part 1's credentials: the canned server does not check them.
CLIENT_ID = "bench-client-id"
CLIENT_KEY = "bench-client-key"


class NotAvailable(Exception):
    """A feature a part needs has not landed in the package yet."""


@dataclass(frozen=True)
class Row:
    part: str
    measure: str
    ours: str
    comparator: str
    theirs: str
    ratio: str
    target: str
    result: str


@dataclass(frozen=True)
class Section:
    rows: list[Row]
    notes: list[str]  # how the part was set up, printed under the table


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def seconds(value: float) -> str:
    return f"{value:.3f} s"


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- what the parts need from the package -------------------------------------------------------


def ours(module: str, name: str) -> Any:
    """``module.name`` from our package, or NotAvailable naming what is missing."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise NotAvailable(f"{module}.{name} cannot be imported ({exc})") from exc


def require_parameter(function: Callable[..., Any], parameter: str, owner: str) -> None:
    if parameter not in inspect.signature(function).parameters:
        raise NotAvailable(f"{owner} has no {parameter}= parameter")


def require_emulator() -> None:
    """The emulator runs in a process of its own (``_emulator_process``); it must import."""
    ours("pyconviva.emulator", "Emulator")


def require_method(cls: type, method: str) -> None:
    if not callable(getattr(cls, method, None)):
        raise NotAvailable(f"{cls.__name__}.{method} does not exist")


# -- part 1: client cost --------------------------------------------------------------------------


def canned_reply() -> bytes:
    """A realistic small reply: one day of hourly ``attempts``."""
    day = datetime(2025, 6, 1, tzinfo=timezone.utc)
    starts = [day + timedelta(hours=hour) for hour in range(24)]
    counts = [1500 + 37 * hour for hour in range(24)]
    buckets = [
        {
            "timestamp": {"epoch_ms": int(start.timestamp() * 1000), "iso_date": iso(start)},
            "attempts": {"count": count},
        }
        for start, count in zip(starts, counts, strict=True)
    ]
    reply = {"_meta": {}, "time_series": buckets, "total": {"attempts": {"count": sum(counts)}}}
    return json.dumps(reply).encode()


def normalised(target: str) -> str:
    """A request target with its query pairs sorted (clients may order them freely)."""
    path, _, query = target.partition("?")
    return path + "?" + "&".join(sorted(query.split("&")))


def part_client_cost(rounds: int) -> Section:
    convivaapi = ours("pyconviva", "ConvivaAPI")
    with serve_canned(canned_reply()) as server:
        url = f"{server.base_url}{ATTEMPTS_PATH}"

        # A fresh client per round, warmed by one untimed call (connection, TLS, first-use
        # imports): one round (301 calls) stays within the default limiter's 400 a minute,
        # which would otherwise pause a client that keeps going for the rest of the minute.
        def ours_round(rate_limit: bool) -> float:
            with convivaapi(
                client_key=CLIENT_KEY,
                client_id=CLIENT_ID,
                base_url=server.base_url,
                verify=server.ca_path,
                rate_limit=rate_limit,
            ) as api:
                api.get_historical_data("attempts", time_range=1)
                started = time.perf_counter()
                for _ in range(SMALL_QUERIES):
                    api.get_historical_data("attempts", time_range=1)
                return time.perf_counter() - started

        def bare_round() -> float:
            with httpx2.Client(
                verify=ssl.create_default_context(cafile=server.ca_path),
                auth=(CLIENT_ID, CLIENT_KEY),
                timeout=30.0,
            ) as bare:
                bare.get(url, params={"days": "1"}).json()
                started = time.perf_counter()
                for _ in range(SMALL_QUERIES):
                    response = bare.get(url, params={"days": "1"})
                    response.raise_for_status()
                    response.json()
                return time.perf_counter() - started

        bare_times, ours_times, unlimited_times = [], [], []
        for _ in range(rounds):
            bare_times.append(bare_round())
            ours_times.append(ours_round(rate_limit=True))
            unlimited_times.append(ours_round(rate_limit=False))
        targets = {normalised(target) for target in server.targets}
        ours_connections = server.connections
        server.reset()
        calls = [LegacyCall("get_historical_data", {"metrics": "attempts", "time_range": 1})]
        legacy = run_legacy(
            server.base_url,
            calls * SMALL_QUERIES,
            client_id=CLIENT_ID,
            client_key=CLIENT_KEY,
            ca_path=server.ca_path,
        )
        targets |= {normalised(target) for target in server.targets}
        legacy_connections = server.connections

    ours_s, bare_s, unlimited_s = min(ours_times), min(bare_times), min(unlimited_times)
    measure = f"{SMALL_QUERIES} GETs, loopback HTTPS"
    notes = [
        f"1: every client asks GET /insights/3.0/metrics/attempts?days=1 with basic auth; the "
        f"server answers a canned {len(canned_reply())}-byte reply (24 hourly buckets). Ours "
        "returns a MetricsResult; bare httpx2 decodes the JSON; 0.1.0 returns the decoded dict."
    ]
    rows = [
        Row(
            "1",
            f"{measure} (best of {rounds})",
            seconds(ours_s),
            "bare httpx2",
            seconds(bare_s),
            f"ours/bare {ours_s / bare_s:.2f}x",
            "<= 1.15x",
            verdict(ours_s <= 1.15 * bare_s),
        ),
        Row(
            "1",
            f"{measure}, ours with rate_limit=False",
            seconds(unlimited_s),
            "bare httpx2",
            seconds(bare_s),
            f"ours/bare {unlimited_s / bare_s:.2f}x",
            "",
            "info",
        ),
        Row(
            "1",
            measure,
            seconds(ours_s),
            "pyconviva 0.1.0",
            seconds(legacy.seconds),
            f"0.1.0/ours {legacy.seconds / ours_s:.2f}x",
            ">= 4x",
            verdict(legacy.seconds >= 4 * ours_s),
        ),
        Row(
            "1",
            "TLS handshakes",
            f"{ours_connections} (1 per client per round)",
            "pyconviva 0.1.0",
            str(legacy_connections),
            "",
            "",
            "info",
        ),
        Row(
            "1",
            "one and the same GET from all three clients",
            "",
            "",
            "",
            f"{len(targets)} distinct",
            "1 distinct",
            verdict(len(targets) == 1),
        ),
    ]
    return Section(rows, notes)


# -- part 2: bulk under latency and the rate limit ------------------------------------------------


def day_ranges(count: int) -> list[dict[str, str]]:
    """``count`` one-day ranges, the most recent first, as 0.1.0 and ours both accept them."""
    last = NOW.replace(hour=0)
    return [
        {"start_date": iso(last - timedelta(days=i + 1)), "end_date": iso(last - timedelta(days=i))}
        for i in range(count)
    ]


def scaled(budgets: Iterable[Budget], scale: float) -> list[Budget]:
    return [Budget(max(1, int(b.requests * scale)), b.window) for b in budgets]


@dataclass(frozen=True)
class BulkRun:
    seconds: float
    statuses: Counter[int | None]  # from the emulator's request log


class BulkBench:
    """The batch of part 2 against one emulator, each run from an empty log and empty windows."""

    def __init__(self, emulator: RunningEmulator, ranges: list[dict[str, str]]) -> None:
        self.emulator = emulator
        self.ranges = ranges
        self.convivaapi = ours("pyconviva", "ConvivaAPI")
        self.query_spec = ours("pyconviva", "QuerySpec")
        self.rate_limiter = ours("pyconviva", "RateLimiter")
        require_method(self.convivaapi, "get_many")
        require_parameter(self.convivaapi, "rate_limit", "ConvivaAPI")

    def _run(self, scale: float, send: Callable[[], float]) -> BulkRun:
        self.emulator.restart(latency=LATENCY, rate_limit=scale)
        elapsed = send()
        return BulkRun(elapsed, self.emulator.statuses())

    def ours(self, scale: float) -> BulkRun:
        specs = [self.query_spec.historical("attempts", time_range=r) for r in self.ranges]

        def send() -> float:
            with self.convivaapi(
                client_key=self.emulator.client_key,
                client_id=self.emulator.client_id,
                base_url=self.emulator.base_url,
                clock=lambda: NOW,
                rate_limit=self.rate_limiter(scale=scale),
            ) as api:
                started = time.perf_counter()
                batch = api.get_many(specs, max_concurrency=BULK_CONCURRENCY)
                elapsed = time.perf_counter() - started
            batch.raise_for_errors()
            return elapsed

        return self._run(scale, send)

    def bare_threads(self, scale: float) -> BulkRun:
        """The floor: a kept-alive httpx2 client on a pool of threads, no limiter, no retries."""
        auth = (self.emulator.client_id, self.emulator.client_key)
        url = f"{self.emulator.base_url}{ATTEMPTS_PATH}"

        def send() -> float:
            with (
                httpx2.Client(auth=auth, limits=httpx2.Limits(max_connections=32)) as client,
                ThreadPoolExecutor(BULK_CONCURRENCY) as pool,
            ):

                def get(params: Mapping[str, str]) -> None:
                    response = client.get(url, params=params)
                    response.raise_for_status()
                    response.json()

                started = time.perf_counter()
                list(pool.map(get, self.ranges))
                return time.perf_counter() - started

        return self._run(scale, send)

    def legacy(self, scale: float) -> BulkRun:
        call = "get_historical_data"
        calls = [LegacyCall(call, {"metrics": "attempts", "time_range": r}) for r in self.ranges]

        def send() -> float:
            run = run_legacy(
                self.emulator.base_url,
                calls,
                client_id=self.emulator.client_id,
                client_key=self.emulator.client_key,
                keep_going=True,
            )
            return run.seconds

        return self._run(scale, send)


def fastest(runs: list[BulkRun]) -> BulkRun:
    """The fastest run, with the statuses of all runs."""
    total: Counter[int | None] = Counter()
    for run in runs:
        total.update(run.statuses)
    return BulkRun(min(run.seconds for run in runs), total)


def part_bulk(rounds: int) -> Section:
    require_emulator()
    ranges = day_ranges(BULK_QUERIES)
    rows = []
    with emulator_process(now=NOW) as emulator:
        emulator.warm_up(ATTEMPTS_PATH, ranges[0])
        bench = BulkBench(emulator, ranges)

        # a: the published limits; 120 requests fit the budget, so latency and concurrency bound
        # the run. Ours and the bare floor alternate; the best round of each counts.
        budgets = scaled(PUBLISHED_BUDGETS, 1.0)
        bound = ideal_finish(BULK_QUERIES, LATENCY, BULK_CONCURRENCY, budgets)
        mine_runs, floor_runs = [], []
        for _ in range(rounds):
            mine_runs.append(bench.ours(1.0))
            floor_runs.append(bench.bare_threads(1.0))
        mine, floor = fastest(mine_runs), fastest(floor_runs)
        loop = bench.legacy(1.0)
        rows += bulk_rows("2a", 1.0, budgets, bound, mine, loop, rounds)
        rows.append(
            Row(
                "2a",
                f"floor: bare httpx2 on {BULK_CONCURRENCY} threads (best of {rounds})",
                seconds(mine.seconds),
                "bare httpx2 threads",
                seconds(floor.seconds),
                f"ours/bare {mine.seconds / floor.seconds:.2f}x",
                "",
                "info",
            )
        )

        # b: the limits scaled so that they bind (a minute per window: one round only).
        budgets = scaled(PUBLISHED_BUDGETS, BINDING_SCALE)
        bound = ideal_finish(BULK_QUERIES, LATENCY, BULK_CONCURRENCY, budgets)
        mine = bench.ours(BINDING_SCALE)
        loop = bench.legacy(BINDING_SCALE)
        rows += bulk_rows("2b", BINDING_SCALE, budgets, bound, mine, loop, 1)
    notes = [
        "2: one-day 'attempts' queries; before each run the emulator's log and rate-limit windows "
        "are cleared. The emulator's rate_limit=<scale> and our RateLimiter(scale=<scale>) scale "
        "the same published budgets (windows stay 60 s per account and 300 s per IP). Bound: "
        "each request starts as early as both the concurrency and a token bucket holding a whole "
        "window's budget allow (a full bucket sends its budget at once; only the rest waits a "
        "window), then takes the latency. 0.1.0's loop goes on after a failed call here (0.1.0 "
        "itself raises HTTPError on the first 429).",
    ]
    return Section(rows, notes)


def bulk_rows(
    part: str,
    scale: float,
    budgets: list[Budget],
    bound: float,
    mine: BulkRun,
    loop: BulkRun,
    rounds: int,
) -> list[Row]:
    limits = ", ".join(f"{b.requests}/{b.window:g}s" for b in budgets)
    best = f" (best of {rounds})" if rounds > 1 else ""
    measure = (
        f"{BULK_QUERIES} queries, {LATENCY * 1000:g} ms, {BULK_CONCURRENCY} in flight, "
        f"limits {limits} (x{scale:g}){best}"
    )
    speedup = loop.seconds / mine.seconds
    binding = scale != 1.0
    mine_429, loop_429 = mine.statuses.get(429, 0), loop.statuses.get(429, 0)
    return [
        Row(
            part,
            measure,
            seconds(mine.seconds),
            "exact bound",
            seconds(bound),
            f"ours/bound {mine.seconds / bound:.2f}x",
            "<= 1.15x",
            verdict(mine.seconds <= 1.15 * bound),
        ),
        Row(
            part,
            "speed-up over the sequential loop",
            seconds(mine.seconds),
            "pyconviva 0.1.0",
            seconds(loop.seconds),
            f"0.1.0/ours {speedup:.1f}x" + (f", {loop_429} calls refused" if loop_429 else ""),
            "" if binding else ">= 10x",
            "info" if binding else verdict(speedup >= 10),
        ),
        Row(
            part,
            "429 replies received (emulator log)" + (" over all rounds" if rounds > 1 else ""),
            str(mine_429),
            "pyconviva 0.1.0",
            str(loop_429),
            "",
            "ours 0",
            verdict(mine_429 == 0),
        ),
    ]


# -- part 3: a long range in one call -------------------------------------------------------------


def raw_rows(reply: Mapping[str, Any]) -> list[tuple[int, str, str]]:
    """A group-by reply as (bucket epoch ms, group, metrics JSON) rows, in reply order."""
    return [
        (bucket["timestamp"]["epoch_ms"], row["dimension"]["value"], json.dumps(row["metrics"]))
        for bucket in reply["time_series"]
        for row in bucket.get("dimensional_data", [])
    ]


def windows(start: datetime, end: datetime, days: int) -> list[dict[str, str]]:
    """[start, end) cut into consecutive windows of at most ``days`` days."""
    cuts = []
    while start < end:
        stop = min(start + timedelta(days=days), end)
        cuts.append({"start_date": iso(start), "end_date": iso(stop)})
        start = stop
    return cuts


@contextmanager
def long_range_emulator(latency: float) -> Iterator[RunningEmulator]:
    """A fresh emulator, warmed up, with ``latency`` and no rate limit."""
    with emulator_process(now=NOW) as emulator:
        emulator.warm_up(ATTEMPTS_PATH, {"days": "1"})
        emulator.restart(latency=latency)
        yield emulator


def long_range_ours(latency: float, query: Mapping[str, Any]) -> tuple[float, Any]:
    convivaapi = ours("pyconviva", "ConvivaAPI")
    require_parameter(convivaapi.get_historical_data, "split", "ConvivaAPI.get_historical_data")
    with (
        long_range_emulator(latency) as emulator,
        convivaapi(
            client_key=emulator.client_key,
            client_id=emulator.client_id,
            base_url=emulator.base_url,
            clock=lambda: NOW,
        ) as api,
    ):
        started = time.perf_counter()
        merged = api.get_historical_data(**query)
        return time.perf_counter() - started, merged


def long_range_legacy(latency: float, calls: list[LegacyCall]) -> LegacyRun:
    with long_range_emulator(latency) as emulator:
        return run_legacy(
            emulator.base_url,
            calls,
            client_id=emulator.client_id,
            client_key=emulator.client_key,
            keep_replies=True,
        )


def part_long_range() -> Section:
    require_emulator()
    end = NOW.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=LONG_RANGE_DAYS)
    cuts = windows(start, end, LEGACY_WINDOW_DAYS)
    query = {"metrics": "attempts", "group_by": "isp", "granularity": "PT1H"}
    whole = {"start_date": iso(start), "end_date": iso(end)}
    calls = [LegacyCall("get_historical_data", {**query, "time_range": cut}) for cut in cuts]
    rows = []
    for latency in (0.0, LATENCY):
        ours_s, merged = long_range_ours(latency, {**query, "time_range": whole})
        loop = long_range_legacy(latency, calls)
        ours_rows = raw_rows(merged)
        legacy_rows = [row for reply in loop.replies or [] for row in raw_rows(reply)]
        identical = ours_rows == legacy_rows
        detail = "yes" if identical else f"no: ours {len(ours_rows)}, 0.1.0 {len(legacy_rows)}"
        if not identical and sorted(ours_rows) == sorted(legacy_rows):
            detail = "same rows, different order"
        measure = f"{LONG_RANGE_DAYS}-day hourly group-by isp, {latency * 1000:g} ms latency"
        rows += [
            Row(
                "3",
                measure,
                seconds(ours_s),
                "pyconviva 0.1.0 loop",
                seconds(loop.seconds),
                f"0.1.0/ours {loop.seconds / ours_s:.2f}x",
                "",
                "info",
            ),
            Row(
                "3",
                f"identical rows ({len(ours_rows)} group-hour rows)",
                "",
                "pyconviva 0.1.0 loop",
                "",
                detail,
                "identical",
                verdict(identical),
            ),
        ]
    notes = [
        f"3: 'attempts' by isp, hourly, {iso(start)}..{iso(end)}, no rate limit; each side on a "
        "fresh emulator. Ours: one get_historical_data call (split=True by default). 0.1.0: "
        f"{len(cuts)} calls of at most {LEGACY_WINDOW_DAYS} days, one after another. Rows: "
        "(bucket, group, metrics) of each reply's time_series, compared in order."
    ]
    return Section(rows, notes)


# -- the table ------------------------------------------------------------------------------------

HEADER = Row("part", "measure", "ours", "comparator", "theirs", "ratio", "target", "result")


def print_table(rows: list[Row]) -> None:
    table = [dataclasses.astuple(row) for row in (HEADER, *rows)]
    widths = [max(len(cell) for cell in column) for column in zip(*table, strict=True)]
    for cells in table:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        print("  ".join(padded).rstrip())


PARTS: dict[str, tuple[str, Callable[[argparse.Namespace], Section]]] = {
    "1": ("client cost", lambda args: part_client_cost(args.rounds)),
    "2": ("bulk under latency and rate limit", lambda args: part_bulk(args.bulk_rounds)),
    "3": ("365-day hourly group-by", lambda args: part_long_range()),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="1,2,3", help="comma-separated parts to run")
    parser.add_argument("--rounds", type=int, default=7, help="part 1 rounds per client")
    parser.add_argument("--bulk-rounds", type=int, default=3, help="part 2a rounds per client")
    args = parser.parse_args()
    rows: list[Row] = []
    notes: list[str] = []
    for number in args.parts.split(","):
        title, run = PARTS[number.strip()]
        started = time.perf_counter()
        try:
            section = run(args)
        except NotAvailable as exc:
            print(f"part {number} ({title}): not available yet: {exc}")
            continue
        except Exception:
            print(f"part {number} ({title}) failed:\n{traceback.format_exc()}")
            continue
        rows.extend(section.rows)
        notes.extend(section.notes)
        print(f"part {number} ({title}) done in {time.perf_counter() - started:.1f} s")
    if rows:
        print()
        print_table(rows)
        print()
        print("\n".join(textwrap.fill(note, width=100) for note in notes))


if __name__ == "__main__":
    main()
