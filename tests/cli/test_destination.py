"""Which format a command writes, decided from --format, the output file's suffix and the
terminal before any request (no I/O)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from pyconviva.cli.destination import SUFFIX_FORMATS, choose_format


@pytest.mark.parametrize(
    ("requested", "output", "terminal", "expected"),
    [
        ("json", None, True, "json"),
        ("raw", None, False, "raw"),
        (None, None, True, "table"),
        (None, None, False, "csv"),
        (None, Path("out.JSONL"), True, "jsonl"),
        ("raw", Path("reply.json"), False, "raw"),
        ("table", Path("kpis.txt"), False, "table"),
        ("csv", Path("export.dat"), False, "csv"),  # a suffix of no format: --format decides
    ],
)
def test_format_is_asked_for_else_by_suffix_else_by_terminal(
    requested: str | None, output: Path | None, terminal: bool, expected: str
) -> None:
    assert choose_format(requested, output, terminal) == expected


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        (".csv", "csv"),
        (".json", "json"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".parquet", "parquet"),
        (".pq", "parquet"),
        (".txt", "table"),
    ],
)
def test_every_supported_suffix_picks_its_format(suffix: str, expected: str) -> None:
    assert SUFFIX_FORMATS[suffix][0] == expected
    assert choose_format(None, Path(f"out{suffix}"), stdout_is_terminal=True) == expected


@pytest.mark.parametrize("name", ["out.xlsx", "out.tsv", "out"])
def test_a_file_whose_suffix_names_no_format_is_refused_naming_the_supported_ones(
    name: str,
) -> None:
    with pytest.raises(click.UsageError) as caught:
        choose_format(None, Path(name), stdout_is_terminal=False)
    message = caught.value.format_message()
    assert name in message
    assert all(suffix in message for suffix in SUFFIX_FORMATS)
    assert "--format" in message


@pytest.mark.parametrize(
    ("requested", "name"),
    [("csv", "out.parquet"), ("json", "out.csv"), ("parquet", "out.jsonl"), ("table", "t.json")],
)
def test_a_format_the_suffix_contradicts_is_refused(requested: str, name: str) -> None:
    with pytest.raises(click.UsageError) as caught:
        choose_format(requested, Path(name), stdout_is_terminal=False)
    assert f"--format {requested} contradicts --output {name}" in caught.value.format_message()
