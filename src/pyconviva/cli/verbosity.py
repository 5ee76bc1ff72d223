"""The library's log on the terminal while a command runs: retries (warnings) always,
everything with ``--debug``. Named so as not to shadow the standard ``logging``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import click

__all__ = ["library_log"]


class _StderrHandler(logging.Handler):
    """Log records on whatever stderr is at the time (a spinner redirects it to print above)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


@contextlib.contextmanager
def library_log(debug: bool) -> Iterator[None]:
    """The ``pyconviva`` log on stderr for the duration; the logger is restored afterwards."""
    logger = logging.getLogger("pyconviva")
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("pyconviva: %(levelname)s: %(message)s"))
    level = logging.DEBUG if debug else logging.WARNING
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
