"""Shared helpers of the hostile suite: loopback servers that misbehave on purpose, and JSON
documents (replies, manifests) damaged one field at a time.

A :class:`HostileServer` listens on 127.0.0.1 and hands every connection, once its request head
has been read, to a *behaviour*: a function that writes whatever it likes to the socket (a reply
that trickles, one that never comes, a reset, a redirect, a gzip bomb). Each connection runs in
its own daemon thread; leaving the ``with`` block sets ``stop``, which every behaviour that waits
obeys, and joins the threads, so no test leaves a thread or a socket behind.

:func:`json_fields` lists the fields of a decoded JSON document and :func:`set_json_field`
replaces (or removes) one, so that a property test can damage any field of a real document.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from types import TracebackType
from typing import Any

__all__ = [
    "REMOVE",
    "Behaviour",
    "HostileServer",
    "JsonPath",
    "json_fields",
    "reply",
    "resetting",
    "set_json_field",
    "stalling",
    "trickling_body",
    "trickling_headers",
]

Behaviour = Callable[[socket.socket, threading.Event], None]
"""Writes the answer to one connection; must return soon after the event is set."""

_HEAD_END = b"\r\n\r\n"
_HEAD_LIMIT = 64 * 1024


class HostileServer:
    """A TCP server on a free loopback port; every connection gets ``behaviour``.

    ``heads`` holds the request head (request line and headers) of each connection, in order.
    """

    def __init__(self, behaviour: Behaviour) -> None:
        self._behaviour = behaviour
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # the accept loop notices `stop` this often
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.heads: list[bytes] = []

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HostileServer:
        accepting = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        accepting.start()
        self._threads.append(accepting)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._threads[0].join(timeout=5)  # the accept loop: no connection starts after it
        with self._lock:
            workers = self._threads[1:]
        for worker in workers:
            worker.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(
                target=self._serve, args=(connection,), name="hostile-connection", daemon=True
            )
            with self._lock:
                self._threads.append(worker)
            worker.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            head = _read_head(connection, self._stop)
            if head is None:
                return
            with self._lock:
                self.heads.append(head)
            # A client that gives up closes its end; writing then fails, which ends the behaviour.
            with suppress(OSError):
                self._behaviour(connection, self._stop)


def _read_head(connection: socket.socket, stop: threading.Event) -> bytes | None:
    connection.settimeout(0.05)
    received = b""
    while _HEAD_END not in received and len(received) < _HEAD_LIMIT:
        if stop.is_set():
            return None
        try:
            chunk = connection.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        received += chunk
    connection.settimeout(None)
    return received.split(_HEAD_END, 1)[0]


def _status_line(status: int) -> bytes:
    return f"HTTP/1.1 {status} Status\r\n".encode("ascii")


def _header_block(headers: Sequence[tuple[str, str]]) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return lines.encode("latin-1")


def reply(status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> Behaviour:
    """A whole reply at once: ``status``, ``headers`` (plus Content-Length), ``body``."""
    every = [*headers, ("Content-Length", str(len(body))), ("Connection", "close")]

    def behave(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(_status_line(status) + _header_block(every) + b"\r\n" + body)

    return behave


def _drip(connection: socket.socket, data: bytes, interval: float, stop: threading.Event) -> bool:
    """Send ``data`` one byte per ``interval``; False when the server stopped first."""
    for index in range(len(data)):
        if stop.wait(interval):
            return False
        connection.sendall(data[index : index + 1])
    return True


def trickling_body(body: bytes, interval: float) -> Behaviour:
    """Headers at once (with the full Content-Length), then the body one byte per ``interval``:
    every read gets a byte before any read timeout, so only a whole-call deadline stops it."""
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]

    def behave(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(_status_line(200) + _header_block(headers) + b"\r\n")
        _drip(connection, body, interval, stop)

    return behave


def trickling_headers(pad: int, body: bytes, interval: float) -> Behaviour:
    """The status line, then a header whose ``pad`` value bytes come one per ``interval``, then
    the rest of a valid reply: the reply head itself takes ``pad * interval`` seconds."""
    rest = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]

    def behave(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(_status_line(200) + b"X-Padding: ")
        if _drip(connection, b"a" * pad, interval, stop):
            connection.sendall(b"\r\n" + _header_block(rest) + b"\r\n" + body)

    return behave


def stalling(connection: socket.socket, stop: threading.Event) -> None:
    """Reads the request and never answers (until the server stops)."""
    stop.wait()


def resetting(connection: socket.socket, stop: threading.Event) -> None:
    """Reads the request and resets the connection (an RST, not a clean close)."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# --- JSON documents damaged field by field -------------------------------------------------------

JsonPath = tuple[str | int, ...]
"""Keys and list indexes from the root of a document to one field."""

REMOVE = "<remove the field>"
"""The value :func:`set_json_field` takes to remove a field instead of replacing it."""


def json_fields(node: Any, prefix: JsonPath = ()) -> list[JsonPath]:
    """Every field below the root; of each list only the first and last items (the items
    between have the same shape)."""
    found: list[JsonPath] = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += json_fields(child, (*prefix, key))
    elif isinstance(node, list) and node:
        for index in sorted({0, len(node) - 1}):
            found += json_fields(node[index], (*prefix, index))
    return found


def set_json_field(document: Any, path: JsonPath, value: Any) -> None:
    """Replace the field at ``path`` by ``value``, or remove it when ``value`` is REMOVE."""
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(value, str) and value == REMOVE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
