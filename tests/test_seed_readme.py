"""Every code snippet of the seed README, run verbatim against the emulator.

The snippets below are copied character for character from the README that first described
pyconviva (note its positional order: ``ConvivaAPI(client_key, client_id)``). Each is executed
as written; the values of its expression statements are then checked for real properties of
the replies: grouping rows, filters, windows, sort order, granularity.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

import pytest

from pyconviva._client import ConvivaAPI
from pyconviva.emulator import Emulator

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)
LAST_FULL_HOUR = datetime(2025, 1, 10, 12, 0, tzinfo=timezone.utc)

INTRO = """\
import os

from pyconviva import ConvivaAPI

api = ConvivaAPI(os.environ["client_key"], os.environ["client_id"])
data = api.get_historical_data("attempts", group_by="isp", time_range=5)
"""

RETRIEVING = """\
attempts = api.get_historical_data("attempts")

multiple_metrics = api.get_historical_data(["attempts", "bitrate"])
"""

GROUPING = """\
# Grouping by Conviva dimension.
api.get_historical_data("attempts", group_by="isp")

# Grouping by custom tag.
api.get_historical_data("attempts", group_by={"custom-tag":"appVersion"})
"""

FILTERING = """\
# To filter to ISPs that are Optus.
api.get_historical_data("attempts", filter_by={"isp":"Optus"})

# To filter to ISPs that are Optus OR Vodafone.
api.get_historical_data("attempts", filter_by={"isp":["Optus", "Vodafone"]})

# Filtering using a saved filter.
api.get_historical_data(["attempts", "bitrate"], filter_by={"filter_id":"180"})
"""

REAL_TIME_RANGE = """\
# Get data that is 5 minutes old or fresher.
api.get_real_time_data("attempts", time_range=5)
"""

HISTORICAL_RANGE = """\
# Getting Ended Plays metric data per country for the last 5 days:
api.get_historical_data("attempts", time_range=5)

# Getting attempts metric data for January 1st 2025 to January 5th 2025
api.get_historical_data("attempts", time_range={"start_date":"2025-01-01T12:00:00.000Z",
                                                "end_date":"2025-01-06T12:59:59.000Z"})
"""

SORTING = """\
# Ordering by bitrate in descending order.
api.get_historical_data(["attempts", "bitrate"], group_by="isp", sort_by="bitrate")

