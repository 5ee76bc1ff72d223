"""Security guarantees, end to end: a distinctive client key is searched for everywhere a user
or an attacker could see it (logs at DEBUG from every logger, exception text and tracebacks
with their local variables, reprs, CLI output, written files); TLS and plain-http rules; the
Authorization header never follows a redirect to another host; the emulator binds loopback and
compares credentials in constant time; a config file other users can read is refused.
"""

from __future__ import annotations

import base64
import hmac
import inspect
import logging
import stat
import threading
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx2
import pytest
from click.testing import CliRunner

from pyconviva import (
    APIStatusError,
    AsyncConvivaAPI,
    ConfigurationError,
    ConvivaAPI,
    ConvivaError,
    QueryError,
    RetryPolicy,
)
from pyconviva.cli.commands import app
from pyconviva.cli.profiles import load_profile
from pyconviva.emulator import (
    DropConnection,
    Emulator,
    NonJSONBody,
    SlowReply,
    StatusFault,
    _service,
)
from pyconviva.testing import VirtualClock

NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=timezone.utc)
CLIENT_ID = "sec-test-client"
KEY = "KEYzz9SENTINEL7qq"  # distinctive: found only if it leaked
TOKEN = base64.b64encode(f"{CLIENT_ID}:{KEY}".encode()).decode()
SECRETS = (KEY, TOKEN, KEY.lower())


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"the client key leaked into {where}"


PACKAGE = Path(inspect.getfile(ConvivaAPI)).parent
EMULATOR = PACKAGE / "emulator"


def client_frame_locals(error: BaseException) -> list[str]:
    """reprs of the local variables of the client's own frames in the traceback of ``error``.

    Debuggers, ``pytest --showlocals`` and error trackers show them. Frames of httpx2/httpcore2
    and of the emulator (a server, which must see the header) are left out: they hold the
    request headers by design and are not ours.
    """
    shown: list[str] = []
    tb = error.__traceback__
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.is_relative_to(PACKAGE) and not path.is_relative_to(EMULATOR):
            shown += [
                f"{name} = {safe_repr(value)}" for name, value in tb.tb_frame.f_locals.items()
            ]
        tb = tb.tb_next
    return shown


def safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception as exc:
        return f"<repr failed: {exc!r}>"


def exception_text(error: BaseException, *, with_locals: bool = True) -> str:
    """str, repr, attributes, the traceback and its causes, and the client frames' locals.

    Without ``with_locals`` for errors raised while the key is still a plain argument (the
    constructor's frames necessarily hold it).
    """
    parts = [str(error), repr(error), repr(vars(error)), *traceback.format_exception(error)]
    current: BaseException | None = error
    while current is not None:
        parts += [str(current), repr(current)]
        if with_locals:
            parts += client_frame_locals(current)
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(now=NOW, client_id=CLIENT_ID, client_key=KEY)


@pytest.fixture
def served(emulator: Emulator) -> Iterator[str]:
    with emulator.serve() as url:
        yield url


# ------------------------------------------------------------------------------ logs and errors


@pytest.mark.network
def test_debug_logs_of_every_logger_never_hold_the_key_through_faults_and_errors(
    emulator: Emulator, served: str, caplog: pytest.LogCaptureFixture, clock: VirtualClock
) -> None:
    caplog.set_level(logging.DEBUG)  # root: pyconviva, httpx2, httpcore2 and anything else
    emulator.add_faults(StatusFault(status=503), DropConnection(), NonJSONBody(status=502))
    with emulator.client(base_url=served, transport=None, clock=clock) as api:
        api.get_historical_data(["attempts", "plays"], group_by="isp", time_range=2)
        emulator.add_faults(StatusFault(status=401, times=10))
        with pytest.raises(APIStatusError):
            api.get_kpis()
    names = {record.name.split(".")[0] for record in caplog.records}
    assert {"pyconviva", "httpx2", "httpcore2"} <= names
    assert any(record.levelno == logging.WARNING for record in caplog.records)
    for record in caplog.records:
        assert_no_secret(record.getMessage(), f"log record of {record.name}")
        assert_no_secret(repr(vars(record)), f"log record attributes of {record.name}")
    assert_no_secret(caplog.text, "formatted log output")


