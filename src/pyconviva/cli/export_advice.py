"""What to do after ``pyconviva export`` failed some units, by the kind of error: a refused
query (400, 404, 422) fails the same way on every run, so the command must be fixed first;
a rate limit, a server error or a network failure passes, so running the same command again
resumes where it stopped."""

from __future__ import annotations

from collections.abc import Sequence

from pyconviva._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    QueryError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)

__all__ = ["export_advice", "passes_on_rerun"]

_TRANSIENT = (RateLimitError, ServerError, APIConnectionError, UnexpectedResponseError)


def passes_on_rerun(error: BaseException) -> bool:
    """A failure that may not happen again: rate limited, the API failing, the network."""
    return isinstance(error, _TRANSIENT)


def export_advice(errors: Sequence[BaseException]) -> list[str]:
    """One line per kind of failure among ``errors`` (those of the failed units)."""
    transient = [error for error in errors if passes_on_rerun(error)]
    lasting = [error for error in errors if not passes_on_rerun(error)]
    advice = []
    if lasting:
        advice.append(
            f"{_units(lasting)} failed with {_kinds(lasting)}, which running the same command "
            "again would repeat: fix the command as the errors above say (a metric or "
            "dimension name, the range, the credentials), then run it to fetch only the "
            "missing windows"
        )
    if transient:
        advice.append(
            f"{_units(transient)} failed with {_kinds(transient)}, which may pass: what "
            "succeeded is saved; run the same command again to fetch only the missing windows"
        )
    return advice


def _units(errors: Sequence[BaseException]) -> str:
    return f"{len(errors)} unit{'s' if len(errors) != 1 else ''}"


def _kinds(errors: Sequence[BaseException]) -> str:
    """``HTTP 404``, ``HTTP 429 and HTTP 503``, ``a network error``: each kind once."""
    return " and ".join(dict.fromkeys(_kind(error) for error in errors))


def _kind(error: BaseException) -> str:
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status_code}"
    if isinstance(error, APITimeoutError):
        return "a timeout"
    if isinstance(error, APIConnectionError):
        return "a network error"
    if isinstance(error, UnexpectedResponseError):
        return "an unusable reply"
    if isinstance(error, QueryError):
        return "an invalid query"
    return f"an error ({type(error).__name__})"
