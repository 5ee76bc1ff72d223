"""Bulk extraction with the sync client: split ranges, 413 halving, concurrency, rate limits,
and get_many batches, against the emulator in process."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2
import pytest

from pyconviva import (
    BatchResult,
    ConfigurationError,
    ConvivaAPI,
    MetricsResult,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    QuerySpec,
    RateLimit,
    RateLimiter,
    ResponseTooLargeError,
)
from pyconviva._bulk import plan_batch
from pyconviva._rules import HISTORICAL_MAX_DAYS, parse_instant
from pyconviva.emulator import Emulator, StatusFault
from pyconviva.testing import VirtualClock

NOW = datetime(2025, 6, 1, 12, 17, 43, tzinfo=timezone.utc)
DAY_START = datetime(2025, 6, 1, tzinfo=timezone.utc)
HOUR_MS = 3_600_000


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(now=NOW, audience="small")  # replies small enough to compare whole


@pytest.fixture
def api(emulator: Emulator) -> Iterator[ConvivaAPI]:
    with emulator.client() as client:
        yield client


def request_windows(emulator: Emulator, skip: int = 0) -> list[tuple[datetime, datetime]]:
    """The (start_date, end_date) of the logged requests after the first ``skip``, in order."""
    windows = []
    for logged in emulator.requests()[skip:]:
        params = dict(logged.query)
        windows.append((parse_instant(params["start_date"]), parse_instant(params["end_date"])))
    return windows


def stamps(result: MetricsResult) -> list[int]:
    return [bucket["timestamp"]["epoch_ms"] for bucket in result["time_series"]]


def test_a_365_day_hourly_query_takes_five_requests_and_returns_contiguous_buckets(
    api: ConvivaAPI, emulator: Emulator
) -> None:
    result = api.get_historical_data("attempts", group_by="isp", time_range=365)

    windows = sorted(request_windows(emulator))
    assert len(windows) == -(-365 // HISTORICAL_MAX_DAYS) == 5
    assert all(end - start <= timedelta(days=HISTORICAL_MAX_DAYS) for start, end in windows)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))  # no gap, no overlap
    times = stamps(result)
    assert len(times) == 365 * 24
    assert all(b - a == HOUR_MS for a, b in itertools.pairwise(times))
    assert result.query is not None
    assert result.query.window == (windows[0][0], windows[-1][1])


def test_a_split_query_merges_to_the_single_request_reply(
    api: ConvivaAPI, emulator: Emulator
) -> None:
    whole = api.get_historical_data(["attempts", "plays"], group_by="isp", time_range=30)
    with emulator.client(max_window=timedelta(days=7)) as weekly:
        merged = weekly.get_historical_data(["attempts", "plays"], group_by="isp", time_range=30)

    assert len(emulator.requests()) == 1 + 5  # 30 days in windows of at most 7
    assert merged["time_series"] == whole["time_series"]
    assert merged.records() == whole.records()
    # Counts add up across windows; the plays percentage does not, and the notes say so.
    assert merged["total"] == {
        "attempts": whole["total"]["attempts"],
        "plays": {"count": whole["total"]["plays"]["count"]},
    }
    assert any("plays.percentage" in note for note in merged.notes)
    assert whole.notes == ()


def test_a_query_that_fits_one_request_is_sent_and_returned_unchanged(
    api: ConvivaAPI, emulator: Emulator
) -> None:
    split = api.get_historical_data("attempts", group_by="isp", time_range=3)
    single = api.get_historical_data("attempts", group_by="isp", time_range=3, split=False)
    first, second = emulator.requests()
    assert first.query == second.query
    assert dict(split) == dict(single)
    assert split.notes == ()


def test_without_split_a_range_longer_than_one_request_is_refused_before_sending(
    api: ConvivaAPI, emulator: Emulator
) -> None:
    with pytest.raises(QueryError, match="90 days"):
        api.get_historical_data("attempts", time_range=91, split=False)
    assert emulator.requests() == ()


def test_a_413_reply_is_halved_and_merged(api: ConvivaAPI, emulator: Emulator) -> None:
    two_days = (DAY_START - timedelta(days=2), DAY_START)
    whole = api.get_historical_data("attempts", group_by="isp", time_range=two_days)
    emulator.add_faults(StatusFault(status=413))

    merged = api.get_historical_data("attempts", group_by="isp", time_range=two_days)

    statuses = [logged.status for logged in emulator.requests()[1:]]
    assert statuses == [413, 200, 200]
    (start, end), first, second = request_windows(emulator, skip=1)
    assert (first[0], first[1], second[1]) == (start, second[0], end)
    assert first[1] - first[0] == timedelta(days=1)
    assert merged["time_series"] == whole["time_series"]


def test_a_413_on_a_single_bucket_says_only_a_smaller_reply_helps(
    api: ConvivaAPI, emulator: Emulator
) -> None:
    emulator.add_faults(StatusFault(status=413))
    with pytest.raises(ResponseTooLargeError, match="fewer metrics") as caught:
        api.get_historical_data(
            "attempts", time_range=(DAY_START - timedelta(days=1), DAY_START), granularity="P1D"
        )
    assert caught.value.status_code == 413
    assert len(emulator.requests()) == 1


class InFlight(httpx2.BaseTransport):
    """Counts requests in flight through the emulator's transport (and the most at once)."""

    def __init__(self, emulator: Emulator) -> None:
        self._inner = emulator.transport()
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            return self._inner.handle_request(request)
        finally:
            with self._lock:
                self.now -= 1