# Ordering by bitrate in ascending order.
api.get_historical_data(["attempts", "bitrate"], group_by="isp", sort_by=["bitrate", "asc"])
"""

GRANULARITY = """\
# Data broken down by week:
api.get_historical_data("attempts", granularity="P1W")
"""

# From the README's prose: "Use `api.get_available_dimensions()` to find dimensions ...".
DIMENSIONS = "api.get_available_dimensions()\n"


def run_snippet(code: str, namespace: dict[str, Any]) -> list[Any]:
    """Run ``code`` statement by statement in ``namespace``; the values of its expressions."""
    values = []
    for statement in ast.parse(code).body:
        if isinstance(statement, ast.Expr):
            expression = compile(ast.Expression(statement.value), "<README>", "eval")
            values.append(eval(expression, namespace))  # noqa: S307 - the README's own code
        else:
            module = compile(ast.Module([statement], type_ignores=[]), "<README>", "exec")
            exec(module, namespace)  # noqa: S102 - the README's own code
    return values


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(now=NOW)


@pytest.fixture
def api(emulator: Emulator) -> Iterator[ConvivaAPI]:
    with ConvivaAPI(
        emulator.client_key,
        emulator.client_id,
        transport=emulator.transport(),
        clock=emulator.now,
    ) as client:
        yield client


def bucket_starts(result: Mapping[str, Any]) -> list[datetime]:
    return [
        datetime.fromtimestamp(bucket["timestamp"]["epoch_ms"] / 1000, tz=timezone.utc)
        for bucket in result["time_series"]
    ]


def rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [row for bucket in result["time_series"] for row in bucket["dimensional_data"]]


def total_count(result: Mapping[str, Any], metric: str = "attempts") -> float:
    return float(result["total"][metric]["count"])


def hourly_from(start: datetime, hours: int) -> list[datetime]:
    return [start + timedelta(hours=h) for h in range(hours)]


@pytest.mark.network
def test_intro_snippet_runs_verbatim_over_loopback_with_readme_argument_order(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with emulator.serve() as base_url:
        monkeypatch.setenv("client_key", emulator.client_key)
        monkeypatch.setenv("client_id", emulator.client_id)
        monkeypatch.setenv("CONVIVA_BASE_URL", base_url)
        namespace: dict[str, Any] = {}
        run_snippet(INTRO, namespace)
        namespace["api"].close()
    data = namespace["data"]
    assert bucket_starts(data) == hourly_from(LAST_FULL_HOUR - timedelta(days=5), 5 * 24)
    assert rows(data)
    assert {row["dimension"]["key"] for row in rows(data)} == {"isp"}
    assert all("attempts" in row["metrics"] for row in rows(data))


def test_retrieving_one_metric_and_several(api: ConvivaAPI) -> None:
    namespace: dict[str, Any] = {"api": api}
    run_snippet(RETRIEVING, namespace)
    attempts, multiple = namespace["attempts"], namespace["multiple_metrics"]
    # No time range: the client asks for the last day, as pyconviva 0.1.0 did.
    assert bucket_starts(attempts) == hourly_from(LAST_FULL_HOUR - timedelta(days=1), 24)
    assert all("attempts" in bucket for bucket in attempts["time_series"])
    assert all({"attempts", "bitrate"} <= set(b) for b in multiple["time_series"])
    assert set(multiple["total"]) == {"attempts", "bitrate"}
    assert total_count(multiple) == total_count(attempts)


def test_grouping_by_dimension_and_custom_tag(api: ConvivaAPI) -> None:
    ungrouped = api.get_historical_data("attempts")
    by_isp, by_tag = run_snippet(GROUPING, {"api": api})
    assert {row["dimension"]["key"] for row in rows(by_isp)} == {"isp"}
    assert len({row["dimension"]["value"] for row in rows(by_isp)}) > 1
    assert "group_by_dimension" in by_isp["_meta"]
    assert rows(by_tag)
    assert len({row["dimension"]["value"] for row in rows(by_tag)}) > 1
    # Groups are partitions of the same traffic: their total is the ungrouped total.
    assert total_count(by_isp) == pytest.approx(total_count(ungrouped))


def test_filtering_by_value_by_values_and_by_saved_filter(api: ConvivaAPI) -> None:
    unfiltered = api.get_historical_data("attempts")
    by_isp = api.get_historical_data("attempts", group_by="isp")
    vodafone = api.get_historical_data("attempts", filter_by={"isp": "Vodafone"})
    optus, optus_or_vodafone, saved = run_snippet(FILTERING, {"api": api})
    optus_rows = [row for row in rows(by_isp) if row["dimension"]["value"] == "Optus"]
    # The filtered total is exactly the Optus group of the grouped reply.
    assert total_count(optus) == sum(row["metrics"]["attempts"]["count"] for row in optus_rows)
    assert 0 < total_count(optus) < total_count(optus_or_vodafone) < total_count(unfiltered)
    assert total_count(optus_or_vodafone) == pytest.approx(
        total_count(optus) + total_count(vodafone)
    )
    assert str(saved["_meta"]["filter_info"]["id"]) == "180"
    assert 0 < total_count(saved) < total_count(unfiltered)
    assert {"attempts", "bitrate"} <= set(saved["total"])


def test_real_time_window_is_the_last_five_minutes_by_the_minute(api: ConvivaAPI) -> None:
    (result,) = run_snippet(REAL_TIME_RANGE, {"api": api})
    starts = bucket_starts(result)
    assert len(starts) == 5
    assert all(b - a == timedelta(minutes=1) for a, b in pairwise(starts))
    assert NOW - timedelta(minutes=6) <= starts[0]
    assert starts[-1] <= NOW


def test_historical_ranges_as_days_and_as_start_and_end_dates(api: ConvivaAPI) -> None:
    last_five_days, january = run_snippet(HISTORICAL_RANGE, {"api": api})
    assert bucket_starts(last_five_days) == hourly_from(LAST_FULL_HOUR - timedelta(days=5), 5 * 24)
    first_hour = datetime(2025, 1, 1, 12, tzinfo=timezone.utc)
    # [12:00 on the 1st, 12:59:59 on the 6th): five days and the last, clipped, hour.
    assert bucket_starts(january) == hourly_from(first_hour, 5 * 24 + 1)


def test_sorting_descending_by_default_and_ascending_on_request(api: ConvivaAPI) -> None:
    descending, ascending = run_snippet(SORTING, {"api": api})
    for result, reverse in ((descending, True), (ascending, False)):
        for bucket in result["time_series"]:
            bitrates = [row["metrics"]["bitrate"]["bps"] for row in bucket["dimensional_data"]]
            assert bitrates == sorted(bitrates, reverse=reverse)
    first_bucket = descending["time_series"][0]["dimensional_data"]
    assert len(first_bucket) > 1


def test_weekly_granularity_gives_monday_aligned_weeks(api: ConvivaAPI) -> None:
    (result,) = run_snippet(GRANULARITY, {"api": api})
    starts = bucket_starts(result)
    assert starts
    assert all(b - a == timedelta(weeks=1) for a, b in pairwise(starts))
    assert all(start.weekday() == 0 and start.hour == 0 for start in starts)


def test_available_dimensions_list_the_ones_the_examples_group_by(api: ConvivaAPI) -> None:
    (result,) = run_snippet(DIMENSIONS, {"api": api})
    query_filters = {dimension["query_filter"] for dimension in result["dimensions"]}
    assert "?isp" in query_filters