def test_the_emulator_request_log_and_reprs_never_hold_the_key(emulator: Emulator) -> None:
    with emulator.client() as api:
        api.get_historical_data("attempts", time_range=1)
        assert_no_secret(repr(api), "client repr")
    assert_no_secret(repr(emulator.requests()), "emulator request log")
    assert_no_secret(repr(emulator), "emulator repr")
    assert_no_secret(repr(emulator.settings), "emulator settings repr")
    assert_no_secret(repr(emulator.settings.service_settings()), "service settings repr")


FAILURES: list[tuple[str, Callable[[Emulator], None]]] = [
    ("401", lambda e: e.add_faults(StatusFault(status=401, times=5))),
    ("500 exhausted", lambda e: e.add_faults(StatusFault(status=500, times=5))),
    ("dropped", lambda e: e.add_faults(DropConnection(times=5))),
    ("timeout", lambda e: e.add_faults(SlowReply(delay=60.0, times=5))),
    ("html 200", lambda e: e.add_faults(NonJSONBody(status=200))),
    ("unknown metric 404", lambda e: None),
]


@pytest.mark.parametrize(("case", "script"), FAILURES, ids=[case for case, _ in FAILURES])
def test_exceptions_and_tracebacks_with_locals_never_hold_the_key(
    emulator: Emulator, case: str, script: Callable[[Emulator], None], clock: VirtualClock
) -> None:
    script(emulator)
    metric = "atempts" if case == "unknown metric 404" else "attempts"
    policy = RetryPolicy(max_retries=1)
    with (
        emulator.client(client_key=KEY, timeout=5.0, retry=policy, clock=clock) as api,
        pytest.raises(ConvivaError) as caught,
    ):
        api.get_historical_data(metric, group_by="isp", time_range=1)
    assert_no_secret(exception_text(caught.value), f"the {case} exception")


def test_query_errors_and_config_errors_never_hold_the_key(emulator: Emulator) -> None:
    with emulator.client() as api, pytest.raises(QueryError) as caught:
        api.get_historical_data("attempts", time_range=500)
    assert_no_secret(exception_text(caught.value), "a QueryError")
    for arguments in (
        {"client_key": KEY, "client_id": f"{CLIENT_ID}:{KEY}"},
        {"client_key": KEY, "client_secret": KEY, "client_id": CLIENT_ID},
        {"client_key": KEY, "client_id": CLIENT_ID, "base_url": f"http://u:{KEY}@example.com"},
        {"client_key": KEY, "client_id": CLIENT_ID, "base_url": f"https://x.com/?k={KEY}"},
    ):
        with pytest.raises(ConfigurationError) as refused:
            ConvivaAPI(**arguments)  # type: ignore[arg-type]
        shown = exception_text(refused.value, with_locals=False)
        assert_no_secret(shown, f"ConfigurationError for {arguments}")


def test_a_key_passed_in_the_id_position_stays_hidden_in_reprs_and_errors(
    emulator: Emulator,
) -> None:
    swapped = ConvivaAPI(CLIENT_ID, KEY, transport=emulator.transport(), clock=emulator.now)
    assert_no_secret(repr(swapped), "repr of a client with swapped arguments")
    with pytest.raises(APIStatusError) as caught:
        swapped.get_historical_data("attempts")
    assert caught.value.status_code == 401
    assert_no_secret(exception_text(caught.value), "401 after swapped arguments")
    swapped.close()


async def test_the_async_client_repr_and_errors_never_hold_the_key(
    emulator: Emulator, clock: VirtualClock
) -> None:
    emulator.add_faults(StatusFault(status=503, times=5))
    async with emulator.async_client(retry=RetryPolicy(max_retries=1), clock=clock) as api:
        assert_no_secret(repr(api), "async client repr")
        with pytest.raises(APIStatusError) as caught:
            await api.get_real_time_data("attempts")
    assert_no_secret(exception_text(caught.value), "async 503 exception")


# ------------------------------------------------------------------------------ CLI and files


def write_config(path: Path, base_url: str, mode: int = 0o600) -> Path:
    path.write_text(
        f'[profiles.default]\nclient_id = "{CLIENT_ID}"\nclient_key = "{KEY}"\n'
        f'base_url = "{base_url}"\n'
    )
    path.chmod(mode)
    return path


def cli_env(config: Path) -> dict[str, str | None]:
    return {
        "PYCONVIVA_CONFIG": str(config),
        "CONVIVA_CLIENT_ID": None,
        "CONVIVA_CLIENT_KEY": None,
        "CONVIVA_CLIENT_SECRET": None,
        "CONVIVA_BASE_URL": None,
    }


