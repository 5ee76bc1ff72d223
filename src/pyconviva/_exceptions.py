"""The one exception tree of pyconviva.

Every error the library raises on purpose is a :class:`ConvivaError`::

    ConvivaError
    ├── QueryError (also ValueError)          bad arguments; raised before any request is sent
    ├── ConfigurationError (also ValueError)  missing/unsafe credentials, base URL or TLS settings
    ├── MissingDependencyError (also ImportError)  an optional extra is not installed
    ├── UnexpectedResponseError               a 2xx reply that is not a usable Metrics V3 reply
    ├── APIConnectionError                    transport failures (DNS, refused, reset, TLS)
    │   └── APITimeoutError                   the request timed out
    └── APIStatusError                        the API answered with an error status
        ├── BadRequestError            400
        ├── AuthenticationError        401
        ├── PermissionDeniedError      403
        ├── NotFoundError              404
        ├── ResponseTooLargeError      413
        ├── UnprocessableEntityError   422
        ├── RateLimitError             429
        └── ServerError                5xx

Errors keep their cause (``raise ... from``). Nothing here ever holds a client key: requests are
described by method and URL only, and URLs never carry credentials (Basic auth travels in a
header that is not recorded).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConvivaError",
    "MissingDependencyError",
    "NotFoundError",
    "PermissionDeniedError",
    "QueryError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ServerError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "status_error_class",
]


class ConvivaError(Exception):
    """Base class of every error pyconviva raises on purpose."""


class QueryError(ConvivaError, ValueError):
    """The arguments of a call are invalid; raised before any request is sent.

    The message names the argument, the bad value and how to fix it.
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class ConfigurationError(ConvivaError, ValueError):
    """The client cannot be configured: missing credentials, unsafe base URL or TLS settings."""


class MissingDependencyError(ConvivaError, ImportError):
    """An optional dependency is missing; the message gives the ``pip install`` line."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the optional dependency {module!r}, which is not installed. "
            f"Install it with: pip install 'pyconviva[{extra}]'",
            name=module,
        )
        self.feature = feature
        self.extra = extra
        self.module = module


class UnexpectedResponseError(ConvivaError):
    """A successful (2xx) reply that is not a usable Metrics V3 reply (not JSON, wrong shape)."""

    def __init__(
        self, message: str, *, request: str | None = None, body: str | None = None
    ) -> None:
        super().__init__(f"{message} (request: {request})" if request else message)
        self.request = request
        self.body = body


class APIConnectionError(ConvivaError):
    """The request could not be completed: connection refused or reset, DNS, TLS, protocol."""

    def __init__(self, message: str, *, request: str | None = None) -> None:
        super().__init__(f"{message} (request: {request})" if request else message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool timeout)."""


class APIStatusError(ConvivaError):
    """The API answered with an error status.

    Attributes:
        status_code: the HTTP status.
        message: the server's own message (``message`` or ``name`` of the JSON body, else text).
        body: the decoded JSON body when there was one, else ``None``.
        request: ``"GET https://…/path?query"`` — never any credential.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Mapping[str, Any] | None = None,
        request: str | None = None,
        hint: str | None = None,
    ) -> None:
        text = f"HTTP {status_code}: {message}"
        if hint:
            text = f"{text}. {hint}"
        if request:
            text = f"{text} (request: {request})"
        super().__init__(text)
        self.status_code = status_code
        self.message = message
        self.body = body
        self.request = request
        self.hint = hint


class BadRequestError(APIStatusError):
    """400: the API rejected a parameter."""


class AuthenticationError(APIStatusError):
    """401: the credentials were refused."""


class PermissionDeniedError(APIStatusError):
    """403: the account may not use this metric, dimension or API."""


class NotFoundError(APIStatusError):
    """404: unknown metric, metric group, dimension, custom tag or path."""


class ResponseTooLargeError(APIStatusError):
    """413: the reply would exceed the API's 5,700,000-byte cap; ask for less per request."""


class UnprocessableEntityError(APIStatusError):
    """422: a well-formed request outside the API's limits (time range, granularity, limit)."""


class RateLimitError(APIStatusError):
    """429: too many requests for the account or the IP address."""


class ServerError(APIStatusError):
    """5xx: the API failed."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: ResponseTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status (``APIStatusError`` for unlisted 4xx)."""
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, APIStatusError)
