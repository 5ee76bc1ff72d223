"""The account's request budget (issue 11): an export, a shared budget, the steady state.

Each part runs against the emulator in a process of its own (``_emulator_process``) with a fixed
data clock, ``NOW``, and its rate limit on; the emulator's rate-limit windows run on real
elapsed time, so parts 2 and 3 take real minutes. Every part prints this run's figures beside
the ones 0.2.0 gave before issue 11 (``BEFORE``, recorded below), in one table.

1. Export: ``export_dataset`` of 365 days of hourly data up to the last midnight before
   ``NOW`` (inside the API's 13-month retention) for 4 queries (``metrics=["attempts",
   ["plays", "bitrate"]]``, ``group_bys=[None, "isp"]``), default client, published limits.
   Printed: requests sent (the emulator's log) against the floor, the sum over queries of the
   fewest windows the API allows (90 days each, and no reply over 5,700,000 bytes, estimated
   from one reply per query sent before the run: over 90 days, or over 45, 22… days where the
   longer one draws a 413, scaled by the days; computed from the API's limits, not from the
   client's planner); 429s; whether every hour of every series is present exactly
   once (the Parquet files read back); wall time of the export call; peak memory, the
   ``ru_maxrss`` of the child process that runs the export (``_export_child``).
2. Shared budget: limits scaled by 0.1 (40 historical requests a minute). Another consumer
   spends 35 of them first (raw httpx2, the same credentials, so the same account window);
   then ``get_many`` of 30 distinct one-hour queries, default client settings. Printed:
   queries answered, queries lost by error type, 429s drawn (the emulator's log), wall time
   against 60 s (the foreign requests leave the window 60 s after they were sent).
3. Steady state: 1,000 distinct one-hour queries with ``get_many``, default client settings,
   the emulator at the published limits (scale 1.0: 400 a minute, so N / rate = 150 s and the
   run crosses three windows; the issue's scale 0.1 would make 1,000 queries take 25 minutes).
   Printed: wall time against N / rate and against the exact bound (a full bucket sends 400 at
   once, ``_schedule.ideal_finish``), 429s drawn with the client alone on the account.

Figures of 0.2.0 (before issue 11), 2026-11-29: commit 8cdd29e (exported with ``git archive``
and run with ``PYTHONPATH=<copy>/src``, since the shared checkout was being edited), on a 2-core
Linux VM (23 GB) shared with other jobs (load average 4-6), Python 3.11. ``BEFORE`` holds them
for the table; where a part ran more than once, the median (the runs in brackets):
  1. (1 run) 1,460 requests, one per query and day, against a floor of 20: 73.0x; 0 x 429;
     1,460 files, none failed; every hour of the 6 series present once; wall 188.6 s (the
     rate limit: 400 at once, then one window's worth every 61 s); peak RSS of the export's
     process 145 MiB (94 MiB after imports).
  2. (3 runs) 5/30 answered, 25 lost (RateLimitError x 25); 100 x 429 drawn (25 queries x 4
     attempts, the default retry policy's backoff of 0.5, 1, 2 s between them); wall 11.9 s
     (12.3, 11.9, 11.9: about 3.5 s of retries per query, 8 queries in flight).
  3. (3 runs) 1,000/1,000 answered; wall 122.4 s (133.4, 122.4, 122.3) against N / rate 150 s
     (0.82x) and the exact bound 120 s (1.02x); 429s 0 (8, 0, 0: the run that drew 8, and
     took 133.4 s, is not explained; all 1,000 were answered); the first window's 400
     answered 0.5 s after the start (0.56, 0.47; not measured in the first run).
Rerun on d057f34 (the next commit: a clock seam, no change for issue 11), load average 1-3:
the same counts; walls 186.4 s, 11.9 s, 122.2 s; 146 MiB; 0 x 429; first window 0.46 s.

Run: python benchmarks/bench_budget.py [--part N ...] [--quick]
(--quick skips parts 2 and 3, which wait for real rate-limit windows; with 0.2.0 part 1 takes
about 3 minutes and the whole run about 5.5)
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx2
import pyarrow
import pyarrow.parquet
from _emulator_process import RunningEmulator, emulator_process
from _schedule import Budget, ideal_finish
from bench_bulk import Row, Section, print_table, seconds, verdict

import pyconviva
from pyconviva import ConvivaAPI, QuerySpec

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)  # the emulator's fixed data clock
LAST_MIDNIGHT = NOW.replace(hour=0)
HERE = Path(__file__).resolve().parent
EXPORT_CHILD = HERE / "_export_child.py"
BEFORE_LABEL = "0.2.0 (before #11)"

# The API's limits (reference §3.2 and §8), for the floor; not the client's planner.
MAX_SPAN = timedelta(days=90)
RETENTION = timedelta(days=396)  # 13 months
MAX_REPLY_BYTES = 5_700_000
HISTORICAL_PER_MINUTE = 400
PER_IP = Budget(3000, 300.0)

# Part 1
EXPORT_DAYS = 365
EXPORT_METRICS: list[str | list[str]] = ["attempts", ["plays", "bitrate"]]
EXPORT_GROUP_BYS: list[str | None] = [None, "isp"]
HOUR = timedelta(hours=1)

# Part 2
SHARED_SCALE = 0.1
FOREIGN_REQUESTS = 35
SHARED_QUERIES = 30
WINDOW = 60.0  # seconds: the account's budget is per minute

# Part 3
STEADY_SCALE = 1.0
STEADY_QUERIES = 1000
STEADY_CONCURRENCY = 8  # the client's default max_concurrency, for the exact bound

ATTEMPTS_PATH = "/insights/3.0/metrics/attempts"

# 0.2.0's figures (before issue 11), from the runs in the docstring: printed beside this run's.
BEFORE: dict[str, Any] = {
    "export_requests": 1460,
    "export_floor": 20,
    "export_429": 0,
    "export_hours_once": "yes",
    "export_files": "1,460, 0 (none)",
    "export_seconds": 188.6,
    "export_peak_mib": 145,
    "shared_answered": 5,
    "shared_lost": "RateLimitError x 25",
    "shared_429": 100,
    "shared_seconds": 11.9,
    "steady_answered": 1000,
    "steady_seconds": 122.4,
    "steady_429": "0 (8, 0, 0)",
    "steady_first_window": 0.5,
}


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def lost_by_type(errors: Counter[str]) -> str:
    return ", ".join(f"{name} x {count}" for name, count in errors.most_common()) or "none"


def compare(
    part: str,
    measure: str,
    ours: str,
    before: object,
    ratio: str = "",
    target: str = "",
    result: str = "info",
) -> Row:
    """A row with this run's figure beside 0.2.0's (before issue 11)."""
    return Row(part, measure, ours, BEFORE_LABEL, str(before), ratio, target, result)


def hour_ranges(count: int, skip: int = 0) -> list[tuple[datetime, datetime]]:
    """``count`` distinct one-hour ranges stepping back from the last midnight, after ``skip``."""
    ends = (LAST_MIDNIGHT - (skip + i) * HOUR for i in range(count))
    return [(end - HOUR, end) for end in ends]


def hour_specs(count: int) -> list[QuerySpec]:
    return [
        QuerySpec.historical("attempts", time_range=span, granularity="PT1H")
        for span in hour_ranges(count)
    ]


def default_client(emulator: RunningEmulator) -> ConvivaAPI:
    """A client with default settings; only its data clock is the emulator's fixed one."""
    return ConvivaAPI(
        client_key=emulator.client_key,
        client_id=emulator.client_id,
        base_url=emulator.base_url,
        clock=lambda: NOW,
    )


