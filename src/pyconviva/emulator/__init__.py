"""An offline, deterministic Conviva Metrics V3 API: in process or on a loopback socket.

``Emulator`` joins the pure :class:`MetricsService` (routes, data, rules) to the controls a test
needs — seed, a fixed or sped-up clock, latency, scripted faults, rate-limit enforcement and a
request log — and offers it over two wires that give the same bytes: :meth:`Emulator.transport`
(an httpx2 transport for ``Client`` and ``AsyncClient``) and :meth:`Emulator.serve` (a threaded
HTTP/1.1 server on 127.0.0.1). The same controls are served under ``/_emulator/...`` on both.

Its data comes from an audience: ``"large"`` (the default), a large streaming service with
thousands of cities, networks and assets, or ``"small"``, a few hundred segments for tiny replies.
An account's restrictions (``disabled_metrics``, ``disabled_dimensions``) are answered with 403.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pyconviva._clock import Clock, with_wall_time
from pyconviva.emulator._audience import AUDIENCES, DEFAULT_AUDIENCE
from pyconviva.emulator._controls import (
    CONTROL_PREFIX,
    Controls,
    LoggedRequest,
    Settings,
    account_names,
    clock_setting,
    handle_control,
    rate_scale,
    speed_setting,
)
from pyconviva.emulator._faults import (
    DEFAULT_RANDOM_MIX,
    Delivery,
    DropConnection,
    Fault,
    NonJSONBody,
    RandomFaults,
    RateLimitStorm,
    SlowReply,
    StatusFault,
    TruncateBody,
    json_response,
)
from pyconviva.emulator._server import serve
from pyconviva.emulator._service import (
    EmulatorRequest,
    EmulatorResponse,
    MetricsService,
    ServiceSettings,
)
from pyconviva.emulator._transport import IN_PROCESS_PEER, EmulatorTransport

if TYPE_CHECKING:
    from pyconviva._client import AsyncConvivaAPI, ConvivaAPI

__all__ = [
    "AUDIENCES",
    "DEFAULT_RANDOM_MIX",
    "DropConnection",
    "Emulator",
    "EmulatorTransport",
    "Fault",
    "LoggedRequest",
    "NonJSONBody",
    "RandomFaults",
    "RateLimitStorm",
    "SlowReply",
    "StatusFault",
    "TruncateBody",
]


class _Unset(enum.Enum):
    UNSET = enum.auto()


_UNSET = _Unset.UNSET


def split_target(target: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A request target (``/path?query``) as a decoded path and decoded query pairs, in order."""
    parts = urlsplit(target)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    return unquote(parts.path), tuple(pairs)


