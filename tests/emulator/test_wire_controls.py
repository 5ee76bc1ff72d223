"""Emulator controls: clock, rate-limit enforcement, request log, reset, seed, faults as data."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva.emulator import (
    DEFAULT_RANDOM_MIX,
    DropConnection,
    Emulator,
    NonJSONBody,
    RandomFaults,
    RateLimitStorm,
    SlowReply,
    StatusFault,
    TruncateBody,
)
from pyconviva.emulator._faults import Fault, fault_from_json, fault_to_json

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
AUTH = ("demo-client-id", "demo-client-key")
HISTORICAL = "/insights/3.0/metrics/attempts"
REAL_TIME = "/insights/3.0/real-time-metrics/attempts"


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(now=NOW)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(
        transport=emulator.transport(), base_url="https://api.conviva.com", auth=AUTH
    ) as client:
        yield client


def historical(client: httpx2.Client) -> int:
    return client.get(HISTORICAL, params={"days": "1"}).status_code


def real_time(client: httpx2.Client) -> int:
    return client.get(REAL_TIME, params={"minutes": "5"}).status_code


def test_fixed_clock_stands_still_until_advanced(emulator: Emulator) -> None:
    assert emulator.now() == NOW
    assert emulator.now() == NOW
    assert emulator.advance(90) == NOW + timedelta(seconds=90)
    emulator.configure(now=NOW + timedelta(days=1))
    assert emulator.now() == NOW + timedelta(days=1)


def test_without_a_fixed_clock_now_follows_real_time() -> None:
    before = datetime.now(timezone.utc)
    now = Emulator().now()
    assert before <= now <= datetime.now(timezone.utc)
    assert now.tzinfo is not None


def test_rate_limit_returns_429_after_the_budget_and_recovers_after_the_window(
    emulator: Emulator, client: httpx2.Client
) -> None:
    emulator.configure(rate_limit=0.01)  # historical budget: 400 * 0.01 = 4 a minute
    assert [historical(client) for _ in range(5)] == [200, 200, 200, 200, 429]
    refused = client.get(HISTORICAL, params={"days": "1"})
    assert refused.json() == {"message": "Too Many Requests"}
    assert "retry-after" not in refused.headers
    emulator.advance(59)
    assert historical(client) == 429
    emulator.advance(1)
    assert historical(client) == 200


def test_rate_windows_slide_in_real_time_while_the_data_clock_stays_fixed(
    emulator: Emulator, client: httpx2.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client that waits out a 429 must get through even though `now` is fixed for the data.
    emulator.configure(rate_limit=0.01)
    assert [historical(client) for _ in range(5)][-1] == 429
    started = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: started + 61.0)
    assert historical(client) == 200
    assert emulator.now() == NOW


def test_real_time_and_historical_budgets_are_separate(
    emulator: Emulator, client: httpx2.Client
) -> None:
    emulator.configure(rate_limit=0.01)  # historical 4, real-time 5 a minute
    assert [historical(client) for _ in range(5)][-1] == 429
    assert [real_time(client) for _ in range(6)] == [200] * 5 + [429]


def test_per_ip_budget_binds_across_both_roots(emulator: Emulator, client: httpx2.Client) -> None:
    emulator.configure(rate_limit=0.01)  # per IP: 3000 * 0.01 = 30 per 5 minutes
    statuses = []
    for _minute in range(4):
        statuses += [historical(client) for _ in range(4)] + [real_time(client) for _ in range(5)]
        emulator.advance(60)
    assert statuses.count(200) == 30
    assert statuses[30:] == [429] * 6
    emulator.advance(60)  # the first minute's requests leave the 5-minute window
    assert historical(client) == 200


def test_rate_limit_off_never_refuses(emulator: Emulator, client: httpx2.Client) -> None:
    assert {historical(client) for _ in range(30)} == {200}


def test_request_log_records_requests_without_credentials(
    emulator: Emulator, client: httpx2.Client
) -> None:
    emulator.add_faults(StatusFault(status=502))
    client.get(HISTORICAL, params={"days": "2", "granularity": "PT1H"})
    client.get(HISTORICAL, params={"days": "1"}, auth=("demo-client-id", "wrong-key"))
    log = emulator.requests()
    assert [(e.method, e.path, e.status, e.fault) for e in log] == [
        ("GET", HISTORICAL, 502, "status"),
        ("GET", HISTORICAL, 401, None),
    ]
    assert log[0].query == (("days", "2"), ("granularity", "PT1H"))
    assert log[0].time == NOW
    dumped = repr(log) + json.dumps([e.to_json() for e in log])
    for secret in ("demo-client-key", "wrong-key", "Basic", "authorization"):
        assert secret not in dumped


def test_control_plane_requests_are_not_logged(emulator: Emulator, client: httpx2.Client) -> None:
    assert client.get("/_emulator/config").json()["client_id"] == "demo-client-id"
    assert emulator.requests() == ()


def test_config_never_shows_the_client_key(client: httpx2.Client) -> None:
    assert "demo-client-key" not in client.get("/_emulator/config").text


def test_reset_restores_construction_settings_and_clears_state(
    emulator: Emulator, client: httpx2.Client
) -> None:
    emulator.configure(seed=3, latency=0.5, rate_limit=True)
    emulator.advance(600)
    emulator.add_faults(DropConnection(times=5))
    emulator.set_random_faults(0.5)
    emulator.reset()
    assert emulator.settings == Emulator(now=NOW).settings
    assert emulator.now() == NOW
    assert emulator.pending_faults() == []
    assert emulator.requests() == ()
    assert historical(client) == 200


def test_a_new_seed_gives_other_data_and_new_credentials_take_effect(
    emulator: Emulator, client: httpx2.Client
) -> None:
    first = client.get(HISTORICAL, params={"days": "1"}).content
    emulator.configure(seed=1)
    assert client.get(HISTORICAL, params={"days": "1"}).content != first
    emulator.configure(seed=0)
    assert client.get(HISTORICAL, params={"days": "1"}).content == first
    emulator.configure(client_key="rotated")
    assert historical(client) == 401
    assert client.get(
        HISTORICAL, params={"days": "1"}, auth=("demo-client-id", "rotated")
    ).is_success


def test_latency_and_jitter_are_applied_reproducibly(emulator: Emulator) -> None:
    emulator.configure(latency=2.0, jitter=0.25)
    headers = {"authorization": "Basic ZGVtby1jbGllbnQtaWQ6ZGVtby1jbGllbnQta2V5"}
    delays = [emulator.handle("GET", HISTORICAL + "?days=1", headers).delay for _ in range(20)]
    assert all(1.5 <= delay <= 2.5 for delay in delays)
    assert len(set(delays)) > 1
    assert [entry.delay for entry in emulator.requests()] == delays
    again = Emulator(now=NOW, latency=2.0, jitter=0.25)
    assert [again.handle("GET", HISTORICAL + "?days=1", headers).delay for _ in range(20)] == delays


def test_scripted_faults_are_consumed_in_order(emulator: Emulator, client: httpx2.Client) -> None:
    emulator.add_faults(StatusFault(status=500, times=2), RateLimitStorm(times=1))
    assert [historical(client) for _ in range(4)] == [500, 500, 429, 200]


def fault_kinds(emulator: Emulator, client: httpx2.Client, n: int) -> list[str | None]:
    for _ in range(n):
        with contextlib.suppress(httpx2.TransportError):  # the log shows which fault hit
            client.get(HISTORICAL, params={"days": "1"})
    return [entry.fault for entry in emulator.requests()]


def test_random_faults_are_reproducible_for_a_seed(
    client: httpx2.Client, emulator: Emulator
) -> None:
    emulator.set_random_faults(0.3, seed=42)
    first = fault_kinds(emulator, client, 60)
    emulator.reset()
    emulator.set_random_faults(0.3, seed=42)
    assert fault_kinds(emulator, client, 60) == first
    hits = sum(kind is not None for kind in first)
    assert 5 <= hits <= 35
    assert {kind for kind in first if kind} <= {
        "status",
        "rate_limit_storm",
        "drop",
        "slow",
        "truncate",
        "non_json",
    }
    emulator.reset()
    emulator.set_random_faults(0.3, seed=43)
    assert fault_kinds(emulator, client, 60) != first


def test_the_default_mix_covers_every_transient_fault_a_client_must_survive() -> None:
    kinds = {fault.kind for fault in DEFAULT_RANDOM_MIX}
    assert kinds == {"status", "rate_limit_storm", "drop", "slow", "truncate", "non_json"}
    statuses = {f.status for f in DEFAULT_RANDOM_MIX if isinstance(f, StatusFault)}
    assert statuses == {500, 502, 503}
    storms = [f for f in DEFAULT_RANDOM_MIX if isinstance(f, RateLimitStorm)]
    assert {f.retry_after is None for f in storms} == {True, False}


def test_random_faults_draw_from_the_given_kinds(emulator: Emulator, client: httpx2.Client) -> None:
    emulator.set_random_faults(1.0, kinds=[NonJSONBody(status=200)])
    assert set(fault_kinds(emulator, client, 5)) == {"non_json"}
    emulator.set_random_faults(0)
    assert fault_kinds(emulator, client, 3)[-3:] == [None, None, None]


faults = st.one_of(
    st.builds(
        StatusFault,
        status=st.integers(400, 599),
        body=st.none() | st.text(max_size=20),
        retry_after=st.none() | st.integers(0, 120).map(float),
        times=st.integers(1, 5),
        path=st.none() | st.sampled_from(["real-time", "group-by"]),
    ),
    st.builds(RateLimitStorm, times=st.integers(1, 9), retry_after=st.none() | st.just(2.5)),
    st.builds(DropConnection, times=st.integers(1, 3)),
    st.builds(TruncateBody, keep=st.floats(0, 0.99)),
    st.builds(NonJSONBody, status=st.sampled_from([200, 502, 503])),
    st.builds(SlowReply, delay=st.floats(0, 60)),
)


@settings(max_examples=50)
@given(faults)
def test_faults_round_trip_through_json(fault: Fault) -> None:
    assert fault_from_json(json.loads(json.dumps(fault_to_json(fault)))) == fault


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "gremlin"}, "unknown fault kind 'gremlin'"),
        ({"kind": "drop", "colour": 1}, "unknown field(s) colour"),
        ({"kind": "status", "times": 0}, "times must be at least 1"),
        ({"kind": "truncate", "keep": 2}, "keep is the fraction"),
    ],
)
def test_bad_fault_json_is_explained(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fault_from_json(data)


def test_random_fault_rate_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="rate is a probability"):
        RandomFaults(rate=1.5)


@pytest.mark.parametrize("value", [-1, 0, "fast"])
def test_bad_rate_limit_scale_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        Emulator(rate_limit=value)  # type: ignore[arg-type]


def test_fault_rate_at_construction_is_seeded_and_survives_reset() -> None:
    def kinds() -> list[str | None]:
        emulator = Emulator(now=NOW, seed=5, fault_rate=0.5)
        with httpx2.Client(
            transport=emulator.transport(), base_url="https://api.conviva.com", auth=AUTH
        ) as client:
            first = fault_kinds(emulator, client, 20)
            emulator.reset()
            assert fault_kinds(emulator, client, 20) == first
        return first

    drawn = kinds()
    assert drawn == kinds()
    assert any(drawn)
    assert not all(drawn)


def test_rate_limit_charges_each_filter_value(emulator: Emulator, client: httpx2.Client) -> None:
    emulator.configure(rate_limit=0.01)  # historical budget: 4 a minute
    three_isps = {"days": "1", "isp": ["Comcast", "Verizon", "AT&T"]}
    assert client.get(HISTORICAL, params=three_isps).status_code == 200
    assert client.get(HISTORICAL, params=three_isps).status_code == 429  # 3 + 3 > 4
    assert historical(client) == 200  # 3 + 1 fits
