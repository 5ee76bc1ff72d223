"""Hostile servers on loopback sockets: trickling, stalling, resetting, redirecting, gzip bombs,
JSON nested too deep on error statuses, and an emulator told to send an impossible status.

The promises (docs/errors-and-retries.md, "Timeouts" and "Reply size"; docs/reliability.md): a
whole call is bounded by the retry policy's ``total_timeout`` plus one attempt's timeout,
whatever the server does; every failure is a ``ConvivaError`` subclass; a redirect is reported,
never followed; a reply's decoded size is capped. Time bounds here are correctness bounds with a
generous margin, not benchmarks.

Here: the whole-call deadline against servers that trickle headers or body (issue 12 item 3),
sync and async; servers that never answer or reset every connection; redirects, never
followed; deeply nested JSON on error statuses (item 6); gzip bombs refused before they are
decoded in full, ordinary gzip replies decoded (item 12); and the emulator refusing a fault
status no HTTP reply can carry, answering any it accepts with exactly that status (item 12).
"""

from __future__ import annotations

import functools
import gzip
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pyconviva import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncConvivaAPI,
    BadRequestError,
    ConvivaAPI,
    ConvivaError,
    MetricsResult,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from pyconviva.emulator import Emulator
from tests.reliability.hostile_servers import (
    Behaviour,
    HostileServer,
    reply,
    resetting,
    stalling,
    trickling_body,
    trickling_headers,
)

# Most tests here talk to real loopback sockets; the hostile suite runs as its own CI step.
pytestmark = [pytest.mark.network, pytest.mark.hostile]

TIMEOUT = 0.2
# A short first backoff, so that a retry fits in the budget: the bound must hold across attempts.
POLICY = RetryPolicy(max_retries=1, total_timeout=0.4, backoff_base=0.05)
BOUND = POLICY.total_timeout + TIMEOUT  # the README's bound on a whole call
LIMIT = BOUND + 1.0  # generous: a loaded machine must not make a correct client fail
INTERVAL = TIMEOUT / 2  # each trickled byte arrives well within the read timeout
TRICKLE_SECONDS = LIMIT + 0.3  # how long a trickle lasts: today's call lasts as long
EMPTY_REPLY = b'{"time_series": []}'
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")
MAX_REPLY_BYTES = 5_700_000  # the API's own cap on a reply (API reference)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """These servers are on loopback; a proxy from the environment must not stand between."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def sync_client(url: str) -> ConvivaAPI:
    return ConvivaAPI(
        "hostile-key", "hostile-id", base_url=url, timeout=TIMEOUT, retry=POLICY, rate_limit=False
    )


def async_client(url: str) -> AsyncConvivaAPI:
    return AsyncConvivaAPI(
        "hostile-key", "hostile-id", base_url=url, timeout=TIMEOUT, retry=POLICY, rate_limit=False
    )


def timed_call(behaviour: Behaviour) -> tuple[float, object]:
    """Seconds one sync call took against a server behaving so, and what it gave or raised."""
    with HostileServer(behaviour) as server, sync_client(server.url) as api:
        started = time.monotonic()
        try:
            outcome: object = api.get_historical_data("attempts", time_range=1)
        except Exception as error:
            outcome = error
        return time.monotonic() - started, outcome


async def timed_async_call(behaviour: Behaviour) -> tuple[float, object]:
    """The same with the async client."""
    with HostileServer(behaviour) as server:
        async with async_client(server.url) as api:
            started = time.monotonic()
            try:
                outcome: object = await api.get_historical_data("attempts", time_range=1)
            except Exception as error:
                outcome = error
            return time.monotonic() - started, outcome


def trickled_body() -> Behaviour:
    padding = b" " * (round(TRICKLE_SECONDS / INTERVAL) - len(EMPTY_REPLY))
    return trickling_body(padding + EMPTY_REPLY, INTERVAL)


def trickled_headers() -> Behaviour:
    return trickling_headers(round(TRICKLE_SECONDS / INTERVAL), EMPTY_REPLY, INTERVAL)


TRICKLES: dict[str, Callable[[], Behaviour]] = {
    "body": trickled_body,
    "headers": trickled_headers,
}


# --- item 3: the whole-call deadline --------------------------------------------------------------


