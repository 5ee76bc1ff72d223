"""Reply bodies to JSON objects: the parse, and the refusals that name the request.

orjson (the ``fast`` extra) parses when it is installed, the standard library otherwise.

Nothing here, or anywhere in the results family, touches process-wide state: the cyclic garbage
collector runs as the caller set it. (0.2.0 switched it off around every decode, from whatever
thread decoded: a switch for the whole process, racing any other code that sets it.) Measured on
a 5.6 MB reply with ``benchmarks/bench_results.py``: in a process that holds about 100,000
tracked objects (the benchmark with its emulator loaded), ``from_bytes(body).to_pandas()`` takes
the same time as with the pause; in a bare process (about 60,000) the parse sets off one full
collection, about 20 ms more. A caller who wants that back can pause the collector around their
own code (``gc.disable()``, or ``gc.freeze()`` after start-up), knowing that it is process-wide.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from pyconviva._exceptions import UnexpectedResponseError

__all__ = ["build_checked"]

_BODY_SNIPPET = 200

_T = TypeVar("_T")


def _fast_json_loads() -> Callable[[bytes], Any] | None:
    """orjson's decoder when the ``fast`` extra is installed (about 1.6x ``json.loads`` here)."""
    try:
        import orjson
    except ImportError:
        return None
    return cast("Callable[[bytes], Any]", orjson.loads)


_FAST_LOADS = _fast_json_loads()


def _loads(content: bytes) -> Any:
    if _FAST_LOADS is not None:
        try:
            return _FAST_LOADS(content)
        except ValueError:
            # orjson refuses what the standard parser reads (NaN, Infinity, numbers beyond the
            # float range); the standard parser decides, so such values are skipped and noted.
            pass
    return json.loads(content)


def _snippet(content: bytes) -> str:
    return content[:_BODY_SNIPPET].decode("utf-8", errors="replace")


def _decode_object(content: bytes, request: str | None) -> dict[str, Any]:
    try:
        raw = _loads(content)
    except (ValueError, RecursionError) as exc:  # JSON/Unicode errors are ValueErrors; nesting
        # deeper than the interpreter's recursion limit is no Metrics V3 reply either
        raise UnexpectedResponseError(
            f"the reply is not JSON ({exc})", request=request, body=_snippet(content)
        ) from exc
    if not isinstance(raw, dict):
        raise UnexpectedResponseError(
            f"the reply is a JSON {type(raw).__name__}, not an object",
            request=request,
            body=_snippet(content),
        )
    return raw


def build_checked(content: bytes, request: str | None, build: Callable[[dict[str, Any]], _T]) -> _T:
    """Decode ``content`` to a JSON object and ``build`` a result from it.

    Raises:
        UnexpectedResponseError: not JSON, not an object, or ``build`` found a shape it cannot
            read; the error names ``request`` and carries the start of the body.
    """
    raw = _decode_object(content, request)
    try:
        return build(raw)
    except UnexpectedResponseError as exc:
        raise UnexpectedResponseError(
            str(exc), request=request, body=_snippet(content)
        ) from exc.__cause__
