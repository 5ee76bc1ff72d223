"""What ConvivaAPI puts on the wire and what it hands back, through a recording MockTransport."""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx2
import pytest
import trustme

from pyconviva import APIConnectionError, ConvivaAPI, QueryError, __version__
from pyconviva.emulator import Emulator

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)
KEY = "k3y-that-must-stay-secret"
CLIENT_ID = "client-id-123"

SERIES_BODY: dict[str, Any] = {
    "time_series": [
        {
            "timestamp": {"epoch_ms": 1736424000000, "iso_date": "2025-01-09T12:00:00Z"},
            "attempts": {"count": 1520},
        }
    ],
    "total": {"attempts": {"count": 1520}},
}
METADATA_BODIES: dict[str, dict[str, Any]] = {
    "/insights/3.0/metrics": {"resources": [], "references": []},
    "/insights/3.0/metrics/_meta/references/dimensions": {
        "dimensions": [{"name": "ISP", "query_filter": "?isp", "is_custom": False}]
    },
    "/insights/3.0/metrics/_meta/references/filters": {"filters": [{"id": 180, "name": "Live"}]},
    "/insights/3.0/kpis": {"kpis": [{"id": 1, "name": "Conviva Good"}]},
    "/insights/3.0/metrics/quality-summary/group-by": {"resources": []},
    "/insights/3.0/metrics/quality-summary/group-by/dimension-tag": {"resources": []},
}