@pytest.mark.parametrize("part", sorted(TRICKLES))
def test_a_trickling_server_cannot_hold_a_call_past_total_timeout_plus_one_timeout(
    part: str,
) -> None:
    elapsed, outcome = timed_call(TRICKLES[part]())
    assert elapsed < LIMIT, f"the call took {elapsed:.1f} s; bound {BOUND:g} s (+ margin)"
    assert isinstance(outcome, APITimeoutError), outcome


@pytest.mark.parametrize("part", sorted(TRICKLES))
async def test_a_trickling_server_cannot_hold_an_async_call_past_the_bound(part: str) -> None:
    elapsed, outcome = await timed_async_call(TRICKLES[part]())
    assert elapsed < LIMIT, f"the call took {elapsed:.1f} s; bound {BOUND:g} s (+ margin)"
    assert isinstance(outcome, APITimeoutError), outcome


# --- stalls, resets: hold today -------------------------------------------------------------------


def test_a_server_that_never_answers_ends_the_call_with_a_timeout_within_the_bound() -> None:
    elapsed, outcome = timed_call(stalling)
    assert isinstance(outcome, APITimeoutError), outcome
    assert elapsed < LIMIT


async def test_a_server_that_never_answers_ends_an_async_call_within_the_bound() -> None:
    elapsed, outcome = await timed_async_call(stalling)
    assert isinstance(outcome, APITimeoutError), outcome
    assert elapsed < LIMIT


def test_a_server_that_resets_every_connection_gives_a_connection_error_after_retrying() -> None:
    with HostileServer(resetting) as server, sync_client(server.url) as api:
        started = time.monotonic()
        with pytest.raises(APIConnectionError) as caught:
            api.get_historical_data("attempts", time_range=1)
        elapsed = time.monotonic() - started
    assert not isinstance(caught.value, APITimeoutError)
    assert len(server.heads) == 2  # the first attempt and one retry
    assert elapsed < LIMIT


# --- redirects: hold today ------------------------------------------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[HostileServer]:
    """Another loopback server, which must never see a request."""
    with HostileServer(reply(200, EMPTY_REPLY, [("Content-Type", "application/json")])) as other:
        yield other


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_an_api_status_error_and_the_target_never_sees_a_request(
    status: int, elsewhere: HostileServer
) -> None:
    location = f"{elsewhere.url}/insights/3.0/metrics/attempts"
    redirect = reply(status, b"", [("Location", location)])
    with (
        HostileServer(redirect) as server,
        sync_client(server.url) as api,
        pytest.raises(APIStatusError) as caught,
    ):
        api.get_historical_data("attempts", time_range=1)
    assert caught.value.status_code == status
    assert location in str(caught.value)
    assert elsewhere.heads == []


async def test_an_async_redirect_is_not_followed_either(elsewhere: HostileServer) -> None:
    location = f"{elsewhere.url}/insights/3.0/metrics/attempts"
    with HostileServer(reply(307, b"", [("Location", location)])) as server:
        async with async_client(server.url) as api:
            with pytest.raises(APIStatusError):
                await api.get_historical_data("attempts", time_range=1)
    assert elsewhere.heads == []


# --- item 6: deep JSON on error statuses ----------------------------------------------------------

DEEP_BODIES = {
    "arrays": b"[" * 100_000 + b"]" * 100_000,
    "objects": b'{"message":' * 50_000 + b"1" + b"}" * 50_000,
}
ERROR_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    404: NotFoundError,
    429: RateLimitError,
    500: ServerError,
    503: ServerError,
    301: APIStatusError,
}


def answering(status: int, body: bytes) -> httpx2.MockTransport:
    def handle(request: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": "application/json", "location": "https://elsewhere.example/"}
        return httpx2.Response(status, headers=headers, content=body)

    return httpx2.MockTransport(handle)


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
@pytest.mark.parametrize("status", sorted(ERROR_CLASSES))
def test_deeply_nested_json_on_an_error_status_raises_that_status_error(
    status: int, shape: str
) -> None:
    transport = answering(status, DEEP_BODIES[shape])
    with (
        ConvivaAPI("k", "i", transport=transport, max_retries=0) as api,
        pytest.raises(APIStatusError) as caught,
    ):
        api.get_historical_data("attempts", time_range=1)
    assert isinstance(caught.value, ERROR_CLASSES[status])
    assert caught.value.status_code == status
    assert len(caught.value.message) <= 250


async def test_deeply_nested_json_on_an_error_status_is_a_status_error_for_async_metadata() -> None:
    transport = answering(503, DEEP_BODIES["arrays"])
    async with AsyncConvivaAPI("k", "i", transport=transport, max_retries=0) as api:
        with pytest.raises(ServerError):
            await api.get_available_dimensions()


# --- item 12: gzip bombs --------------------------------------------------------------------------

BOMB_DECODED = 32 * 2**20  # about 6 times the API's cap, from a 32 KB body
MEMORY_ALLOWANCE = 20 * 2**20  # a capped decoder needs a few times 5.7 MB, not the whole bomb


@functools.cache
def gzip_bomb() -> bytes:
    padding = BOMB_DECODED - len(EMPTY_REPLY) - len(b', "pad": ""')
    document = EMPTY_REPLY[:-1] + b', "pad": "' + b" " * padding + b'"}'
    return gzip.compress(document, compresslevel=9)


def compressed_reply(status: int, body: bytes) -> Behaviour:
    return reply(status, body, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])


