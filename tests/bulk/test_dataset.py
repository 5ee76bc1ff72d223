"""export_dataset: a hive-partitioned Parquet dataset, one file per (query, day) unit, fetched in
multi-day windows, that a killed run resumes to exactly what an uninterrupted run writes, and
that since_last extends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow.dataset
import pytest

from pyconviva import ConvivaAPI, PermissionDeniedError, QueryError, export_dataset
from pyconviva._dataset import MANIFEST_NAME, ExportQuery, ExportUnit, day_windows, export_queries
from pyconviva._dataset._lock import LOCK_NAME
from pyconviva._files import PARTIAL_MARK
from pyconviva.emulator import Emulator, StatusFault

NOW = datetime(2025, 6, 1, 12, 17, 43, tzinfo=timezone.utc)
START = datetime(2025, 5, 20, tzinfo=timezone.utc)
END = datetime(2025, 5, 23, 6, tzinfo=timezone.utc)
METRICS = ["attempts", ["plays", "bitrate"]]
GROUP_BYS = [None, "isp"]
UTC = timezone.utc


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(now=NOW)


@pytest.fixture
def api(emulator: Emulator) -> Iterator[ConvivaAPI]:
    with emulator.client() as client:
        yield client


def dataset_files(directory: Path) -> dict[str, bytes]:
    """Every file of the dataset but the manifest and the lock, by relative path, with its
    bytes (temporary files left behind included)."""
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name not in (MANIFEST_NAME, LOCK_NAME)
    }


def manifest(directory: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((directory / MANIFEST_NAME).read_text())
    return loaded


def test_a_range_is_cut_at_utc_midnights() -> None:
    windows = day_windows(datetime(2025, 5, 1, 6, tzinfo=UTC), datetime(2025, 5, 3, tzinfo=UTC))
    assert windows == [
        (datetime(2025, 5, 1, 6, tzinfo=UTC), datetime(2025, 5, 2, tzinfo=UTC)),
        (datetime(2025, 5, 2, tzinfo=UTC), datetime(2025, 5, 3, tzinfo=UTC)),
    ]


def test_file_names_follow_the_query_and_name_the_hours_of_a_partial_day() -> None:
    by_isp, selection = export_queries(["attempts", ["plays", "bitrate"]], ["isp", None])[::3]
    day = datetime(2025, 5, 1, tzinfo=UTC)
    assert ExportUnit(by_isp, day, day + timedelta(days=1)).path == (
        "date=2025-05-01/attempts__isp.parquet"
    )
    partial = ExportUnit(selection, day + timedelta(hours=2), day + timedelta(days=1))
    assert partial.path == "date=2025-05-01/plays+bitrate__all__0200-2400.parquet"
    assert export_queries("attempts", [{"custom-tag": "appVersion"}]) == [
        ExportQuery(("attempts",), {"custom-tag": "appVersion"}, "attempts__custom-tag-appVersion")
    ]


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"group_bys": ["isp", "isp"]}, "group_bys"),
        ({"group_bys": []}, "group_bys"),
        ({"metrics": []}, "metrics"),
        ({"granularity": "P1W"}, "granularity"),
        ({"granularity": "PT7M"}, "granularity"),
        ({"start": END, "end": START}, "start"),
        ({"start": "yesterday"}, "start"),
        ({"metrics": ["attempts"], "group_bys": ["no_such_dimension!"]}, None),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    api: ConvivaAPI,
    emulator: Emulator,
    tmp_path: Path,
    arguments: dict[str, object],
    argument: str | None,
) -> None:
    call: dict[str, object] = {
        "metrics": METRICS,
        "group_bys": GROUP_BYS,
        "start": START,
        "end": END,
        "directory": tmp_path,
        **arguments,
    }
    with pytest.raises(QueryError) as caught:
        export_dataset(api, **call)  # type: ignore[arg-type]
    if argument is not None:
        assert caught.value.argument == argument
    assert emulator.requests() == ()
    assert not any(tmp_path.iterdir())


def test_export_writes_one_readable_file_per_query_and_day(
    api: ConvivaAPI, emulator: Emulator, tmp_path: Path
) -> None:
    summary = export_dataset(
        api, metrics=METRICS, group_bys=GROUP_BYS, start=START, end=END, directory=tmp_path
    )

    assert summary.errors == {}
    assert len(summary.written) == 4 * 4  # 4 queries x (3 days + 6 hours of a 4th)
    assert len(emulator.requests()) == 4  # one window per query, cut into the day files
    assert "date=2025-05-23/attempts__isp__0000-0600.parquet" in summary.written
    assert sorted(dataset_files(tmp_path)) == sorted(summary.written)
    assert sorted(manifest(tmp_path)["units"]) == sorted(summary.written)

    table = pyarrow.dataset.dataset(tmp_path, format="parquet", partitioning="hive").to_table()
    assert table.schema.names == [
        "timestamp",
        "dimension",
        "dimension_value",
        "metric",
        "field",
        "value",
        "date",
    ]
    assert summary.rows == table.num_rows
    assert str(table.schema.field("timestamp").type) == "timestamp[ms, tz=UTC]"
    frame = table.to_pandas()
    may_21 = (datetime(2025, 5, 21, tzinfo=UTC), datetime(2025, 5, 22, tzinfo=UTC))
    attempts = frame[(frame["date"] == "2025-05-21") & (frame["metric"] == "attempts")]
    # Ungrouped, a day's file holds exactly what a query of that day returns.
    day = api.get_historical_data("attempts", time_range=may_21).records()
    assert sorted(attempts[attempts["dimension"].isna()]["value"]) == sorted(
        float(r["value"]) for r in day
    )
    # Grouped, the API's top 50 are ranked over the request's range: the day's rows are those
    # of the whole window's reply.
    window = api.get_historical_data("attempts", group_by="isp", time_range=(START, END))
    in_day = [r for r in window.records() if may_21[0] <= r["timestamp"] < may_21[1]]
    grouped = attempts[attempts["dimension"] == "isp"]
    assert sorted(zip(grouped["dimension_value"], grouped["value"], strict=True)) == sorted(
        (r["isp"], float(r["value"])) for r in in_day
    )


def test_polars_reads_the_dataset_with_its_date_partitions(api: ConvivaAPI, tmp_path: Path) -> None:
    polars = pytest.importorskip("polars")
    export_dataset(
        api, metrics="attempts", group_bys=[None], start=START, end=END, directory=tmp_path
    )
    frame = polars.read_parquet(tmp_path / "**" / "*.parquet", hive_partitioning=True)
    assert frame.columns[-1] == "date"
    assert frame.height == 3 * 24 + 6


def test_a_rerun_skips_every_finished_unit(
    api: ConvivaAPI, emulator: Emulator, tmp_path: Path
) -> None:
    call = {"metrics": METRICS, "group_bys": GROUP_BYS, "start": START, "end": END}
    export_dataset(api, directory=tmp_path, **call)  # type: ignore[arg-type]
    before = dataset_files(tmp_path)
    again = export_dataset(api, directory=tmp_path, **call)  # type: ignore[arg-type]
    assert again.written == ()
    assert again.skipped == 16
    assert len(emulator.requests()) == 4
    assert dataset_files(tmp_path) == before


def test_failed_units_are_reported_and_fetched_by_the_next_run(
    api: ConvivaAPI, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_faults(StatusFault(status=403, times=1, path="/group-by/isp"))
    call = {"metrics": "attempts", "group_bys": GROUP_BYS, "start": START, "end": END}
    first = export_dataset(api, directory=tmp_path, **call)  # type: ignore[arg-type]
    assert len(first.errors) == 4  # the window of the grouped query: its 4 day files
    assert all(isinstance(e, PermissionDeniedError) for e in first.errors.values())
    assert len(first.written) == 4
    with pytest.raises(Exception, match="4 unit\\(s\\) failed"):
        first.raise_for_errors()

    second = export_dataset(api, directory=tmp_path, **call)  # type: ignore[arg-type]
    assert sorted(second.written) == sorted(first.errors)
    assert second.errors == {}


def test_since_last_fetches_only_the_new_hours(tmp_path: Path) -> None:
    emulator = Emulator(now=NOW)
    call = {"metrics": "attempts", "group_bys": GROUP_BYS, "directory": tmp_path}
    with emulator.client() as api:
        export_dataset(api, start=START, end=END, **call)  # type: ignore[arg-type]
    before = dataset_files(tmp_path)
    emulator.configure(now=END + timedelta(days=1, hours=2, minutes=30))

    with emulator.client() as api:
        summary = export_dataset(api, since_last=True, **call)  # type: ignore[arg-type]

    assert (summary.start, summary.end) == (END, END + timedelta(days=1, hours=2))
    assert sorted(summary.written) == [
        "date=2025-05-23/attempts__all__0600-2400.parquet",
        "date=2025-05-23/attempts__isp__0600-2400.parquet",
        "date=2025-05-24/attempts__all__0000-0800.parquet",
        "date=2025-05-24/attempts__isp__0000-0800.parquet",
    ]
    assert len(emulator.requests()) == 2 + 2  # one window per query and run
    after = dataset_files(tmp_path)
    assert {path: after[path] for path in before} == before  # earlier files untouched
    assert manifest(tmp_path)["ranges"][-1] == ["2025-05-23T06:00:00Z", "2025-05-24T08:00:00Z"]


def test_since_last_needs_a_start_for_the_first_run(api: ConvivaAPI, tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="pass start="):
        export_dataset(
            api, metrics="attempts", group_bys=[None], directory=tmp_path, since_last=True
        )


def test_a_dataset_keeps_its_granularity(api: ConvivaAPI, tmp_path: Path) -> None:
    call = {"metrics": "attempts", "group_bys": [None], "start": START, "end": END}
    export_dataset(api, directory=tmp_path, **call)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="exported with 'PT1H'"):
        export_dataset(api, directory=tmp_path, granularity="PT15M", **call)  # type: ignore[arg-type]


EXPORT_SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta, timezone
    from pyconviva import export_dataset
    from pyconviva.emulator import Emulator

    now = datetime(2025, 6, 1, 12, 17, 43, tzinfo=timezone.utc)
    emulator = Emulator(now=now, latency=float(sys.argv[2]))
    # Windows of 3 days: a first batch measures each query's replies, a second fetches the rest.
    with emulator.client(max_concurrency=2, max_window=timedelta(days=3)) as api:
        export_dataset(
            api,
            metrics=["attempts", ["plays", "bitrate"]],
            group_bys=[None, "isp"],
            start="2025-05-10",
            end="2025-05-16T12:00:00Z",
            directory=sys.argv[1],
            progress=lambda done, total: print(done, total, flush=True),
        )
    """
)


