"""The emulated Metrics V3 service: one pure function from a request (and "now") to a reply.

``MetricsService.handle`` serves every endpoint of the API on both roots: a metric, a metric
group or ``custom-selection``, each plain or grouped by a dimension or a custom tag; discovery
(``/insights/3.0/metrics``, ``{metric}/group-by``, ``{metric}/group-by/dimension-tag``);
``_meta/references/dimensions`` and ``_meta/references/filters``; and ``/insights/3.0/kpis``.
Metadata lives under the historical root only, as clients call it.

Checks run in the API's order: 401 (Basic auth) -> 404 (unknown path, metric, dimension or tag)
-> 403 (a metric or dimension the account's settings disable, named in the path) -> 400
(malformed or unknown parameters) -> 422 (time-range limits) -> 403 (a disabled metric or
dimension named in the query) -> compute -> 413 (reply over 5,700,000 bytes). Rate limiting
(429) is the wire layer's job; ``rate_cost`` tells it which
budget a request draws on and how much (the API counts every filter value).

Errors: 401 ``{"message": "Unauthorized"}`` and 403 ``{"message": "<what is not enabled>"}`` as
the API gateway answers; every other error
``{"name": "<Kind>", "message": "<what was wrong and how to fix it>"}``. Same request, same
``now``: the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pyconviva import _rules
from pyconviva._catalog import METRIC_ALIASES, METRIC_GROUPS, find_dimension
from pyconviva._rules import Root
from pyconviva.emulator import _replies
from pyconviva.emulator._audience import DEFAULT_AUDIENCE, audience_named, model_for
from pyconviva.emulator._routes import (
    Problem,
    Route,
    parse_path,
    parse_query,
)

__all__ = ["EmulatorRequest", "EmulatorResponse", "MetricsService", "ServiceSettings"]

_JSON = (("content-type", "application/json"),)


@dataclass(frozen=True)
class EmulatorRequest:
    """A request as the wire layer hands it over: decoded path and query, lower-case headers."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class EmulatorResponse:
    """A reply: status, headers and the body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class ServiceSettings:
    """What the service is configured with; the key never appears in a repr."""

    seed: int = 0
    client_id: str = "demo-client-id"
    client_key: str = "demo-client-key"
    strict_real_time: bool = False
    legacy_default_range: bool = False
    base_url: str = "https://api.conviva.com"
    audience: str = DEFAULT_AUDIENCE
    disabled_metrics: frozenset[str] = frozenset()  # path names the account may not use
    disabled_dimensions: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return (
            f"ServiceSettings(seed={self.seed}, client_id={self.client_id!r}, "
            f"client_key='***', strict_real_time={self.strict_real_time}, "
            f"legacy_default_range={self.legacy_default_range}, base_url={self.base_url!r}, "
            f"audience={self.audience!r}, disabled_metrics={sorted(self.disabled_metrics)}, "
            f"disabled_dimensions={sorted(self.disabled_dimensions)})"
        )


class MetricsService:
    """Routes and handlers of the emulated API over the deterministic data of one seed."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._audience = audience_named(settings.audience)
        self._model = model_for(settings.audience, settings.seed)
        self._expected = (settings.client_id.encode(), settings.client_key.encode())

    def authenticate(self, headers: Mapping[str, str]) -> EmulatorResponse | None:
        """None when the Basic credentials are the configured ones, else the 401 reply."""
        given = _basic_credentials(headers.get("authorization", ""))
        if given is not None:
            id_ok = hmac.compare_digest(given[0], self._expected[0])
            key_ok = hmac.compare_digest(given[1], self._expected[1])
            if id_ok and key_ok:
                return None
        return EmulatorResponse(401, _JSON, b'{"message":"Unauthorized"}')

    def handle(self, request: EmulatorRequest, now: datetime) -> EmulatorResponse:
        """The reply to `request` at instant `now` (authentication included)."""
        refused = self.authenticate(request.headers)
        if refused is not None:
            return refused
        try:
            if request.method.upper() != "GET":
                raise Problem(405, "every Metrics V3 endpoint is read with GET")
            route = parse_path(request.path, strict_real_time=self._settings.strict_real_time)
            return EmulatorResponse(200, _JSON, self._body(route, request, _rules.as_utc(now)))
        except Forbidden as refusal:
            return EmulatorResponse(403, _JSON, _replies.json_bytes({"message": str(refusal)}))
        except Problem as problem:
            headers = (*_JSON, ("allow", "GET")) if problem.status == 405 else _JSON
            body = _replies.json_bytes({"name": problem.name, "message": problem.message})
            return EmulatorResponse(problem.status, headers, body)

    def rate_cost(self, request: EmulatorRequest) -> tuple[Root | None, int]:
        """The rate budget the request draws on (None for metadata and unknown paths) and its
        cost: one per filter value, at least one."""
        try:
            route = parse_path(request.path, strict_real_time=self._settings.strict_real_time)
        except Problem:
            return None, 1
        if route.kind != "data":
            return None, 1
        return route.root, _rules.request_cost(request.query)

    def _body(self, route: Route, request: EmulatorRequest, now: datetime) -> bytes:
        settings = self._settings
        if route.kind != "data":
            if request.query:
                name = request.query[0][0]
                raise Problem(
                    400, f"unknown query parameter {name!r}: metadata endpoints take no parameters"
                )
            return self._metadata(route)
        self._check_allowed([route.target], [route.group_by.name] if route.group_by else [])
        query = parse_query(
            route,
            request.query,
            now=now,
            legacy_default_range=settings.legacy_default_range,
            strict_real_time=settings.strict_real_time,
        )
        self._check_allowed([m.name for m in query.metrics], query.filters)
        body = _replies.metrics_body(query, self._audience, self._model, now)
        if body is None:
            raise Problem(
                413,
                f"the reply would be larger than {_rules.MAX_REPLY_BYTES:,} bytes; request a "
                "shorter range, a coarser granularity, fewer metrics or a lower limit, or split "
                "the range over several requests",
            )
        return body

    def _check_allowed(self, metrics: Iterable[str], dimensions: Iterable[str]) -> None:
        """Forbidden for the first metric (path name, alias or group) or dimension (path name
        or filter key) that the account may not use."""
        disabled = self._settings.disabled_metrics
        for name in metrics:
            for member in METRIC_GROUPS.get(name, (METRIC_ALIASES.get(name, name),)):
                if member in disabled:
                    raise Forbidden(
                        f"the metric {member!r} is not enabled for this account; ask your "
                        "Conviva account manager, or leave it out of the request"
                    )
        for key in dimensions:
            dimension = find_dimension(key)
            if dimension is not None and dimension.name in self._settings.disabled_dimensions:
                raise Forbidden(
                    f"the dimension {dimension.name!r} is not enabled for this account; ask "
                    "your Conviva account manager, or group and filter by another dimension"
                )

    def _metadata(self, route: Route) -> bytes:
        settings = self._settings
        if route.kind == "endpoints":
            return _replies.endpoints_body(
                settings.base_url, strict_real_time=settings.strict_real_time
            )
        if route.kind == "group_by_endpoints":
            return _replies.group_by_endpoints_body(
                settings.base_url, route.target, tags_only=route.tags_only
            )
        if route.kind == "dimensions":
            return _replies.dimensions_body()
        if route.kind == "filters":
            return _replies.filters_body()
        return _replies.kpis_body()


class Forbidden(Exception):
    """The account may not use a metric or dimension the request names: 403."""


def _basic_credentials(header: str) -> tuple[bytes, bytes] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    client_id, colon, client_key = decoded.partition(b":")
    return (client_id, client_key) if colon else None
