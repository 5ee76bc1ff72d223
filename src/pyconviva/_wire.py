"""Limits on one exchange with the server, whatever the server does: a deadline and a size.

**The deadline.** httpx2's timeouts bound each phase of an attempt (connect, each write, each
read), not the whole of it: a server that sends a byte every half timeout holds a request for as
long as it likes. The clients therefore give every attempt a wall-clock deadline, the call's
remaining time budget plus one attempt's timeout. The async client cancels the attempt when it
passes (:func:`within`). The sync client cannot cancel a thread, so every socket operation
of its connection pool is given at most the time left (:func:`bound_sockets`,
:func:`deadline`): a trickle then ends in ``httpx2.ReadTimeout`` at the deadline, between two
bytes of the headers or of the body alike.

**The size.** The API never sends a reply over 5,700,000 bytes: it answers 413 instead. A coded
reply is read raw and decoded (gzip, deflate) in bounded steps, one with no coding is counted
as it arrives, and reading stops at :data:`REPLY_SIZE_CAP` decoded bytes, twice the API's cap:
the headroom keeps any reply the API could send (whose cap may be counted before some
encoding) while a gzip bomb that expands 1000 times is stopped after 11.4 MB, not decoded in
full. A success reply over the cap is an
:class:`~pyconviva.UnexpectedResponseError`; an error reply keeps its status and the first
:data:`ERROR_BODY_CAP` bytes of its body, which is all its message needs.
"""

from __future__ import annotations

import asyncio
import sys
import time
import zlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NoReturn, TypeVar

import httpcore2
import httpx2

from pyconviva._exceptions import UnexpectedResponseError
from pyconviva._rules import MAX_REPLY_BYTES

__all__ = [
    "DEADLINE_PASSED",
    "ERROR_BODY_CAP",
    "REPLY_SIZE_CAP",
    "BodyReader",
    "aread_reply",
    "bound_sockets",
    "deadline",
    "read_reply",
    "within",
]

_T = TypeVar("_T")

REPLY_SIZE_CAP = 2 * MAX_REPLY_BYTES
# An error reply's body only gives its message: its first mebibyte is plenty.
ERROR_BODY_CAP = 1 << 20
DEADLINE_PASSED = "the call's deadline passed before the reply was complete"

# Decoded bytes produced per decompression step: a bomb never expands in one go.
_STEP = 1 << 20
_DECODED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
_ZLIB_FORMATS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": 47}

# The monotonic instant the current thread's exchange must end by (None: no deadline).
_cutoff: ContextVar[float | None] = ContextVar("pyconviva_exchange_cutoff", default=None)


