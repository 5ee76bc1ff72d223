"""Lazy imports of the optional dependencies (pandas, polars, pyarrow, matplotlib).

Importing pyconviva never imports them: each feature asks for its module when it is used, and a
missing one becomes a :class:`MissingDependencyError` whose message is the exact ``pip install``
line of the extra that brings it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pyconviva._exceptions import MissingDependencyError

__all__ = ["require"]

# module -> the extra of pyproject.toml that installs it
_EXTRAS = {
    "pandas": "pandas",
    "numpy": "pandas",
    "polars": "polars",
    "pyarrow": "parquet",
    "matplotlib": "plot",
}


def require(module: str, *, feature: str) -> ModuleType:
    """Import ``module`` (e.g. ``"pandas"``, ``"matplotlib.figure"``) for ``feature``.

    Raises:
        MissingDependencyError: the module is not installed; the message names the extra.
    """
    top = module.partition(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(feature, _EXTRAS[top], top) from exc
