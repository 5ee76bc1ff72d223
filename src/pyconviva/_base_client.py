"""The core both clients share: every decision about a request, none of the I/O.

``ConvivaAPI`` and ``AsyncConvivaAPI`` subclass :class:`BaseConvivaClient` and add only the
sending: ``send`` or ``await send``, ``sleep`` or ``await sleep``. Everything else lives here:
resolving the configuration, building queries and httpx2 requests, turning a reply into a
result or into the right :class:`~pyconviva._exceptions.APIStatusError`, and deciding, through
:class:`Attempts`, whether and when to retry.

Time is the client's :class:`~pyconviva.Clock` alone (``self._clock``): ``now()`` resolves
relative ranges and ``Retry-After`` dates, ``monotonic()`` measures the retry budget, and the
subclasses wait with its ``sleep`` / ``async_sleep``, the rate limiter's waits included.

The send path is a seam for the bulk layer: ``_prepare`` / ``_prepare_metrics`` make a
:class:`PreparedRequest`, the client's ``_send`` sends it with retries (each attempt admitted by
the rate limiter, then exchanged through ``_send_once``) and returns a 2xx ``httpx2.Response``
or raises, and ``_metrics_result`` / ``_metadata_result`` decode it.
"""

from __future__ import annotations

import html
import json
import logging
import random
import re
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import copy as shallow_copy
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

import httpx2

from pyconviva._bulk import (
    Outcome,
    PlannedQuery,
    assemble,
    concurrency_problem,
    is_concurrency,
    plan_batch,
    plan_query,
)
from pyconviva._clock import Clock, as_clock
from pyconviva._config import (
    DEFAULT_MAX_RETRIES,
    ClientConfig,
    Credentials,
    load_config,
    resolve_retry_policy,
    resolve_timeout,
)
from pyconviva._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    ConvivaError,
    QueryError,
    status_error_class,
)
from pyconviva._query import MetricsQuery, QuerySpec
from pyconviva._ratelimit import RateLimiter
from pyconviva._results import MetadataResult, MetricsResult
from pyconviva._results.response import ResponseInfo
from pyconviva._retry import (
    RATE_LIMITED,
    RetryPolicy,
    TransportFailure,
    counts_against_max_retries,
    next_delay,
    parse_retry_after,
    should_retry,
    within_budget,
)
from pyconviva._rules import API_PREFIX, HISTORICAL, REAL_TIME, Root, request_cost
from pyconviva._version import __version__

__all__ = [
    "USER_AGENT",
    "Attempts",
    "BaseConvivaClient",
    "PreparedRequest",
    "Retry",
    "build_request",
    "connection_error",
    "status_error",
]

logger = logging.getLogger("pyconviva")

USER_AGENT = f"pyconviva/{__version__}"
_SNIPPET_CHARS = 200
_SWAP_REMINDER = (
    "ConvivaAPI takes its positional arguments in the order ConvivaAPI(client_key, client_id), "
    "as in the original README; passing client_id=... and client_key=... as keywords avoids "
    "swapping them"
)


@dataclass(frozen=True)
class PreparedRequest:
    """An httpx2 request ready to send, with its credential-free description for messages.

    ``root`` and ``cost`` are what the request draws from the rate limits: its root's budget
    (``None`` for metadata, which draws on the per-IP budget alone) and its filter-weighted cost.
    ``subject`` is a metrics query's readable summary (metrics, grouping, resolved window), for
    messages that the percent-encoded URL alone would leave hard to read.
    """

    request: httpx2.Request
    description: str
    root: Root | None = None
    cost: int = 1
    subject: str | None = None


def build_request(
    base_url: str,
    credentials: Credentials,
    path: str,
    params: Sequence[tuple[str, str]] = (),
) -> PreparedRequest:
    """A GET for ``base_url + path`` with ``params`` in order (repeated keys kept).

    The description is ``"GET <url>"``: the URL never carries credentials, which travel only
    in the ``Authorization`` header.
    """
    url = httpx2.URL(base_url + path, params=list(params))
    request = httpx2.Request(
        "GET",
        url,
        headers={
            "Accept": "application/json",
            # Only the codings whose decoded size the client can cap as it decodes (_wire).
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": USER_AGENT,
            "Authorization": credentials.authorization(),
        },
    )
    return PreparedRequest(request=request, description=f"GET {url}")


