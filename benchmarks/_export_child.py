"""Run one ``export_dataset`` in a process of its own; report its figures as JSON.

``bench_budget.py`` (part 1) runs the export here so that peak memory is the export's own: this
process's ``ru_maxrss`` is its peak resident set, not the benchmark's and not the emulator's.
The job arrives as JSON on stdin (so credentials never show in a process listing):

    {"base_url": "http://127.0.0.1:8080", "client_id": "...", "client_key": "...",
     "now": ISO, "start": ISO, "end": ISO, "directory": "...",
     "metrics": ["attempts", ["plays", "bitrate"]], "group_bys": [null, "isp"]}

The client has default settings but for ``now``, its clock (the emulator's fixed one). Prints
one JSON object: {"seconds": <time of the export call>, "rss_after_imports_kib": ...,
"rss_peak_kib": ..., "written": <files>, "rows": ..., "errors": {"RateLimitError": 3, ...}}.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from datetime import datetime

import pyarrow.parquet  # noqa: F401  (loaded before the baseline: the export writes with it)

from pyconviva import ConvivaAPI, export_dataset


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def main() -> None:
    job = json.load(sys.stdin)
    now = datetime.fromisoformat(job["now"])
    after_imports = peak_rss_kib()
    with ConvivaAPI(
        client_key=job["client_key"],
        client_id=job["client_id"],
        base_url=job["base_url"],
        clock=lambda: now,
    ) as api:
        started = time.perf_counter()
        summary = export_dataset(
            api,
            metrics=job["metrics"],
            group_bys=job["group_bys"],
            start=job["start"],
            end=job["end"],
            directory=job["directory"],
        )
        seconds = time.perf_counter() - started
    errors = Counter(type(error).__name__ for error in summary.errors.values())
    report = {
        "seconds": seconds,
        "rss_after_imports_kib": after_imports,
        "rss_peak_kib": peak_rss_kib(),
        "written": len(summary.written),
        "rows": summary.rows,
        "errors": dict(errors),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
