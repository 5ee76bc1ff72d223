"""The pieces of benchmarks/bench_bulk.py that its figures rest on, checked without network.

The canned HTTPS server must really serve TLS with the throwaway CA, the legacy driver must
redirect pyconviva 0.1.0 to it with a connection per call, and the bound a batch is measured
against must be the exact one.
"""

from __future__ import annotations

import itertools
import ssl
import sys
from datetime import datetime, timezone
from pathlib import Path

import httpx2
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from _emulator_process import emulator_process  # noqa: E402
from _legacy import VENV, LegacyCall, run_legacy  # noqa: E402
from _schedule import Budget, ideal_finish  # noqa: E402
from _tls_server import serve_canned  # noqa: E402
from bench_bulk import ATTEMPTS_PATH, canned_reply, day_ranges, normalised, windows  # noqa: E402

BODY = b'{"time_series": []}'


@pytest.mark.network
def test_canned_server_answers_https_with_the_trustme_ca_and_records_the_request() -> None:
    with serve_canned(BODY) as server:
        context = ssl.create_default_context(cafile=server.ca_path)
        with httpx2.Client(verify=context) as client:
            first = client.get(f"{server.base_url}/insights/3.0/metrics/attempts?days=1")
            second = client.get(f"{server.base_url}/other")
        assert server.base_url.startswith("https://127.0.0.1:")
        assert first.status_code == 200
        assert first.content == BODY
        assert first.headers["content-type"] == "application/json"
        assert second.content == BODY
        assert server.targets == ["/insights/3.0/metrics/attempts?days=1", "/other"]
        assert server.connections == 1  # kept alive


@pytest.mark.network
def test_canned_server_is_refused_without_its_ca() -> None:
    with (
        serve_canned(BODY) as server,
        httpx2.Client() as client,
        pytest.raises(httpx2.ConnectError),
    ):
        client.get(server.base_url)


@pytest.mark.network
@pytest.mark.skipif(not VENV.exists(), reason="benchmarks/.legacy-venv not created yet")
def test_legacy_driver_sends_0_1_0_calls_to_the_canned_server_one_connection_each() -> None:
    call = LegacyCall("get_historical_data", {"metrics": "attempts", "time_range": 1})
    with serve_canned(canned_reply()) as server:
        run = run_legacy(
            server.base_url, [call] * 3, client_id="id", client_key="key", ca_path=server.ca_path
        )
        assert server.targets == ["/insights/3.0/metrics/attempts?days=1"] * 3
        assert server.connections == 3
    assert run.seconds > 0
    assert run.failures == {}
    assert run.replies is None


def test_ideal_finish_counts_whole_rounds_of_concurrent_requests() -> None:
    assert ideal_finish(120, 0.1, 16) == pytest.approx(0.8)  # 8 rounds, not 120 * 0.1 / 16
    assert ideal_finish(120, 0.1, 1) == pytest.approx(12.0)
    assert ideal_finish(0, 0.1, 16) == 0.0


def test_ideal_finish_sends_a_full_budget_at_once_and_only_the_rest_a_window_later() -> None:
    budgets = [Budget(100, 60.0), Budget(750, 300.0)]
    # 100 requests in 7 rounds from t=0, the other 20 at t=60 in 2 rounds.
    assert ideal_finish(120, 0.1, 16, budgets) == pytest.approx(60.2)
    # A budget the batch fits does not slow it.
    assert ideal_finish(120, 0.1, 16, [Budget(400, 60.0)]) == pytest.approx(0.8)


def test_legacy_windows_cover_the_range_in_90_day_cuts() -> None:
    start = datetime(2024, 6, 2, 12, tzinfo=timezone.utc)
    end = datetime(2025, 6, 2, 12, tzinfo=timezone.utc)
    cuts = windows(start, end, 90)
    assert len(cuts) == 5
    assert cuts[0] == {"start_date": "2024-06-02T12:00:00Z", "end_date": "2024-08-31T12:00:00Z"}
    assert cuts[-1]["end_date"] == "2025-06-02T12:00:00Z"
    assert all(a["end_date"] == b["start_date"] for a, b in itertools.pairwise(cuts))


def test_day_ranges_are_distinct_whole_days() -> None:
    ranges = day_ranges(120)
    assert len({r["start_date"] for r in ranges}) == 120
    assert ranges[0] == {"start_date": "2025-06-01T00:00:00Z", "end_date": "2025-06-02T00:00:00Z"}


def test_request_targets_compare_regardless_of_query_order() -> None:
    assert normalised("/p?b=2&a=1") == normalised("/p?a=1&b=2")
    assert normalised("/p?a=1") != normalised("/q?a=1")


@pytest.mark.network
def test_emulator_process_serves_on_loopback_and_restarts_with_an_empty_log() -> None:
    now = datetime(2025, 6, 2, 12, tzinfo=timezone.utc)
    with emulator_process(now=now) as emulator:
        assert emulator.base_url.startswith("http://127.0.0.1:")
        emulator.warm_up(ATTEMPTS_PATH, {"days": "1"})
        assert emulator.statuses() == {200: 1}
        emulator.restart(latency=0.0, rate_limit=1.0)
        assert emulator.statuses() == {}
        auth = (emulator.client_id, emulator.client_key)
        with httpx2.Client(base_url=emulator.base_url, auth=auth) as client:
            ok = client.get(ATTEMPTS_PATH, params=day_ranges(1)[0])
            refused = client.get(ATTEMPTS_PATH, params={"days": "1"}, auth=("x", "y"))
        assert ok.status_code == 200
        assert refused.status_code == 401
        assert emulator.statuses() == {200: 1, 401: 1}
