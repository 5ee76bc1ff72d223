"""Hostile arguments: names and values from the whole of Unicode and the integer range.

The promise under test: every call either sends exactly one well-formed request whose path
segments and query parameters are exactly what was asked (after the documented spelling
normalisations: metric and group-by names to kebab-case, filter keys to snake_case), or raises
``QueryError`` before any request. Nothing else may come out: no ``InvalidURL``, ``TypeError``,
``ValueError`` from int-to-text conversion, and no request whose path the URL layer rewrote.

Requests are recorded by an ``httpx2.MockTransport`` (the transport seam a user has) and read
back the way a server would: the raw path split at ``/`` and percent-decoded, the raw query
parsed with ``urllib.parse.parse_qsl``.

Here: hypothesis properties for every argument that reaches the wire (metric names, group-by
dimensions and custom tags, filter keys and values, custom-tag filters, integer KPI and
saved-filter ids, integer filter values, ``limit``), then the cases of issue 12 items 4 and 8
by name: dot-segment and control-character tags (library and CLI), lone surrogates, queries too
long for a URL, 5,000-digit integers, wrong-typed batch and export arguments, one unsendable
spec in a batch, and tag segments sent with RFC 3986 characters only.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx2
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pyconviva import ConvivaAPI, QueryError, QuerySpec, export_dataset
from pyconviva.cli import main
from pyconviva.emulator import Emulator

pytestmark = pytest.mark.hostile  # the hostile suite runs as its own CI step

API = ["", "insights", "3.0", "metrics"]
HUGE = [10**5000, -(10**5000), 10**4300, 2**64, 2**63, 2**63 - 1]
# Strings that have broken URL builders before: dot segments, delimiters, escapes, controls.
NASTY = [
    ".",
    "..",
    "...",
    "a/..",
    "%2e%2e",
    "%2F",
    "?",
    "#",
    "a b",
    " a",
    "a ",
    "\\",
    "..\\..",
    "\x00",
    "a\x01b",
    "\t",
    "\r\n",
    "\x7f",
    "\u0085",
    "\u2028",
    "\u202e",
    "\ufeff",
    "\U0001f600",
    "é",
    "e\u0301",
    "&x=1",
    "=",
    "+",
    ";",
    "",
]
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)

any_text = st.one_of(
    st.text(max_size=12),  # every code point but lone surrogates (see the test of those below)
    st.sampled_from(NASTY),
    st.tuples(st.sampled_from(NASTY), st.text(max_size=4)).map("".join),
)
any_integer = st.one_of(st.integers(), st.sampled_from(HUGE))


@dataclass
class Recorder:
    """A MockTransport handler: records each request, answers an empty metrics reply."""

    requests: list[httpx2.Request] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return httpx2.Response(200, json={"time_series": []})


@dataclass(frozen=True)
class Sent:
    """A recorded request as a server reads it: path segments and query pairs, decoded."""

    segments: list[str]
    params: list[tuple[str, str]]


def as_server_reads(request: httpx2.Request) -> Sent:
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    segments = [unquote(segment, errors="strict") for segment in path.split("/")]
    params = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query), errors="strict")
    return Sent(segments, params)


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def api(recorder: Recorder) -> Iterator[ConvivaAPI]:
    transport = httpx2.MockTransport(recorder)
    with ConvivaAPI(
        "hostile-key", "hostile-id", transport=transport, max_retries=0, rate_limit=False
    ) as client:
        yield client


def sent_by(recorder: Recorder, call: Callable[[], object]) -> Sent | None:
    """The one request ``call`` sent, or None when it raised QueryError before sending.

    Any other exception propagates: that is the failure these tests look for.
    """
    before = len(recorder.requests)
    try:
        call()
    except QueryError:
        assert recorder.requests[before:] == [], "QueryError raised after a request was sent"
        return None
    sent = recorder.requests[before:]
    assert len(sent) == 1, f"{len(sent)} requests sent for one call"
    return as_server_reads(sent[0])


def without_days(sent: Sent) -> list[tuple[str, str]]:
    """The query parameters other than the ``days=1`` every call here asks for."""
    assert ("days", "1") in sent.params
    return sorted(pair for pair in sent.params if pair != ("days", "1"))


# --- properties that hold today ------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(metrics=st.one_of(any_text, st.lists(any_text, min_size=1, max_size=3)))
def test_any_metric_names_reach_the_path_exactly_or_raise_query_error(
    api: ConvivaAPI, recorder: Recorder, metrics: str | list[str]
) -> None:
    sent = sent_by(recorder, lambda: api.get_historical_data(metrics, time_range=1))
    if sent is None:
        return
    if isinstance(metrics, str):
        assert sent.segments == [*API, metrics.replace("_", "-")]
        assert without_days(sent) == []
    else:
        assert sent.segments == [*API, "custom-selection"]
        assert without_days(sent) == sorted(("metric", m.replace("_", "-")) for m in metrics)


@PROPERTY_SETTINGS
@given(dimension=any_text)
def test_any_group_by_dimension_reaches_the_path_exactly_or_raises_query_error(
    api: ConvivaAPI, recorder: Recorder, dimension: str
) -> None:
    sent = sent_by(
        recorder, lambda: api.get_historical_data("attempts", group_by=dimension, time_range=1)
    )
    if sent is not None:
        assert sent.segments == [*API, "attempts", "group-by", dimension.replace("_", "-")]
        assert without_days(sent) == []


@PROPERTY_SETTINGS
@given(key=any_text.filter(lambda k: not k.startswith("tag_")), value=st.just("v"))
def test_any_filter_key_arrives_as_one_parameter_or_raises_query_error(
    api: ConvivaAPI, recorder: Recorder, key: str, value: str
) -> None:
    sent = sent_by(
        recorder, lambda: api.get_historical_data("attempts", filter_by={key: value}, time_range=1)
    )
    if sent is not None:
        assert sent.segments == [*API, "attempts"]
        assert without_days(sent) == [(key.replace("-", "_"), value)]


@PROPERTY_SETTINGS
@given(values=st.one_of(any_text, st.lists(any_text, min_size=1, max_size=3)))
def test_any_filter_text_arrives_exactly_one_parameter_per_value_or_raises_query_error(
    api: ConvivaAPI, recorder: Recorder, values: str | list[str]
) -> None:
    sent = sent_by(
        recorder,
        lambda: api.get_historical_data("attempts", filter_by={"isp": values}, time_range=1),
    )
    if sent is not None:
        expected = [values] if isinstance(values, str) else values
        assert sent.segments == [*API, "attempts"]
        assert without_days(sent) == sorted(("isp", v) for v in expected)


@PROPERTY_SETTINGS
@given(tag=any_text, value=any_text)
def test_any_custom_tag_filter_arrives_as_tag_parameter_exactly_or_raises_query_error(
    api: ConvivaAPI, recorder: Recorder, tag: str, value: str
) -> None:
    sent = sent_by(
        recorder,
        lambda: api.get_historical_data(
            "attempts", filter_by={"custom-tag": {tag: value}}, time_range=1
        ),
    )
    if sent is not None:
        assert sent.segments == [*API, "attempts"]
        assert without_days(sent) == [(f"tag_{tag}", value)]


# --- properties that fail today (issue 12 items 4 and 8) ------------------------------------------


@PROPERTY_SETTINGS
@given(kpi=any_integer, saved=any_integer)
@example(kpi=0, saved=-(10**5000))
@example(kpi=-(10**5000), saved=0)
def test_any_integer_kpi_or_saved_filter_id_is_sent_as_its_digits_or_raises_query_error(
    api: ConvivaAPI, recorder: Recorder, kpi: int, saved: int
) -> None:
    sent = sent_by(
        recorder,
        lambda: api.get_historical_data(
            "attempts", filter_by={"filter_id": saved}, kpi_id=kpi, time_range=1
        ),
    )
    if sent is not None:
        assert without_days(sent) == sorted([("filter_id", str(saved)), ("kpi_id", str(kpi))])


@PROPERTY_SETTINGS
@given(tag=any_text)
@example(tag="..")
@example(tag=".")
@example(tag="a\x01b")
def test_any_custom_tag_group_by_reaches_the_path_exactly_or_raises_query_error(
    api: ConvivaAPI, recorder: Recorder, tag: str
) -> None:
    sent = sent_by(
        recorder,
        lambda: api.get_historical_data("attempts", group_by={"custom-tag": tag}, time_range=1),
    )
    if sent is not None:
        assert sent.segments == [*API, "attempts", "group-by", "dimension-tag", tag]
        assert without_days(sent) == []


@PROPERTY_SETTINGS
@given(value=any_integer)
@example(value=10**5000)
def test_any_integer_filter_value_is_sent_as_its_digits_or_raises_query_error(
    api: ConvivaAPI, recorder: Recorder, value: int
) -> None:
    sent = sent_by(
        recorder,
        lambda: api.get_historical_data("attempts", filter_by={"isp": value}, time_range=1),
    )
    if sent is not None:
        assert without_days(sent) == [("isp", str(value))]


@PROPERTY_SETTINGS
@given(limit=any_integer)
@example(limit=10**5000)
def test_any_integer_limit_is_sent_when_in_range_or_raises_query_error(
    api: ConvivaAPI, recorder: Recorder, limit: int
) -> None:
    sent = sent_by(
        recorder,
        lambda: api.get_historical_data("attempts", group_by="isp", limit=limit, time_range=1),
    )
    if sent is not None:
        assert 1 <= limit <= 500
        assert without_days(sent) == [("limit", str(limit))]


# --- item 4: dot segments -------------------------------------------------------------------------


@pytest.mark.parametrize("tag", [".", ".."])
def test_a_custom_tag_that_is_a_dot_segment_is_a_query_error_before_sending(
    api: ConvivaAPI, recorder: Recorder, tag: str
) -> None:
    before = len(recorder.requests)
    with pytest.raises(QueryError) as caught:
        api.get_historical_data("attempts", group_by={"custom-tag": tag})
    assert caught.value.argument == "group_by"
    assert recorder.requests[before:] == []


@pytest.fixture
def served_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Emulator]:
    """An emulator on loopback that the CLI reaches through the environment's settings."""
    emulator = Emulator()
    with emulator.serve() as url:
        monkeypatch.setenv("PYCONVIVA_CONFIG", str(tmp_path / "no-config.toml"))
        monkeypatch.setenv("CONVIVA_BASE_URL", url)
        monkeypatch.setenv("CONVIVA_CLIENT_ID", emulator.client_id)
        monkeypatch.setenv("CONVIVA_CLIENT_KEY", emulator.client_key)
        monkeypatch.delenv("CONVIVA_CLIENT_SECRET", raising=False)
        yield emulator


