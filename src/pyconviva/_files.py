"""Atomic file writes: a reader (or a cron job, or a resumed export) never finds half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["PARTIAL_MARK", "atomic_path", "remove_partials"]

PARTIAL_MARK = ".partial"  # in every temporary name, so leftovers of a killed run can be found


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A hidden temporary path beside ``target`` that becomes ``target`` only when the block
    succeeds: flushed to disk, given the mode any new file would get, then moved over ``target``
    (``os.replace``, atomic on one file system).

    On any exception, Ctrl-C included, the temporary file is removed and ``target`` is left as it
    was. A process killed outright can leave the temporary behind; :func:`remove_partials`
    clears such leftovers.
    """
    directory = target.parent if str(target.parent) else Path()
    # The suffix is kept last: writers such as matplotlib pick the file type from it.
    handle, name = tempfile.mkstemp(
        dir=directory, prefix=f".{target.name}.", suffix=f"{PARTIAL_MARK}{target.suffix}"
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        _chmod_as_new_file(temporary)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_partials(directory: Path, pattern: str = "") -> None:
    """Remove temporary files :func:`atomic_path` left in ``directory`` (and in the
    subdirectories ``pattern`` matches, e.g. ``"date=*"``) when a process was killed."""
    for folder in (directory, *(directory.glob(pattern) if pattern else ())):
        for leftover in folder.glob(f".*{PARTIAL_MARK}*"):
            leftover.unlink(missing_ok=True)


def _chmod_as_new_file(path: Path) -> None:
    # mkstemp creates 0600; a finished file gets the mode any new file would (umask applied).
    if os.name != "posix":
        return
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)
