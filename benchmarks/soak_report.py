"""Fault soak: a batch and an export under 30 % injected faults, against a fault-free run.

Run: ``python benchmarks/soak_report.py [--queries 300] [--units 120] [--seed 6] [--runs 10]
[--client async|sync]``

The client has the default retry policy (a 300 s deadline per call, ``max_retries=10`` as a
backstop for faults, 429s bounded by the deadline alone) and no client-side pacing
(``rate_limit=False``; a 429 without ``Retry-After`` still pauses it for the window). The batch
is ``get_many`` over ``--queries`` distinct queries (historical and real-time,
group-bys, filters, metric groups, minutely and long daily ranges that split into several
windows, and a few unknown metrics the API answers 404). It runs twice, in process, on fresh
emulators with the same data seed and clock: once fault-free, once with a seeded random fault on
30 % of requests drawn from every kind in :data:`MIX` (500/502/503, 429 with and without
``Retry-After``, dropped connections, replies past the timeout, truncated bodies and HTML
gateway pages), after two scripted 429 storms. The client waits on a virtual clock
(``clock=pyconviva.testing.VirtualClock()``), so backoff and the minute-long pauses after 429s
cost no real time. ``--runs N`` repeats the faulted batch with fault seeds ``seed .. seed+N-1``.
The export soak writes ``--units`` Parquet files with ``export_dataset`` the same two ways and
compares the files.

The batch runs on the async client by default: on a virtual clock its tasks start together and
their waits overlap as real waits do. The sync client's threads overlap their waits too, but a
thread pool's workers start one after another in real time while a virtual pause costs none: the
first worker can meet a scripted 8-request storm alone, one full-window pause after another,
before the others have sent anything, and run out of deadline (``--client sync``, seeds 6-15:
2 queries lost in 10 runs; before VirtualClock's threads overlapped, 11). With real time every
worker is in flight long before a pause ends, so a real run does not meet the storm that way.

Printed: requests, faults injected by kind, retries logged, the most attempts one window needed,
wall time, and the differences from the fault-free run (which must be zero). The tests in
``tests/reliability/test_soak.py`` run the same soak and assert each figure.

The counts are the same on every run although eight threads send: the emulator gives its n-th
request the n-th draw, and each fault costs exactly one more request. Which window meets which
fault, and so the most attempts one window needed, depends on thread timing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pyconviva import (
    AsyncConvivaAPI,
    BatchResult,
    ConvivaAPI,
    ConvivaError,
    ExportSummary,
    MetricsResult,
    QuerySpec,
    RetryPolicy,
    export_dataset,
)
from pyconviva.emulator import (
    DropConnection,
    Emulator,
    Fault,
    LoggedRequest,
    NonJSONBody,
    RateLimitStorm,
    SlowReply,
    StatusFault,
    TruncateBody,
)
from pyconviva.testing import VirtualClock

NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=timezone.utc)
DATA_SEED = 0
FAULT_SEED = 6
FAULT_RATE = 0.3
QUERIES = 300
UNITS = 120
TIMEOUT = 5.0  # the client's timeout; a slow reply comes SLOW seconds late, far past it
SLOW = 60.0
# No backoff wait of POLICY can be 2.5 s (they fall in (0.375, 0.5], (0.75, 1], (1.5, 2], (3, 4]
# and (6, 8]), and a 429 without Retry-After waits for the window (61 s), so a 2.5 s wait after a
# 429 is the server's Retry-After and nothing else.
RETRY_AFTER = 2.5
POLICY = RetryPolicy()  # the defaults: what users get
# The export runs on the sync client (export_dataset takes one), whose pool's workers start one
# after another in real time while virtual pauses cost none (see the module docstring): the first
# window can meet a scripted storm alone, one full-window pause after another, past the default
# deadline (seeds 6-15 with the defaults: 1 failed unit in 10 runs). A real run meets it with every
# request in flight at once. The export soak is about the files, so its deadline is an hour.
EXPORT_POLICY = RetryPolicy(total_timeout=3600.0)
CLIENTS = ("async", "sync")

MIX: tuple[Fault, ...] = (
    StatusFault(status=500),
    StatusFault(status=502),
    StatusFault(status=503),
    RateLimitStorm(times=1),
    RateLimitStorm(times=1, retry_after=RETRY_AFTER),
    DropConnection(),
    SlowReply(delay=SLOW),
    TruncateBody(keep=0.5),
    NonJSONBody(status=502),
)
# Scripted before the random draw starts: every request in flight is refused at once.
STORMS: tuple[Fault, ...] = (
    RateLimitStorm(times=8),
    RateLimitStorm(times=8, retry_after=RETRY_AFTER),
)

STORMED = sum(fault.times for fault in STORMS)

# Fault kinds as the report names them, in the order it prints them.
KINDS = (
    "HTTP 500",
    "HTTP 502",
    "HTTP 503",
    "429 without Retry-After",
    "429 with Retry-After",
    "dropped connection",
    "slow reply past the timeout",
    "truncated body",
    "HTML page (502)",
)
# (fault, status) -> kind, for the faults that set the status
_STATUS_KINDS: dict[tuple[str, int | None], str] = {
    ("status", 500): "HTTP 500",
    ("status", 502): "HTTP 502",
    ("status", 503): "HTTP 503",
    ("non_json", 502): "HTML page (502)",
}
_OTHER_KINDS = {  # faults that keep the real reply's status, or send none
    "drop": "dropped connection",
    "slow": "slow reply past the timeout",
    "truncate": "truncated body",
}
RATE_LIMITED = "429"  # 429 replies, split by the client's waits into the two kinds above


# --- the workload ------------------------------------------------------------------------------

_DAY_END = datetime(2026, 11, 20, tzinfo=timezone.utc)  # the last midnight before NOW
_METRICS = (
    "attempts",
    "plays",
    "bitrate",
    "video-start-time",
    "rebuffering-ratio",
    "unique-devices",
    "minutes-played",
    "ended-plays",
    "video-start-failures",
    "exits-before-video-start",
    "connection-induced-rebuffering-ratio",
    "video-playback-failures",
    "framerate",
)
_REAL_TIME_METRICS = (
    "attempts",
    "plays",
    "concurrent-plays",
    "bitrate",
    "video-start-time",
    "rebuffering-ratio",
    "ended-plays",
)
_GROUPS: tuple[Any, ...] = (
    None,
    "isp",
    "cdn",
    "device-os",
    "geo-country-code",
    "device-category",
    "connection-type",
    {"custom-tag": "appVersion"},
    "player-name",
)
_FILTERS: tuple[Any, ...] = (
    None,
    {"geo-country-code": "us"},
    {"isp": ["Optus", "Vodafone"]},
    {"device-category": "Smart TV", "cdn": ["Akamai", "Fastly"]},
)
UNKNOWN_METRICS = ("attemps", "plays-per-hour", "buffering-ratio", "startup-time", "exits")


def _pick(options: Sequence[Any], k: int) -> Any:
    return options[k % len(options)]


def _hourly(k: int) -> QuerySpec:
    end = _DAY_END - timedelta(hours=k)
    return QuerySpec.historical(
        _pick(_METRICS, k),
        group_by=_pick(_GROUPS, k),
        filter_by=_pick(_FILTERS, k // 3),
        time_range=(end - timedelta(hours=6 + k % 12), end),
        granularity="PT1H",
    )


def _daily_long(k: int) -> QuerySpec:  # past the 90-day cap: two windows
    end = _DAY_END - timedelta(days=k % 240)  # the start stays within the 396 days kept
    return QuerySpec.historical(
        [_pick(_METRICS, k), _pick(_METRICS, k + 5)],
        group_by=_pick((None, "device-category", "cdn"), k),
        time_range=(end - timedelta(days=91 + k % 30), end),
        granularity=f"P{1 + k // 240}D",
    )


def _minutely(k: int) -> QuerySpec:  # ungrouped minutely: 24 hours a request, so two windows
    end = _DAY_END - timedelta(hours=k % 600)  # within the 31 days minutely data is kept
    return QuerySpec.historical(
        _pick(_METRICS, k + 2),
        filter_by=_pick(_FILTERS, k),
        time_range=(end - timedelta(hours=26), end),
        granularity=_pick(("PT15M", "PT30M", "PT10M", "PT20M"), k % 2 + 2 * (k // 600)),
    )


def _metric_group(k: int) -> QuerySpec:
    end = _DAY_END - timedelta(hours=k)
    return QuerySpec.historical(
        _pick(("quality-summary", "audience"), k),
        group_by=_pick(_GROUPS, k + 1),
        time_range=(end - timedelta(hours=3), end),
        granularity="PT1H",
    )


def _top(k: int) -> QuerySpec:
    end = _DAY_END - timedelta(hours=k)
    return QuerySpec.historical(
        "plays",
        group_by=_pick(("geo-city-name", "device-name", "isp"), k),
        time_range=(end - timedelta(hours=6), end),
        granularity="PT1H",
        limit=3 + k % 5,
    )


def _real_time(k: int) -> QuerySpec:
    groups = (None, "cdn", "isp", "device-os")
    combinations = len(_REAL_TIME_METRICS) * len(groups)
    return QuerySpec.real_time(
        _pick(_REAL_TIME_METRICS, k),
        group_by=groups[(k // len(_REAL_TIME_METRICS)) % len(groups)],
        time_range=1 + (k // combinations) % 15,
        granularity=_pick(("PT1M", "PT30S"), k // (combinations * 15)),
    )


# Ten queries, thirteen request windows; the costly shapes for the emulator (minutely ranges,
# metric groups) once each, so a 400-query batch runs in a few seconds.
_CYCLE = (
    _hourly,
    _daily_long,
    _hourly,
    _minutely,
    _top,
    _hourly,
    _metric_group,
    _daily_long,
    _hourly,
    _real_time,
)


def soak_specs(queries: int = QUERIES) -> list[QuerySpec]:
    """``queries`` distinct queries of every shape in turn; the unknown metrics spread among them.

    Each shape's ranges step back an hour or a day per use (and change granularity where the
    data kept runs out), so no two queries send the same request, up to some 10,000 queries: a
    window can then be followed through the request log by its target.
    """
    count = queries - len(UNKNOWN_METRICS)
    uses: Counter[Callable[[int], QuerySpec]] = Counter()
    specs = []
    for i in range(count):
        shape = _CYCLE[i % len(_CYCLE)]
        specs.append(shape(uses[shape]))
        uses[shape] += 1
    spacing = max(1, count // len(UNKNOWN_METRICS))
    for n, metric in enumerate(UNKNOWN_METRICS):
        specs.insert(n * spacing + n, QuerySpec.historical(metric, group_by="isp", time_range=1))
    return specs


# --- running it --------------------------------------------------------------------------------


def soak_client(emulator: Emulator, clock: VirtualClock, **options: Any) -> ConvivaAPI:
    """An in-process client with the soak's retry policy and timeout, waiting on ``clock``."""
    options.setdefault("retry", POLICY)
    return emulator.client(rate_limit=False, timeout=TIMEOUT, clock=clock, **options)


