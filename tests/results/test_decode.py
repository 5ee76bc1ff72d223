"""Decoding a reply body: what is refused (naming the request), and no process-wide side effect."""

from __future__ import annotations

import gc
import json
import re
import threading
from typing import Any

import pytest

from pyconviva import MetadataResult, MetricsResult, UnexpectedResponseError
from tests.helpers import GROUPED


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"<html>gateway</html>", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON list, not an object"),
        (b'{"total": {}}', "no `time_series` list"),
        (b'{"time_series": {"a": 1}}', "no `time_series` list"),
        (b'{"time_series": [3]}', "time_series[0] has no integer timestamp.epoch_ms"),
        (b'{"time_series": [{"timestamp": {"iso_date": "x"}}]}', "timestamp.epoch_ms"),
        (b'{"time_series": [{"timestamp": {"epoch_ms": "1"}}]}', "timestamp.epoch_ms"),
        (
            b'{"time_series": [{"timestamp": {"epoch_ms": 1}, "dimensional_data": 5}]}',
            "time_series[0].dimensional_data is not a list",
        ),
    ],
)
def test_unusable_replies_raise_unexpected_response_error_naming_the_problem(
    body: bytes, complaint: str
) -> None:
    with pytest.raises(UnexpectedResponseError, match=re.escape(complaint)) as caught:
        MetricsResult.from_bytes(body, request="GET https://api.example/insights/3.0/metrics/x")
    assert caught.value.request == "GET https://api.example/insights/3.0/metrics/x"
    assert "GET https://api.example" in str(caught.value)


def test_nesting_deeper_than_the_interpreter_allows_is_not_json() -> None:
    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        MetricsResult.from_bytes(b"[" * 100_000 + b"]" * 100_000)


def test_values_the_fast_parser_refuses_are_read_by_the_standard_one() -> None:
    body = (
        b'{"time_series": [{"timestamp": {"epoch_ms": 0}, "attempts": {"count": 1},'
        b' "plays": {"percentage": NaN}, "ended_plays": {"count": 99999999999999999999}}]}'
    )
    result = MetricsResult.from_bytes(body)
    assert result.records()[0]["value"] == 1
    assert len(result.records()) == 1
    assert len(result.notes) == 2


@pytest.fixture
def collector_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call to a process-wide switch of the garbage collector, by name."""
    calls: list[str] = []
    for name in ("disable", "enable", "freeze", "unfreeze", "set_threshold"):

        def spy(*args: Any, _name: str = name) -> None:
            calls.append(_name)

        monkeypatch.setattr(gc, name, spy)
    return calls


def test_decoding_and_tables_leave_the_garbage_collector_alone(collector_calls: list[str]) -> None:
    result = MetricsResult.from_bytes(json.dumps(GROUPED).encode())
    result.records()
    result.to_pandas()
    result.to_polars(wide=True)
    MetadataResult.from_bytes(b'{"kpis": []}', kind="kpis").records()
    assert collector_calls == []


def test_decoding_in_many_threads_leaves_the_garbage_collector_alone(
    collector_calls: list[str],
) -> None:
    body = json.dumps(GROUPED).encode()
    threads = [
        threading.Thread(target=lambda: MetricsResult.from_bytes(body).records()) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert collector_calls == []
