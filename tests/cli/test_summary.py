"""The terminal summary of ``historical`` and ``realtime``: the default on a terminal, one row
per group with the number each field allows, the API's total, and a trend; every other format
unchanged."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from typing import Any

import pytest
from rich.console import Console

from pyconviva import MetricsResult
from pyconviva.cli.output import cell_text
from pyconviva.cli.summary import SummaryView, build_summary, format_value, partial_buckets_note
from pyconviva.emulator import Emulator, StatusFault
from tests.cli.support import (
    NOW,
    WIDE_TERMINAL,
    run,
    run_in_terminal,
    without_escapes,
)

HOUR = 3_600_000
T0 = 1795046400000  # 2026-11-19T00:00:00Z


# Five ISPs over three hours, in the API's order (not by size): attempts and rebuffering
# ratio, hour by hour; then the API's total.
HOURS: dict[str, tuple[tuple[int, int, int], tuple[float, float, float]]] = {
    "Optus": ((1200, 1500, 900), (0.41, 0.44, 0.5)),
    "Telstra": ((3400, 3900, 2800), (0.37, 0.35, 0.4)),
    "TPG": ((15, 30, 25), (1.2, 0.9, 1.1)),
    "Vodafone": ((980, 1010, 1200), (0.52, 0.48, 0.5)),
    "Aussie Broadband": ((640, 700, 610), (0.3, 0.28, 0.33)),
}


def bucket(hour: int) -> dict[str, Any]:
    return {
        "timestamp": {"epoch_ms": T0 + hour * HOUR},
        "dimensional_data": [
            {
                "dimension": {"key": "isp", "value": isp},
                "metrics": {
                    "attempts": {"count": counts[hour]},
                    "rebuffering_ratio": {"ratio": ratios[hour]},
                },
            }
            for isp, (counts, ratios) in HOURS.items()
        ],
    }


REPLY: dict[str, Any] = {
    "_meta": {"group_by_dimension": {"description": "ISP"}},
    "time_series": [bucket(hour) for hour in range(3)],
    "total": {"attempts": {"count": 18910}, "rebuffering_ratio": {"ratio": 0.402}},
}
RANGE = ["--start", "2026-11-19T00:00:00Z", "--end", "2026-11-19T03:00:00Z"]

EXPECTED = """\
historical attempts, rebuffering-ratio by isp,
2026-11-19T00:00:00Z..2026-11-19T03:00:00Z, PT1H

                                           trend
            Attempts   Rebuffering Ratio   Attempts
 isp           count             ratio %   count
 ──────────────────────────────────────────────────
 Telstra      10,100                 n/a   ▅█▁
 Optus         3,600                 n/a   ▅█▁
 Vodafone      3,190                 n/a   ▁▂█
 … 2 more      2,020
 ──────────────────────────────────────────────────
 Total        18,910                0.40

