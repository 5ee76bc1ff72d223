"""Must fail mypy, on each line marked ``# error``: names annotated with the Literal types are
checked (run by tests/typing/test_names.py; not in ``[tool.mypy] files``)."""

from __future__ import annotations

from pyconviva import DimensionName, MetricGroupName, MetricName

metric: MetricName = "atempts"  # error
metrics: list[MetricName] = ["attempts", "bitrat"]  # error
group: MetricGroupName = "quality"  # error
dimension: DimensionName = "ips"  # error