@pytest.mark.parametrize("bound", [1, 3])
def test_concurrent_windows_never_exceed_max_concurrency(bound: int) -> None:
    emulator = Emulator(now=NOW, latency=0.01)
    counter = InFlight(emulator)
    with emulator.client(
        transport=counter, max_concurrency=bound, max_window=timedelta(days=1)
    ) as api:
        result = api.get_historical_data("attempts", time_range=12)
    assert len(emulator.requests()) == 12
    assert len(stamps(result)) == 12 * 24
    assert counter.most == bound  # reached, never passed


def test_rate_limit_keeps_every_window_within_its_budget(clock: VirtualClock) -> None:
    emulator = Emulator(now=NOW)
    sent: list[float] = []

    def record(request: httpx2.Request) -> httpx2.Response:
        sent.append(clock.monotonic())
        return emulator.transport().handle_request(request)

    budget = RateLimiter(historical=RateLimit(5, 60.0), per_ip=None, margin=0.0)
    with emulator.client(
        transport=httpx2.MockTransport(record),
        rate_limit=budget,
        max_concurrency=1,
        max_window=timedelta(days=1),
        clock=clock,
    ) as api:
        api.get_historical_data("attempts", time_range=12)

    assert sent == [0.0] * 5 + [60.0] * 5 + [120.0] * 2  # bursts of the budget, then paced
    assert all(sum(1 for t in sent if s <= t < s + 60) <= 5 for s in sent)


def test_a_shared_rate_limiter_is_used_as_given(emulator: Emulator) -> None:
    shared = RateLimiter()
    with emulator.client(rate_limit=shared) as one, emulator.client(rate_limit=shared) as two:
        assert one.rate_limiter is shared
        assert two.rate_limiter is shared
    with emulator.client(rate_limit=False) as unlimited:
        assert unlimited.rate_limiter is not shared


@pytest.mark.parametrize(
    ("arguments", "wrong"),
    [
        ({"max_concurrency": 0}, "max_concurrency=0"),
        ({"rate_limit": "yes"}, "rate_limit='yes'"),
        ({"max_window": timedelta(0)}, r"max_window=datetime\.timedelta\(0\)"),
        ({"max_window": timedelta(days=-1)}, r"max_window=datetime\.timedelta\(days=-1\)"),
        ({"max_window": 7}, "max_window=7 is not a positive timedelta"),
    ],
)
def test_bad_bulk_settings_are_refused_by_the_constructor(
    emulator: Emulator, arguments: dict[str, Any], wrong: str
) -> None:
    with pytest.raises(ConfigurationError, match=wrong):
        emulator.client(**arguments)


def test_max_window_caps_every_window_of_a_split_call_and_only_those(emulator: Emulator) -> None:
    with emulator.client(max_window=timedelta(days=2)) as api:
        assert api.max_window == timedelta(days=2)
        api.get_historical_data("attempts", time_range=5)
        windows = request_windows(emulator)
        api.get_historical_data("attempts", time_range=5, split=False)
    assert len(windows) == 3
    assert all(end - start <= timedelta(days=2) for start, end in windows)
    assert len(emulator.requests()) == 4  # split=False sends its range as one request


