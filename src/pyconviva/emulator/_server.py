"""The loopback wire: a threaded HTTP/1.1 server in front of :meth:`Emulator.handle`.

Keep-alive connections, ``TCP_NODELAY`` and each reply in a single write: with the standard
library's two writes (headers, then body) Nagle's algorithm and delayed ACKs add about 40 ms to
every request on a kept-alive connection. Faults happen on the socket for real: a dropped
connection closes without a reply, a truncated reply closes after part of the body, a slow reply
sleeps in the connection's own thread (never holding the emulator's lock).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from pyconviva._exceptions import ConfigurationError
from pyconviva.emulator._faults import Delivery, json_response, wire_headers

if TYPE_CHECKING:
    from pyconviva.emulator import Emulator

__all__ = ["EmulatorServer", "is_loopback", "serve"]

logger = logging.getLogger("pyconviva.emulator")

_SHUTDOWN_GRACE = 5.0  # seconds to wait for the serving thread after shutdown
_POLL_INTERVAL = 0.05  # seconds between shutdown checks; the default 0.5 s makes every exit slow


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        peer = str(self.client_address[0])
        try:
            delivery = self.server.emulator.handle(self.command, self.path, headers, body, peer)
        except Exception:
            # A bug in the emulator: answer like a failing server, keep the traceback in the log.
            logger.exception("emulator failed on %s %s", self.command, self.path.split("?")[0])
            payload = {"name": "InternalServerError", "message": "the emulator failed; see its log"}
            delivery = Delivery(json_response(500, payload))
        if delivery.delay:
            time.sleep(delivery.delay)
        try:
            self._write(delivery)
        except OSError:
            # The client gave up (a read timeout during a slow reply) or the server is closing.
            self.close_connection = True

    def _write(self, delivery: Delivery) -> None:
        reply = delivery.response
        if reply is None:
            self.close_connection = True
            return
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = ""
        lines = [f"{self.protocol_version} {reply.status} {phrase}"]
        lines.extend(f"{name}: {value}" for name, value in wire_headers(reply))
        if delivery.cut is not None:
            lines.append("connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = reply.body if delivery.cut is None else reply.body[: delivery.cut]
        self.wfile.write(head + body)
        self.log_request(reply.status, len(body))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the emulator keeps its own request log (without credentials)."""


class EmulatorServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its emulator and can close its kept-alive connections."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log (instead of printing) what broke a connection's thread; a client that went away
        is routine, so only at debug level."""
        gone = isinstance(sys.exc_info()[1], ConnectionError)
        log = logger.debug if gone else logger.error
        log("emulator connection from %s failed", client_address, exc_info=True)

    def close_connections(self) -> None:
        """Wake the connection threads blocked on kept-alive sockets, so they end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its own thread
                connection.shutdown(socket.SHUT_RDWR)


@contextmanager
def serve(
    emulator: Emulator, host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False
) -> Iterator[str]:
    """Run the emulator on ``host:port`` in a background thread; yield its base URL."""
    if not allow_remote and not is_loopback(host):
        raise ConfigurationError(
            f"the emulator binds loopback addresses only, got host={host!r}; use 127.0.0.1, or "
            "pass allow_remote=True to expose it (it has no real authentication)"
        )
    server = EmulatorServer((host, port), emulator)
    thread = threading.Thread(
        target=server.serve_forever, args=(_POLL_INTERVAL,), name="pyconviva-emulator", daemon=True
    )
    thread.start()
    try:
        yield server_url(host, server.server_port)
    finally:
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(_SHUTDOWN_GRACE)


def server_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
