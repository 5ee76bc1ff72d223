"""How fast is ``MetricsResult.from_bytes(body).to_pandas()`` on the largest legal reply?

Run: ``python benchmarks/bench_results.py [--repeat 7] [--synthetic | --body FILE]``

The reply is the largest a single request may return: a group-by just under the API's
5,700,000-byte cap. It comes from the emulator (the largest of a few legal minutely group-by
queries that do not answer 413), or, with ``--synthetic`` or when the emulator cannot be
imported, from a generator of the documented shape sized the same way; ``--body`` reads a saved
reply body instead (a real one, or the emulator's of another version, to compare like with like).

Measured side by side in one run, best of ``--repeat`` runs each, interleaved:

  (a)  ``json.loads(body)`` alone — the floor; (a') the same with the cyclic GC paused, as
       0.2.0's ``from_bytes`` did (no longer: that is process-wide), to show what the pause is
       worth;
  (b)  ours: ``MetricsResult.from_bytes(body).to_pandas()``; (b') the same with
       ``wide=True`` (nullable Int64 count columns);
  (c1) the usual hand-written way: a loop building one dict per value, ``pd.DataFrame``, then
       the conversions that give the same table (UTC timestamps, categoricals, float values);
  (c2) ``pd.json_normalize`` + ``melt`` to the same table.
Each (c) result is checked equal to (b) before it is timed. Peak memory of (b) is traced with
``tracemalloc`` (in a separate run, as tracing slows everything) and given relative to the body.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from pyconviva import MetricsResult

CAP = 5_700_000
GROUPS = 500  # the API's largest `limit`
BUCKETS = 60  # PT1M group-by: at most one hour (the "PTnM allows n hours" rule)
METRICS = [  # (reply key, fields); the order they are added in until the reply nears the cap
    ("attempts", ("count",)),
    ("plays", ("count", "percentage")),
    ("bitrate", ("bps",)),
    ("video_start_time", ("value",)),
    ("rebuffering_ratio", ("ratio",)),
    ("video_start_failures", ("count", "percentage")),
    ("ended_plays", ("count", "per_unique_device")),
    ("concurrent_plays", ("count",)),
    ("framerate", ("fps",)),
    ("exit_before_video_starts", ("count", "percentage")),
    ("unique_devices", ("count",)),
    ("minutes_played", ("count", "per_unique_device", "per_ended_play")),
]
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


# ---- the reply ---------------------------------------------------------------------------------


def synthetic_bucket(rng: random.Random, when: datetime, metrics: int) -> dict[str, Any]:
    def value(field: str) -> int | float:
        if field == "count":
            return rng.randint(0, 250_000)
        return round(rng.uniform(0, 100 if field in ("percentage", "ratio") else 5e6), 2)

    return {
        "timestamp": {
            "epoch_ms": int(when.timestamp() * 1000),
            "iso_date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "dimensional_data": [
            {
                "dimension": {"key": "asset_name", "value": f"Asset {g:04d}: a show title"},
                "metrics": {
                    key: {f: value(f) for f in fields} for key, fields in METRICS[:metrics]
                },
            }
            for g in range(GROUPS)
        ],
    }


def synthetic_reply() -> tuple[bytes, str]:
    """The largest (buckets, metrics) of the documented shape that stays under the cap."""
    rng = random.Random(7)
    best, label = b"", ""
    for metrics in range(1, len(METRICS) + 1):
        per_bucket = len(json.dumps(synthetic_bucket(rng, T0, metrics)))
        buckets = min(BUCKETS, (CAP - 200) // (per_bucket + 2))
        if buckets < 1:
            break
        reply = {
            "_meta": {"group_by_dimension": {"description": "Asset Name"}},
            "time_series": [
                synthetic_bucket(rng, T0 + timedelta(minutes=b), metrics) for b in range(buckets)
            ],
            "total": {},
        }
        body = json.dumps(reply).encode()
        if len(best) < len(body) <= CAP:
            best, label = (
                body,
                f"synthetic: {buckets} x PT1M buckets, {GROUPS} groups, {metrics} metrics",
            )
    return best, label


def emulator_reply() -> tuple[bytes, str] | None:
    """The largest legal emulator reply among PT1M group-bys with 1..12 metrics (None if absent)."""
    try:
        import httpx2

        from pyconviva import QuerySpec
        from pyconviva._query import build_metrics_query
        from pyconviva.emulator import Emulator
    except ImportError:
        return None
    now = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)
    emulator = Emulator(now=now)
    names = [key.replace("_", "-") for key, _ in METRICS]
    best: tuple[bytes, str] | None = None
    with httpx2.Client(
        transport=emulator.transport(),
        base_url="https://api.conviva.com",
        auth=(emulator.client_id, emulator.client_key),
    ) as http:
        for count in range(1, len(names) + 1):
            spec = QuerySpec.historical(
                names[:count],
                group_by="cdn-edge-server",  # the emulator dimension with most values
                time_range=(now - timedelta(hours=1, minutes=30), now - timedelta(minutes=30)),
                granularity="PT1M",
                limit=GROUPS,
            )
            query = build_metrics_query(spec, now=now)
            response = http.get(query.path, params=list(query.params))
            if response.status_code == 413:
                break
            response.raise_for_status()
            if best is None or len(response.content) > len(best[0]):
                best = (response.content, f"emulator: {query.describe()}")
    return best


# ---- the contenders ----------------------------------------------------------------------------


def ours(body: bytes, wide: bool = False) -> pd.DataFrame:
    return MetricsResult.from_bytes(body).to_pandas(wide=wide)


def hand_loop(body: bytes, dimension: str) -> pd.DataFrame:
    data = json.loads(body)
    rows = []
    for bucket in data["time_series"]:
        when = bucket["timestamp"]["epoch_ms"]
        for item in bucket["dimensional_data"]:
            group = item["dimension"]["value"]
            for metric, fields in item["metrics"].items():
                for field, value in fields.items():
                    rows.append(
                        {"timestamp": when, dimension: group, "metric": metric, "field": field,
                         "value": value}
                    )  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="ms", utc=True).dt.as_unit("ns")
    return frame.astype(
        {dimension: "category", "metric": "category", "field": "category", "value": "float64"}
    )


def normalize(body: bytes, dimension: str) -> pd.DataFrame:
    data = json.loads(body)
    flat = pd.json_normalize(
        data["time_series"], record_path="dimensional_data", meta=[["timestamp", "epoch_ms"]]
    )
    columns = [c for c in flat.columns if c.startswith("metrics.")]
    flat["row"] = range(len(flat))
    long = flat.melt(
        id_vars=["row", "timestamp.epoch_ms", "dimension.value"],
        value_vars=columns,
        var_name="column",
        value_name="value",
    ).dropna(subset=["value"])
    long["order"] = long["column"].map({c: i for i, c in enumerate(columns)})
    long = long.sort_values(["row", "order"], kind="stable")
    parts = long["column"].str.split(".", expand=True)
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(long["timestamp.epoch_ms"], unit="ms", utc=True)
            .dt.as_unit("ns")
            .to_numpy(),
            dimension: pd.Categorical(long["dimension.value"].to_numpy()),
            "metric": pd.Categorical(parts[1].to_numpy()),
            "field": pd.Categorical(parts[2].to_numpy()),
            "value": long["value"].astype("float64").to_numpy(),
        }
    )


def same_table(theirs: pd.DataFrame, mine: pd.DataFrame) -> None:
    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        text = {c: "str" for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
        return frame.astype(text).reset_index(drop=True)

    pd.testing.assert_frame_equal(plain(theirs), plain(mine))


# ---- measuring ---------------------------------------------------------------------------------


def paused_loads(body: bytes) -> Any:
    gc.disable()
    try:
        return json.loads(body)
    finally:
        gc.enable()


def best_times(contenders: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(repeat):
        for name, run in contenders.items():
            gc.collect()
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def peak_bytes(run: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--synthetic", action="store_true", help="skip the emulator")
    parser.add_argument("--body", type=Path, help="a saved reply body to measure instead")
    args = parser.parse_args()

    if args.body is not None:
        body, label = args.body.read_bytes(), f"saved body {args.body}"
    else:
        found = None if args.synthetic else emulator_reply()
        body, label = found or synthetic_reply()
    dimension = MetricsResult.from_bytes(body).dimension or "dimension"
    mine = ours(body)
    same_table(hand_loop(body, dimension), mine)
    same_table(normalize(body, dimension), mine)
    print(f"reply: {len(body):,} bytes ({label}); tidy table: {len(mine):,} rows")

    times = best_times(
        {
            "a": lambda: json.loads(body),
            "a'": lambda: paused_loads(body),
            "b": lambda: ours(body),
            "b'": lambda: ours(body, wide=True),
            "c1": lambda: hand_loop(body, dimension),
            "c2": lambda: normalize(body, dimension),
        },
        args.repeat,
    )
    rows = [
        ("(a)  json.loads(body)", "a"),
        ("(a') json.loads, GC paused", "a'"),
        ("(b)  from_bytes(body).to_pandas()", "b"),
        ("(b') ... .to_pandas(wide=True)", "b'"),
        ("(c1) dict-per-value loop + DataFrame", "c1"),
        ("(c2) json_normalize + melt", "c2"),
    ]
    print(f"best of {args.repeat}, interleaved:")
    for text, key in rows:
        print(f"  {text:<38} {times[key] * 1000:8.1f} ms  {times[key] / times['a']:5.2f} x (a)")
    print(f"  (b)/(a)  = {times['b'] / times['a']:.2f}   target <= 3")
    print(f"  (c1)/(b) = {times['c1'] / times['b']:.2f}   target >= 3")
    print(f"  (c2)/(b) = {times['c2'] / times['b']:.2f}   target >= 3")
    loads_peak = peak_bytes(lambda: json.loads(body))
    ours_peak = peak_bytes(lambda: ours(body))
    print(
        f"peak traced memory: (b) {ours_peak / 1e6:.1f} MB = {ours_peak / len(body):.1f} x reply; "
        f"(a) alone {loads_peak / 1e6:.1f} MB = {loads_peak / len(body):.1f} x reply"
    )


if __name__ == "__main__":
    main()
