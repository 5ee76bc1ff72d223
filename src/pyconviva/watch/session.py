"""The I/O around the model: fetch each minute, feed the model, show the view, act on alerts.

Each refresh sends one real-time request for the totals and, when grouped, one for the top
groups: two requests a minute at most, of the account's 500. A refresh that fails (a lost
connection, a server error) leaves the data on screen marked stale; the next refresh tries again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pyconviva._exceptions import ConvivaError
from pyconviva.watch.model import HISTORY_MINUTES, Crossing, View, WatchModel

if TYPE_CHECKING:
    from pyconviva._client import ConvivaAPI

__all__ = ["REFRESH_OFFSET", "Watch", "next_refresh"]

# Refresh a few seconds into each minute, once the minute before has ended.
REFRESH_OFFSET = timedelta(seconds=5)


def next_refresh(now: datetime) -> datetime:
    """The next refresh after ``now``: ``REFRESH_OFFSET`` into the next minute."""
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1) + REFRESH_OFFSET


class Watch:
    """Refreshes ``model`` from ``api``.

    Args:
        api: the client; its clock tells the time of each refresh.
        model: the view's state (its series, alerts and group-by).
        top: with a group-by, how many groups (the API's top N; its default is 50).
        filter_id: a saved filter whose traffic alone is watched.
    """

    def __init__(
        self,
        api: ConvivaAPI,
        model: WatchModel,
        top: int | None = None,
        filter_id: str | None = None,
    ) -> None:
        self.api = api
        self.model = model
        self.top = top
        self.filter_by = None if filter_id is None else {"filter_id": filter_id}

    def refresh(self) -> list[Crossing]:
        """Fetch the last 15 minutes and update the model; the alerts crossed."""
        model = self.model
        now = self.api.clock.now()
        try:
            totals = self.api.get_real_time_data(
                model.metrics, filter_by=self.filter_by, time_range=HISTORY_MINUTES
            )
            grouped = None
            if model.group_by is not None:
                grouped = self.api.get_real_time_data(
                    model.metrics,
                    model.group_by,
                    self.filter_by,
                    HISTORY_MINUTES,
                    limit=self.top,
                )
        except ConvivaError as error:
            model.failed(now, f"{type(error).__name__}: {error}")
            return []
        return model.update(now, totals.records(), () if grouped is None else grouped.records())

    def run(
        self,
        show: Callable[[View], None],
        act: Callable[[Crossing], None],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Refresh, show and act each minute until interrupted (Ctrl-C raises
        ``KeyboardInterrupt`` out of here). Waits in steps of at most a second against the
        client's clock, so a clock that runs fast (a sped-up emulator) refreshes as often."""
        clock = self.api.clock
        while True:
            for crossing in self.refresh():
                act(crossing)
            show(self.model.view())
            due = next_refresh(clock.now())
            while (remaining := (due - clock.now()).total_seconds()) > 0:
                sleep(min(1.0, remaining))
