"""The emulator's mutable state and its HTTP face under ``/_emulator/``.

:class:`Controls` holds the settings (seed, clock, latency, rate-limit scale, credentials), the
fault script, the rate-limit windows and the request log behind one lock. Every method takes
the lock only for bookkeeping; nobody sleeps while holding it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pyconviva._catalog import find_dimension, find_metric, suggest_dimensions, suggest_metrics
from pyconviva._exceptions import QueryError
from pyconviva._rules import (
    HISTORICAL,
    HISTORICAL_RATE,
    PER_IP_RATE,
    REAL_TIME,
    REAL_TIME_RATE,
    RateLimit,
    Root,
    format_instant,
    parse_instant,
)
from pyconviva.emulator._audience import DEFAULT_AUDIENCE, check_audience
from pyconviva.emulator._faults import (
    Fault,
    FaultScript,
    RandomFaults,
    fault_from_json,
    fault_to_json,
    json_response,
)
from pyconviva.emulator._service import EmulatorResponse, ServiceSettings

__all__ = [
    "CONTROL_PREFIX",
    "LOG_CAPACITY",
    "Controls",
    "LoggedRequest",
    "Settings",
    "SlidingWindows",
    "account_names",
    "clock_setting",
    "handle_control",
    "rate_scale",
    "speed_setting",
]

CONTROL_PREFIX = "/_emulator/"
LOG_CAPACITY = 10_000  # the oldest entries go first, so a long soak run cannot exhaust memory

_ACCOUNT_RATES: dict[Root, RateLimit] = {HISTORICAL: HISTORICAL_RATE, REAL_TIME: REAL_TIME_RATE}


def rate_scale(value: bool | float | None) -> float | None:
    """``rate_limit=`` as a scale of the published limits: ``False``/``None`` off, ``True`` 1.0."""
    if value is None or value is False:
        return None
    if value is True:
        return 1.0
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    raise QueryError(
        "rate_limit must be True, False or a positive scale of the published limits "
        f"(0.05 for 5 %), got {value!r}",
        argument="rate_limit",
    )


@dataclass(frozen=True)
class Settings:
    """Everything a test may set; :meth:`Controls.reset` returns to the first one.

    ``now`` may be given as an ISO 8601 string; metric and dimension names in any spelling the
    client accepts (``device_name`` or ``device-name``). Bad values raise :class:`QueryError`
    (a ``ValueError``), values of the wrong type ``TypeError``.
    """

    seed: int = 0
    now: datetime | None = None  # a fixed clock; None follows the real UTC clock
    # Emulated seconds per real second, the clock starting at ``now`` (or at the real time
    # when ``now`` is None); None keeps the clock as ``now`` says: fixed, or real.
    speed: float | None = None
    latency: float = 0.0  # seconds added to every data-plane reply
    jitter: float = 0.0  # latency varies by +/- this fraction, drawn from the seed
    rate_limit: float | None = None  # scale of the published limits; None: not enforced
    client_id: str = "demo-client-id"
    client_key: str = field(default="demo-client-key", repr=False)
    strict_real_time: bool = False
    legacy_default_range: bool = False
    audience: str = DEFAULT_AUDIENCE
    disabled_metrics: frozenset[str] = frozenset()  # the account's: 403 when asked for
    disabled_dimensions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise TypeError(f"seed must be a whole number, got {self.seed!r}")
        if self.latency < 0:
            raise QueryError(
                f"latency is in seconds, 0 or more, got {self.latency}", argument="latency"
            )
        if not 0.0 <= self.jitter <= 1.0:
            raise QueryError(
                f"jitter is a fraction of the latency, 0 to 1, got {self.jitter}", argument="jitter"
            )
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise QueryError(
                f"rate_limit scale must be positive, got {self.rate_limit}", argument="rate_limit"
            )
        object.__setattr__(self, "now", clock_setting(self.now))
        object.__setattr__(self, "speed", speed_setting(self.speed))
        try:
            check_audience(self.audience)
        except ValueError as exc:
            raise QueryError(str(exc), argument="audience") from None
        metrics = account_names(self.disabled_metrics, "disabled_metrics")
        dimensions = account_names(self.disabled_dimensions, "disabled_dimensions")
        object.__setattr__(self, "disabled_metrics", metrics)
        object.__setattr__(self, "disabled_dimensions", dimensions)

    def service_settings(self) -> ServiceSettings:
        return ServiceSettings(
            seed=self.seed,
            client_id=self.client_id,
            client_key=self.client_key,
            strict_real_time=self.strict_real_time,
            legacy_default_range=self.legacy_default_range,
            audience=self.audience,
            disabled_metrics=self.disabled_metrics,
            disabled_dimensions=self.disabled_dimensions,
        )

    def to_json(self) -> dict[str, Any]:
        """The public part of the settings (never the client key)."""
        return {
            "seed": self.seed,
            "now": None if self.now is None else format_instant(self.now),
            "speed": self.speed,
            "latency": self.latency,
            "jitter": self.jitter,
            "rate_limit": self.rate_limit if self.rate_limit is not None else False,
            "client_id": self.client_id,
            "audience": self.audience,
            "disabled_metrics": sorted(self.disabled_metrics),
            "disabled_dimensions": sorted(self.disabled_dimensions),
        }


def clock_setting(value: object) -> datetime | None:
    """A fixed clock setting as an aware UTC datetime: from a datetime (naive means UTC), an
    ISO 8601 string, or None (the real clock)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError as exc:
            raise QueryError(f"now: {exc}", argument="now") from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    raise TypeError(
        f"now must be a datetime, an ISO 8601 string such as '2025-01-10T00:00:00Z' or None, "
        f"got {type(value).__name__}"
    )