def status_error(
    response: httpx2.Response,
    description: str,
    credentials: Credentials,
    *,
    note: str | None = None,
) -> APIStatusError:
    """The exception for a non-2xx reply: the status's class, the server's message, a hint.

    ``note`` (e.g. how many attempts were made) is appended to the hint.
    """
    body = _json_object(response.content)
    message = _server_message(response, body)
    error_class = status_error_class(response.status_code)
    hint = "; ".join(part for part in (_hint(response, message, credentials), note) if part)
    return error_class(
        message,
        status_code=response.status_code,
        body=body,
        request=description,
        hint=hint or None,
    )


def _json_object(content: bytes) -> Mapping[str, Any] | None:
    try:
        decoded = json.loads(content)
    except (ValueError, RecursionError):  # nesting deeper than the interpreter allows is no
        # message the API sends either: the body is then summarised as text, as for non-JSON
        return None
    return decoded if isinstance(decoded, dict) else None


_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE)


def _server_message(response: httpx2.Response, body: Mapping[str, Any] | None) -> str:
    if body is not None:
        for field in ("message", "name"):
            value = body.get(field)
            if isinstance(value, str) and value.strip():
                return value.strip()
    text = re.sub(r"\s+", " ", response.content.decode("utf-8", errors="replace")).strip()
    title = _HTML_TITLE.search(text)
    if title and title.group(1).strip():  # a gateway's HTML error page: its title says it
        text = f"{html.unescape(title.group(1).strip())} (an HTML page, not the API's JSON)"
    if len(text) > _SNIPPET_CHARS:
        text = text[:_SNIPPET_CHARS] + "…"
    return text or response.reason_phrase or "no message"


def _hint(response: httpx2.Response, message: str, credentials: Credentials) -> str | None:
    status = response.status_code
    if status == 401:
        return (
            f"The API refused client id {credentials.masked_id} (from "
            f"{credentials.id_source}; the key is not shown). {_SWAP_REMINDER}"
        )
    if status in (400, 404) and "did you mean" not in message.lower():
        return _unknown_names_hint(response.request.url)
    if status == 413:
        return (
            "Ask for less per request: a shorter time_range, a coarser granularity, fewer "
            "metrics or a smaller limit"
        )
    if 300 <= status < 400:
        location = response.headers.get("location", "elsewhere")
        return f"The API redirected to {location}; check base_url"
    return None


def _unknown_names_hint(url: httpx2.URL) -> str | None:
    """'Did you mean' for metric and dimension names in the URL that the catalogue lacks."""
    from pyconviva import _catalog  # lazy: only error paths need the catalogue

    path = url.path
    if not path.startswith(API_PREFIX + "/"):
        return None
    segments = path[len(API_PREFIX) + 1 :].split("/")
    if segments[0] not in (HISTORICAL, REAL_TIME) or len(segments) < 2:
        return None
    subject = segments[1]
    if subject == "custom-selection":
        metrics = [value for key, value in url.params.multi_items() if key == "metric"]
    else:
        metrics = [subject]
    hints = [
        _did_you_mean("metric", name, _catalog.suggest_metrics(name))
        for name in metrics
        if name != "_meta"
        and _catalog.find_metric(name) is None
        and name not in _catalog.METRIC_GROUPS
    ]
    if len(segments) >= 4 and segments[2] == "group-by" and segments[3] != "dimension-tag":
        dimension = segments[3]
        if _catalog.find_dimension(dimension) is None:
            hints.append(
                _did_you_mean("dimension", dimension, _catalog.suggest_dimensions(dimension))
            )
    return "; ".join(hints) or None


def _did_you_mean(kind: str, name: str, suggestions: Sequence[str]) -> str:
    known = f"{name!r} is not a {kind} pyconviva knows"
    if not suggestions:
        return known
    return f"{known}; did you mean {' or '.join(repr(s) for s in suggestions)}?"


