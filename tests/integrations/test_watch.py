"""pyconviva watch: the view as data, its text at a fixed width, alerts once per crossing, and
the refresh loop against the emulator."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pyconviva import QueryError
from pyconviva.emulator import DropConnection, Emulator
from pyconviva.watch import (
    AlertActions,
    Crossing,
    Series,
    View,
    Watch,
    WatchModel,
    next_refresh,
    parse_alert,
    parse_series,
    render_text,
    sparkline,
)

MINUTE = timedelta(minutes=1)
# At 12:02:05 the minute 12:01 is still settling, so 12:00 is the newest shown.
NOW = datetime(2025, 6, 2, 12, 2, 5, tzinfo=timezone.utc)
NEWEST = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
SERIES = (Series("plays"), Series("rebuffering-ratio"), Series("bitrate"))
Record = dict[str, Any]


def minute_records(
    minute: datetime, group: str | None = None, *, plays: int, ratio: float, bps: float
) -> list[Record]:
    """One minute of a reply, as ``MetricsResult.records()`` gives it."""
    shared: Record = {"timestamp": minute}
    if group is not None:
        shared["cdn"] = group
    return [
        {**shared, "metric": "plays", "field": "count", "value": plays},
        {**shared, "metric": "plays", "field": "percentage", "value": 95.0},
        {**shared, "metric": "rebuffering_ratio", "field": "ratio", "value": ratio},
        {**shared, "metric": "bitrate", "field": "bps", "value": bps},
    ]


def window(
    end: datetime, group: str | None = None, *, ratio: Callable[[int], float] = lambda i: 0.5
) -> list[Record]:
    """A 15-minute reply ending with the minute still filling at ``end`` (minute i from 0)."""
    first = end.replace(second=0) - 16 * MINUTE
    return [
        record
        for i in range(17)
        for record in minute_records(
            first + i * MINUTE,
            group,
            plays=(2000 if group is None else 900) + 40 * (i % 5),
            ratio=ratio(i),
            bps=5_000_000 + 25_000 * i,
        )
    ]


def grouped_model(**options: Any) -> WatchModel:
    return WatchModel(SERIES, group_by="cdn", **options)


def test_screen_at_a_fixed_width_and_clock() -> None:
    model = grouped_model(alerts=[parse_alert("rebuffering-ratio>1")])
    model.update(
        NOW,
        window(NOW),
        window(NOW, "Akamai") + window(NOW, "Fastly", ratio=lambda i: 0.4 + 0.1 * i),
    )

    assert render_text(model.view(), width=90) == SCREEN


SCREEN = """\
Conviva real time by cdn · minute 12:00 UTC · updated 12:02:05 UTC
   cdn          metric                   now   Δ 1 min  last 15 min
   all traffic  plays                  2,160     +1.9%  ▁▃▅▇█▁▃▅▇█▁▃▅▇█
                rebuffering ratio      0.50%  +0.00 pp  ▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅
                bitrate            5.35 Mbps     +0.5%  ▁▁▂▂▃▃▄▅▅▆▆▇▇██
   Akamai       plays                  1,060     +3.9%  ▁▃▅▇█▁▃▅▇█▁▃▅▇█
                rebuffering ratio      0.50%  +0.00 pp  ▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅
                bitrate            5.35 Mbps     +0.5%  ▁▁▂▂▃▃▄▅▅▆▆▇▇██
   Fastly       plays                  1,060     +3.9%  ▁▃▅▇█▁▃▅▇█▁▃▅▇█
!               rebuffering ratio      1.80%  +0.10 pp  ▁▁▂▂▃▃▄▄▅▆▆▇▇██
                bitrate            5.35 Mbps     +0.5%  ▁▁▂▂▃▃▄▅▅▆▆▇▇██
