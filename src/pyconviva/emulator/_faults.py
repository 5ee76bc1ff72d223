"""Scripted and random faults, and the :class:`Delivery` that tells a wire adapter what to send.

A fault turns the reply the service would give into what actually goes on the wire: another
status, a body that is not JSON, a reply cut short, a dropped connection or a late reply.
Faults are consumed in the order they were added; each applies to ``times`` requests whose path
contains ``path`` (any request when ``path`` is ``None``). :class:`RandomFaults` draws from a mix
of faults with a seeded generator, so a soak run is reproducible request for request.

Pure bookkeeping: nothing here sleeps, touches a socket or a lock (the caller holds one).
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, TypeAlias

from pyconviva._exceptions import QueryError
from pyconviva.emulator._service import EmulatorResponse

__all__ = [
    "DEFAULT_RANDOM_MIX",
    "Delivery",
    "DropConnection",
    "Fault",
    "FaultScript",
    "NonJSONBody",
    "RandomFaults",
    "RateLimitStorm",
    "SlowReply",
    "StatusFault",
    "TruncateBody",
    "fault_from_json",
    "fault_to_json",
    "json_response",
    "wire_headers",
]

ServiceCall = Callable[[], EmulatorResponse]


@dataclass(frozen=True)
class Delivery:
    """What a wire adapter sends for one request.

    ``response`` ``None``: close the connection without a reply. ``cut``: send the headers (with
    the full ``Content-Length``) and only the first ``cut`` body bytes, then close — a real
    truncation. ``delay``: seconds to wait before answering (latency plus any slow-reply fault).
    ``fault``: the kind of the fault applied, for the request log.
    """

    response: EmulatorResponse | None
    delay: float = 0.0
    cut: int | None = None
    fault: str | None = None


def wire_headers(response: EmulatorResponse) -> list[tuple[str, str]]:
    """The reply headers as sent: ``Content-Length`` always present, always the full length."""
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
    headers.append(("content-length", str(len(response.body))))
    return headers


def json_response(
    status: int, payload: Any, headers: Sequence[tuple[str, str]] = ()
) -> EmulatorResponse:
    """A JSON reply in the emulator's compact encoding."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return EmulatorResponse(
        status=status,
        headers=(("content-type", "application/json"), *headers),
        body=body,
    )


def _retry_after(seconds: float | None) -> tuple[tuple[str, str], ...]:
    return () if seconds is None else (("retry-after", f"{seconds:g}"),)


def _check_number(value: object, name: str, *, optional: bool = False) -> None:
    """A finite number of 0 or more (None too when `optional`): what a delay or a Retry-After
    can be. TypeError for another type, QueryError for a negative or infinite number."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} is a number of seconds, got {value!r}")
    if not 0 <= value < float("inf"):
        raise QueryError(f"{name} is a number of seconds, 0 or more, got {value!r}", argument=name)


def _check_status(value: object, name: str = "status") -> None:
    """A status a final HTTP reply can carry: a whole number from 200 to 599."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} is an HTTP status, a whole number from 200 to 599, got {value!r}")
    if not 200 <= value <= 599:
        raise QueryError(
            f"{name} must be a final reply's status, 200 to 599, got {value}", argument=name
        )