def connection_error(
    exc: httpx2.RequestError, description: str, *, note: str | None = None
) -> APIConnectionError:
    """The exception for a request that got no usable reply (raise it ``from exc``).

    ``note`` (e.g. how many attempts were made) is appended to the message.
    """
    cause = f"{type(exc).__name__}: {str(exc) or 'no detail'}"
    suffix = f". {note}" if note else ""
    if isinstance(exc, httpx2.TimeoutException):
        return APITimeoutError(f"The request timed out ({cause}){suffix}", request=description)
    return APIConnectionError(
        f"Could not get a reply from the API ({cause}){suffix}", request=description
    )


def _failure_kind(exc: httpx2.RequestError) -> TransportFailure:
    return "timeout" if isinstance(exc, httpx2.TimeoutException) else "connection"


class Retry(NamedTuple):
    """A retry decided at ``decided_at`` (the client's monotonic clock), due ``delay`` later."""

    decided_at: float
    delay: float

    def left(self, now: float) -> float:
        """Seconds still to wait at ``now``: the delay less the time passed since the decision."""
        return self.delay - (now - self.decided_at)


class Attempts:
    """The retry bookkeeping of one call: counts, keeps its deadline, decides, logs, raises.

    After each failed attempt the client asks when to try again; the answer is a
    :class:`Retry`, or the final exception raised when the call should stop. The client waits
    what is *left* of the delay when it gets to wait, so threads that wait together on a
    virtual clock overlap, as real waits do, instead of adding up. The deadline
    (``total_timeout``) counts the call's own time: the client reports the seconds each attempt
    waited in the client's rate limiter (:meth:`sending`), and those are not charged, so the
    deadline starts when the request may first be sent. Waits the API asks for (a 429's pause,
    a ``Retry-After``) and backoff are charged. Replies are reported to the rate limiter, which
    learns the account's budget from them.
    """

    def __init__(
        self,
        prepared: PreparedRequest,
        *,
        policy: RetryPolicy,
        credentials: Credentials,
        clock: Clock,
        rng: random.Random,
        limiter: RateLimiter,
        attempt_timeout: float | None,
    ) -> None:
        self._prepared = prepared
        self._policy = policy
        self._credentials = credentials
        self._clock = clock
        self._rng = rng
        self._limiter = limiter
        self._attempt_timeout = attempt_timeout
        self._started = clock.monotonic()
        self._queued = 0.0
        self._sent_at = self._started
        self._counted = 0  # retries counted against max_retries
        self._retries = 0
        self.count = 0

    def sending(self, queued: float) -> None:
        """An attempt goes out now, after waiting ``queued`` seconds in the rate limiter."""
        self._queued += queued
        self._sent_at = self._clock.monotonic()

    def exchange_limit(self) -> float | None:
        """Seconds the attempt being sent may take: the time left plus one attempt's timeout.

        So a call ends within ``total_timeout`` plus one timeout of its own time, whatever the
        server does; ``None`` when the client has no timeout.
        """
        if self._attempt_timeout is None:
            return None
        left = max(0.0, self._policy.total_timeout - self._elapsed())
        return left + self._attempt_timeout

    def succeeded(self, response: httpx2.Response) -> httpx2.Response:
        """Record a 2xx reply and hand it back."""
        self.count += 1
        prepared = self._prepared
        self._limiter.succeeded(prepared.root, prepared.cost, sent_at=self._sent_at)
        # On the client's clock, as every other time of the call (ResponseInfo.elapsed).
        response.elapsed = timedelta(seconds=self._clock.monotonic() - self._sent_at)
        logger.debug(
            "%s -> %d (%d bytes, attempt %d)",
            prepared.description,
            response.status_code,
            len(response.content),
            self.count,
        )
        return response

    def after_status(self, response: httpx2.Response) -> Retry:
        """When to retry an error reply; raises its APIStatusError when final."""
        self.count += 1
        status = response.status_code
        logger.debug("%s -> %d (attempt %d)", self._prepared.description, status, self.count)
        note = None  # an answer about the request, not a transient fault: nothing was given up
        if should_retry(status):
            retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock.now())
            wait = self._rate_limited(retry_after) if status == RATE_LIMITED else None
            retry, note = self._retry(f"HTTP {status}", status, retry_after, wait)
            if retry is not None:
                if wait is not None and retry_after is None:  # waits out the window's pause
                    self._limiter.awaiting_window(self._prepared.root, retry.decided_at)
                return retry
        raise status_error(response, self._prepared.description, self._credentials, note=note)

    def after_failure(self, exc: httpx2.RequestError) -> Retry:
        """When to retry after no reply; raises APIConnectionError when final."""
        self.count += 1
        kind = _failure_kind(exc)
        retry, note = self._retry(f"{kind} ({type(exc).__name__})", kind, None, None)
        if retry is not None:
            return retry
        raise connection_error(exc, self._prepared.description, note=note) from exc

    def _rate_limited(self, retry_after: float | None) -> float:
        """Tell the rate limiter about a 429; the wait before this request's retry: the
        server's ``Retry-After``, else until the window the limiter closed opens again."""
        now = self._clock.monotonic()
        opens = self._limiter.rate_limited(
            self._prepared.root, sent_at=self._sent_at, now=now, retry_after=retry_after
        )
        return retry_after if retry_after is not None else max(0.0, opens - now)

    def _retry(
        self,
        reason: str,
        failure: int | TransportFailure,
        retry_after: float | None,
        wait: float | None,
    ) -> tuple[Retry | None, str | None]:
        """When to send the next attempt and no note, or no retry and the give-up note."""
        policy = self._policy
        counted = counts_against_max_retries(failure)
        if policy.max_retries == 0 or (counted and self._counted >= policy.max_retries):
            return None, self._give_up_note(None)
        cap = policy.retry_after_cap
        if retry_after is not None and cap is not None and retry_after > cap:
            asked = f"the server asked to wait {retry_after:g} s (Retry-After)"
            return None, self._give_up_note(f"{asked}, longer than retry_after_cap={cap:g} s")
        if wait is None:
            wait = next_delay(self._counted + 1, policy, retry_after, self._rng.random())
        now = self._clock.monotonic()
        if not within_budget(self._elapsed(), wait, policy):
            return None, self._give_up_note(_past_deadline(failure, retry_after, wait))
        self._retries += 1
        if counted:
            self._counted += 1
            numbered = f"retry {self._counted} of {policy.max_retries}"
        else:
            numbered = "rate limited: not counted against max_retries"
        logger.warning(
            "Retrying %s in %.2f s (%s) after %s",
            self._prepared.description,
            wait,
            numbered,
            reason,
            extra={"attempt": self._retries, "reason": reason, "delay": wait},
        )
        return Retry(now, wait), None

    def _elapsed(self) -> float:
        """The call's own time so far: since it began, less what it waited in the limiter."""
        return self._clock.monotonic() - self._started - self._queued

    def _give_up_note(self, why: str | None) -> str | None:
        if self.count == 1 and why is None:
            return None
        subject = self._prepared.subject
        return (
            f"Gave up after {self.count} attempt{'s' if self.count != 1 else ''} in "
            f"{self._elapsed():.1f} s (max_retries={self._policy.max_retries}, "
            f"total_timeout={self._policy.total_timeout:g} s)"
            + (f": {why}" if why else "")
            + (f" on {subject}" if subject else "")
        )


