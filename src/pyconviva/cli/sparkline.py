"""A series as one line of block characters (``▁▂▅▇█▆▃``), for the terminal summary."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ASCII_LEVELS", "BLOCK_LEVELS", "sparkline"]

BLOCK_LEVELS = "▁▂▃▄▅▆▇█"
ASCII_LEVELS = "_.-=+*#@"  # for consoles whose encoding has no block characters
_GAP = " "  # a stretch of buckets with no value at all


def sparkline(values: Sequence[float | None], width: int, levels: str = BLOCK_LEVELS) -> str:
    """``values`` in at most ``width`` characters, scaled between their own minimum and maximum.

    Longer series are cut into ``width`` nearly equal stretches, each drawn as the mean of its
    values: the shape stays, whatever the number of buckets. ``None`` (no value in a bucket)
    is left out of the means; a stretch with no value at all is a blank. A flat series is
    drawn at the lowest level.
    """
    if width < 1:
        raise ValueError(f"width={width} must be at least 1")
    stretches = _stretch_means(values, width)
    present = [mean for mean in stretches if mean is not None]
    if not present:
        return _GAP * len(stretches)
    low, high = min(present), max(present)
    top = len(levels) - 1
    return "".join(
        _GAP
        if mean is None
        else levels[0 if high == low else round((mean - low) / (high - low) * top)]
        for mean in stretches
    )


def _stretch_means(values: Sequence[float | None], width: int) -> list[float | None]:
    count = len(values)
    if count <= width:
        return list(values)
    means: list[float | None] = []
    for index in range(width):
        stretch = values[index * count // width : (index + 1) * count // width]
        kept = [value for value in stretch if value is not None]
        means.append(sum(kept) / len(kept) if kept else None)
    return means