def _error_name(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "Error"
    return "".join(word.capitalize() for word in phrase.replace("-", " ").split())


@dataclass(frozen=True, kw_only=True)
class _FaultBase:
    """Fields shared by every fault: how many requests it hits and which paths."""

    kind: ClassVar[str]
    times: int = 1
    path: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.times, bool) or not isinstance(self.times, int):
            raise TypeError(f"times is a whole number of requests, got {self.times!r}")
        if self.times < 1:
            raise QueryError(f"times must be at least 1, got {self.times}", argument="times")
        if self.path is not None and not isinstance(self.path, str):
            raise TypeError(f"path is a part of the request path or None, got {self.path!r}")

    def matches(self, path: str) -> bool:
        return self.path is None or self.path in path

    def deliver(self, serve: ServiceCall) -> Delivery:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class StatusFault(_FaultBase):
    """Answer ``status`` (200 to 599) instead of the real reply, with ``Retry-After`` when
    ``retry_after`` is set; ``body`` replaces the default JSON error: text as it is, or a JSON
    object or list (kept as its compact JSON text). Checked when built."""

    kind: ClassVar[str] = "status"
    status: int = 500
    body: str | Mapping[str, Any] | list[Any] | None = None
    retry_after: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_status(self.status)
        _check_number(self.retry_after, "retry_after", optional=True)
        if isinstance(self.body, (Mapping, list)):
            try:
                text = json.dumps(self.body, separators=(",", ":"), allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"body is not JSON: {exc}") from None
            object.__setattr__(self, "body", text)
        elif self.body is not None and not isinstance(self.body, str):
            raise TypeError(
                f"body is the reply's text, a JSON object or list, or None; got {self.body!r}"
            )

    def deliver(self, serve: ServiceCall) -> Delivery:
        extra = _retry_after(self.retry_after)
        if isinstance(self.body, str):
            response = EmulatorResponse(
                status=self.status,
                headers=(("content-type", "application/json"), *extra),
                body=self.body.encode(),
            )
        elif self.status in (401, 403, 429):
            message = HTTPStatus(self.status).phrase
            response = json_response(self.status, {"message": message}, extra)
        else:
            payload = {
                "name": _error_name(self.status),
                "message": "Fault injected by the emulator",
            }
            response = json_response(self.status, payload, extra)
        return Delivery(response, fault=self.kind)


@dataclass(frozen=True, kw_only=True)
class RateLimitStorm(_FaultBase):
    """``times`` consecutive 429 replies; a ``Retry-After`` header when ``retry_after`` is set."""

    kind: ClassVar[str] = "rate_limit_storm"
    times: int = 3
    retry_after: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_number(self.retry_after, "retry_after", optional=True)

    def deliver(self, serve: ServiceCall) -> Delivery:
        response = json_response(
            429, {"message": "Too Many Requests"}, _retry_after(self.retry_after)
        )
        return Delivery(response, fault=self.kind)


@dataclass(frozen=True, kw_only=True)
class DropConnection(_FaultBase):
    """Close the connection without answering (the client sees a protocol or read error)."""

    kind: ClassVar[str] = "drop"

    def deliver(self, serve: ServiceCall) -> Delivery:
        return Delivery(None, fault=self.kind)


@dataclass(frozen=True, kw_only=True)
class TruncateBody(_FaultBase):
    """Send the real reply's headers but only ``keep`` (a fraction) of its body, then close."""

    kind: ClassVar[str] = "truncate"
    keep: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.keep, bool) or not isinstance(self.keep, (int, float)):
            raise TypeError(f"keep is a fraction of the body, got {self.keep!r}")
        if not 0.0 <= self.keep < 1.0:
            raise QueryError(
                f"keep is the fraction of the body sent, 0 <= keep < 1, got {self.keep}",
                argument="keep",
            )

    def deliver(self, serve: ServiceCall) -> Delivery:
        response = serve()
        return Delivery(response, cut=int(len(response.body) * self.keep), fault=self.kind)


_HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{status} {phrase}</title></head>"
    "<body><h1>{status} {phrase}</h1><p>The gateway could not reach the service.</p>"
    "</body></html>\n"
)


@dataclass(frozen=True, kw_only=True)
class NonJSONBody(_FaultBase):
    """An HTML error page with ``status`` (502 like a gateway, or 200 like a captive portal)."""

    kind: ClassVar[str] = "non_json"
    status: int = 502

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_status(self.status)

    def deliver(self, serve: ServiceCall) -> Delivery:
        phrase = HTTPStatus(self.status).phrase
        page = _HTML_PAGE.format(status=self.status, phrase=phrase).encode()
        headers = (("content-type", "text/html; charset=utf-8"),)
        return Delivery(EmulatorResponse(self.status, headers, page), fault=self.kind)


@dataclass(frozen=True, kw_only=True)
class SlowReply(_FaultBase):
    """The real reply, ``delay`` seconds late (in process: a read timeout if that is too late)."""

    kind: ClassVar[str] = "slow"
    delay: float = 5.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_number(self.delay, "delay")

    def deliver(self, serve: ServiceCall) -> Delivery:
        return Delivery(serve(), delay=self.delay, fault=self.kind)


