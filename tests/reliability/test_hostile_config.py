"""Hostile configuration: proxies from the environment, secrets pasted into the base URL, and
base URLs no request can be sent to.

- A loopback base URL never goes through a proxy, so plain-http credentials never leave the
  machine; https to a remote host still uses the environment's proxy, as documented. A real
  loopback "proxy" records every byte that reaches it.
- A refused base URL never echoes what follows its host: a distinctive secret placed in the
  user info, port, path, query or fragment (joined by any characters at all) is searched for in
  the error, its chain, its traceback, every log record and the CLI's output.
- Any string as a base URL is refused at construction, or every request goes to that host and
  path with no query or fragment of its own: never a raw ``InvalidURL`` at the first request.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import socket
import socketserver
import string
import threading
import traceback
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from pyconviva import (
    APIConnectionError,
    AsyncConvivaAPI,
    ConfigurationError,
    ConvivaAPI,
)
from pyconviva.cli.commands import app
from pyconviva.emulator import Emulator

pytestmark = pytest.mark.hostile  # the hostile suite runs as its own CI step

NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=timezone.utc)
CLIENT_ID = "hostile-config-id"
KEY = "KEYvv3HOSTILE8pp"  # distinctive: found only if it leaked
TOKEN = base64.b64encode(f"{CLIENT_ID}:{KEY}".encode()).decode()
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


# ------------------------------------------------------------------------------ proxies


class RecordingListener:
    """A loopback TCP listener that keeps every byte it receives and answers each request
    head with ``502``: a stand-in for a proxy (or a server) that must or must not be reached."""

    def __init__(self) -> None:
        received: list[bytes] = []
        self.received = received

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                connection: socket.socket = self.request
                connection.settimeout(1)
                data = b""
                # Up to the end of a request head, or a pause (a TLS hello waits for a reply).
                with contextlib.suppress(TimeoutError):
                    while b"\r\n\r\n" not in data and (chunk := connection.recv(65536)):
                        data += chunk
                received.append(data)
                with contextlib.suppress(OSError):
                    connection.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def everything(self) -> bytes:
        return b"".join(self.received)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def proxy() -> Iterator[RecordingListener]:
    listener = RecordingListener()
    yield listener
    listener.close()


@pytest.fixture
def no_env_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment without any proxy setting (both spellings), to be set per test."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)  # CGI: urllib then ignores HTTP_PROXY
    return monkeypatch


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(now=NOW, client_id=CLIENT_ID, client_key=KEY)


def assert_nothing_secret_in(data: bytes) -> None:
    for secret in (KEY, TOKEN):
        assert secret.encode() not in data
    assert b"authorization" not in data.lower()


@pytest.mark.network
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "all_proxy"])
def test_a_plain_http_loopback_base_url_never_goes_through_an_environment_proxy(
    variable: str,
    proxy: RecordingListener,
    no_env_proxies: pytest.MonkeyPatch,
    emulator: Emulator,
) -> None:
    no_env_proxies.setenv(variable, proxy.url)
    with (
        emulator.serve() as served,
        ConvivaAPI(KEY, CLIENT_ID, base_url=served, max_retries=0) as api,
    ):
        assert api.get_kpis()["kpis"]
    assert proxy.received == []


@pytest.mark.network
async def test_an_async_client_on_loopback_never_goes_through_an_environment_proxy(
    proxy: RecordingListener, no_env_proxies: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    no_env_proxies.setenv("ALL_PROXY", proxy.url)
    with emulator.serve() as served:
        async with AsyncConvivaAPI(KEY, CLIENT_ID, base_url=served, max_retries=0) as api:
            assert (await api.get_kpis())["kpis"]
    assert proxy.received == []


@pytest.mark.network
def test_an_https_loopback_base_url_connects_directly_despite_an_environment_proxy(
    proxy: RecordingListener, no_env_proxies: pytest.MonkeyPatch
) -> None:
    no_env_proxies.setenv("HTTPS_PROXY", proxy.url)
    no_env_proxies.setenv("ALL_PROXY", proxy.url)
    server = RecordingListener()  # not TLS: the handshake fails, after connecting directly
    try:
        base_url = f"https://127.0.0.1:{server.port}"
        with (
            ConvivaAPI(KEY, CLIENT_ID, base_url=base_url, max_retries=0) as api,
            pytest.raises(APIConnectionError),
        ):
            api.get_kpis()
        assert server.received, "the client did not connect to the loopback server itself"
    finally:
        server.close()
    assert proxy.received == []


@pytest.mark.network
@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "ALL_PROXY"])
def test_https_to_a_remote_host_uses_the_environment_proxy_which_sees_only_a_tunnel_request(
    variable: str, proxy: RecordingListener, no_env_proxies: pytest.MonkeyPatch
) -> None:
    no_env_proxies.setenv(variable, proxy.url)
    with (
        ConvivaAPI(KEY, CLIENT_ID, base_url="https://api.conviva.example", max_retries=0) as api,
        pytest.raises(APIConnectionError),
    ):
        api.get_kpis()
    assert proxy.received
    assert proxy.received[0].startswith(b"CONNECT api.conviva.example:443 ")
    assert_nothing_secret_in(proxy.everything())


# ------------------------------------------------------------------------------ secrets in URLs

MARK = "ZQ"  # starts every piece of a generated secret; no message of ours contains it
SECRET_PIECES = st.text(string.ascii_letters + string.digits, min_size=2, max_size=8).map(
    lambda tail: MARK + tail
)
# What a pasted key may hold between its letters: URL delimiters first, then anything at all.
SEPARATORS = st.one_of(
    st.sampled_from(list("/?#@:;%&=+[]\\.!$'()*,~\"<>^`{|} \t\r\n\x00\x7f")),
    st.characters(exclude_categories=["L", "N"]),
)
SECRET_POSITIONS = {
    "user": "https://{}@api.conviva.com",
    "password": "https://my-client-id:{}@api.conviva.com",
    "port": "https://api.conviva.com:{}",
    "port after digits": "https://api.conviva.com:44{}",
    "path": "https://api.conviva.com/conviva/{}",
    "query": "https://api.conviva.com/conviva?key={}",
    "fragment": "https://api.conviva.com#{}",
}


@st.composite
def secrets(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A secret of distinctive pieces joined by arbitrary characters, and its pieces."""
    pieces = draw(st.lists(SECRET_PIECES, min_size=1, max_size=4))
    text = pieces[0]
    for piece in pieces[1:]:
        text += draw(st.text(SEPARATORS, min_size=1, max_size=3)) + piece
    return text, pieces