def speed_setting(value: object) -> float | None:
    """The clock's speed as emulated seconds per real second (a positive, finite number), or
    None for a clock that does not run on its own."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"speed must be a number of emulated seconds per real second, e.g. 60, or None; "
            f"got {type(value).__name__}"
        )
    if not (math.isfinite(value) and value > 0):
        raise QueryError(
            f"speed is emulated seconds per real second, more than 0 (60: a minute a second), "
            f"got {value}",
            argument="speed",
        )
    return float(value)


def account_names(names: Iterable[str], argument: str) -> frozenset[str]:
    """Metric (``disabled_metrics``) or dimension names in their path spelling; QueryError
    naming an unknown one, TypeError for a bare string (a common slip for a one-item list)."""
    if isinstance(names, str):
        raise TypeError(f"{argument} takes a collection of names, e.g. [{names!r}], not a string")
    metrics = argument == "disabled_metrics"
    canonical = set()
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{argument} takes names (strings), got {name!r}")
        found = find_metric(name) if metrics else find_dimension(name)
        if found is None:
            close = suggest_metrics(name) if metrics else suggest_dimensions(name)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            kind = "metric" if metrics else "dimension"
            raise QueryError(f"{argument}: unknown {kind} {name!r}{hint}", argument=argument)
        canonical.add(found.name)
    return frozenset(canonical)


@dataclass(frozen=True)
class LoggedRequest:
    """One data-plane request as the emulator saw it. Headers (credentials) are never kept."""

    time: datetime  # emulator clock on arrival
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    status: int | None  # None when the connection was dropped
    fault: str | None
    delay: float

    def to_json(self) -> dict[str, Any]:
        return {
            "time": format_instant(self.time),
            "method": self.method,
            "path": self.path,
            "query": [list(pair) for pair in self.query],
            "status": self.status,
            "fault": self.fault,
            "delay": self.delay,
        }


class SlidingWindows:
    """Sliding-window request budgets: per account and root, and per client address."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._events: dict[tuple[str, str], deque[tuple[float, int]]] = {}
        self._used: dict[tuple[str, str], int] = {}  # running cost total of each window

    def budget(self, rate: RateLimit) -> int:
        return max(1, int(rate.requests * self.scale))

    def admit(self, t: float, root: Root | None, peer: str, cost: int) -> bool:
        """Record the request made at ``t`` seconds and return True when every budget it falls
        under has room.

        A request that alone exceeds a budget is still admitted into an empty window, so a tiny
        scale slows a client down instead of locking it out for good.
        """
        scopes = [(("ip", peer), PER_IP_RATE)]
        if root is not None:
            scopes.append((("account", root), _ACCOUNT_RATES[root]))
        for key, rate in scopes:
            used = self._expire(key, t - rate.period)
            if used and used + cost > self.budget(rate):
                return False
        for key, _rate in scopes:
            self._events[key].append((t, cost))
            self._used[key] += cost
        return True

    def _expire(self, key: tuple[str, str], horizon: float) -> int:
        """Drop the events at or before ``horizon``; the cost still in the window."""
        events = self._events.setdefault(key, deque())
        used = self._used.get(key, 0)
        while events and events[0][0] <= horizon:
            used -= events.popleft()[1]
        self._used[key] = used
        return used


