"""Client cost, bulk throughput and long ranges: pyconviva against pyconviva 0.1.0, side by side.

Three parts, each timed in one run and printed as ratios in one table:

1. Client cost. 300 small sequential queries against a loopback HTTPS server that answers from a
   canned reply (so server time is negligible): ours vs a bare, kept-alive ``httpx2.Client``
   issuing the same GETs and decoding the JSON (the floor), and vs pyconviva 0.1.0 (a new
   connection, so a TLS handshake, per call). Ours and bare httpx2 alternate over several
   rounds and the best round of each is compared: the machine may be shared, and the fastest
   round is the one least disturbed by other work.
2. Bulk under latency. 120 one-day queries against the emulator with 100 ms latency and its
   rate limit enforced: ours (``get_many``) vs the sequential loop with 0.1.0, in two regimes:
   a. the published limits (400 a minute; a batch of 120 fits the budget, so latency and
      concurrency bound the run): the speed-up over the loop;
   b. the limits scaled to a quarter (100 a minute, 750 per 5 minutes per IP; emulator and our
      limiter alike) so that the limit binds: ours against the exact bound, and the 429s each
      side receives. The emulator scales budgets, not windows, so this regime takes a minute.
   One set of conditions cannot show both targets: a sequential loop that receives no 429
   stays under the limit, so a run bound by that limit cannot be 10x faster than the loop.
3. A 365-day hourly group-by: ours in one call (split into legal windows, fetched concurrently,
   merged) vs the manual 90-day-window loop with 0.1.0; the ratio and whether the rows agree.

pyconviva 0.1.0 (PyPI) runs in its own virtual environment, ``benchmarks/.legacy-venv``, created
on first use (needs PyPI). In parts 2 and 3 the emulator runs in a process of its own, as a
remote API would, with a fixed clock; every run gets a fresh emulator, so rate-limit windows
start empty. Every timing covers the query loop only, not interpreter start-up. A part whose
features have not landed yet prints why and is skipped.

Run: python benchmarks/bench_bulk.py [--parts 1,2,3] [--rounds 7]   (about 2 minutes)
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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2
from _emulator_process import emulator_process
from _legacy import LegacyCall, run_legacy
from _schedule import Budget, ideal_finish
from _tls_server import serve_canned

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)  # the emulator's fixed clock
SMALL_QUERIES = 300
BULK_QUERIES = 120
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


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


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
    convivaapi = ours("pyconviva._client", "ConvivaAPI")
    with serve_canned(canned_reply()) as server:
        api = convivaapi(
            client_key=CLIENT_KEY,
            client_id=CLIENT_ID,
            base_url=server.base_url,
            verify=server.ca_path,
        )
        bare = httpx2.Client(
            verify=ssl.create_default_context(cafile=server.ca_path),
            auth=(CLIENT_ID, CLIENT_KEY),
            timeout=30.0,
        )
        url = f"{server.base_url}/insights/3.0/metrics/attempts"

        def ours_loop() -> None:
            for _ in range(SMALL_QUERIES):
                api.get_historical_data("attempts", time_range=1)

        def bare_loop() -> None:
            for _ in range(SMALL_QUERIES):
                response = bare.get(url, params={"days": "1"})
                response.raise_for_status()
                response.json()

        with api, bare:
            # Warm-up: each client's connection, TLS session and first-use imports.
            api.get_historical_data("attempts", time_range=1)
            bare.get(url, params={"days": "1"}).json()
            ours_times, bare_times = [], []
            for _ in range(rounds):
                bare_times.append(timed(bare_loop))
                ours_times.append(timed(ours_loop))
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

    ours_s, bare_s = min(ours_times), min(bare_times)
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
            f"{ours_connections} (ours + bare)",
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
    statuses: Counter[int | None]


def bulk_ours(scale: float, ranges: list[dict[str, str]]) -> BulkRun:
    convivaapi = ours("pyconviva._client", "ConvivaAPI")
    query_spec = ours("pyconviva._bulk", "QuerySpec")
    rate_limiter = ours("pyconviva._ratelimit", "RateLimiter")
    require_method(convivaapi, "get_many")
    require_parameter(convivaapi, "rate_limit", "ConvivaAPI")
    specs = [query_spec.historical("attempts", time_range=r) for r in ranges]
    with (
        emulator_process(now=NOW, latency=LATENCY, rate_limit=scale) as emulator,
        convivaapi(
            client_key=emulator.client_key,
            client_id=emulator.client_id,
            base_url=emulator.base_url,
            clock=lambda: NOW,
            rate_limit=rate_limiter(scale=scale),
        ) as api,
    ):
        started = time.perf_counter()
        batch = api.get_many(specs, max_concurrency=BULK_CONCURRENCY)
        elapsed = time.perf_counter() - started
        batch.raise_for_errors()
        return BulkRun(elapsed, emulator.statuses())


def bulk_legacy(scale: float, ranges: list[dict[str, str]]) -> BulkRun:
    require_emulator()
    calls = [
        LegacyCall("get_historical_data", {"metrics": "attempts", "time_range": r}) for r in ranges
    ]
    with emulator_process(now=NOW, latency=LATENCY, rate_limit=scale) as emulator:
        run = run_legacy(
            emulator.base_url,
            calls,
            client_id=emulator.client_id,
            client_key=emulator.client_key,
            keep_going=True,
        )
        return BulkRun(run.seconds, emulator.statuses())


REGIMES = (("2a", 1.0), ("2b", BINDING_SCALE))  # (row label, scale of the published limits)


def part_bulk() -> Section:
    ranges = day_ranges(BULK_QUERIES)
    rows = []
    notes = [
        "2: one-day 'attempts' queries; the emulator's rate_limit=<scale> and our "
        "RateLimiter(scale=<scale>) scale the same published budgets (windows stay 60 s and "
        "300 s). Bound: each request starts as early as both the concurrency and a token bucket "
        "holding a whole window's budget allow (a full bucket sends its budget at once; only "
        "the rest waits a window)."
    ]
    for part, scale in REGIMES:
        budgets = scaled(PUBLISHED_BUDGETS, scale)
        bound = ideal_finish(BULK_QUERIES, LATENCY, BULK_CONCURRENCY, budgets)
        mine = bulk_ours(scale, ranges)
        loop = bulk_legacy(scale, ranges)
        limits = ", ".join(f"{b.requests}/{b.window:g}s" for b in budgets)
        measure = (
            f"{BULK_QUERIES} queries, {LATENCY * 1000:g} ms, {BULK_CONCURRENCY} in flight, "
            f"limits {limits} (x{scale:g})"
        )
        rows.append(
            Row(
                part,
                measure,
                seconds(mine.seconds),
                "exact bound",
                seconds(bound),
                f"ours/bound {mine.seconds / bound:.2f}x",
                "<= 1.15x",
                verdict(mine.seconds <= 1.15 * bound),
            )
        )
        loop_429 = loop.statuses.get(429, 0)
        speedup = loop.seconds / mine.seconds
        rows.append(
            Row(
                part,
                "speed-up over the sequential loop",
                seconds(mine.seconds),
                "pyconviva 0.1.0",
                seconds(loop.seconds),
                f"0.1.0/ours {speedup:.1f}x",
                ">= 10x" if scale == 1.0 else "",
                verdict(speedup >= 10) if scale == 1.0 else "info",
            )
        )
        rows.append(
            Row(
                part,
                "429 replies received (emulator log)",
                str(mine.statuses.get(429, 0)),
                "pyconviva 0.1.0",
                f"{loop_429}" + (" (0.1.0 raises on the first)" if loop_429 else ""),
                "",
                "ours 0",
                verdict(mine.statuses.get(429, 0) == 0),
            )
        )
    return Section(rows, notes)


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


def part_long_range() -> Section:
    require_emulator()
    convivaapi = ours("pyconviva._client", "ConvivaAPI")
    require_parameter(convivaapi.get_historical_data, "split", "ConvivaAPI.get_historical_data")
    end = NOW.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=LONG_RANGE_DAYS)
    cuts = windows(start, end, LEGACY_WINDOW_DAYS)
    query = {"metrics": "attempts", "group_by": "isp", "granularity": "PT1H"}
    with emulator_process(now=NOW) as emulator:
        with convivaapi(
            client_key=emulator.client_key,
            client_id=emulator.client_id,
            base_url=emulator.base_url,
            clock=lambda: NOW,
        ) as api:
            started = time.perf_counter()
            merged = api.get_historical_data(
                **query, time_range={"start_date": iso(start), "end_date": iso(end)}
            )
            ours_s = time.perf_counter() - started
        loop = run_legacy(
            emulator.base_url,
            [LegacyCall("get_historical_data", {**query, "time_range": cut}) for cut in cuts],
            client_id=emulator.client_id,
            client_key=emulator.client_key,
            keep_replies=True,
        )
    ours_rows = raw_rows(merged)
    legacy_rows = [row for reply in loop.replies or [] for row in raw_rows(reply)]
    identical = ours_rows == legacy_rows
    detail = "yes" if identical else f"no: ours {len(ours_rows)}, 0.1.0 {len(legacy_rows)}"
    if not identical and sorted(ours_rows) == sorted(legacy_rows):
        detail = "same rows, different order"
    notes = [
        f"3: 'attempts' by isp, hourly, {iso(start)}..{iso(end)}, emulator without latency or "
        "rate limit. Ours: one get_historical_data call (split=True by default). 0.1.0: "
        f"{len(cuts)} calls of at most {LEGACY_WINDOW_DAYS} days, one after another. Rows: "
        "(bucket, group, metrics) of each reply's time_series, compared in order."
    ]
    rows = [
        Row(
            "3",
            f"{LONG_RANGE_DAYS}-day hourly group-by isp ({len(cuts)} windows for 0.1.0)",
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
    "2": ("bulk under latency and rate limit", lambda args: part_bulk()),
    "3": ("365-day hourly group-by", lambda args: part_long_range()),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="1,2,3", help="comma-separated parts to run")
    parser.add_argument("--rounds", type=int, default=7, help="part 1 rounds per client")
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
