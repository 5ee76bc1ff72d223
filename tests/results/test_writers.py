"""One result to CSV, JSON and Parquet: the long tidy table, UTC timestamps, integer counts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq

from tests.helpers import GROUPED, MULTI, PLAIN, result_of


def test_csv_holds_the_tidy_table_with_utc_z_timestamps(tmp_path: Path) -> None:
    path = result_of(GROUPED).to_csv(tmp_path / "out.csv")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["timestamp", "device_name", "metric", "field", "value"],
        ["2022-01-01T04:00:00Z", "Roku", "attempts", "count", "812"],
        ["2022-01-01T04:00:00Z", "Apple TV", "attempts", "count", "403"],
        ["2022-01-01T05:00:00Z", "Roku", "attempts", "count", "790"],
        ["2022-01-01T05:00:00Z", "Apple TV", "attempts", "count", "420"],
    ]


def test_json_file_is_an_array_of_tidy_records(tmp_path: Path) -> None:
    path = result_of(PLAIN).to_json(str(tmp_path / "out.json"))
    assert json.loads(path.read_text()) == [
        {"timestamp": "2022-01-01T04:00:00Z", "metric": "ended_plays", "field": "count",
         "value": 1520},
        {"timestamp": "2022-01-01T04:00:00Z", "metric": "ended_plays",
         "field": "per_unique_device", "value": 1.42},
        {"timestamp": "2022-01-01T05:00:00Z", "metric": "ended_plays", "field": "count",
         "value": 1388},
        {"timestamp": "2022-01-01T05:00:00Z", "metric": "ended_plays",
         "field": "per_unique_device", "value": 1.37},
    ]  # fmt: skip


def test_parquet_round_trips_to_the_same_long_table(tmp_path: Path) -> None:
    result = result_of(GROUPED)
    path = result.to_parquet(tmp_path / "out.parquet")
    table = pq.read_table(path)
    assert str(table.schema.field("timestamp").type) == "timestamp[ms, tz=UTC]"
    back = table.to_pandas()
    expected = result.to_pandas()
    assert back["value"].tolist() == expected["value"].tolist()
    assert back["device_name"].astype(str).tolist() == expected["device_name"].astype(str).tolist()
    assert back["timestamp"].tolist() == expected["timestamp"].tolist()


def test_parquet_value_column_is_int64_for_counts_and_double_when_mixed(tmp_path: Path) -> None:
    counts = pq.read_table(result_of(GROUPED).to_parquet(tmp_path / "counts.parquet"))
    mixed = pq.read_table(result_of(MULTI).to_parquet(tmp_path / "mixed.parquet"))
    assert str(counts.schema.field("value").type) == "int64"
    assert str(mixed.schema.field("value").type) == "double"
    assert counts.column("value").to_pylist() == [812, 403, 790, 420]
