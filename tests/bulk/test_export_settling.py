"""Data still filling in: a unit is done only when its last bucket is older than the settling
delay; newer ones are written as provisional and fetched again, and units that begin after now
are not written at all."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow.parquet

from pyconviva import export_dataset
from pyconviva._dataset import MANIFEST_NAME, SETTLE_DELAY
from pyconviva.emulator import Emulator

UTC = timezone.utc
JUNE_2 = datetime(2025, 6, 2, tzinfo=UTC)


def settled_flags(directory: Path) -> dict[str, bool]:
    units: dict[str, Any] = json.loads((directory / MANIFEST_NAME).read_text())["units"]
    return {path: entry["settled"] for path, entry in units.items()}


def test_the_delay_is_the_ten_minutes_the_api_takes_to_settle() -> None:
    assert timedelta(minutes=10) == SETTLE_DELAY


def test_an_export_reaching_past_now_writes_what_has_begun_and_marks_it_provisional(
    tmp_path: Path,
) -> None:
    emulator = Emulator(now=JUNE_2 + timedelta(hours=5, minutes=30))
    with emulator.client() as api:
        summary = export_dataset(
            api, metrics="attempts", group_bys=[None], start=JUNE_2 - timedelta(days=1),
            end=JUNE_2 + timedelta(days=2), directory=tmp_path,
        )  # fmt: skip

    today = "date=2025-06-02/attempts__all.parquet"
    assert summary.written == ("date=2025-06-01/attempts__all.parquet", today)
    assert summary.provisional == (today,)
    assert summary.pending == 1  # June 3 begins after now: nothing to fetch yet
    assert settled_flags(tmp_path) == {"date=2025-06-01/attempts__all.parquet": True, today: False}
    stamps = pyarrow.parquet.read_table(tmp_path / today).column("timestamp").to_pylist()
    assert [stamp.hour for stamp in stamps] == [0, 1, 2, 3, 4, 5]  # 05:00 has begun, 06:00 not
    # Asking for what has begun only: the request ends with the unit, not with the range.
    assert max(dict(r.query)["end_date"] for r in emulator.requests()) <= "2025-06-03T00:00:00Z"


def test_a_unit_settles_once_its_last_bucket_is_older_than_the_delay(tmp_path: Path) -> None:
    day: dict[str, Any] = {"start": JUNE_2 - timedelta(days=1), "end": JUNE_2}
    arguments: dict[str, Any] = {"metrics": "attempts", "group_bys": [None], **day}
    with Emulator(now=JUNE_2 + SETTLE_DELAY - timedelta(seconds=1)).client() as api:
        early = export_dataset(api, directory=tmp_path / "early", **arguments)
    with Emulator(now=JUNE_2 + SETTLE_DELAY).client() as api:
        settled = export_dataset(api, directory=tmp_path / "settled", **arguments)
    assert early.provisional == early.written
    assert settled.provisional == ()


def test_the_next_run_fetches_provisional_units_again_and_skips_settled_ones(
    tmp_path: Path,
) -> None:
    emulator = Emulator(now=JUNE_2 + timedelta(hours=12, minutes=5))
    arguments: dict[str, Any] = {"metrics": "attempts", "group_bys": [None], "directory": tmp_path}
    with emulator.client() as api:
        first = export_dataset(api, start=JUNE_2 - timedelta(days=1), since_last=True, **arguments)
        emulator.configure(now=JUNE_2 + timedelta(hours=18, minutes=30))
        second = export_dataset(api, since_last=True, **arguments)
        third = export_dataset(api, since_last=True, **arguments)

    assert first.provisional == ("date=2025-06-02/attempts__all__0000-1200.parquet",)
    assert second.written == (
        "date=2025-06-02/attempts__all__0000-1200.parquet",  # fetched again, now settled
        "date=2025-06-02/attempts__all__1200-1800.parquet",
    )
    assert (second.skipped, second.provisional) == (1, ())
    assert (third.written, third.skipped) == ((), 3)
    assert set(settled_flags(tmp_path).values()) == {True}