def raw_client(emulator: RunningEmulator) -> httpx2.Client:
    """Bare httpx2 on the account's credentials, no limiter, no retries: the size probes of part 1
    and the other consumer of part 2 (same credentials, so the same account window)."""
    return httpx2.Client(
        base_url=emulator.base_url, auth=(emulator.client_id, emulator.client_key), timeout=60.0
    )


@dataclass(frozen=True)
class BatchRun:
    seconds: float  # wall time of get_many
    answered: int
    lost: Counter[str]  # failed queries by error class
    statuses: Counter[int | None]  # every data-plane request of the run, from the emulator's log
    finished: list[float]  # seconds from the start at each progress report (a window answered)


def timed_batch(emulator: RunningEmulator, specs: Sequence[QuerySpec]) -> BatchRun:
    finished: list[float] = []
    with default_client(emulator) as api:
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            finished.append(time.perf_counter() - started)

        batch = api.get_many(specs, progress=progress)
        elapsed = time.perf_counter() - started
    lost = Counter(type(error).__name__ for error in batch.errors.values())
    answered = len(batch) - len(batch.errors)
    return BatchRun(elapsed, answered, lost, emulator.statuses(), finished)


# -- part 1: an export in the fewest requests -----------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """One query of the export as the API names it: metrics in the path, a group-by or none."""

    metrics: tuple[str, ...]
    group_by: str | None

    def request(self, start: datetime, end: datetime) -> tuple[str, list[tuple[str, str]]]:
        """The path and query of one hourly request over [start, end)."""
        single = len(self.metrics) == 1
        path = "/insights/3.0/metrics/" + (self.metrics[0] if single else "custom-selection")
        if self.group_by is not None:
            path += f"/group-by/{self.group_by}"
        params = [] if single else [("metric", name) for name in self.metrics]
        params += [("start_date", iso(start)), ("end_date", iso(end)), ("granularity", "PT1H")]
        return path, params

    def series(self) -> list[tuple[str | None, str]]:
        """(dimension, metric) of each series the dataset holds for this query."""
        return [(self.group_by, metric) for metric in self.metrics]


