"""``ExportSummary``'s repr: one line whatever the size of the run."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pyconviva import ExportSummary, NotFoundError


def test_the_repr_of_a_years_export_is_one_line_of_counts_range_and_directory() -> None:
    written = tuple(f"date=2025-{n // 240 + 1:02d}-01/attempts__{n}.parquet" for n in range(2880))
    summary = ExportSummary(
        directory=Path("/data/conviva"),
        start=datetime(2025, 1, 1, tzinfo=timezone.utc),
        end=datetime(2026, 1, 1, tzinfo=timezone.utc),
        written=written,
        rows=1_234_567,
        skipped=3,
        errors={"date=2025-02-01/x.parquet": NotFoundError("no such metric", status_code=404)},
        provisional=written[-2:],
    )
    text = repr(summary)
    assert "\n" not in text
    assert written[0] not in text
    assert text == (
        "<ExportSummary 2025-01-01T00:00:00Z..2026-01-01T00:00:00Z: 2,880 written, "
        "1,234,567 rows, 2 provisional, 3 skipped, 1 failed in '/data/conviva'>"
    )