def soak_async_client(emulator: Emulator, clock: VirtualClock) -> AsyncConvivaAPI:
    """The same, async."""
    return emulator.async_client(rate_limit=False, timeout=TIMEOUT, retry=POLICY, clock=clock)


def soak_emulator(*, faulted: bool, fault_seed: int = FAULT_SEED) -> Emulator:
    """A fresh emulator on the soak's data seed and clock; ``faulted``: storms, then 30 %."""
    emulator = Emulator(seed=DATA_SEED, now=NOW)
    if faulted:
        emulator.add_faults(*STORMS)
        emulator.set_random_faults(FAULT_RATE, MIX, seed=fault_seed)
    return emulator


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def warnings_logged() -> Iterator[list[logging.LogRecord]]:
    """The WARNING (and worse) records logged on ``pyconviva`` inside the block."""
    logger = logging.getLogger("pyconviva")
    handler = _Collect()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, logging.WARNING) if level else logging.WARNING)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def is_retry(record: logging.LogRecord) -> bool:
    return record.name == "pyconviva" and str(record.msg).startswith("Retrying ")


@dataclass(frozen=True)
class SoakRun:
    """One run of the batch: outcomes in input order, what the emulator saw, what was logged."""

    outcomes: list[MetricsResult | ConvivaError]
    requests: tuple[LoggedRequest, ...]
    warnings: tuple[logging.LogRecord, ...]  # WARNING and worse on the 'pyconviva' logger
    windows: int  # request windows the batch planned (the progress total)
    seconds: float  # wall time of get_many
    waited: float  # virtual seconds the client waited between attempts

    @property
    def retries(self) -> list[logging.LogRecord]:
        return [record for record in self.warnings if is_retry(record)]