def run_export(directory: Path, *, latency: float, kill_after: int | None = None) -> int:
    """Export in a child process; with ``kill_after``, SIGKILL it once that many units are
    reported done. Returns the last ``done`` count seen."""
    child = subprocess.Popen(
        [sys.executable, "-c", EXPORT_SCRIPT, str(directory), str(latency)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    done = 0
    for line in child.stdout:
        done = int(line.split()[0])
        if kill_after is not None and done >= kill_after:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    child.stdout.close()
    return done


@pytest.mark.slow
def test_an_export_killed_mid_run_resumes_to_exactly_the_uninterrupted_dataset(
    tmp_path: Path,
) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    total_units = 4 * 7
    assert run_export(whole, latency=0.0) == total_units

    seen = run_export(killed, latency=0.05, kill_after=1)
    recorded = manifest(killed)["units"]
    assert seen < total_units
    assert 0 < len(recorded) < total_units
    # A kill during a write leaves at most hidden temporary files, never a partial data file.
    partial = dataset_files(killed)
    assert all(partial[p] == dataset_files(whole)[p] for p in partial if PARTIAL_MARK not in p)

    run_export(killed, latency=0.0)

    assert dataset_files(killed) == dataset_files(whole)
    assert manifest(killed) == manifest(whole)


def test_an_edge_that_cuts_a_bucket_is_refused_with_the_aligned_value(
    api: ConvivaAPI, emulator: Emulator, tmp_path: Path
) -> None:
    # The API would widen a cut bucket to the whole bucket, so the export would hold it twice.
    with pytest.raises(QueryError, match="2025-05-20T00:00:00Z") as caught:
        export_dataset(
            api, metrics=["attempts"], group_bys=[None], start=START + timedelta(hours=11),
            end=END, directory=tmp_path, granularity="P1D",
        )  # fmt: skip
    assert caught.value.argument == "start"
    with pytest.raises(QueryError, match="cuts a 1 hour bucket"):
        export_dataset(
            api, metrics=["attempts"], group_bys=[None], start=START,
            end=END + timedelta(minutes=30), directory=tmp_path,
        )  # fmt: skip
    assert emulator.requests() == ()


def test_since_last_with_daily_buckets_stops_at_the_last_midnight(
    api: ConvivaAPI, tmp_path: Path
) -> None:
    summary = export_dataset(
        api, metrics=["attempts"], group_bys=[None], start=START, directory=tmp_path,
        granularity="P1D", since_last=True,
    )  # fmt: skip
    assert summary.end == datetime(2025, 6, 1, tzinfo=UTC)  # not NOW's 12:00: a whole day only
    assert not summary.errors


def test_temporary_files_left_by_a_killed_run_are_removed_by_the_next(
    api: ConvivaAPI, tmp_path: Path
) -> None:
    day = tmp_path / "date=2025-05-20"
    day.mkdir()
    left = [
        tmp_path / f".{MANIFEST_NAME}.x1{PARTIAL_MARK}.json",
        day / f".attempts__all.parquet.x2{PARTIAL_MARK}.parquet",
    ]
    for path in left:
        path.write_bytes(b"half a file")
    export_dataset(
        api, metrics="attempts", group_bys=[None], start=START, end=START + timedelta(days=1),
        directory=tmp_path,
    )  # fmt: skip
    assert not any(path.exists() for path in left)
    assert sorted(dataset_files(tmp_path)) == ["date=2025-05-20/attempts__all.parquet"]


def test_a_day_file_is_the_same_whether_its_day_was_fetched_alone_or_in_a_longer_window(
    tmp_path: Path,
) -> None:
    call: dict[str, Any] = {
        "metrics": METRICS, "group_bys": [None], "start": START, "end": END,
    }  # fmt: skip
    emulator = Emulator(now=NOW)
    with emulator.client() as api:
        export_dataset(api, directory=tmp_path / "window", **call)
    with emulator.client(max_window=timedelta(days=1)) as api:
        export_dataset(api, directory=tmp_path / "daily", **call)
    assert len(emulator.requests()) == 2 + 2 * 4
    assert dataset_files(tmp_path / "window") == dataset_files(tmp_path / "daily")
