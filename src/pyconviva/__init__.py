"""pyconviva: the Python client for Conviva's Metrics V3 API.

``ConvivaAPI`` / ``AsyncConvivaAPI`` call every Metrics V3 endpoint; replies come back as
``MetricsResult`` / ``MetadataResult`` (read-only mappings over the raw JSON with tidy-table
conveniences). ``pyconviva.emulator`` serves the API offline; ``pyconviva.testing`` wires it into
pytest. Every error pyconviva raises on purpose is a ``ConvivaError``.
"""

import logging

from pyconviva._bulk import BatchResult, QuerySpec
from pyconviva._client import AsyncConvivaAPI, ConvivaAPI
from pyconviva._dataset import ExportSummary, export_dataset
from pyconviva._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConvivaError,
    MissingDependencyError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    UnexpectedResponseError,
    UnprocessableEntityError,
)
from pyconviva._query import MetricsQuery
from pyconviva._ratelimit import RateLimiter
from pyconviva._results import MetadataResult, MetricsResult
from pyconviva._retry import RetryPolicy
from pyconviva._rules import RateLimit
from pyconviva._version import __version__

# A library leaves logging configuration to the application (see the README's "Logging").
logging.getLogger("pyconviva").addHandler(logging.NullHandler())

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncConvivaAPI",
    "AuthenticationError",
    "BadRequestError",
    "BatchResult",
    "ConfigurationError",
    "ConvivaAPI",
    "ConvivaError",
    "ExportSummary",
    "MetadataResult",
    "MetricsQuery",
    "MetricsResult",
    "MissingDependencyError",
    "NotFoundError",
    "PermissionDeniedError",
    "QueryError",
    "QuerySpec",
    "RateLimit",
    "RateLimitError",
    "RateLimiter",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "__version__",
    "export_dataset",
]
