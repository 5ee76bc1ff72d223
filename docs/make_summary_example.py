"""Regenerate docs/summary-example.svg (the CLI guide's picture of the terminal summary).

Run: ``python docs/make_summary_example.py`` (needs ``pip install 'pyconviva[cli]'``). The
emulator is deterministic: a fixed seed and clock give the same picture every time. It is what
``pyconviva historical attempts plays --group-by isp --days 5 --emulator`` shows on a terminal.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from pyconviva.cli.summary import DEFAULT_TOP, SummaryView, build_summary
from pyconviva.emulator import Emulator

TARGET = Path(__file__).with_name("summary-example.svg")


def main() -> None:
    emulator = Emulator(seed=0, now=datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc))
    with emulator.client() as api:
        result = api.get_historical_data(["attempts", "plays"], group_by="isp", time_range=5)
    console = Console(record=True, width=110, force_terminal=True, color_system="truecolor")
    console.print(SummaryView(build_summary(result, top=DEFAULT_TOP, ranked_by_api=False)))
    console.save_svg(str(TARGET), title="pyconviva historical attempts plays --group-by isp")


if __name__ == "__main__":
    main()
