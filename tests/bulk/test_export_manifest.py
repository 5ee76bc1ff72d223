"""The manifest is read strictly (damage is a clear ``ManifestError`` naming the file, before any
request) and older manifests stay readable; one export at a time per directory."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pyconviva import ConvivaError, ExportSummary, QueryError, export_dataset
from pyconviva._dataset import MANIFEST_NAME, DatasetBusyError, ManifestError, data_files
from pyconviva._files import PARTIAL_MARK
from pyconviva.cli.export_report import report_export
from pyconviva.emulator import Emulator

UTC = timezone.utc
NOW = datetime(2025, 6, 2, 12, tzinfo=UTC)
CALL: dict[str, Any] = {
    "metrics": "attempts",
    "group_bys": [None],
    "start": "2025-05-20",
    "end": "2025-05-22",
}


def export(directory: Path, emulator: Emulator | None = None, **extra: Any) -> ExportSummary:
    with (emulator or Emulator(now=NOW)).client() as api:
        return export_dataset(api, directory=directory, **{**CALL, **extra})


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "not JSON"),
        ("[" * 10_000 + "]" * 10_000, "not JSON, or nested too deeply"),
        ('{"version": 1, "granularity": "PT1H", "ranges": [[1, 2]], "units": {}}', "ranges[0][0]"),
        ('{"version": 2, "granularity": "PT1H", "ranges": [], "units": []}', "units is not"),
        ('{"version": 9, "granularity": "PT1H", "ranges": [], "units": {}}', "version 9"),
    ],
    ids=["truncated", "nested", "a number for an instant", "units a list", "a newer version"],
)
def test_a_damaged_manifest_is_refused_naming_it_and_how_to_start_over(
    tmp_path: Path, content: str, problem: str
) -> None:
    (tmp_path / MANIFEST_NAME).write_text(content)
    emulator = Emulator(now=NOW)
    with pytest.raises(ManifestError) as caught:
        export(tmp_path, emulator)
    message = str(caught.value)
    assert message.startswith(f"manifest damaged: {tmp_path / MANIFEST_NAME}")
    assert problem in message
    assert "Delete it to start over" in message
    assert isinstance(caught.value, ConvivaError)
    assert emulator.requests() == ()


def test_a_manifest_written_by_0_2_counts_its_units_as_done(tmp_path: Path) -> None:
    old = {
        "version": 1,
        "granularity": "PT1H",
        "ranges": [["2025-05-20T00:00:00Z", "2025-05-22T00:00:00Z"]],
        "units": {
            "date=2025-05-20/attempts__all.parquet": {
                "query": "attempts__all",
                "start": "2025-05-20T00:00:00Z",
                "end": "2025-05-21T00:00:00Z",
                "rows": 24,
                "notes": [],
            }
        },
    }
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(old))
    summary = export(tmp_path)
    assert (summary.skipped, summary.written) == (1, ("date=2025-05-21/attempts__all.parquet",))
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["version"] == 2


def test_a_second_export_into_the_same_directory_is_refused_while_the_first_runs(
    tmp_path: Path,
) -> None:
    refusals: list[ConvivaError] = []

    def meanwhile(done: int, total: int) -> None:
        if not refusals:  # while the first export holds the directory
            with pytest.raises(DatasetBusyError) as caught:
                export(tmp_path, metrics="plays")
            refusals.append(caught.value)

    first = export(tmp_path, progress=meanwhile)

    (refusal,) = refusals
    assert str(tmp_path) in str(refusal)
    assert "another export is writing into" in str(refusal)
    assert "process " in str(refusal)  # who holds it
    assert not first.errors
    second = export(tmp_path, metrics="plays")  # once the first is done, the directory is free
    assert len(second.written) == 2


def test_the_lock_is_released_when_an_export_fails(tmp_path: Path) -> None:
    def fail(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(tmp_path, progress=fail)
    rerun = export(tmp_path)  # the lock is free again
    assert (rerun.written, rerun.skipped) == ((), 2)  # the batch (both days) was recorded


def test_another_runs_temporary_files_are_not_counted_as_dataset_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = export(tmp_path)
    day = tmp_path / "date=2025-05-20"
    (day / f".attempts__isp.parquet.x1{PARTIAL_MARK}.parquet").write_bytes(b"half a file")
    assert [path.name for path in data_files(tmp_path)] == ["attempts__all.parquet"] * 2
    report_export(summary, granularity="PT1H")
    assert "; 2 files in the dataset" in capsys.readouterr().out


def test_wrong_argument_types_are_query_errors_before_anything_is_touched(tmp_path: Path) -> None:
    emulator = Emulator(now=NOW)
    target = tmp_path / "data"
    for bad in (
        {"group_bys": "isp"},
        {"group_bys": [{"custom-tag": 5}]},
        {"metrics": [["attempts", 5]]},
        {"granularity": 1},
        {"progress": "yes"},
        {"start": 20250520},
    ):
        with pytest.raises(QueryError):
            export(target, emulator, **bad)
    with emulator.client() as api, pytest.raises(QueryError, match="directory=5 is not a path"):
        export_dataset(api, directory=5, **CALL)  # type: ignore[arg-type]
    assert emulator.requests() == ()
    assert not target.exists()


def test_one_invalid_query_refuses_the_export_naming_that_query(tmp_path: Path) -> None:
    emulator = Emulator(now=NOW)
    with pytest.raises(ConvivaError, match=r"export query attempts__custom-tag-a_b:"):
        export(tmp_path, emulator, group_bys=[None, {"custom-tag": "a/b"}])
    assert emulator.requests() == ()


def test_the_directory_lock_file_is_hidden_from_dataset_readers(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    export(tmp_path, end=datetime(2025, 5, 20, tzinfo=UTC) + timedelta(days=1))
    assert len(pandas.read_parquet(tmp_path)) == 24
