"""Record real exchanges to a cassette with no secret in it, replay them offline with either
client, and fail clearly on a request that was never recorded."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx2
import pytest

from pyconviva import AsyncConvivaAPI, ConvivaAPI, RateLimitError
from pyconviva.emulator import Emulator, RateLimitStorm
from pyconviva.recording import (
    RecordingTransport,
    ReplayTransport,
    UnrecordedRequestError,
    load_cassette,
)

KEY = "s3cret-client-key-0042"
ID = "recording-client"
NOW = "2025-06-02T12:00:00Z"


def emulator() -> Emulator:
    return Emulator(now=NOW, audience="small", client_id=ID, client_key=KEY)


def record(path: Path, source: Emulator) -> dict[str, object]:
    """Three calls recorded through the emulator's transport; their raw replies."""
    recorder = RecordingTransport(path, source.transport())
    with ConvivaAPI(KEY, ID, transport=recorder, max_retries=0) as api:
        return {
            "grouped": dict(api.get_historical_data("attempts", group_by="isp", time_range=1)),
            "filtered": dict(
                api.get_historical_data("plays", filter_by={"isp": ["Optus", "BT"]}, time_range=2)
            ),
            "dimensions": dict(api.get_available_dimensions()),
        }


def test_a_cassette_holds_no_credential(tmp_path: Path) -> None:
    cassette = tmp_path / "conviva.jsonl"
    record(cassette, emulator())
    text = cassette.read_text()
    basic = base64.b64encode(f"{ID}:{KEY}".encode()).decode()
    for secret in (KEY, basic, "authorization", "Authorization", "Basic "):
        assert secret not in text
    header, *exchanges = (json.loads(line) for line in text.splitlines())
    assert header == {"format": "pyconviva-cassette", "version": 1}
    assert len(exchanges) == 3
    assert set(exchanges[0]["request"]) == {"method", "path", "query"}


def test_replay_gives_the_recorded_replies_to_a_sync_client_offline(tmp_path: Path) -> None:
    cassette = tmp_path / "conviva.jsonl"
    recorded = record(cassette, emulator())
    with ConvivaAPI("any-key", "any-id", transport=ReplayTransport(cassette)) as api:
        grouped = api.get_historical_data("attempts", group_by="isp", time_range=1)
        filtered = api.get_historical_data(
            "plays", filter_by={"isp": ["Optus", "BT"]}, time_range=2
        )
        dimensions = dict(api.get_available_dimensions())
    assert dict(grouped) == recorded["grouped"]
    assert dict(filtered) == recorded["filtered"]
    assert dimensions == recorded["dimensions"]


async def test_replay_serves_the_async_client_too(tmp_path: Path) -> None:
    cassette = tmp_path / "conviva.jsonl"
    recorded = record(cassette, emulator())
    async with AsyncConvivaAPI("k", "i", transport=ReplayTransport(cassette)) as api:
        grouped = await api.get_historical_data("attempts", group_by="isp", time_range=1)
    assert dict(grouped) == recorded["grouped"]


async def test_an_async_client_records_through_an_async_transport(tmp_path: Path) -> None:
    cassette = tmp_path / "conviva.jsonl"
    source = emulator()
    recorder = RecordingTransport(cassette, source.transport())
    async with AsyncConvivaAPI(KEY, ID, transport=recorder) as api:
        live = await api.get_historical_data("attempts", time_range=1)
    (exchange,) = load_cassette(cassette)
    assert exchange.status == 200
    assert json.loads(exchange.body) == dict(live)


def test_an_unrecorded_request_fails_clearly_and_is_never_sent(tmp_path: Path) -> None:
    cassette = tmp_path / "conviva.jsonl"
    record(cassette, emulator())
    with (
        ConvivaAPI("k", "i", transport=ReplayTransport(cassette)) as api,
        pytest.raises(UnrecordedRequestError, match=r"no recorded reply for GET .*days=3"),
    ):
        api.get_historical_data("attempts", group_by="isp", time_range=3)


def test_replies_to_the_same_request_replay_in_the_recorded_order(tmp_path: Path) -> None:
    cassette = tmp_path / "conviva.jsonl"
    source = emulator()
    source.add_faults(RateLimitStorm(times=1, retry_after=0))
    recorder = RecordingTransport(cassette, source.transport())
    with httpx2.Client(transport=recorder, base_url="https://x", auth=(ID, KEY)) as client:
        statuses = [client.get("/insights/3.0/metrics/attempts?days=1").status_code for _ in "ab"]
    assert statuses == [429, 200]
    with ConvivaAPI("k", "i", transport=ReplayTransport(cassette), max_retries=0) as api:
        with pytest.raises(RateLimitError):
            api.get_historical_data("attempts", time_range=1)
        first = api.get_historical_data("attempts", time_range=1)
        again = api.get_historical_data("attempts", time_range=1)  # the last reply, again
    assert dict(first) == dict(again)


def test_replay_matches_whatever_the_base_url_and_parameter_order(tmp_path: Path) -> None:
    cassette = tmp_path / "conviva.jsonl"
    source = emulator()
    with httpx2.Client(
        transport=RecordingTransport(cassette, source.transport()),
        base_url="https://api.conviva.com",
        auth=(ID, KEY),
    ) as client:
        recorded = client.get("/insights/3.0/metrics/attempts?days=1&granularity=PT6H")
    with httpx2.Client(transport=ReplayTransport(cassette), base_url="http://other") as client:
        replayed = client.get("/insights/3.0/metrics/attempts?granularity=PT6H&days=1")
    assert (replayed.status_code, replayed.content) == (200, recorded.content)


def test_a_file_that_is_not_a_cassette_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"something": "else"}\n')
    with pytest.raises(ValueError, match="not a pyconviva cassette"):
        ReplayTransport(junk)
