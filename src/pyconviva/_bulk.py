"""Bulk extraction, the part both clients share: batches, window planning, and assembly.

A query is *planned* into windows (one, unless its range is longer than one request may cover),
the client fetches every window (concurrently, at the rate limit, halving a window that draws a
413), and the replies are *assembled* back into one result per query. Planning and assembly are
pure and live here; the clients add only the fetching (``send`` or ``await send``).

A query that needs one window comes back exactly as a plain call returns it: no merge, no notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeAlias, TypeGuard, overload

from pyconviva._exceptions import ConvivaError, QueryError, ResponseTooLargeError
from pyconviva._merge import merge_replies
from pyconviva._query import MetricsQuery, QuerySpec, build_metrics_query
from pyconviva._results import MetricsResult
from pyconviva._rules import format_instant
from pyconviva._split import halve, plan_windows

__all__ = [
    "BatchResult",
    "Outcome",
    "PlannedQuery",
    "Progress",
    "assemble",
    "assemble_batch",
    "batch_windows",
    "concurrency_problem",
    "is_concurrency",
    "plan_batch",
    "plan_query",
    "relabel",
    "too_large_halves",
]

# What fetching one window gives: its replies in time order (two or more after a 413 split),
# or the error that stopped it.
Outcome: TypeAlias = "list[MetricsResult] | ConvivaError"


class BatchResult(Sequence["MetricsResult | ConvivaError"]):
    """The outcome of a batch, in input order: each item a result or the error of its query.

    Attributes:
        results: the result of each query, ``None`` where it failed.
        errors: the error of each failed query, by its index.
    """

    def __init__(
        self, results: Sequence[MetricsResult | None], errors: Mapping[int, ConvivaError]
    ) -> None:
        self.results: list[MetricsResult | None] = list(results)
        self.errors: dict[int, ConvivaError] = dict(sorted(errors.items()))

    @overload
    def __getitem__(self, index: int) -> MetricsResult | ConvivaError: ...
    @overload
    def __getitem__(self, index: slice) -> list[MetricsResult | ConvivaError]: ...
    def __getitem__(
        self, index: int | slice
    ) -> MetricsResult | ConvivaError | list[MetricsResult | ConvivaError]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        position = range(len(self))[index]  # IndexError, and negative indexes, as a list does
        result = self.results[position]
        return result if result is not None else self.errors[position]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[MetricsResult | ConvivaError]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"BatchResult({len(self)} queries, {len(self.errors)} failed)"

    def raise_for_errors(self) -> None:
        """Raise the first failed query's error (its own class), saying how many failed."""
        if not self.errors:
            return
        index, first = next(iter(self.errors.items()))
        others = len(self.errors) - 1
        more = f"; {others} other queries failed too (see BatchResult.errors)" if others else ""
        raise relabel(first, f"query {index} of the batch failed{more}") from first


@dataclass(frozen=True)
class PlannedQuery:
    """A validated query and the windows that fetch it (just the query when one request will do)."""

    query: MetricsQuery
    windows: tuple[MetricsQuery, ...]


def plan_query(
    spec: QuerySpec, *, now: datetime, split: bool = True, max_window: timedelta | None = None
) -> PlannedQuery:
    """Validate a query and plan its windows; raises ``QueryError`` before any I/O.

    With ``split`` a range longer than one request may cover becomes several legal windows;
    without it such a range is refused, as a single request would be. ``max_window`` caps the
    window length below the API's (smaller requests); it applies only when splitting.
    """
    query = build_metrics_query(spec, now=now, check_limits=not split)
    windows = plan_windows(query, now, max_window=max_window) if split else [query]
    return PlannedQuery(query, tuple(windows))


def plan_batch(
    specs: object, now: datetime, *, max_window: timedelta | None = None
) -> tuple[list[PlannedQuery | None], dict[int, ConvivaError]]:
    """Plan every spec of a batch; an invalid one (or one that is not a ``QuerySpec``) is
    reported by index, never sent.

    Raises:
        QueryError: ``specs`` is not a list (or other iterable) of specs, before any I/O.
    """
    planned: list[PlannedQuery | None] = []
    errors: dict[int, ConvivaError] = {}
    for index, spec in enumerate(_spec_list(specs)):
        try:
            if not isinstance(spec, QuerySpec):
                raise QueryError(
                    f"specs[{index}] is a {type(spec).__name__}, not a QuerySpec; build each "
                    "query with QuerySpec.historical(...) or QuerySpec.real_time(...)",
                    argument="specs",
                )
            planned.append(plan_query(spec, now=now, max_window=max_window))
        except QueryError as exc:
            planned.append(None)
            errors[index] = exc
    return planned, errors


def _spec_list(specs: object) -> list[object]:
    """``specs`` as a list; a single spec, a string, a mapping or a non-iterable is refused."""
    fix = (
        "pass a list of QuerySpec, e.g. [QuerySpec.historical('attempts', group_by='isp'), "
        "QuerySpec.real_time('plays')]"
    )
    if isinstance(specs, (QuerySpec, str, bytes, Mapping)) or not isinstance(specs, Iterable):
        raise QueryError(
            f"specs is a {type(specs).__name__}, not a list of queries; {fix}", argument="specs"
        )
    return list(specs)


