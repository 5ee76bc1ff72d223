"""The results family: what a reply becomes once decoded.

``results`` holds the two public result classes (mappings over the raw JSON); ``tidy`` turns a
reply into long rows without any optional dependency; ``frames`` builds pandas/polars/Arrow
tables from those rows; ``writers`` writes one result to CSV, JSON or Parquet; ``plot`` draws it.
"""

from pyconviva._results.results import MetadataResult, MetricsResult

__all__ = ["MetadataResult", "MetricsResult"]