def test_get_many_returns_results_in_input_order_with_progress(emulator: Emulator) -> None:
    api = emulator.client(max_window=timedelta(days=2))
    specs = [
        QuerySpec.historical("attempts", group_by="isp", time_range=1),
        QuerySpec.historical("plays", time_range=5),  # three windows
        QuerySpec.real_time("attempts", time_range=5),
    ]
    calls: list[tuple[int, int]] = []

    with api:
        batch = api.get_many(specs, max_concurrency=2, progress=lambda d, t: calls.append((d, t)))

    assert isinstance(batch, BatchResult)
    assert len(batch) == 3
    assert not batch.errors
    batch.raise_for_errors()
    kinds = [(r.query.root, r.query.metrics) for r in batch.results if r and r.query]
    assert kinds == [
        ("metrics", ("attempts",)),
        ("metrics", ("plays",)),
        ("real-time-metrics", ("attempts",)),
    ]
    assert len(stamps(batch.results[1] or MetricsResult({"time_series": []}))) == 5 * 24
    assert calls == [(done, 5) for done in range(1, 6)]
    assert len(emulator.requests()) == 5


def test_get_many_reports_each_failure_in_place_and_sends_no_invalid_spec(
    api: ConvivaAPI, emulator: Emulator
) -> None:
    specs: list[Any] = [
        QuerySpec.historical("attempts", time_range=1),
        QuerySpec.historical("attempts", time_range=1, granularity="PT7M"),  # invalid
        QuerySpec.historical("attempts", group_by="no-such-dimension", time_range=1),
        "attempts",  # not a spec
    ]
    batch = api.get_many(specs)

    assert isinstance(batch[0], MetricsResult)
    assert sorted(batch.errors) == [1, 2, 3]
    assert isinstance(batch[1], QueryError)
    assert batch[1].argument == "granularity"
    assert isinstance(batch[2], NotFoundError)
    assert isinstance(batch[3], QueryError)
    assert "QuerySpec" in str(batch[3])
    assert batch.results[1:] == [None, None, None]
    assert len(emulator.requests()) == 2  # the invalid specs were never sent
    with pytest.raises(QueryError, match="query 1 of the batch failed; 2 other"):
        batch.raise_for_errors()


def test_get_many_refuses_a_bad_bound_before_sending(api: ConvivaAPI, emulator: Emulator) -> None:
    with pytest.raises(QueryError, match="max_concurrency=-1"):
        api.get_many([QuerySpec.historical("attempts")], max_concurrency=-1)
    assert emulator.requests() == ()


def test_get_many_refuses_a_progress_that_is_not_callable_before_sending(
    api: ConvivaAPI, emulator: Emulator
) -> None:
    with pytest.raises(QueryError, match="progress must be callable, not int") as caught:
        api.get_many([QuerySpec.historical("attempts")], progress=5)  # type: ignore[arg-type]
    assert caught.value.argument == "progress"
    assert emulator.requests() == ()


@pytest.mark.parametrize(
    "specs",
    [5, "attempts", b"attempts", {"metrics": "attempts"}, QuerySpec.historical("attempts")],
    ids=["int", "str", "bytes", "dict", "one spec"],
)
def test_a_batch_that_is_not_a_list_of_specs_is_refused_as_a_whole(specs: object) -> None:
    with pytest.raises(QueryError, match="not a list of queries") as caught:
        plan_batch(specs, NOW)
    assert caught.value.argument == "specs"


def test_a_batch_may_be_any_iterable_of_specs() -> None:
    planned, errors = plan_batch((QuerySpec.historical(m) for m in ("attempts", "plays")), NOW)
    assert [p.query.metrics for p in planned if p is not None] == [("attempts",), ("plays",)]
    assert errors == {}


def test_a_failed_window_names_itself_in_the_query_error(
    emulator: Emulator,
) -> None:
    with emulator.client(max_concurrency=1, max_window=timedelta(days=1)) as api:
        emulator.add_faults(StatusFault(status=403))
        with pytest.raises(PermissionDeniedError) as caught:
            api.get_historical_data("attempts", time_range=3)
    first = request_windows(emulator)[0]
    message = str(caught.value)
    assert message.startswith("window 1 of 3 (")
    assert f"{first[0]:%Y-%m-%dT%H:%M:%SZ}..{first[1]:%Y-%m-%dT%H:%M:%SZ}" in message
    assert "HTTP 403" in message
    assert caught.value.status_code == 403
    assert len(emulator.requests()) == 3  # the other windows were still fetched


