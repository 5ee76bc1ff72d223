"""Client configuration: credentials and their fallbacks, base URL safety, TLS, timeouts."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx2
import pytest
import trustme

from pyconviva import ConfigurationError, RetryPolicy
from pyconviva._config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    ClientConfig,
    Credentials,
    load_config,
    resolve_base_url,
    resolve_credentials,
    resolve_retry_policy,
    resolve_timeout,
    resolve_verify,
)

KEY = "s3cret-key-value"


def test_positional_order_is_key_then_id_as_in_the_seed_readme() -> None:
    credentials = resolve_credentials(KEY, "my-id", None, {})
    assert (credentials.client_id, credentials.client_key) == ("my-id", KEY)


def test_client_secret_is_another_name_for_the_key() -> None:
    credentials = resolve_credentials(None, "my-id", KEY, {})
    assert credentials.client_key == KEY


def test_giving_both_client_key_and_client_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="client_key and client_secret"):
        resolve_credentials(KEY, "my-id", "other", {})


def test_missing_arguments_fall_back_to_the_environment() -> None:
    env = {"CONVIVA_CLIENT_ID": "env-id", "CONVIVA_CLIENT_KEY": "env-key"}
    credentials = resolve_credentials(None, None, None, env)
    assert (credentials.client_id, credentials.client_key) == ("env-id", "env-key")
    assert credentials.id_source == "environment variable CONVIVA_CLIENT_ID"


def test_conviva_client_secret_env_var_is_read_too() -> None:
    env = {"CONVIVA_CLIENT_ID": "env-id", "CONVIVA_CLIENT_SECRET": "env-secret"}
    assert resolve_credentials(None, None, None, env).client_key == "env-secret"


def test_conflicting_key_env_vars_are_refused() -> None:
    env = {"CONVIVA_CLIENT_ID": "i", "CONVIVA_CLIENT_KEY": "a", "CONVIVA_CLIENT_SECRET": "b"}
    with pytest.raises(ConfigurationError, match="CONVIVA_CLIENT_SECRET"):
        resolve_credentials(None, None, None, env)


def test_arguments_win_over_the_environment_field_by_field() -> None:
    env = {"CONVIVA_CLIENT_ID": "env-id", "CONVIVA_CLIENT_KEY": "env-key"}
    credentials = resolve_credentials(KEY, None, None, env)
    assert (credentials.client_id, credentials.client_key) == ("env-id", KEY)


def test_no_credentials_anywhere_names_both_ways_to_give_them() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_credentials(None, None, None, {})
    message = str(caught.value)
    assert "client_id=" in message
    assert "client_key=" in message
    assert "CONVIVA_CLIENT_ID" in message
    assert "CONVIVA_CLIENT_KEY" in message


def test_only_the_missing_half_is_named() -> None:
    with pytest.raises(ConfigurationError, match=r"\(client_key\)"):
        resolve_credentials(None, "my-id", None, {})


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_credentials_are_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="client_id is empty"):
        resolve_credentials(KEY, value, None, {})


def test_non_string_credentials_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="client_key must be a string"):
        resolve_credentials(1234, "id", None, {})  # type: ignore[arg-type]


def test_an_id_with_a_colon_is_refused_because_basic_auth_cannot_carry_it() -> None:
    with pytest.raises(ConfigurationError, match="':'"):
        resolve_credentials(KEY, "id:key", None, {})


def test_credentials_repr_and_str_mask_the_key_and_most_of_the_id() -> None:
    credentials = Credentials("my-client-id", KEY)
    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert KEY not in text
        assert "client_id='my-c'… (12 chars)" in text
        assert "key=***" in text


def test_a_key_passed_as_the_id_by_mistake_is_not_shown_either() -> None:
    swapped = Credentials(client_id=KEY, client_key="the-real-id")
    assert KEY not in repr(swapped)
    assert KEY not in swapped.masked_id


def test_authorization_header_is_http_basic_of_id_and_key() -> None:
    # The docs' own example pair (reference §1).
    credentials = Credentials("abcdefghij", "z1y2x3w4v5u6t7s8r9q0p")
    assert credentials.authorization() == "Basic YWJjZGVmZ2hpajp6MXkyeDN3NHY1dTZ0N3M4cjlxMHA="


def test_base_url_defaults_to_the_public_api() -> None:
    assert resolve_base_url(None, {}) == DEFAULT_BASE_URL == "https://api.conviva.com"


def test_base_url_comes_from_the_environment_when_not_given() -> None:
    env = {"CONVIVA_BASE_URL": "https://proxy.example.com/conviva/"}
    assert resolve_base_url(None, env) == "https://proxy.example.com/conviva"
    assert resolve_base_url("https://other.example.com", env) == "https://other.example.com"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:5000",
        "http://LOCALHOST",
        "http://[::1]:9000",
    ],
)
def test_plain_http_is_allowed_for_loopback_hosts(url: str) -> None:
    assert resolve_base_url(url, {}) == url


@pytest.mark.parametrize(
    "url",
    ["http://api.conviva.com", "http://10.0.0.1", "http://128.0.0.1", "http://localhost.evil.com"],
)
def test_plain_http_to_other_hosts_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="unencrypted"):
        resolve_base_url(url, {})


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://api.conviva.com", "https://"),
        ("api.conviva.com", "https://"),
        ("https://", "https://"),
        ("https://id:key@api.conviva.com", "user name or password"),
        ("https://api.conviva.com?x=1", "query"),
        ("https://api.conviva.com:99999", "not a valid URL"),
    ],
)
def test_malformed_base_urls_are_refused(url: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_base_url(url, {})
    assert fragment in str(caught.value)


def test_a_base_url_with_credentials_does_not_echo_them() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_base_url(f"https://id:{KEY}@api.conviva.com", {})
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("character", "described_as"),
    [
        ("\t", "a tab"),
        ("\n", "a line break"),
        ("\r", "a carriage return"),
        (" ", "a space"),
        ("\x00", "U+0000"),
        ("\x7f", "U+007F"),
        ("\x85", "U+0085"),
        ("\u00a0", "U+00A0 (NO-BREAK SPACE)"),
        ("\u200b", "U+200B (ZERO WIDTH SPACE)"),
        ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("\u2028", "U+2028 (LINE SEPARATOR)"),
        ("\ud800", "U+D800"),
    ],
)
@pytest.mark.parametrize(
    "template",
    ["https://api.con{}viva.com", "https://api.conviva.com{}/x", "https://api.conviva.com/x{}y"],
)
def test_whitespace_and_control_characters_inside_a_base_url_are_named_and_refused(
    character: str, described_as: str, template: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_base_url(template.format(character), {})
    message = str(caught.value)
    assert message.startswith("base_url contains ")
    assert described_as in message
    assert "remove it" in message


def test_whitespace_around_a_base_url_is_dropped() -> None:
    assert resolve_base_url(" \thttps://api.conviva.com/conviva/\n", {}) == (
        "https://api.conviva.com/conviva"
    )


@pytest.mark.parametrize(
    ("url", "starts"),
    [
        ("https://api.conviva.com/conviva?", "a query string"),
        ("https://api.conviva.com?", "a query string"),
        ("https://api.conviva.com/conviva#", "a fragment"),
        ("https://api.conviva.com#/insights", "a fragment"),
    ],
)
def test_a_query_or_fragment_even_an_empty_one_is_refused_with_the_fix(
    url: str, starts: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_base_url(url, {})
    message = str(caught.value)
    assert f"which starts {starts}" in message
    assert "give only the API root, such as 'https://api.conviva.com'" in message


@pytest.mark.parametrize(
    "url",
    [
        "https://id@api.conviva.com",
        "https://id:123/rest-of-key@api.conviva.com",
        "https://id:key#rest@api.conviva.com",
        "https://api.conviva.com/prefix@x",
    ],
)
def test_any_at_sign_is_refused_as_credentials_which_belong_in_client_id_and_key(
    url: str,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_base_url(url, {})
    message = str(caught.value)
    assert "client_id= and client_key=" in message
    assert "CONVIVA_CLIENT_ID" in message


def test_the_message_names_the_environment_variable_when_the_url_came_from_there() -> None:
    with pytest.raises(ConfigurationError, match=r"^CONVIVA_BASE_URL contains a tab"):
        resolve_base_url(None, {"CONVIVA_BASE_URL": "https://api.conviva.com/\tx"})
    with pytest.raises(ConfigurationError, match=r"^base_url contains a tab"):
        resolve_base_url("https://api.conviva.com/\tx", {"CONVIVA_BASE_URL": "https://x.com"})


@pytest.mark.parametrize(
    "url",
    [
        "https://api.conviva.com:SEKRETport",
        "https://api.conviva.com:0",
        "https://api.conviva.com:65536",
        "https://api.conviva.com:80:SEKRET",
    ],
)
def test_a_bad_port_is_refused_without_quoting_it_or_chaining_the_parser_error(
    url: str,
) -> None:
    with pytest.raises(ConfigurationError, match="not a valid URL") as caught:
        resolve_base_url(url, {})
    message = str(caught.value)
    assert "SEKRET" not in message
    assert url.rsplit(":", 1)[1] not in message
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


@pytest.mark.parametrize(
    "url",
    [
        "https://api.conviva.com\\evil.example",
        "https://a..b",
        "https://%61pi.example",
        "https://:8443",
    ],
)
def test_a_base_url_without_a_valid_host_name_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="no valid host name"):
        resolve_base_url(url, {})


@pytest.mark.parametrize(
    "url",
    [
        "https://api.conviva.com:8443/conviva",
        "https://münchen.example",
        "https://api_gw.internal.example.",
        "HTTPS://API.CONVIVA.COM",
        "https://[2001:db8::1]:8443",
    ],
)
def test_ports_path_prefixes_and_unusual_but_valid_hosts_are_accepted(url: str) -> None:
    assert resolve_base_url(url, {}) == url


def config_for(base_url: str, env: dict[str, str] | None = None) -> ClientConfig:
    return load_config(
        KEY,
        "id",
        client_secret=None,
        base_url=base_url,
        timeout=30.0,
        max_retries=3,
        retry=None,
        verify=None,
        has_transport=False,
        env=env or {},
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "https://127.0.0.1:8443",
        "http://127.8.9.10/prefix",
        "http://localhost:5000",
        "https://LOCALHOST",
        "http://[::1]:9000",
    ],
)
def test_a_loopback_base_url_does_not_trust_the_environment_so_no_proxy_is_used(
    url: str,
) -> None:
    assert config_for(url).trust_env is False


@pytest.mark.parametrize(
    "url", ["https://api.conviva.com", "https://10.0.0.1:8443", "https://localhost.example.com"]
)
def test_a_remote_base_url_keeps_the_documented_environment_proxies(url: str) -> None:
    assert config_for(url).trust_env is True


@pytest.mark.parametrize("value", [True, False])
def test_verify_booleans_are_refused_because_verification_cannot_be_switched_off(
    value: bool,
) -> None:
    with pytest.raises(ConfigurationError, match="cannot be switched off"):
        resolve_verify(value)


def test_verify_default_uses_httpx2_trust_store_which_honours_ssl_cert_file() -> None:
    assert resolve_verify(None) is True


def test_verify_accepts_a_ca_bundle_path(tmp_path: Path) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    context = resolve_verify(str(bundle))
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.get_ca_certs()  # the bundle's CA was loaded
    assert isinstance(resolve_verify(bundle), ssl.SSLContext)  # a Path works too


def test_default_verify_reads_ssl_cert_file_then_ssl_cert_dir_from_the_environment(
    tmp_path: Path,
) -> None:
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    from_file = resolve_verify(None, {"SSL_CERT_FILE": str(bundle), "SSL_CERT_DIR": "/nowhere"})
    assert isinstance(from_file, ssl.SSLContext)
    assert from_file.get_ca_certs()
    from_dir = resolve_verify(None, {"SSL_CERT_DIR": str(tmp_path)})
    assert isinstance(from_dir, ssl.SSLContext)
    assert resolve_verify(None, {"SSL_CERT_FILE": ""}) is True
    assert isinstance(
        config_for("https://127.0.0.1", {"SSL_CERT_FILE": str(bundle)}).verify, ssl.SSLContext
    )


def test_an_ssl_cert_file_that_does_not_exist_is_named_in_the_refusal(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^SSL_CERT_FILE=.*no CA bundle"):
        resolve_verify(None, {"SSL_CERT_FILE": str(tmp_path / "missing.pem")})


def test_verify_path_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no CA bundle"):
        resolve_verify(str(tmp_path / "missing.pem"))


def test_verify_accepts_a_verifying_ssl_context() -> None:
    context = ssl.create_default_context()
    assert resolve_verify(context) is context


def test_verify_refuses_a_context_that_skips_verification() -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(ConfigurationError, match="cannot be switched off"):
        resolve_verify(context)


def test_verify_refuses_other_types() -> None:
    with pytest.raises(ConfigurationError, match=r"CA bundle path or an ssl\.SSLContext"):
        resolve_verify(42)


def test_timeout_seconds_apply_to_every_phase() -> None:
    timeout = resolve_timeout(12)
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (12.0,) * 4


def test_timeout_object_is_used_as_given() -> None:
    given = httpx2.Timeout(5.0, connect=1.0)
    assert resolve_timeout(given) is given


@pytest.mark.parametrize("value", [0, -1, float("inf"), True, "30"])
def test_bad_timeouts_are_refused(value: object) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        resolve_timeout(value)  # type: ignore[arg-type]


def test_max_retries_shapes_the_default_policy() -> None:
    assert resolve_retry_policy(5, None) == RetryPolicy(max_retries=5)


def test_a_retry_policy_wins_and_contradicting_max_retries_is_refused() -> None:
    policy = RetryPolicy(max_retries=1, total_timeout=5.0)
    assert resolve_retry_policy(DEFAULT_MAX_RETRIES, policy) is policy
    assert resolve_retry_policy(1, policy) is policy
    with pytest.raises(ConfigurationError, match="contradicts"):
        resolve_retry_policy(7, policy)


def test_verify_with_a_custom_transport_is_refused_as_it_would_be_ignored() -> None:
    with pytest.raises(ConfigurationError, match="transport"):
        load_config(
            KEY,
            "id",
            client_secret=None,
            base_url=None,
            timeout=30.0,
            max_retries=3,
            retry=None,
            verify=ssl.create_default_context(),
            has_transport=True,
            env={},
        )


def test_ssl_cert_file_is_not_read_when_a_transport_makes_the_connections(
    tmp_path: Path,
) -> None:
    config = load_config(
        KEY,
        "id",
        client_secret=None,
        base_url=None,
        timeout=30.0,
        max_retries=3,
        retry=None,
        verify=None,
        has_transport=True,
        env={"SSL_CERT_FILE": str(tmp_path / "stale.pem")},
    )
    assert config.verify is True


def test_load_config_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVIVA_CLIENT_ID", "env-id")
    monkeypatch.setenv("CONVIVA_CLIENT_KEY", KEY)
    monkeypatch.setenv("CONVIVA_BASE_URL", "http://127.0.0.1:9")
    config = load_config(
        None,
        None,
        client_secret=None,
        base_url=None,
        timeout=30.0,
        max_retries=3,
        retry=None,
        verify=None,
        has_transport=False,
    )
    assert config.credentials.client_id == "env-id"
    assert config.base_url == "http://127.0.0.1:9"
    assert KEY not in repr(config)
