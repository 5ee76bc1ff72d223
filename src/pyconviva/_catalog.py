"""The built-in catalogue of Metrics V3 metrics, metric groups and dimensions.

The API has no machine-readable catalogue, so this one is assembled from the Metrics V3
reference (§5 metrics, §6 dimensions). The client uses it for "did you mean" hints on a 404 and
for units; the emulator serves exactly these names.

Choices where the reference is unsure:

* ``exit-before-video-starts`` (the name Conviva's exporter and nri-conviva send) is an alias of
  the documented ``exits-before-video-start``; both answer under the key
  ``exit_before_video_starts``.
* ``ad-plays`` is kept as its own legacy metric (key ``ad_plays``, ``count`` + ``percentage``),
  not an alias: the only client that sends it parses the key ``ad_plays``. Its values are those
  of ``ad-impressions``.
* The seven docs-only metrics whose value fields no client shows get the shapes the reference
  suggests (``ad-slate-duration``/``paused-time`` seconds, ``pause-ratio`` a ratio, the rest
  count + percentage).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "DIMENSIONS",
    "METRICS",
    "METRIC_ALIASES",
    "METRIC_GROUPS",
    "DimensionInfo",
    "MetricInfo",
    "find_dimension",
    "find_metric",
    "suggest_dimensions",
    "suggest_metrics",
]


@dataclass(frozen=True)
class MetricInfo:
    """One metric: how it is named in paths and replies, its value fields and their units."""

    name: str
    key: str
    fields: tuple[str, ...]
    label: str
    units: Mapping[str, str]
    real_time: bool
    additive: bool


@dataclass(frozen=True)
class DimensionInfo:
    """One Conviva-defined dimension: kebab path name, snake filter key, human label."""

    name: str
    key: str
    label: str
    filterable: bool


# Value shapes of reference §4.3, by the letter used in the table below.
_SHAPES: Mapping[str, tuple[str, ...]] = {
    "c": ("count",),
    "cp": ("count", "percentage"),
    "p": ("percentage",),
    "r": ("ratio",),
    "b": ("bps",),
    "f": ("fps",),
    "v": ("value",),
    "e": ("count", "per_unique_device"),
    "m": ("count", "per_unique_device", "per_ended_play"),
}

# Default unit per value field; the table overrides `count` and `value` where they differ.
_FIELD_UNITS: Mapping[str, str] = {
    "count": "count",
    "percentage": "percent",
    "ratio": "percent",
    "bps": "bps",
    "fps": "fps",
    "value": "seconds",
    "per_unique_device": "count",
    "per_ended_play": "minutes",
}

# Counts that do not add up over time buckets: unique counts and gauges.
_NOT_ADDITIVE = frozenset(
    {
        "ad-concurrent-plays",
        "ad-unique-devices",
        "bad-unique-devices",
        "bad-unique-viewers",
        "concurrent-plays",
        "good-unique-devices",
        "good-unique-viewers",
        "spi-unique-devices",
        "spi-unique-viewers",
        "unique-devices",
    }
)

# The real-time alert metric set of reference §5, plus plays and ended plays.
_REAL_TIME = frozenset(
    {
        "attempts",
        "bitrate",
        "concurrent-plays",
        "connection-induced-rebuffering-ratio",
        "ended-plays",
        "exits-before-video-start",
        "plays",
        "rebuffering-ratio",
        "video-playback-failures",
        "video-playback-failures-business",
        "video-playback-failures-tech",
        "video-restart-time",
        "video-start-failures",
        "video-start-failures-business",
        "video-start-failures-tech",
        "video-start-time",
    }
)

# name, shape, label, unit overrides ("field=unit ..."), response key when irregular.
_METRIC_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("abandonment", "cp", "Abandonment", "", ""),
    ("abandonment-with-pre-roll", "p", "Abandonment With Pre-roll", "", ""),
    ("abandonment-without-pre-roll", "p", "Abandonment Without Pre-roll", "", ""),
    ("ad-actual-duration", "v", "Ad Actual Duration", "", ""),
    ("ad-attempts", "c", "Ad Attempts", "", ""),
    ("ad-bitrate", "b", "Ad Average Bitrate", "", ""),
    (
        "ad-completed-creative-plays",
        "v",
        "Ads Completed (% of Ad Impressions)",
        "value=percent",
        "",
    ),
    ("ad-concurrent-plays", "c", "Ad Concurrent Plays", "", ""),
    (
        "ad-connection-induced-rebuffering-ratio",
        "r",
        "Ad Connection Induced Rebuffering Ratio",
        "",
        "",
    ),
    ("ad-ended-plays", "e", "Ad Ended Plays", "", ""),
    ("ad-framerate", "f", "Ad Average Framerate", "", ""),
    ("ad-impressions", "cp", "Ad Impressions (% of Ad Attempts)", "", ""),
    (
        "ad-minutes-played",
        "m",
        "Ad Minutes",
        "count=minutes per_unique_device=minutes",
        "",
    ),
    ("ad-percentage-complete", "p", "Ad Average % Complete", "", ""),
    ("ad-plays", "cp", "Ad Plays (legacy name of Ad Impressions)", "", ""),
    ("ad-rebuffering-ratio", "r", "Ad Rebuffering Ratio", "", ""),
    ("ad-slate-duration", "v", "Ad Slate Duration", "", ""),
    ("ad-slate-plays", "cp", "Ad Slate Plays", "", ""),
    ("ad-unique-devices", "c", "Ad Unique Devices", "", ""),
    ("ad-video-playback-failures", "cp", "Ad Playback Failures", "", ""),
    ("ad-video-restart-time", "v", "Ad Restart Time", "", ""),
    ("ad-video-start-failures", "cp", "Ad Start Failures", "", ""),
    ("ad-video-start-time", "v", "Ad Startup Time", "", ""),
    ("ads-not-started", "cp", "Ads Not Started", "", ""),
    ("attempts", "c", "Attempts", "", ""),
    ("attempts-with-pre-roll", "cp", "Attempts With Pre-roll", "", ""),
    ("attempts-without-pre-roll", "cp", "Attempts Without Pre-roll", "", ""),
    ("bad-session", "cp", "Impacted Streams", "", ""),
    (
        "bad-session-average-life-playing-time-mins",
        "v",
        "Impacted Streams Average Life Playing Time",
        "value=minutes",
        "",
    ),
    ("bad-unique-devices", "cp", "Impacted Unique Devices", "", ""),
    ("bad-unique-viewers", "cp", "Impacted Unique Viewers", "", ""),
    ("bitrate", "b", "Avg. Peak Bitrate", "", ""),
    ("cir-related-exits", "cp", "CIR Related Exits", "", ""),
    ("concurrent-plays", "c", "Concurrent Plays", "", ""),
    (
        "connection-induced-rebuffering-ratio",
        "r",
        "Connection Induced Rebuffering Ratio",
        "",
        "",
    ),
    ("ended-plays", "e", "Ended Plays", "", ""),
    ("ended-plays-with-ads", "cp", "Ended Plays With Ads", "", ""),
    ("ended-plays-without-ads", "cp", "Ended Plays Without Ads", "", ""),
    ("exits-before-ad-start", "cp", "Exits Before Ad Start", "", ""),
    (
        "exits-before-video-start",
        "cp",
        "Exits Before Video Start",
        "",
        "exit_before_video_starts",
    ),
    ("exits-during-pre-roll", "cp", "Exits During Pre-roll", "", ""),
    ("framerate", "f", "Average Framerate", "", ""),
    ("good-session", "c", "Good Streams", "", ""),
    (
        "good-session-average-life-playing-time-mins",
        "v",
        "Good Streams Average Life Playing Time",
        "value=minutes",
        "",
    ),
    ("good-unique-devices", "c", "Good Unique Devices", "", ""),
    ("good-unique-viewers", "c", "Good Unique Viewers", "", ""),
    ("high-rebuffering", "cp", "High Rebuffering", "", ""),
    ("high-rebuffering-with-ads", "p", "High Rebuffering With Ads", "", ""),
    ("high-rebuffering-without-ads", "p", "High Rebuffering Without Ads", "", ""),
    ("high-startup-time", "cp", "High Startup Time", "", ""),
    ("high-startup-time-with-pre-roll", "p", "High Startup Time With Pre-roll", "", ""),
    (
        "high-startup-time-without-pre-roll",
        "p",
        "High Startup Time Without Pre-roll",
        "",
        "",
    ),
    ("interval-minutes-played", "c", "Playing Time (Interval)", "count=minutes", ""),
    ("low-bitrate", "cp", "Low Bitrate", "", ""),
    ("low-bitrate-with-ads", "p", "Low Bitrate With Ads", "", ""),
    ("low-bitrate-without-ads", "p", "Low Bitrate Without Ads", "", ""),
    (
        "minutes-played",
        "m",
        "Playing Time",
        "count=minutes per_unique_device=minutes",
        "",
    ),
    (
        "non-zero-cirr-ended-plays",
        "cp",
        "Connection Induced Interrupted Plays",
        "",
        "",
    ),
    ("pause-ratio", "r", "Pause Ratio", "", ""),
    ("paused-time", "v", "Paused Time", "", ""),
    ("percentage-complete", "p", "Average % Complete", "", ""),
    ("plays", "cp", "Plays", "", ""),
    ("rebuffering-ratio", "r", "Rebuffering Ratio", "", ""),
    ("spi-streams", "c", "SPI Streams", "", ""),
    ("spi-unique-devices", "c", "SPI Unique Devices", "", ""),
    ("spi-unique-viewers", "c", "SPI Unique Viewers", "", ""),
    ("streaming-performance-index", "v", "Streaming Performance Index", "value=index", ""),
    ("unique-devices", "c", "Unique Devices", "", ""),
    ("video-playback-failures", "cp", "Video Playback Failures", "", ""),
    (
        "video-playback-failures-business",
        "cp",
        "Video Playback Failures (Business)",
        "",
        "",
    ),
    ("video-playback-failures-tech", "cp", "Video Playback Failures (Technical)", "", ""),
    (
        "video-playback-failures-tech-with-ads",
        "p",
        "Video Playback Failures (Technical) With Ads",
        "",
        "",
    ),
    (
        "video-playback-failures-tech-without-ads",
        "p",
        "Video Playback Failures (Technical) Without Ads",
        "",
        "",
    ),
    ("video-restart-time", "v", "Video Restart Time", "", ""),
    ("video-start-failures", "cp", "Video Start Failures", "", ""),
    ("video-start-failures-business", "cp", "Video Start Failures (Business)", "", ""),
    ("video-start-failures-tech", "cp", "Video Start Failures (Technical)", "", ""),
    (
        "video-start-failures-tech-with-pre-roll",
        "p",
        "Video Start Failures (Technical) With Pre-roll",
        "",
        "",
    ),
    (
        "video-start-failures-tech-without-pre-roll",
        "p",
        "Video Start Failures (Technical) Without Pre-roll",
        "",
        "",
    ),
    ("video-start-time", "v", "Video Startup Time", "", ""),
    ("zero-cirr-ended-plays", "cp", "Zero CIRR Ended Plays", "", ""),
)


def _metric(name: str, shape: str, label: str, unit_overrides: str, key: str) -> MetricInfo:
    fields = _SHAPES[shape]
    units = {field: _FIELD_UNITS[field] for field in fields}
    for pair in unit_overrides.split():
        field, unit = pair.split("=")
        units[field] = unit
    return MetricInfo(
        name=name,
        key=key or name.replace("-", "_"),
        fields=fields,
        label=label,
        units=MappingProxyType(units),
        real_time=name in _REAL_TIME,
        additive="count" in fields and name not in _NOT_ADDITIVE,
    )


METRICS: Mapping[str, MetricInfo] = MappingProxyType(
    {row[0]: _metric(*row) for row in _METRIC_TABLE}
)

METRIC_ALIASES: Mapping[str, str] = MappingProxyType(
    {"exit-before-video-starts": "exits-before-video-start"}
)

METRIC_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # The ten metrics Conviva's own Prometheus exporter requests.
        "quality-summary": (
            "attempts",
            "video-start-failures",
            "exits-before-video-start",
            "plays",
            "video-start-time",
            "rebuffering-ratio",
            "bitrate",
            "video-playback-failures",
            "ended-plays",
            "connection-induced-rebuffering-ratio",
        ),
        "audience": (
            "plays",
            "ended-plays",
            "concurrent-plays",
            "unique-devices",
            "minutes-played",
        ),
    }
)

# Labels that are not the title-cased words of the name: Conviva's own labels from the Sessions
# dimensions reply (reference §6) and common abbreviations.
_DIMENSION_LABELS: Mapping[str, str] = {
    "app-version": "App Version",
    "asn": "AS Numbers",
    "asset": "Assets",
    "browser-name": "Browser Name",
    "cdn": "CDNs",
    "cdn-edge-group": "Last CDN Edge Group",
    "cdn-edge-server": "Last CDN Edge Server",
    "content-category": "Content Category",
    "device-hardware-type": "Device Hardware Type",
    "device-os": "Device OS",
    "device-os-family": "Device OS Family",
    "device-os-version": "Device OS Version",
    "geo-city-name": "City",
    "geo-continent-name": "Continent",
    "geo-country-code": "Country",
    "geo-dma": "DMA",
    "geo-postal-code": "Postal Code",
    "geo-state-name": "State",
    "isp": "ISP",
    "conviva-core-sdk-version": "Conviva Core SDK Version",
    "utm-tracking-code": "UTM Tracking Code",
    "precision-algo-id": "Precision Algorithm ID",
    "precision-cdn": "Precision CDN",
    "precision-rs": "Precision RS",
}

_DIMENSION_NAMES: tuple[str, ...] = (
    "ad-break-id",
    "ad-break-index",
    "ad-campaign-name",
    "ad-category",
    "ad-creative-id",
    "ad-creative-name",
    "ad-creative-type",
    "ad-day-part",
    "ad-deal-id",
    "ad-fallback-index",
    "ad-first-ad-id",
    "ad-first-ad-system",
    "ad-first-creative-id",
    "ad-id",
    "ad-is-slate",
    "ad-manager-name",
    "ad-manager-version",
    "ad-media-file-api-framework",
    "ad-planned-duration",
    "ad-position",
    "ad-sequence",
    "ad-session-start-event",
    "ad-stitcher",
    "ad-system",
    "ad-technology",
    "ad-type",
    "ad-unit-name",
    "ad-video-asset-name",
    "advertiser",
    "advertiser-category",
    "advertiser-id",
    "advertiser-name",
    "app-version",
    "asn",
    "asset",
    "asset-type",
    "browser-name",
    "browser-version",
    "cdn",
    "cdn-edge-group",
    "cdn-edge-server",
    "connection-type",
    "content-category",
    "content-meta-affiliate",
    "content-meta-brand",
    "content-meta-category-type",
    "content-meta-channel",
    "content-meta-content-type",
    "content-meta-episode-number",
    "content-meta-genre",
    "content-meta-genre-list",
    "content-meta-id",
    "content-meta-name",
    "content-meta-season-number",
    "content-meta-series-name",
    "content-meta-show-title",
    "conviva-core-sdk-version",
    "customer",
    "device-category",
    "device-hardware-type",
    "device-manufacturer",
    "device-marketing-name",
    "device-model",
    "device-name",
    "device-os",
    "device-os-family",
    "device-os-version",
    "geo-city-name",
    "geo-continent-name",
    "geo-country-code",
    "geo-dma",
    "geo-postal-code",
    "geo-state-name",
    "is-ad-requested",
    "isp",
    "network-connection-type",
    "platform",
    "platform-version",
    "player-framework-name",
    "player-framework-version",
    "player-name",
    "precision-algo-id",
    "precision-cdn",
    "precision-rs",
    "preroll-status",
    "stream-host",
    "user-agent",
    "utm-tracking-code",
    "video-asset-name",
    "video-playback-failure-business-error",
    "video-playback-failure-error",
    "video-playback-failure-tech-error",
    "video-start-failure-business-error",
    "video-start-failure-error",
    "video-start-failure-tech-error",
    "ad-video-playback-failure-error",
    "ad-video-start-failure-error",
)

# In the group-by list only, not in the filter list (reference §6).
_GROUP_BY_ONLY = frozenset({"ad-video-playback-failure-error", "ad-video-start-failure-error"})


def _dimension(name: str) -> DimensionInfo:
    words = (word.upper() if word == "id" else word.capitalize() for word in name.split("-"))
    return DimensionInfo(
        name=name,
        key=name.replace("-", "_"),
        label=_DIMENSION_LABELS.get(name, " ".join(words)),
        filterable=name not in _GROUP_BY_ONLY,
    )


DIMENSIONS: Mapping[str, DimensionInfo] = MappingProxyType(
    {name: _dimension(name) for name in _DIMENSION_NAMES}
)


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def find_metric(name: str) -> MetricInfo | None:
    """The metric called `name` (kebab path name, snake response key or alias), else None."""
    kebab = _kebab(name)
    return METRICS.get(METRIC_ALIASES.get(kebab, kebab)) or _METRICS_BY_KEY.get(name)


def find_dimension(name: str) -> DimensionInfo | None:
    """The dimension called `name` (kebab group-by form or snake filter form), else None."""
    return DIMENSIONS.get(_kebab(name))


def suggest_metrics(name: str, n: int = 3) -> list[str]:
    """Up to `n` known metric names (or aliases) close to `name`, best first."""
    return difflib.get_close_matches(_kebab(name.lower()), [*METRICS, *METRIC_ALIASES], n=n)


def suggest_dimensions(name: str, n: int = 3) -> list[str]:
    """Up to `n` known dimension names close to `name`, best first."""
    return difflib.get_close_matches(_kebab(name.lower()), list(DIMENSIONS), n=n)


_METRICS_BY_KEY: Mapping[str, MetricInfo] = {info.key: info for info in METRICS.values()}


# --- the generated name types (``python -m pyconviva._catalog --write-names``) ------------------

NAMES_MODULE = "_names.py"
_NAMES_HEADER = '''"""Names of the built-in catalogue as ``Literal`` types, for IDE completion
and mypy.

