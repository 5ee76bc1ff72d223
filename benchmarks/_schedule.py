"""The fastest a batch can possibly finish: the bound a bulk client is measured against.

A batch of ``n`` requests, each taking ``latency`` seconds on the server, sent with at most
``concurrency`` in flight, and under rate budgets of ``budget`` requests in any sliding window
of ``window`` seconds (a token bucket whose capacity is the whole per-window budget and whose
tokens come back one window after they were spent, as pyconviva's limiter and the emulator's
windows both count).

The textbook ``max(n * latency / concurrency, n / rate)`` misjudges both terms: requests go out
in whole rounds of ``concurrency``, and a bucket that starts full sends its first ``budget``
requests at once, so only the requests beyond each full window wait. The exact bound follows
from sending each request at the earliest instant both constraints allow: request ``k`` may
start once request ``k - concurrency`` has finished and once request ``k - budget`` has been
out for a whole window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["Budget", "ideal_finish"]


class Budget(NamedTuple):
    requests: int  # in any window of ...
    window: float  # ... seconds


def ideal_finish(n: int, latency: float, concurrency: int, budgets: Sequence[Budget] = ()) -> float:
    """Seconds until the last of ``n`` requests is answered, with no client-side overhead."""
    if n <= 0:
        return 0.0
    starts: list[float] = []
    for k in range(n):
        earliest = 0.0
        if k >= concurrency:
            earliest = max(earliest, starts[k - concurrency] + latency)
        for budget in budgets:
            if k >= budget.requests:
                earliest = max(earliest, starts[k - budget.requests] + budget.window)
        starts.append(earliest)
    return starts[-1] + latency
