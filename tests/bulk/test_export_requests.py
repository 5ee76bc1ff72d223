"""How many requests an export sends: the fewest windows the API's limits allow (give or take the
first reply of each query, which measures its size), every hour written once, and a run stopped
between batches resumed with exactly the windows that still had missing files."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow.dataset
import pytest

from pyconviva import ConvivaAPI, export_dataset
from pyconviva._dataset import MANIFEST_NAME
from pyconviva.emulator import Emulator

UTC = timezone.utc
NOW = datetime(2025, 6, 2, 12, tzinfo=UTC)
END = datetime(2025, 6, 2, tzinfo=UTC)
MAX_REPLY_BYTES = 5_700_000  # the API's cap on a reply (reference §3.2)
MAX_SPAN = timedelta(days=90)


def windows_sent(emulator: Emulator, skip: int = 0) -> list[tuple[str, str, str, int | None]]:
    """Each request the emulator answered after the first ``skip``: path, start_date,
    end_date, status."""
    sent = []
    for request in emulator.requests()[skip:]:
        params = dict(request.query)
        sent.append((request.path, params["start_date"], params["end_date"], request.status))
    return sent


def fewest_windows(api: ConvivaAPI, metrics: Any, group_by: str | None, days: int) -> int:
    """The floor for one query over ``days`` days up to END: 90-day windows, and no reply
    over the cap, the size measured on one week's reply (compact JSON, as the emulator sends)."""
    week = api.get_historical_data(metrics, group_by=group_by, time_range=(END - timedelta(7), END))
    per_hour = len(json.dumps(dict(week), separators=(",", ":"))) / (7 * 24)
    longest = min(MAX_SPAN // timedelta(hours=1), math.floor(MAX_REPLY_BYTES / per_hour))
    return math.ceil(days * 24 / longest)


def hours_per_series(directory: Path) -> Counter[tuple[Any, ...]]:
    table = pyarrow.dataset.dataset(directory, format="parquet", partitioning="hive").to_table()
    columns = ["timestamp", "dimension", "dimension_value", "metric", "field"]
    return Counter(zip(*(table.column(name).to_pylist() for name in columns), strict=True))


def test_a_long_export_sends_at_most_twice_the_fewest_windows_and_writes_every_hour_once(
    tmp_path: Path,
) -> None:
    days = 100
    queries: list[tuple[Any, str | None]] = [("attempts", None), ("attempts", "isp")]
    emulator = Emulator(now=NOW)
    with emulator.client() as api:
        floor = sum(fewest_windows(api, m, g, days) for m, g in queries)
        measured = len(emulator.requests())
        summary = export_dataset(
            api, metrics=["attempts"], group_bys=[None, "isp"],
            start=END - timedelta(days=days), end=END, directory=tmp_path,
        )  # fmt: skip

    sent = windows_sent(emulator, skip=measured)
    assert not summary.errors
    assert len(summary.written) == 2 * days
    assert [status for *_, status in sent] == [200] * len(sent)  # no window drew a 413
    assert floor <= len(sent) <= 2 * floor
    seen = hours_per_series(tmp_path)
    assert set(seen.values()) == {1}
    ungrouped = {key[0] for key in seen if key[1] is None}
    assert len(ungrouped) == days * 24


def test_a_run_stopped_between_batches_resumes_with_the_windows_it_had_left(
    tmp_path: Path,
) -> None:
    call: dict[str, Any] = {
        "metrics": [["plays", "bitrate"]],
        "group_bys": [None, "isp"],
        "start": END - timedelta(days=30),
        "end": END,
    }
    whole = Emulator(now=NOW)
    with whole.client() as api:
        export_dataset(api, directory=tmp_path / "whole", **call)

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stop  # after the first batch is written and recorded

    stopped = Emulator(now=NOW)
    with stopped.client() as api:
        with pytest.raises(Stop):
            export_dataset(api, directory=tmp_path / "stopped", progress=stop, **call)
        first_batch = windows_sent(stopped)
        export_dataset(api, directory=tmp_path / "stopped", **call)
    rest = windows_sent(stopped, skip=len(first_batch))

    # The first batch measures each query's replies; the grouped selection needs more windows.
    assert first_batch
    assert rest
    assert sorted(first_batch + rest) == sorted(windows_sent(whole))
    assert files(tmp_path / "stopped") == files(tmp_path / "whole")


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and (path.suffix == ".parquet" or path.name == MANIFEST_NAME)
    }
