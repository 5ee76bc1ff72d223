"""Malformed items inside split queries and batches: replies mutated field by field.

The emulator answers every window; a wrapping ``httpx2.MockTransport`` (the transport seam a
user has) changes one field of one window's reply on its way to the client: a value replaced by
null, a string, a boolean, a number, an empty list or object, or the field removed.

The promises: a single request gives a usable result (whose ``notes`` say what was skipped) or
a ``ConvivaError``; a split query merges whatever the single-reply decoder accepts — it never
turns an odd item into a raw ``AttributeError``/``TypeError`` — and a batch never loses the good
results beside one bad query.

Here: hypothesis properties mutating any field of a single reply and of one window of a split
query, the odd items of issue 12 item 5 by name (single and split), and batches, sync and
async, that keep their good results beside a split query with an odd item.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pyconviva import BatchResult, ConvivaAPI, ConvivaError, MetricsResult, QuerySpec
from pyconviva.emulator import Emulator
from pyconviva.testing import FIXED_NOW
from tests.reliability.hostile_servers import REMOVE, JsonPath, json_fields, set_json_field

Mutate = Callable[[str, int, dict[str, Any]], None]
"""Changes a decoded reply in place, given its request's path and its number among the 200s."""

# Each query is fetched in two windows (a limit above 50 allows 24 hours a request; 100 days of
# P1D take two 90-day windows); its one-window twin covers the first day only.
QUERIES: dict[str, dict[str, Any]] = {
    "by isp": {
        "metrics": ["attempts", "plays"],
        "group_by": "isp",
        "limit": 51,
        "granularity": "PT12H",
    },
    "by custom tag": {
        "metrics": ["attempts", "plays"],
        "group_by": {"custom-tag": "appVersion"},
        "limit": 51,
        "granularity": "PT12H",
    },
    "ungrouped": {"metrics": ["attempts", "plays"], "granularity": "P1D"},
}
pytestmark = pytest.mark.hostile  # the hostile suite runs as its own CI step

SPLIT_RANGE = {"by isp": 2, "by custom tag": 2, "ungrouped": 100}
REPLACEMENTS: list[Any] = [
    None,
    "n/a",
    "",
    True,
    False,
    0,
    0.0,
    -1,
    1.5,
    10**30,
    math.nan,
    math.inf,
    [],
    {},
    [None],
    {"x": None},
    REMOVE,
]
# The three items the issue found crashing the merge, each skipped with a note when alone.
ISSUE_ITEMS: dict[str, tuple[JsonPath, Any]] = {
    "dimensional_data[0] = null": (("time_series", 0, "dimensional_data", 0), None),
    'total = "n/a"': (("total",), "n/a"),
    "total = true": (("total",), True),
}


@dataclass(frozen=True)
class Mutation:
    """One field of the reply to window ``window`` set to ``value`` (or removed). ``target`` is
    a field path, or an index into the reply's field paths (taken modulo their number)."""

    window: int
    target: JsonPath | int
    value: Any

    def apply(self, reply: dict[str, Any]) -> None:
        paths = json_fields(reply)
        path = paths[self.target % len(paths)] if isinstance(self.target, int) else self.target
        set_json_field(reply, path, self.value)


class MutatingTransport(httpx2.MockTransport):
    """The emulator's replies, each passed through ``mutate`` (with the request's path and its
    number among the 200 replies so far) before the client reads it."""

    def __init__(self, emulator: Emulator, mutate: Mutate):
        super().__init__(self._respond)
        self._emulator = emulator.transport()
        self._mutate = mutate
        self._served = 0

    def _respond(self, request: httpx2.Request) -> httpx2.Response:
        original = self._emulator.handle_request(request)
        body = original.read()
        if original.status_code != 200:
            return httpx2.Response(original.status_code, headers=original.headers, content=body)
        reply = json.loads(body)
        self._mutate(request.url.path, self._served, reply)
        self._served += 1
        mutated = json.dumps(reply, allow_nan=True).encode()
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=mutated)


@pytest.fixture(scope="module")
def emulator() -> Emulator:
    return Emulator(now=FIXED_NOW)


def client_with(emulator: Emulator, mutate: Mutate) -> ConvivaAPI:
    # One request at a time: "window 0" is the first window's reply, on every run.
    return emulator.client(
        transport=MutatingTransport(emulator, mutate), max_concurrency=1, max_retries=0
    )


def mutating(mutation: Mutation) -> Mutate:
    def mutate(path: str, number: int, reply: dict[str, Any]) -> None:
        if number == mutation.window:
            mutation.apply(reply)

    return mutate


def exercise(result: MetricsResult) -> None:
    """Every view of a usable result works; values are finite numbers."""
    records = result.records()
    for record in records:
        assert isinstance(record["value"], (int, float))
        assert math.isfinite(record["value"])
    for total in result.totals():
        assert math.isfinite(total["value"])
    assert len(result.to_pandas()) == len(records)
    repr(result)


def usable_alone(reply: dict[str, Any]) -> bool:
    """Whether the single-reply decoder turns this reply into a result."""
    try:
        MetricsResult.from_bytes(json.dumps(reply, allow_nan=True).encode()).records()
    except ConvivaError:
        return False
    return True