def run_batch(emulator: Emulator, specs: Sequence[QuerySpec], client: str = "async") -> SoakRun:
    """``get_many(specs)`` on a soak client of ``emulator`` at the client's default concurrency;
    ``client`` is ``"async"`` or ``"sync"``."""
    clock = VirtualClock()
    totals: list[int] = []

    def progress(done: int, total: int) -> None:
        totals.append(total)

    async def run_async() -> BatchResult:
        async with soak_async_client(emulator, clock) as api:
            return await api.get_many(specs, progress=progress)

    with warnings_logged() as warnings:
        started = time.perf_counter()
        if client == "sync":
            with soak_client(emulator, clock) as api:
                batch = api.get_many(specs, progress=progress)
        else:
            batch = asyncio.run(run_async())
        seconds = time.perf_counter() - started
    return SoakRun(
        outcomes=list(batch),
        requests=emulator.requests(),
        warnings=tuple(warnings),
        windows=totals[-1] if totals else 0,
        seconds=seconds,
        waited=clock.slept,
    )


# --- what the figures are made of --------------------------------------------------------------


def target(entry: LoggedRequest) -> tuple[str, tuple[tuple[str, str], ...]]:
    """What identifies a request window in the log: its path and query."""
    return entry.path, entry.query


def faults_by_kind(run: SoakRun) -> Counter[str]:
    """Faults injected, by kind (:data:`KINDS`), from the emulator's log and the client's waits.

    The log names a fault's kind and status, not its headers: the 429s are told apart by the
    wait the client logged for them (``RETRY_AFTER`` only when the server sent it).
    """
    counts: Counter[str] = Counter()
    for entry in run.requests:
        if entry.fault == "rate_limit_storm":
            counts[RATE_LIMITED] += 1
        elif entry.fault is not None:
            kind = _STATUS_KINDS.get((entry.fault, entry.status)) or _OTHER_KINDS.get(entry.fault)
            counts[kind or f"{entry.fault} {entry.status}"] += 1
    told = sum(
        1
        for record in run.retries
        if record.__dict__["reason"] == "HTTP 429" and record.__dict__["delay"] == RETRY_AFTER
    )
    rate_limited = counts.pop(RATE_LIMITED, 0)
    counts["429 with Retry-After"] = told
    counts["429 without Retry-After"] = rate_limited - told
    return counts