class Controls:
    """Settings, clock, faults, rate-limit windows and request log, all behind one lock."""

    def __init__(self, settings: Settings, random_faults: RandomFaults | None = None) -> None:
        self._lock = threading.Lock()
        self._initial = settings
        self._initial_random = random_faults
        self._settings = settings
        self._offset = timedelta()
        self._started_at = time.monotonic()  # when the running clock (speed) last started
        self._start = settings.now or datetime.now(timezone.utc)  # and from which instant
        self._faults = FaultScript()
        self._faults.set_random(random_faults)
        self._log: deque[LoggedRequest] = deque(maxlen=LOG_CAPACITY)
        self._windows = SlidingWindows(settings.rate_limit or 1.0)
        self._jitter = random.Random(settings.seed)

    @property
    def settings(self) -> Settings:
        return self._settings

    def configure(self, **changes: Any) -> Settings:
        """Replace some settings (names as in :class:`Settings`); QueryError for a bad one."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(Settings)})
        if unknown:
            known = ", ".join(f.name for f in dataclasses.fields(Settings))
            raise QueryError(f"unknown setting(s) {', '.join(unknown)}; use {known}")
        if "rate_limit" in changes:
            changes["rate_limit"] = rate_scale(changes["rate_limit"])
        with self._lock:
            current = self._settings
            real_clock = current.now is None and current.speed is None
            if "speed" in changes and "now" not in changes and not real_clock:
                # A new speed goes on from where the clock is (speed=None stops it there)
                # rather than jumping back to where it started.
                changes["now"] = self.now()
            updated = dataclasses.replace(current, **changes)
            self._apply(updated, clock_set=bool({"now", "speed"} & changes.keys()))
            return updated

    def reset(self) -> None:
        """Back to the settings the emulator was built with; no scripted faults, no log, fresh
        windows; random faults as at construction."""
        with self._lock:
            self._faults.clear()
            self._faults.set_random(self._initial_random)
            self._log.clear()
            self._apply(self._initial, clock_set=True)
            self._windows = SlidingWindows(self._initial.rate_limit or 1.0)
            self._jitter = random.Random(self._initial.seed)

    def _apply(self, updated: Settings, *, clock_set: bool) -> None:
        if updated.seed != self._settings.seed:
            self._jitter = random.Random(updated.seed)
        if clock_set:
            self._offset = timedelta()
            self._started_at = time.monotonic()
            self._start = updated.now or datetime.now(timezone.utc)
        self._windows.scale = updated.rate_limit or 1.0
        self._settings = updated

    # clock

    def now(self) -> datetime:
        """The fixed clock if one is set, else the real UTC clock; with a speed, the instant it
        started from plus the real time since, times the speed; plus any :meth:`advance`."""
        speed = self._settings.speed
        if speed is None:
            base = self._settings.now or datetime.now(timezone.utc)
        else:
            run = (time.monotonic() - self._started_at) * speed
            base = self._start + timedelta(seconds=run)
        return base + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    # faults

    def add_faults(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._faults.add(*faults)

    def set_random_faults(self, mode: RandomFaults | None) -> None:
        with self._lock:
            self._faults.set_random(mode)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> list[tuple[Fault, int]]:
        with self._lock:
            return self._faults.pending()

    def random_faults(self) -> RandomFaults | None:
        return self._faults.random_mode

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            return self._faults.take(path)

    # rate limit and latency

    def admit(self, root: Root | None, peer: str, cost: int) -> bool:
        """True when rate limiting is off or the request fits the budgets (then it is counted)."""
        if self._settings.rate_limit is None:
            return True
        with self._lock:
            return self._windows.admit(self._rate_clock(), root, peer, cost)

    def _rate_clock(self) -> float:
        """Seconds on the rate-limit windows' clock: real elapsed time plus any :meth:`advance`.

        Not the data clock: with a fixed ``now`` the windows must still slide while a client
        waits, or a job that spent its budget would get 429 for ever.
        """
        return time.monotonic() + self._offset.total_seconds()

    def latency(self) -> float:
        """Seconds to hold this reply back: the latency, varied by the jitter when set."""
        settings = self._settings
        if settings.latency == 0 or settings.jitter == 0:
            return settings.latency
        with self._lock:
            factor = 1.0 + self._jitter.uniform(-settings.jitter, settings.jitter)
        return settings.latency * factor

    # request log

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._log.append(entry)

    def requests(self) -> tuple[LoggedRequest, ...]:
        with self._lock:
            return tuple(self._log)


# The control plane: the same controls over HTTP, for a server in another process.


def _bad_request(message: str) -> EmulatorResponse:
    return json_response(400, {"name": "BadRequest", "message": message})


def _json_body(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ValueError(f"the request body is not JSON: {exc}") from exc


def _config_changes(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError('send a JSON object such as {"seed": 1, "now": "2025-01-01T00:00:00Z"}')
    changes = dict(data)
    allowed = {"seed", "now", "speed", "latency", "jitter", "rate_limit", "audience"} | _ACCOUNT
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValueError(
            f"unknown setting(s) {', '.join(unknown)}; use {', '.join(sorted(allowed))}"
        )
    for name in _ACCOUNT & changes.keys():
        if not isinstance(changes[name], list):
            raise ValueError(f'"{name}" takes a list of names, e.g. ["concurrent-plays"]')
    return changes


_ACCOUNT = {"disabled_metrics", "disabled_dimensions"}


def _faults_json(controls: Controls) -> dict[str, Any]:
    mode = controls.random_faults()
    random_json = None
    if mode is not None:
        random_json = {
            "rate": mode.rate,
            "seed": mode.seed,
            "kinds": [fault_to_json(kind) for kind in mode.kinds],
        }
    pending = [fault_to_json(fault, remaining) for fault, remaining in controls.pending_faults()]
    return {"faults": pending, "random": random_json}


def _add_faults(controls: Controls, data: Any) -> None:
    if not isinstance(data, dict) or not set(data) <= {"faults", "random"}:
        raise ValueError('send {"faults": [{"kind": "status", "status": 503, "times": 2}, ...]}')
    faults = data.get("faults", [])
    if not isinstance(faults, list) or not all(isinstance(item, dict) for item in faults):
        raise ValueError('"faults" must be a list of objects, each with a "kind"')
    parsed = [fault_from_json(item) for item in faults]
    mode = None
    if data.get("random") is not None:
        spec = dict(data["random"])
        if "kinds" in spec:
            spec["kinds"] = tuple(fault_from_json(item) for item in spec["kinds"])
        mode = RandomFaults(**spec)
    controls.add_faults(parsed)
    if "random" in data:
        controls.set_random_faults(mode)


def handle_control(controls: Controls, method: str, path: str, body: bytes) -> EmulatorResponse:
    """Serve one ``/_emulator/...`` request (no credentials needed; never faulted or limited)."""
    route = path[len(CONTROL_PREFIX) :].strip("/")
    try:
        if route == "requests" and method == "GET":
            return json_response(200, {"requests": [e.to_json() for e in controls.requests()]})
        if route == "reset" and method == "POST":
            controls.reset()
            return json_response(200, controls.settings.to_json())
        if route == "config" and method in ("GET", "POST"):
            if method == "POST":
                controls.configure(**_config_changes(_json_body(body)))
            return json_response(200, controls.settings.to_json())
        if route == "advance" and method == "POST":
            data = _json_body(body)
            if not isinstance(data, dict) or not isinstance(data.get("seconds"), (int, float)):
                raise ValueError('send {"seconds": <number>}')
            return json_response(200, {"now": format_instant(controls.advance(data["seconds"]))})
        if route == "faults" and method in ("GET", "POST", "DELETE"):
            if method == "POST":
                _add_faults(controls, _json_body(body))
            elif method == "DELETE":
                controls.clear_faults()
            return json_response(200, _faults_json(controls))
    except (ValueError, TypeError) as exc:
        return _bad_request(str(exc))
    known = ("GET requests", "POST reset", "GET/POST config", "POST advance",
             "GET/POST/DELETE faults")  # fmt: skip
    message = f"no control route {method} {path}; known: {', '.join(known)} under {CONTROL_PREFIX}"
    return json_response(404, {"name": "NotFound", "message": message})
