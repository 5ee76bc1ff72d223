"""Results stay the raw reply (seed README users index them like a dict), and display well."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone

import pytest

from pyconviva import MetricsResult, QuerySpec
from pyconviva._query import build_metrics_query
from tests.helpers import GROUPED, PLAIN, result_of


def test_metrics_result_is_a_read_only_mapping_over_the_reply() -> None:
    body = json.dumps(GROUPED).encode()
    result = MetricsResult.from_bytes(body)
    assert isinstance(result, Mapping)
    assert result["time_series"][0]["dimensional_data"][0]["dimension"]["value"] == "Roku"
    assert result["total"]["attempts"]["count"] == 2425
    assert "_meta" in result
    assert result.get("missing") is None
    assert set(result) == {"_meta", "time_series", "total"}
    assert len(result) == 3
    assert result == GROUPED
    assert json.dumps(dict(result)) == body.decode()
    with pytest.raises(TypeError):
        result["total"] = {}  # type: ignore[index]


def test_missing_key_raises_key_error_like_a_dict() -> None:
    with pytest.raises(KeyError):
        result_of(PLAIN)["_meta"]


def test_repr_states_shape_time_range_metrics_groups_and_query() -> None:
    query = build_metrics_query(
        QuerySpec("metrics", "attempts", group_by="device-name", time_range=1),
        now=datetime(2022, 1, 2, tzinfo=timezone.utc),
    )
    text = repr(result_of(GROUPED, query=query))
    assert text.startswith("<MetricsResult")
    assert "tidy: 4 rows x [timestamp, device_name, metric, field, value]" in text
    assert "wide: 4 rows x 1 series" in text
    assert "2022-01-01T04:00:00Z … 2022-01-01T05:00:00Z (2 buckets, PT1H)" in text
    assert "metrics: attempts.count" in text
    assert "groups: device_name (2): Roku, Apple TV" in text
    assert f"query: {query.describe()}" in text


def test_html_repr_escapes_group_names() -> None:
    reply = json.loads(json.dumps(GROUPED))
    reply["time_series"][0]["dimensional_data"][0]["dimension"]["value"] = "<b>AT&T</b>"
    page = MetricsResult(reply)._repr_html_()
    assert "&lt;b&gt;AT&amp;T&lt;/b&gt;" in page
    assert "<b>AT" not in page
    assert "MetricsResult" in page