# --- the deadline (sync client) -----------------------------------------------------------------


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Socket operations of this thread inside the block end within ``seconds`` (None: no limit)."""
    token = _cutoff.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _cutoff.reset(token)


def bound_sockets(client: httpx2.Client) -> None:
    """Make the connection pools of ``client`` keep to :func:`deadline`.

    httpx2 offers no hook for this: the network backend of each pool (the direct one and any
    proxy's) is wrapped in place. A client given its own ``transport`` has no such pool and is
    left as it is.
    """
    transports: list[Any] = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore2.NetworkBackend) and not isinstance(
            backend, _DeadlineBackend
        ):
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]


def _before_deadline(
    operation: Callable[[float | None], _T], timeout: float | None, error: type[Exception]
) -> _T:
    """``operation(timeout)``, with the timeout cut to the time left before this thread's
    deadline; when the deadline is what ends it, ``error`` says so."""
    cutoff = _cutoff.get()
    left = None if cutoff is None else cutoff - time.monotonic()
    if left is None or (timeout is not None and timeout <= left):
        return operation(timeout)
    if left <= 0:
        raise error(DEADLINE_PASSED)
    try:
        return operation(left)
    except error as exc:
        raise error(DEADLINE_PASSED) from exc


class _DeadlineStream(httpcore2.NetworkStream):
    def __init__(self, stream: httpcore2.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _before_deadline(
            lambda left: self._stream.read(max_bytes, left), timeout, httpcore2.ReadTimeout
        )

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:  # h11 ends each request with empty writes: nothing to send or to bound
            return
        _before_deadline(
            lambda left: self._stream.write(buffer, left), timeout, httpcore2.WriteTimeout
        )

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.NetworkStream:
        return _connected(
            lambda left: self._stream.start_tls(ssl_context, server_hostname, left), timeout
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore2.NetworkBackend):
    def __init__(self, backend: httpcore2.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore2.NetworkStream:
        return _connected(
            lambda left: self._backend.connect_tcp(host, port, left, local_address, socket_options),
            timeout,
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore2.NetworkStream:
        return _connected(
            lambda left: self._backend.connect_unix_socket(path, left, socket_options), timeout
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _connected(
    connect: Callable[[float | None], httpcore2.NetworkStream], timeout: float | None
) -> httpcore2.NetworkStream:
    """A stream from ``connect`` (or a TLS upgrade) made before the deadline, and kept to it."""
    return _DeadlineStream(_before_deadline(connect, timeout, httpcore2.ConnectTimeout))


# --- the deadline (async client) ----------------------------------------------------------------


async def within(seconds: float | None, exchange: Coroutine[Any, Any, _T]) -> _T:
    """Await ``exchange``, cancelled after ``seconds`` with ``asyncio.TimeoutError``."""
    if sys.version_info >= (3, 11):
        # In the calling task: no task of its own, so the exchange runs in the caller's turn.
        async with asyncio.timeout(seconds):
            return await exchange
    return await asyncio.wait_for(exchange, seconds)  # pragma: no cover - Python 3.10


# --- the size -----------------------------------------------------------------------------------


class BodyReader:
    """Decodes a reply's raw body chunk by chunk, and stops at ``cap`` decoded bytes.

    ``feed`` returns False once the cap is passed (read no more); after :meth:`finish`,
    ``complete`` says whether the whole reply fitted, and :meth:`body` gives what was decoded,
    at most ``cap`` bytes.
    """

    def __init__(self, content_encoding: str, request: httpx2.Request, cap: int) -> None:
        self._request = request
        self._cap = cap
        self._decoders = [
            zlib.decompressobj(_ZLIB_FORMATS[coding])
            for coding in reversed(_codings(content_encoding))
        ]
        self._pieces: list[bytes] = []
        self._size = 0
        self.complete = True

    def feed(self, chunk: bytes) -> bool:
        """Take in the next raw chunk; False once the cap is passed."""
        for piece in self._decoded(chunk, 0):
            self._keep(piece)
            if not self.complete:
                return False
        return True

    def finish(self) -> None:
        """Decode what the decoders still hold, once the raw body has ended."""
        for depth, decoder in enumerate(self._decoders):
            if not self.complete:
                return
            for piece in self._decoded(self._flush(decoder), depth + 1):
                self._keep(piece)

    def body(self) -> bytes:
        return b"".join(self._pieces)

    def _decoded(self, data: bytes, depth: int) -> Iterator[bytes]:
        """``data`` through the decoders from ``depth`` on, in pieces of at most ``_STEP``."""
        if depth == len(self._decoders):
            if data:
                yield data
            return
        decoder = self._decoders[depth]
        while data:
            try:
                piece = decoder.decompress(data, _STEP)
            except zlib.error as exc:
                raise self._undecodable(exc) from exc
            yield from self._decoded(piece, depth + 1)
            data = decoder.unconsumed_tail

    def _flush(self, decoder: Any) -> bytes:
        try:
            return bytes(decoder.flush())
        except zlib.error as exc:
            raise self._undecodable(exc) from exc

    def _undecodable(self, exc: zlib.error) -> httpx2.DecodingError:
        return httpx2.DecodingError(
            f"the reply's body could not be decoded ({exc})", request=self._request
        )

    def _keep(self, piece: bytes) -> None:
        room = self._cap - self._size
        if len(piece) > room:
            piece = piece[:room]
            self.complete = False
        self._pieces.append(piece)
        self._size += len(piece)


def _codings(content_encoding: str) -> list[str]:
    """The decodable codings applied, in order; unknown ones pass through as httpx2's do."""
    named = (part.strip().lower() for part in content_encoding.split(","))
    return [coding for coding in named if coding in _ZLIB_FORMATS]


class _Room:
    """What is left of a size cap as a body with no coding arrives."""

    def __init__(self, cap: int) -> None:
        self.left = cap
        self.complete = True  # False once a byte past the cap has arrived

    def fit(self, chunk: bytes) -> bytes:
        """``chunk``, or as much of it as still fits."""
        if len(chunk) > self.left:
            self.complete = False
            chunk = chunk[: self.left]
        self.left -= len(chunk)
        return chunk


# A reply with no coding (most are) is read by httpx2 itself, ``Response.read`` through one of
# these in place of its stream: no step-wise decoder, no second Response, the raw chunks joined
# once (a reply in one chunk is not copied at all), and still never more than the cap.
class _CappedStream(httpx2.SyncByteStream):
    def __init__(self, stream: httpx2.SyncByteStream, room: _Room) -> None:
        self._stream = stream
        self._room = room

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            yield self._room.fit(chunk)
            if not self._room.complete:
                return

    def close(self) -> None:
        self._stream.close()


class _AsyncCappedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, room: _Room) -> None:
        self._stream = stream
        self._room = room

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield self._room.fit(chunk)
            if not self._room.complete:
                return

    async def aclose(self) -> None:
        await self._stream.aclose()