def test_metadata_and_metrics_requests_draw_on_their_budgets(
    emulator: Emulator, clock: VirtualClock
) -> None:
    budget = RateLimiter(historical=RateLimit(1, 60.0), per_ip=RateLimit(2, 60.0), margin=0.0)
    with emulator.client(rate_limit=budget, clock=clock) as api:
        api.get_kpis()  # per-IP only
        api.get_historical_data("attempts", time_range=1)
        assert clock.monotonic() == 0.0
        api.get_historical_data("attempts", time_range=1)  # the historical budget is spent
        assert clock.sleeps == (60.0,)
    assert len(emulator.requests()) == 3


def test_an_empty_batch_sends_nothing(api: ConvivaAPI, emulator: Emulator) -> None:
    batch = api.get_many([], max_concurrency=4)
    assert list(batch) == []
    assert emulator.requests() == ()


def test_a_reply_over_the_size_cap_is_fetched_in_halves(
    api: ConvivaAPI, emulator: Emulator
) -> None:
    # 58 days of the audience group by title exceed the emulator's 5.7 MB reply cap.
    result = api.get_historical_data("audience", {"custom-tag": "title"}, time_range=58)

    assert [logged.status for logged in emulator.requests()] == [413, 200, 200]
    first, second = request_windows(emulator, skip=1)
    assert first[1] == second[0]
    times = stamps(result)
    assert len(times) == 58 * 24
    assert all(b - a == HOUR_MS for a, b in itertools.pairwise(times))
    halves = [
        api.get_historical_data("audience", {"custom-tag": "title"}, time_range=w, split=False)
        for w in (first, second)
    ]
    assert result["time_series"] == halves[0]["time_series"] + halves[1]["time_series"]


def test_without_split_a_413_is_raised_after_one_request(
    api: ConvivaAPI, emulator: Emulator
) -> None:
    emulator.add_faults(StatusFault(status=413))
    with pytest.raises(ResponseTooLargeError, match="shorter time_range"):
        api.get_historical_data("attempts", time_range=2, split=False)
    assert len(emulator.requests()) == 1


# -- split top-N group-bys at scale: a group a window did not rank reads as missing -------------


def test_a_split_top_n_group_by_keeps_each_windows_rows_and_names_the_windows_that_lack_a_group(
    clock: VirtualClock,
) -> None:
    # The large audience has hundreds of ISPs whose order changes over the day (time zones), so
    # each 6-hour window ranks its own top 3.
    emulator = Emulator(now=NOW, audience="large")
    arguments: dict[str, Any] = {
        "metrics": ["attempts", "plays"],
        "group_by": "isp",
        "limit": 3,
        "time_range": (DAY_START - timedelta(days=1), DAY_START),
    }
    with emulator.client(max_window=timedelta(hours=6), clock=clock) as api:
        merged = api.get_historical_data(**arguments)
        windows = sorted(request_windows(emulator))  # sent concurrently
        whole = api.get_historical_data(**arguments, split=False)
        alone = [
            api.get_historical_data(**{**arguments, "time_range": window}, split=False)
            for window in windows
        ]

    assert len(windows) == 4
    # Each bucket holds the rows its own window returned: no row made up, no zero filled in.
    assert merged["time_series"] == [bucket for part in alone for bucket in part["time_series"]]
    # The API's total covers every group, so the summed counts equal one request's.
    assert merged["total"] == {
        "attempts": whole["total"]["attempts"],
        "plays": {"count": whole["total"]["plays"]["count"]},
    }
    ranked = [{record["isp"] for record in part.records()} for part in alone]
    union = set().union(*ranked)
    assert all(len(groups) == 3 for groups in ranked)
    assert len(union) > 3
    note = merged.notes[-1]
    assert note.startswith("group-by rows: values missing from a full window's top 3 are unknown")
    for number, ((start, end), groups) in enumerate(zip(windows, ranked, strict=True), start=1):
        label = f"window {number} of 4 ({start:%Y-%m-%dT%H:%M:%SZ}..{end:%Y-%m-%dT%H:%M:%SZ})"
        assert (label in note) == bool(union - groups)
    # Pivoted, a window's unranked groups are null (NaN), never 0.
    attempts = merged.to_pandas(wide=True)["attempts.count"].unstack("isp")
    for (start, end), groups in zip(windows, ranked, strict=True):
        rows = attempts.loc[start : end - timedelta(hours=1)]
        for isp in union - groups:
            assert rows[isp].isna().all()
        assert not attempts.eq(0).any().any()