def cli_exit_code(*args: str) -> int | str | None:
    with pytest.raises(SystemExit) as caught:
        main(list(args))
    return caught.value.code


def test_the_cli_refuses_a_dot_segment_tag_with_exit_2_before_sending(
    served_cli: Emulator,
) -> None:
    assert cli_exit_code("historical", "attempts", "--group-by-tag", "..", "--days", "1") == 2
    assert served_cli.requests() == ()


# --- item 8: invalid arguments that escape as other exceptions -----------------------------------


@pytest.mark.parametrize("tag", ["a\x00b", "a\x01b", "a\tb", "a\x1fb", "a\x7fb"])
def test_a_control_character_in_a_custom_tag_is_a_query_error_before_sending(
    api: ConvivaAPI, recorder: Recorder, tag: str
) -> None:
    before = len(recorder.requests)
    with pytest.raises(QueryError):
        api.get_historical_data("attempts", group_by={"custom-tag": tag})
    assert recorder.requests[before:] == []


@pytest.mark.parametrize(
    "filter_by",
    [{"isp": "x" * 70_000}, {"isp": [f"isp-{i}" for i in range(8_000)]}],
    ids=["one long value", "many values"],
)
def test_a_query_too_long_for_a_url_is_a_query_error_before_sending(
    api: ConvivaAPI, recorder: Recorder, filter_by: dict[str, Any]
) -> None:
    before = len(recorder.requests)
    with pytest.raises(QueryError):
        api.get_historical_data("attempts", filter_by=filter_by)
    assert recorder.requests[before:] == []