class Recorder:
    """A MockTransport handler that records requests and answers like the API would."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        body = next((b for p, b in METADATA_BODIES.items() if path.endswith(p)), SERIES_BODY)
        return httpx2.Response(200, json=body)

    @property
    def last(self) -> httpx2.Request:
        return self.requests[-1]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def api(recorder: Recorder) -> Iterator[ConvivaAPI]:
    with ConvivaAPI(
        KEY, CLIENT_ID, transport=httpx2.MockTransport(recorder), clock=lambda: NOW
    ) as client:
        yield client


def query_multiset(request: httpx2.Request) -> Counter[tuple[str, str]]:
    return Counter(request.url.params.multi_items())


@pytest.mark.parametrize(
    ("call", "path", "params"),
    [
        (
            lambda a: a.get_historical_data("attempts", group_by="isp", time_range=5),
            "/insights/3.0/metrics/attempts/group-by/isp",
            [("days", "5")],
        ),
        (
            lambda a: a.get_historical_data("attempts"),
            "/insights/3.0/metrics/attempts",
            [("days", "1")],
        ),
        (
            lambda a: a.get_historical_data(["attempts", "bitrate"]),
            "/insights/3.0/metrics/custom-selection",
            [("metric", "attempts"), ("metric", "bitrate"), ("days", "1")],
        ),
        (
            lambda a: a.get_historical_data("attempts", filter_by={"isp": ["Optus", "Vodafone"]}),
            "/insights/3.0/metrics/attempts",
            [("days", "1"), ("isp", "Optus"), ("isp", "Vodafone")],
        ),
        (
            lambda a: a.get_historical_data(
                ["attempts", "bitrate"], group_by="isp", sort_by=["bitrate", "asc"]
            ),
            "/insights/3.0/metrics/custom-selection/group-by/isp",
            [
                ("metric", "attempts"),
                ("metric", "bitrate"),
                ("days", "1"),
                ("sort_by", "bitrate"),
                ("order", "asc"),
            ],
        ),
        (
            lambda a: a.get_historical_data("attempts", group_by={"custom-tag": "appVersion"}),
            "/insights/3.0/metrics/attempts/group-by/dimension-tag/appVersion",
            [("days", "1")],
        ),
        (
            lambda a: a.get_real_time_data("attempts", time_range=5),
            "/insights/3.0/real-time-metrics/attempts",
            [("minutes", "5")],
        ),
    ],
)
def test_calls_send_the_path_and_query_of_pyconviva_0_1_0(
    api: ConvivaAPI, recorder: Recorder, call: Any, path: str, params: list[tuple[str, str]]
) -> None:
    call(api)
    assert recorder.last.method == "GET"
    assert recorder.last.url.path == path
    assert query_multiset(recorder.last) == Counter(params)


def test_repeated_query_keys_keep_their_order(api: ConvivaAPI, recorder: Recorder) -> None:
    api.get_historical_data(["plays", "attempts", "bitrate"])
    metrics = [v for k, v in recorder.last.url.params.multi_items() if k == "metric"]
    assert metrics == ["plays", "attempts", "bitrate"]


def test_every_request_carries_accept_user_agent_and_basic_auth(
    api: ConvivaAPI, recorder: Recorder
) -> None:
    api.get_historical_data("attempts")
    headers = recorder.last.headers
    assert headers["accept"] == "application/json"
    assert headers["user-agent"] == f"pyconviva/{__version__}"
    expected = base64.b64encode(f"{CLIENT_ID}:{KEY}".encode()).decode()
    assert headers["authorization"] == f"Basic {expected}"


def test_keywords_give_the_same_credentials_as_the_positional_seed_order(
    recorder: Recorder,
) -> None:
    transport = httpx2.MockTransport(recorder)
    with ConvivaAPI(KEY, CLIENT_ID, transport=transport) as positional:
        positional.get_available_dimensions()
    with ConvivaAPI(client_id=CLIENT_ID, client_secret=KEY, transport=transport) as keywords:
        keywords.get_available_dimensions()
    first, second = recorder.requests
    assert first.headers["authorization"] == second.headers["authorization"]


def test_base_url_path_prefix_is_kept(recorder: Recorder) -> None:
    with ConvivaAPI(
        KEY,
        CLIENT_ID,
        base_url="https://gateway.example.com/conviva/",
        transport=httpx2.MockTransport(recorder),
    ) as api:
        api.get_kpis()
    assert str(recorder.last.url) == "https://gateway.example.com/conviva/insights/3.0/kpis"


@pytest.mark.parametrize(
    ("call", "path", "key"),
    [
        (lambda a: a.get_available_endpoints(), "/insights/3.0/metrics", "resources"),
        (
            lambda a: a.get_available_dimensions(),
            "/insights/3.0/metrics/_meta/references/dimensions",
            "dimensions",
        ),
        (
            lambda a: a.get_saved_filters(),
            "/insights/3.0/metrics/_meta/references/filters",
            "filters",
        ),
        (lambda a: a.get_kpis(), "/insights/3.0/kpis", "kpis"),
        (
            lambda a: a.get_available_group_by_endpoints("quality-summary"),
            "/insights/3.0/metrics/quality-summary/group-by",
            "resources",
        ),
        (
            lambda a: a.get_available_group_by_endpoints("quality-summary", True),
            "/insights/3.0/metrics/quality-summary/group-by/dimension-tag",
            "resources",
        ),
    ],
)
def test_metadata_methods_get_their_endpoint_and_return_the_reply(
    api: ConvivaAPI, recorder: Recorder, call: Any, path: str, key: str
) -> None:
    result = call(api)
    assert recorder.last.url.path == path
    assert not recorder.last.url.params
    assert result[key] == METADATA_BODIES[path][key]


def test_metrics_reply_is_returned_as_a_mapping_over_the_raw_json(api: ConvivaAPI) -> None:
    data = api.get_historical_data("attempts", time_range=5)
    assert data["time_series"] == SERIES_BODY["time_series"]
    assert data["total"] == SERIES_BODY["total"]
    assert data.query is not None
    assert data.query.path == "/insights/3.0/metrics/attempts"


def test_time_ranges_are_resolved_with_the_injected_clock(
    api: ConvivaAPI, recorder: Recorder
) -> None:
    data = api.get_historical_data("attempts", time_range=2)
    assert data.query is not None
    start, end = data.query.window
    assert end == datetime(2025, 1, 10, 12, 0, tzinfo=timezone.utc)
    assert start == datetime(2025, 1, 8, 12, 0, tzinfo=timezone.utc)


def test_bad_arguments_raise_query_error_before_any_request(
    api: ConvivaAPI, recorder: Recorder
) -> None:
    with pytest.raises(QueryError):
        api.get_historical_data("attempts", time_range=91, split=False)
    with pytest.raises(QueryError):
        api.get_real_time_data("attempts", time_range=16)
    with pytest.raises(QueryError):
        api.get_historical_data([f"m{i}" for i in range(13)])
    assert recorder.requests == []


def test_closed_client_refuses_to_send(recorder: Recorder) -> None:
    api = ConvivaAPI(KEY, CLIENT_ID, transport=httpx2.MockTransport(recorder))
    api.close()
    with pytest.raises(RuntimeError, match="closed"):
        api.get_kpis()


def test_repr_shows_base_url_and_client_id_but_not_the_key(api: ConvivaAPI) -> None:
    text = repr(api)
    assert "https://api.conviva.com" in text
    assert "client_id='clie'… (13 chars)" in text
    assert KEY not in text
    assert (api.base_url, api.client_id) == ("https://api.conviva.com", CLIENT_ID)


def test_repr_names_a_transport_that_replaces_the_network() -> None:
    with Emulator().client() as emulated:
        assert "transport=<in-process emulator>" in repr(emulated)
    with ConvivaAPI(KEY, CLIENT_ID, transport=httpx2.MockTransport(lambda r: None)) as mocked:
        assert "transport=MockTransport" in repr(mocked)
    with ConvivaAPI(KEY, CLIENT_ID) as networked:
        assert "transport=" not in repr(networked)


def test_environment_credentials_and_base_url_are_used(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    monkeypatch.setenv("CONVIVA_CLIENT_ID", "env-id")
    monkeypatch.setenv("CONVIVA_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("CONVIVA_BASE_URL", "http://127.0.0.1:8765")
    with ConvivaAPI(transport=httpx2.MockTransport(recorder)) as api:
        api.get_kpis()
    assert str(recorder.last.url) == "http://127.0.0.1:8765/insights/3.0/kpis"
    token = base64.b64decode(recorder.last.headers["authorization"].split()[1]).decode()
    assert token == "env-id:env-secret"


def test_the_timeout_reaches_every_request(recorder: Recorder) -> None:
    with ConvivaAPI(KEY, CLIENT_ID, timeout=7.5, transport=httpx2.MockTransport(recorder)) as api:
        api.get_kpis()
    assert recorder.last.extensions["timeout"] == {
        "connect": 7.5,
        "read": 7.5,
        "write": 7.5,
        "pool": 7.5,
    }


def test_reply_bytes_are_decoded_as_json(api: ConvivaAPI) -> None:
    data = api.get_historical_data("attempts")
    assert json.loads(json.dumps(dict(data))) == SERIES_BODY


class _KpisHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(METADATA_BODIES["/insights/3.0/kpis"]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args  # keep the test output clean


class _KeptAliveKpisHandler(_KpisHandler):
    """Answers over HTTP/1.1 keep-alive and records the client end of each request."""

    protocol_version = "HTTP/1.1"
    peers: ClassVar[list[tuple[str, int]]] = []

    def do_GET(self) -> None:
        self.peers.append(self.client_address)
        super().do_GET()


@pytest.mark.network
def test_the_calls_of_one_client_share_one_pooled_connection() -> None:
    _KeptAliveKpisHandler.peers = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeptAliveKpisHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        with ConvivaAPI(KEY, CLIENT_ID, base_url=f"http://127.0.0.1:{server.server_port}") as api:
            for _ in range(3):
                api.get_kpis()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    peers = _KeptAliveKpisHandler.peers
    assert len(peers) == 3
    assert len(set(peers)) == 1  # one connection, kept alive across the calls


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 with a certificate from a private CA; (base URL, CA file)."""
    ca = trustme.CA()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KpisHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    bundle = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", bundle
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.network
def test_verify_with_a_ca_bundle_path_or_context_trusts_a_private_ca(
    tls_server: tuple[str, Path],
) -> None:
    url, bundle = tls_server
    for verify in (str(bundle), ssl.create_default_context(cafile=str(bundle))):
        with ConvivaAPI(KEY, CLIENT_ID, base_url=url, verify=verify) as api:
            assert api.get_kpis()["kpis"] == METADATA_BODIES["/insights/3.0/kpis"]["kpis"]


@pytest.mark.network
def test_ssl_cert_file_is_honoured_by_the_default_trust_store(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, bundle = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with ConvivaAPI(KEY, CLIENT_ID, base_url=url) as api:
        assert api.get_kpis()["kpis"]


@pytest.mark.network
def test_an_untrusted_certificate_is_refused(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with (
        ConvivaAPI(KEY, CLIENT_ID, base_url=url, max_retries=0) as api,
        pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        api.get_kpis()