def export_selections() -> list[Selection]:
    return [
        Selection((metrics,) if isinstance(metrics, str) else tuple(metrics), group_by)
        for metrics in EXPORT_METRICS
        for group_by in EXPORT_GROUP_BYS
    ]


def fewest_windows(span: timedelta, reply_bytes_per_day: float) -> int:
    """The fewest requests the API allows for ``span``: no window over 90 days, no reply over
    the size cap (the reply's size taken as proportional to the days it covers)."""
    by_span = math.ceil(span / MAX_SPAN)
    by_size = math.ceil(reply_bytes_per_day * (span / timedelta(days=1)) / MAX_REPLY_BYTES)
    return max(by_span, by_size)


@dataclass(frozen=True)
class SizeProbe:
    """One reply of a query, over the longest window the API answered: ``days`` and ``size``."""

    days: int
    size: int

    @property
    def bytes_per_day(self) -> float:
        return self.size / self.days


def probe_size(emulator: RunningEmulator, selection: Selection, end: datetime) -> SizeProbe:
    """The size of one reply for ``selection`` ending at ``end``: over 90 days, or, when that
    draws a 413 (the emulator's large audience makes grouped 90-day replies exceed the cap),
    over half as many whole days, and so on. A reply's size grows with the days it covers (the
    envelope is a few hundred bytes), so its size per day sizes any window."""
    days = MAX_SPAN.days
    with raw_client(emulator) as client:
        while True:
            path, params = selection.request(end - timedelta(days=days), end)
            reply = client.get(path, params=params)
            if reply.status_code != 413 or days == 1:
                break
            days //= 2
    reply.raise_for_status()
    return SizeProbe(days, len(reply.content))


