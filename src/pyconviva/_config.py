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
import re
import ssl
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx2

from pyconviva._exceptions import ConfigurationError
from pyconviva._retry import DEFAULT_MAX_RETRIES, RetryPolicy

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
# A request path the base URL is checked with: requests are the base URL plus such a path.
_SAMPLE_PATH = "/insights/3.0/metrics"
_EXAMPLES = f"{DEFAULT_BASE_URL!r} or 'https://proxy.example.com/conviva'"
# Letters, digits, '-' and '_' (any script, for internationalised names) in dot-separated labels.
_HOST_NAME = re.compile(r"[\w-]+(?:\.[\w-]+)*\.?")
# Control and format characters, lone surrogates and separators: none can travel in a URL,
# and format characters (zero-width spaces, direction overrides) hide what a URL says.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Zs"})
_CHARACTER_NAMES = {
    "\t": "a tab",
    "\n": "a line break (\\n)",
    "\r": "a carriage return (\\r)",
    " ": "a space",
}
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
    emulator may speak plain HTTP. The URL may carry a port and a path prefix, but no user
    name or password (no ``@``), query (``?``) or fragment (``#``), and no whitespace or
    control character inside it; surrounding whitespace is dropped. Returned without a
    trailing slash. A key is sometimes pasted into a URL, so error messages name the setting
    and what is wrong, and show at most the scheme and host, never what follows the host.
    """
    if base_url is not None:
        url, name = base_url, "base_url"
    elif env.get(ENV_BASE_URL):
        url, name = env[ENV_BASE_URL], ENV_BASE_URL
    else:
        return DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise ConfigurationError(f"base_url must be a string, got {type(url).__name__}")
    url = url.strip()
    problem = _base_url_problem(url)
    if problem is not None:
        raise ConfigurationError(f"{name} {problem}")
    return url.rstrip("/")


def _base_url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as the API root, phrased to follow the setting's name."""
    for character in url:
        if _is_invisible(character):
            return (
                f"contains {_character_name(character)}, which a URL cannot hold; remove it "
                "(it often comes along when a value is copied from a file or a terminal)"
            )
    if "@" in url:
        return (
            "contains '@', which marks a user name or password in a URL; pass the "
            f"credentials as client_id= and client_key= (or {ENV_CLIENT_ID} and "
            f"{ENV_CLIENT_KEY}) instead"
        )
    for mark, part in (("?", "a query string"), ("#", "a fragment")):
        if mark in url:
            return (
                f"contains '{mark}', which starts {part}; each request appends its own path "
                f"and query, so give only the API root, such as {_EXAMPLES}"
            )
    # Checked as requests will use it (base URL + endpoint path), with the parser that sends.
    request_url = _parse(url.rstrip("/") + _SAMPLE_PATH)
    if request_url is None:
        return (
            f"is not a valid URL; give the API root, such as {_EXAMPLES} (a port, if any, "
            "is a number after the host)"
        )
    if request_url.scheme not in ("https", "http"):
        return f"must be an absolute URL starting with https://, such as {_EXAMPLES}"
    if not _is_host(request_url.host):
        return f"has no valid host name after the scheme; give one such as {_EXAMPLES}"
    if request_url.port is not None and not 0 < request_url.port < 2**16:
        return "is not a valid URL: its port must be a number from 1 to 65535"
    if request_url.scheme == "http" and not _is_loopback(request_url.host):
        return (
            f"{_origin(request_url)} uses plain http:// to a non-loopback host, which would "
            "send the credentials unencrypted. Use https://; plain http is accepted only for "
            "127.0.0.0/8, ::1 and localhost (a local emulator)."
        )
    return None


def _is_invisible(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) in _INVISIBLE_CATEGORIES


def _character_name(character: str) -> str:
    known = _CHARACTER_NAMES.get(character)
    if known is not None:
        return known
    name = unicodedata.name(character, "")
    return f"the invisible character U+{ord(character):04X}" + (f" ({name})" if name else "")


def _parse(url: str) -> httpx2.URL | None:
    # httpx2's message quotes the offending part (a port, say), which may be a pasted key:
    # it is dropped, and the refusal is raised outside this handler so no chain carries it.
    try:
        return httpx2.URL(url)
    except httpx2.InvalidURL:
        return None


def _is_host(host: str) -> bool:
    if _HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _origin(url: httpx2.URL) -> str:
    return f"'{url.scheme}://{url.host}/...'"


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_verify(
    verify: object, env: Mapping[str, str] | None = None
) -> ssl.SSLContext | Literal[True]:
    """The TLS verification setting for httpx2; verification cannot be switched off.

    ``None`` means the default trust store, or the CA bundle named by ``SSL_CERT_FILE``
    (else the directory named by ``SSL_CERT_DIR``) in ``env``. They are read here rather
    than by httpx2 because a client to a loopback host does not let httpx2 read the
    environment (see :attr:`ClientConfig.trust_env`). A path names a CA bundle file (or a
    directory of hashed certificates) to trust instead; an ``ssl.SSLContext`` is used as
    given but must verify certificates and host names.
    """
    if verify is None:
        return _trust_store_from(env or {})
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
        return _trust_store_at(Path(verify), "verify=")
    raise ConfigurationError(
        f"verify must be a CA bundle path or an ssl.SSLContext, got {type(verify).__name__}"
    )


def _trust_store_from(env: Mapping[str, str]) -> ssl.SSLContext | Literal[True]:
    # The same order as httpx2's default: SSL_CERT_FILE, then SSL_CERT_DIR.
    if cafile := env.get("SSL_CERT_FILE"):
        return _trust_store_at(Path(cafile), "SSL_CERT_FILE=")
    if capath := env.get("SSL_CERT_DIR"):
        return _trust_store_at(Path(capath), "SSL_CERT_DIR=")
    return True


def _trust_store_at(path: Path, setting: str) -> ssl.SSLContext:
    if path.is_dir():
        return ssl.create_default_context(capath=path)
    if path.is_file():
        return ssl.create_default_context(cafile=path)
    raise ConfigurationError(f"{setting}{str(path)!r}: no CA bundle file or directory at that path")


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

    @property
    def trust_env(self) -> bool:
        """Whether httpx2 may take settings (proxies) from the environment: not for loopback.

        A loopback base URL is a local emulator or test server, reached directly: through an
        environment proxy (``HTTP_PROXY``, ``ALL_PROXY``), a plain-http request would carry
        the credentials off the machine in clear text. Remote hosts are https only and keep
        the documented environment proxies (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``).
        """
        return not _is_loopback(httpx2.URL(self.base_url).host)


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
        # A transport makes its own connections: the environment's CA settings do not apply.
        verify=resolve_verify(verify, {} if has_transport else environ),
    )
