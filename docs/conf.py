"""Sphinx configuration of the pyconviva documentation (Markdown pages via MyST, furo theme).

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (CI runs exactly this;
warnings are errors). Why this stack: see about-these-docs.md.
"""

from pyconviva import __version__

project = "pyconviva"
author = "pyconviva developers"
copyright = "pyconviva developers"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]

# MyST: headings get anchors so pages can link to sections (queries.md#validation-rules).
myst_heading_anchors = 3

# The docstrings are Google style (Args:, Returns:, Raises:, Example:).
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# Methods that override a dependency's (httpx2's transport hooks) would otherwise show its text.
autodoc_inherit_docstrings = False
# "Attributes:" sections as fields of their class, not as second descriptions of a property.
napoleon_use_ivar = True

html_theme = "furo"
html_title = f"pyconviva {release}"