def run_export(emulator: RunningEmulator, directory: Path, start: datetime) -> dict[str, Any]:
    """``export_dataset`` in a child process (``_export_child``); its JSON report."""
    job = {
        "base_url": emulator.base_url,
        "client_id": emulator.client_id,
        "client_key": emulator.client_key,
        "now": NOW.isoformat(),
        "start": iso(start),
        "end": iso(LAST_MIDNIGHT),
        "directory": str(directory),
        "metrics": EXPORT_METRICS,
        "group_bys": EXPORT_GROUP_BYS,
    }
    done = subprocess.run(
        [sys.executable, str(EXPORT_CHILD)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the export process failed:\n{done.stderr.strip()}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@dataclass(frozen=True)
class Coverage:
    """How the dataset's rows cover the hourly grid, series by series."""

    series: int  # (dimension, metric) series expected
    missing: int  # expected series-hours with no row
    extra: int  # series-hours outside the range or of a series not asked for
    duplicates: int  # rows whose (timestamp, dimension, value, metric, field) repeats

    def every_hour_once(self) -> bool:
        return self.missing == self.extra == self.duplicates == 0

    def describe(self) -> str:
        if self.every_hour_once():
            return "yes"
        return f"no: {self.missing} missing, {self.extra} extra, {self.duplicates} duplicate rows"


def read_coverage(
    directory: Path, start: datetime, end: datetime, expected: Sequence[tuple[str | None, str]]
) -> Coverage:
    """Read every Parquet file back (each file alone: no partition columns added)."""
    tables = [pyarrow.parquet.ParquetFile(path).read() for path in directory.rglob("*.parquet")]
    table = pyarrow.concat_tables(tables)
    stamps = table.column("timestamp").cast(pyarrow.int64()).to_pylist()
    names = ("dimension", "dimension_value", "metric", "field")
    keys = list(zip(stamps, *(table.column(name).to_pylist() for name in names), strict=True))
    hours: dict[tuple[str | None, str], set[int]] = {series: set() for series in expected}
    for stamp, dimension, _value, metric, _field in keys:
        hours.setdefault((dimension, metric), set()).add(stamp)
    step = int(HOUR / timedelta(milliseconds=1))
    grid = set(range(int(start.timestamp() * 1000), int(end.timestamp() * 1000), step))
    return Coverage(
        series=len(expected),
        missing=sum(len(grid - hours[series]) for series in expected),
        extra=sum(
            len(stamps - grid if series in expected else stamps) for series, stamps in hours.items()
        ),
        duplicates=len(keys) - len(set(keys)),
    )


def part_export() -> Section:
    span = timedelta(days=EXPORT_DAYS)
    start = LAST_MIDNIGHT - span
    if start < NOW - RETENTION:
        raise ValueError(f"the export starts before the API's retention ({RETENTION.days} days)")
    selections = export_selections()
    with emulator_process(now=NOW) as emulator, tempfile.TemporaryDirectory() as folder:
        probes = [probe_size(emulator, s, LAST_MIDNIGHT) for s in selections]
        floor = sum(fewest_windows(span, probe.bytes_per_day) for probe in probes)
        emulator.restart(rate_limit=1.0)  # the published limits; the probes leave the log
        report = run_export(emulator, Path(folder), start)
        statuses = emulator.statuses()
        expected = [series for s in selections for series in s.series()]
        coverage = read_coverage(Path(folder), start, LAST_MIDNIGHT, expected)
    requests = sum(statuses.values())
    wall = report["seconds"]
    failed = sum(report["errors"].values())
    before_requests = BEFORE["export_requests"]
    before_ratio = before_requests / BEFORE["export_floor"]
    rows = [
        compare(
            "1",
            f"requests sent, {len(selections)} queries x {EXPORT_DAYS} days hourly (emulator log)",
            f"{requests:,}",
            f"{before_requests:,}",
            f"{requests / floor:.1f}x floor (0.2.0: {before_ratio:.1f}x)",
            f"<= 2x floor ({2 * floor})",
            verdict(requests <= 2 * floor),
        ),
        compare("1", "floor: sum of the fewest legal windows", str(floor), BEFORE["export_floor"]),
        compare(
            "1", "429 replies drawn (emulator log)", str(statuses.get(429, 0)), BEFORE["export_429"]
        ),
        compare(
            "1",
            f"every hour of the {coverage.series} series present once (Parquet read back)",
            coverage.describe(),
            BEFORE["export_hours_once"],
            "",
            "yes",
            verdict(coverage.every_hour_once()),
        ),
        compare(
            "1",
            "files written, units failed",
            f"{report['written']:,}, {failed} ({lost_by_type(Counter(report['errors']))})",
            BEFORE["export_files"],
        ),
        compare(
            "1",
            "wall time of export_dataset",
            seconds(wall),
            seconds(BEFORE["export_seconds"]),
            f"0.2.0/ours {BEFORE['export_seconds'] / wall:.1f}x",
        ),
        compare(
            "1",
            "peak memory: ru_maxrss of the export's process",
            f"{mib(report['rss_peak_kib'])} ({mib(report['rss_after_imports_kib'])} after imports)",
            f"{BEFORE['export_peak_mib']} MiB",
        ),
    ]
    largest = max(probes, key=lambda probe: probe.bytes_per_day)
    per_window = largest.bytes_per_day * MAX_SPAN.days
    probed = ", ".join(f"{probe.days} d" for probe in probes)
    notes = [
        f"1: {iso(start)}..{iso(LAST_MIDNIGHT)}, data clock {iso(NOW)} (retention reaches back to "
        f"{iso(NOW - RETENTION)}); metrics={EXPORT_METRICS}, group_bys={EXPORT_GROUP_BYS}. Floor "
        f"per query: ceil({EXPORT_DAYS} d / 90 d) = 5 windows, or more where the size cap needs "
        f"them: {EXPORT_DAYS} d x the bytes per day of one reply per query, probed over 90 days "
        f"or, after a 413, fewer ({probed}). The largest query would reply {per_window:,.0f} "
        f"bytes over 90 days ({largest.size:,} over {largest.days} d) of the "
        f"{MAX_REPLY_BYTES:,} allowed. Peak memory: resource.getrusage(RUSAGE_SELF).ru_maxrss "
        "in the child process that runs only the export (Python, pyarrow and httpx2 loaded)."
    ]
    return Section(rows, notes)


# -- part 2: a budget shared with another consumer ------------------------------------------------


def spend_foreign(emulator: RunningEmulator, count: int) -> Counter[int]:
    """Send ``count`` one-hour requests as another consumer of the account; their statuses."""
    statuses: Counter[int] = Counter()
    with raw_client(emulator) as client:
        for start, end in hour_ranges(count, skip=SHARED_QUERIES):
            params = {"start_date": iso(start), "end_date": iso(end), "granularity": "PT1H"}
            statuses[client.get(ATTEMPTS_PATH, params=params).status_code] += 1
    return statuses


def part_shared_budget() -> Section:
    budget = int(HISTORICAL_PER_MINUTE * SHARED_SCALE)
    with emulator_process(now=NOW) as emulator:
        emulator.warm_up(ATTEMPTS_PATH, {"days": "1"})
        emulator.restart(rate_limit=SHARED_SCALE)
        foreign = spend_foreign(emulator, FOREIGN_REQUESTS)
        run = timed_batch(emulator, hour_specs(SHARED_QUERIES))
    drawn = run.statuses.get(429, 0) - foreign.get(429, 0)
    complete = run.answered == SHARED_QUERIES
    limit = 1.15 * WINDOW
    rows = [
        compare(
            "2",
            f"queries answered, get_many of {SHARED_QUERIES} after {FOREIGN_REQUESTS} foreign "
            f"of {budget}/min",
            f"{run.answered}/{SHARED_QUERIES}",
            f"{BEFORE['shared_answered']}/{SHARED_QUERIES}",
            "",
            f"{SHARED_QUERIES}/{SHARED_QUERIES}",
            verdict(complete),
        ),
        compare(
            "2", "queries lost, by error", lost_by_type(run.lost), BEFORE["shared_lost"], "", "none"
        ),
        compare(
            "2",
            "429 replies drawn by the client (emulator log)",
            str(drawn),
            BEFORE["shared_429"],
            "",
            "<= 3",
            verdict(drawn <= 3),
        ),
        compare(
            "2",
            "wall time of get_many",
            seconds(run.seconds),
            seconds(BEFORE["shared_seconds"]),
            f"{run.seconds / WINDOW:.2f}x the {WINDOW:g} s window",
            f"<= {limit:g} s, all answered",
            verdict(complete and run.seconds <= limit),
        ),
    ]
    notes = [
        f"2: emulator rate_limit={SHARED_SCALE} ({budget} historical a minute per account, "
        f"{int(PER_IP.requests * SHARED_SCALE)} per 5 minutes per IP). The other consumer (raw "
        f"httpx2, same credentials) got {dict(foreign)} for its {FOREIGN_REQUESTS} requests; "
        "ours: one-hour 'attempts' queries on distinct hours, ConvivaAPI with default settings "
        "(its limiter knows the published limits, not the scaled ones). The wall row passes "
        "only when no query was lost."
    ]
    return Section(rows, notes)


# -- part 3: the steady state at the published limit ----------------------------------------------


def part_steady_state() -> Section:
    per_minute = HISTORICAL_PER_MINUTE * STEADY_SCALE
    ideal = STEADY_QUERIES / (per_minute / WINDOW)
    budgets = [
        Budget(int(per_minute), WINDOW),
        Budget(int(PER_IP.requests * STEADY_SCALE), PER_IP.window),
    ]
    bound = ideal_finish(STEADY_QUERIES, 0.0, STEADY_CONCURRENCY, budgets)
    with emulator_process(now=NOW) as emulator:
        emulator.warm_up(ATTEMPTS_PATH, {"days": "1"})
        emulator.restart(rate_limit=STEADY_SCALE)
        run = timed_batch(emulator, hour_specs(STEADY_QUERIES))
    drawn = run.statuses.get(429, 0)
    budget = budgets[0].requests
    first_window = run.finished[budget - 1] if len(run.finished) >= budget else float("nan")
    rows = [
        compare(
            "3",
            f"queries answered, get_many of {STEADY_QUERIES:,} at {per_minute:g}/min",
            f"{run.answered:,}/{STEADY_QUERIES:,}",
            f"{BEFORE['steady_answered']:,}/{STEADY_QUERIES:,}",
            "",
            "all",
            verdict(run.answered == STEADY_QUERIES),
        ),
        compare(
            "3",
            "wall time of get_many",
            seconds(run.seconds),
            seconds(BEFORE["steady_seconds"]),
            f"{run.seconds / ideal:.2f}x N/rate ({ideal:g} s)",
            "<= 1.1x N/rate",
            verdict(run.seconds <= 1.1 * ideal),
        ),
        compare(
            "3",
            "wall time against the exact bound",
            seconds(run.seconds),
            seconds(BEFORE["steady_seconds"]),
            f"{run.seconds / bound:.2f}x bound ({bound:g} s)",
        ),
        compare(
            "3",
            "429 replies drawn, client alone (emulator log)",
            str(drawn),
            BEFORE["steady_429"],
            "",
            "0",
            verdict(drawn == 0),
        ),
        compare(
            "3",
            f"first window's budget ({budget}) answered after (progress callback)",
            seconds(first_window),
            seconds(BEFORE["steady_first_window"]),
        ),
    ]
    notes = [
        f"3: emulator rate_limit={STEADY_SCALE:g} (the published limits), no latency; "
        f"{STEADY_QUERIES:,} one-hour 'attempts' queries on distinct hours, ConvivaAPI with "
        f"default settings ({STEADY_CONCURRENCY} in flight). N/rate = {STEADY_QUERIES:,} / "
        f"{per_minute:g} a minute. Exact bound: a bucket holding a whole window's budget sends "
        "it at once, then one window's worth per window (_schedule.ideal_finish)."
    ]
    return Section(rows, notes)


# -- running the parts ----------------------------------------------------------------------------

PARTS: dict[str, tuple[str, Callable[[], Section], bool]] = {  # title, run, takes real minutes
    "1": ("export of 365 days x 4 queries", part_export, False),
    "2": ("a budget shared with another consumer", part_shared_budget, True),
    "3": ("steady state at the published limit", part_steady_state, True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", action="append", choices=sorted(PARTS), help="run only this part (repeatable)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="skip the parts that wait for real windows (2, 3)"
    )
    args = parser.parse_args()
    print(f"pyconviva {pyconviva.__version__} from {Path(pyconviva.__file__).parent}")
    rows: list[Row] = []
    notes: list[str] = []
    for number in args.part or sorted(PARTS):
        title, run, slow = PARTS[number]
        if slow and args.quick:
            print(f"part {number} ({title}): skipped (--quick)")
            continue
        started = time.perf_counter()
        try:
            section = run()
        except Exception:
            print(f"part {number} ({title}) failed:\n{traceback.format_exc()}")
            continue
        rows.extend(section.rows)
        notes.extend(section.notes)
        print(f"part {number} ({title}) done in {time.perf_counter() - started:.1f} s", flush=True)
    if rows:
        print()
        print_table(rows)
        print()
        print("\n".join(textwrap.fill(note, width=100) for note in notes))


if __name__ == "__main__":
    main()
