"""Metadata replies (dimensions, saved filters, KPIs, discovery) as mappings and tables."""

from __future__ import annotations

import json

import pytest

from pyconviva import MetadataResult, QueryError, UnexpectedResponseError

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


@pytest.mark.parametrize(
    ("body", "kind", "complaint"),
    [(b'{"dimensions": []}', "filters", "no `filters` list"), (b"<html>", "kpis", "not JSON")],
)
def test_unusable_metadata_reply_raises_unexpected_response_error_naming_the_request(
    body: bytes, kind: str, complaint: str
) -> None:
    with pytest.raises(UnexpectedResponseError, match=complaint) as caught:
        MetadataResult.from_bytes(body, kind=kind, request="GET /f")
    assert caught.value.request == "GET /f"


def test_unknown_metadata_kind_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="kind='views'"):
        MetadataResult({}, kind="views")