def outcome_difference(
    faulted: MetricsResult | ConvivaError, clean: MetricsResult | ConvivaError
) -> str | None:
    """How a query's outcome under faults differs from its fault-free one; ``None``: the same.

    Results must match as raw JSON, as tidy records and in their notes; errors in class,
    status, message and request (the text of a retried one may add how many attempts it took).
    """
    if isinstance(clean, MetricsResult):
        if not isinstance(faulted, MetricsResult):
            return f"expected a result, got {type(faulted).__name__}: {faulted}"
        if dict(faulted) != dict(clean):
            return "raw JSON differs"
        if faulted.records() != clean.records():
            return "records differ"
        if faulted.notes != clean.notes:
            return f"notes differ: {faulted.notes} != {clean.notes}"
        return None
    if type(faulted) is not type(clean):
        return f"expected {type(clean).__name__}, got {type(faulted).__name__}: {faulted}"
    for attribute in ("status_code", "message", "request", "argument"):
        if getattr(faulted, attribute, None) != getattr(clean, attribute, None):
            return f"{attribute} differs"
    return None


def differences(faulted: SoakRun, clean: SoakRun) -> dict[int, str]:
    """Each query whose outcome differs, by position, with how."""
    found = {}
    for index, (mine, theirs) in enumerate(zip(faulted.outcomes, clean.outcomes, strict=True)):
        difference = outcome_difference(mine, theirs)
        if difference is not None:
            found[index] = difference
    return found


