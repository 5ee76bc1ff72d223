"""Every rule of the emulated API answers with its status and an error body saying what to fix."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

from pyconviva.emulator._service import EmulatorRequest, MetricsService, ServiceSettings

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)
HISTORICAL = "/insights/3.0/metrics"
REAL_TIME = "/insights/3.0/real-time-metrics"
SERVICE = MetricsService(ServiceSettings())


def basic(credentials: bytes) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(credentials).decode()}


AUTH = basic(b"demo-client-id:demo-client-key")


def call(path: str, *query: tuple[str, str], method: str = "GET") -> tuple[int, dict[str, str]]:
    reply = SERVICE.handle(EmulatorRequest(method, path, query, AUTH), NOW)
    return reply.status, json.loads(reply.body)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(b"demo-client-id:wrong-key"),
        basic(b"someone-else:demo-client-key"),
        basic(b"no-colon-here"),
        {"authorization": "Basic not base64!"},
        {"authorization": "Bearer demo-client-key"},
    ],
)
def test_missing_or_wrong_credentials_get_401_with_the_gateway_body(
    headers: dict[str, str],
) -> None:
    request = EmulatorRequest("GET", f"{HISTORICAL}/nonexistent", (("days", "1"),), headers)
    reply = SERVICE.handle(request, NOW)
    assert (reply.status, reply.body) == (401, b'{"message":"Unauthorized"}')
    assert SERVICE.authenticate(headers) == reply


def test_configured_credentials_are_the_ones_accepted() -> None:
    service = MetricsService(ServiceSettings(client_id="me", client_key="s3cret"))
    assert service.authenticate(basic(b"me:s3cret")) is None
    assert service.authenticate(AUTH) is not None
    assert "s3cret" not in repr(ServiceSettings(client_key="s3cret"))


@pytest.mark.parametrize(
    ("path", "query", "fragment"),
    [
        (f"{HISTORICAL}/atempts", (("days", "1"),), "did you mean 'attempts'"),
        (f"{HISTORICAL}/attempts/group-by/country", (("days", "1"),), "group-by dimension"),
        (f"{HISTORICAL}/attempts/group-by/device_os", (("days", "1"),), "'device-os'"),
        (f"{HISTORICAL}/attempts/group-by/dimension-tag/appversion", (), "case-sensitive"),
        (f"{HISTORICAL}/attempts/by/isp", (), "group-by/<dimension>"),
        ("/insights/2.4/metrics.json", (), "/insights/3.0/metrics/"),
        (f"{REAL_TIME}/_meta/references/dimensions", (), "unknown metric"),
        (f"{HISTORICAL}/_meta/references/accounts", (), "_meta/references/dimensions"),
        # 404 comes before 400: the bad parameter is not even looked at.
        (f"{HISTORICAL}/nonexistent", (("limit", "9999"),), "unknown metric"),
    ],
)
def test_unknown_paths_get_404_naming_what_exists(
    path: str, query: tuple[tuple[str, str], ...], fragment: str
) -> None:
    status, body = call(path, *query)
    assert (status, body["name"]) == (404, "NotFound")
    assert fragment in body["message"]


@pytest.mark.parametrize(
    ("path", "query", "fragment"),
    [
        (f"{HISTORICAL}/attempts", (), "a time range is required"),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("start_epoch", "1")), "several styles"),
        (f"{HISTORICAL}/attempts", (("minutes", "5"),), "'minutes' is not supported"),
        (f"{REAL_TIME}/attempts", (("days", "1"),), "'days' is not supported"),
        (f"{HISTORICAL}/attempts", (("start_date", "2025-01-09"),), "needs end_date"),
        (
            f"{HISTORICAL}/attempts",
            (("start_date", "yesterday"), ("end_date", "2025-01-09")),
            "ISO 8601",
        ),
        (f"{HISTORICAL}/attempts", (("start_epoch", "1.5e9"), ("end_epoch", "2")), "whole"),
        (f"{HISTORICAL}/attempts", (("days", "0"),), "at least 1"),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("granularity", "PT7M")), "PT10M"),
        (f"{REAL_TIME}/attempts", (("granularity", "PT1H"),), "PT10S..PT59S"),
        (
            f"{HISTORICAL}/attempts",
            (("start_date", "2025-01-09"), ("end_date", "2025-01-08")),
            "start must be before the end",
        ),
        (
            f"{HISTORICAL}/custom-selection",
            (("days", "1"), *(("metric", m) for m in ("attempts",) * 13)),
            "at most 12",
        ),
        (f"{HISTORICAL}/custom-selection", (("days", "1"),), "at least one metric"),
        (
            f"{HISTORICAL}/custom-selection",
            (("days", "1"), ("metric", "plays"), ("metric", "bitrat")),
            "did you mean 'bitrate'",
        ),
        (
            f"{HISTORICAL}/custom-selection",
            (("days", "1"), ("metric", "plays"), ("metric", "plays")),
            "twice",
        ),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("metric", "plays")), "custom-selection"),
        (
            f"{HISTORICAL}/attempts",
            (("days", "1"), ("filter_id", "180"), ("isp", "Optus")),
            "cannot be combined",
        ),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("filter_id", "999")), "180 (Live Only)"),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("kpi_id", "7")), "1 (Conviva Good)"),
        (f"{HISTORICAL}/attempts/group-by/isp", (("days", "1"), ("limit", "501")), "1 to 500"),
        (f"{HISTORICAL}/attempts/group-by/isp", (("days", "1"), ("limit", "0")), "1 to 500"),
        (f"{HISTORICAL}/attempts/group-by/isp", (("days", "1"), ("limit", "ten")), "whole"),
        (f"{HISTORICAL}/attempts/group-by/isp", (("days", "1"), ("order", "up")), "asc or desc"),
        (
            f"{HISTORICAL}/attempts/group-by/isp",
            (("days", "1"), ("sort_by", "bitrate")),
            "not among the requested",
        ),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("sort_by", "attempts")), "group-by"),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("limit", "5")), "group-by"),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("device-os", "iOS")), "device_os=<value>"),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("metrics", "plays")), "'metrics'"),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("days", "2")), "given twice"),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("no_nils", "yes")), "true or false"),
        (f"{HISTORICAL}/attempts", (("days", "1"), ("tag_AppVersion", "6.2.0")), "tag_"),
        (f"{HISTORICAL}/_meta/references/filters", (("days", "1"),), "no parameters"),
        # 400 comes before 422: the over-long range is not looked at.
        (f"{HISTORICAL}/attempts", (("days", "200"), ("order", "up")), "group-by"),
    ],
)
def test_malformed_requests_get_400_naming_the_parameter_and_the_fix(
    path: str, query: tuple[tuple[str, str], ...], fragment: str
) -> None:
    status, body = call(path, *query)
    assert (status, body["name"]) == (400, "BadRequest"), body
    assert fragment in body["message"]


@pytest.mark.parametrize(
    ("path", "query", "fragment"),
    [
        (f"{HISTORICAL}/attempts", (("days", "91"),), "90 days"),
        (
            f"{HISTORICAL}/attempts",
            (("start_date", "2023-12-01"), ("end_date", "2023-12-02")),
            "13 months",
        ),
        (
            f"{HISTORICAL}/attempts",
            (("start_date", "2024-11-01"), ("end_date", "2024-11-02"), ("granularity", "PT1M")),
            "minutely",
        ),
        (
            f"{HISTORICAL}/attempts",
            (
                ("start_date", "2025-01-08"),
                ("end_date", "2025-01-09T01:00:00Z"),
                ("granularity", "PT5M"),
            ),
            "24 hours",
        ),
        (
            f"{HISTORICAL}/attempts/group-by/isp",
            (
                ("start_date", "2025-01-09T00:00:00Z"),
                ("end_date", "2025-01-09T02:00:00Z"),
                ("granularity", "PT1M"),
            ),
            "1 hour",
        ),
        (f"{HISTORICAL}/attempts/group-by/isp", (("days", "2"), ("limit", "51")), "limit=51"),
        (f"{REAL_TIME}/attempts", (("minutes", "16"),), "15 minutes"),
        (
            f"{REAL_TIME}/attempts",
            (("start_date", "2025-01-10T12:00:00Z"), ("end_date", "2025-01-10T12:10:00Z")),
            "earliest allowed start",
        ),
    ],
)
def test_ranges_outside_the_limits_get_422(
    path: str, query: tuple[tuple[str, str], ...], fragment: str
) -> None:
    status, body = call(path, *query)
    assert (status, body["name"]) == (422, "UnprocessableEntity"), body
    assert fragment in body["message"]


def test_limit_over_fifty_is_fine_within_a_day() -> None:
    assert call(f"{HISTORICAL}/attempts/group-by/isp", ("days", "1"), ("limit", "500"))[0] == 200


def test_other_methods_get_405_with_allow_get() -> None:
    reply = SERVICE.handle(EmulatorRequest("POST", f"{HISTORICAL}/attempts", (), AUTH), NOW)
    assert reply.status == 405
    assert ("allow", "GET") in reply.headers
    assert json.loads(reply.body)["name"] == "MethodNotAllowed"


def test_a_legal_reply_over_the_size_cap_gets_413() -> None:
    status, body = call(f"{HISTORICAL}/quality-summary/group-by/cdn-edge-server", ("days", "90"))
    assert (status, body["name"]) == (413, "RequestEntityTooLarge")
    assert "5,700,000 bytes" in body["message"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        (f"{HISTORICAL}/quality-summary", (("days", "2"),)),
        (f"{HISTORICAL}/audience/group-by/geo-city-name", (("days", "1"), ("filter_id", "180"))),
        (f"{REAL_TIME}/custom-selection/group-by/dimension-tag/title", (("metric", "plays"),)),
        (f"{HISTORICAL}/attempts", ()),
    ],
)
def test_replies_are_exactly_the_compact_json_of_their_content(
    path: str, query: tuple[tuple[str, str], ...]
) -> None:
    reply = SERVICE.handle(EmulatorRequest("GET", path, query, AUTH), NOW)
    assert reply.headers == (("content-type", "application/json"),)
    assert reply.body == json.dumps(json.loads(reply.body), separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        (f"{HISTORICAL}/attempts", (("days", "1"),), ("metrics", 1)),
        (f"{REAL_TIME}/attempts", (("isp", "Optus"), ("isp", "BT")), ("real-time-metrics", 2)),
        (
            f"{HISTORICAL}/attempts/group-by/isp",
            (("days", "1"), ("device_os", "iOS"), ("tag_title", "Starfall"), ("isp", "BT")),
            ("metrics", 3),
        ),
        (f"{REAL_TIME}/attempts", (("filter_id", "180"),), ("real-time-metrics", 1)),
        (HISTORICAL, (), (None, 1)),
        ("/insights/3.0/kpis", (), (None, 1)),
        (f"{HISTORICAL}/_meta/references/dimensions", (), (None, 1)),
        (f"{HISTORICAL}/nonexistent", (), (None, 1)),
    ],
)
def test_rate_cost_names_the_budget_and_counts_filter_values(
    path: str, query: tuple[tuple[str, str], ...], expected: tuple[str | None, int]
) -> None:
    assert SERVICE.rate_cost(EmulatorRequest("GET", path, query, {})) == expected
