"""A budget shared by the processes of one host through a locked file (``RateLimiter(shared=)``):
bookings and pauses of every limiter on the file count for all, a second OS process included;
the file is a cache that never stops a job. Times are the real monotonic clock's, as a shared
limiter requires, but nothing waits: ``reserve`` only says how long to wait."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pyconviva._shared_budget
from pyconviva import ConfigurationError, ConvivaAPI, RateLimit, RateLimiter, SystemClock
from pyconviva._ratelimit import SyncRateLimiter
from pyconviva._rules import HISTORICAL, REAL_TIME
from pyconviva.testing import VirtualClock

WINDOW = 60.0


def limiter(path: Path | str | bool) -> RateLimiter:
    """Three historical requests a minute, nothing else paced, no margin."""
    return RateLimiter(
        historical=RateLimit(3, WINDOW), real_time=None, per_ip=None, margin=0.0, shared=path
    )


def test_two_limiters_on_one_file_book_from_one_budget(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    first, second = limiter(path), limiter(path)
    now = time.monotonic()
    assert [first.reserve(HISTORICAL, 1, now) for _ in range(2)] == [0.0, 0.0]
    assert second.reserve(HISTORICAL, 1, now) == 0.0
    # The window holds three: the fourth waits for the first booking's token, whoever asks.
    assert second.reserve(HISTORICAL, 1, now) == pytest.approx(WINDOW)
    assert first.reserve(HISTORICAL, 1, now) == pytest.approx(WINDOW)


def test_a_filter_weighted_cost_counts_in_every_limiter_on_the_file(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    first, second = limiter(path), limiter(path)
    now = time.monotonic()
    assert first.reserve(HISTORICAL, 3, now) == 0.0
    assert second.reserve(HISTORICAL, 1, now) == pytest.approx(WINDOW)


def test_a_pause_after_a_429_in_one_limiter_holds_back_the_others(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    first, second = limiter(path), limiter(path)
    now = time.monotonic()
    assert first.rate_limited(HISTORICAL, sent_at=now, now=now) == pytest.approx(now + WINDOW)
    # The other limiter has booked nothing and learnt nothing, but the budget is closed.
    assert second.reserve(HISTORICAL, 1, now + 1.0) == pytest.approx(WINDOW - 1.0)
    assert "limit=" not in repr(second)  # its estimate is its own: not lowered


class SkippingClock(SystemClock):
    """The real clock, whose waits return at once and move it forward."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.skipped += seconds


def test_a_pause_from_another_limiter_is_announced_where_a_request_waits_it_out(
    tmp_path: Path,
) -> None:
    path = tmp_path / "budget.json"
    first, second = limiter(path), limiter(path)
    now = time.monotonic()
    first.rate_limited(HISTORICAL, sent_at=now, now=now)
    paused: list[str] = []
    second.on_pause = lambda seconds, budget: paused.append(budget)
    with SyncRateLimiter(second, clock=SkippingClock()).acquire(HISTORICAL) as slot:
        # Each limiter converts to wall-clock time with its own offset, taken when it was made:
        # the two may differ by a few milliseconds.
        assert WINDOW - 30 < slot.waited <= WINDOW + 0.1
    assert paused == ["historical"]


CHILD = """
import sys, time
from pyconviva import RateLimit, RateLimiter
limiter = RateLimiter(historical=RateLimit(3, 60.0), real_time=None, per_ip=None, margin=0.0,
                      shared=sys.argv[1])
for _ in range(int(sys.argv[2])):
    wait = limiter.reserve("metrics", 1, time.monotonic())
    print(wait, time.time() + wait)
"""


def book_in_children(path: Path, bookings: int, children: int) -> list[tuple[float, float]]:
    """Start ``children`` processes at once, each booking ``bookings`` requests on the file
    with three a minute; each booking's (wait, wall-clock instant)."""
    started = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(bookings)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(children)
    ]
    grants = []
    for child in started:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        grants += [(float(wait), float(at)) for wait, at in map(str.split, out.splitlines())]
    return grants


