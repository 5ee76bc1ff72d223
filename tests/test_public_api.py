"""The package's public surface: what `import pyconviva` offers and what it does not drag in."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pyconviva


def test_all_is_sorted_and_every_name_is_importable() -> None:
    assert pyconviva.__all__ == sorted(pyconviva.__all__)
    for name in pyconviva.__all__:
        assert getattr(pyconviva, name) is not None


def test_the_documented_names_are_exported() -> None:
    documented = {
        "ConvivaAPI", "AsyncConvivaAPI", "MetricsResult", "MetadataResult", "MetricsQuery",
        "QuerySpec", "BatchResult", "RateLimiter", "RateLimit", "RetryPolicy",
        "export_dataset", "ExportSummary", "ConvivaError", "QueryError", "APIStatusError",
    }  # fmt: skip
    assert documented <= set(pyconviva.__all__)


def test_every_error_is_a_conviva_error() -> None:
    errors = [
        obj
        for name in pyconviva.__all__
        if inspect.isclass(obj := getattr(pyconviva, name)) and issubclass(obj, Exception)
    ]
    assert len(errors) == 18  # the 16 of the tree, DatasetBusyError and ManifestError
    assert all(issubclass(error, pyconviva.ConvivaError) for error in errors)
    assert issubclass(pyconviva.QueryError, ValueError)
    assert issubclass(pyconviva.MissingDependencyError, ImportError)


def test_importing_pyconviva_loads_no_optional_dependency() -> None:
    code = (
        "import sys, pyconviva; "
        "print(','.join(m for m in ('pandas', 'polars', 'pyarrow', 'matplotlib', 'click', "
        "'rich', 'numpy', 'pytest') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_version_is_a_string() -> None:
    assert isinstance(pyconviva.__version__, str)
    assert pyconviva.__version__[0].isdigit()
