"""Fixtures of the integration tests (dlt, Prometheus, watch)."""

from __future__ import annotations

from typing import Any

import pytest

from pyconviva.testing import FIXED_NOW


@pytest.fixture(autouse=True)
def _no_dlt_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    """dlt reports anonymous usage over the network unless told not to; tests stay offline."""
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture
def conviva_emulator_options() -> dict[str, Any]:
    """The public fixtures' emulator with the small audience: the same rules, replies of a few
    hundred segments instead of thousands."""
    return {"seed": 0, "now": FIXED_NOW, "audience": "small"}
