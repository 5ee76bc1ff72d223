"""Progress on stderr while requests run: a bar on a terminal, and rate-limit pauses always.

A pause for the API's rate-limit window lasts about a minute, long enough to look like a hang:
it is shown in the bar on a terminal and as one line on stderr otherwise (cron logs keep it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

if TYPE_CHECKING:
    from pyconviva import RateLimiter

__all__ = ["ProgressCallback", "pause_text", "progress_shown"]

ProgressCallback = Callable[[int, int], None]


def pause_text(seconds: float, budget: str) -> str:
    """What the user reads while the client waits for a full rate-limit window to free."""
    return f"waiting for the {budget} rate-limit window ({seconds:.0f} s)"


@contextlib.contextmanager
def progress_shown(
    description: str, limiter: RateLimiter | None = None
) -> Iterator[ProgressCallback]:
    """Yields the library's ``progress`` callback; no bar is drawn into pipes or logs.

    A spinner until the library reports how many requests the command needs (a long range is
    split into several), then a bar counting them. ``limiter``'s pauses (see
    :class:`~pyconviva.RateLimiter`'s ``on_pause``) are reported while the block runs.
    """
    console = Console(stderr=True)
    with contextlib.ExitStack() as stack:
        if not console.is_terminal:
            _report_pauses(
                stack, limiter, lambda s, b: click.echo(f"{pause_text(s, b)}…", err=True)
            )
            yield lambda done, total: None
            return
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
        )
        bar = stack.enter_context(Progress(*columns, console=console, transient=True))
        task = bar.add_task(description, total=None)

        def paused(seconds: float, budget: str) -> None:
            bar.update(task, description=f"{description}: {pause_text(seconds, budget)}")

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=description)

        _report_pauses(stack, limiter, paused)
        yield advance


def _report_pauses(
    stack: contextlib.ExitStack,
    limiter: RateLimiter | None,
    listener: Callable[[float, str], object],
) -> None:
    if limiter is None:
        return
    previous = limiter.on_pause
    limiter.on_pause = listener
    stack.callback(setattr, limiter, "on_pause", previous)