class RecordedLogs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def every_log_record() -> Iterator[RecordedLogs]:
    """Every record of every logger at DEBUG for the block (hypothesis forbids ``caplog``)."""
    root = logging.getLogger()
    handler, level = RecordedLogs(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def everything_shown(error: BaseException, logs: RecordedLogs) -> str:
    """The error's text, repr, traceback and whole chain, and every log record."""
    parts = [*traceback.format_exception(error)]
    current: BaseException | None = error
    while current is not None:
        parts += [str(current), repr(current), repr(vars(current))]
        current = current.__cause__ or current.__context__
    for record in logs.records:
        parts += [record.getMessage(), repr(vars(record))]
    return "\n".join(parts)


def environment_can_hold(text: str) -> bool:
    try:
        os.fsencode(text)
    except UnicodeError:
        return False
    return "\x00" not in text


@settings(max_examples=400, deadline=None)
@given(
    position=st.sampled_from(sorted(SECRET_POSITIONS)),
    secret=secrets(),
    from_environment=st.booleans(),
)
@example(position="port", secret=("ZQsekret", ["ZQsekret"]), from_environment=True)
@example(position="password", secret=("ZQab/ZQcd", ["ZQab", "ZQcd"]), from_environment=False)
@example(position="password", secret=("ZQab#ZQcd", ["ZQab", "ZQcd"]), from_environment=False)
@example(position="password", secret=("ZQab?ZQcd", ["ZQab", "ZQcd"]), from_environment=False)
@example(position="password", secret=("12/ZQcd", ["ZQcd"]), from_environment=False)
def test_a_secret_after_the_host_never_shows_when_the_base_url_is_refused(
    position: str, secret: tuple[str, list[str]], from_environment: bool
) -> None:
    text, pieces = secret
    url = SECRET_POSITIONS[position].format(text)
    from_environment = from_environment and environment_can_hold(url)
    with every_log_record() as logs, pytest.MonkeyPatch.context() as patch:
        try:
            if from_environment:
                patch.setenv("CONVIVA_BASE_URL", url)
                ConvivaAPI(KEY, CLIENT_ID).close()
            else:
                ConvivaAPI(KEY, CLIENT_ID, base_url=url).close()
        except ConfigurationError as error:
            shown = everything_shown(error, logs).casefold()
        else:
            # Only a path can hold such text and still be a base URL (a proxy's prefix).
            assert position == "path"
            event("accepted (a path prefix)")
            return
    event(f"refused: secret in the {position}")
    assert MARK.casefold() not in shown
    for piece in pieces:
        assert piece.casefold() not in shown


@pytest.mark.parametrize(
    "url",
    [
        "https://api.conviva.com:ZQsekret1",
        f"https://{CLIENT_ID}:ZQab/ZQcd@api.conviva.com",
        f"https://{CLIENT_ID}:ZQab#ZQcd@api.conviva.com",
    ],
)
def test_the_cli_names_the_variable_but_never_echoes_a_secret_pasted_into_it(
    url: str, tmp_path: Path
) -> None:
    env = {
        "PYCONVIVA_CONFIG": str(tmp_path / "absent.toml"),
        "CONVIVA_CLIENT_ID": CLIENT_ID,
        "CONVIVA_CLIENT_KEY": KEY,
        "CONVIVA_CLIENT_SECRET": None,
        "CONVIVA_BASE_URL": url,
    }
    outcome = CliRunner().invoke(app, ["kpis"], env=env, catch_exceptions=False)
    assert outcome.exit_code == 2
    output = outcome.stdout + outcome.stderr
    assert "CONVIVA_BASE_URL" in output
    assert "ZQ" not in output
    assert KEY not in output


# ------------------------------------------------------------------------------ unusable base URLs

HOSTS = st.one_of(
    st.sampled_from(["api.conviva.com", "127.0.0.1", "[::1]", "localhost", "münchen.example"]),
    st.from_regex(r"[a-z0-9_-]{1,8}(\.[a-z0-9-]{1,8}){0,2}\.?", fullmatch=True),
    st.text(max_size=12),
)
PATHS = st.one_of(
    st.sampled_from(["", "/", "/conviva", "/a/b/", "/%41", "/é", "/a/../b", "//x"]),
    st.text(st.characters(codec="ascii"), max_size=12).map(lambda path: "/" + path),
    st.text(max_size=12).map(lambda path: "/" + path),
    st.text(max_size=12),
)
BASE_URLS = st.one_of(
    st.builds(
        "{}{}{}{}".format,
        st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", ""]),
        HOSTS,
        st.sampled_from(["", "", ":8443", ":", ":0", ":65536", ":+80"]),
        PATHS,
    ),
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(url=BASE_URLS)
@example(url="https://api.conviva.com/insights?")
@example(url="https://api.conviva.com/insights#")
@example(url="https://api.conviva.com/\tinsights")
@example(url="https://api.conv\riva.com")
@example(url="https://api.conviva.com\\evil.example")
@example(url="https://id:123/ZQ@api.conviva.com")
def test_a_base_url_is_refused_at_construction_or_every_request_goes_to_its_host_and_path(
    url: str,
) -> None:
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, json={"kpis": [{"id": 1, "name": "Good"}]})

    try:
        api = ConvivaAPI(KEY, CLIENT_ID, base_url=url, transport=httpx2.MockTransport(handler))
    except ConfigurationError:
        event("refused")
        return
    event("accepted")
    with api:
        api.get_kpis()
    [request] = sent
    base = httpx2.URL(api.base_url)
    assert request.url.host == base.host
    assert request.url.port == base.port
    assert request.url.raw_path.endswith(b"/insights/3.0/kpis")
    assert request.url.query == b""
    assert request.url.fragment == ""
