"""Replies are decoded in bounded steps and capped in size; what the client asks the server for.

Responses here are streamed (``httpx2.Response(stream=...)``) so the client reads them as it
reads a socket: raw bytes, decoded as they come.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import httpx2
import pytest

from pyconviva import (
    APIConnectionError,
    ConvivaAPI,
    RetryPolicy,
    ServerError,
    UnexpectedResponseError,
)
from pyconviva._wire import ERROR_BODY_CAP, REPLY_SIZE_CAP

REPLY = b'{"kpis": []}'
API_CAP = 5_700_000


def streamed(status: int, body: bytes, encoding: str | None, chunk: int = 65536) -> httpx2.Response:
    headers = {"content-type": "application/json"}
    if encoding:
        headers["content-encoding"] = encoding
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(b"".join(parts)))


def client(answer: Callable[[httpx2.Request], httpx2.Response]) -> ConvivaAPI:
    return ConvivaAPI(
        "key", "id", transport=httpx2.MockTransport(answer), retry=RetryPolicy(max_retries=0)
    )


def padded(size: int) -> bytes:
    """A JSON reply of ``size`` bytes."""
    return REPLY[:-1] + b', "pad": "' + b" " * (size - len(REPLY) - 10) + b'"}'


def test_the_client_asks_only_for_codings_it_can_cap_as_it_decodes() -> None:
    seen: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return streamed(200, REPLY, None)

    with client(answer) as api:
        api.get_kpis()
    assert seen[0].headers["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("gzip, deflate", lambda body: zlib.compress(gzip.compress(body))),
        (None, lambda body: body),
    ],
    ids=["gzip", "deflate", "gzip-then-deflate", "identity"],
)
def test_a_compressed_reply_up_to_the_cap_is_decoded_in_full(
    encoding: str | None, encode: Callable[[bytes], bytes]
) -> None:
    body = padded(API_CAP)
    with client(lambda request: streamed(200, encode(body), encoding)) as api:
        assert api.get_kpis()["kpis"] == []


def test_the_cap_leaves_twice_the_apis_own_reply_limit() -> None:
    assert REPLY_SIZE_CAP == 2 * API_CAP


@pytest.mark.parametrize("encoding", ["gzip", None])
def test_a_success_reply_past_the_cap_is_refused_with_the_cap_named(encoding: str | None) -> None:
    body = padded(REPLY_SIZE_CAP + 1)
    wire = gzip.compress(body) if encoding else body
    with (
        client(lambda request: streamed(200, wire, encoding)) as api,
        pytest.raises(UnexpectedResponseError) as caught,
    ):
        api.get_kpis()
    assert f"larger than {REPLY_SIZE_CAP:,} bytes" in str(caught.value)
    assert "5,700,000" in str(caught.value)
    assert "/insights/3.0/kpis" in str(caught.value)


def test_an_error_reply_past_its_cap_keeps_its_status_and_the_start_of_its_body() -> None:
    body = b'{"message": "busy"' + b" " * (2 * ERROR_BODY_CAP) + b"}"
    with (
        client(lambda request: streamed(503, gzip.compress(body), "gzip")) as api,
        pytest.raises(ServerError) as caught,
    ):
        api.get_kpis()
    assert caught.value.status_code == 503
    assert caught.value.message.startswith('{"message": "busy"')  # summarised, not parsed
    assert len(caught.value.message) <= 201


def test_a_body_that_cannot_be_decoded_is_a_connection_error_and_retried() -> None:
    answers = iter([streamed(200, b"not gzip at all", "gzip"), streamed(200, REPLY, None)])
    with ConvivaAPI(
        "key",
        "id",
        transport=httpx2.MockTransport(lambda request: next(answers)),
        retry=RetryPolicy(backoff_base=0.0),
    ) as api:
        assert api.get_kpis()["kpis"] == []

    with (
        client(lambda request: streamed(200, b"not gzip at all", "gzip")) as api,
        pytest.raises(APIConnectionError, match="could not be decoded"),
    ):
        api.get_kpis()


def test_an_unknown_coding_is_passed_through_as_httpx2_does() -> None:
    with client(lambda request: streamed(200, REPLY, "identity, x-custom")) as api:
        assert api.get_kpis()["kpis"] == []