3 buckets of PT1H; rows by attempts.count, largest first; top 3 shown (--top N
for more)
n/a: these do not add up over the 3 buckets: rebuffering_ratio.ratio (a ratio);
and the API's total covers every isp at once. For the API's value per isp, add
--granularity ALL (one bucket for the whole range).
Every row: --format table; files: --format csv, json, jsonl or parquet.
"""


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_terminal_summary_of_a_fixed_reply_reads_as_expected(
    env: dict[str, str | None], served: Emulator
) -> None:
    served.add_faults(StatusFault(status=200, body=REPLY, path="/group-by/isp"))
    args = ["attempts", "rebuffering-ratio", "--group-by", "isp", *RANGE, "--top", "3"]

    outcome = run_in_terminal(env, "historical", *args, "--profile", "test")

    assert outcome.exit_code == 0, outcome.output
    assert lines(outcome.stdout) == lines(EXPECTED)


# ------------------------------------------------------------------ the emulator, end to end

GROUPED = ["attempts", "bitrate", "--group-by", "isp", "--days", "5", "--emulator"]
# The full tables render every row: a day in 6-hour buckets keeps them short (rich lays out
# each row, about 0.6 ms apiece).
GROUPED_DAY = [*GROUPED[:4], "--days", "1", "--granularity", "PT6H", "--emulator"]


def library_result(**query: Any) -> MetricsResult:
    with Emulator(now=NOW).client() as client:
        return client.get_historical_data(**query)


def test_summary_is_the_default_on_a_terminal_with_a_row_per_group_and_the_apis_total(
    env: dict[str, str | None],
) -> None:
    outcome = run_in_terminal(env, "historical", *GROUPED, terminal=WIDE_TERMINAL)

    assert outcome.exit_code == 0, outcome.output
    text = without_escapes(outcome.stdout)
    result = library_result(metrics=["attempts", "bitrate"], group_by="isp", time_range=5)
    sums: dict[str, int] = defaultdict(int)
    for record in result.records():
        if record["metric"] == "attempts":
            sums[record["isp"]] += record["value"]
    biggest = sorted(sums.items(), key=lambda item: -item[1])
    rows = [line for line in text.splitlines() if line.startswith(" ")]
    for isp, total in biggest[:10]:
        (row,) = [line for line in rows if line.split("  ")[0].strip() == isp]
        assert f"{total:,}" in row
        assert "n/a" in row  # bitrate is an average: not summed over the buckets
    assert f"… {len(biggest) - 10} more" in text
    assert f"{sum(total for _, total in biggest[10:]):,}" in text
    api_total = {row["metric"]: row["value"] for row in result.totals()}
    assert f"{api_total['attempts']:,}" in text
    assert format_value(api_total["bitrate"]) in text
    assert "--granularity ALL" in text
    assert len(text.splitlines()) < 40  # not 1,800 hourly rows


def test_the_full_tidy_table_is_one_flag_away_on_a_terminal(env: dict[str, str | None]) -> None:
    outcome = run_in_terminal(env, "historical", *GROUPED_DAY, "--format", "table")

    assert outcome.exit_code == 0, outcome.output
    records = library_result(
        metrics=["attempts", "bitrate"], group_by="isp", time_range=1, granularity="PT6H"
    )
    assert "timestamp" in outcome.stdout
    assert outcome.stdout.count(cell_text(records.records()[0]["timestamp"])) >= 2


@pytest.mark.parametrize("output_format", ["csv", "json", "jsonl", "raw"])
def test_machine_formats_are_the_same_on_a_terminal_as_in_a_pipe(
    env: dict[str, str | None], output_format: str
) -> None:
    piped = run(env, "historical", *GROUPED, "--format", output_format)
    in_terminal = run_in_terminal(env, "historical", *GROUPED, "--format", output_format)
    assert in_terminal.exit_code == 0, in_terminal.output
    assert in_terminal.stdout == piped.stdout


def test_a_pipe_still_gets_csv(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", *GROUPED)
    assert next(csv.reader(io.StringIO(outcome.stdout))) == [
        "timestamp",
        "isp",
        "metric",
        "field",
        "value",
    ]


def test_the_summary_can_be_asked_for_in_a_pipe(env: dict[str, str | None]) -> None:
    outcome = run(env, "historical", *GROUPED, "--format", "summary", "--top", "2")
    assert outcome.exit_code == 0, outcome.output
    assert "… " in outcome.stdout
    assert "Total" in outcome.stdout


def test_a_console_without_block_characters_gets_an_ascii_trend(
    env: dict[str, str | None],
) -> None:
    outcome = run(env, "historical", *GROUPED, "-f", "summary", "--top", "1", charset="ascii")
    assert outcome.exit_code == 0, outcome.output
    assert "▁" not in outcome.stdout
    assert any(level in outcome.stdout for level in "_.-=+*#@")


def test_wide_on_a_terminal_shows_the_wide_table(env: dict[str, str | None]) -> None:
    outcome = run_in_terminal(env, "historical", *GROUPED_DAY, "--wide", terminal=WIDE_TERMINAL)
    assert outcome.exit_code == 0, outcome.output
    assert "attempts.count" in without_escapes(outcome.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--top", "3", "--format", "csv"], "--top sets the rows of the terminal summary"),
        (["--wide", "--format", "summary"], "--wide shapes the rows"),
        (["--top", "0"], "0 is not a positive whole number"),
    ],
)
def test_options_the_output_would_ignore_are_refused(
    env: dict[str, str | None], args: list[str], message: str
) -> None:
    outcome = run_in_terminal(env, "historical", *GROUPED, *args)
    assert outcome.exit_code == 2
    assert message in outcome.stderr


def test_realtime_has_the_summary_too(env: dict[str, str | None]) -> None:
    args = ["concurrent-plays", "--group-by", "isp", "--emulator", "--granularity", "ALL"]
    outcome = run_in_terminal(env, "realtime", *args)
    assert outcome.exit_code == 0, outcome.output
    assert "one bucket for the whole range (ALL)" in outcome.stdout
    assert "n/a" not in outcome.stdout  # one bucket: each group's value is the API's


def test_help_offers_the_summary_and_the_table(env: dict[str, str | None]) -> None:
    text = " ".join(run(env, "historical", "--help").stdout.split())
    assert "summary (default on a terminal" in text
    assert "table (every row)" in text
    assert "--top N" in text


# ------------------------------------------------------------ what each field allows


def result_of(reply: dict[str, Any], **query: Any) -> MetricsResult:
    """A reply as the client would return it for ``query`` (its ``query`` describes it)."""
    emulator = Emulator(now=NOW)
    emulator.add_faults(StatusFault(status=200, body=reply))
    with emulator.client() as client:
        return client.get_historical_data(**query)


GROUPED_QUERY = {
    "metrics": ["attempts", "rebuffering-ratio"],
    "group_by": "isp",
    "time_range": ("2026-11-19T00:00:00Z", "2026-11-19T03:00:00Z"),
}


def test_counts_are_summed_and_ratios_left_to_the_api() -> None:
    summary = build_summary(result_of(REPLY, **GROUPED_QUERY), top=10, ranked_by_api=False)

    cells = {row.label: row.cells for row in summary.rows}
    assert cells["Optus"] == (3600, None)
    assert cells["TPG"] == (70, None)
    assert summary.total == (18910, 0.402)
    assert "--granularity ALL" in summary.footnotes[0]


def test_a_single_bucket_shows_the_apis_value_of_every_field_per_group() -> None:
    one = {**REPLY, "time_series": REPLY["time_series"][:1]}
    summary = build_summary(
        result_of(one, **GROUPED_QUERY, granularity="ALL"), top=10, ranked_by_api=False
    )

    assert {row.label: row.cells for row in summary.rows}["TPG"] == (15, 1.2)
    assert summary.footnotes == ()


def test_groups_beyond_the_top_are_counted_with_their_sum() -> None:
    summary = build_summary(result_of(REPLY, **GROUPED_QUERY), top=2, ranked_by_api=False)

    assert [row.label for row in summary.rows] == ["Telstra", "Optus"]
    assert summary.hidden == 3
    assert summary.hidden_cells == (3190 + 1950 + 70, None)


def test_rows_keep_the_apis_order_when_the_api_ranked_them() -> None:
    summary = build_summary(result_of(REPLY, **GROUPED_QUERY), top=10, ranked_by_api=True)

    assert [row.label for row in summary.rows][:3] == ["Optus", "Telstra", "TPG"]
    assert summary.ranked_by is None


def test_an_ungrouped_result_has_a_row_per_field_with_the_apis_total() -> None:
    reply = {
        "time_series": [
            {"timestamp": {"epoch_ms": T0 + i * HOUR}, "plays": {"count": c, "percentage": p}}
            for i, (c, p) in enumerate([(100, 90.0), (300, 96.0)])
        ],
        "total": {"plays": {"count": 400, "percentage": 94.5}},
    }
    result = result_of(reply, metrics="plays", time_range=GROUPED_QUERY["time_range"])

    text = render(build_summary(result, top=10, ranked_by_api=False))

    rows = [line.split() for line in text.splitlines()]
    assert ["Plays", "count", "400", "▁█"] in rows  # the API's total, and the trend
    assert ["Plays", "percentage", "%", "94.50", "▁█"] in rows


def test_a_total_the_merge_of_several_requests_dropped_is_blank_and_says_why() -> None:
    with Emulator(now=NOW).client() as client:
        merged = client.get_historical_data("plays", time_range=120, granularity="P1D")

    summary = build_summary(merged, top=10, ranked_by_api=False)

    (row,) = summary.rows
    assert row.cells[1] is None  # plays.percentage
    assert "several requests" in summary.footnotes[0]


def test_a_metric_the_catalogue_does_not_know_is_not_summed() -> None:
    reply = json.loads(json.dumps(REPLY).replace("rebuffering_ratio", "house_metric"))
    reply["time_series"][0]["dimensional_data"][0]["metrics"]["house_metric"] = {"count": 5}
    query = {**GROUPED_QUERY, "metrics": ["attempts", "house-metric"]}

    summary = build_summary(result_of(reply, **query), top=10, ranked_by_api=False)

    assert all(row.cells[1] is None for row in summary.rows)
    assert "not in the built-in catalogue" in summary.footnotes[0]


def render(summary: Any, width: int = 80) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(SummaryView(summary))
    return buffer.getvalue()


def test_trends_take_the_width_the_numbers_leave() -> None:
    summary = build_summary(result_of(REPLY, **GROUPED_QUERY), top=10, ranked_by_api=False)
    assert len(render(summary, width=200).splitlines()[6].split()[-1]) == 3  # 3 buckets
    assert max(map(len, render(summary, width=52).splitlines())) <= 52


@pytest.mark.parametrize(
    ("value", "text"),
    [(1234567, "1,234,567"), (0.521, "0.52"), (5285801.27, "5,285,801"), (None, "n/a")],
)
def test_numbers_are_thousands_separated(value: float | None, text: str) -> None:
    assert format_value(value) == text


# ------------------------------------------------------------------ buckets the range cuts


def test_a_day_range_ending_inside_a_day_says_both_day_buckets_are_partial(
    env: dict[str, str | None],
) -> None:
    args = ["attempts", "--days", "1", "--granularity", "P1D", "--emulator"]
    outcome = run_in_terminal(env, "historical", *args, terminal=WIDE_TERMINAL)
    assert outcome.exit_code == 0, outcome.output
    text = " ".join(without_escapes(outcome.stdout).split())
    assert "Partial P1D buckets: the first starts at" in text
    assert "the last ends at" in text
    assert "--start and --end on the bucket grid" in text


def test_a_range_on_the_bucket_grid_has_no_partial_bucket_note() -> None:
    with Emulator(now=NOW).client() as client:
        whole_days = client.get_historical_data(
            "attempts", time_range=("2026-11-10", "2026-11-12"), granularity="P1D"
        )
        hours = client.get_historical_data("attempts", time_range=2)
    assert partial_buckets_note(whole_days.query) is None  # type: ignore[arg-type]
    assert partial_buckets_note(hours.query) is None  # type: ignore[arg-type]


def test_a_range_cut_at_its_end_names_only_the_last_bucket() -> None:
    with Emulator(now=NOW).client() as client:
        result = client.get_historical_data(
            "attempts", time_range=("2026-11-10", "2026-11-12T06:00:00Z"), granularity="P1D"
        )
    note = partial_buckets_note(result.query)  # type: ignore[arg-type]
    assert note is not None
    assert "first" not in note
    assert "the last ends at 2026-11-12T06:00:00Z" in note
