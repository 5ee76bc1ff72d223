"""Scripted emulator faults through the real client: a bad minute is ridden out, and when it
cannot be, the error says which query failed and why.

Each fault scenario runs one query twice — on a fault-free emulator and on one with the faults
scripted — and the retried result must equal the fault-free one value for value. Every retry
must be logged on the ``pyconviva`` logger. The clients wait on a virtual clock (their
``clock=`` argument), so backoff and ``Retry-After`` cost no real time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from pyconviva import (
    APIConnectionError,
    APITimeoutError,
    AsyncConvivaAPI,
    ConvivaAPI,
    ConvivaError,
    ExportSummary,
    MetricsResult,
    QuerySpec,
    RateLimitError,
    RetryPolicy,
    ServerError,
    UnexpectedResponseError,
    export_dataset,
)
from pyconviva.emulator import (
    DropConnection,
    Emulator,
    Fault,
    NonJSONBody,
    RateLimitStorm,
    SlowReply,
    StatusFault,
    TruncateBody,
)
from pyconviva.testing import VirtualClock

NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=timezone.utc)
TIMEOUT = 5.0
QUERY: dict[str, Any] = {
    "metrics": ["attempts", "plays", "bitrate"],
    "group_by": "isp",
    "time_range": ("2026-11-10", "2026-11-12T06:00:00Z"),
    "granularity": "PT1H",
}
PATH = "/insights/3.0/metrics/custom-selection/group-by/isp"
WINDOW = ("2026-11-10T00:00:00Z", "2026-11-12T06:00:00Z")


def fast_client(emulator: Emulator, clock: VirtualClock, **options: Any) -> ConvivaAPI:
    options.setdefault("timeout", TIMEOUT)
    return emulator.client(rate_limit=False, clock=clock, **options)


@pytest.fixture(scope="module")
def fault_free() -> MetricsResult:
    with Emulator(now=NOW).client(rate_limit=False) as api:
        return api.get_historical_data(**QUERY)


@pytest.fixture
def retries(caplog: pytest.LogCaptureFixture) -> Callable[[], list[logging.LogRecord]]:
    """The retry records logged on 'pyconviva' so far."""
    caplog.set_level(logging.DEBUG, logger="pyconviva")
    return lambda: [r for r in caplog.records if r.name == "pyconviva" and "Retrying" in r.msg]


@dataclass(frozen=True)
class Scenario:
    name: str
    faults: tuple[Fault, ...]
    reason: str  # how the log names the cause of each retry
    waits: tuple[float, ...] | None = None  # exact waits when the server dictates them


SCENARIOS = [
    Scenario("one 500", (StatusFault(status=500),), "HTTP 500"),
    Scenario("two 502s", (StatusFault(status=502, times=2),), "HTTP 502"),
    Scenario("three 503s", (StatusFault(status=503, times=3),), "HTTP 503"),
    Scenario("a 500 then a 503", (StatusFault(status=500), StatusFault(status=503)), "HTTP 5"),
    Scenario(
        "a 429 storm without Retry-After (each waits out the window)",
        (RateLimitStorm(times=3),),
        "HTTP 429",
        waits=(61.0, 61.0, 61.0),
    ),
    Scenario(
        "a 429 storm with Retry-After",
        (RateLimitStorm(times=3, retry_after=7),),
        "HTTP 429",
        waits=(7.0, 7.0, 7.0),
    ),
    Scenario(
        "a 503 with a Retry-After of two minutes (obeyed: it fits the deadline)",
        (StatusFault(status=503, retry_after=120),),
        "HTTP 503",
        waits=(120.0,),
    ),
    Scenario("a dropped connection", (DropConnection(),), "connection (RemoteProtocolError)"),
    Scenario("two dropped connections", (DropConnection(times=2),), "connection"),
    Scenario("a reply past the timeout", (SlowReply(delay=60.0),), "timeout (ReadTimeout)"),
    Scenario("a truncated body", (TruncateBody(keep=0.5),), "connection (RemoteProtocolError)"),
    Scenario("an empty truncated body", (TruncateBody(keep=0.0),), "connection"),
    Scenario("an HTML 502 from a gateway", (NonJSONBody(status=502),), "HTTP 502"),
    Scenario(
        "a 503, a 429 and a late reply",
        (StatusFault(status=503), RateLimitStorm(times=1), SlowReply(delay=60.0)),
        "",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_a_query_retried_through_faults_returns_exactly_the_fault_free_result(
    scenario: Scenario,
    fault_free: MetricsResult,
    clock: VirtualClock,
    retries: Callable[[], list[logging.LogRecord]],
) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(*scenario.faults)
    faults = sum(fault.times for fault in scenario.faults)
    with fast_client(emulator, clock) as api:
        result = api.get_historical_data(**QUERY)

    assert dict(result) == dict(fault_free)  # the raw reply, value for value
    assert result.records() == fault_free.records()
    assert result.totals() == fault_free.totals()
    assert not result.is_partial
    assert emulator.pending_faults() == []
    log = emulator.requests()
    assert len(log) == faults + 1
    assert [entry.fault is not None for entry in log] == [True] * faults + [False]

    logged = retries()
    assert len(logged) == faults == len(clock.sleeps)
    counted = 0
    for number, record in enumerate(logged, start=1):
        assert record.levelno == logging.WARNING
        message = unquote(record.getMessage())
        assert PATH in message
        assert f"start_date={WINDOW[0]}&end_date={WINDOW[1]}" in message
        if record.__dict__["reason"] == "HTTP 429":
            assert "(rate limited: not counted against max_retries)" in message
        else:
            counted += 1
            assert f"(retry {counted} of 10)" in message
        assert scenario.reason in message
        assert record.__dict__["attempt"] == number
        assert record.__dict__["delay"] == clock.sleeps[number - 1]
    if scenario.waits is not None:
        assert clock.sleeps == scenario.waits


def test_backoff_grows_between_retries_when_the_server_gives_no_retry_after(
    clock: VirtualClock,
) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=503, times=3))
    policy = RetryPolicy(backoff_base=0.5, backoff_factor=2.0, jitter=0.0)
    with fast_client(emulator, clock, retry=policy) as api:
        api.get_historical_data(**QUERY)
    assert clock.sleeps == (0.5, 1.0, 2.0)


EXHAUSTED = [
    ("503 every time", StatusFault(status=503, times=9), ServerError, "HTTP 503"),
    ("500 every time", StatusFault(status=500, times=9), ServerError, "HTTP 500"),
    ("dropped every time", DropConnection(times=9), APIConnectionError, "RemoteProtocolError"),
    ("late every time", SlowReply(delay=60.0, times=9), APITimeoutError, "timed out"),
    ("cut short every time", TruncateBody(times=9), APIConnectionError, "complete message body"),
    ("HTML 502 every time", NonJSONBody(status=502, times=9), ServerError, "502 Bad Gateway"),
]


@pytest.mark.parametrize(
    ("case", "fault", "expected", "why"), EXHAUSTED, ids=[case for case, *_ in EXHAUSTED]
)
def test_when_retries_are_exhausted_the_error_names_the_query_window_and_reason(
    case: str,
    fault: Fault,
    expected: type[ConvivaError],
    why: str,
    clock: VirtualClock,
    retries: Callable[[], list[logging.LogRecord]],
) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(fault)
    policy = RetryPolicy(max_retries=3)
    with fast_client(emulator, clock, retry=policy) as api, pytest.raises(expected) as caught:
        api.get_historical_data(**QUERY)
    error = caught.value
    text = unquote(str(error))
    assert PATH in text
    for metric in QUERY["metrics"]:
        assert f"metric={metric}" in text
    assert f"start_date={WINDOW[0]}&end_date={WINDOW[1]}" in text
    assert why in text
    assert "Gave up after 4 attempts" in text
    assert "max_retries=3" in text
    assert len(emulator.requests()) == 4
    assert len(retries()) == 3
    assert error.__cause__ is not None or isinstance(error, ServerError)


def test_429s_are_not_counted_against_max_retries_only_the_deadline_ends_them(
    clock: VirtualClock,
) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(RateLimitStorm(times=9, retry_after=1))
    with fast_client(emulator, clock, retry=RetryPolicy(max_retries=3)) as api:
        api.get_historical_data(**QUERY)
    assert clock.sleeps == (1.0,) * 9
    assert len(emulator.requests()) == 10


def test_the_total_time_budget_ends_retries_early_and_says_so(clock: VirtualClock) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(RateLimitStorm(times=9, retry_after=25))
    policy = RetryPolicy(max_retries=5, total_timeout=60.0)
    with fast_client(emulator, clock, retry=policy) as api, pytest.raises(RateLimitError) as caught:
        api.get_historical_data(**QUERY)
    assert clock.sleeps == (25.0, 25.0)  # a third wait would end past the 60 s budget
    assert "Gave up after 3 attempts" in str(caught.value)
    assert "total_timeout=60 s" in str(caught.value)
    assert "the server asked to wait 25 s (Retry-After), past the deadline" in str(caught.value)


def test_a_fault_that_is_not_transient_is_not_retried(clock: VirtualClock) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=400, body='{"name": "BadRequest", "message": "no"}'))
    with fast_client(emulator, clock) as api, pytest.raises(ConvivaError) as caught:
        api.get_historical_data(**QUERY)
    assert getattr(caught.value, "status_code", None) == 400
    assert len(emulator.requests()) == 1
    assert clock.sleeps == ()


def test_an_html_page_with_status_200_is_reported_not_retried_and_names_the_request(
    clock: VirtualClock,
) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(NonJSONBody(status=200))
    with fast_client(emulator, clock) as api, pytest.raises(UnexpectedResponseError) as caught:
        api.get_historical_data(**QUERY)
    text = unquote(str(caught.value))
    assert "not JSON" in text
    assert PATH in text
    assert caught.value.body is not None
    assert caught.value.body.startswith("<!DOCTYPE html>")
    assert len(emulator.requests()) == 1


def test_the_give_up_error_states_the_window_readably(clock: VirtualClock) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=503, times=11))
    with fast_client(emulator, clock) as api, pytest.raises(ServerError) as caught:
        api.get_historical_data("attempts", group_by="isp", time_range=2)
    assert "2026-11-18T12:00:00Z..2026-11-20T12:00:00Z" in str(caught.value)


async def test_the_async_client_rides_out_the_same_faults(
    fault_free: MetricsResult,
    clock: VirtualClock,
    retries: Callable[[], list[logging.LogRecord]],
) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(
        StatusFault(status=503), RateLimitStorm(times=1, retry_after=2), DropConnection()
    )
    api: AsyncConvivaAPI = emulator.async_client(rate_limit=False, timeout=TIMEOUT, clock=clock)
    async with api:
        result = await api.get_historical_data(**QUERY)
    assert dict(result) == dict(fault_free)
    assert len(retries()) == 3
    assert clock.sleeps[1] == 2.0


async def test_the_async_client_names_the_query_when_it_gives_up(clock: VirtualClock) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(SlowReply(delay=60.0, times=9))
    api: AsyncConvivaAPI = emulator.async_client(
        rate_limit=False, timeout=TIMEOUT, clock=clock, retry=RetryPolicy(max_retries=3)
    )
    async with api:
        with pytest.raises(APITimeoutError) as caught:
            await api.get_historical_data(**QUERY)
    assert f"start_date={WINDOW[0]}" in unquote(str(caught.value))
    assert "Gave up after 4 attempts" in str(caught.value)


# ------------------------------------------------------------------------------ soak: batches


SOAK_FAULTS: tuple[Fault, ...] = (
    StatusFault(status=503),
    StatusFault(status=500),
    RateLimitStorm(times=1, retry_after=1),
    RateLimitStorm(times=1),
    DropConnection(),
    TruncateBody(keep=0.3),
    NonJSONBody(status=502),
    SlowReply(delay=60.0),
)
SOAK_SPECS = [
    QuerySpec.historical(["attempts", "plays"], group_by="isp", time_range=3),
    QuerySpec.historical("bitrate", time_range=("2026-06-01", "2026-11-01"), granularity="P1D"),
    QuerySpec.historical("attempts", group_by="device-os", time_range=1, granularity="PT5M"),
    QuerySpec.historical("quality-summary", group_by={"custom-tag": "appVersion"}, time_range=2),
    QuerySpec.historical("unique-devices", filter_by={"isp": ["Optus", "Vodafone"]}, time_range=7),
    QuerySpec.historical("rebuffering-ratio", group_by="cdn", time_range=14, granularity="PT6H"),
    QuerySpec.historical(["ended-plays", "minutes-played"], time_range=30, granularity="P1D"),
    QuerySpec.historical("plays", group_by="geo-country-code", time_range=1, limit=5),
    QuerySpec.real_time("concurrent-plays", group_by="cdn"),
    QuerySpec.real_time(["attempts", "video-start-time"], time_range=10, granularity="PT30S"),
    QuerySpec.historical("attempts", group_by="not-a-dimension", time_range=1),
    QuerySpec.historical("attempts", time_range=500),
]
SOAK_RATE = 0.4


def soak_client(
    emulator: Emulator, clock: VirtualClock, max_retries: int = 6, **options: Any
) -> ConvivaAPI:
    policy = RetryPolicy(max_retries=max_retries)
    return emulator.client(timeout=TIMEOUT, retry=policy, clock=clock, **options)


@pytest.fixture(scope="module")
def fault_free_batch() -> list[MetricsResult | ConvivaError]:
    with Emulator(now=NOW).client(rate_limit=False) as api:
        return list(api.get_many(SOAK_SPECS))


def assert_same_outcome(
    faulted: MetricsResult | ConvivaError, expected: MetricsResult | ConvivaError
) -> None:
    if isinstance(expected, MetricsResult):
        assert isinstance(faulted, MetricsResult), faulted
        assert dict(faulted) == dict(expected)
        assert faulted.records() == expected.records()
        assert faulted.notes == expected.notes
    else:  # the same refusal; a retried one also says how many attempts it took
        assert type(faulted) is type(expected)
        for attribute in ("message", "request", "status_code", "argument"):
            assert getattr(faulted, attribute, None) == getattr(expected, attribute, None)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_under_random_faults_returns_the_fault_free_outcome_of_every_query(
    seed: int,
    fault_free_batch: list[MetricsResult | ConvivaError],
    clock: VirtualClock,
    retries: Callable[[], list[logging.LogRecord]],
) -> None:
    emulator = Emulator(now=NOW)
    emulator.set_random_faults(SOAK_RATE, SOAK_FAULTS, seed=seed)
    done: list[tuple[int, int]] = []
    with soak_client(emulator, clock) as api:
        batch = api.get_many(SOAK_SPECS, progress=lambda n, total: done.append((n, total)))

    assert len(batch) == len(SOAK_SPECS)
    for faulted, expected in zip(batch, fault_free_batch, strict=True):
        assert_same_outcome(faulted, expected)
    faulted_requests = [entry for entry in emulator.requests() if entry.fault is not None]
    assert faulted_requests  # the soak did meet faults
    assert len(retries()) == len(faulted_requests)  # each was retried, and said so
    assert done[-1][0] == done[-1][1]


def test_a_window_of_a_split_query_that_exhausts_its_retries_is_named_in_the_error(
    clock: VirtualClock,
) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=503, times=99, path="/bitrate"))
    with soak_client(emulator, clock, rate_limit=False) as api:
        batch = api.get_many(SOAK_SPECS[:2])
    assert isinstance(batch[0], MetricsResult)
    error = batch[1]
    assert isinstance(error, ServerError)
    text = unquote(str(error))
    assert "/insights/3.0/metrics/bitrate" in text
    assert "start_date=2026-" in text
    assert "end_date=2026-" in text
    assert "HTTP 503" in text
    assert "Gave up after 7 attempts" in text
    with pytest.raises(ServerError, match="Gave up"):
        batch.raise_for_errors()


# ------------------------------------------------------------------------------ soak: exports


def export(api: ConvivaAPI, directory: Path) -> ExportSummary:
    """Four days of two metric selections by three group-bys: 24 files."""
    return export_dataset(
        api,
        metrics=[["attempts", "plays"], "bitrate"],
        group_bys=[None, "isp", {"custom-tag": "appVersion"}],
        start="2026-11-14",
        end="2026-11-18",
        directory=directory,
    )


def dataset(directory: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every data file of an export, as sorted rows."""
    pandas = pytest.importorskip("pandas")
    files = sorted(directory.rglob("*.parquet"))
    return {
        str(path.relative_to(directory)): sorted(
            pandas.read_parquet(path).astype(str).itertuples(index=False, name=None)
        )
        for path in files
    }


