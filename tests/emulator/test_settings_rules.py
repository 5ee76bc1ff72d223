"""Gaps closed in the emulator's rules and settings: real-time minutes above 15 whatever the clock,
accounts that may not use some metrics or dimensions (403), clocks given as ISO strings, and
faults and controls that refuse what no HTTP reply can carry."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import httpx2
import pytest

from pyconviva import PermissionDeniedError, QueryError
from pyconviva.emulator import Emulator, NonJSONBody, RateLimitStorm, SlowReply, StatusFault

AUTH = ("demo-client-id", "demo-client-key")
H = "/insights/3.0/metrics"
RT = "/insights/3.0/real-time-metrics"


def client(emulator: Emulator) -> httpx2.Client:
    return httpx2.Client(transport=emulator.transport(), base_url="https://x", auth=AUTH)


@pytest.mark.parametrize("clock", ["2025-01-10T12:00:00Z", "2025-01-10T12:00:30Z"])
def test_real_time_minutes_above_15_are_refused_whatever_the_clock(clock: str) -> None:
    with client(Emulator(now=clock, audience="small")) as api:
        sixteen = api.get(f"{RT}/attempts", params={"minutes": "16"})
        fifteen = api.get(f"{RT}/attempts", params={"minutes": "15"})
    assert sixteen.status_code == 422
    assert "minutes=16 is more than the 15 allowed" in sixteen.json()["message"]
    assert fifteen.status_code == 200


# --- an account's restrictions: 403 ------------------------------------------------------------


@pytest.fixture
def restricted() -> Emulator:
    return Emulator(
        now="2025-06-02T12:00:00Z",
        audience="small",
        disabled_metrics=["concurrent_plays"],
        disabled_dimensions=["asn", "geo-postal-code"],
    )


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        (f"{H}/concurrent-plays", {"days": "1"}, "metric 'concurrent-plays'"),
        (f"{H}/audience", {"days": "1"}, "metric 'concurrent-plays'"),  # a group holding it
        (f"{H}/custom-selection", {"days": "1", "metric": "concurrent-plays"}, "metric"),
        (f"{RT}/concurrent-plays", {}, "metric 'concurrent-plays'"),
        (f"{H}/attempts/group-by/asn", {"days": "1"}, "dimension 'asn'"),
        (f"{H}/attempts", {"days": "1", "geo_postal_code": "10001"}, "'geo-postal-code'"),
    ],
)
def test_what_the_account_may_not_use_is_forbidden_with_the_gateway_body(
    restricted: Emulator, path: str, params: dict[str, str], named: str
) -> None:
    with client(restricted) as api:
        reply = api.get(path, params=params)
    assert reply.status_code == 403
    body = reply.json()
    assert list(body) == ["message"]
    assert named in body["message"]
    assert "not enabled for this account" in body["message"]


def test_everything_else_is_served_to_a_restricted_account(restricted: Emulator) -> None:
    with client(restricted) as api:
        assert api.get(f"{H}/attempts/group-by/isp", params={"days": "1"}).status_code == 200
        assert api.get(f"{H}/quality-summary", params={"days": "1"}).status_code == 200


def test_the_client_raises_permission_denied(restricted: Emulator) -> None:
    with restricted.client(max_retries=0) as api, pytest.raises(PermissionDeniedError) as caught:
        api.get_historical_data("attempts", group_by="asn", time_range=1)
    assert caught.value.status_code == 403


def test_restrictions_change_at_run_time_and_over_the_control_plane() -> None:
    emulator = Emulator(now="2025-06-02T12:00:00Z", audience="small")
    with client(emulator) as api:
        assert api.get(f"{H}/plays", params={"days": "1"}).status_code == 200
        emulator.configure(disabled_metrics=["plays"])
        assert api.get(f"{H}/plays", params={"days": "1"}).status_code == 403
        settings = api.post("/_emulator/config", json={"disabled_metrics": []}).json()
        assert settings["disabled_metrics"] == []
        assert api.get(f"{H}/plays", params={"days": "1"}).status_code == 200
        refused = api.post("/_emulator/config", json={"disabled_dimensions": "asn"})
    assert refused.status_code == 400


def test_unknown_names_in_restrictions_are_refused_with_a_suggestion() -> None:
    with pytest.raises(QueryError, match="did you mean 'concurrent-plays'"):
        Emulator(disabled_metrics=["concurent-plays"])
    with pytest.raises(TypeError, match="collection of names"):
        Emulator(disabled_dimensions="asn")


# --- clocks as ISO strings -----------------------------------------------------------------------


def test_the_clock_may_be_given_as_an_iso_string() -> None:
    emulator = Emulator(now="2025-01-10T00:00:00Z")
    assert emulator.now() == datetime(2025, 1, 10, tzinfo=timezone.utc)
    emulator.configure(now="2025-02-01T06:30:00+01:00")
    assert emulator.now() == datetime(2025, 2, 1, 5, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(("now", "error"), [(12345, TypeError), ("yesterday", QueryError)])
def test_a_clock_that_is_no_instant_is_refused_when_set(now: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="now"):
        Emulator(now=now)
    emulator = Emulator()
    with pytest.raises(error, match="now"):
        emulator.configure(now=now)


# --- faults checked when built -----------------------------------------------------------------


def test_a_status_fault_body_is_checked_when_built() -> None:
    fault = StatusFault(status=503, body={"name": "Maintenance", "message": "back soon"})
    assert fault.body == '{"name":"Maintenance","message":"back soon"}'
    with pytest.raises(TypeError, match="body"):
        StatusFault(body=b"bytes")
    with pytest.raises(TypeError, match="body is not JSON"):
        StatusFault(body={"when": datetime(2025, 1, 1)})


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: StatusFault(status="x"), TypeError),
        (lambda: StatusFault(status=True), TypeError),
        (lambda: StatusFault(status=100), QueryError),
        (lambda: StatusFault(status=1000), QueryError),
        (lambda: StatusFault(retry_after="x"), TypeError),
        (lambda: StatusFault(retry_after=-1), QueryError),
        (lambda: RateLimitStorm(retry_after=float("inf")), QueryError),
        (lambda: NonJSONBody(status=42), QueryError),
        (lambda: SlowReply(delay="soon"), TypeError),
        (lambda: StatusFault(times=1.5), TypeError),
    ],
)
def test_a_fault_no_reply_could_carry_is_refused_when_built(
    build: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        build()


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": "x"},
        {"kind": "status", "status": 99},
        {"kind": "status", "status": None},
        {"kind": "status", "status": 503, "retry_after": "x"},
        {"kind": "non_json", "status": 700},
    ],
)
def test_the_control_plane_refuses_such_a_fault_and_keeps_serving(fault: dict[str, Any]) -> None:
    emulator = Emulator(audience="small")
    with client(emulator) as api:
        answer = api.post("/_emulator/faults", json={"faults": [fault]})
        assert answer.status_code == 400
        assert emulator.pending_faults() == []
        assert api.get(f"{H}/attempts", params={"days": "1"}).status_code == 200
