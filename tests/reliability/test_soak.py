"""Fault soak: hundreds of requests under 30 % injected faults give the fault-free answers.

A ``get_many`` batch of 300 distinct queries (389 request windows, 582 requests: historical and
real-time, group-bys, filters, metric groups, minutely and long daily ranges split into several
windows, five unknown metrics the API answers 404) runs in process on a fresh emulator, once
fault-free and once with two scripted 429 storms and then a seeded fault on 30 % of requests,
drawn from every kind the reliability issue lists (:data:`soak_report.MIX`). The client has the
default retry policy, what users get, and waits on a ``pyconviva.testing.VirtualClock`` (its
``clock=`` argument), so the soak costs only the emulator's work (some 15 s on two cores). The
batch runs on the async client, whose waits overlap on a virtual clock as real ones do (see
``soak_report``). An export of 120 files is soaked the same way.

``python -m pytest -m soak`` runs these alone; ``PYCONVIVA_SOAK_QUERIES=2000`` makes the batch
larger. ``python benchmarks/soak_report.py`` prints the figures.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from pyconviva import MetricsResult, NotFoundError
from pyconviva.emulator import LoggedRequest, SlowReply

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from soak_report import (  # noqa: E402
    FAULT_RATE,
    KINDS,
    MIX,
    POLICY,
    QUERIES,
    RETRY_AFTER,
    STORMED,
    TIMEOUT,
    UNITS,
    UNKNOWN_METRICS,
    SoakRun,
    differences,
    export_days,
    faults_by_kind,
    files,
    is_retry,
    run_batch,
    run_export,
    soak_emulator,
    soak_specs,
    target,
    warnings_logged,
)

pytestmark = pytest.mark.soak

SIZE = int(os.environ.get("PYCONVIVA_SOAK_QUERIES", QUERIES))
Target = tuple[str, tuple[tuple[str, str], ...]]


@pytest.fixture(scope="module")
def clean() -> SoakRun:
    return run_batch(soak_emulator(faulted=False), soak_specs(SIZE))


@pytest.fixture(scope="module")
def faulted() -> SoakRun:
    return run_batch(soak_emulator(faulted=True), soak_specs(SIZE))


def retried_target(record: logging.LogRecord) -> Target:
    """The window a retry record names (its first argument is ``"GET <url>"``)."""
    assert isinstance(record.args, tuple)
    method, url = str(record.args[0]).split(" ", 1)
    assert method == "GET"
    parts = urlsplit(url)
    return unquote(parts.path), tuple(parse_qsl(parts.query, keep_blank_values=True))


def by_target(requests: tuple[LoggedRequest, ...]) -> dict[Target, list[LoggedRequest]]:
    found: dict[Target, list[LoggedRequest]] = defaultdict(list)
    for entry in requests:
        found[target(entry)].append(entry)
    return found


def test_the_soak_mix_holds_every_fault_kind_the_issue_names() -> None:
    # DEFAULT_RANDOM_MIX (Emulator(fault_rate=...)) covers the same kinds; the soak names its own
    # mix for a Retry-After (2.5 s) that no backoff wait can equal, which tells the 429s apart.
    kinds = {
        (type(f).__name__, getattr(f, "status", None), getattr(f, "retry_after", None)) for f in MIX
    }
    assert kinds >= {("StatusFault", status, None) for status in (500, 502, 503)}
    assert kinds >= {("RateLimitStorm", None, None), ("RateLimitStorm", None, RETRY_AFTER)}
    assert kinds >= {("NonJSONBody", 502, None)}
    assert {"DropConnection", "SlowReply", "TruncateBody"} <= {name for name, _, _ in kinds}
    assert all(f.delay > TIMEOUT for f in MIX if isinstance(f, SlowReply))


def test_the_fault_free_run_sends_each_window_once(clean: SoakRun) -> None:
    assert len(clean.requests) == clean.windows > SIZE  # some queries split into windows
    assert all(count == 1 for count in Counter(map(target, clean.requests)).values())
    assert all(entry.fault is None for entry in clean.requests)
    assert clean.warnings == ()


def test_at_least_500_requests_reach_the_emulator_and_30_percent_of_the_drawn_are_faulted(
    faulted: SoakRun,
) -> None:
    requests = len(faulted.requests)
    hit = [entry for entry in faulted.requests if entry.fault is not None]
    assert requests >= 500
    assert [entry.status for entry in faulted.requests[:STORMED]] == [429] * STORMED
    drawn = (len(hit) - STORMED) / (requests - STORMED)
    assert FAULT_RATE - 0.03 <= drawn <= FAULT_RATE + 0.03


def test_every_fault_kind_the_issue_names_was_injected(faulted: SoakRun) -> None:
    counts = faults_by_kind(faulted)
    assert set(counts) == set(KINDS)
    assert min(counts.values()) >= 10
    storm = STORMED // 2
    assert counts["429 with Retry-After"] >= storm
    assert counts["429 without Retry-After"] >= storm
    assert sum(counts.values()) == sum(entry.fault is not None for entry in faulted.requests)


def test_every_query_under_faults_has_exactly_its_fault_free_outcome(
    faulted: SoakRun, clean: SoakRun
) -> None:
    assert differences(faulted, clean) == {}
    for mine, theirs in zip(faulted.outcomes, clean.outcomes, strict=True):
        if isinstance(theirs, MetricsResult):
            assert isinstance(mine, MetricsResult)
            assert dict(mine) == dict(theirs)  # the raw JSON, value for value
            assert mine.records() == theirs.records()
    errors = [outcome for outcome in faulted.outcomes if not isinstance(outcome, MetricsResult)]
    assert len(errors) == len(UNKNOWN_METRICS)  # the unknown metrics, and only they
    assert all(isinstance(error, NotFoundError) for error in errors)


def test_no_window_ran_out_of_retries_and_429s_did_not_count(faulted: SoakRun) -> None:
    windows = by_target(faulted.requests)
    counted = {
        window: sum(entry.fault is not None and entry.status != 429 for entry in entries)
        for window, entries in windows.items()
    }
    assert max(counted.values()) < POLICY.max_retries  # at least one retry to spare
    assert all(entries[-1].fault is None for entries in windows.values())


def test_every_retry_is_a_warning_on_the_pyconviva_logger(faulted: SoakRun, clean: SoakRun) -> None:
    retries = faulted.retries
    assert len(retries) == len(faulted.requests) - faulted.windows
    assert len(retries) == sum(entry.fault is not None for entry in faulted.requests)
    assert faulted.warnings == tuple(retries)  # nothing else was warned about
    assert all(r.levelno == logging.WARNING and r.name == "pyconviva" for r in retries)

    kinds = faults_by_kind(faulted)
    assert Counter(r.__dict__["reason"] for r in retries) == {
        "HTTP 500": kinds["HTTP 500"],
        "HTTP 502": kinds["HTTP 502"] + kinds["HTML page (502)"],
        "HTTP 503": kinds["HTTP 503"],
        "HTTP 429": kinds["429 with Retry-After"] + kinds["429 without Retry-After"],
        "connection (RemoteProtocolError)": kinds["dropped connection"] + kinds["truncated body"],
        "timeout (ReadTimeout)": kinds["slow reply past the timeout"],
    }

    numbers: dict[Target, list[int]] = defaultdict(list)
    for record in retries:
        numbers[retried_target(record)].append(record.__dict__["attempt"])
    for window, entries in by_target(faulted.requests).items():
        faults = sum(entry.fault is not None for entry in entries)
        assert sorted(numbers.get(window, [])) == list(range(1, faults + 1)), window


def test_nothing_is_retried_that_is_not_safe(faulted: SoakRun, clean: SoakRun) -> None:
    assert {entry.method for entry in faulted.requests} == {"GET"}
    windows = by_target(faulted.requests)
    assert set(windows) == {target(entry) for entry in clean.requests}  # nothing else sent
    for window, entries in windows.items():
        *retried, final = entries
        assert all(entry.fault is not None for entry in retried), window  # only faults retried
        assert final.fault is None, window
    not_found = [entries for entries in windows.values() if entries[-1].status == 404]
    assert len(not_found) == len(UNKNOWN_METRICS)
    for entries in not_found:  # each unknown metric got its 404 once, and was not asked again
        assert sum(entry.fault is None for entry in entries) == 1


def test_an_export_of_120_units_under_faults_writes_the_fault_free_files_byte_for_byte(
    tmp_path: Path,
) -> None:
    pytest.importorskip("pyarrow")
    days = export_days(UNITS)
    clean_emulator = soak_emulator(faulted=False)
    clean, _ = run_export(clean_emulator, tmp_path / "clean", days)
    emulator = soak_emulator(faulted=True)
    with warnings_logged() as warnings:
        summary, _ = run_export(emulator, tmp_path / "faulted", days)

    assert not clean.errors
    assert not summary.errors
    assert len(summary.written) >= UNITS
    assert files(tmp_path / "faulted") == files(tmp_path / "clean")
    requests = emulator.requests()
    faults = sum(entry.fault is not None for entry in requests)
    assert len(requests) == len(clean_emulator.requests()) + faults
    assert faults >= 0.25 * len(requests)
    assert len(warnings) == faults  # one retry logged per fault, nothing else
    assert all(is_retry(record) for record in warnings)
    assert {entry.fault for entry in requests} >= {
        "status",
        "rate_limit_storm",
        "drop",
        "slow",
        "truncate",
        "non_json",
    }