def all_file_text(directory: Path) -> str:
    return "\n".join(
        path.read_bytes().decode("utf-8", errors="replace")
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.suffix != ".toml"
    )


@pytest.mark.network
def test_cli_output_logs_and_written_files_never_hold_the_key(
    emulator: Emulator, served: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", served)
    env = cli_env(config)
    out = tmp_path / "out"
    out.mkdir()
    runs = [
        ["historical", "attempts", "--group-by", "isp", "--days", "1", "--debug", "-f", "json"],
        ["historical", "attempts", "--days", "1", "--debug", "-o", str(out / "a.csv")],
        ["historical", "attempts", "--days", "1", "-o", str(out / "a.parquet")],
        ["realtime", "attempts", "--debug", "-o", str(out / "r.jsonl")],
        ["kpis", "--debug", "-f", "csv"],
        ["dimensions", "-o", str(out / "d.json")],
    ]
    emulator.add_faults(StatusFault(status=503), DropConnection())  # retries are logged
    for args in runs:
        outcome = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
        assert outcome.exit_code == 0, outcome.output
        assert_no_secret(outcome.stdout + outcome.stderr, f"CLI output of {args}")
    emulator.add_faults(StatusFault(status=401, times=10))
    failed = CliRunner().invoke(app, ["kpis", "--debug"], env=env, catch_exceptions=False)
    assert failed.exit_code != 0
    assert_no_secret(failed.stdout + failed.stderr, "CLI output of a refused request")
    assert sorted(p.name for p in out.iterdir()) == [
        "a.csv",
        "a.parquet",
        "d.json",
        "r.jsonl",
    ]
    assert_no_secret(all_file_text(tmp_path), "files the CLI wrote")


def test_the_profile_repr_hides_the_key(tmp_path: Path) -> None:
    profile = load_profile(write_config(tmp_path / "c.toml", "https://api.conviva.com"), "default")
    assert profile.client_key == KEY
    assert_no_secret(repr(profile), "profile repr")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_a_config_file_other_users_can_read_is_refused_without_echoing_it(
    tmp_path: Path, mode: int
) -> None:
    config = write_config(tmp_path / "config.toml", "https://api.conviva.com", mode)
    outcome = CliRunner().invoke(app, ["kpis"], env=cli_env(config), catch_exceptions=False)
    assert outcome.exit_code != 0
    assert f"chmod 600 {config}" in " ".join(outcome.stderr.split())
    assert_no_secret(outcome.stdout + outcome.stderr, "refusal of a shared config file")
    with pytest.raises(ConfigurationError, match="other users can access it"):
        load_profile(config, "default")


def test_a_private_config_file_is_accepted(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", "https://api.conviva.com", 0o600)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert load_profile(config, "default").client_id == CLIENT_ID


# ------------------------------------------------------------------------------ TLS and http


@pytest.mark.parametrize("verify", [False, True, 0])
def test_tls_verification_cannot_be_switched_off(verify: object) -> None:
    with pytest.raises(ConfigurationError, match=r"cannot be switched off|must be a CA bundle"):
        ConvivaAPI(KEY, CLIENT_ID, verify=verify)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        AsyncConvivaAPI(KEY, CLIENT_ID, verify=verify)  # type: ignore[arg-type]


def test_an_ssl_context_that_skips_verification_is_refused() -> None:
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(ConfigurationError, match="cannot be switched off"):
        ConvivaAPI(KEY, CLIENT_ID, verify=context)
    hostless = ssl.create_default_context()
    hostless.check_hostname = False
    with pytest.raises(ConfigurationError, match="cannot be switched off"):
        ConvivaAPI(KEY, CLIENT_ID, verify=hostless)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.conviva.com",
        "http://10.0.0.5:8080",
        "http://192.168.1.10",
        "http://[2001:db8::1]",
        "http://0.0.0.0:8080",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_to_a_non_loopback_host_is_refused_by_argument_and_environment(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match="plain http"):
        ConvivaAPI(KEY, CLIENT_ID, base_url=url)
    monkeypatch.setenv("CONVIVA_BASE_URL", url)
    with pytest.raises(ConfigurationError, match="plain http"):
        ConvivaAPI(KEY, CLIENT_ID)


def test_a_cli_profile_with_a_plain_http_remote_base_url_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", "http://api.conviva.com")
    outcome = CliRunner().invoke(app, ["kpis"], env=cli_env(config), catch_exceptions=False)
    assert outcome.exit_code != 0
    assert "plain http" in outcome.stderr
    assert_no_secret(outcome.stdout + outcome.stderr, "refusal of a plain-http profile")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_plain_http_is_accepted_for_loopback(url: str) -> None:
    with ConvivaAPI(KEY, CLIENT_ID, base_url=url) as api:
        assert api.base_url == url


# ------------------------------------------------------------------------------ redirects


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_so_the_header_never_reaches_another_host(
    status: int,
) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if request.url.host == "api.conviva.com":
            return httpx2.Response(status, headers={"location": "https://evil.example.net/x"})
        return httpx2.Response(200, json={"kpis": []})

    api = ConvivaAPI(KEY, CLIENT_ID, transport=httpx2.MockTransport(handler))
    with api, pytest.raises(APIStatusError, match="redirected") as caught:
        api.get_kpis()
    assert caught.value.status_code == status
    assert [request.url.host for request in seen] == ["api.conviva.com"]
    assert_no_secret(exception_text(caught.value), "redirect error")


class _Recorder(BaseHTTPRequestHandler):
    """Answers 200 and records the Authorization header of every request it gets."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization"))
        body = b'{"kpis": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


def _redirector(target: str) -> type[BaseHTTPRequestHandler]:
    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(307)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    return Redirect


@pytest.fixture
def servers() -> Iterator[Callable[[type[BaseHTTPRequestHandler]], int]]:
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> int:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        started.append((server, thread))
        return int(server.server_address[1])

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.network
def test_a_real_cross_host_redirect_over_loopback_never_carries_the_credentials(
    servers: Callable[[type[BaseHTTPRequestHandler]], int],
) -> None:
    _Recorder.seen = []
    other = servers(_Recorder)
    first = servers(_redirector(f"http://localhost:{other}"))
    api = ConvivaAPI(KEY, CLIENT_ID, base_url=f"http://127.0.0.1:{first}")
    with api, pytest.raises(APIStatusError) as caught:
        api.get_kpis()
    assert caught.value.status_code == 307
    assert _Recorder.seen == []  # not followed at all: nothing reached the other host


# ------------------------------------------------------------------------------ emulator


def test_the_emulator_binds_loopback_by_default_and_refuses_other_hosts() -> None:
    emulator = Emulator()
    assert inspect.signature(emulator.serve).parameters["host"].default == "127.0.0.1"
    for host in ("0.0.0.0", "::", "192.168.1.10"):  # noqa: S104 - refused, never bound
        with pytest.raises(ConfigurationError, match="loopback"), emulator.serve(host):
            pass


@pytest.mark.network
def test_the_emulator_server_listens_on_loopback_only() -> None:
    with Emulator().serve() as url:
        assert url.startswith("http://127.0.0.1:")


def test_the_emulator_compares_both_credentials_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "hmac.compare_digest" in inspect.getsource(_service.MetricsService.authenticate)
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the module _service calls it through
    service = _service.MetricsService(_service.ServiceSettings(client_id=CLIENT_ID, client_key=KEY))
    wrong_id = base64.b64encode(f"nobody:{KEY}x".encode()).decode()
    assert service.authenticate({"authorization": f"Basic {wrong_id}"}) is not None
    # the key is compared even when the id is already wrong: no early exit to time
    assert compared == [(b"nobody", CLIENT_ID.encode()), (f"{KEY}x".encode(), KEY.encode())]
    assert service.authenticate({"authorization": f"Basic {TOKEN}"}) is None
    refused = service.authenticate({"authorization": "Basic !!!not-base64"})
    assert refused is not None
    assert refused.status == 401


def test_a_client_whose_construction_failed_still_has_a_repr() -> None:
    half_built = ConvivaAPI.__new__(ConvivaAPI)
    assert "ConvivaAPI" in repr(half_built)


def test_the_emulator_control_plane_never_answers_with_the_key(emulator: Emulator) -> None:
    with emulator.client() as api:
        api.get_kpis()
    with httpx2.Client(transport=emulator.transport(), base_url="http://127.0.0.1") as http:
        replies = [
            http.get("/_emulator/config"),
            http.get("/_emulator/requests"),
            http.get("/_emulator/faults"),
            http.post("/_emulator/config", json={"client_key": KEY + "2"}),
            http.post("/_emulator/config", json={"client_key": 5}),
            http.post("/_emulator/reset"),
        ]
    for reply in replies:
        assert_no_secret(reply.text, f"control reply {reply.request.url.path}")
    assert emulator.client_key == KEY  # reset restored it
