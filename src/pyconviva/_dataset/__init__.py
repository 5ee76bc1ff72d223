"""Export many queries over a long range into a Parquet dataset, incrementally and resumably.

The range is cut at UTC midnights into *units*: one query over (at most) one day, one file each,
``date=YYYY-MM-DD/<metrics>__<group>.parquet``, recorded in the manifest ``_manifest.json``. A
unit that covers part of a day (the range starts or ends inside it) is named with its hours,
``…__0200-2400.parquet``, so that a nightly ``since_last`` run adds the rest of a day beside it.

The modules, one job each:

- ``_units``: queries, units, file names, the bucket grid and when a unit's data has settled;
- ``_windows``: which requests fetch the units (the fewest the API's limits allow);
- ``_manifest``: the manifest, read strictly and written atomically;
- ``_lock``: one export at a time per directory;
- ``_writer``: replies cut into units and written as Parquet files;
- ``_export``: ``export_dataset`` itself, tying them together.
"""

from pyconviva._dataset._export import ExportSummary, default_end, export_dataset
from pyconviva._dataset._lock import DatasetBusyError
from pyconviva._dataset._manifest import MANIFEST_NAME, Manifest, ManifestError
from pyconviva._dataset._units import (
    SETTLE_DELAY,
    ExportQuery,
    ExportUnit,
    day_windows,
    export_queries,
    plan_units,
)
from pyconviva._dataset._writer import data_files

__all__ = [
    "MANIFEST_NAME",
    "SETTLE_DELAY",
    "DatasetBusyError",
    "ExportQuery",
    "ExportSummary",
    "ExportUnit",
    "Manifest",
    "ManifestError",
    "data_files",
    "day_windows",
    "default_end",
    "export_dataset",
    "export_queries",
    "plan_units",
]