@pytest.mark.parametrize(
    "arguments",
    [{"filter_by": {"isp": 10**5000}}, {"group_by": "isp", "limit": 10**5000}],
    ids=["filter value", "limit"],
)
def test_a_5000_digit_integer_argument_is_a_query_error_before_sending(
    api: ConvivaAPI, recorder: Recorder, arguments: dict[str, Any]
) -> None:
    before = len(recorder.requests)
    with pytest.raises(QueryError):
        api.get_historical_data("attempts", **arguments)
    assert recorder.requests[before:] == []


def test_get_many_of_something_that_is_not_a_list_of_specs_is_a_query_error(
    api: ConvivaAPI, recorder: Recorder
) -> None:
    before = len(recorder.requests)
    with pytest.raises(QueryError):
        api.get_many(5)  # type: ignore[arg-type]
    assert recorder.requests[before:] == []


def test_a_progress_that_is_not_callable_is_a_query_error_before_sending(
    api: ConvivaAPI, recorder: Recorder
) -> None:
    before = len(recorder.requests)
    with pytest.raises(QueryError):
        api.get_many([QuerySpec.historical("attempts")], progress=5)  # type: ignore[arg-type]
    assert recorder.requests[before:] == []


def test_a_spec_built_with_misplaced_arguments_is_reported_as_query_error_never_sent(
    api: ConvivaAPI, recorder: Recorder
) -> None:
    before = len(recorder.requests)
    try:
        batch = api.get_many(
            [QuerySpec(["metrics"], "attempts"), QuerySpec.historical("plays")]  # type: ignore[arg-type]
        )
    except QueryError:  # refused as a whole, before sending: also fine
        assert recorder.requests[before:] == []
        return
    assert isinstance(batch.errors.get(0), QueryError)
    assert batch.results[1] is not None
    assert [as_server_reads(r).segments[-1] for r in recorder.requests[before:]] == ["plays"]