def is_concurrency(value: object) -> TypeGuard[int]:
    """Whether ``value`` may bound the requests in flight: a positive ``int``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def concurrency_problem(value: object, argument: str) -> str:
    """The message for a ``value`` that :func:`is_concurrency` refused."""
    return (
        f"{argument}={value!r} is not a positive whole number; pass the most requests to have "
        "in flight at once, e.g. 8"
    )


def too_large_halves(
    window: MetricsQuery, error: ResponseTooLargeError
) -> tuple[MetricsQuery, MetricsQuery]:
    """The two halves to fetch instead of ``window``, which drew ``error`` (a 413).

    Raises a 413 with a hint of its own when the window is a single bucket: nothing shorter can
    be asked for, so only a smaller reply per bucket helps.
    """
    halves = halve(window)
    if halves is not None:
        return halves
    start, end = window.window
    raise ResponseTooLargeError(
        error.message,
        status_code=error.status_code,
        body=error.body,
        request=error.request,
        hint=(
            f"The reply for the single bucket {format_instant(start)}..{format_instant(end)} is "
            "too large even alone, so splitting the range cannot help; ask for fewer metrics "
            "per query or a smaller limit (or a finer granularity, for shorter buckets)"
        ),
    ) from error


class Progress:
    """Counts finished windows and reports ``(done, total)`` to the caller's callback.

    Raises:
        QueryError: ``callback`` is neither ``None`` nor callable (checked here, before any
            request, rather than on the first finished window).
    """

    def __init__(self, callback: Callable[[int, int], object] | None, total: int) -> None:
        if callback is not None and not callable(callback):
            raise QueryError(
                f"progress must be callable, not {type(callback).__name__}; pass a function "
                "called as progress(done, total), or None",
                argument="progress",
            )
        self._callback = callback
        self.total = total
        self.done = 0

    def advance(self) -> None:
        self.done += 1
        if self._callback is not None:
            self._callback(self.done, self.total)


def assemble(planned: PlannedQuery, outcomes: Sequence[Outcome]) -> MetricsResult | ConvivaError:
    """One query's result from its windows' outcomes, or the error that names its failed window.

    One window gives its reply (or its error) untouched; several are merged honestly, with the
    merge's notes on what the merged reply cannot say.
    """
    windows = planned.windows
    failed = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, ConvivaError)]
    if failed:
        position, error = failed[0]
        if len(windows) == 1:
            return error
        start, end = windows[position].window
        also = f" ({len(failed) - 1} other windows failed too)" if len(failed) > 1 else ""
        return relabel(
            error,
            f"window {position + 1} of {len(windows)} "
            f"({format_instant(start)}..{format_instant(end)}) of "
            f"{planned.query.describe()} failed{also}",
        )
    parts = [
        part for outcome in outcomes if not isinstance(outcome, ConvivaError) for part in outcome
    ]
    if len(parts) == 1:
        return parts[0]
    # The merge reads each reply as the single-reply decoder did (which already refused what it
    # cannot read), so it skips odd items with notes rather than fail the query or the batch.
    asked = [part.query.window for part in parts if part.query is not None]
    raw, notes = merge_replies(parts, planned.query, asked if len(asked) == len(parts) else None)
    responses = [response for part in parts for response in part.responses]
    return MetricsResult(raw, query=planned.query, notes=notes, responses=responses)


def assemble_batch(
    planned: Sequence[PlannedQuery | None],
    errors: Mapping[int, ConvivaError],
    outcomes: Sequence[Outcome],
) -> BatchResult:
    """The batch's results in input order; ``outcomes`` are those of every planned window, in
    the order the planned queries list them."""
    results: list[MetricsResult | None] = []
    failed = dict(errors)
    taken = 0
    for index, plan in enumerate(planned):
        if plan is None:
            results.append(None)
            continue
        count = len(plan.windows)
        outcome = assemble(plan, outcomes[taken : taken + count])
        taken += count
        if isinstance(outcome, ConvivaError):
            results.append(None)
            failed[index] = outcome
        else:
            results.append(outcome)
    return BatchResult(results, failed)


def batch_windows(planned: Sequence[PlannedQuery | None]) -> list[MetricsQuery]:
    """Every window of the planned queries, query by query (the order ``assemble_batch`` reads)."""
    return [window for plan in planned if plan is not None for window in plan.windows]


def relabel(error: ConvivaError, context: str) -> ConvivaError:
    """A copy of ``error`` (same class and attributes) whose message starts with ``context``.

    Built without calling ``__init__``, whose signature differs between error classes; keeping
    the class lets callers still catch e.g. ``RateLimitError`` for one window of a split query.
    """
    copy = type(error).__new__(type(error))
    copy.__dict__.update(error.__dict__)
    copy.args = (f"{context}: {error}",)
    copy.__cause__ = error
    return copy
