"""Progress on stderr while requests run, drawn only when stderr is a terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

__all__ = ["ProgressCallback", "progress_shown"]

ProgressCallback = Callable[[int, int], None]


@contextlib.contextmanager
def progress_shown(description: str) -> Iterator[ProgressCallback]:
    """Yields the library's ``progress`` callback; nothing is drawn into pipes or logs.

    A spinner until the library reports how many requests the command needs (a long range is
    split into several), then a bar counting them.
    """
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda done, total: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
