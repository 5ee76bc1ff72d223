"""Fixtures shared by the whole suite. Sample replies and builders live in ``tests/helpers.py``."""

from __future__ import annotations

import os

import pytest

from pyconviva.testing import FIXED_NOW, VirtualClock

# dlt reports usage to its vendor unless told not to; tests (and the docs' examples they run,
# in this process and in the subprocesses that inherit the environment) never touch the network.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture
def clock() -> VirtualClock:
    """Virtual time for a client's ``clock=``: waits return at once and are recorded.

    Starts at ``FIXED_NOW``; an emulator's client keeps the emulator's wall time and takes only
    the waits and the monotonic time from it.
    """
    return VirtualClock(FIXED_NOW)
