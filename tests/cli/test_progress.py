"""Progress on stderr: rate-limit pauses are reported while a command runs, and only then."""

from __future__ import annotations

import pytest

from pyconviva import RateLimiter
from pyconviva.cli.progress import pause_text, progress_shown


def test_a_pause_reads_as_a_wait_for_the_window_with_its_length() -> None:
    assert pause_text(61.0, "historical") == ("waiting for the historical rate-limit window (61 s)")


def test_a_pause_is_one_line_on_stderr_when_no_bar_is_drawn(
    capsys: pytest.CaptureFixture[str],
) -> None:
    limiter = RateLimiter()
    with progress_shown("Exporting", limiter) as progress:
        assert limiter.on_pause is not None
        limiter.on_pause(61.0, "real-time")
        progress(1, 2)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "waiting for the real-time rate-limit window (61 s)…\n"


def test_the_limiters_own_listener_comes_back_after_the_command() -> None:
    seen: list[tuple[float, str]] = []
    limiter = RateLimiter(on_pause=lambda seconds, budget: seen.append((seconds, budget)))
    with progress_shown("Querying Conviva", limiter):
        pass
    assert limiter.on_pause is not None
    limiter.on_pause(5.0, "per-IP")
    assert seen == [(5.0, "per-IP")]


def test_without_a_terminal_or_a_pause_nothing_is_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with progress_shown("Querying Conviva") as progress:
        progress(1, 1)
    assert capsys.readouterr() == ("", "")