mutations = st.builds(
    Mutation,
    window=st.sampled_from([0, 1]),
    target=st.integers(0, 10_000),
    value=st.sampled_from(REPLACEMENTS),
)
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


# --- one window: holds today ----------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(QUERIES)), mutation=mutations)
def test_a_single_reply_mutated_in_any_field_gives_a_usable_result_or_a_conviva_error(
    emulator: Emulator, name: str, mutation: Mutation
) -> None:
    one_window = Mutation(0, mutation.target, mutation.value)
    with client_with(emulator, mutating(one_window)) as api:
        try:
            result = api.get_historical_data(**QUERIES[name], time_range=1)
        except ConvivaError:
            return
    exercise(result)


@pytest.mark.parametrize("item", sorted(ISSUE_ITEMS))
def test_a_single_reply_with_the_odd_item_is_usable_and_notes_the_skip(
    emulator: Emulator, item: str
) -> None:
    path, value = ISSUE_ITEMS[item]
    with client_with(emulator, mutating(Mutation(0, path, value))) as api:
        result = api.get_historical_data(**QUERIES["by isp"], time_range=1)
    assert result.is_partial
    assert any(note.startswith("skipped ") for note in result.notes)
    exercise(result)


# --- split queries and batches: issue 12 item 5 ---------------------------------------------------


@pytest.mark.parametrize("item", sorted(ISSUE_ITEMS))
def test_a_split_query_with_the_odd_item_in_one_window_is_merged_into_a_usable_result(
    emulator: Emulator, item: str
) -> None:
    path, value = ISSUE_ITEMS[item]
    with client_with(emulator, mutating(Mutation(0, path, value))) as api:
        result = api.get_historical_data(**QUERIES["by isp"], time_range=2)
    exercise(result)


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(QUERIES)), mutation=mutations)
@example(name="by isp", mutation=Mutation(0, ISSUE_ITEMS["dimensional_data[0] = null"][0], None))
@example(name="ungrouped", mutation=Mutation(1, ("total",), "n/a"))
@example(name="by custom tag", mutation=Mutation(0, ("total",), True))
@example(name="ungrouped", mutation=Mutation(0, ("time_series", 0, "timestamp", "epoch_ms"), 0.0))
def test_a_split_reply_mutated_in_any_field_merges_whatever_one_reply_would_give(
    emulator: Emulator, name: str, mutation: Mutation
) -> None:
    seen: list[dict[str, Any]] = []

    def mutate(path: str, number: int, reply: dict[str, Any]) -> None:
        mutating(mutation)(path, number, reply)
        seen.append(reply)

    with client_with(emulator, mutate) as api:
        try:
            outcome: MetricsResult | ConvivaError = api.get_historical_data(
                **QUERIES[name], time_range=SPLIT_RANGE[name]
            )
        except ConvivaError as error:
            outcome = error
    if isinstance(outcome, MetricsResult):
        exercise(outcome)
    else:
        assert len(seen) == 2
        assert not all(usable_alone(reply) for reply in seen), (
            f"each window's reply is usable alone, yet the merge failed: {outcome!r}"
        )


BATCH_NEIGHBOURS = [
    QuerySpec.historical("attempts", group_by="cdn", time_range=1),
    QuerySpec.historical(["plays", "bitrate"], time_range=2),
    QuerySpec.historical("attempts", group_by={"custom-tag": "appVersion"}, time_range=1),
    QuerySpec.historical("ended-plays", time_range=100, granularity="P1D"),
    QuerySpec.real_time("plays", time_range=5),
]


def null_first_row_of_isp_replies(path: str, number: int, reply: dict[str, Any]) -> None:
    if path.endswith("/group-by/isp"):
        set_json_field(reply, ISSUE_ITEMS["dimensional_data[0] = null"][0], None)


def assert_good_results_kept(batch: BatchResult) -> None:
    assert len(batch) == 1 + len(BATCH_NEIGHBOURS)
    assert isinstance(batch[0], (MetricsResult, ConvivaError))
    for outcome in batch[1:]:
        assert isinstance(outcome, MetricsResult), outcome
        exercise(outcome)


@pytest.fixture
def batch_specs() -> list[QuerySpec]:
    """A split query whose replies all hold the odd item, and five good neighbours."""
    return [QuerySpec.historical(**QUERIES["by isp"], time_range=2), *BATCH_NEIGHBOURS]


def test_a_batch_keeps_its_good_results_beside_a_split_query_with_an_odd_item(
    emulator: Emulator, batch_specs: list[QuerySpec]
) -> None:
    with emulator.client(
        transport=MutatingTransport(emulator, null_first_row_of_isp_replies), max_retries=0
    ) as api:
        batch = api.get_many(batch_specs)
    assert_good_results_kept(batch)


async def test_an_async_batch_keeps_its_good_results_beside_a_split_query_with_an_odd_item(
    emulator: Emulator, batch_specs: list[QuerySpec]
) -> None:
    async with emulator.async_client(
        transport=MutatingTransport(emulator, null_first_row_of_isp_replies), max_retries=0
    ) as api:
        batch = await api.get_many(batch_specs)
    assert_good_results_kept(batch)
