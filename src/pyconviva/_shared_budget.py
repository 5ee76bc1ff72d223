"""The rate budgets of one host's processes (cron jobs, a scheduler's workers), kept in one file.

A :class:`~pyconviva.RateLimiter` made with ``shared=`` books through a :class:`BudgetFile`:
while it books, it holds an exclusive ``flock`` on the file, reads the books of every process,
counts the other processes' bookings along with its own, and writes its own back. So the
processes together never book more than a window holds, and a 429 one of them receives closes
the budget for all of them until it opens. The lock is held only while booking, never while
waiting, and every reader takes it, so writing the file in place is safe; a process killed
while writing leaves a file that the next reader finds corrupt, and then starts afresh.

The books hold, per budget (``"historical"``, ``"real-time"``, ``"per-IP"``), the instant its
pause ends and each process's bookings (instant, cost), keyed by an owner id (process id and a
random token, so two limiters of one process, or a forked child, keep their own). Instants are
wall-clock epoch seconds, which every process reads alike; a limiter converts its monotonic
times with the offset between the two clocks taken when it was made. Bookings that have come
back are dropped when the books are written. (A step of the wall clock between the starts of
two processes shifts their bookings against each other by the step.) What a limiter learns (its
AIMD estimate, slow start) stays its own.

The file is a cache: a corrupt or unreadable one is logged once at WARNING and the limiter
books as if it were empty (or alone, when the file cannot be opened); a job never fails because
of it. POSIX only (``fcntl``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyconviva._exceptions import ConfigurationError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX (Windows)
    fcntl = None  # type: ignore[assignment]

__all__ = ["BudgetFile", "Session", "default_path", "parse", "render"]

logger = logging.getLogger("pyconviva")

_VERSION = 1

Booking = tuple[float, float]
"""``(instant, cost)``."""


def default_path() -> Path:
    """``$XDG_CACHE_HOME/pyconviva/rate-budget.json``, else ``~/.cache/pyconviva/...``."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", ""))
    # The XDG spec says to ignore a relative path: it would depend on the working directory.
    base = cache if cache.is_absolute() else Path.home() / ".cache"
    return base / "pyconviva" / "rate-budget.json"


class _Book:
    """One budget's shared books, on the wall clock: its pause and each owner's bookings."""

    __slots__ = ("bookings", "closed_until")

    def __init__(self) -> None:
        self.closed_until = -math.inf
        self.bookings: dict[str, list[Booking]] = {}


def parse(data: bytes) -> dict[str, _Book]:
    """The books a budget file holds (none for an empty file); ValueError if it is not one."""
    if not data.strip():
        return {}
    document = json.loads(data)
    if not (
        isinstance(document, dict)
        and document.get("version") == _VERSION
        and isinstance(document.get("budgets"), dict)
    ):
        raise ValueError("not a pyconviva rate budget file (version 1)")
    books: dict[str, _Book] = {}
    for name, entry in document["budgets"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("bookings", {}), dict):
            raise ValueError(f"budget {name!r} is not an object with a bookings object")
        book = books[name] = _Book()
        if "closed_until" in entry:
            book.closed_until = _number(entry["closed_until"])
        for owner, bookings in entry.get("bookings", {}).items():
            if not isinstance(bookings, list):
                raise ValueError(f"the bookings of {owner!r} are not a list")
            book.bookings[owner] = _bookings(bookings)
    return books


def render(books: dict[str, _Book]) -> bytes:
    """The file's text for ``books``: budgets and owners without anything to keep are left out."""
    budgets: dict[str, dict[str, object]] = {}
    for name, book in books.items():
        entry: dict[str, object] = {}
        if math.isfinite(book.closed_until):
            entry["closed_until"] = book.closed_until
        owners = {owner: bookings for owner, bookings in book.bookings.items() if bookings}
        if owners:
            entry["bookings"] = owners
        if entry:
            budgets[name] = entry
    return json.dumps({"version": _VERSION, "budgets": budgets}, separators=(",", ":")).encode()


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return float(value)


def _bookings(value: list[Any]) -> list[Booking]:
    # A file holds thousands of bookings and is read at each booking: checked in bulk.
    try:
        bookings = [(float(instant), float(cost)) for instant, cost in value]
    except (TypeError, ValueError):
        raise ValueError("bookings are not a list of [instant, cost] pairs") from None
    if not all(math.isfinite(instant) and 0 < cost < math.inf for instant, cost in bookings):
        raise ValueError("a booking has an instant that is not finite or a cost not above 0")
    return bookings


