"""Regenerate docs/plot-example.png (the README's picture) from the offline emulator.

Run: ``python docs/make_plot_example.py`` (needs ``pip install 'pyconviva[plot]'``).
The emulator is deterministic: a fixed seed and clock give the same picture every time.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pyconviva.emulator import Emulator

TARGET = Path(__file__).with_name("plot-example.png")


def main() -> None:
    emulator = Emulator(seed=0, now=datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc))
    with emulator.client() as api:
        result = api.get_historical_data(
            ["attempts", "video-start-time"], group_by="device-name", time_range=2
        )
    result.plot(TARGET, top=6)


if __name__ == "__main__":
    main()
