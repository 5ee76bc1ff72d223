"""The in-process wire: an httpx2 transport that serves both ``Client`` and ``AsyncClient``.

It behaves like the loopback server where a client can tell: a dropped connection raises
``httpx2.RemoteProtocolError``; a truncated reply carries the full ``Content-Length`` and its
body stream fails part way with ``httpx2.RemoteProtocolError``, as a socket closed early does.
Latency waits with ``time.sleep`` on the sync path and ``asyncio.sleep`` on the async path. A
delay longer than the request's read timeout raises ``httpx2.ReadTimeout`` at once instead of
waiting for the timeout to pass (in-process tests stay fast; the server really waits).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx2

from pyconviva.emulator._faults import Delivery, wire_headers

if TYPE_CHECKING:
    from pyconviva.emulator import Emulator

__all__ = ["IN_PROCESS_PEER", "EmulatorTransport"]

IN_PROCESS_PEER = "in-process"  # the client address the rate limiter sees for in-process calls


class _CutShortStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A body that ends early: yields what was sent, then fails as a closed socket does."""

    def __init__(self, sent: bytes, expected: int) -> None:
        self._sent = sent
        self._expected = expected

    def _error(self) -> httpx2.RemoteProtocolError:
        return httpx2.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {len(self._sent)} bytes, expected {self._expected})"
        )

    def __iter__(self) -> Iterator[bytes]:
        if self._sent:
            yield self._sent
        raise self._error()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._sent:
            yield self._sent
        raise self._error()


class EmulatorTransport(httpx2.MockTransport):
    """Hands each request to :meth:`Emulator.handle` and turns the delivery into a response."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(self._respond)
        self._emulator = emulator

    def __repr__(self) -> str:
        return "<in-process emulator>"

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        return self._respond(request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        delivery = self._deliver(request)
        if delivery.delay:
            await asyncio.sleep(delivery.delay)
        return _response(delivery, request)

    def _respond(self, request: httpx2.Request) -> httpx2.Response:
        delivery = self._deliver(request)
        if delivery.delay:
            time.sleep(delivery.delay)
        return _response(delivery, request)

    def _deliver(self, request: httpx2.Request) -> Delivery:
        headers = {name.lower(): value for name, value in request.headers.items()}
        target = request.url.raw_path.decode("ascii")
        delivery = self._emulator.handle(
            request.method, target, headers, request.content, IN_PROCESS_PEER
        )
        read_timeout = request.extensions.get("timeout", {}).get("read")
        if read_timeout is not None and delivery.delay > read_timeout:
            raise httpx2.ReadTimeout(
                f"reply {delivery.delay:g} s late; read timeout {read_timeout:g} s",
                request=request,
            )
        return delivery


def _response(delivery: Delivery, request: httpx2.Request) -> httpx2.Response:
    reply = delivery.response
    if reply is None:
        raise httpx2.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    headers = wire_headers(reply)
    if delivery.cut is None:
        return httpx2.Response(reply.status, headers=headers, content=reply.body, request=request)
    stream = _CutShortStream(reply.body[: delivery.cut], len(reply.body))
    return httpx2.Response(reply.status, headers=headers, stream=stream, request=request)
