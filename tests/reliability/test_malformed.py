"""A corpus of malformed replies, each driven through the real client over an httpx2
MockTransport, on a 200 and on error statuses.

Every body ends in one of two ways, never in a KeyError/TypeError/OverflowError from inside:
a ConvivaError subclass that names the request (UnexpectedResponseError for a 2xx reply that is
not a usable Metrics V3 reply, the status's APIStatusError otherwise), or — when the reply is
still usable — a MetricsResult whose ``notes`` say what was skipped and whose records(),
to_pandas() and totals() work.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx2
import pytest

from pyconviva import (
    APIStatusError,
    AsyncConvivaAPI,
    BadRequestError,
    ConvivaAPI,
    ConvivaError,
    MetadataResult,
    MetricsResult,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
)
from pyconviva._exceptions import status_error_class

NOW = datetime(2026, 11, 20, 12, 34, 56, tzinfo=timezone.utc)
EPOCH = 1_763_596_800_000  # 2025-11-20T00:00:00Z
JSON = "application/json"

OK_BUCKET = {"timestamp": {"epoch_ms": EPOCH, "iso_date": "2025-11-20T00:00:00Z"}}


def bucket(**metrics: Any) -> dict[str, Any]:
    return {**OK_BUCKET, **metrics}


def row(value: Any, metrics: Any) -> dict[str, Any]:
    return {"dimension": {"key": "isp", "value": value}, "metrics": metrics}


def grouped(*rows: Any, total: Any = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"time_series": [{**OK_BUCKET, "dimensional_data": list(rows)}]}
    if total is not None:
        reply["total"] = total
    return reply


@dataclass(frozen=True)
class Body:
    """One reply body: its bytes and content type, whether a result can still be read from it,
    and — when usable — whether something had to be skipped (and said so in ``notes``)."""

    name: str
    content: bytes
    content_type: str = JSON
    usable: bool = False
    skips: bool = False
    grouped: bool = False


def one_bucket(members: bytes) -> bytes:
    """A one-bucket reply written by hand, for literals json.dumps cannot write (NaN, 1e400)."""
    return b'{"time_series": [{"timestamp": {"epoch_ms": 1763596800000}, ' + members + b"}]}"


def js(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


UNUSABLE: list[Body] = [
    # valid JSON of the wrong shape
    Body("a JSON list", b"[]"),
    Body("a list of buckets", js([OK_BUCKET])),
    Body("a JSON string", b'"ok"'),
    Body("a JSON number", b"42"),
    Body("JSON null", b"null"),
    Body("JSON true", b"true"),
    Body("an empty object", b"{}"),
    Body("time_series an object", js({"time_series": {}})),
    Body("time_series null", js({"time_series": None})),
    Body("time_series a string", js({"time_series": "[]"})),
    Body("data instead of time_series", js({"data": [OK_BUCKET]})),
    # missing fields, nulls and unexpected types where a bucket must have them
    Body("a bucket without timestamp", js({"time_series": [{"attempts": {"count": 1}}]})),
    Body("a bucket without epoch_ms", js({"time_series": [{"timestamp": {"iso_date": "x"}}]})),
    Body("epoch_ms null", js({"time_series": [{"timestamp": {"epoch_ms": None}}]})),
    Body("epoch_ms a string", js({"time_series": [{"timestamp": {"epoch_ms": "1"}}]})),
    Body("epoch_ms a boolean", js({"time_series": [{"timestamp": {"epoch_ms": True}}]})),
    Body("epoch_ms NaN", b'{"time_series": [{"timestamp": {"epoch_ms": NaN}}]}'),
    Body("epoch_ms fractional", js({"time_series": [{"timestamp": {"epoch_ms": 1.5}}]})),
    Body("timestamp a number", js({"time_series": [{"timestamp": EPOCH}]})),
    Body("a bucket that is a string", js({"time_series": ["2025-11-20"]})),
    Body("a bucket that is null", js({"time_series": [None]})),
    Body(
        "dimensional_data an object",
        js({"time_series": [{**OK_BUCKET, "dimensional_data": {"isp": 1}}]}),
        grouped=True,
    ),
    # not JSON at all
    Body("an empty body", b""),
    Body("whitespace only", b"  \n\t "),
    Body(
        "an HTML error page",
        b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
        b"<body><h1>502 Bad Gateway</h1></body></html>",
        "text/html; charset=utf-8",
    ),
    Body("a captive-portal page", b"<html><body>Please log in</body></html>", "text/html"),
    Body("plain text", b"Service Unavailable", "text/plain"),
    Body("XML", b'<?xml version="1.0"?><error>boom</error>', "application/xml"),
    Body("JSON cut short", b'{"time_series": [{"timestamp": {"epoch_ms": 17'),
    Body("two JSON documents", b'{"time_series": []}{"time_series": []}'),
    Body("invalid UTF-8", b'{"time_series": [], "x": "\xff\xfe"}'),
    Body("a NUL byte", b'{"time_series": []}\x00'),
    Body(
        "a 5000-digit integer",
        b'{"time_series": [], "total": {"a": {"count": 1' + b"0" * 5000 + b"}}}",
    ),
    Body("JSONP", b'callback({"time_series": []})', "application/javascript"),
]

USABLE: list[Body] = [
    Body(
        "JSON with a text/plain content type",
        js({"time_series": [bucket(attempts={"count": 3})]}),
        "text/plain",
        usable=True,
    ),
    Body("JSON with an HTML content type", js({"time_series": []}), "text/html", usable=True),
    Body("JSON with no content type", js({"time_series": []}), "", usable=True),
    Body("a UTF-8 byte order mark", b"\xef\xbb\xbf" + js({"time_series": []}), usable=True),
    Body("UTF-16 JSON (json detects it)", '{"time_series": []}'.encode("utf-16"), usable=True),
    Body("no buckets at all", js({"time_series": [], "total": {}}), usable=True),
    Body(
        "unknown extra fields",
        js({"time_series": [bucket(attempts={"count": 1})], "x": [1, {"y": None}]}),
        usable=True,
    ),
    Body(
        "a metric value null",
        js({"time_series": [bucket(attempts=None, plays={"count": 2})]}),
        usable=True,
        skips=True,
    ),
    Body(
        "a metric value null in a later bucket",
        js(
            {
                "time_series": [
                    bucket(attempts={"count": 1}),
                    {**bucket(attempts=None), "timestamp": {"epoch_ms": EPOCH + 3_600_000}},
                ]
            }
        ),
        usable=True,
        skips=True,
    ),
    Body(
        "a field value null",
        js({"time_series": [bucket(attempts={"count": None})]}),
        usable=True,
        skips=True,
    ),
    Body(
        "NaN",
        one_bucket(b'"attempts": {"count": NaN}'),
        usable=True,
        skips=True,
    ),
    Body(
        "Infinity",
        one_bucket(b'"attempts": {"count": Infinity, "x": -Infinity}'),
        usable=True,
        skips=True,
    ),
    Body(
        "1e400 (overflows to inf)",
        one_bucket(b'"bitrate": {"bps": 1e400}'),
        usable=True,
        skips=True,
    ),
    Body(
        "a number as a string",
        js({"time_series": [bucket(attempts={"count": "12"})]}),
        usable=True,
        skips=True,
    ),
    Body(
        "a boolean value",
        js({"time_series": [bucket(attempts={"count": True})]}),
        usable=True,
        skips=True,
    ),
    Body(
        "a list value",
        js({"time_series": [bucket(attempts={"count": [1, 2]})]}),
        usable=True,
        skips=True,
    ),
    Body(
        "a nested object value",
        js({"time_series": [bucket(attempts={"count": {"v": 1}})]}),
        usable=True,
        skips=True,
    ),
    Body(
        "a bare number instead of a value object",
        js({"time_series": [bucket(attempts=5)]}),
        usable=True,
        skips=True,
    ),
    Body(
        "metrics differing between buckets",
        js(
            {
                "time_series": [
                    bucket(attempts={"count": 1}),
                    {**bucket(plays={"count": 2}), "timestamp": {"epoch_ms": EPOCH + 3_600_000}},
                ]
            }
        ),
        usable=True,
    ),
    Body(
        "a float epoch_ms with no fraction",
        js({"time_series": [{"timestamp": {"epoch_ms": float(EPOCH)}, "attempts": {"count": 1}}]}),
        usable=True,
    ),
    Body(
        "total null",
        js({"time_series": [bucket(attempts={"count": 1})], "total": None}),
        usable=True,
    ),
    Body(
        "total a list",
        js({"time_series": [bucket(attempts={"count": 1})], "total": [1]}),
        usable=True,
        skips=True,
    ),
    Body(
        "total values NaN and strings",
        b'{"time_series": [], "total": {"attempts": {"count": NaN, "p": "1"}, "plays": null}}',
        usable=True,
        skips=True,
    ),
    Body("_meta of the wrong type", js({"time_series": [], "_meta": [None]}), usable=True),
    # grouped replies
    Body(
        "a group-by row without a dimension value",
        js(
            grouped(row(None, {"attempts": {"count": 1}}), row("Optus", {"attempts": {"count": 2}}))
        ),
        usable=True,
        skips=True,
        grouped=True,
    ),
    Body(
        "a group-by row that is null",
        js(grouped(None, row("Optus", {"attempts": {"count": 2}}))),
        usable=True,
        skips=True,
        grouped=True,
    ),
    Body(
        "a numeric dimension value",
        js(grouped(row(7018, {"attempts": {"count": 1}}))),
        usable=True,
        grouped=True,
    ),
    Body(
        "a dimension value that is an object",
        js(grouped(row({"v": 1}, {"attempts": {"count": 1}}))),
        usable=True,
        skips=True,
        grouped=True,
    ),
    Body(
        "a group-by metric value null in the first row",
        js(grouped(row("Optus", {"attempts": None, "plays": {"count": 1}}))),
        usable=True,
        skips=True,
        grouped=True,
    ),
    Body(
        "group-by metrics null",
        js(grouped(row("Optus", None), row("Telstra", {"attempts": {"count": 2}}))),
        usable=True,
        skips=True,
        grouped=True,
    ),
    Body(
        "group-by metrics a list",
        js(grouped(row("Optus", [1]), row("Telstra", {"attempts": {"count": 2}}))),
        usable=True,
        skips=True,
        grouped=True,
    ),
    Body(
        "a bucket without dimensional_data",
        js({"time_series": [OK_BUCKET]}),
        usable=True,
        grouped=True,
    ),
    Body(
        "group-by NaN and null values",
        one_bucket(
            b'"dimensional_data": [{"dimension": {"key": "isp", "value": "Optus"}, '
            b'"metrics": {"attempts": {"count": NaN}, '
            b'"plays": {"count": null, "percentage": 9.5}}}]'
        ),
        usable=True,
        skips=True,
        grouped=True,
    ),
]

# Bodies that are usable JSON but hold values no table can show, and what the client does now.
EXTREME: list[Body] = [
    Body(
        "a huge integer value",
        js(
            {
                "time_series": [bucket(attempts={"count": 10**30})],
                "total": {"attempts": {"count": 10**30}},
            }
        ),
        usable=True,
    ),
    Body(
        "a huge float value", js({"time_series": [bucket(bitrate={"bps": 1.7e308})]}), usable=True
    ),
    Body(
        "an epoch_ms far past year 9999",
        js({"time_series": [{"timestamp": {"epoch_ms": 10**20}, "attempts": {"count": 1}}]}),
    ),
    Body(
        "an epoch_ms float 1e300",
        b'{"time_series": [{"timestamp": {"epoch_ms": 1e300}, "attempts": {"count": 1}}]}',
    ),
    Body(
        "a negative epoch_ms before year 1",
        js({"time_series": [{"timestamp": {"epoch_ms": -(10**17)}, "attempts": {"count": 1}}]}),
    ),
    Body("JSON nested 100000 deep", b"[" * 100_000 + b"]" * 100_000),
]

CORPUS = UNUSABLE + USABLE


def handler_for(status: int, body: Body) -> Callable[[httpx2.Request], httpx2.Response]:
    headers = {"content-type": body.content_type} if body.content_type else {}

    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers=headers, content=body.content)

    return handle


@pytest.fixture
def client() -> Iterator[Callable[[int, Body], ConvivaAPI]]:
    made: list[ConvivaAPI] = []

    def make(status: int, body: Body) -> ConvivaAPI:
        api = ConvivaAPI(
            "corpus-key",
            "corpus-id",
            transport=httpx2.MockTransport(handler_for(status, body)),
            clock=lambda: NOW,
            max_retries=0,
        )
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


def fetch(api: ConvivaAPI, body: Body) -> MetricsResult:
    if body.grouped:
        return api.get_historical_data(["attempts", "plays"], group_by="isp", time_range=1)
    return api.get_historical_data(["attempts", "plays", "bitrate"], time_range=1)


def exercise(result: MetricsResult) -> None:
    """Every table view of a usable result; each value is a finite number."""
    records = result.records()
    for record in records:
        assert isinstance(record["value"], (int, float))
        assert math.isfinite(record["value"])
        assert record["timestamp"].tzinfo is not None
    frame = result.to_pandas()
    assert len(frame) == len(records)
    wide = result.to_pandas(wide=True)
    assert len(wide) <= max(len(records), 1)
    for total in result.totals():
        assert math.isfinite(total["value"])
    repr(result)


@pytest.mark.parametrize("body", UNUSABLE, ids=lambda b: b.name)
def test_an_unusable_200_reply_raises_unexpected_response_error_naming_the_request(
    client: Callable[[int, Body], ConvivaAPI], body: Body
) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        fetch(client(200, body), body)
    assert "/insights/3.0/metrics/" in str(caught.value)
    assert caught.value.request is not None


@pytest.mark.parametrize("body", USABLE, ids=lambda b: b.name)
def test_a_usable_200_reply_gives_a_result_that_says_what_was_skipped(
    client: Callable[[int, Body], ConvivaAPI], body: Body
) -> None:
    result = fetch(client(200, body), body)
    assert isinstance(result, MetricsResult)
    assert result.is_partial == body.skips, result.notes
    for note in result.notes:
        assert note.startswith("skipped ")
    exercise(result)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (418, APIStatusError),
    ],
)
@pytest.mark.parametrize("body", CORPUS, ids=lambda b: b.name)
def test_any_body_on_an_error_status_raises_that_status_error(
    client: Callable[[int, Body], ConvivaAPI],
    body: Body,
    status: int,
    expected: type[APIStatusError],
) -> None:
    with pytest.raises(APIStatusError) as caught:
        fetch(client(status, body), body)
    error = caught.value
    assert type(error) is expected is status_error_class(status)
    assert error.status_code == status
    assert error.message
    assert len(error.message) <= 250
    assert "/insights/3.0/metrics/" in str(error)


@pytest.mark.parametrize("kind", ["dimensions", "filters", "kpis", "endpoints"])
@pytest.mark.parametrize("body", CORPUS, ids=lambda b: b.name)
def test_metadata_calls_give_a_result_or_a_conviva_error_for_every_body(
    client: Callable[[int, Body], ConvivaAPI], body: Body, kind: str
) -> None:
    api = client(200, body)
    call = {
        "dimensions": api.get_available_dimensions,
        "filters": api.get_saved_filters,
        "kpis": api.get_kpis,
        "endpoints": api.get_available_endpoints,
    }[kind]
    outcome: MetadataResult | UnexpectedResponseError
    try:
        outcome = call()
    except UnexpectedResponseError as error:
        outcome = error
    if isinstance(outcome, UnexpectedResponseError):
        assert outcome.request is not None
    else:
        outcome.records()
        outcome.to_pandas()


@pytest.mark.parametrize("body", EXTREME, ids=lambda b: b.name)
def test_extreme_values_give_a_usable_result_or_unexpected_response_error(
    client: Callable[[int, Body], ConvivaAPI], body: Body
) -> None:
    outcome: MetricsResult | ConvivaError
    try:
        outcome = fetch(client(200, body), body)
    except ConvivaError as error:
        outcome = error
    if isinstance(outcome, MetricsResult):
        exercise(outcome)
    else:
        assert isinstance(outcome, UnexpectedResponseError)


async def test_the_async_client_classifies_the_corpus_the_same_way() -> None:
    for body in [*UNUSABLE, *USABLE]:
        transport = httpx2.MockTransport(handler_for(200, body))
        async with AsyncConvivaAPI("k", "i", transport=transport, clock=lambda: NOW) as api:
            metrics = ["attempts", "plays"]
            group_by = "isp" if body.grouped else None
            try:
                result = await api.get_historical_data(metrics, group_by, time_range=1)
            except UnexpectedResponseError:
                assert not body.usable, body.name
            else:
                assert body.usable, body.name
                assert result.is_partial == body.skips, body.name
