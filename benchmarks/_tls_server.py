"""A loopback HTTPS server that answers every GET with one canned reply.

Server time is negligible (no parsing beyond the request line and headers, no computing), so
what a benchmark measures against it is the client's own cost: connection and TLS set-up,
request building, reading and decoding the reply. The certificate comes from a throwaway
``trustme`` CA whose PEM file clients pass as ``verify=``.

Each reply goes out in one write with TCP_NODELAY: with two writes on a kept-alive connection,
Nagle's algorithm and delayed ACKs would add about 40 ms to every request. The TLS handshake
runs in the connection's own thread, so a client that opens a connection per request pays for
its handshake without queueing behind the accept loop.
"""

from __future__ import annotations

import ssl
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme

__all__ = ["CannedServer", "serve_canned"]

HOST = "127.0.0.1"


@dataclass
class CannedServer:
    """What a client needs to reach the server, and what the server saw."""

    base_url: str  # https://127.0.0.1:<port>
    ca_path: str  # PEM file of the CA that signed the server's certificate
    targets: list[str] = field(default_factory=list)  # request targets (path?query), in order
    connections: int = 0  # TLS connections accepted
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_connection(self) -> None:
        with self._lock:
            self.connections += 1

    def reset(self) -> None:
        with self._lock:
            self.targets.clear()
            self.connections = 0


class _CannedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True
    server: _CannedHTTPServer

    def setup(self) -> None:
        super().setup()
        self.request.do_handshake()
        self.server.record.count_connection()

    def do_GET(self) -> None:
        self.server.record.targets.append(self.path)
        self.wfile.write(self.server.reply)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a benchmark's output is its figures."""


class _CannedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, body: bytes) -> None:
        super().__init__((HOST, 0), _CannedHandler)
        # Handshakes happen in the connection threads (see the module docstring).
        self.socket = context.wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False
        )
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.reply = head.encode("latin-1") + body
        self.record = CannedServer(base_url=f"https://{HOST}:{self.server_port}", ca_path="")

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that refuses the certificate or hangs up is not the server's failure.
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            super().handle_error(request, client_address)


@contextmanager
def serve_canned(body: bytes) -> Iterator[CannedServer]:
    """Serve ``body`` as a JSON 200 reply to every GET on https://127.0.0.1:<free port>."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST, "localhost").configure_cert(context)
    with tempfile.TemporaryDirectory(prefix="bench-tls-") as folder:
        ca_path = Path(folder) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        server = _CannedHTTPServer(context, body)
        server.record.ca_path = str(ca_path)
        thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="canned-tls", daemon=True
        )
        thread.start()
        try:
            yield server.record
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5.0)
