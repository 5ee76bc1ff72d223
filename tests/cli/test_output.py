"""Output formats and atomic writes of the command line, on plain rows."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pyconviva._files import atomic_path
from pyconviva.cli.output import (
    csv_text,
    json_text,
    jsonl_text,
    rows_to_parquet,
)

ROWS: list[dict[str, Any]] = [
    {"time": datetime(2025, 1, 1, tzinfo=timezone.utc), "isp": "Optus", "count": 3, "ok": True},
    {"time": datetime(2025, 1, 1, 1, tzinfo=timezone.utc), "isp": None, "count": 1.5, "x": [1, 2]},
]


def test_csv_has_every_column_and_api_style_instants() -> None:
    parsed = list(csv.DictReader(io.StringIO(csv_text(ROWS))))
    assert list(parsed[0]) == ["time", "isp", "count", "ok", "x"]
    assert parsed[0] == {
        "time": "2025-01-01T00:00:00Z",
        "isp": "Optus",
        "count": "3",
        "ok": "true",
        "x": "",
    }
    assert parsed[1]["isp"] == ""
    assert parsed[1]["x"] == "1 2"


def test_jsonl_is_one_object_per_row() -> None:
    lines = jsonl_text(ROWS).splitlines()
    assert [json.loads(line)["time"] for line in lines] == [
        "2025-01-01T00:00:00Z",
        "2025-01-01T01:00:00Z",
    ]
    assert json.loads(lines[1])["isp"] is None


def test_json_writes_the_document() -> None:
    assert json.loads(json_text({"a": [1, {"b": None}]})) == {"a": [1, {"b": None}]}


def test_parquet_rows_read_back(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "rows.parquet"
    rows_to_parquet([{"name": "attempts", "real_time": True}], path)
    assert pq.read_table(path).to_pylist() == [{"name": "attempts", "real_time": True}]


def test_atomic_path_renames_into_place_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path
        assert temporary.suffix == ".csv"
        temporary.write_text("done")
    assert target.read_text() == "done"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_interrupted_write_leaves_no_file_and_keeps_the_old_one(
    tmp_path: Path, interruption: type[BaseException]
) -> None:
    target = tmp_path / "out.csv"
    target.write_text("previous")

    def write_half_then_fail() -> None:
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise interruption

    with pytest.raises(interruption):
        write_half_then_fail()
    assert target.read_text() == "previous"
    assert list(tmp_path.iterdir()) == [target]


def test_finished_file_gets_the_mode_of_any_new_file(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        target = tmp_path / "out.csv"
        with atomic_path(target) as temporary:
            temporary.write_text("done")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not mkstemp's private 0600
    finally:
        os.umask(umask)