Generated from ``pyconviva._catalog`` by ``python -m pyconviva._catalog --write-names``; do not
edit (a test checks that it is up to date).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["DimensionName", "MetricGroupName", "MetricName"]
'''


def _literal(alias: str, what: str, names: list[str]) -> str:
    members = "".join(f'    "{name}",\n' for name in names)  # catalogue names need no escapes
    return f"#: {what}\n{alias} = Literal[\n{members}]\n"


def names_module_source() -> str:
    """The source of ``pyconviva/_names.py``: a ``Literal`` type per kind of catalogue name."""
    dimensions = sorted({*DIMENSIONS, *(info.key for info in DIMENSIONS.values())})
    metrics = sorted([*METRICS, *METRIC_ALIASES])
    literals = [
        _literal("MetricName", "A metric's path name, or a documented alias of one.", metrics),
        _literal("MetricGroupName", "A metric group's name.", sorted(METRIC_GROUPS)),
        _literal(
            "DimensionName",
            "A Conviva dimension, in its kebab (group-by) or snake (filter) form.",
            dimensions,
        ),
    ]
    return "\n\n".join([_NAMES_HEADER, *literals])


def _write_names() -> None:
    from pathlib import Path  # only the generator writes files

    target = Path(__file__).with_name(NAMES_MODULE)
    target.write_text(names_module_source(), encoding="utf-8")
    print(f"wrote {target}")  # noqa: T201 - the generator's one line of output


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write-names"]:
        sys.exit("usage: python -m pyconviva._catalog --write-names")
    _write_names()
