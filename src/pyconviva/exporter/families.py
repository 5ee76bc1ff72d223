"""Prometheus names, help and units for Conviva's value fields (pure).

Prometheus wants base units and ratios from 0 to 1, named by their unit; Conviva gives
percentages from 0 to 100 and bits per second (API reference §4.3). So:

============  ===================================  ==========================================
field         family                               value
============  ===================================  ==========================================
count         ``conviva_<metric>``                 as given (sessions in the minute)
percentage    ``conviva_<metric>_ratio``           divided by 100 (video start failures of
                                                   attempts: 0.0061 for 0.61 %)
ratio         ``conviva_<metric>`` (``…_ratio``)   divided by 100
bps           ``conviva_<metric>_bits_per_second`` as given
value         ``conviva_<metric>_seconds``         as given (start and restart times)
other         ``conviva_<metric>_<field>``         as given
============  ===================================  ==========================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LABELS", "Family", "family_for"]

LABELS = ("filter", "dimension", "dimension_value")
_NOT_NAME = re.compile(r"[^a-zA-Z0-9_]+")


@dataclass(frozen=True)
class Family:
    """One metric family: its name, its help text, and what Conviva's value is divided by."""

    name: str
    documentation: str
    divisor: float = 1.0


def family_for(metric: str, field: str) -> Family:
    """The family of one value field of a metric, as the reply names them (``"plays"``,
    ``"percentage"``)."""
    base = "conviva_" + _NOT_NAME.sub("_", metric).strip("_").lower()
    shown = metric.replace("_", " ")
    last_minute = "in the last complete minute"
    if field == "count":
        return Family(base, f"Conviva {shown} {last_minute}.")
    if field == "percentage":
        return Family(
            f"{base}_ratio", f"Conviva {shown} {last_minute}, as a share from 0 to 1.", 100.0
        )
    if field == "ratio":
        name = base if base.endswith("_ratio") else f"{base}_ratio"
        return Family(name, f"Conviva {shown} {last_minute}, from 0 to 1.", 100.0)
    if field == "bps":
        return Family(f"{base}_bits_per_second", f"Conviva {shown} {last_minute}, in bits/s.")
    if field == "value":
        return Family(f"{base}_seconds", f"Conviva {shown} {last_minute}, in seconds.")
    suffix = _NOT_NAME.sub("_", field).strip("_").lower()
    return Family(f"{base}_{suffix}", f"Conviva {shown} ({field}) {last_minute}.")