def _past_deadline(
    failure: int | TransportFailure, retry_after: float | None, wait: float
) -> str | None:
    """Why a wait that does not fit the deadline was needed, when the API set it."""
    if retry_after is not None:
        return f"the server asked to wait {retry_after:g} s (Retry-After), past the deadline"
    if failure == RATE_LIMITED:
        return f"the rate-limit window frees in {wait:.0f} s, past the deadline"
    return None


def _attempt_seconds(timeout: httpx2.Timeout) -> float | None:
    """One attempt's timeout as one number: the longest phase's (``None``: a phase unbounded)."""
    phases = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    if any(phase is None for phase in phases):
        return None
    return max(phase for phase in phases if phase is not None)


def _transport_name(transport: object) -> str:
    """A transport's own repr when it has one (the emulator's says what it is), else its type."""
    if type(transport).__repr__ is object.__repr__:
        return type(transport).__name__
    return repr(transport)


def _rate_limiter(rate_limit: object) -> RateLimiter:
    """``True``: the published budgets; ``False``: none; a ``RateLimiter``: used as is
    (shared)."""
    if isinstance(rate_limit, RateLimiter):
        return rate_limit
    if rate_limit is True:
        return RateLimiter()
    if rate_limit is False:
        return RateLimiter.disabled()
    raise ConfigurationError(
        f"rate_limit={rate_limit!r} is not a bool or a RateLimiter; pass True (the API's "
        "published budgets), False (no client-side limit) or a RateLimiter(...)"
    )


