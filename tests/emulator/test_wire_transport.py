"""The in-process wire: one transport for sync and async httpx2 clients; faults as on a socket."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import datetime, timezone

import httpx2
import pytest

from pyconviva.emulator import (
    DropConnection,
    Emulator,
    NonJSONBody,
    RateLimitStorm,
    SlowReply,
    StatusFault,
    TruncateBody,
)

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
AUTH = ("demo-client-id", "demo-client-key")
BASE = "https://api.conviva.com"
ATTEMPTS = "/insights/3.0/metrics/attempts"


def sync_client(emulator: Emulator, timeout: float = 30.0) -> httpx2.Client:
    return httpx2.Client(transport=emulator.transport(), base_url=BASE, auth=AUTH, timeout=timeout)


def test_transport_is_a_mock_transport_serving_sync_clients() -> None:
    emulator = Emulator(now=NOW)
    transport = emulator.transport()
    assert isinstance(transport, httpx2.MockTransport)
    with sync_client(emulator) as client:
        reply = client.get(ATTEMPTS, params={"days": "1"})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert int(reply.headers["content-length"]) == len(reply.content)
    assert "_meta" in reply.json()


async def test_async_client_gets_the_same_bytes_as_the_sync_client() -> None:
    emulator = Emulator(now=NOW)
    with sync_client(emulator) as client:
        expected = client.get(ATTEMPTS, params={"days": "2"})
    async with httpx2.AsyncClient(
        transport=emulator.transport(), base_url=BASE, auth=AUTH
    ) as client:
        got = await client.get(ATTEMPTS, params={"days": "2"})
    assert (got.status_code, got.headers.raw, got.content) == (
        expected.status_code,
        expected.headers.raw,
        expected.content,
    )


def test_wrong_credentials_get_401_unauthorized() -> None:
    emulator = Emulator(now=NOW)
    with httpx2.Client(transport=emulator.transport(), base_url=BASE, auth=("x", "y")) as client:
        reply = client.get(ATTEMPTS, params={"days": "1"})
    assert reply.status_code == 401
    assert reply.json() == {"message": "Unauthorized"}


def test_status_fault_answers_its_status_and_retry_after_then_is_consumed() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=503, retry_after=2, times=2))
    with sync_client(emulator) as client:
        replies = [client.get(ATTEMPTS, params={"days": "1"}) for _ in range(3)]
    assert [r.status_code for r in replies] == [503, 503, 200]
    assert replies[0].headers["retry-after"] == "2"
    assert replies[0].json()["name"] == "ServiceUnavailable"
    assert emulator.pending_faults() == []


def test_status_fault_with_a_body_sends_that_body() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=500, body='{"name":"Boom"}'))
    with sync_client(emulator) as client:
        reply = client.get(ATTEMPTS, params={"days": "1"})
    assert (reply.status_code, reply.content) == (500, b'{"name":"Boom"}')


def test_rate_limit_storm_gives_consecutive_429s_with_or_without_retry_after() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(RateLimitStorm(times=2), RateLimitStorm(times=1, retry_after=30))
    with sync_client(emulator) as client:
        replies = [client.get(ATTEMPTS, params={"days": "1"}) for _ in range(4)]
    assert [r.status_code for r in replies] == [429, 429, 429, 200]
    assert replies[0].json() == {"message": "Too Many Requests"}
    assert "retry-after" not in replies[1].headers
    assert replies[2].headers["retry-after"] == "30"


def test_dropped_connection_raises_remote_protocol_error_once() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(DropConnection())
    with sync_client(emulator) as client:
        with pytest.raises(httpx2.RemoteProtocolError):
            client.get(ATTEMPTS, params={"days": "1"})
        assert client.get(ATTEMPTS, params={"days": "1"}).status_code == 200
    assert [entry.status for entry in emulator.requests()] == [None, 200]


def test_truncated_body_claims_the_full_length_and_fails_while_reading() -> None:
    emulator = Emulator(now=NOW)
    with sync_client(emulator) as client:
        full = len(client.get(ATTEMPTS, params={"days": "1"}).content)
        emulator.add_faults(TruncateBody(keep=0.25))
        with client.stream("GET", ATTEMPTS, params={"days": "1"}) as reply:
            assert int(reply.headers["content-length"]) == full
            with pytest.raises(httpx2.RemoteProtocolError, match="complete message body"):
                reply.read()


async def test_truncated_body_fails_on_the_async_path_too() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(TruncateBody())
    async with httpx2.AsyncClient(
        transport=emulator.transport(), base_url=BASE, auth=AUTH
    ) as client:
        with pytest.raises(httpx2.RemoteProtocolError):
            await client.get(ATTEMPTS, params={"days": "1"})


@pytest.mark.parametrize("status", [200, 502])
def test_non_json_body_is_an_html_page(status: int) -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(NonJSONBody(status=status))
    with sync_client(emulator) as client:
        reply = client.get(ATTEMPTS, params={"days": "1"})
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.text.startswith("<!DOCTYPE html>")
    with pytest.raises(json.JSONDecodeError):
        reply.json()


def test_slow_reply_past_the_read_timeout_raises_read_timeout_without_waiting() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(SlowReply(delay=60))
    started = time.monotonic()
    with sync_client(emulator, timeout=0.5) as client, pytest.raises(httpx2.ReadTimeout):
        client.get(ATTEMPTS, params={"days": "1"})
    assert time.monotonic() - started < 30
    assert emulator.requests()[0].fault == "slow"


def test_slow_reply_within_the_timeout_arrives_late() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(SlowReply(delay=0.05))
    started = time.monotonic()
    with sync_client(emulator) as client:
        assert client.get(ATTEMPTS, params={"days": "1"}).status_code == 200
    assert time.monotonic() - started >= 0.05


def test_path_restricted_fault_skips_other_paths() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=500, path="real-time-metrics"))
    with sync_client(emulator) as client:
        historical = client.get(ATTEMPTS, params={"days": "1"})
        real_time = client.get("/insights/3.0/real-time-metrics/attempts", params={"minutes": "5"})
    assert (historical.status_code, real_time.status_code) == (200, 500)


async def test_latency_on_the_async_path_does_not_block_the_event_loop() -> None:
    emulator = Emulator(now=NOW, latency=0.2)
    async with httpx2.AsyncClient(
        transport=emulator.transport(), base_url=BASE, auth=AUTH
    ) as client:
        started = time.monotonic()
        replies = await asyncio.gather(
            *(client.get(ATTEMPTS, params={"days": "1"}) for _ in range(5))
        )
        elapsed = time.monotonic() - started
    assert all(reply.status_code == 200 for reply in replies)
    assert 0.2 <= elapsed < 0.2 * 5  # concurrent waits, not five in a row


def test_latency_is_waited_without_holding_the_emulator_lock() -> None:
    emulator = Emulator(now=NOW, latency=1.0)

    def fetch() -> None:
        with sync_client(emulator) as client:
            client.get(ATTEMPTS, params={"days": "1"})

    slow = threading.Thread(target=fetch)
    slow.start()
    while not emulator.requests():  # the request is logged before its latency is waited
        time.sleep(0.001)
    emulator.reset()  # takes the lock; would wait for the sleeper if it held it
    emulator.add_faults(StatusFault(status=500))
    assert slow.is_alive()
    slow.join()
