"""A reply with no content coding is read whole by httpx2 and counted as it arrives: the cap
holds whatever its ``Content-Length`` says, sync and async alike.

The bodies here are streamed chunk by chunk, as a socket delivers them, from a stream that
records how much the client took from it and whether the client closed it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest

from pyconviva import (
    AsyncConvivaAPI,
    ConvivaAPI,
    MetadataResult,
    RetryPolicy,
    ServerError,
    UnexpectedResponseError,
)
from pyconviva._wire import ERROR_BODY_CAP, REPLY_SIZE_CAP

CHUNK = 65536
NO_RETRY = RetryPolicy(max_retries=0)


# How far an "endless" body goes: far past every cap, yet a client that ignored the caps would
# fail these tests rather than fill the memory.
ENDLESS = 4 * REPLY_SIZE_CAP


class Body(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """``content`` in ``CHUNK``-byte pieces, then spaces up to ``ENDLESS`` bytes if ``endless``."""

    def __init__(self, content: bytes, *, endless: bool = False) -> None:
        self.content = content
        self.endless = endless
        self.taken = 0  # bytes the client pulled from the stream
        self.closed = False

    def _chunks(self) -> Iterator[bytes]:
        for start in range(0, len(self.content), CHUNK):
            yield self.content[start : start + CHUNK]
        for _ in range(ENDLESS // CHUNK if self.endless else 0):
            yield b" " * CHUNK

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks():
            self.taken += len(chunk)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def serving(status: int, body: Body, headers: dict[str, str] | None = None) -> httpx2.MockTransport:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            status, headers={"content-type": "application/json", **(headers or {})}, stream=body
        )

    return httpx2.MockTransport(answer)


def get_kpis(flavour: str, transport: httpx2.MockTransport) -> MetadataResult:
    """``get_kpis()`` through the sync or the async client."""
    if flavour == "sync":
        with ConvivaAPI("key", "id", transport=transport, retry=NO_RETRY) as api:
            return api.get_kpis()

    async def call() -> MetadataResult:
        async with AsyncConvivaAPI("key", "id", transport=transport, retry=NO_RETRY) as api:
            return await api.get_kpis()

    return asyncio.run(call())


def reply_of(size: int) -> bytes:
    """A JSON reply of exactly ``size`` bytes."""
    head, tail = b'{"kpis": [], "pad": "', b'"}'
    return head + b" " * (size - len(head) - len(tail)) + tail


flavours = pytest.mark.parametrize("flavour", ["sync", "async"])


@flavours
def test_an_uncoded_reply_in_many_chunks_is_read_whole_and_the_stream_released(
    flavour: str,
) -> None:
    content = reply_of(10 * CHUNK + 123)
    body = Body(content)
    result = get_kpis(flavour, serving(200, body, {"content-length": str(len(content))}))
    assert result["kpis"] == []
    assert body.taken == len(content)
    assert body.closed


@flavours
def test_an_uncoded_reply_of_exactly_the_cap_is_accepted(flavour: str) -> None:
    assert REPLY_SIZE_CAP % CHUNK != 0  # so the last chunk is a short one that just fits
    body = Body(reply_of(REPLY_SIZE_CAP))
    assert get_kpis(flavour, serving(200, body))["kpis"] == []


@flavours
def test_an_uncoded_reply_one_byte_over_the_cap_is_refused(flavour: str) -> None:
    body = Body(reply_of(REPLY_SIZE_CAP + 1))
    with pytest.raises(UnexpectedResponseError, match=f"larger than {REPLY_SIZE_CAP:,} bytes"):
        get_kpis(flavour, serving(200, body))
    assert body.closed


@flavours
def test_a_reply_declaring_a_length_over_the_cap_is_refused_once_the_cap_is_read(
    flavour: str,
) -> None:
    body = Body(b"", endless=True)
    headers = {"content-length": str(2 * REPLY_SIZE_CAP)}
    with pytest.raises(UnexpectedResponseError, match=f"larger than {REPLY_SIZE_CAP:,} bytes"):
        get_kpis(flavour, serving(200, body, headers))
    assert body.taken <= REPLY_SIZE_CAP + CHUNK
    assert body.closed


@flavours
def test_a_content_length_that_lies_low_does_not_let_a_reply_past_the_cap(flavour: str) -> None:
    body = Body(b'{"kpis": []}', endless=True)
    with pytest.raises(UnexpectedResponseError, match=f"larger than {REPLY_SIZE_CAP:,} bytes"):
        get_kpis(flavour, serving(200, body, {"content-length": "12"}))
    assert body.taken <= REPLY_SIZE_CAP + CHUNK
    assert body.closed


@flavours
def test_an_uncoded_error_reply_past_its_cap_keeps_its_status_and_the_start_of_its_body(
    flavour: str,
) -> None:
    body = Body(b'{"message": "busy"', endless=True)
    with pytest.raises(ServerError) as caught:
        get_kpis(flavour, serving(503, body))
    assert caught.value.status_code == 503
    assert caught.value.message.startswith('{"message": "busy"')  # cut short: summarised
    assert body.taken <= ERROR_BODY_CAP + CHUNK
    assert body.closed


@flavours
def test_an_uncoded_error_reply_within_its_cap_gives_the_servers_message(flavour: str) -> None:
    body = Body(b'{"message": "try later"}')
    with pytest.raises(ServerError, match="try later") as caught:
        get_kpis(flavour, serving(503, body))
    assert caught.value.status_code == 503