class Emulator:
    """A Metrics V3 API with test controls; see the module docstring and the README."""

    def __init__(
        self,
        *,
        seed: int = 0,
        now: datetime | str | None = None,
        speed: float | None = None,
        client_id: str = "demo-client-id",
        client_key: str = "demo-client-key",
        latency: float = 0.0,
        jitter: float = 0.0,
        rate_limit: bool | float = False,
        fault_rate: float = 0.0,
        strict_real_time: bool = False,
        legacy_default_range: bool = False,
        audience: str = DEFAULT_AUDIENCE,
        disabled_metrics: Iterable[str] = (),
        disabled_dimensions: Iterable[str] = (),
    ) -> None:
        """``now``: a fixed clock (a datetime or an ISO 8601 string); None follows real time.
        ``speed``: run the clock from ``now`` (from the real time without it) at this many
        emulated seconds per real second, e.g. 60 for a minute a second in a demo (rate-limit
        windows still slide in real time, as the client's pacing does).
        ``fault_rate``: fault that fraction of requests, drawn reproducibly from the seed out of
        :data:`DEFAULT_RANDOM_MIX` (see :meth:`set_random_faults` to choose the kinds).
        ``audience``: ``"large"``, a large streaming service (thousands of cities, networks and
        assets), or ``"small"``, a few hundred segments for tiny replies.
        ``disabled_metrics`` / ``disabled_dimensions``: what this account may not use, answered
        with 403 as a real account's restrictions are."""
        settings = Settings(
            seed=seed,
            now=clock_setting(now),
            speed=speed_setting(speed),
            latency=latency,
            jitter=jitter,
            rate_limit=rate_scale(rate_limit),
            client_id=client_id,
            client_key=client_key,
            strict_real_time=strict_real_time,
            legacy_default_range=legacy_default_range,
            audience=audience,
            disabled_metrics=account_names(disabled_metrics, "disabled_metrics"),
            disabled_dimensions=account_names(disabled_dimensions, "disabled_dimensions"),
        )
        random_faults = RandomFaults(rate=fault_rate, seed=seed) if fault_rate else None
        self._controls = Controls(settings, random_faults)
        self._service_lock = threading.Lock()
        self._service: tuple[ServiceSettings, MetricsService] | None = None

    def __repr__(self) -> str:
        s = self._controls.settings
        return (
            f"Emulator(seed={s.seed}, now={s.now!r}, speed={s.speed!r}, "
            f"client_id={s.client_id!r}, audience={s.audience!r})"
        )

    # settings

    @property
    def client_id(self) -> str:
        return self._controls.settings.client_id

    @property
    def client_key(self) -> str:
        return self._controls.settings.client_key

    @property
    def settings(self) -> Settings:
        """The current settings (frozen; change them with :meth:`configure`)."""
        return self._controls.settings

    def configure(
        self,
        *,
        seed: int | _Unset = _UNSET,
        now: datetime | str | _Unset | None = _UNSET,
        speed: float | _Unset | None = _UNSET,
        latency: float | _Unset = _UNSET,
        jitter: float | _Unset = _UNSET,
        rate_limit: bool | float | _Unset = _UNSET,
        client_id: str | _Unset = _UNSET,
        client_key: str | _Unset = _UNSET,
        audience: str | _Unset = _UNSET,
        disabled_metrics: Iterable[str] | _Unset = _UNSET,
        disabled_dimensions: Iterable[str] | _Unset = _UNSET,
    ) -> None:
        """Change settings; the data set follows a new seed or audience, the checks follow new
        credentials and account restrictions.

        ``now=None`` returns to the real clock (an ISO 8601 string fixes it like a datetime);
        ``speed`` runs the clock at that many emulated seconds per real second, from ``now``
        when it is given too, else from where the clock is (``speed=None`` stops it there);
        ``rate_limit`` is ``True``/``False`` or a scale of the published limits (0.05: 20
        historical requests a minute instead of 400).
        """
        given = {
            "seed": seed,
            "now": now,
            "speed": speed,
            "latency": latency,
            "jitter": jitter,
            "rate_limit": rate_limit,
            "client_id": client_id,
            "client_key": client_key,
            "audience": audience,
            "disabled_metrics": disabled_metrics,
            "disabled_dimensions": disabled_dimensions,
        }
        self._controls.configure(**{k: v for k, v in given.items() if v is not _UNSET})

    def reset(self) -> None:
        """Back to the construction settings and fault rate; scripted faults, request log and
        rate-limit windows cleared."""
        self._controls.reset()

    def now(self) -> datetime:
        """The emulator's clock: the fixed ``now`` if set, running from it at ``speed`` if that
        is set, else real UTC now; plus any :meth:`advance`."""
        return self._controls.now()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (rate-limit windows slide with it); returns the new now."""
        return self._controls.advance(seconds)

    # faults and log

    def add_faults(self, *faults: Fault) -> None:
        """Script faults; they are consumed in order, each by ``times`` matching requests."""
        self._controls.add_faults(faults)

    def set_random_faults(
        self, rate: float, kinds: Iterable[Fault] = DEFAULT_RANDOM_MIX, seed: int | None = None
    ) -> None:
        """Fault a fraction ``rate`` of requests, kinds drawn reproducibly (default seed: ours)."""
        mode = None
        if rate:
            chosen = self._controls.settings.seed if seed is None else seed
            mode = RandomFaults(rate=rate, kinds=tuple(kinds), seed=chosen)
        self._controls.set_random_faults(mode)

    def clear_faults(self) -> None:
        """Drop every scripted fault and turn random faults off."""
        self._controls.clear_faults()

    def pending_faults(self) -> list[tuple[Fault, int]]:
        """The scripted faults still to come, each with the number of requests left to it."""
        return self._controls.pending_faults()

    def requests(self) -> tuple[LoggedRequest, ...]:
        """The data-plane requests seen so far, oldest first (never their headers)."""
        return self._controls.requests()

    # the wire

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        peer: str = IN_PROCESS_PEER,
    ) -> Delivery:
        """Answer one request (``target`` as sent: path and query); what both wires call."""
        path, query = split_target(target)
        if path.startswith(CONTROL_PREFIX):
            return Delivery(handle_control(self._controls, method, path, body))
        arrival = self._controls.now()
        request = EmulatorRequest(method=method, path=path, query=query, headers=headers)
        delivery = self._deliver(request, peer, arrival)
        latency = self._controls.latency()
        if latency:
            delivery = dataclasses.replace(delivery, delay=delivery.delay + latency)
        reply = delivery.response
        self._controls.record(
            LoggedRequest(
                time=arrival,
                method=method,
                path=path,
                query=query,
                status=None if reply is None else reply.status,
                fault=delivery.fault,
                delay=delivery.delay,
            )
        )
        return delivery

    def _deliver(self, request: EmulatorRequest, peer: str, arrival: datetime) -> Delivery:
        service = self._current_service()
        refused = service.authenticate(request.headers)
        if refused is not None:
            return Delivery(refused)
        root, cost = service.rate_cost(request)
        if not self._controls.admit(root, peer, cost):
            return Delivery(json_response(429, {"message": "Too Many Requests"}))
        fault = self._controls.take_fault(request.path)

        def serve_for_real() -> EmulatorResponse:
            return service.handle(request, arrival)

        return Delivery(serve_for_real()) if fault is None else fault.deliver(serve_for_real)

    def _current_service(self) -> MetricsService:
        wanted = self._controls.settings.service_settings()
        with self._service_lock:
            if self._service is None or self._service[0] != wanted:
                self._service = (wanted, MetricsService(wanted))
            return self._service[1]

    def transport(self) -> EmulatorTransport:
        """An httpx2 transport (a ``MockTransport``) serving sync and async clients in process."""
        return EmulatorTransport(self)

    def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False
    ) -> AbstractContextManager[str]:
        """Run on a loopback socket for the ``with`` block; yields the base URL.

        Port 0 picks a free port. Hosts other than loopback need ``allow_remote=True``.
        """
        return serve(self, host, port, allow_remote=allow_remote)

    def client(self, **kwargs: Any) -> ConvivaAPI:
        """A ``ConvivaAPI`` wired to this emulator in process, with its credentials and clock.

        ``kwargs`` go to the client. The client tells the time by the emulator's :meth:`now`,
        so client and server agree on what "the last 5 days" means. A ``clock=`` given here
        (e.g. ``pyconviva.testing.VirtualClock()``) supplies the client's waits and monotonic
        time only, so retries and rate-limit pacing cost no real time; the emulator's data
        clock stays as it is, and moves only at its ``speed``, with :meth:`advance` or with
        :meth:`configure`. (A bare function as ``clock=`` replaces the wall time, as it always
        did.)
        """
        from pyconviva._client import ConvivaAPI  # lazy: the client imports the emulator

        return ConvivaAPI(**self._client_arguments(kwargs))

    def async_client(self, **kwargs: Any) -> AsyncConvivaAPI:
        """An ``AsyncConvivaAPI`` wired to this emulator in process; see :meth:`client`."""
        from pyconviva._client import AsyncConvivaAPI  # lazy: avoids an import cycle

        return AsyncConvivaAPI(**self._client_arguments(kwargs))

    def _client_arguments(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "transport": self.transport(),
            "client_id": self.client_id,
            "client_key": self.client_key,
        }
        arguments.update(overrides)
        timing = overrides.get("clock")
        if timing is None:
            arguments["clock"] = self.now
        elif isinstance(timing, Clock):
            arguments["clock"] = with_wall_time(timing, self.now)
        return arguments