class Session:
    """The shared books while the file is locked, seen in one limiter's time (its monotonic
    clock, ``offset`` seconds behind the wall clock) and on behalf of its ``owner`` id."""

    def __init__(self, books: dict[str, _Book], owner: str, offset: float) -> None:
        self._books = books
        self._owner = owner
        self._offset = offset

    def closed_until(self, budget: str) -> float:
        """When the pause of ``budget`` recorded in the file ends (``-inf``: none)."""
        book = self._books.get(budget)
        return -math.inf if book is None else book.closed_until - self._offset

    def close(self, budget: str, until: float) -> None:
        """Record that ``budget`` is closed until ``until`` (a later pause recorded stays)."""
        book = self._books.setdefault(budget, _Book())
        book.closed_until = max(book.closed_until, until + self._offset)

    def others(self, budget: str) -> list[Booking]:
        """The bookings of ``budget`` that other owners keep."""
        book = self._books.get(budget)
        if book is None:
            return []
        offset = self._offset
        return [
            (instant - offset, cost)
            for owner, bookings in book.bookings.items()
            if owner != self._owner
            for instant, cost in bookings
        ]

    def keep(self, budget: str, own: list[Booking], *, returned_before: float) -> None:
        """Make ``own`` this owner's bookings of ``budget``, and forget every owner's bookings
        at or before ``returned_before``: their tokens are back."""
        book = self._books.setdefault(budget, _Book())
        offset = self._offset
        cutoff = returned_before + offset
        book.bookings[self._owner] = [(instant + offset, cost) for instant, cost in own]
        for owner, bookings in list(book.bookings.items()):
            book.bookings[owner] = [booking for booking in bookings if booking[0] > cutoff]


class BudgetFile:
    """The file a shared limiter books through; made only if it can be used (else
    :class:`~pyconviva.ConfigurationError`, naming the path).

    ``offset`` is the wall clock minus the limiter's monotonic clock.
    """

    def __init__(self, path: Path, *, offset: float) -> None:
        if fcntl is None:
            raise ConfigurationError(
                "RateLimiter(shared=...) needs POSIX file locks (fcntl), which this platform "
                "lacks; leave shared unset, or give each process its share with scale="
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o666))
        except OSError as error:
            raise ConfigurationError(
                f"RateLimiter(shared=...) cannot use {str(path)!r} as the shared rate budget "
                f"file ({_reason(error)}); pass a path in a writable directory"
            ) from None
        self.path = path
        self._offset = offset
        self._token = os.urandom(4).hex()
        self._warned = False

    def __repr__(self) -> str:
        return f"BudgetFile({str(self.path)!r})"

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """Lock the file and read the books for the block; write them back when it ends.

        A file that cannot be opened or locked gives empty books that are not written; a
        corrupt one gives empty books that replace it. Either is logged once.
        """
        owner = f"{os.getpid()}.{self._token}"  # a forked child books as an owner of its own
        handle = self._locked()
        if handle is None:
            yield Session({}, owner, self._offset)
            return
        with handle:  # closing it unlocks the file
            books = self._read(handle)
            yield Session(books, owner, self._offset)
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(render(books))
                handle.flush()
            except OSError as error:
                self._warn(f"cannot be written ({_reason(error)})")

    def _locked(self) -> io.BufferedRandom | None:
        """The file, open and locked; ``None`` (logged) when it cannot be."""
        try:
            # Opened for each session: a descriptor inherited by a forked child would share
            # its lock with the parent's, and a cache cleaned meanwhile gets its file back.
            handle = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666), "r+b")
        except OSError as error:
            self._warn(f"cannot be opened ({_reason(error)}); booking in this process alone")
            return None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError as error:
            handle.close()
            self._warn(f"cannot be locked ({_reason(error)}); booking in this process alone")
            return None
        return handle

    def _read(self, handle: io.BufferedRandom) -> dict[str, _Book]:
        """The books in the locked file; empty (logged) when it cannot be read or parsed."""
        try:
            return parse(handle.read())
        except OSError as error:
            self._warn(f"cannot be read ({_reason(error)}); starting it afresh")
        except (ValueError, RecursionError) as error:
            self._warn(f"is corrupt ({error}); starting it afresh")
        return {}

    def _warn(self, problem: str) -> None:
        if self._warned:
            return
        self._warned = True
        logger.warning(
            "the shared rate budget file %s %s (this warning is not repeated)", self.path, problem
        )


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
