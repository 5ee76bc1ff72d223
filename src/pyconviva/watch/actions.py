"""What happens when an alert's threshold is crossed: the terminal bell and/or a command.

The command is the user's own (``--alert-command``), split like a shell would split it and run
without a shell, once per crossing, in the background: the view keeps refreshing while it runs.
It learns what crossed from its environment: ``PYCONVIVA_ALERT`` (e.g.
``rebuffering-ratio>2``), ``PYCONVIVA_ALERT_GROUP`` (the dimension value, empty for all traffic),
``PYCONVIVA_ALERT_VALUE`` and ``PYCONVIVA_ALERT_MINUTE`` (ISO 8601, UTC).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable

from pyconviva.watch.model import Crossing

__all__ = ["AlertActions"]


class AlertActions:
    """Rings ``bell`` and/or starts ``command`` for each crossing."""

    def __init__(self, *, bell: Callable[[], None] | None = None, command: str | None = None):
        self._bell = bell
        self._command = shlex.split(command) if command else None
        self._running: list[subprocess.Popen[bytes]] = []

    def __call__(self, crossing: Crossing) -> None:
        if self._bell is not None:
            self._bell()
        if self._command is None:
            return
        self._running = [p for p in self._running if p.poll() is None]  # reap finished ones
        environment = {
            **os.environ,
            "PYCONVIVA_ALERT": crossing.alert.text,
            "PYCONVIVA_ALERT_GROUP": crossing.group or "",
            "PYCONVIVA_ALERT_VALUE": f"{crossing.value:g}",
            "PYCONVIVA_ALERT_MINUTE": crossing.minute.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        # The user's own command line, given to watch for exactly this purpose.
        process = subprocess.Popen(self._command, env=environment)  # noqa: S603
        self._running.append(process)

    def wait(self) -> None:
        """Wait for the commands still running (at exit)."""
        for process in self._running:
            process.wait()
        self._running = []
