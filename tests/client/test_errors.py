"""Error replies and transport failures: which exception, what it says, and what is retried."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx2
import pytest

from pyconviva import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConvivaAPI,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    RetryPolicy,
    ServerError,
    UnexpectedResponseError,
    UnprocessableEntityError,
)
from pyconviva.emulator import (
    DropConnection,
    Emulator,
    Fault,
    NonJSONBody,
    RateLimitStorm,
    SlowReply,
    StatusFault,
    TruncateBody,
)
from pyconviva.testing import VirtualClock

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)
KEY = "k3y-that-must-stay-secret"
CLIENT_ID = "client-id-123"
OK_BODY: dict[str, list[object]] = {"kpis": []}

Handler = Callable[[httpx2.Request], httpx2.Response]


def scripted(*responses: httpx2.Response | Exception) -> tuple[Handler, list[httpx2.Request]]:
    """A handler replaying ``responses`` in order (an exception is raised), and its log."""
    seen: list[httpx2.Request] = []
    script = iter(responses)

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        outcome = next(script)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return handle, seen


@pytest.fixture
def clock() -> VirtualClock:
    """The suite's virtual clock, at this module's NOW (Retry-After dates are read against it)."""
    return VirtualClock(NOW)


@pytest.fixture
def make_api(clock: VirtualClock) -> Iterator[Callable[..., ConvivaAPI]]:
    made: list[ConvivaAPI] = []

    def make(handler: Handler, **options: object) -> ConvivaAPI:
        options.setdefault("retry", RetryPolicy(jitter=0.0))
        api = ConvivaAPI(
            KEY,
            CLIENT_ID,
            transport=httpx2.MockTransport(handler),
            clock=clock,
            **options,  # type: ignore[arg-type]
        )
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


def error(status: int, body: object = None, **headers: str) -> httpx2.Response:
    if body is None:
        return httpx2.Response(status, headers=headers)
    if isinstance(body, str):
        return httpx2.Response(status, text=body, headers=headers)
    return httpx2.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (413, ResponseTooLargeError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (418, APIStatusError),
    ],
)
def test_each_status_raises_its_exception_class(
    make_api: Callable[..., ConvivaAPI], status: int, expected: type[APIStatusError]
) -> None:
    body = {"name": "Kind", "message": f"status {status} explained"}
    handler, _ = scripted(error(status, body))
    api = make_api(handler, retry=RetryPolicy(max_retries=0))
    with pytest.raises(APIStatusError) as caught:
        api.get_kpis()
    assert type(caught.value) is expected
    assert caught.value.status_code == status
    assert caught.value.message == f"status {status} explained"
    assert caught.value.body == body
    assert caught.value.request == "GET https://api.conviva.com/insights/3.0/kpis"


def test_the_message_falls_back_to_name_then_to_a_text_snippet(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    handler, _ = scripted(
        error(422, {"name": "UnprocessableEntity"}),
        error(400, "  plain\ntext   failure " + "x" * 500),
        error(403),
    )
    api = make_api(handler)
    with pytest.raises(UnprocessableEntityError) as first:
        api.get_kpis()
    assert first.value.message == "UnprocessableEntity"
    with pytest.raises(BadRequestError) as second:
        api.get_kpis()
    assert second.value.message.startswith("plain text failure xxx")
    assert len(second.value.message) <= 201
    assert second.value.body is None
    with pytest.raises(PermissionDeniedError) as third:
        api.get_kpis()
    assert third.value.message == "Forbidden"


def test_the_request_is_described_with_its_query_and_without_credentials(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    handler, _ = scripted(error(422, {"message": "too long"}))
    api = make_api(handler)
    with pytest.raises(UnprocessableEntityError) as caught:
        api.get_historical_data("attempts", group_by="isp", time_range=5)
    url = "https://api.conviva.com/insights/3.0/metrics/attempts/group-by/isp?days=5"
    assert caught.value.request == f"GET {url}"
    assert f"(request: GET {url})" in str(caught.value)
    assert KEY not in str(caught.value)


def test_401_names_the_client_id_and_the_positional_order(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    handler, _ = scripted(error(401, {"message": "Unauthorized"}))
    api = make_api(handler)
    with pytest.raises(AuthenticationError) as caught:
        api.get_kpis()
    text = str(caught.value)
    assert "HTTP 401: Unauthorized" in text
    assert "client id 'clie'… (13 chars) (from argument client_id" in text
    assert "ConvivaAPI(client_key, client_id)" in text
    assert "client_id=... and client_key=..." in text
    assert KEY not in text


def test_404_for_an_unknown_metric_suggests_close_names(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    handler, _ = scripted(error(404, {"name": "NotFound", "message": "Unknown metric"}))
    api = make_api(handler)
    with pytest.raises(NotFoundError) as caught:
        api.get_historical_data("atempts")
    assert caught.value.hint is not None
    assert "'atempts' is not a metric pyconviva knows" in caught.value.hint
    assert "did you mean 'attempts'" in str(caught.value)


def test_404_for_an_unknown_dimension_suggests_close_names(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    handler, _ = scripted(error(404, {"message": "Unknown dimension"}))
    api = make_api(handler)
    with pytest.raises(NotFoundError) as caught:
        api.get_historical_data(["attempts", "plays"], group_by="device-nam")
    assert caught.value.hint is not None
    assert "'device-nam' is not a dimension" in caught.value.hint
    assert "'device-name'" in caught.value.hint
    assert "metric" not in caught.value.hint  # both metrics are known


def test_a_server_message_with_its_own_suggestions_gets_no_second_list(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    handler, _ = scripted(error(404, {"message": "unknown metric 'atempts'; did you mean x?"}))
    api = make_api(handler)
    with pytest.raises(NotFoundError) as caught:
        api.get_historical_data("atempts")
    assert caught.value.hint is None


def test_404_for_known_names_carries_no_suggestion(make_api: Callable[..., ConvivaAPI]) -> None:
    handler, _ = scripted(error(404, {"message": "Not enabled"}))
    api = make_api(handler)
    with pytest.raises(NotFoundError) as caught:
        api.get_historical_data("attempts", group_by="isp")
    assert caught.value.hint is None


def test_413_explains_how_to_ask_for_less(make_api: Callable[..., ConvivaAPI]) -> None:
    handler, _ = scripted(error(413, {"message": "Request Entity Too Large"}))
    api = make_api(handler)
    with pytest.raises(ResponseTooLargeError, match="shorter time_range"):
        api.get_historical_data("attempts", split=False)  # with splitting it would be halved


def test_a_redirect_is_an_error_pointing_at_base_url(make_api: Callable[..., ConvivaAPI]) -> None:
    handler, seen = scripted(error(301, None, location="https://elsewhere.example.com/"))
    api = make_api(handler)
    with pytest.raises(APIStatusError, match="check base_url") as caught:
        api.get_kpis()
    assert caught.value.status_code == 301
    assert len(seen) == 1


def test_connection_errors_map_to_api_connection_error_with_the_cause(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    cause = httpx2.ConnectError("connection refused")
    handler, _ = scripted(cause)
    api = make_api(handler, max_retries=0, retry=None)
    with pytest.raises(APIConnectionError) as caught:
        api.get_kpis()
    assert type(caught.value) is APIConnectionError
    assert caught.value.__cause__ is cause
    assert "connection refused" in str(caught.value)
    assert caught.value.request == "GET https://api.conviva.com/insights/3.0/kpis"


def test_timeouts_map_to_api_timeout_error_with_the_cause(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    cause = httpx2.ReadTimeout("read timed out")
    handler, _ = scripted(cause)
    api = make_api(handler, max_retries=0, retry=None)
    with pytest.raises(APITimeoutError) as caught:
        api.get_kpis()
    assert caught.value.__cause__ is cause
    assert isinstance(caught.value, APIConnectionError)


@pytest.mark.parametrize(
    "failure",
    [
        error(500),
        error(502),
        error(503, {"message": "busy"}),
        error(429, {"message": "Too Many Requests"}, **{"Retry-After": "0.5"}),
        error(408),
        httpx2.ConnectError("refused"),
        httpx2.ReadTimeout("slow"),
        httpx2.RemoteProtocolError("truncated body"),
    ],
    ids=lambda f: getattr(f, "status_code", type(f).__name__),
)
def test_transient_failures_are_retried_until_success(
    make_api: Callable[..., ConvivaAPI],
    clock: VirtualClock,
    failure: httpx2.Response | Exception,
) -> None:
    handler, seen = scripted(failure, failure, httpx2.Response(200, json=OK_BODY))
    api = make_api(handler)
    result = api.get_kpis()
    assert result["kpis"] == []
    assert len(seen) == 3
    retry_after = getattr(failure, "headers", {}).get("retry-after")
    assert clock.sleeps == ((0.5, 0.5) if retry_after else (0.5, 1.0))


def test_a_429_without_retry_after_waits_out_the_window_instead_of_backing_off(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    full = error(429, {"message": "Too Many Requests"})
    handler, seen = scripted(full, full, httpx2.Response(200, json=OK_BODY))
    caplog.set_level(logging.INFO, logger="pyconviva")
    assert make_api(handler).get_kpis()["kpis"] == []
    assert len(seen) == 3
    assert clock.sleeps == (61.0, 61.0)  # a minute's window plus the arrival margin, each time
    pauses = [r for r in caplog.records if r.levelno == logging.INFO]
    assert [r.getMessage()[:44] for r in pauses] == [
        "waiting for the rate-limit window (61 s): th"
    ] * 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_answers_about_the_request_are_never_retried(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock, status: int
) -> None:
    handler, seen = scripted(error(status, {"message": "no"}), httpx2.Response(200, json=OK_BODY))
    api = make_api(handler)
    with pytest.raises(APIStatusError):
        api.get_kpis()
    assert len(seen) == 1
    assert clock.sleeps == ()


def test_gives_up_after_max_retries_with_the_last_error(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    handler, seen = scripted(
        error(503, {"message": "first"}),
        error(502, {"message": "second"}),
        error(500, {"message": "third"}),
        error(504, {"message": "last"}),
        httpx2.Response(200, json=OK_BODY),
    )
    api = make_api(handler, retry=RetryPolicy(max_retries=3, jitter=0.0))
    with pytest.raises(ServerError) as caught:
        api.get_kpis()
    assert caught.value.status_code == 504
    assert caught.value.message == "last"
    assert "Gave up after 4 attempts" in str(caught.value)
    assert len(seen) == 4
    assert clock.sleeps == (0.5, 1.0, 2.0)


def test_gives_up_on_connection_errors_with_the_last_cause(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    last = httpx2.ConnectError("still refused")
    handler, seen = scripted(httpx2.ConnectError("refused"), last)
    api = make_api(handler, retry=RetryPolicy(max_retries=1, jitter=0.0))
    with pytest.raises(APIConnectionError) as caught:
        api.get_kpis()
    assert caught.value.__cause__ is last
    assert "still refused" in str(caught.value)
    assert "Gave up after 2 attempts" in str(caught.value)
    assert caught.value.request == "GET https://api.conviva.com/insights/3.0/kpis"
    assert len(seen) == 2


def test_zero_max_retries_sends_once(make_api: Callable[..., ConvivaAPI]) -> None:
    handler, seen = scripted(error(503), httpx2.Response(200, json=OK_BODY))
    api = make_api(handler, max_retries=0, retry=None)
    with pytest.raises(ServerError) as caught:
        api.get_kpis()
    assert len(seen) == 1
    assert "Gave up" not in str(caught.value)


def test_retry_after_seconds_are_honoured(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    handler, seen = scripted(
        error(429, {"message": "Too Many Requests"}, **{"Retry-After": "7"}),
        error(503, None, **{"Retry-After": "0"}),
        httpx2.Response(200, json=OK_BODY),
    )
    make_api(handler).get_kpis()
    assert clock.sleeps == (7.0,)  # and "0" means at once
    assert len(seen) == 3


def test_retry_after_http_date_is_read_against_the_client_clock(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    when = format_datetime(NOW + timedelta(seconds=12), usegmt=True)
    handler, _ = scripted(
        error(429, None, **{"Retry-After": when}), httpx2.Response(200, json=OK_BODY)
    )
    make_api(handler).get_kpis()
    assert clock.sleeps == (12.0,)


def test_a_retry_after_of_a_minute_or_more_is_obeyed_when_it_fits_the_deadline(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    handler, seen = scripted(
        error(429, None, **{"Retry-After": "120"}),
        error(503, None, **{"Retry-After": "90"}),
        httpx2.Response(200, json=OK_BODY),
    )
    make_api(handler).get_kpis()
    assert clock.sleeps == (120.0, 90.0)
    assert len(seen) == 3


def test_a_retry_after_past_the_deadline_ends_the_call_and_the_error_says_so(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    handler, seen = scripted(
        error(503, {"message": "down for maintenance"}, **{"Retry-After": "3600"}),
        httpx2.Response(200, json=OK_BODY),
    )
    with pytest.raises(ServerError) as caught:
        make_api(handler).get_kpis()
    assert clock.sleeps == ()  # never waits less than the server asked, nor past the deadline
    assert len(seen) == 1
    text = str(caught.value)
    assert "the server asked to wait 3600 s (Retry-After), past the deadline" in text
    assert "total_timeout=300 s" in text


def test_a_retry_after_longer_than_a_cap_given_ends_the_call_and_says_so(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    handler, _ = scripted(
        error(429, None, **{"Retry-After": "99999"}), httpx2.Response(200, json=OK_BODY)
    )
    policy = RetryPolicy(jitter=0.0, retry_after_cap=30.0)
    with pytest.raises(
        RateLimitError, match=r"99999 s \(Retry-After\), longer than retry_after_cap=30 s"
    ):
        make_api(handler, retry=policy).get_kpis()
    assert clock.sleeps == ()


def test_an_unreadable_retry_after_falls_back_to_the_clients_own_wait(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    handler, _ = scripted(
        error(503, None, **{"Retry-After": "whenever"}),
        error(429, None, **{"Retry-After": "soon"}),
        httpx2.Response(200, json=OK_BODY),
    )
    make_api(handler).get_kpis()
    assert clock.sleeps == (0.5, 61.0)  # backoff after the 503; the window after the 429


def test_the_total_time_budget_stops_retries_early(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    handler, seen = scripted(
        error(429, None, **{"Retry-After": "4"}),
        error(429, None, **{"Retry-After": "4"}),
        error(429, {"message": "still limited"}, **{"Retry-After": "4"}),
        httpx2.Response(200, json=OK_BODY),
    )
    policy = RetryPolicy(max_retries=10, jitter=0.0, total_timeout=10.0)
    with pytest.raises(RateLimitError) as caught:
        make_api(handler, retry=policy).get_kpis()
    assert clock.sleeps == (4.0, 4.0)  # a third wait would end at 12 s, past the 10 s budget
    assert len(seen) == 3
    assert "total_timeout=10 s" in str(caught.value)


def test_time_spent_waiting_for_replies_counts_against_the_budget(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    def slow_failure(request: httpx2.Request) -> httpx2.Response:
        clock.advance(9.0)  # the server took 9 s to fail
        return error(503)

    api = make_api(slow_failure, retry=RetryPolicy(max_retries=5, jitter=0.0, total_timeout=20.0))
    with pytest.raises(ServerError):
        api.get_kpis()
    assert clock.sleeps == (0.5, 1.0)  # after 3 slow attempts (28.5 s) no wait fits


def test_each_retry_is_logged_at_warning_with_attempt_reason_and_delay(
    make_api: Callable[..., ConvivaAPI], caplog: pytest.LogCaptureFixture
) -> None:
    handler, _ = scripted(
        error(503), httpx2.ReadTimeout("slow"), httpx2.Response(200, json=OK_BODY)
    )
    caplog.set_level(logging.WARNING, logger="pyconviva")
    make_api(handler).get_kpis()
    retries = [r for r in caplog.records if r.name == "pyconviva"]
    assert [r.levelno for r in retries] == [logging.WARNING, logging.WARNING]
    assert [(r.attempt, r.reason, r.delay) for r in retries] == [  # type: ignore[attr-defined]
        (1, "HTTP 503", 0.5),
        (2, "timeout (ReadTimeout)", 1.0),
    ]
    assert (
        "Retrying GET https://api.conviva.com/insights/3.0/kpis in 0.50 s"
        in retries[0].getMessage()
    )


def test_jitter_shortens_the_wait_without_touching_the_process_random_state(
    make_api: Callable[..., ConvivaAPI], clock: VirtualClock
) -> None:
    handler, _ = scripted(error(503), httpx2.Response(200, json=OK_BODY))
    api = make_api(handler, retry=RetryPolicy(jitter=0.5))
    before = random.getstate()
    api.get_kpis()
    assert random.getstate() == before  # each client draws from its own random source
    (wait,) = clock.sleeps
    assert 0.25 <= wait <= 0.5


# --- against the emulator: its real error replies and scripted faults -----------------------


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(now=NOW)


def emulated(emulator: Emulator, clock: VirtualClock, **options: Any) -> ConvivaAPI:
    options.setdefault("retry", RetryPolicy(jitter=0.0))
    return emulator.client(clock=clock, **options)


@pytest.mark.parametrize(
    ("faults", "sleeps"),
    [
        ([StatusFault(status=503, times=2)], [0.5, 1.0]),
        ([RateLimitStorm(times=2, retry_after=3)], [3.0, 3.0]),
        ([DropConnection()], [0.5]),
        ([TruncateBody(keep=0.3)], [0.5]),
        ([NonJSONBody(status=502)], [0.5]),
        ([SlowReply(delay=5.0)], [0.5]),
        ([StatusFault(status=500), DropConnection(), RateLimitStorm(times=1)], [0.5, 1.0, 61.0]),
    ],
    ids=["503x2", "429-storm", "drop", "truncate", "html-502", "slow", "mixed"],
)
def test_scripted_faults_are_retried_to_the_same_answer_as_a_clean_call(
    emulator: Emulator, clock: VirtualClock, faults: list[Fault], sleeps: list[float]
) -> None:
    with emulated(emulator, clock, timeout=1.0) as api:
        clean = api.get_historical_data("attempts", group_by="isp", time_range=2)
        emulator.add_faults(*faults)
        recovered = api.get_historical_data("attempts", group_by="isp", time_range=2)
    assert dict(recovered) == dict(clean)
    assert list(clock.sleeps) == sleeps
    assert len(emulator.requests()) == 1 + len(sleeps) + 1


def test_a_non_json_success_reply_is_not_retried(emulator: Emulator, clock: VirtualClock) -> None:
    emulator.add_faults(NonJSONBody(status=200))
    with emulated(emulator, clock) as api, pytest.raises(UnexpectedResponseError):
        api.get_kpis()
    assert clock.sleeps == ()


def test_a_429_storm_longer_than_the_deadline_raises_the_last_error_and_says_why(
    emulator: Emulator, clock: VirtualClock
) -> None:
    emulator.add_faults(RateLimitStorm(times=10))
    with emulated(emulator, clock) as api, pytest.raises(RateLimitError) as caught:
        api.get_real_time_data("attempts")
    assert caught.value.message == "Too Many Requests"
    # Four full windows waited out (0, 61, 122, 183 -> 244 s); a fifth would end past 300 s.
    assert len(emulator.requests()) == 5
    assert clock.sleeps == (61.0,) * 4
    assert "Gave up after 5 attempts in 244.0 s" in str(caught.value)
    assert "the rate-limit window frees in 61 s, past the deadline" in str(caught.value)


def test_the_emulator_refuses_a_wrong_key_with_a_helpful_401(
    emulator: Emulator, clock: VirtualClock
) -> None:
    with (
        emulated(emulator, clock, client_key="not-the-key") as api,
        pytest.raises(AuthenticationError) as caught,
    ):
        api.get_available_dimensions()
    assert caught.value.body == {"message": "Unauthorized"}
    assert "'demo'… (14 chars)" in str(caught.value)
    assert "not-the-key" not in str(caught.value)


def test_the_emulator_404_for_a_misspelt_metric_gets_suggestions(
    emulator: Emulator, clock: VirtualClock
) -> None:
    with emulated(emulator, clock) as api, pytest.raises(NotFoundError) as caught:
        api.get_historical_data("rebuffering-ration", group_by="isp")
    assert caught.value.body is not None
    # The emulator suggests names itself; the client then adds no second list.
    assert str(caught.value).count("did you mean 'rebuffering-ratio'") == 1
    assert len(emulator.requests()) == 1


def test_the_emulator_404_for_a_misspelt_dimension_gets_suggestions(
    emulator: Emulator, clock: VirtualClock
) -> None:
    with emulated(emulator, clock) as api, pytest.raises(NotFoundError) as caught:
        api.get_historical_data("attempts", group_by="cdnn")
    assert str(caught.value).lower().count("did you mean 'cdn'") == 1


@pytest.mark.network
@pytest.mark.parametrize("fault", [DropConnection(), TruncateBody(keep=0.5)], ids=["drop", "cut"])
def test_faults_on_a_real_socket_are_retried(
    emulator: Emulator, clock: VirtualClock, fault: Fault
) -> None:
    with (
        emulator.serve() as url,
        emulated(emulator, clock, base_url=url, transport=None) as api,
    ):
        clean = api.get_kpis()
        emulator.add_faults(fault)
        assert dict(api.get_kpis()) == dict(clean)
    assert clock.sleeps == (0.5,)


def test_a_final_404_after_a_retried_fault_does_not_claim_retries_ran_out(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    handler, seen = scripted(
        error(503, {"message": "Service Unavailable"}), error(404, {"message": "unknown metric"})
    )
    api = make_api(handler)
    with pytest.raises(NotFoundError) as caught:
        api.get_historical_data("attempts")
    assert len(seen) == 2
    assert "Gave up" not in str(caught.value)


def test_an_html_error_page_is_summarised_by_its_title(
    make_api: Callable[..., ConvivaAPI],
) -> None:
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway &amp; co</title></head><body>" + (
        b"<p>nginx</p>" * 50
    )

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(502, content=page, headers={"content-type": "text/html"})

    api = make_api(handler, retry=RetryPolicy(max_retries=0))
    with pytest.raises(ServerError) as caught:
        api.get_kpis()
    assert caught.value.message == "502 Bad Gateway & co (an HTML page, not the API's JSON)"
    assert "<" not in str(caught.value)
