"""The results family: what a reply becomes once decoded.

``results`` holds the two public result classes (read-only mappings over the raw JSON);
``decode`` turns a body into a JSON object (or refuses it, naming the request); ``tidy`` turns a
metrics reply into columns and tidy rows, and ``metadata`` a metadata reply into typed rows, both
with the standard library only; ``values`` decides which values a column can hold and counts the
ones left out; ``frames`` builds pandas/polars/Arrow tables from those columns; ``writers`` writes
one result to CSV, JSON or Parquet; ``plot`` draws it.
"""

from pyconviva._results.response import ResponseInfo
from pyconviva._results.results import MetadataResult, MetricsResult

__all__ = ["MetadataResult", "MetricsResult", "ResponseInfo"]