def read_reply(response: httpx2.Response, description: str) -> httpx2.Response:
    """The reply of a response sent with ``stream=True``, decoded and within the size cap."""
    if response.is_stream_consumed:  # a transport that built it from bytes (a mock)
        return _checked(response, response.content, description)
    stream = response.stream
    if isinstance(stream, httpx2.SyncByteStream) and _uncoded(response):
        room = _Room(_cap(response))
        response.stream = _CappedStream(stream, room)
        response.read()
        return _kept(response, room, description)
    reader = _reader(response)
    for chunk in response.iter_raw():
        if not reader.feed(chunk):
            break
    return _settled(response, reader, description)


async def aread_reply(response: httpx2.Response, description: str) -> httpx2.Response:
    """:func:`read_reply` for a response of the async client."""
    if response.is_stream_consumed:
        return _checked(response, response.content, description)
    stream = response.stream
    if isinstance(stream, httpx2.AsyncByteStream) and _uncoded(response):
        room = _Room(_cap(response))
        response.stream = _AsyncCappedStream(stream, room)
        await response.aread()
        return _kept(response, room, description)
    reader = _reader(response)
    async for chunk in response.aiter_raw():
        if not reader.feed(chunk):
            break
    return _settled(response, reader, description)


def _uncoded(response: httpx2.Response) -> bool:
    """No content coding: the raw body is the body, and httpx2 may read it as it is."""
    return "content-encoding" not in response.headers


def _cap(response: httpx2.Response) -> int:
    return REPLY_SIZE_CAP if response.is_success else ERROR_BODY_CAP


def _reader(response: httpx2.Response) -> BodyReader:
    return BodyReader(
        response.headers.get("content-encoding", ""), response.request, _cap(response)
    )


def _checked(response: httpx2.Response, body: bytes, description: str) -> httpx2.Response:
    if response.is_success and len(body) > REPLY_SIZE_CAP:
        _refuse(response, description)
    return response


def _kept(response: httpx2.Response, room: _Room, description: str) -> httpx2.Response:
    """A reply with no coding, read by httpx2 through a :class:`_Room`: itself, unless it
    overflowed (a success is then refused; an error keeps the start of its body)."""
    if room.complete:
        return response
    if response.is_success:
        _refuse(response, description)
    return _rebuilt(response, response.content)


def _settled(response: httpx2.Response, reader: BodyReader, description: str) -> httpx2.Response:
    reader.finish()
    if not reader.complete and response.is_success:
        _refuse(response, description)
    return _rebuilt(response, reader.body())


def _rebuilt(response: httpx2.Response, body: bytes) -> httpx2.Response:
    """``response`` with ``body``, decoded or cut short: the headers that described the raw
    body are left out."""
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in _DECODED_HEADERS
    ]
    return httpx2.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions=response.extensions,
    )


def _refuse(response: httpx2.Response, description: str) -> NoReturn:
    encoding = response.headers.get("content-encoding")
    how = f" once decoded ({encoding})" if encoding else ""
    raise UnexpectedResponseError(
        f"the reply is larger than {REPLY_SIZE_CAP:,} bytes{how}, twice the API's own cap of "
        f"{MAX_REPLY_BYTES:,} (it answers 413 beyond that); reading stopped there",
        request=description,
    )
