"""Client configuration: credentials, environment fallbacks, base URL and TLS checks, defaults.

Everything a client needs before it can send a request is resolved and checked here, once, in
the constructor, so that a bad setting fails at ``ConvivaAPI(...)`` with a message that says
how to fix it rather than at the first request.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx2

from pyconviva._exceptions import ConfigurationError
from pyconviva._retry import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ENV_BASE_URL",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_KEY",
    "ENV_CLIENT_SECRET",
    "ClientConfig",
    "Credentials",
    "load_config",
    "resolve_base_url",
    "resolve_credentials",
    "resolve_retry_policy",
    "resolve_timeout",
    "resolve_verify",
]

DEFAULT_BASE_URL = "https://api.conviva.com"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
# Enough connections for concurrent bulk work; idle ones are dropped before typical
# load-balancer idle timeouts so that reuse rarely meets a connection closed under it.
DEFAULT_LIMITS = httpx2.Limits(
    max_connections=32, max_keepalive_connections=16, keepalive_expiry=5.0
)

ENV_CLIENT_ID = "CONVIVA_CLIENT_ID"
ENV_CLIENT_KEY = "CONVIVA_CLIENT_KEY"
ENV_CLIENT_SECRET = "CONVIVA_CLIENT_SECRET"  # noqa: S105 - a variable name, not a secret
ENV_BASE_URL = "CONVIVA_BASE_URL"

_LOOPBACK_NAMES = frozenset({"localhost"})
_SHOWN_ID_CHARS = 4


@dataclass(frozen=True, repr=False)
class Credentials:
    """A Conviva API client id and key; the key never shows in ``repr`` or ``str``.

    Attributes:
        client_id: the API client id (safe to show).
        client_key: the API client key, which Conviva calls the client secret.
        id_source: where ``client_id`` came from, for error messages
            (``"argument client_id"`` or ``"environment variable CONVIVA_CLIENT_ID"``).
    """

    client_id: str
    client_key: str = field(compare=False)
    id_source: str = field(default="argument client_id", compare=False)

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.masked_id}, key=***)"

    __str__ = __repr__

    @property
    def masked_id(self) -> str:
        """The id's first characters and length, e.g. ``'abcd…' (10 chars)``, for messages.

        Enough to recognise the id, and harmless if a caller swapped the id and the key
        (the README's positional order differs from pyconviva 0.1.0's signature).
        """
        return f"{self.client_id[:_SHOWN_ID_CHARS]!r}… ({len(self.client_id)} chars)"

    def authorization(self) -> str:
        """The value of the HTTP Basic ``Authorization`` header."""
        token = f"{self.client_id}:{self.client_key}".encode()
        return "Basic " + base64.b64encode(token).decode("ascii")


def resolve_credentials(
    client_key: str | None,
    client_id: str | None,
    client_secret: str | None,
    env: Mapping[str, str],
) -> Credentials:
    """Credentials from the arguments, falling back to the environment for what is missing.

    ``client_secret`` is Conviva's own name for the key; give one of the two, not both.
    """
    if client_key is not None and client_secret is not None:
        raise ConfigurationError(
            "Both client_key and client_secret were given; they are the same thing "
            "(client_secret is Conviva's name for the key). Pass only one of them."
        )
    key_argument = "client_key" if client_secret is None else "client_secret"
    key = _argument(key_argument, client_key if client_secret is None else client_secret)
    client_id = _argument("client_id", client_id)
    id_source = "argument client_id"
    if client_id is None:
        client_id = env.get(ENV_CLIENT_ID) or None
        id_source = f"environment variable {ENV_CLIENT_ID}"
    if key is None:
        key = _key_from_env(env)
    missing = [name for name, value in (("client_id", client_id), ("client_key", key)) if not value]
    if client_id is None or key is None:
        raise ConfigurationError(
            f"Missing Conviva credentials ({' and '.join(missing)}). Either pass them: "
            "ConvivaAPI(client_id=..., client_key=...), or set the environment variables "
            f"{ENV_CLIENT_ID} and {ENV_CLIENT_KEY} (or {ENV_CLIENT_SECRET}). "
            "Create an API client on the Pulse 'API Management' page to get them."
        )
    if ":" in client_id:
        raise ConfigurationError(
            "client_id contains ':', which HTTP Basic auth cannot carry; check that the id "
            "and the key were not swapped or pasted together."
        )
    return Credentials(client_id=client_id, client_key=key, id_source=id_source)


def _argument(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ConfigurationError(
            f"{name} is empty; pass the value from the Pulse 'API Management' page, "
            f"or leave it out to read it from the environment."
        )
    return value


def _key_from_env(env: Mapping[str, str]) -> str | None:
    key = env.get(ENV_CLIENT_KEY) or None
    secret = env.get(ENV_CLIENT_SECRET) or None
    if key is not None and secret is not None and key != secret:
        raise ConfigurationError(
            f"Both {ENV_CLIENT_KEY} and {ENV_CLIENT_SECRET} are set, to different values; "
            "they name the same key. Unset one of them."
        )
    return key or secret


def resolve_base_url(base_url: str | None, env: Mapping[str, str]) -> str:
    """The API base URL (argument, else ``CONVIVA_BASE_URL``, else the public API), checked.

    HTTPS is required except on loopback hosts (127.0.0.0/8, ::1, localhost), where a local
    emulator or proxy may speak plain HTTP. The URL may carry a path prefix but no user
    name, password, query or fragment. Returned without a trailing slash. Error messages show
    only the scheme and host, in case a secret was pasted into the rest of the URL.
    """
    url = base_url if base_url is not None else (env.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
    if not isinstance(url, str):
        raise ConfigurationError(f"base_url must be a string, got {type(url).__name__}")
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 - validates the port; raises ValueError when out of range
    except ValueError as exc:
        raise ConfigurationError(f"base_url is not a valid URL: {exc}") from exc
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigurationError(
            f"base_url must be an absolute https:// URL such as {DEFAULT_BASE_URL!r}; "
            f"got {'scheme ' + repr(parts.scheme) if parts.scheme else 'no scheme'}"
            f"{'' if host else ' and no host'}"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "base_url must not contain a user name or password; pass the credentials as "
            "client_id= and client_key= instead."
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"base_url {_origin(parts.scheme, host)} must not have a query string or fragment"
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise ConfigurationError(
            f"base_url {_origin(parts.scheme, host)} uses plain http:// to a non-loopback "
            "host, which would send the credentials unencrypted. Use https://; plain http is "
            "accepted only for 127.0.0.0/8, ::1 and localhost (a local emulator)."
        )
    return url.strip().rstrip("/")


def _origin(scheme: str, host: str) -> str:
    return f"'{scheme}://{host}/...'"


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_verify(verify: object) -> ssl.SSLContext | Literal[True]:
    """The TLS verification setting for httpx2; verification cannot be switched off.

    ``None`` keeps httpx2's default trust store, which honours ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR``. A path names a CA bundle file (or a directory of hashed certificates)
    to trust instead; an ``ssl.SSLContext`` is used as given but must verify certificates
    and host names.
    """
    if verify is None:
        return True
    if isinstance(verify, bool):
        raise ConfigurationError(
            f"verify={verify!r} is not accepted: TLS verification is always on and cannot be "
            "switched off. To trust a private CA, pass verify='/path/to/ca-bundle.pem' or an "
            "ssl.SSLContext; to use the default trust store, leave verify out."
        )
    if isinstance(verify, ssl.SSLContext):
        if verify.verify_mode != ssl.CERT_REQUIRED or not verify.check_hostname:
            raise ConfigurationError(
                "The ssl.SSLContext passed as verify= does not verify certificates and host "
                "names (verify_mode must be CERT_REQUIRED and check_hostname True); TLS "
                "verification cannot be switched off."
            )
        return verify
    if isinstance(verify, (str, os.PathLike)):
        path = Path(verify)
        if path.is_dir():
            return ssl.create_default_context(capath=path)
        if path.is_file():
            return ssl.create_default_context(cafile=path)
        raise ConfigurationError(
            f"verify={str(path)!r}: no CA bundle file or directory at that path"
        )
    raise ConfigurationError(
        f"verify must be a CA bundle path or an ssl.SSLContext, got {type(verify).__name__}"
    )


def resolve_timeout(timeout: float | httpx2.Timeout) -> httpx2.Timeout:
    """An httpx2 timeout from seconds (applied to connect, read, write and pool) or as given."""
    if isinstance(timeout, httpx2.Timeout):
        return timeout
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ConfigurationError(
            f"timeout must be a positive number of seconds or an httpx2.Timeout, got {timeout!r}"
        )
    return httpx2.Timeout(float(timeout))


def resolve_retry_policy(max_retries: int, retry: RetryPolicy | None) -> RetryPolicy:
    """The retry policy: ``retry`` when given, else the defaults with ``max_retries``."""
    if retry is None:
        return RetryPolicy(max_retries=max_retries)
    if not isinstance(retry, RetryPolicy):
        raise ConfigurationError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
    if max_retries not in (DEFAULT_MAX_RETRIES, retry.max_retries):
        raise ConfigurationError(
            f"max_retries={max_retries!r} contradicts retry.max_retries={retry.max_retries!r}; "
            "give the number in one place (RetryPolicy(max_retries=...))."
        )
    return retry


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client resolved at construction; safe to show (the key is masked)."""

    credentials: Credentials
    base_url: str
    timeout: httpx2.Timeout
    retry: RetryPolicy
    verify: ssl.SSLContext | Literal[True]


def load_config(
    client_key: str | None,
    client_id: str | None,
    *,
    client_secret: str | None,
    base_url: str | None,
    timeout: float | httpx2.Timeout,
    max_retries: int,
    retry: RetryPolicy | None,
    verify: str | ssl.SSLContext | None,
    has_transport: bool,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Resolve and check a client's settings; ``env`` defaults to ``os.environ``."""
    environ = os.environ if env is None else env
    if has_transport and verify is not None:
        raise ConfigurationError(
            "verify= has no effect when transport= is given (the transport makes the "
            "connections); configure TLS on the transport instead."
        )
    return ClientConfig(
        credentials=resolve_credentials(client_key, client_id, client_secret, environ),
        base_url=resolve_base_url(base_url, environ),
        timeout=resolve_timeout(timeout),
        retry=resolve_retry_policy(max_retries, retry),
        verify=resolve_verify(verify),
    )
