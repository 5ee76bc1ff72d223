"""Helpers shared by several test modules: sample replies of every shape, and builders."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from pyconviva import MetricsResult

T0 = 1641009600000  # 2022-01-01T04:00:00Z
HOUR = 3_600_000
MINUTE = 60_000
UTC = timezone.utc


def stamp(epoch_ms: int) -> dict[str, Any]:
    iso = datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"epoch_ms": epoch_ms, "iso_date": iso}


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2022, 1, 1, hour, minute, tzinfo=UTC)


def row(key: str, value: str, **metrics: dict[str, Any]) -> dict[str, Any]:
    return {"dimension": {"key": key, "value": value}, "metrics": metrics}


PLAIN = {
    "time_series": [
        {"timestamp": stamp(T0), "ended_plays": {"count": 1520, "per_unique_device": 1.42}},
        {"timestamp": stamp(T0 + HOUR), "ended_plays": {"count": 1388, "per_unique_device": 1.37}},
    ],
    "total": {"ended_plays": {"count": 2908, "per_unique_device": 1.61}},
}

MULTI = {
    "time_series": [
        {
            "timestamp": stamp(T0),
            "attempts": {"count": 1700},
            "bitrate": {"bps": 4125000.0},
            "plays": {"count": 1610, "percentage": 94.7},
        },
    ],
    "total": {
        "attempts": {"count": 1700},
        "bitrate": {"bps": 4125000.0},
        "plays": {"count": 1610, "percentage": 94.7},
    },
}

GROUPED = {
    "_meta": {"group_by_dimension": {"description": "Device Name"}},
    "time_series": [
        {
            "timestamp": stamp(T0),
            "dimensional_data": [
                row("device_name", "Roku", attempts={"count": 812}),
                row("device_name", "Apple TV", attempts={"count": 403}),
            ],
        },
        {
            "timestamp": stamp(T0 + HOUR),
            "dimensional_data": [
                row("device_name", "Roku", attempts={"count": 790}),
                row("device_name", "Apple TV", attempts={"count": 420}),
            ],
        },
    ],
    "total": {"attempts": {"count": 2425}},
}

CUSTOM_TAG = {
    "_meta": {"group_by_dimension": {"description": "appVersion"}},
    "time_series": [
        {
            "timestamp": stamp(T0),
            "dimensional_data": [
                row("appVersion", "1.2", unique_devices={"count": 50}),
                row("appVersion", "1.3", unique_devices={"count": 70}),
            ],
        },
    ],
    "total": {"unique_devices": {"count": 118}},
}

REAL_TIME = {
    "_meta": {"group_by_dimension": {"description": "Player Name"}, "filter_info": {"id": "1234"}},
    "time_series": [
        {
            "timestamp": stamp(T0 + 58 * MINUTE),
            "dimensional_data": [
                row(
                    "player_name",
                    "MyApp_Roku",
                    attempts={"count": 57},
                    rebuffering_ratio={"ratio": 0.41},
                    video_start_time={"value": 2.31},
                ),
            ],
        },
        {"timestamp": stamp(T0 + 59 * MINUTE), "dimensional_data": []},
    ],
    "total": {
        "attempts": {"count": 57},
        "rebuffering_ratio": {"ratio": 0.41},
        "video_start_time": {"value": 2.31},
    },
}

EMPTY = {"time_series": [], "total": {}}


def result_of(reply: dict[str, Any], **kwargs: Any) -> MetricsResult:
    return MetricsResult.from_bytes(json.dumps(reply).encode(), **kwargs)
