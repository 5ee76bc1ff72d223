"""Sparklines: a series in a fixed number of characters, scaled to its own range."""

from __future__ import annotations

import pytest

from pyconviva.cli.sparkline import ASCII_LEVELS, sparkline


def test_values_are_scaled_between_their_own_minimum_and_maximum() -> None:
    assert sparkline([10, 20, 30, 40, 50, 60, 70, 80], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([1000, 1001], 8) == "▁█"


def test_a_long_series_is_drawn_as_the_means_of_equal_stretches() -> None:
    hourly = [0] * 12 + [100] * 12 + [0] * 12 + [100] * 12
    assert sparkline(hourly, 4) == "▁█▁█"
    assert len(sparkline(list(range(1800)), 24)) == 24


def test_buckets_without_a_value_are_left_out_or_blank() -> None:
    assert sparkline([1, None, 3], 8) == "▁ █"
    assert sparkline([1, None, None, 3], 2) == "▁█"  # a stretch's mean skips its gaps
    assert sparkline([None, None], 8) == "  "


def test_a_flat_series_is_drawn_at_the_lowest_level() -> None:
    assert sparkline([5, 5, 5], 8) == "▁▁▁"


def test_other_characters_can_be_asked_for() -> None:
    assert sparkline([0, 7], 8, ASCII_LEVELS) == "_@"


def test_a_width_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="width=0"):
        sparkline([1, 2], 0)