def test_an_export_under_random_faults_completes_on_rerun_with_the_fault_free_files(
    tmp_path: Path, clock: VirtualClock
) -> None:
    pytest.importorskip("pyarrow")
    with Emulator(now=NOW).client(rate_limit=False) as api:
        clean = export(api, tmp_path / "clean")
    assert not clean.errors

    emulator = Emulator(now=NOW)
    emulator.set_random_faults(0.5, SOAK_FAULTS, seed=4)
    target = tmp_path / "faulted"
    # One retry only, one request at a time: some units fail, the same ones on every run.
    with soak_client(emulator, clock, max_retries=1, max_concurrency=1) as api:
        first = export(api, target)
        assert first.errors
        for unit, error in first.errors.items():  # every failure names its query and window
            assert unit.endswith(".parquet")
            assert "Gave up after 2 attempts" in str(error)
            assert "start_date=" in str(error)
        emulator.clear_faults()
        second = export(api, target)
    assert not second.errors
    assert second.skipped == len(first.written)
    assert sorted((*first.written, *second.written)) == sorted(clean.written)
    assert dataset(target) == dataset(tmp_path / "clean")


@pytest.mark.network
def test_faults_on_a_real_loopback_socket_are_ridden_out_too(
    fault_free: MetricsResult,
    clock: VirtualClock,
    retries: Callable[[], list[logging.LogRecord]],
) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(
        DropConnection(), TruncateBody(keep=0.4), SlowReply(delay=1.0), StatusFault(status=503)
    )
    with (
        emulator.serve() as url,
        emulator.client(
            base_url=url,
            transport=None,
            clock=clock,
            timeout=0.25,  # the slow reply really times out: a quarter second of real time
            retry=RetryPolicy(max_retries=4),
            rate_limit=False,
        ) as api,
    ):
        result = api.get_historical_data(**QUERY)
    assert dict(result) == dict(fault_free)
    reasons = [record.__dict__["reason"] for record in retries()]
    assert reasons[0].startswith("connection")
    assert reasons[1].startswith("connection")
    assert reasons[2] == "timeout (ReadTimeout)"
    assert reasons[3] == "HTTP 503"
