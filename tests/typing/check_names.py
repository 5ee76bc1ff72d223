"""Checked by mypy (``[tool.mypy] files``): the catalogue's names and custom names both pass."""

from __future__ import annotations

from pyconviva import (
    AsyncConvivaAPI,
    ConvivaAPI,
    DimensionName,
    MetricGroupName,
    MetricName,
    MetricsResult,
)


def catalogue_names_and_custom_names_pass(api: ConvivaAPI) -> list[MetricsResult]:
    chosen: list[MetricName] = ["attempts", "plays", "exit-before-video-starts"]
    group: MetricGroupName = "quality-summary"
    dimension: DimensionName = "device_name"
    return [
        api.get_historical_data("attempts", group_by="isp"),
        api.get_historical_data(chosen, group_by=dimension),
        api.get_real_time_data(group, group_by="device-name"),
        api.get_historical_data("a-custom-metric", group_by={"custom-tag": "appVersion"}),
        api.get_historical_data(["attempts", "a-custom-metric"], group_by="a-new-dimension"),
    ]


async def the_async_client_takes_the_same_names(api: AsyncConvivaAPI) -> MetricsResult:
    metric: MetricName = "rebuffering-ratio"
    return await api.get_historical_data(metric, group_by="cdn")
