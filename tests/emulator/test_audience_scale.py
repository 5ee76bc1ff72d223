"""The default audience is a large streaming service's: thousands of cities, networks and assets
in a day, long tails, the true top N, replies that reach the size cap, and the consistency laws
holding exactly at that scale. ``audience="small"`` keeps replies tiny."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva import QueryError
from pyconviva.emulator import AUDIENCES, Emulator

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
AUTH = ("demo-client-id", "demo-client-key")
H = "/insights/3.0/metrics"
DAY = (("days", "1"), ("granularity", "ALL"))
Params = Sequence[tuple[str, str]]
FEW = settings(max_examples=6, deadline=None)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx2.Client]:
    emulator = Emulator(now=NOW)
    with httpx2.Client(
        transport=emulator.transport(), base_url="https://api.conviva.com", auth=AUTH
    ) as client:
        yield client


def get(client: httpx2.Client, path: str, params: Params) -> Any:
    reply = client.get(H + path, params=list(params))
    assert reply.status_code == 200, reply.text
    return reply.json()


def day_totals(
    client: httpx2.Client, dimension: str, filters: Params = (), limit: int = 500
) -> dict[str, int]:
    """The top `limit` values' attempts over the day, from one group-by reply."""
    params = [*DAY, ("limit", str(limit)), *filters]
    reply = get(client, f"/attempts/group-by/{dimension}", params)
    rows = reply["time_series"][0]["dimensional_data"]
    return {r["dimension"]["value"]: r["metrics"]["attempts"]["count"] for r in rows}


def every_value(
    client: httpx2.Client, dimension: str, parts: Sequence[str], filters: Params = ()
) -> dict[str, int]:
    """Every value of `dimension` with traffic in the day and its attempts: one group-by when
    the values fit in 500 rows, else one per value of the next partitioning dimension."""
    totals = day_totals(client, dimension, filters)
    if len(totals) < 500:
        return totals
    part, *rest = parts
    key = part.replace("-", "_")
    every: dict[str, int] = {}
    for value in day_totals(client, part, filters):
        every.update(every_value(client, dimension, rest, [*filters, (key, value)]))
    return every


@pytest.fixture(scope="module")
def census(client: httpx2.Client) -> dict[str, dict[str, int]]:
    places = ["geo-continent-name", "geo-country-code"]
    content = ["content-category", "content-meta-genre"]
    return {
        "geo-city-name": every_value(client, "geo-city-name", places),
        "asn": every_value(client, "asn", places),
        "asset": every_value(client, "asset", content),
        "device-model": every_value(client, "device-model", []),
        "geo-country-code": every_value(client, "geo-country-code", []),
        "dimension-tag/title": every_value(client, "dimension-tag/title", content),
        "dimension-tag/specialContentId": every_value(
            client, "dimension-tag/specialContentId", content
        ),
        "dimension-tag/appVersion": every_value(client, "dimension-tag/appVersion", []),
    }


def test_one_day_has_thousands_of_cities_networks_and_assets(
    census: dict[str, dict[str, int]], client: httpx2.Client
) -> None:
    sizes = {dimension: len(values) for dimension, values in census.items()}
    assert sizes["geo-city-name"] >= 2000
    assert sizes["asn"] >= 1000
    assert sizes["asset"] >= 1000
    assert sizes["device-model"] >= 300
    assert sizes["geo-country-code"] >= 50
    assert sizes["dimension-tag/specialContentId"] >= 1000
    assert sizes["dimension-tag/title"] >= 100
    assert sizes["dimension-tag/appVersion"] >= 20
    # The partitions cover the day: every city's attempts add up to the day's total.
    total = get(client, "/attempts", DAY)["total"]["attempts"]["count"]
    assert sum(census["geo-city-name"].values()) == total


