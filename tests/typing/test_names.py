"""The generated name types: up to date with the catalogue, and checked by mypy."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from pyconviva import _catalog, _names

HERE = Path(__file__).parent
PYPROJECT = HERE.parents[1] / "pyproject.toml"


def test_the_generated_names_module_is_up_to_date_with_the_catalogue() -> None:
    written = Path(_names.__file__).read_text(encoding="utf-8")
    assert written == _catalog.names_module_source(), (
        "run: python -m pyconviva._catalog --write-names"
    )


def test_every_catalogue_name_is_in_its_literal_type() -> None:
    assert set(get_args(_names.MetricName)) == {*_catalog.METRICS, *_catalog.METRIC_ALIASES}
    assert set(get_args(_names.MetricGroupName)) == set(_catalog.METRIC_GROUPS)
    dimensions = set(get_args(_names.DimensionName))
    assert {"device-name", "device_name", "isp"} <= dimensions
    assert set(_catalog.DIMENSIONS) <= dimensions


def test_mypy_refuses_misspelt_names_annotated_with_the_literal_types() -> None:
    api = pytest.importorskip("mypy.api")
    failing = HERE / "check_names_fail.py"
    stdout, _, status = api.run([str(failing), "--config-file", str(PYPROJECT)])
    marked = {
        number
        for number, line in enumerate(failing.read_text().splitlines(), start=1)
        if line.endswith("# error")
    }
    reported = {int(line.split(":")[1]) for line in stdout.splitlines() if ": error:" in line}
    assert status == 1
    assert reported == marked, stdout
