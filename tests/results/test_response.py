"""``result.response`` / ``result.responses``: the HTTP exchange behind every result."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx2

from pyconviva import ConvivaAPI, MetricsResult
from pyconviva.emulator import Emulator
from pyconviva.testing import VirtualClock

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
KEY = "k3y-that-must-stay-secret"
REPLY = {
    "time_series": [
        {"timestamp": {"epoch_ms": 1736424000000}, "attempts": {"count": 1520}},
    ],
    "total": {"attempts": {"count": 1520}},
}


def test_a_result_carries_its_status_url_and_headers_without_credentials() -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        headers = {"x-request-id": "abc-123", "set-cookie": "session=s3cret"}
        return httpx2.Response(200, json=REPLY, headers=headers)

    with ConvivaAPI(KEY, "client-id", transport=httpx2.MockTransport(answer)) as api:
        result = api.get_historical_data("attempts", time_range=2)
    response = result.response
    assert response is not None
    assert (response.status_code, response.reason, response.method) == (200, "OK", "GET")
    assert response.url == "https://api.conviva.com/insights/3.0/metrics/attempts?days=2"
    assert response.headers["x-request-id"] == "abc-123"
    assert "set-cookie" not in response.headers
    assert result.responses == (response,)
    shown = repr(response) + json.dumps(dict(response.headers)) + response.url
    assert KEY not in shown
    assert "s3cret" not in shown


def test_elapsed_is_the_exchange_time_on_the_clients_clock() -> None:
    clock = VirtualClock(NOW)

    def slow_answer(request: httpx2.Request) -> httpx2.Response:
        clock.advance(2.5)
        return httpx2.Response(200, json=REPLY)

    with ConvivaAPI(KEY, "id", transport=httpx2.MockTransport(slow_answer), clock=clock) as api:
        result = api.get_historical_data("attempts")
    assert result.response is not None
    assert result.response.elapsed == timedelta(seconds=2.5)


def test_a_split_call_keeps_the_response_of_every_window_in_order() -> None:
    with Emulator(now=NOW).client(max_window=timedelta(days=1)) as api:
        result = api.get_historical_data("attempts", time_range=3)
    assert len(result.responses) == 3
    assert result.response is result.responses[-1]
    starts = [httpx2.URL(r.url).params["start_date"] for r in result.responses]
    assert starts == sorted(starts)
    assert len(set(starts)) == 3
    assert all(r.status_code == 200 for r in result.responses)


def test_metadata_results_carry_their_response_too() -> None:
    with Emulator(now=NOW).client() as api:
        kpis = api.get_kpis()
    assert kpis.response is not None
    assert kpis.response.url.endswith("/insights/3.0/kpis")


def test_a_result_built_from_a_body_has_no_response() -> None:
    result = MetricsResult.from_bytes(json.dumps(REPLY).encode())
    assert result.response is None
    assert result.responses == ()
