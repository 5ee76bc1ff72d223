"""The client key never shows: not in reprs, exception text, tracebacks or log records."""

from __future__ import annotations

import base64
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest

from pyconviva import (
    APIConnectionError,
    APIStatusError,
    AsyncConvivaAPI,
    ConfigurationError,
    ConvivaAPI,
    ConvivaError,
    RetryPolicy,
)
from pyconviva._config import load_config
from pyconviva.testing import VirtualClock

KEY = "Zq9-secret-key-Xw7"
CLIENT_ID = "visible-client-id"
TOKEN = base64.b64encode(f"{CLIENT_ID}:{KEY}".encode()).decode()
SECRETS = (KEY, TOKEN)
OK_BODY = {"kpis": [{"id": 1, "name": "Conviva Good"}]}


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def full_text(error: BaseException) -> str:
    """Everything a user could see of an error: str, repr, traceback with causes."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def test_client_reprs_show_the_id_and_mask_the_key() -> None:
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json=OK_BODY))
    with ConvivaAPI(KEY, CLIENT_ID, transport=transport) as api:
        for text in (repr(api), str(api)):
            assert_no_secret(text)
            assert "'visi'… (17 chars)" in text
            assert "key=***" in text
    async_api = AsyncConvivaAPI(client_id=CLIENT_ID, client_secret=KEY, transport=transport)
    assert_no_secret(repr(async_api))
    assert "key=***" in repr(async_api)


def test_resolved_configuration_repr_masks_the_key() -> None:
    config = load_config(
        KEY,
        CLIENT_ID,
        client_secret=None,
        base_url=None,
        timeout=30.0,
        max_retries=3,
        retry=None,
        verify=None,
        has_transport=False,
        env={},
    )
    assert_no_secret(repr(config))
    assert_no_secret(str(config.credentials))


@pytest.mark.parametrize(
    "arguments",
    [
        {"client_key": KEY, "client_secret": KEY + "2", "client_id": CLIENT_ID},
        {"client_key": KEY, "client_id": CLIENT_ID, "base_url": f"https://u:{KEY}@x.example"},
        {"client_key": KEY, "client_id": CLIENT_ID, "base_url": f"http://example.com/{KEY}"},
        {"client_key": KEY, "client_id": CLIENT_ID, "verify": False},
        {"client_key": KEY, "client_id": f"{CLIENT_ID}:{KEY}"},
        {"client_key": KEY},
    ],
)
def test_configuration_errors_do_not_echo_the_key(
    arguments: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_KEY", "CONVIVA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        ConvivaAPI(**arguments)  # type: ignore[arg-type]
    assert_no_secret(full_text(caught.value))


@pytest.mark.parametrize(
    "failure",
    [
        httpx2.Response(401, json={"message": "Unauthorized"}),
        httpx2.Response(404, json={"name": "NotFound", "message": "Unknown metric"}),
        httpx2.Response(503, text="upstream down"),
        httpx2.ConnectError("connection refused"),
        httpx2.ReadTimeout("timed out"),
    ],
    ids=lambda f: getattr(f, "status_code", type(f).__name__),
)
def test_errors_and_their_tracebacks_never_carry_the_key(
    failure: httpx2.Response | Exception, clock: VirtualClock
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if isinstance(failure, Exception):
            raise failure
        return failure

    with (
        ConvivaAPI(
            KEY,
            CLIENT_ID,
            transport=httpx2.MockTransport(handler),
            retry=RetryPolicy(max_retries=1),
            clock=clock,
        ) as api,
        pytest.raises(ConvivaError) as caught,
    ):
        api.get_historical_data("atempts", group_by="isp")
    assert isinstance(caught.value, (APIStatusError, APIConnectionError))
    assert_no_secret(full_text(caught.value))
    assert_no_secret(repr(vars(caught.value)))


def test_a_key_given_in_the_id_position_does_not_leak_through_repr_or_401() -> None:
    """pyconviva 0.1.0's own signature was (client_id, client_key): callers may swap them."""
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(401, json={"message": "Unauthorized"})
    )
    with ConvivaAPI(CLIENT_ID, KEY, transport=transport) as api:  # swapped on purpose
        assert_no_secret(repr(api))
        with pytest.raises(APIStatusError) as caught:
            api.get_kpis()
    assert_no_secret(full_text(caught.value))
    assert "ConvivaAPI(client_key, client_id)" in str(caught.value)


class _FlakyHandler(BaseHTTPRequestHandler):
    """Fails the first request of each connection set with 503, then answers."""

    calls = 0
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            type(self).calls += 1
            first = type(self).calls == 1
        body = b'{"message": "busy"}' if first else b'{"kpis": []}'
        self.send_response(503 if first else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args  # keep the test output clean


@pytest.fixture
def loopback_url() -> Iterator[str]:
    _FlakyHandler.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FlakyHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.network
def test_debug_logs_of_a_real_exchange_with_a_retry_hold_no_secret(
    loopback_url: str, caplog: pytest.LogCaptureFixture, clock: VirtualClock
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: pyconviva, httpx2, httpcore2
    with ConvivaAPI(KEY, CLIENT_ID, base_url=loopback_url, clock=clock) as api:
        assert api.get_kpis()["kpis"] == []
    messages = [record.getMessage() for record in caplog.records]
    assert any("Retrying GET" in message for message in messages)
    assert any(record.name.startswith("httpcore") for record in caplog.records)
    for record in caplog.records:
        assert_no_secret(record.getMessage())
        assert_no_secret(repr(vars(record)))


def test_debug_logs_through_a_transport_hold_no_secret(
    caplog: pytest.LogCaptureFixture, clock: VirtualClock
) -> None:
    replies = iter([httpx2.Response(500), httpx2.Response(401, json={"message": "Unauthorized"})])
    handler: Callable[[httpx2.Request], httpx2.Response] = lambda request: next(replies)  # noqa: E731
    caplog.set_level(logging.DEBUG)
    transport = httpx2.MockTransport(handler)
    with (
        ConvivaAPI(KEY, CLIENT_ID, transport=transport, clock=clock) as api,
        pytest.raises(APIStatusError),
    ):
        api.get_saved_filters()
    assert caplog.records
    for record in caplog.records:
        assert_no_secret(record.getMessage())
        assert_no_secret(repr(vars(record)))
