"""One export at a time per dataset directory, across threads and processes.

The lock is an OS lock on a hidden file in the directory (``flock`` on POSIX, ``msvcrt.locking``
on Windows), taken on a descriptor of its own, so two exports in one process exclude each other
as two processes do, and a killed export's lock goes with its process: nothing stale to clean.

A second export is refused at once rather than made to wait: an export can run for hours at the
account's rate limit, so a waiting one would look hung; two at once are a scheduling mistake
(overlapping cron runs) worth seeing; and nothing is lost by refusing, since the next run fetches
whatever is still missing. The lock file stays in place (removing it could let two exports hold
locks on two different files).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from pyconviva._exceptions import ConvivaError

__all__ = ["LOCK_NAME", "DatasetBusyError", "directory_lock"]

LOCK_NAME = ".pyconviva-export.lock"  # a leading ".": dataset readers skip it


class DatasetBusyError(ConvivaError):
    """Another export is writing into the same dataset directory."""


@contextlib.contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """Hold the export lock of ``directory`` (which must exist) for the block; raise
    :class:`DatasetBusyError` at once if another export holds it."""
    path = directory / LOCK_NAME
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(descriptor):
            raise DatasetBusyError(
                f"another export is writing into {directory} ({_holder(path)}); wait for it to "
                "finish and run this one again (it then fetches only what is still missing), "
                "or export into another directory"
            )
        _note_holder(descriptor)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _note_holder(descriptor: int) -> None:
    """Write who holds the lock, for the message another export shows."""
    os.ftruncate(descriptor, 0)
    os.lseek(descriptor, 0, os.SEEK_SET)
    os.write(descriptor, f"process {os.getpid()}\n".encode())


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return f"held by {text}" if text else "its lock is held"


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
