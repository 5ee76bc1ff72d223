"""AsyncConvivaAPI: the same surface as ConvivaAPI, the same requests, retries and errors."""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import httpx2
import pytest

from pyconviva import (
    APITimeoutError,
    AsyncConvivaAPI,
    AuthenticationError,
    ConvivaAPI,
    QueryError,
    RetryPolicy,
    ServerError,
)
from pyconviva.emulator import DropConnection, Emulator, StatusFault
from pyconviva.testing import VirtualClock

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)
KEY = "k3y-that-must-stay-secret"
CLIENT_ID = "client-id-123"
SERIES_BODY: dict[str, Any] = {
    "time_series": [
        {
            "timestamp": {"epoch_ms": 1736424000000, "iso_date": "2025-01-09T12:00:00Z"},
            "dimensional_data": [
                {
                    "dimension": {"key": "isp", "value": "Optus"},
                    "metrics": {"attempts": {"count": 10}},
                }
            ],
        }
    ],
    "total": {"attempts": {"count": 10}},
    "_meta": {"group_by_dimension": {"description": "ISP"}},
}
# Sync name -> async name where they differ; everything else must exist under the same name.
RENAMED = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
DUNDERS = {"__init__", *(name for pair in RENAMED.items() for name in pair if name[0] == "_")}


def public_methods(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in vars(cls).items()
        if callable(member) and (not name.startswith("_") or name in DUNDERS)
    }


def comparable(signature: inspect.Signature) -> list[tuple[str, object, object, str]]:
    """Parameters as (name, kind, default, annotation) with the async spellings normalised."""
    return [
        (
            p.name,
            p.kind,
            p.default,
            str(p.annotation).replace("AsyncBaseTransport", "BaseTransport"),
        )
        for p in signature.parameters.values()
    ]


def test_sync_and_async_clients_have_the_same_public_methods() -> None:
    sync_names = {RENAMED.get(name, name) for name in public_methods(ConvivaAPI)}
    assert sync_names == set(public_methods(AsyncConvivaAPI))


@pytest.mark.parametrize("name", sorted(set(public_methods(ConvivaAPI)) - {"__init__"}))
def test_each_async_method_has_the_sync_signature_and_is_awaitable(name: str) -> None:
    sync_method = getattr(ConvivaAPI, name)
    async_method = getattr(AsyncConvivaAPI, RENAMED.get(name, name))
    sync_signature = inspect.signature(sync_method)
    async_signature = inspect.signature(async_method)
    assert comparable(sync_signature) == comparable(async_signature)
    assert sync_signature.return_annotation == async_signature.return_annotation.replace(
        "AsyncConvivaAPI", "ConvivaAPI"
    )
    assert inspect.iscoroutinefunction(async_method)


def test_constructors_take_the_same_arguments() -> None:
    assert comparable(inspect.signature(ConvivaAPI.__init__)) == comparable(
        inspect.signature(AsyncConvivaAPI.__init__)
    )


class Recorder:
    def __init__(self, *failures: httpx2.Response | Exception) -> None:
        self.requests: list[httpx2.Request] = []
        self.failures = list(failures)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        return httpx2.Response(200, json=SERIES_BODY)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


def make_async(
    recorder: Recorder, clock: VirtualClock | None = None, **options: Any
) -> AsyncConvivaAPI:
    options.setdefault("retry", RetryPolicy(jitter=0.0))
    return AsyncConvivaAPI(
        KEY,
        CLIENT_ID,
        transport=httpx2.MockTransport(recorder),
        clock=clock or VirtualClock(NOW),
        **options,
    )


async def test_async_calls_send_what_the_sync_client_sends() -> None:
    sync_recorder, async_recorder = Recorder(), Recorder()
    arguments: dict[str, Any] = {
        "group_by": "isp",
        "filter_by": {"device-name": "Roku"},
        "time_range": 5,
        "sort_by": ["attempts", "asc"],
    }
    with ConvivaAPI(
        KEY, CLIENT_ID, transport=httpx2.MockTransport(sync_recorder), clock=lambda: NOW
    ) as sync_api:
        sync_api.get_historical_data(["attempts", "plays"], **arguments)
    async with make_async(async_recorder) as api:
        result = await api.get_historical_data(["attempts", "plays"], **arguments)
    sent, expected = async_recorder.requests[0], sync_recorder.requests[0]
    assert sent.url.path == expected.url.path
    assert Counter(sent.url.params.multi_items()) == Counter(expected.url.params.multi_items())
    assert sent.headers["authorization"] == expected.headers["authorization"]
    assert result["_meta"] == SERIES_BODY["_meta"]


