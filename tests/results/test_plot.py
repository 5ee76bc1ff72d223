"""plot(): a PNG file, titles with units, top N groups by volume, UTC axis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyconviva import MetricsResult, QueryError
from tests.helpers import MULTI, T0, result_of, row, stamp

HOUR = 3_600_000


def many_groups(n: int) -> dict[str, Any]:
    buckets = [
        {
            "timestamp": stamp(T0 + b * HOUR),
            "dimensional_data": [
                row("isp", f"isp-{g}", attempts={"count": 100 * g + b}, bitrate={"bps": 3e6})
                for g in range(n)
            ],
        }
        for b in range(3)
    ]
    return {"time_series": buckets, "total": {}}


def test_plot_writes_a_png_file(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    figure = result_of(many_groups(3)).plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(figure.axes) == 2  # one panel per metric


def test_plot_draws_the_top_groups_by_volume_and_says_so() -> None:
    figure = MetricsResult(many_groups(12)).plot(top=5)
    attempts = figure.axes[0]
    labels = [line.get_label() for line in attempts.get_lines()]
    assert labels == ["isp-11", "isp-10", "isp-9", "isp-8", "isp-7"]
    assert "top 5 of 12 isp by volume" in attempts.get_title()
    assert attempts.get_xlabel() == ""  # shared axis: label on the last panel only
    assert figure.axes[-1].get_xlabel() == "time (UTC, bucket start)"


def test_plot_labels_axes_with_catalogue_units() -> None:
    figure = MetricsResult(MULTI).plot(metrics=["bitrate", "plays.percentage"])
    bitrate, plays = figure.axes
    assert bitrate.get_ylabel() == "bps"
    assert plays.get_ylabel() == "percent"
    assert "percentage" in plays.get_title()


def test_plot_x_axis_is_in_utc() -> None:
    figure = MetricsResult(MULTI).plot()
    formatter = figure.axes[0].xaxis.get_major_formatter()
    assert str(formatter._tz) == "UTC"


def test_plot_of_an_unknown_metric_is_a_query_error_listing_the_choices() -> None:
    with pytest.raises(QueryError, match=r"\['nope'\] not in this result; choose from"):
        MetricsResult(MULTI).plot(metrics=["nope"])


def test_plot_with_top_below_one_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="top must be at least 1"):
        MetricsResult(MULTI).plot(top=0)
