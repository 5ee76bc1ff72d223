"""``pyconviva watch``: a live terminal view of real-time metrics for the people on call.

:class:`WatchModel` is the view as data (pure: tested without a terminal),
:func:`render` draws it with rich, :class:`Watch` fetches each minute and feeds the model, and
:class:`AlertActions` rings the bell or runs a command once per threshold crossing.

rich, not textual: the view is one table redrawn once a minute with no input but Ctrl-C, which
is exactly what ``rich.live.Live`` does; rich is already the command line's dependency, and a
rich renderable prints to a string at a fixed width, so the screen is tested as text. textual
would add an application framework (its own event loop, CSS, widgets) and a dependency for
interaction this view does not have.
"""

from __future__ import annotations

from pyconviva.watch.actions import AlertActions
from pyconviva.watch.model import (
    DEFAULT_SERIES,
    HISTORY_MINUTES,
    SETTLE,
    Alert,
    Crossing,
    Row,
    Series,
    View,
    WatchModel,
    parse_alert,
    parse_series,
)
from pyconviva.watch.render import render, render_text, sparkline
from pyconviva.watch.session import REFRESH_OFFSET, Watch, next_refresh

__all__ = [
    "DEFAULT_SERIES",
    "HISTORY_MINUTES",
    "REFRESH_OFFSET",
    "SETTLE",
    "Alert",
    "AlertActions",
    "Crossing",
    "Row",
    "Series",
    "View",
    "Watch",
    "WatchModel",
    "next_refresh",
    "parse_alert",
    "parse_series",
    "render",
    "render_text",
    "sparkline",
]