alerts: rebuffering-ratio>1 · Ctrl-C quits
"""


def test_narrow_screen_shortens_names_and_keeps_numbers_and_sparklines() -> None:
    model = grouped_model()
    model.update(NOW, window(NOW), window(NOW, "A content delivery network with a long name"))

    lines = render_text(model.view(), width=64).splitlines()

    assert max(len(line) for line in lines) <= 64
    fastly = next(line for line in lines if line.lstrip().startswith("A content"))
    assert "…" in fastly
    assert fastly.endswith("1,060     +3.9%  ▁▃▅▇█▁▃▅▇█▁▃▅▇█")


def test_alert_rings_once_per_crossing_not_once_per_minute() -> None:
    model = WatchModel(SERIES, alerts=[parse_alert("rebuffering-ratio>1")])
    ratios = [0.5, 1.2, 1.4, 0.8, 1.1, 1.3]
    crossed = []
    for i, ratio in enumerate(ratios):
        now = NOW + i * MINUTE
        minute = now.replace(second=0) - 2 * MINUTE
        records = minute_records(minute, plays=1000, ratio=ratio, bps=5e6)
        crossed.append([c.value for c in model.update(now, records)])

    assert crossed == [[], [1.2], [], [], [1.1], []]


def test_a_minute_without_data_keeps_the_alert_state() -> None:
    model = WatchModel(SERIES, alerts=[parse_alert("rebuffering-ratio>=1")])
    first = model.update(NOW, minute_records(NEWEST, plays=1, ratio=2.0, bps=1.0))
    empty = model.update(NOW + MINUTE, [])
    again = model.update(
        NOW + 2 * MINUTE, minute_records(NEWEST + 2 * MINUTE, plays=1, ratio=3.0, bps=1.0)
    )
    assert [len(first), len(empty), len(again)] == [1, 0, 0]


def test_alerting_rows_are_marked_and_others_not() -> None:
    model = grouped_model(alerts=[parse_alert("rebuffering-ratio>1")])
    crossings = model.update(NOW, window(NOW), window(NOW, "Fastly", ratio=lambda i: 0.4 + 0.1 * i))
    alerting = {(r.group, r.series.metric) for r in model.view().rows if r.alerting}
    assert alerting == {("Fastly", "rebuffering-ratio")}
    assert [(c.group, c.value, c.minute) for c in crossings] == [
        ("Fastly", pytest.approx(1.8), NEWEST)
    ]


def test_failed_refresh_keeps_the_data_and_shows_it_stale_until_the_next_good_one() -> None:
    model = WatchModel(SERIES)
    model.update(NOW, window(NOW))
    model.failed(NOW + MINUTE, "APIConnectionError: connection refused")
    model.failed(NOW + 2 * MINUTE, "APIConnectionError: connection refused")

    view = model.view()
    assert view.stale_since == NOW + MINUTE
    assert view.rows[0].now == 2160
    text = " ".join(render_text(view, width=90).split())
    assert "STALE since 12:03:05 UTC" in text
    assert "APIConnectionError: connection refused" in text

    model.update(NOW + 3 * MINUTE, window(NOW + 3 * MINUTE))
    assert not model.view().stale


def test_history_keeps_the_last_15_settled_minutes_and_takes_newer_numbers() -> None:
    model = WatchModel(SERIES)
    model.update(NOW, window(NOW))
    later = NOW + 3 * MINUTE
    revised = [dict(r, value=7) if r["field"] == "count" else r for r in window(later)]
    model.update(later, revised)

    plays = model.view().rows[0]
    assert model.view().minute == NEWEST + 3 * MINUTE
    assert len(plays.history) == 15
    assert set(plays.history) == {7}


def test_change_is_in_points_for_shares_and_in_percent_for_counts() -> None:
    model = WatchModel(SERIES)
    model.update(NOW, window(NOW, ratio=lambda i: 0.1 * i))
    plays, ratio, _ = model.view().rows
    assert ratio.in_points
    assert ratio.delta == pytest.approx(0.1)
    assert not plays.in_points
    assert plays.delta == pytest.approx((2160 - 2120) / 2120 * 100)


def test_alert_on_an_unlisted_metric_adds_its_row() -> None:
    model = WatchModel([Series("plays")], alerts=[parse_alert("bitrate<3000000")])
    assert model.series == (Series("plays"), Series("bitrate"))
    assert model.metrics == ["plays", "bitrate"]


@pytest.mark.parametrize(
    ("text", "series", "op", "threshold"),
    [
        ("rebuffering-ratio>2", Series("rebuffering-ratio"), ">", 2.0),
        (" bitrate <= 3e6 ", Series("bitrate"), "<=", 3e6),
        ("video_start_failures.count>=50", Series("video-start-failures", "count"), ">=", 50),
    ],
)
def test_alerts_are_read_as_metric_operator_number(
    text: str, series: Series, op: str, threshold: float
) -> None:
    alert = parse_alert(text)
    assert (alert.series, alert.op, alert.threshold) == (series, op, threshold)


@pytest.mark.parametrize("text", ["rebuffering-ratio>>2", "bitrate", "plays>many", "x>nan", ">2"])
def test_unreadable_alerts_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(QueryError, match="rebuffering-ratio>2"):
        parse_alert(text)


def test_series_may_name_a_field() -> None:
    assert parse_series("video-start-failures.percentage").label == "video start failures %"
    assert parse_series("plays.count").label == "plays (count)"
    with pytest.raises(QueryError):
        parse_series("plays/x")


def test_sparkline_spans_smallest_to_largest_and_leaves_gaps_blank() -> None:
    assert sparkline([1, 2, None, 8]) == "▁▂ █"
    assert sparkline([3, 3]) == "▅▅"
    assert sparkline([None, None]) == "  "


def test_refresh_is_due_a_few_seconds_into_the_next_minute() -> None:
    assert next_refresh(NOW) == datetime(2025, 6, 2, 12, 3, 5, tzinfo=timezone.utc)


# --- against the emulator ---------------------------------------------------------------------


@pytest.fixture
def emulator(conviva_emulator: Emulator) -> Emulator:
    conviva_emulator.advance(5)  # 12:00:05, a refresh's moment
    return conviva_emulator


class Stop(Exception):
    """Ends a watch loop after a number of screens (as Ctrl-C would)."""


def run_for(watch: Watch, emulator: Emulator, screens: int) -> list[View]:
    shown: list[View] = []

    def show(view: View) -> None:
        shown.append(view)
        if len(shown) == screens:
            raise Stop

    with pytest.raises(Stop):
        watch.run(show, lambda crossing: None, sleep=lambda seconds: emulator.advance(seconds))
    return shown


def test_watch_refreshes_once_a_minute_with_two_requests(emulator: Emulator) -> None:
    with emulator.client() as api:
        watch = Watch(api, WatchModel(group_by="cdn"), top=3)
        views = run_for(watch, emulator, 4)

    assert [v.minute for v in views] == [
        datetime(2025, 6, 2, 11, 58, tzinfo=timezone.utc) + i * MINUTE for i in range(4)
    ]
    assert len(emulator.requests()) == 8
    assert {r.path for r in emulator.requests()} == {
        "/insights/3.0/real-time-metrics/custom-selection",
        "/insights/3.0/real-time-metrics/custom-selection/group-by/cdn",
    }
    groups = {r.group for r in views[-1].rows}
    assert len(groups) == 4  # all traffic and the top 3


def test_lost_connection_shows_stale_data_and_recovers(emulator: Emulator) -> None:
    with emulator.client(max_retries=0) as api:
        watch = Watch(api, WatchModel())
        watch.refresh()
        emulator.advance(60)
        emulator.add_faults(DropConnection(times=2))
        watch.refresh()
        stale = watch.model.view()
        emulator.advance(60)
        watch.refresh()  # the second fault
        emulator.advance(60)
        watch.refresh()

    assert stale.stale
    assert str(stale.error).startswith("APIConnectionError")
    assert stale.rows[0].now is not None
    assert not watch.model.view().stale


def test_tuesday_isp_outage_shows_as_an_alert_on_its_isp() -> None:
    alert = "video-start-failures.percentage>20"
    during = _alerting_isps("2025-06-04T00:30:05Z", alert)  # Tuesday 19:30 in the US east
    a_day_before = _alerting_isps("2025-06-03T00:30:05Z", alert)
    assert "Charter Spectrum" in during
    assert "Charter Spectrum" not in a_day_before


def _alerting_isps(now: str, alert: str) -> set[str | None]:
    emulator = Emulator(now=now, audience="small")
    model = WatchModel(alerts=[parse_alert(alert)], group_by="isp")
    with emulator.client() as api:
        Watch(api, model, top=5).refresh()
    return {row.group for row in model.view().rows if row.alerting}


# --- alert actions --------------------------------------------------------------------------


@pytest.fixture
def crossing() -> Crossing:
    return Crossing(parse_alert("rebuffering-ratio>2"), "Fastly", 2.5, NEWEST)


def test_alert_command_runs_once_per_crossing_and_learns_what_crossed(
    crossing: Crossing, tmp_path: Path
) -> None:
    out = tmp_path / "alerts.jsonl"
    script = (
        "import json, os, sys; "
        "keys = [k for k in os.environ if k.startswith('PYCONVIVA_ALERT')]; "
        f"open({str(out)!r}, 'a').write(json.dumps({{k: os.environ[k] for k in keys}}) + '\\n')"
    )
    rings: list[None] = []
    actions = AlertActions(
        bell=lambda: rings.append(None), command=f"{sys.executable} -c {shlex.quote(script)}"
    )

    actions(crossing)
    actions.wait()

    assert len(rings) == 1
    (line,) = out.read_text().splitlines()
    assert json.loads(line) == {
        "PYCONVIVA_ALERT": "rebuffering-ratio>2",
        "PYCONVIVA_ALERT_GROUP": "Fastly",
        "PYCONVIVA_ALERT_VALUE": "2.5",
        "PYCONVIVA_ALERT_MINUTE": "2025-06-02T12:00:00Z",
    }