def plain_client(url: str) -> ConvivaAPI:
    return ConvivaAPI("k", "i", base_url=url, max_retries=0, rate_limit=False)


def peak_memory_of(call: Callable[[], object]) -> tuple[int, object]:
    tracemalloc.start()
    try:
        try:
            outcome = call()
        except Exception as error:
            outcome = error
        return tracemalloc.get_traced_memory()[1], outcome
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("status", [200, 503])
def test_a_gzip_bomb_is_refused_before_it_is_decoded_in_full(status: int) -> None:
    body = gzip_bomb()
    assert len(body) * 500 < BOMB_DECODED  # a bomb indeed
    with (
        HostileServer(compressed_reply(status, body)) as server,
        plain_client(server.url) as api,
    ):
        peak, outcome = peak_memory_of(lambda: api.get_historical_data("attempts"))
    assert isinstance(outcome, ConvivaError), outcome
    assert peak < MEMORY_ALLOWANCE, f"{peak / 2**20:.0f} MiB held while decoding"


def test_an_ordinary_gzip_reply_below_the_cap_is_decoded() -> None:
    document = EMPTY_REPLY[:-1] + b', "pad": "' + b" " * (MAX_REPLY_BYTES // 2) + b'"}'
    with (
        HostileServer(compressed_reply(200, gzip.compress(document))) as server,
        plain_client(server.url) as api,
    ):
        result = api.get_historical_data("attempts")
    assert isinstance(result, MetricsResult)
    assert result["time_series"] == []


# --- item 12: the emulator's controls never make it send an illegal reply -------------------------


def post_faults(url: str, faults: list[dict[str, Any]]) -> httpx2.Response:
    return httpx2.post(f"{url}/_emulator/faults", json={"faults": faults}, timeout=5)


def data_reply(emulator: Emulator, url: str) -> httpx2.Response:
    """One data request, as any HTTP client sends it."""
    auth = (emulator.client_id, emulator.client_key)
    return httpx2.get(f"{url}/insights/3.0/metrics/attempts?days=1", auth=auth, timeout=1)


@pytest.mark.parametrize("status", ["x", 1000, 42, None, True], ids=repr)
def test_the_emulator_refuses_a_fault_status_no_http_reply_can_carry(status: object) -> None:
    emulator = Emulator()
    with emulator.serve() as url:
        answer = post_faults(url, [{"kind": "status", "status": status}])
        assert answer.status_code == 400, answer.text
        assert emulator.pending_faults() == []
        assert data_reply(emulator, url).status_code == 200


fault_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 2000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=30, deadline=None)
@given(status=fault_values, retry_after=fault_values)
@example(status="x", retry_after=None)
@example(status=503, retry_after="x")
@example(status=100, retry_after=None)  # a 1xx is no final reply: the client waits on
def test_a_status_fault_the_emulator_accepts_is_answered_with_exactly_that_status(
    status: object, retry_after: object
) -> None:
    emulator = Emulator()
    with emulator.serve() as url:
        fault = {"kind": "status", "status": status, "retry_after": retry_after}
        answer = post_faults(url, [fault])
        if answer.status_code == 400:
            assert emulator.pending_faults() == []
            return
        assert answer.status_code == 200
        try:
            faulted = data_reply(emulator, url)
        except httpx2.HTTPError as error:
            pytest.fail(f"{fault} was accepted, then answered with no legal reply: {error!r}")
    assert faulted.status_code == status
    if retry_after is not None:
        assert float(faulted.headers["retry-after"]) >= 0