def attempts_per_window(run: SoakRun) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    return Counter(target(entry) for entry in run.requests)


# --- the export soak ---------------------------------------------------------------------------

_EXPORT_METRICS: list[str | list[str]] = [["attempts", "plays"], "bitrate", "rebuffering-ratio"]
_EXPORT_GROUPS: list[Any] = [None, "isp", "cdn", {"custom-tag": "appVersion"}]


def export_days(units: int) -> int:
    """Days an export of at least ``units`` files covers (one file per query and day)."""
    per_day = len(_EXPORT_METRICS) * len(_EXPORT_GROUPS)
    return -(-units // per_day)


def run_export(emulator: Emulator, directory: Path, days: int) -> tuple[ExportSummary, float]:
    """Export ``days`` days up to the last midnight into ``directory``: summary, wall time."""
    # One request a day, as a file is a day: the soak is about faults on every request.
    with soak_client(
        emulator, VirtualClock(), retry=EXPORT_POLICY, max_window=timedelta(days=1)
    ) as api:
        started = time.perf_counter()
        summary = export_dataset(
            api,
            metrics=_EXPORT_METRICS,
            group_bys=_EXPORT_GROUPS,
            start=_DAY_END - timedelta(days=days),
            end=_DAY_END,
            directory=directory,
        )
        return summary, time.perf_counter() - started


def files(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (manifest included), by relative path, as bytes."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


# --- the report --------------------------------------------------------------------------------


def _print_faults(counts: Counter[str], requests: int) -> None:
    total = sum(counts.values())
    draws, hits = requests - STORMED, total - STORMED
    print(
        f"  faults injected  {total:>6}  ({100 * total / requests:.1f} % of requests; "
        f"{STORMED} scripted, then {hits} in {draws} draws: {100 * hits / draws:.1f} %)"
    )
    for kind in KINDS:
        print(f"    {kind:<30} {counts[kind]:>5}")
    for kind in sorted(set(counts) - set(KINDS)):
        print(f"    {kind:<30} {counts[kind]:>5}  (not in the mix!)")


def report_batch(queries: int, fault_seed: int, runs: int = 1, client: str = "async") -> None:
    specs = soak_specs(queries)
    clean = run_batch(soak_emulator(faulted=False), specs, client)
    seeds = range(fault_seed, fault_seed + runs)
    faulted_runs = [
        run_batch(soak_emulator(faulted=True, fault_seed=seed), specs, client) for seed in seeds
    ]
    faulted = faulted_runs[0]
    attempts = attempts_per_window(faulted)
    failed = sum(isinstance(outcome, ConvivaError) for outcome in faulted.outcomes)
    print(
        f"batch: get_many of {queries} queries, {faulted.windows} request windows, {client} client"
    )
    print(
        f"  fault rate {FAULT_RATE:.0%} (seed {fault_seed}) after two scripted 8-request 429 storms"
    )
    print(
        f"  retry policy: the defaults (max_retries={POLICY.max_retries}, "
        f"total_timeout={POLICY.total_timeout:g} s)"
    )
    print(f"  requests         {len(faulted.requests):>6}  (fault-free run: {len(clean.requests)})")
    _print_faults(faults_by_kind(faulted), len(faulted.requests))
    print(
        f"  retries logged   {len(faulted.retries):>6}  "
        f"(requests - fault-free requests = {len(faulted.requests) - len(clean.requests)})"
    )
    print(f"  most attempts on one window: {max(attempts.values())}")
    print(
        f"  queries answered with an error: {failed} (the {len(UNKNOWN_METRICS)} unknown metrics)"
    )
    print(f"  virtual wait     {faulted.waited:>6.0f} s (no real time)")
    print(f"  wall time        {faulted.seconds:>6.2f} s  (fault-free run: {clean.seconds:.2f} s)")
    print(f"  differences from the fault-free run: {len(differences(faulted, clean))}")
    if runs > 1:
        print(f"  {runs} runs (fault seeds {seeds.start}..{seeds.stop - 1}):")
        for seed, run in zip(seeds, faulted_runs, strict=True):
            lost = differences(run, clean)
            print(
                f"    seed {seed:>3}: {len(run.requests):>4} requests, "
                f"{sum(e.fault is not None for e in run.requests):>3} faults, "
                f"queries lost {len(lost)}"
                + "".join(f"\n      #{index}: {why[:160]}" for index, why in lost.items())
            )
        total = sum(len(differences(run, clean)) for run in faulted_runs)
        print(f"  queries lost in all {runs} runs: {total}")


def report_export(units: int, fault_seed: int) -> None:
    days = export_days(units)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        clean_emulator = soak_emulator(faulted=False)
        clean, clean_seconds = run_export(clean_emulator, root / "clean", days)
        emulator = soak_emulator(faulted=True, fault_seed=fault_seed)
        with warnings_logged() as warnings:
            summary, seconds = run_export(emulator, root / "faulted", days)
        expected, got = files(root / "clean"), files(root / "faulted")
    run = SoakRun([], emulator.requests(), tuple(warnings), len(clean.written), seconds, 0.0)
    changed = sum(got.get(name) != data for name, data in expected.items())
    print(f"export: export_dataset of {len(summary.written)} units ({days} days)")
    print(
        f"  requests         {len(run.requests):>6}  "
        f"(fault-free run: {len(clean_emulator.requests())})"
    )
    _print_faults(faults_by_kind(run), len(run.requests))
    print(f"  retries logged   {len(run.retries):>6}")
    print(f"  failed units     {len(summary.errors):>6}")
    print(f"  wall time        {seconds:>6.2f} s  (fault-free run: {clean_seconds:.2f} s)")
    print(
        f"  differences from the fault-free files: {changed + len(set(got) - set(expected))} "
        f"of {len(expected)} files (byte for byte, manifest included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=QUERIES, help="queries in the batch")
    parser.add_argument("--units", type=int, default=UNITS, help="files in the export")
    parser.add_argument("--seed", type=int, default=FAULT_SEED, help="seed of the fault draw")
    parser.add_argument("--runs", type=int, default=1, help="faulted batches, seeds seed, seed+1..")
    parser.add_argument("--client", choices=CLIENTS, default="async", help="client of the batch")
    parser.add_argument("--no-export", action="store_true", help="skip the export soak")
    options = parser.parse_args()
    report_batch(options.queries, options.seed, options.runs, options.client)
    if options.no_export:
        return
    print()
    report_export(options.units, options.seed)


if __name__ == "__main__":
    main()