async def test_async_metadata_methods_return_the_reply() -> None:
    reply: dict[str, list[Any]] = {"resources": [], "references": []}
    recorder = Recorder(httpx2.Response(200, json=reply))
    async with make_async(recorder) as api:
        result = await api.get_available_group_by_endpoints("audience", dimension_tag_only=True)
    assert recorder.requests[0].url.path == "/insights/3.0/metrics/audience/group-by/dimension-tag"
    assert dict(result) == reply


async def test_async_retries_wait_on_the_clock_given(clock: VirtualClock) -> None:
    recorder = Recorder(httpx2.Response(503), httpx2.ConnectError("refused"))
    async with make_async(recorder, clock) as api:
        result = await api.get_real_time_data("attempts", time_range=3)
    assert clock.sleeps == (0.5, 1.0)
    assert len(recorder.requests) == 3
    assert result["total"] == SERIES_BODY["total"]


async def test_async_gives_up_with_the_mapped_error(clock: VirtualClock) -> None:
    cause = httpx2.ReadTimeout("slow")
    recorder = Recorder(httpx2.Response(502), httpx2.Response(500), cause)
    async with make_async(recorder, clock, retry=RetryPolicy(max_retries=2, jitter=0.0)) as api:
        with pytest.raises(APITimeoutError) as caught:
            await api.get_kpis()
    assert caught.value.__cause__ is cause
    assert clock.sleeps == (0.5, 1.0)


async def test_async_status_errors_are_mapped_and_not_retried() -> None:
    recorder = Recorder(httpx2.Response(401, json={"message": "Unauthorized"}))
    async with make_async(recorder) as api:
        with pytest.raises(AuthenticationError, match="client id 'clie'"):
            await api.get_saved_filters()
    assert len(recorder.requests) == 1


async def test_async_query_errors_come_before_any_request() -> None:
    recorder = Recorder()
    async with make_async(recorder) as api:
        with pytest.raises(QueryError):
            await api.get_real_time_data("attempts", time_range=60)
    assert recorder.requests == []


async def test_concurrent_async_calls_share_one_client() -> None:
    recorder = Recorder()
    async with make_async(recorder) as api:
        results = await asyncio.gather(*(api.get_historical_data("attempts") for _ in range(5)))
    assert len(results) == 5
    assert len(recorder.requests) == 5


async def test_aclose_closes_the_pool() -> None:
    api = make_async(Recorder())
    await api.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await api.get_kpis()


async def test_server_errors_after_retries_raise_server_error(clock: VirtualClock) -> None:
    recorder = Recorder(*[httpx2.Response(500)] * 4)
    async with make_async(recorder, clock, retry=RetryPolicy(max_retries=3, jitter=0.0)) as api:
        with pytest.raises(ServerError, match="Gave up after 4 attempts"):
            await api.get_kpis()
    assert clock.sleeps == (0.5, 1.0, 2.0)


async def test_async_client_against_the_emulator_matches_the_sync_client(
    clock: VirtualClock,
) -> None:
    emulator = Emulator(now=NOW)
    with emulator.client() as sync_api:
        expected = sync_api.get_historical_data(["attempts", "plays"], group_by="isp")
    emulator.add_faults(StatusFault(status=502), DropConnection())
    async with emulator.async_client(retry=RetryPolicy(jitter=0.0), clock=clock) as api:
        result = await api.get_historical_data(["attempts", "plays"], group_by="isp")
    assert dict(result) == dict(expected)
    assert clock.sleeps == (0.5, 1.0)


@pytest.mark.network
async def test_async_client_over_a_real_socket() -> None:
    emulator = Emulator(now=NOW)
    with emulator.serve() as url:
        async with emulator.async_client(base_url=url, transport=None) as api:
            results = await asyncio.gather(
                api.get_real_time_data("attempts", time_range=3),
                api.get_available_dimensions(),
                api.get_kpis(),
            )
    assert len(results[0]["time_series"]) == 3
    assert results[1]["dimensions"]
    assert len(emulator.requests()) == 3
