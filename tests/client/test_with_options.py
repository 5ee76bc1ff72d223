"""``with_options``: a light copy of a client with other per-call settings."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from pyconviva import (
    AsyncConvivaAPI,
    ConfigurationError,
    ConvivaAPI,
    RetryPolicy,
    ServerError,
)
from pyconviva.testing import VirtualClock

KPIS = {"kpis": [{"id": 1, "name": "Conviva Good"}]}


class Replies:
    """A MockTransport handler: answers ``status`` and records every request."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return httpx2.Response(self.status, json=KPIS if self.status == 200 else {})


def client(replies: Replies, clock: VirtualClock, **options: object) -> ConvivaAPI:
    return ConvivaAPI("key", "id", transport=httpx2.MockTransport(replies), clock=clock, **options)  # type: ignore[arg-type]


def test_the_copy_sends_with_its_timeout_and_the_original_with_its_own(
    clock: VirtualClock,
) -> None:
    replies = Replies()
    with client(replies, clock, timeout=30) as api:
        api.with_options(timeout=2.5).get_kpis()
        api.get_kpis()
    copy_timeout, original_timeout = (r.extensions["timeout"] for r in replies.requests)
    assert copy_timeout == httpx2.Timeout(2.5).as_dict()
    assert original_timeout == httpx2.Timeout(30).as_dict()


def test_the_copy_shares_the_rate_limiter_the_clock_and_the_connection(
    clock: VirtualClock,
) -> None:
    replies = Replies()
    with client(replies, clock) as api:
        copy = api.with_options(max_retries=1)
        assert copy.rate_limiter is api.rate_limiter
        assert copy.clock is api.clock
        assert (copy.base_url, copy.client_id) == (api.base_url, api.client_id)
        assert type(copy) is ConvivaAPI
        assert copy is not api


def test_max_retries_alone_keeps_the_rest_of_the_clients_policy(clock: VirtualClock) -> None:
    policy = RetryPolicy(max_retries=5, total_timeout=42.0)
    with client(Replies(), clock, retry=policy) as api:
        copy = api.with_options(max_retries=0)
    assert copy.retry_policy.max_retries == 0
    assert copy.retry_policy.total_timeout == 42.0
    assert api.retry_policy is policy


def test_the_copy_retries_by_its_own_policy(clock: VirtualClock) -> None:
    replies = Replies(503)
    with client(replies, clock, max_retries=3) as api:
        with pytest.raises(ServerError):
            api.with_options(max_retries=0).get_kpis()
        assert len(replies.requests) == 1
        with pytest.raises(ServerError):
            api.get_kpis()
        assert len(replies.requests) == 1 + 4


def test_closing_the_copy_leaves_the_shared_connections_open(clock: VirtualClock) -> None:
    replies = Replies()
    with client(replies, clock) as api:
        with api.with_options(timeout=5) as copy:
            copy.get_kpis()
        assert api.get_kpis()["kpis"][0]["name"] == "Conviva Good"
    with pytest.raises(RuntimeError):  # the original closed the pool the copy used
        copy.get_kpis()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": -1}, "timeout must be a positive number"),
        ({"max_retries": -1}, "max_retries must be >= 0"),
        ({"retry": "fast"}, "retry must be a RetryPolicy"),
        ({"retry": RetryPolicy(max_retries=2), "max_retries": 4}, "contradicts"),
    ],
)
def test_settings_the_constructor_refuses_are_refused(
    clock: VirtualClock, options: dict[str, object], message: str
) -> None:
    with client(Replies(), clock) as api, pytest.raises(ConfigurationError, match=message):
        api.with_options(**options)  # type: ignore[arg-type]


def test_the_async_copy_shares_the_pool_and_its_aclose_leaves_it_open(
    clock: VirtualClock,
) -> None:
    replies = Replies()

    async def main() -> None:
        async with AsyncConvivaAPI(
            "key", "id", transport=httpx2.MockTransport(replies), clock=clock
        ) as api:
            async with api.with_options(timeout=3) as copy:
                await copy.get_kpis()
            assert copy.rate_limiter is api.rate_limiter
            await api.get_kpis()

    asyncio.run(main())
    assert [r.extensions["timeout"]["read"] for r in replies.requests] == [3.0, 30.0]
