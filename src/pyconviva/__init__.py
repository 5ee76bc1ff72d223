"""pyconviva: the Python client for Conviva's Metrics V3 API.

``ConvivaAPI`` / ``AsyncConvivaAPI`` call every Metrics V3 endpoint; replies come back as
``MetricsResult`` / ``MetadataResult`` (read-only mappings over the raw JSON with tidy-table
conveniences). ``pyconviva.emulator`` serves the API offline; ``pyconviva.testing`` wires it into
pytest. Every error pyconviva raises on purpose is a ``ConvivaError``.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

# The exceptions are cheap (standard library only) and needed by every caller: imported now.
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
from pyconviva._version import __version__

if TYPE_CHECKING:
    from pyconviva._bulk import BatchResult
    from pyconviva._client import AsyncConvivaAPI, ConvivaAPI
    from pyconviva._clock import Clock, SystemClock
    from pyconviva._dataset import DatasetBusyError, ExportSummary, ManifestError, export_dataset
    from pyconviva._names import DimensionName, MetricGroupName, MetricName
    from pyconviva._query import MetricsQuery, QuerySpec
    from pyconviva._ratelimit import RateLimiter
    from pyconviva._results import MetadataResult, MetricsResult, ResponseInfo
    from pyconviva._retry import RetryPolicy
    from pyconviva._rules import RateLimit

# The rest loads on first use, so that importing a submodule (``pyconviva.testing`` as a pytest
# plugin on every pytest start, ``pyconviva.cli`` for ``--help``) does not pay for httpx2.
_LAZY = {
    "AsyncConvivaAPI": "pyconviva._client",
    "BatchResult": "pyconviva._bulk",
    "Clock": "pyconviva._clock",
    "ConvivaAPI": "pyconviva._client",
    "DatasetBusyError": "pyconviva._dataset",
    "DimensionName": "pyconviva._names",
    "ExportSummary": "pyconviva._dataset",
    "ManifestError": "pyconviva._dataset",
    "MetadataResult": "pyconviva._results",
    "MetricGroupName": "pyconviva._names",
    "MetricName": "pyconviva._names",
    "MetricsQuery": "pyconviva._query",
    "MetricsResult": "pyconviva._results",
    "QuerySpec": "pyconviva._query",
    "RateLimit": "pyconviva._rules",
    "ResponseInfo": "pyconviva._results",
    "RateLimiter": "pyconviva._ratelimit",
    "RetryPolicy": "pyconviva._retry",
    "SystemClock": "pyconviva._clock",
    "export_dataset": "pyconviva._dataset",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pyconviva' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


# A library leaves logging configuration to the application (see the docs' "Logging").
logging.getLogger("pyconviva").addHandler(logging.NullHandler())

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncConvivaAPI",
    "AuthenticationError",
    "BadRequestError",
    "BatchResult",
    "Clock",
    "ConfigurationError",
    "ConvivaAPI",
    "ConvivaError",
    "DatasetBusyError",
    "DimensionName",
    "ExportSummary",
    "ManifestError",
    "MetadataResult",
    "MetricGroupName",
    "MetricName",
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
    "ResponseInfo",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "SystemClock",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "__version__",
    "export_dataset",
]