def test_popularity_has_a_long_tail(census: dict[str, dict[str, int]]) -> None:
    for dimension in ("geo-city-name", "asn", "asset"):
        counts = sorted(census[dimension].values(), reverse=True)
        median = counts[len(counts) // 2]
        assert counts[0] > 20 * median > 20 * counts[-1] > 0


def test_quiet_groups_have_hours_without_plays(client: httpx2.Client) -> None:
    reply = get(
        client,
        "/plays/group-by/geo-city-name",
        [("days", "1"), ("limit", "500"), ("order", "asc")],
    )
    rows_per_hour = [len(bucket["dimensional_data"]) for bucket in reply["time_series"]]
    cities = {
        row["dimension"]["value"]
        for bucket in reply["time_series"]
        for row in bucket["dimensional_data"]
    }
    assert len(cities) == 500
    assert min(rows_per_hour) < 450  # many of the quietest cities had no plays that hour


def test_limit_keeps_the_true_top_n_of_every_value(
    census: dict[str, dict[str, int]], client: httpx2.Client
) -> None:
    for dimension in ("geo-city-name", "asset"):
        expected = sorted(census[dimension].items(), key=lambda item: (-item[1], item[0]))[:10]
        assert list(day_totals(client, dimension, limit=10).items()) == expected


def test_sort_by_ranks_on_the_chosen_metric_within_a_filter(client: httpx2.Client) -> None:
    metrics = [("metric", "attempts"), ("metric", "plays"), ("metric", "video-start-failures")]
    filters = [*DAY, *metrics, ("geo_country_code", "gb")]

    def rows(*extra: tuple[str, str]) -> list[tuple[str, int]]:
        reply = get(client, "/custom-selection/group-by/geo-city-name", [*filters, *extra])
        return [
            (r["dimension"]["value"], r["metrics"]["video_start_failures"]["count"])
            for r in reply["time_series"][0]["dimensional_data"]
        ]

    every = rows(("limit", "500"))
    assert 100 < len(every) < 500
    by_failures = sorted(every, key=lambda item: (-item[1], item[0]))
    top = rows(("limit", "7"), ("sort_by", "video-start-failures"))
    bottom = rows(("limit", "7"), ("sort_by", "video-start-failures"), ("order", "asc"))
    assert top == by_failures[:7]
    assert bottom == sorted(every, key=lambda item: (item[1], item[0]))[:7]


def test_a_90_day_hourly_group_by_over_the_size_cap_gets_413(client: httpx2.Client) -> None:
    params = [("metric", "attempts"), ("metric", "plays"), ("metric", "bitrate"), ("days", "90")]
    reply = client.get(H + "/custom-selection/group-by/geo-city-name", params=params)
    assert reply.status_code == 413
    assert reply.json()["name"] == "RequestEntityTooLarge"
    assert "5,700,000 bytes" in reply.json()["message"]


# The laws, at this scale. Dimensions whose every value fits in one reply of 500 rows:
FITTING = [
    "device-name",
    "device-model",
    "cdn",
    "cdn-edge-server",
    "geo-country-code",
    "isp",
    "dimension-tag/appVersion",
    "dimension-tag/title",
    "dimension-tag/subscriptionTier",
]
WINDOWS = st.sampled_from(
    [
        (("days", "1"),),
        (("days", "1"), ("granularity", "PT6H")),
        (("start_date", "2025-06-01T18:00:00Z"), ("end_date", "2025-06-01T19:00:00Z"),
         ("granularity", "PT5M")),
        (("start_date", "2025-06-02T10:30:00Z"), ("end_date", "2025-06-02T12:00:00Z"),
         ("granularity", "PT15M")),
    ]
)  # fmt: skip
ADDITIVE = st.lists(
    st.sampled_from(["attempts", "plays", "ended-plays", "video-start-failures"]),
    min_size=1,
    max_size=2,
    unique=True,
)


def bucket_counts(reply: Any, key: str) -> list[int]:
    return [bucket[key]["count"] for bucket in reply["time_series"]]


def grouped_counts(reply: Any, key: str) -> list[int]:
    return [
        sum(row["metrics"][key]["count"] for row in bucket["dimensional_data"])
        for bucket in reply["time_series"]
    ]


@FEW
@given(ADDITIVE, st.sampled_from(FITTING), WINDOWS)
def test_groups_add_up_to_the_whole_when_all_fit(
    client: httpx2.Client, metrics: list[str], dimension: str, window: Params
) -> None:
    chosen = [("metric", m) for m in metrics]
    whole = get(client, "/custom-selection", [*window, *chosen])
    grouped = get(
        client, f"/custom-selection/group-by/{dimension}", [*window, *chosen, ("limit", "500")]
    )
    assert grouped["total"] == whole["total"]
    for metric in metrics:
        key = metric.replace("-", "_")
        assert grouped_counts(grouped, key) == bucket_counts(whole, key)


@pytest.fixture(scope="module")
def networks(client: httpx2.Client) -> list[str]:
    return sorted(day_totals(client, "asn", [("geo_country_code", "us")]))


@FEW
@given(st.data(), WINDOWS)
def test_an_or_filter_equals_the_sum_of_its_parts(
    client: httpx2.Client, networks: list[str], data: st.DataObject, window: Params
) -> None:
    chosen = data.draw(st.lists(st.sampled_from(networks), min_size=2, max_size=4, unique=True))
    either = get(client, "/plays", [*window, *(("asn", n) for n in chosen)])
    parts = [get(client, "/plays", [*window, ("asn", n)]) for n in chosen]
    columns = [bucket_counts(p, "plays") for p in parts]
    expected = [sum(counts) for counts in zip(*columns, strict=True)]
    assert bucket_counts(either, "plays") == expected


@FEW
@given(st.integers(min_value=2, max_value=72), st.integers(min_value=1, max_value=71))
def test_a_range_split_in_two_gives_the_unsplit_buckets(
    client: httpx2.Client, hours: int, cut: int
) -> None:
    cut = min(cut, hours - 1)
    end = int(datetime(2025, 6, 2, 6, tzinfo=timezone.utc).timestamp())
    start, middle = end - 3600 * hours, end - 3600 * (hours - cut)

    def window(a: int, b: int) -> Any:
        params = [("start_epoch", str(a)), ("end_epoch", str(b))]
        return get(client, "/attempts/group-by/cdn", params)  # every CDN fits in 50 rows

    whole, first, second = window(start, end), window(start, middle), window(middle, end)
    assert first["time_series"] + second["time_series"] == whole["time_series"]


@pytest.mark.slow
def test_the_same_question_gets_the_same_bytes_in_another_process(client: httpx2.Client) -> None:
    path = "/insights/3.0/metrics/plays/group-by/asn"
    params = {"days": "1", "limit": "200", "sort_by": "plays"}
    script = (
        "import sys, httpx2; from pyconviva.emulator import Emulator\n"
        "e = Emulator(now='2025-06-02T12:00:00Z')\n"
        "c = httpx2.Client(transport=e.transport(), base_url='http://x', "
        "auth=('demo-client-id', 'demo-client-key'))\n"
        f"sys.stdout.buffer.write(c.get({path!r}, params={params!r}).content)\n"
    )
    elsewhere = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    ).stdout
    here = client.get(path, params=params).content
    assert elsewhere == here
    assert len(json.loads(here)["time_series"][0]["dimensional_data"]) == 200


def test_the_small_audience_keeps_replies_tiny() -> None:
    emulator = Emulator(now=NOW, audience="small")
    with httpx2.Client(
        transport=emulator.transport(), base_url="https://api.conviva.com", auth=AUTH
    ) as small:
        cities = day_totals(small, "geo-city-name")
    assert 5 < len(cities) < 50
    assert AUDIENCES == ("large", "small")


def test_an_unknown_audience_is_refused_with_the_choices() -> None:
    with pytest.raises(QueryError, match="large, small"):
        Emulator(audience="medium")
