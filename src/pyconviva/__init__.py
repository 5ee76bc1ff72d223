"""pyconviva: the Python client for Conviva's Metrics V3 API."""

from pyconviva._version import __version__

__all__ = ["__version__"]