def _max_window(max_window: timedelta | None) -> timedelta | None:
    """``max_window`` once checked: ``None`` or a positive ``timedelta`` (callers may pass
    anything)."""
    if max_window is None:
        return None
    if not isinstance(max_window, timedelta) or max_window <= timedelta(0):
        raise ConfigurationError(
            f"max_window={max_window!r} is not a positive timedelta; pass e.g. "
            "max_window=timedelta(days=7), or None for the API's own limits"
        )
    return max_window


_Client = TypeVar("_Client", bound="BaseConvivaClient")


class BaseConvivaClient:
    """Configuration, request building and reply handling shared by both clients.

    Subclasses provide ``_send`` (sync or async) built from :class:`Attempts`, waiting on
    ``self._clock``.
    """

    def __init__(
        self,
        client_key: str | None,
        client_id: str | None,
        *,
        client_secret: str | None,
        base_url: str | None,
        timeout: float | httpx2.Timeout,
        max_retries: int,
        retry: RetryPolicy | None,
        verify: str | ssl.SSLContext | None,
        clock: Clock | Callable[[], datetime] | None,
        rate_limit: bool | RateLimiter,
        max_concurrency: int,
        max_window: timedelta | None,
        transport: httpx2.BaseTransport | httpx2.AsyncBaseTransport | None,
    ) -> None:
        self._config: ClientConfig = load_config(
            client_key,
            client_id,
            client_secret=client_secret,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            verify=verify,
            has_transport=transport is not None,
        )
        # A transport in place of the network (the emulator's, a recorder) is named in the repr:
        # the base URL alone would say the requests went to Conviva.
        self._transport_shown = None if transport is None else _transport_name(transport)
        if not is_concurrency(max_concurrency):
            raise ConfigurationError(concurrency_problem(max_concurrency, "max_concurrency"))
        self._max_concurrency = max_concurrency
        self._rate_limiter = _rate_limiter(rate_limit)
        self._max_window = _max_window(max_window)
        self._clock = as_clock(clock)
        # Per client, so jitter never touches the process-wide random state.
        self._rng = random.Random()
        # A copy made by with_options shares the original's connections and leaves them open.
        self._owns_connections = True

    def with_options(
        self: _Client,
        *,
        timeout: float | httpx2.Timeout | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> _Client:
        """A light copy of this client with other per-call settings; ``None`` keeps this one's.

        The copy shares this client's connection pool, rate limiter, clock, credentials and
        base URL, so it costs nothing to make per call
        (``api.with_options(timeout=5).get_kpis()``) and its requests count against the same
        budgets. Only ``timeout`` (per attempt) and the retry settings differ. ``max_retries``
        alone keeps this client's :class:`~pyconviva.RetryPolicy` with that one number
        changed; ``retry`` replaces the policy (with ``max_retries`` too, the two must agree).
        Values are checked as the constructor checks them.

        The pool belongs to the original: closing the copy (``close()``, ``aclose()`` or the
        end of its ``with`` block) leaves it open, and closing the original ends the copies
        too.

        Raises:
            ConfigurationError: a ``timeout``, ``max_retries`` or ``retry`` the constructor
                would refuse.
        """
        config = self._config
        new_timeout = config.timeout if timeout is None else resolve_timeout(timeout)
        if retry is not None:
            policy = resolve_retry_policy(
                DEFAULT_MAX_RETRIES if max_retries is None else max_retries, retry
            )
        elif max_retries is not None:
            policy = resolve_retry_policy(max_retries, None)  # checks the number
            policy = replace(config.retry, max_retries=policy.max_retries)
        else:
            policy = config.retry
        copy = shallow_copy(self)  # every attribute shared; no __init__, so nothing opened
        copy._config = replace(config, timeout=new_timeout, retry=policy)
        copy._rng = random.Random()
        copy._owns_connections = False
        return copy

    @property
    def base_url(self) -> str:
        """The API base URL requests go to (no trailing slash)."""
        return self._config.base_url

    @property
    def client_id(self) -> str:
        """The API client id in use (the key is never exposed)."""
        return self._config.credentials.client_id

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry settings of this client."""
        return self._config.retry

    def __repr__(self) -> str:
        # Tracebacks that show locals also show clients whose __init__ raised before _config.
        config: ClientConfig | None = getattr(self, "_config", None)
        if config is None:
            return f"{type(self).__name__}(not configured)"
        through = "" if self._transport_shown is None else f", transport={self._transport_shown}"
        return (
            f"{type(self).__name__}(base_url={config.base_url!r}{through}, "
            f"client_id={config.credentials.masked_id}, key=***)"
        )

    @property
    def rate_limiter(self) -> RateLimiter:
        """The request budgets this client keeps to (pass it to another client to share them)."""
        return self._rate_limiter

    @property
    def max_concurrency(self) -> int:
        """The default bound on requests in flight at once for one call."""
        return self._max_concurrency

    @property
    def max_window(self) -> timedelta | None:
        """The longest span one request of a split range covers (``None``: the API's limits)."""
        return self._max_window

    @property
    def clock(self) -> Clock:
        """The clock this client reads, measures and waits on (see the ``clock`` argument)."""
        return self._clock

    def _plan(self, spec: QuerySpec, split: bool) -> PlannedQuery:
        return plan_query(spec, now=self._clock.now(), split=split, max_window=self._max_window)

    def _plan_batch(
        self, specs: Iterable[QuerySpec], max_concurrency: int | None
    ) -> tuple[list[PlannedQuery | None], dict[int, ConvivaError], int]:
        """The planned queries of a batch, the errors of invalid specs, and the bound to use."""
        bound = self._max_concurrency if max_concurrency is None else max_concurrency
        if not is_concurrency(bound):
            raise QueryError(
                concurrency_problem(bound, "max_concurrency"), argument="max_concurrency"
            )
        planned, errors = plan_batch(specs, self._clock.now(), max_window=self._max_window)
        return planned, errors, bound

    @staticmethod
    def _query_result(planned: PlannedQuery, outcomes: Sequence[Outcome]) -> MetricsResult:
        """The result of one call from its windows' outcomes; raises the error of a failure."""
        outcome = assemble(planned, outcomes)
        if isinstance(outcome, ConvivaError):
            raise outcome
        return outcome

    def _prepare(self, path: str, params: Sequence[tuple[str, str]] = ()) -> PreparedRequest:
        prepared = build_request(self._config.base_url, self._config.credentials, path, params)
        # Per request, since copies made by with_options share one httpx2 client (whose own
        # timeout is the original's).
        request = prepared.request
        request.extensions = {**request.extensions, "timeout": self._config.timeout.as_dict()}
        return prepared

    def _prepare_metrics(self, query: MetricsQuery) -> PreparedRequest:
        prepared = self._prepare(query.path, query.params)
        return replace(
            prepared, root=query.root, cost=request_cost(query.params), subject=query.describe()
        )

    def _attempts(self, prepared: PreparedRequest) -> Attempts:
        return Attempts(
            prepared,
            policy=self._config.retry,
            credentials=self._config.credentials,
            clock=self._clock,
            rng=self._rng,
            limiter=self._rate_limiter,
            attempt_timeout=_attempt_seconds(self._config.timeout),
        )

    @staticmethod
    def _metrics_result(
        response: httpx2.Response, prepared: PreparedRequest, query: MetricsQuery
    ) -> MetricsResult:
        return MetricsResult.from_bytes(
            response.content,
            query=query,
            request=prepared.description,
            responses=(ResponseInfo.from_response(response),),
        )

    @staticmethod
    def _metadata_result(
        response: httpx2.Response, prepared: PreparedRequest, kind: str
    ) -> MetadataResult:
        return MetadataResult.from_bytes(
            response.content,
            kind=kind,
            request=prepared.description,
            responses=(ResponseInfo.from_response(response),),
        )