def test_one_spec_with_an_unsendable_tag_is_its_query_error_and_the_others_still_run(
    api: ConvivaAPI, recorder: Recorder
) -> None:
    before = len(recorder.requests)
    batch = api.get_many(
        [
            QuerySpec.historical("attempts", group_by={"custom-tag": "a\x01b"}),
            QuerySpec.historical("plays"),
        ]
    )
    assert isinstance(batch[0], QueryError)
    assert batch.results[1] is not None
    assert len(recorder.requests[before:]) == 1


EXPORT_ARGUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("metrics=5", {"metrics": 5, "group_bys": [None]}),
    ("metrics=[5]", {"metrics": [5], "group_bys": [None]}),
    ("metrics=b'x'", {"metrics": b"x", "group_bys": [None]}),
    ("group_bys=[5]", {"metrics": ["attempts"], "group_bys": [5]}),
]


@pytest.mark.parametrize(
    "arguments", [a for _, a in EXPORT_ARGUMENTS], ids=[name for name, _ in EXPORT_ARGUMENTS]
)
def test_export_arguments_of_the_wrong_type_are_a_query_error_before_sending(
    api: ConvivaAPI, recorder: Recorder, tmp_path: Path, arguments: dict[str, Any]
) -> None:
    before = len(recorder.requests)
    with pytest.raises(QueryError):
        export_dataset(
            api, start="2026-01-01", end="2026-01-02", directory=tmp_path / "data", **arguments
        )
    assert recorder.requests[before:] == []


def test_an_export_with_an_unsendable_tag_is_a_query_error_before_sending(
    api: ConvivaAPI, recorder: Recorder, tmp_path: Path
) -> None:
    before = len(recorder.requests)
    with pytest.raises(QueryError):
        export_dataset(
            api,
            metrics=["attempts"],
            group_bys=[None, {"custom-tag": "a\x01b"}],
            start="2026-01-01",
            end="2026-01-02",
            directory=tmp_path / "data",
        )
    assert recorder.requests[before:] == []


def test_the_cli_refuses_a_control_character_in_a_tag_with_exit_2_before_sending(
    served_cli: Emulator,
) -> None:
    assert cli_exit_code("historical", "attempts", "--group-by-tag", "a\x01b", "--days", "1") == 2
    assert served_cli.requests() == ()


# --- beyond the list: found by this suite ---------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"group_by": {"custom-tag": "a\ud800"}},
        {"filter_by": {"isp": "a\udcff"}},
        {"filter_by": {"custom-tag": {"a\udfff": "v"}}},
    ],
    ids=["group-by tag", "filter value", "filter tag name"],
)
def test_a_lone_surrogate_in_a_name_or_value_is_a_query_error_before_sending(
    api: ConvivaAPI, recorder: Recorder, arguments: dict[str, Any]
) -> None:
    before = len(recorder.requests)
    with pytest.raises(QueryError):
        api.get_historical_data("attempts", **arguments)
    assert recorder.requests[before:] == []


# RFC 3986 pchar plus "/": the only bytes a well-formed path may hold unescaped.
PATH_BYTES = frozenset((string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/%").encode())


@pytest.mark.parametrize("tag", ["a\\b", "..\\..", "a[0]", "a^b", "a|b"])
def test_a_custom_tag_path_segment_is_sent_with_rfc_3986_characters_only(
    api: ConvivaAPI, recorder: Recorder, tag: str
) -> None:
    sent = sent_by(
        recorder, lambda: api.get_historical_data("attempts", group_by={"custom-tag": tag})
    )
    if sent is None:  # refusing such a tag is as good as escaping it
        return
    path = recorder.requests[-1].url.raw_path.partition(b"?")[0]
    assert set(path) <= PATH_BYTES, path
    assert sent.segments[-1] == tag


def test_both_spellings_of_a_custom_tag_filter_send_the_same_tag_name(
    api: ConvivaAPI, recorder: Recorder
) -> None:
    api.get_historical_data("attempts", filter_by={"custom-tag": {"app-version": "1.2"}})
    nested = as_server_reads(recorder.requests[-1])
    api.get_historical_data("attempts", filter_by={"tag_app-version": "1.2"})
    flat = as_server_reads(recorder.requests[-1])
    assert ("tag_app-version", "1.2") in nested.params
    assert flat.params == nested.params
