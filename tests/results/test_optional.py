"""A method whose extra is missing names the exact pip install line; stdlib paths still work."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyconviva import MetadataResult, MetricsResult, MissingDependencyError
from tests.helpers import GROUPED, result_of


def hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``import module`` fail as if it were not installed (None in sys.modules)."""
    for name in list(sys.modules):
        if name.partition(".")[0] in modules:
            monkeypatch.delitem(sys.modules, name)
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize(
    ("hidden", "call", "extra"),
    [
        ("pandas", lambda r, p: r.to_pandas(), "pandas"),
        ("pandas", lambda r, p: r.to_pandas(wide=True), "pandas"),
        ("polars", lambda r, p: r.to_polars(), "polars"),
        ("pyarrow", lambda r, p: r.to_parquet(p / "x.parquet"), "parquet"),
        ("matplotlib", lambda r, p: r.plot(p / "x.png"), "plot"),
    ],
)
def test_missing_extra_raises_missing_dependency_error_with_the_pip_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    hidden: str,
    call: Callable[[MetricsResult, Path], Any],
    extra: str,
) -> None:
    result = result_of(GROUPED)
    hide(monkeypatch, hidden)
    with pytest.raises(MissingDependencyError) as caught:
        call(result, tmp_path)
    assert f"Install it with: pip install 'pyconviva[{extra}]'" in str(caught.value)
    assert caught.value.extra == extra
    assert isinstance(caught.value, ImportError)


def test_metadata_tables_name_their_extras_too(monkeypatch: pytest.MonkeyPatch) -> None:
    result = MetadataResult({"kpis": []}, kind="kpis")
    hide(monkeypatch, "pandas", "polars")
    with pytest.raises(MissingDependencyError, match=r"pip install 'pyconviva\[pandas\]'"):
        result.to_pandas()
    with pytest.raises(MissingDependencyError, match=r"pip install 'pyconviva\[polars\]'"):
        result.to_polars()


def test_records_csv_and_json_need_no_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = result_of(GROUPED)
    hide(monkeypatch, "pandas", "numpy", "polars", "pyarrow", "matplotlib")
    assert len(result.records()) == 4
    assert result.to_csv(tmp_path / "a.csv").read_text().count("\n") == 5
    assert result.to_json(tmp_path / "a.json").exists()
    assert "MetricsResult" in repr(result)
