"""Which JSON values a table column can hold, and the notes that count the ones left out.

JSON numbers are unbounded, a column's are not. A metric value is held as a 64-bit integer or a
finite 64-bit float, and must lie within the 64-bit integer range (about ±9.2e18, far beyond any
count, rate, duration or bitrate): an integer outside it fits no integer column, and orjson reads
integers beyond 64 bits as floats, so floats outside it are left out too and the same reply gives
the same table with either parser. NaN, Infinity, and whatever is not a number (text, true/false,
a list, an object, null) are left out as well. Each is counted in the result's notes. Checking
once, when the table is built, keeps records, frames, files and totals in agreement.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["INT64_MAX", "INT64_MIN", "Notes", "fits_int64", "number_problem"]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

NOT_FINITE = "that are not finite numbers"
OUT_OF_RANGE = "beyond the 64-bit integer range"


_FLOAT_LIMIT = 2.0**63  # floats below it in magnitude; the next one down is 2**63 - 1024


def fits_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


def number_problem(value: object) -> str | None:
    """None when a number column holds ``value``, else why not (to follow "values ...").

    ``bool`` is no number here, although Python makes it an ``int``: ``true`` in a reply is not 1.
    """
    kind = type(value)
    if kind is int:
        return None if fits_int64(value) else OUT_OF_RANGE  # type: ignore[arg-type]
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            return NOT_FINITE
        return None if abs(value) < _FLOAT_LIMIT else OUT_OF_RANGE  # type: ignore[arg-type]
    return NOT_FINITE


class Notes:
    """Counts what a table left out, by kind, keeping the first place of each kind."""

    def __init__(self) -> None:
        self._seen: dict[str, list[Any]] = {}  # what -> [count, first place]

    def skip(self, what: str, where: str) -> None:
        entry = self._seen.setdefault(what, [0, where])
        entry[0] += 1

    def render(self) -> tuple[str, ...]:
        return tuple(
            f"skipped {count} {what} (first at {where})"
            for what, (count, where) in self._seen.items()
        )
