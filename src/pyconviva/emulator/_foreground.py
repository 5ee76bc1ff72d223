"""Serve an emulator in the foreground until Ctrl-C: what both command lines run
(``python -m pyconviva.emulator`` and ``pyconviva emulator``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyconviva.emulator import Emulator

__all__ = ["DEMO_CLIENT_ID", "DEMO_CLIENT_KEY", "serve_in_foreground"]

# The emulator's published demo credentials (README): not secrets.
DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_KEY = "demo-client-key"


def serve_in_foreground(
    emulator: Emulator,
    *,
    write: Callable[[str], object],
    host: str = "127.0.0.1",
    port: int = 8080,
    allow_remote: bool = False,
) -> None:
    """Serve until Ctrl-C, after writing, a line each, the URL and the settings a client needs.

    A client key other than the demo key is not echoed. Raises ``ConfigurationError`` for a
    non-loopback host without ``allow_remote`` and ``OSError`` when the port cannot be bound.
    """
    key = emulator.client_key if emulator.client_key == DEMO_CLIENT_KEY else "(the key you gave)"
    with emulator.serve(host, port, allow_remote=allow_remote) as url:
        for line in (
            f"pyconviva emulator serving on {url} (Ctrl-C stops it)",
            f"CONVIVA_BASE_URL={url}",
            f"CONVIVA_CLIENT_ID={emulator.client_id}",
            f"CONVIVA_CLIENT_KEY={key}",
        ):
            write(line)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return  # Ctrl-C is how the foreground server is meant to stop
