"""Record real replies once, replay them offline: transports for both clients.

Record with credentials (against the real API, or anything else)::

    from pyconviva import ConvivaAPI
    from pyconviva.recording import RecordingTransport

    with ConvivaAPI(transport=RecordingTransport("conviva.jsonl")) as api:
        api.get_historical_data("attempts", group_by="isp", time_range=1)

Replay in tests, with no network and no credentials (any placeholder will do)::

    from pyconviva.recording import ReplayTransport

    with ConvivaAPI("key", "id", transport=ReplayTransport("conviva.jsonl")) as api:
        api.get_historical_data("attempts", group_by="isp", time_range=1)

A recording (a *cassette*) is a JSON Lines file: a header line, then one line per exchange with
the request's method, path and query, and the reply's status, a few headers and body. Nothing
else of the request is kept: no headers at all (so never ``Authorization``), no host, and query
parameters that look like credentials are masked. Replies are matched on method, path and query
(parameters in any order) whatever the base URL; the same request recorded several times (a
429, then its retry) replays in the recorded order, and its last reply again after that. A
request the cassette does not hold raises :class:`UnrecordedRequestError` and is never sent.

The transports serve ``ConvivaAPI`` and ``AsyncConvivaAPI`` alike (and plain ``httpx2``
clients). vcrpy (9.4 and later) also records pyconviva's requests, by patching httpx2 for the
whole process; these transports are passed to one client and need no other dependency.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import httpx2

from pyconviva._exceptions import ConvivaError

__all__ = [
    "Exchange",
    "RecordingTransport",
    "ReplayTransport",
    "UnrecordedRequestError",
    "load_cassette",
]

FORMAT = "pyconviva-cassette"
VERSION = 1
_KEPT_HEADERS = frozenset({"content-type", "retry-after"})
_SECRET_WORDS = ("key", "secret", "token", "password", "auth", "signature")
_MASK = "***"


class UnrecordedRequestError(ConvivaError, LookupError):
    """A replayed client sent a request its cassette holds no reply for."""


Query = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Exchange:
    """One recorded request (method, path, query pairs in order) and its reply."""

    method: str
    path: str
    query: Query
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def to_json(self) -> dict[str, Any]:
        try:
            body: dict[str, str] = {"text": self.body.decode("utf-8")}
        except UnicodeDecodeError:
            body = {"base64": base64.b64encode(self.body).decode("ascii")}
        return {
            "request": {
                "method": self.method,
                "path": self.path,
                "query": [list(pair) for pair in self.query],
            },
            "response": {"status": self.status, "headers": dict(self.headers), **body},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Exchange:
        request, response = data["request"], data["response"]
        if "base64" in response:
            body = base64.b64decode(response["base64"])
        else:
            body = str(response["text"]).encode("utf-8")
        return cls(
            method=str(request["method"]),
            path=str(request["path"]),
            query=tuple((str(k), str(v)) for k, v in request["query"]),
            status=int(response["status"]),
            headers=tuple((str(k), str(v)) for k, v in response["headers"].items()),
            body=body,
        )

    def key(self) -> tuple[str, str, Query]:
        return _key(self.method, self.path, self.query)


def _key(method: str, path: str, query: Query) -> tuple[str, str, Query]:
    return method.upper(), path, tuple(sorted(query))


def _masked(query: Iterable[tuple[str, str]]) -> Query:
    """Query pairs with the values of credential-like parameters replaced (pyconviva never
    sends any: Basic auth travels in a header)."""
    return tuple(
        (name, _MASK if any(word in name.lower() for word in _SECRET_WORDS) else value)
        for name, value in query
    )


def _request_parts(request: httpx2.Request) -> tuple[str, str, Query]:
    return request.method, request.url.path, _masked(request.url.params.multi_items())


def _exchange(request: httpx2.Request, response: httpx2.Response) -> Exchange:
    method, path, query = _request_parts(request)
    headers = tuple((k, v) for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS)
    return Exchange(method, path, query, response.status_code, headers, response.content)


def _replay_response(exchange: Exchange, request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(
        exchange.status, headers=list(exchange.headers), content=exchange.body, request=request
    )


class RecordingTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Sends through ``transport`` (by default a new ``httpx2`` network transport) and writes
    every exchange to the cassette at ``path``, which it starts afresh.

    A reply is read in full before the client gets it (the cassette holds it whole); a request
    that fails on the way (no reply) is not recorded.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        transport: httpx2.BaseTransport | httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.path = Path(path)
        self._inner = transport
        self._lock = threading.Lock()
        self._started = False

    def _sender(self, default: type[httpx2.HTTPTransport | httpx2.AsyncHTTPTransport]) -> Any:
        with self._lock:  # a bulk fetch sends from several threads at once
            if self._inner is None:
                self._inner = default()
            return self._inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        inner = self._sender(httpx2.HTTPTransport)
        if not isinstance(inner, httpx2.BaseTransport):
            raise TypeError("this RecordingTransport wraps an async transport: use an AsyncClient")
        response = inner.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return self._kept(request, response)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        inner = self._sender(httpx2.AsyncHTTPTransport)
        if not isinstance(inner, httpx2.AsyncBaseTransport):
            raise TypeError("this RecordingTransport wraps a sync transport: use a Client")
        response = await inner.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return self._kept(request, response)

    def _kept(self, request: httpx2.Request, response: httpx2.Response) -> httpx2.Response:
        exchange = _exchange(request, response)
        line = json.dumps(exchange.to_json(), ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            mode = "a" if self._started else "w"
            with self.path.open(mode, encoding="utf-8") as cassette:
                if not self._started:
                    cassette.write(json.dumps({"format": FORMAT, "version": VERSION}) + "\n")
                    self._started = True
                cassette.write(line + "\n")
        return _replay_response(exchange, request)

    def close(self) -> None:
        if isinstance(self._inner, httpx2.BaseTransport):
            self._inner.close()

    async def aclose(self) -> None:
        if isinstance(self._inner, httpx2.AsyncBaseTransport):
            await self._inner.aclose()


class ReplayTransport(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """Answers from the cassette at ``path`` (or from ``exchanges``); never touches the network."""

    def __init__(
        self, path: str | PathLike[str] | None = None, exchanges: Sequence[Exchange] = ()
    ) -> None:
        self.path = None if path is None else Path(path)
        recorded = list(exchanges) if path is None else load_cassette(path)
        self._replies: dict[tuple[str, str, Query], deque[Exchange]] = {}
        for exchange in recorded:
            self._replies.setdefault(exchange.key(), deque()).append(exchange)
        self._count = len(recorded)
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return _replay_response(self._next(request), request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return _replay_response(self._next(request), request)

    def _next(self, request: httpx2.Request) -> Exchange:
        method, path, query = _request_parts(request)
        with self._lock:
            queue = self._replies.get(_key(method, path, query))
            if not queue:
                shown = path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
                where = f"the cassette {self.path}" if self.path else "the recorded exchanges"
                raise UnrecordedRequestError(
                    f"no recorded reply for {method} {shown} in {where} ({self._count} "
                    f"exchange{'' if self._count == 1 else 's'}); record it first "
                    "(RecordingTransport, or the command line's "
                    "--record) with the same query"
                )
            return queue.popleft() if len(queue) > 1 else queue[0]


def load_cassette(path: str | PathLike[str]) -> list[Exchange]:
    """The exchanges of a cassette file; ValueError when it is not one."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    try:
        header = json.loads(lines[0]) if lines else {}
    except ValueError:
        header = {}
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a pyconviva cassette (no {FORMAT!r} header line)")
    if header.get("version") != VERSION:
        raise ValueError(f"{path} is a version {header.get('version')} cassette; {VERSION} is read")
    exchanges = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            exchanges.append(Exchange.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}, line {number}: not a recorded exchange ({exc})") from None
    return exchanges
