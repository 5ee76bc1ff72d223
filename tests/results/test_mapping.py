"""Results stay the raw reply (seed README users index them like a dict), and display well."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone

import pytest

from pyconviva import MetadataResult, MetricsResult
from pyconviva._exceptions import QueryError, UnexpectedResponseError
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
        "metrics",
        "attempts",
        group_by="device-name",
        time_range=1,
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


DIMENSIONS = {
    "dimensions": [
        {"name": "Device OS", "query_filter": "?device_os", "is_custom": False,
         "group_by": "/group-by/device-os"},
        {"name": "appVersion", "query_filter": "?tag_appVersion", "is_custom": True,
         "group_by": "/group-by/dimension-tag/appVersion"},
    ]
}  # fmt: skip

DISCOVERY = {
    "resources": [
        {
            "resource_name": "ended plays",
            "endpoints": [
                {"methods": ["GET"], "path": "https://x/insights/3.0/metrics/ended-plays"}
            ],
        }
    ],
    "references": [
        {
            "resource_name": "dimensions",
            "endpoints": [{"methods": ["GET"], "path": "https://x/_meta/references/dimensions"}],
        }
    ],
}


def test_dimensions_reply_is_a_table_of_name_filter_custom_and_group_by() -> None:
    result = MetadataResult.from_bytes(json.dumps(DIMENSIONS).encode(), kind="dimensions")
    assert result == DIMENSIONS
    assert result.records() == [
        {"name": "Device OS", "query_filter": "?device_os", "is_custom": False,
         "group_by": "/group-by/device-os"},
        {"name": "appVersion", "query_filter": "?tag_appVersion", "is_custom": True,
         "group_by": "/group-by/dimension-tag/appVersion"},
    ]  # fmt: skip
    frame = result.to_pandas()
    assert list(frame.columns) == ["name", "query_filter", "is_custom", "group_by"]
    assert frame["is_custom"].tolist() == [False, True]
    assert result.to_polars().shape == (2, 4)
    assert repr(result).startswith("<MetadataResult dimensions: 2 rows")


@pytest.mark.parametrize("kind", ["filters", "kpis"])
def test_filters_and_kpis_are_tables_of_id_and_name(kind: str) -> None:
    reply = {kind: [{"id": 180, "name": "Live Only"}, "junk"]}
    result = MetadataResult.from_bytes(json.dumps(reply).encode(), kind=kind)
    assert result.records() == [{"id": 180, "name": "Live Only"}]
    assert result.is_partial
    assert result.notes == (f"skipped 1 `{kind}` entries that are not objects (first at {kind})",)


def test_discovery_reply_has_one_row_per_endpoint_path() -> None:
    result = MetadataResult(DISCOVERY, kind="endpoints")
    assert result.records() == [
        {"section": "resources", "resource_name": "ended plays", "methods": "GET",
         "path": "https://x/insights/3.0/metrics/ended-plays"},
        {"section": "references", "resource_name": "dimensions", "methods": "GET",
         "path": "https://x/_meta/references/dimensions"},
    ]  # fmt: skip


def test_group_by_discovery_reply_needs_no_references() -> None:
    reply = {"resources": DISCOVERY["resources"]}
    assert len(MetadataResult(reply, kind="group-by-endpoints").records()) == 1


def test_metadata_reply_without_its_list_raises_unexpected_response_error() -> None:
    with pytest.raises(UnexpectedResponseError, match="no `filters` list") as caught:
        MetadataResult.from_bytes(b'{"dimensions": []}', kind="filters", request="GET /f")
    assert caught.value.request == "GET /f"


def test_unknown_metadata_kind_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="kind='views'"):
        MetadataResult({}, kind="views")
