"""The loopback wire: same bytes as in process, socket faults, control plane, clean shutdown."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from typing import NoReturn
from urllib.parse import urlsplit

import httpx2
import pytest

from pyconviva._exceptions import ConfigurationError
from pyconviva.emulator import (
    DropConnection,
    Emulator,
    NonJSONBody,
    SlowReply,
    StatusFault,
    TruncateBody,
)

pytestmark = pytest.mark.network

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
AUTH = ("demo-client-id", "demo-client-key")
ATTEMPTS = "/insights/3.0/metrics/attempts"

SAME_BYTES_REQUESTS: list[tuple[str, dict[str, str | list[str]]]] = [
    (ATTEMPTS, {"days": "3"}),
    (
        "/insights/3.0/metrics/custom-selection/group-by/isp",
        {"metric": ["attempts", "plays"], "days": "1"},
    ),
    ("/insights/3.0/metrics/attempts/group-by/device-os", {"days": "1", "limit": "5"}),
    ("/insights/3.0/real-time-metrics/attempts", {"minutes": "5"}),
    ("/insights/3.0/metrics/_meta/references/dimensions", {}),
    ("/insights/3.0/metrics/no-such-metric", {"days": "1"}),
    (ATTEMPTS, {"days": "1", "granularity": "nonsense"}),
    (ATTEMPTS, {"days": "400"}),
    ("/insights/3.0/nowhere", {}),
]


def wire_view(reply: httpx2.Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    headers = [(name.lower(), value) for name, value in reply.headers.raw]
    return reply.status_code, headers, reply.content


def test_server_binds_loopback_on_a_free_port() -> None:
    with Emulator(now=NOW).serve() as url:
        parts = urlsplit(url)
        assert parts.scheme == "http"
        assert parts.hostname == "127.0.0.1"
        assert parts.port not in (None, 0)
        with socket.create_connection(("127.0.0.1", parts.port), timeout=5):
            pass


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com"])  # noqa: S104
def test_server_refuses_a_non_loopback_host_unless_allowed(host: str) -> None:
    with pytest.raises(ConfigurationError, match="allow_remote=True"):  # noqa: SIM117
        with Emulator().serve(host):
            pass


def test_loopback_and_in_process_replies_are_byte_identical() -> None:
    emulator = Emulator(now=NOW)
    with emulator.serve() as url, httpx2.Client(base_url=url, auth=AUTH) as over_socket:
        in_process = httpx2.Client(transport=emulator.transport(), base_url=url, auth=AUTH)
        with in_process:
            for path, params in SAME_BYTES_REQUESTS:
                socket_reply = over_socket.get(path, params=params)
                assert wire_view(socket_reply) == wire_view(in_process.get(path, params=params))
            unauthorised = httpx2.get(url + ATTEMPTS, params={"days": "1"})
            assert wire_view(unauthorised)[0] == 401


def test_kept_alive_connection_serves_many_requests() -> None:
    emulator = Emulator(now=NOW)
    request = (
        f"GET {ATTEMPTS}?days=1 HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Basic ZGVtby1jbGllbnQtaWQ6ZGVtby1jbGllbnQta2V5\r\n\r\n"
    ).encode()
    with emulator.serve() as url:
        port = urlsplit(url).port
        assert port is not None
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(request + request)
            received = b""
            while received.count(b"HTTP/1.1 200 OK") < 2:
                chunk = conn.recv(65536)
                assert chunk, "the server closed a kept-alive connection"
                received += chunk
    assert len(emulator.requests()) == 2


def test_faults_happen_on_the_socket() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(
        StatusFault(status=503, retry_after=1),
        DropConnection(),
        TruncateBody(),
        NonJSONBody(status=502),
    )
    with emulator.serve() as url, httpx2.Client(base_url=url, auth=AUTH) as client:
        first = client.get(ATTEMPTS, params={"days": "1"})
        assert (first.status_code, first.headers["retry-after"]) == (503, "1")
        with pytest.raises(httpx2.RemoteProtocolError):
            client.get(ATTEMPTS, params={"days": "1"})
        with pytest.raises(httpx2.RemoteProtocolError):
            client.get(ATTEMPTS, params={"days": "1"})
        html = client.get(ATTEMPTS, params={"days": "1"})
        assert (html.status_code, html.headers["content-type"][:9]) == (502, "text/html")
        assert client.get(ATTEMPTS, params={"days": "1"}).status_code == 200
    assert [e.fault for e in emulator.requests()] == [
        "status",
        "drop",
        "truncate",
        "non_json",
        None,
    ]


def test_slow_reply_over_the_socket_times_the_client_out() -> None:
    emulator = Emulator(now=NOW)
    emulator.add_faults(SlowReply(delay=1.0))
    with (
        emulator.serve() as url,
        httpx2.Client(base_url=url, auth=AUTH, timeout=0.2) as client,
        pytest.raises(httpx2.ReadTimeout),
    ):
        client.get(ATTEMPTS, params={"days": "1"})


def test_control_plane_routes_over_http() -> None:
    emulator = Emulator(now=NOW)
    with emulator.serve() as url, httpx2.Client(base_url=url) as control:
        config = control.post(
            "/_emulator/config", json={"seed": 7, "latency": 0, "rate_limit": 0.5}
        )
        assert config.status_code == 200
        assert config.json()["seed"] == 7
        assert emulator.settings.seed == 7
        assert emulator.settings.rate_limit == 0.5
        faults = control.post(
            "/_emulator/faults",
            json={"faults": [{"kind": "status", "status": 500, "times": 2}]},
        )
        assert faults.json()["faults"] == [
            {
                "kind": "status",
                "status": 500,
                "times": 2,
                "path": None,
                "body": None,
                "retry_after": None,
            }
        ]
        data = httpx2.get(url + ATTEMPTS, params={"days": "1"}, auth=AUTH)
        assert data.status_code == 500
        assert control.get("/_emulator/faults").json()["faults"][0]["times"] == 1
        assert control.delete("/_emulator/faults").json() == {"faults": [], "random": None}
        advanced = control.post("/_emulator/advance", json={"seconds": 3600})
        assert advanced.json() == {"now": "2025-06-02T13:00:00Z"}
        log = control.get("/_emulator/requests").json()["requests"]
        assert [(e["method"], e["path"], e["status"]) for e in log] == [("GET", ATTEMPTS, 500)]
        assert log[0]["query"] == [["days", "1"]]
        reset = control.post("/_emulator/reset")
        assert reset.json()["seed"] == 0
        assert control.get("/_emulator/requests").json() == {"requests": []}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/_emulator/config", b"{not json", 400),
        ("POST", "/_emulator/config", b'{"colour": "red"}', 400),
        ("POST", "/_emulator/faults", b'{"faults": [{"kind": "gremlin"}]}', 400),
        ("GET", "/_emulator/nothing", b"", 404),
        ("DELETE", "/_emulator/requests", b"", 404),
    ],
)
def test_control_plane_rejects_bad_requests(
    method: str, path: str, body: bytes, status: int
) -> None:
    emulator = Emulator(now=NOW)
    with emulator.serve() as url, httpx2.Client(base_url=url) as control:
        reply = control.request(method, path, content=body)
    assert reply.status_code == status
    assert reply.json()["message"]


def test_shutdown_closes_kept_alive_connections_and_the_port() -> None:
    emulator = Emulator(now=NOW)
    client = httpx2.Client(auth=AUTH)
    with emulator.serve() as url:
        assert client.get(url + ATTEMPTS, params={"days": "1"}).status_code == 200
        port = urlsplit(url).port
    with pytest.raises(httpx2.TransportError):
        client.get(url + ATTEMPTS, params={"days": "1"})
    client.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port or 0), timeout=1).close()


class BrokenEmulator(Emulator):
    def handle(self, *args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError("boom")


def test_an_emulator_failure_is_a_500_reply_and_a_log_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with BrokenEmulator().serve() as url:
        reply = httpx2.get(url + ATTEMPTS, params={"days": "1"}, auth=AUTH)
    assert reply.status_code == 500
    assert reply.json()["name"] == "InternalServerError"
    assert "emulator failed on GET " + ATTEMPTS in caplog.text
    assert "demo-client-key" not in caplog.text
