"""How command-line options become library arguments (no I/O)."""

from __future__ import annotations

from typing import Any

import click
import pytest

from pyconviva.cli.arguments import metrics_call_arguments


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"metrics": ["attempts"]}, {"metrics": "attempts"}),
        ({"metrics": ["attempts", "plays"]}, {"metrics": ["attempts", "plays"]}),
        ({"metrics": ["a"], "group_by": "isp"}, {"metrics": "a", "group_by": "isp"}),
        (
            {"metrics": ["a"], "group_by_tag": "appVersion"},
            {"metrics": "a", "group_by": {"custom-tag": "appVersion"}},
        ),
        (
            {"metrics": ["a"], "filters": ["isp=Optus", "isp=Vodafone", "device_os=iOS"]},
            {"metrics": "a", "filter_by": {"isp": ["Optus", "Vodafone"], "device_os": "iOS"}},
        ),
        (
            {"metrics": ["a"], "filters": ["geo_city_name=Paris=Texas"]},
            {"metrics": "a", "filter_by": {"geo_city_name": "Paris=Texas"}},
        ),
        (
            {"metrics": ["a"], "filter_tags": ["appVersion=1.2", "appVersion=1.3"]},
            {"metrics": "a", "filter_by": {"custom-tag": {"appVersion": ["1.2", "1.3"]}}},
        ),
        (
            {"metrics": ["a"], "filter_id": "180"},
            {"metrics": "a", "filter_by": {"filter_id": "180"}},
        ),
        ({"metrics": ["a"], "last": 5}, {"metrics": "a", "time_range": 5}),
        (
            {"metrics": ["a"], "start": "2025-01-01", "end": "2025-01-06"},
            {"metrics": "a", "time_range": ("2025-01-01", "2025-01-06")},
        ),
        ({"metrics": ["a"], "sort": "bitrate"}, {"metrics": "a", "sort_by": "bitrate"}),
        (
            {"metrics": ["a"], "sort": "bitrate:asc"},
            {"metrics": "a", "sort_by": ["bitrate", "asc"]},
        ),
        (
            {"metrics": ["a"], "granularity": "P1D", "limit": 10, "kpi_id": 2},
            {"metrics": "a", "granularity": "P1D", "limit": 10, "kpi_id": 2},
        ),
    ],
)
def test_options_map_to_the_librarys_arguments(
    options: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert metrics_call_arguments(**options) == expected


def test_values_are_passed_on_unjudged_for_the_library_to_validate() -> None:
    arguments = metrics_call_arguments(metrics=["x"], sort="bitrate:sideways", last=-3, limit=0)
    assert arguments == {
        "metrics": "x",
        "sort_by": ["bitrate", "sideways"],
        "time_range": -3,
        "limit": 0,
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"group_by": "isp", "group_by_tag": "t"}, "not both"),
        ({"last": 2, "start": "2025-01-01", "end": "2025-01-02"}, "not both"),
        ({"start": "2025-01-01"}, "go together"),
        ({"end": "2025-01-01"}, "go together"),
        ({"filters": ["isp"]}, "KEY=VALUE"),
        ({"filters": ["=Optus"]}, "KEY=VALUE"),
        ({"filter_tags": ["appVersion"]}, "--filter-tag"),
    ],
)
def test_option_shapes_that_cannot_be_mapped_are_usage_errors(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(click.UsageError) as caught:
        metrics_call_arguments(metrics=["attempts"], **options)
    assert message in caught.value.format_message()
    assert caught.value.exit_code == 2