def test_bookings_made_by_another_process_are_honoured(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    assert [wait for wait, _ in book_in_children(path, 3, children=1)] == [0.0, 0.0, 0.0]
    here = limiter(path)
    # The window is the child's: this process waits for its first token, a minute after it
    # was booked (less the moments since).
    wait = here.reserve(HISTORICAL, 1, time.monotonic())
    assert WINDOW - 30 < wait <= WINDOW


def test_processes_booking_at_once_never_overfill_a_window(tmp_path: Path) -> None:
    grants = sorted(at for _, at in book_in_children(tmp_path / "budget.json", 6, children=3))
    assert len(grants) == 18
    # Every window from a grant on holds at most three grants (a little slack for rounding).
    assert max(len([g for g in grants if at <= g < at + WINDOW - 0.5]) for at in grants) == 3
    # And the file let no process take more than its turn: 18 requests need 6 windows.
    assert grants[-1] - grants[0] == pytest.approx(5 * WINDOW, abs=5.0)


def test_limiters_on_other_files_or_roots_do_not_share(tmp_path: Path) -> None:
    first, second = limiter(tmp_path / "one.json"), limiter(tmp_path / "two.json")
    now = time.monotonic()
    assert [first.reserve(HISTORICAL, 1, now) for _ in range(3)] == [0.0] * 3
    assert second.reserve(HISTORICAL, 1, now) == 0.0
    both = RateLimiter(
        historical=RateLimit(3, WINDOW),
        real_time=RateLimit(3, WINDOW),
        per_ip=None,
        margin=0.0,
        shared=tmp_path / "one.json",
    )
    assert both.reserve(REAL_TIME, 1, now) == 0.0
    assert both.reserve(HISTORICAL, 1, now) == pytest.approx(WINDOW)


def test_returned_bookings_are_dropped_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    shared = limiter(path)
    now = time.monotonic()
    for _ in range(3):
        shared.reserve(HISTORICAL, 1, now)
    shared.reserve(HISTORICAL, 1, now + WINDOW + 1.0)  # the first three are back by then
    (owner,) = json.loads(path.read_text())["budgets"]["historical"]["bookings"].values()
    assert len(owner) == 1


def test_a_corrupt_file_is_started_afresh_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "budget.json"
    path.write_text('{"version": 1, "budgets": {"historical": {"bookings": {"x": [[1, "')
    shared = limiter(path)
    now = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="pyconviva"):
        assert [shared.reserve(HISTORICAL, 1, now) for _ in range(3)] == [0.0] * 3
        path.write_text("[]")
        assert shared.reserve(HISTORICAL, 1, now) == pytest.approx(WINDOW)  # its own books stay
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(path) in warnings[0].getMessage()
    assert "corrupt" in warnings[0].getMessage()
    assert json.loads(path.read_text())["version"] == 1  # written afresh


def test_a_directory_that_cannot_be_made_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    path = blocker / "cache" / "budget.json"
    with pytest.raises(ConfigurationError, match=re.escape(str(path))):
        limiter(path)


def test_shared_true_uses_the_user_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    shared = limiter(True)
    shared.reserve(HISTORICAL, 1, time.monotonic())
    path = tmp_path / "pyconviva" / "rate-budget.json"
    assert "historical" in json.loads(path.read_text())["budgets"]
    assert repr(str(path)) in repr(shared)


def test_an_unshared_limiter_touches_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    for shared in (None, False):
        unshared = limiter(shared)  # type: ignore[arg-type]
        unshared.reserve(HISTORICAL, 1, 0.0)
        unshared.rate_limited(HISTORICAL, sent_at=0.0, now=0.0)
    assert list(tmp_path.iterdir()) == []


def test_a_shared_limiter_refuses_a_virtual_clock(tmp_path: Path) -> None:
    shared = limiter(tmp_path / "budget.json")
    with pytest.raises(ConfigurationError, match="real clock"):
        ConvivaAPI("key", "id", rate_limit=shared, clock=VirtualClock())


def test_a_shared_file_needs_posix_file_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pyconviva._shared_budget, "fcntl", None)
    with pytest.raises(ConfigurationError, match="fcntl"):
        limiter(tmp_path / "budget.json")


@pytest.mark.parametrize("shared", [1, 2.5, b"budget.json"])
def test_a_shared_argument_of_another_type_is_a_configuration_error(shared: object) -> None:
    with pytest.raises(ConfigurationError, match="shared="):
        limiter(shared)  # type: ignore[arg-type]


def test_a_file_that_cannot_be_opened_leaves_each_process_its_own_budget(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "budget.json"
    shared = limiter(path)
    path.unlink()
    path.mkdir()  # the cache file became a directory: it cannot be opened
    now = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="pyconviva"):
        assert [shared.reserve(HISTORICAL, 1, now) for _ in range(3)] == [0.0] * 3
        assert shared.reserve(HISTORICAL, 1, now) == pytest.approx(WINDOW)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cannot be opened" in warnings[0]