Fault: TypeAlias = (
    StatusFault | RateLimitStorm | DropConnection | TruncateBody | NonJSONBody | SlowReply
)

_KINDS: dict[str, type[Fault]] = {
    cls.kind: cls
    for cls in (StatusFault, RateLimitStorm, DropConnection, TruncateBody, NonJSONBody, SlowReply)
}

# Every kind of transient fault a client must ride out: server errors, 429 with and without
# Retry-After, a dropped connection, a reply past the client's default 30 s timeout, a cut body
# and an HTML gateway page.
DEFAULT_RANDOM_MIX: tuple[Fault, ...] = (
    StatusFault(status=500),
    StatusFault(status=502),
    StatusFault(status=503),
    RateLimitStorm(times=1),
    RateLimitStorm(times=1, retry_after=1),
    DropConnection(),
    SlowReply(delay=60),
    TruncateBody(),
    NonJSONBody(status=502),
)


@dataclass(frozen=True)
class RandomFaults:
    """Hit each request with probability ``rate`` by a fault drawn from ``kinds``.

    The draws come from ``random.Random(seed)``, so the same requests in the same order meet the
    same faults. The kinds' ``path`` still restricts where they apply; their ``times`` is ignored.
    """

    rate: float
    kinds: tuple[Fault, ...] = DEFAULT_RANDOM_MIX
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise QueryError(
                f"rate is a probability, 0 <= rate <= 1, got {self.rate}", argument="rate"
            )
        if not self.kinds:
            raise QueryError(
                "kinds must name at least one fault, e.g. (StatusFault(),)", argument="kinds"
            )


class FaultScript:
    """The faults still to come, in order, and the optional random mode (not thread-safe)."""

    def __init__(self) -> None:
        self._pending: list[tuple[Fault, int]] = []
        self._random: RandomFaults | None = None
        self._rng = random.Random()

    def add(self, *faults: Fault) -> None:
        self._pending.extend((fault, fault.times) for fault in faults)

    def set_random(self, mode: RandomFaults | None) -> None:
        self._random = mode
        if mode is not None:
            self._rng = random.Random(mode.seed)

    def clear(self) -> None:
        self._pending.clear()
        self.set_random(None)

    def pending(self) -> list[tuple[Fault, int]]:
        """Each scripted fault with the number of requests it still applies to."""
        return list(self._pending)

    @property
    def random_mode(self) -> RandomFaults | None:
        return self._random

    def take(self, path: str) -> Fault | None:
        """The fault for a request to ``path``, consuming one use of it; ``None`` for no fault."""
        for index, (fault, remaining) in enumerate(self._pending):
            if fault.matches(path):
                if remaining == 1:
                    del self._pending[index]
                else:
                    self._pending[index] = (fault, remaining - 1)
                return fault
        mode = self._random
        if mode is None or self._rng.random() >= mode.rate:
            return None
        fault = self._rng.choice(mode.kinds)
        return fault if fault.matches(path) else None


def fault_to_json(fault: Fault, remaining: int | None = None) -> dict[str, Any]:
    """``{"kind": ..., <fields>}``; ``times`` is the remaining count when one is given."""
    data: dict[str, Any] = {"kind": fault.kind, **dataclasses.asdict(fault)}
    if remaining is not None:
        data["times"] = remaining
    return data


def fault_from_json(data: Mapping[str, Any]) -> Fault:
    """The fault a JSON object describes; ValueError naming the problem otherwise."""
    kind = data.get("kind")
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(sorted(_KINDS))}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names - {"kind"})
    if unknown:
        raise ValueError(
            f"unknown field(s) {', '.join(unknown)} for a {kind!r} fault; "
            f"use {', '.join(sorted(names))}"
        )
    fields = {k: v for k, v in data.items() if k != "kind"}
    try:
        return cls(**fields)
    except TypeError as exc:
        raise ValueError(f"bad {kind!r} fault: {exc}") from exc
