"""The emulator's deterministic, believable and consistent synthetic data.

The audience (segments, saved filters, KPI sets) lives in ``_population``; here, in order:

* The time profile: daily and weekly cycles in each segment's local time, and two weekly
  incidents (an ISP outage that fails start attempts, a CDN degradation that stalls playback).
* Counts and recipes: every segment has cumulative underlying counts (attempts, plays, minutes,
  stalling seconds, bitrate sums, ...) and every metric value is a recipe over their sums, so
  ratios and percentages come from the same counts as the counts themselves. ``DataModel``
  says how the counts are built so that they add up exactly however a question is sliced.
"""

from __future__ import annotations

import functools
import math
import operator
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from pyconviva.emulator._population import KPIS, POPULATION, Segment, hash_text

__all__ = [
    "HISTORICAL_LAG",
    "INCIDENTS",
    "REAL_TIME_LAG",
    "RECIPES",
    "DataModel",
    "Incident",
    "Number",
    "counters_for",
    "evaluate",
    "model_for",
    "repeat_factor",
]

# --------------------------------------------------------------------------------------------
# Time profile: daily and weekly cycles in local time, and recurring incidents
# --------------------------------------------------------------------------------------------

_DIURNAL = (
    0.42, 0.30, 0.22, 0.18, 0.17, 0.20, 0.32, 0.50, 0.62, 0.70, 0.76, 0.82,
    0.90, 0.92, 0.92, 0.95, 1.05, 1.25, 1.55, 1.85, 2.00, 1.92, 1.50, 0.90,
)  # fmt: skip
_WEEKLY = (0.94, 0.93, 0.95, 0.97, 1.04, 1.10, 1.07)  # Monday first
_WEEK = 168


def _normalised(raw: Sequence[float]) -> tuple[float, ...]:
    mean = sum(raw) / len(raw)
    return tuple(w / mean for w in raw)


# Traffic per local hour of the week (mean 1), and per local hour of the day (mean 1).
_WEEK_WEIGHT = _normalised([_DIURNAL[h % 24] * _WEEKLY[h // 24] for h in range(_WEEK)])
_DAY_WEIGHT = _normalised(_DIURNAL)

TOTAL_ATTEMPTS_PER_HOUR = 90_000.0


@dataclass(frozen=True)
class Incident:
    """A weekly incident hitting every segment with ``dimension == value``: ``hours`` long,
    starting ``start`` hours after Monday 00:00 local time."""

    name: str
    dimension: str
    value: str
    start: int
    hours: int

    def covers(self, local_hour_of_week: int) -> bool:
        return 0 <= (local_hour_of_week - self.start) % _WEEK < self.hours


INCIDENTS: tuple[Incident, ...] = (
    Incident("isp_outage", "isp", "Charter Spectrum", 24 + 19, 3),  # Tuesdays 19:00-22:00
    Incident("cdn_degradation", "cdn", "Fastly", 5 * 24 + 13, 5),  # Saturdays 13:00-18:00
)


@dataclass(frozen=True)
class _Component:
    """One periodic part of the traffic: ``share`` of a segment's attempts follow ``weekly``
    (else daily) cycles and seeded hourly noise that repeats every ``period`` hours. Periods of
    168, 120 and 72 hours add up to noise that repeats only every 105 days, longer than any
    request, while each part stays a small table per segment."""

    period: int
    share: float
    weekly: bool
    offset: int  # added to hours since the epoch before taking the period's remainder

    def weight(self, r: int, tz_hours: int) -> float:
        if self.weekly:
            return _WEEK_WEIGHT[(r + tz_hours) % _WEEK]
        return _DAY_WEIGHT[(r + tz_hours) % 24]


# Hour 0 of the Unix epoch was a Thursday, 72 hours after a Monday 00:00: the weekly part counts
# from Mondays so that its table index is the hour of the week.
_COMPONENTS = (
    _Component(_WEEK, 0.6, weekly=True, offset=72),
    _Component(120, 0.25, weekly=False, offset=0),
    _Component(72, 0.15, weekly=False, offset=0),
)


# --------------------------------------------------------------------------------------------
# Underlying counts. Each is a cumulative, non-decreasing integer (or float sum) per segment,
# evaluated at any instant; a bucket's count is the difference at its two ends, so buckets of
# any size, split windows and groups of segments all add up exactly.
# --------------------------------------------------------------------------------------------

# name -> (operation, operands...). Operations: "base" attempts from the time profile;
# "incident" extra attempts during an incident; "add"/"sub" of two counts; "mul" floor of a
# per-segment rate times a count (a subset when the rate is below 1); "mulf" the same as a float
# sum; "mul_inc"/"mulf_inc" plus a rate times the segment's incident traffic. Listed parents first.
_COUNTERS: Mapping[str, tuple[str, ...]] = {
    "A0": ("base",),
    "K": ("incident", "inc_retries", "isp_outage"),
    "A": ("add", "A0", "K"),
    "VSF0": ("mul", "A0", "vsf"),
    "VSF": ("add", "VSF0", "K"),
    "VSFT0": ("mul", "VSF0", "vsf_tech"),
    "VSFT": ("add", "VSFT0", "K"),
    "VSFB": ("sub", "VSF0", "VSFT0"),
    "R1": ("sub", "A0", "VSF0"),
    "EBVS": ("mul", "R1", "ebvs"),
    "P": ("sub", "R1", "EBVS"),
    "E": ("mul", "P", "ended"),
    "VPF": ("mul", "P", "vpf"),
    "VPFT": ("mul", "VPF", "vpf_tech"),
    "VPFB": ("sub", "VPF", "VPFT"),
    "M": ("mul", "P", "minutes_per_play"),
    "RB": ("mul_inc", "M", "rebuffering_s_per_min", "inc_rebuffering", "cdn_degradation"),
    "CIRB": ("mul", "RB", "cir"),
    "BR": ("mulf_inc", "M", "bitrate_kbps", "inc_bitrate", "cdn_degradation"),
    "FR": ("mulf", "M", "framerate"),
    "ST": ("mul_inc", "P", "start_ms", "inc_start_ms", "cdn_degradation"),
    "RS": ("mul", "P", "restarts"),
    "RTS": ("mul", "RS", "restart_ms"),
    "PZ": ("mul", "M", "pause_s_per_min"),
    "HR": ("mul_inc", "P", "high_rebuffering", "inc_high_rebuffering", "cdn_degradation"),
    "HS": ("mul", "P", "high_startup"),
    "LB": ("mul", "P", "low_bitrate"),
    "BAD": ("mul", "P", "bad"),
    "GOOD": ("sub", "P", "BAD"),
    "MBAD": ("mul", "M", "bad_minutes"),
    "MGOOD": ("sub", "M", "MBAD"),
    "NZC": ("mul", "E", "non_zero_cirr"),
    "ZC": ("sub", "E", "NZC"),
    "CIRX": ("mul", "NZC", "cir_exits"),
    "PCS": ("mulf", "E", "percent_complete"),
    "EWA": ("mul", "E", "with_ads"),
    "EWOA": ("sub", "E", "EWA"),
    "PWA": ("mul", "P", "with_ads"),
    "PWOA": ("sub", "P", "PWA"),
    "HRWA": ("mul", "HR", "with_ads"),
    "HRWOA": ("sub", "HR", "HRWA"),
    "LBWA": ("mul", "LB", "with_ads"),
    "LBWOA": ("sub", "LB", "LBWA"),
    "VPFTWA": ("mul", "VPFT", "with_ads"),
    "VPFTWOA": ("sub", "VPFT", "VPFTWA"),
    "APR": ("mul", "A0", "pre_roll"),
    "ANPR": ("sub", "A", "APR"),
    "PPR": ("mul", "P", "pre_roll"),
    "PNPR": ("sub", "P", "PPR"),
    "EBVSPR": ("mul", "EBVS", "pre_roll"),
    "EBVSNPR": ("sub", "EBVS", "EBVSPR"),
    "HSPR": ("mul", "HS", "pre_roll"),
    "HSNPR": ("sub", "HS", "HSPR"),
    "VSFTPR": ("mul", "VSFT0", "pre_roll"),
    "VSFTNPR": ("sub", "VSFT", "VSFTPR"),
    "EDPR": ("mul", "APR", "exits_during_pre_roll"),
    "ABN": ("add", "EBVS", "EDPR"),
    "AA": ("mul", "A0", "ad_attempts"),
    "AVSF": ("mul", "AA", "ad_start_failures"),
    "AR1": ("sub", "AA", "AVSF"),
    "EBAS": ("mul", "AR1", "exits_before_ad"),
    "AI": ("sub", "AR1", "EBAS"),
    "ANS": ("sub", "AA", "AI"),
    "AE": ("mul", "AI", "ad_ended"),
    "AVPF": ("mul", "AI", "ad_playback_failures"),
    "AM": ("mul", "AI", "ad_minutes"),
    "ARB": ("mul", "AM", "ad_rebuffering_s_per_min"),
    "ACIRB": ("mul", "ARB", "cir"),
    "ABR": ("mulf", "AM", "ad_bitrate_kbps"),
    "AFR": ("mulf", "AM", "framerate"),
    "AST": ("mul", "AI", "ad_start_ms"),
    "ARS": ("mul", "AI", "ad_restarts"),
    "ARTS": ("mul", "ARS", "restart_ms"),
    "ADUR": ("mul", "AI", "ad_duration_s"),
    "ACOMP": ("mul", "AI", "ad_completed"),
    "APCS": ("mulf", "AI", "ad_percent_complete"),
    "SLP": ("mul", "AI", "slates"),
    "SLD": ("mul", "SLP", "slate_s"),
}

# Rates that a KPI threshold set scales (stricter thresholds flag more plays).
_KPI_RATES = ("high_rebuffering", "high_startup", "low_bitrate", "bad", "bad_minutes")


def _segment_rates(seed: int, segment: Segment) -> dict[str, float]:
    """Per-segment rates: the segment's traits, shaded by a seeded +-20 % jitter per rate."""

    def jitter(name: str) -> float:
        return 0.8 + 0.4 * _unit(seed, 3, segment.index, hash_text(name))

    traits = segment.traits
    mobile = segment.values["device_category"] in ("Mobile", "Tablet")
    emerging = segment.values["geo_country_code"] in ("br", "in")
    rebuffering = traits["rebuffering_s_per_min"] * jitter("rebuffering")
    start_ms = 1700.0 * (1.35 if mobile else 1.0) * (1.3 if emerging else 1.0) * jitter("start")
    bitrate = traits["bitrate_kbps"] * (0.75 if emerging else 1.0) * jitter("bitrate")
    high_rebuffering = min(0.3, 0.035 * rebuffering / 0.27)
    high_startup = min(0.3, 0.05 * start_ms / 1700.0)
    low_bitrate = min(0.3, 0.06 * 4000.0 / bitrate)
    vpf = 0.006 * (1.4 if segment.values["cdn"] == "Edgio" else 1.0) * jitter("vpf")
    bad = min(0.5, 0.6 * (high_rebuffering + high_startup + low_bitrate) + vpf)
    ads = traits["ads"]
    rates = {
        "vsf": 0.011 * (1.3 if mobile else 1.0) * (1.5 if emerging else 1.0) * jitter("vsf"),
        "vsf_tech": 0.65,
        "ebvs": 0.045 * (1.3 if mobile else 1.0) * jitter("ebvs"),
        "ended": 0.97,
        "vpf": vpf,
        "vpf_tech": 0.7,
        "minutes_per_play": traits["minutes_per_play"] * jitter("minutes"),
        "rebuffering_s_per_min": rebuffering,
        "cir": 0.55,
        "bitrate_kbps": bitrate,
        "framerate": traits["framerate"] * (0.97 + 0.03 * _unit(seed, 4, segment.index)),
        "start_ms": start_ms,
        "restarts": 0.35,
        "restart_ms": 900.0 * jitter("restart"),
        "pause_s_per_min": 1.2 * jitter("pause"),
        "high_rebuffering": high_rebuffering,
        "high_startup": high_startup,
        "low_bitrate": low_bitrate,
        "bad": bad,
        "bad_minutes": 0.6 * bad,
        "non_zero_cirr": min(0.4, 0.08 * rebuffering / 0.27),
        "cir_exits": 0.18,
        "percent_complete": (78.0 if traits["live"] else 62.0) * jitter("complete") ** 0.5,
        "with_ads": 0.65 * ads,
        "pre_roll": 0.55 * ads,
        "exits_during_pre_roll": 0.035 * jitter("pre-roll exits"),
        "ad_attempts": 1.4 * ads * jitter("ads"),
        "ad_start_failures": 0.03 * jitter("ad failures"),
        "exits_before_ad": 0.06 * jitter("ad exits"),
        "ad_ended": 0.94,
        "ad_playback_failures": 0.015 * jitter("ad playback failures"),
        "ad_minutes": 0.42,
        "ad_rebuffering_s_per_min": rebuffering * 1.2,
        "ad_bitrate_kbps": min(bitrate, 3500.0),
        "ad_start_ms": 1100.0 * jitter("ad start"),
        "ad_restarts": 0.08,
        "ad_duration_s": 24.0 * jitter("ad duration"),
        "ad_completed": 0.88,
        "ad_percent_complete": 91.0 * jitter("ad complete") ** 0.25,
        "slates": 0.02,
        "slate_s": 18.0 * jitter("slate"),
    }
    affected = {i.name for i in INCIDENTS if segment.values[i.dimension] == i.value}
    outage = "isp_outage" in affected
    degraded = "cdn_degradation" in affected
    played = 0.9 * rates["minutes_per_play"]  # minutes played per attempt, roughly
    rates.update(
        inc_retries=0.9 if outage else 0.0,  # failing retries: attempts up 90 %, all failing
        inc_rebuffering=played * 3.0 if degraded else 0.0,  # 3 s more stalling per minute
        inc_bitrate=-played * bitrate * 0.35 if degraded else 0.0,  # bitrate down ~35 %
        inc_start_ms=0.9 * 2600.0 if degraded else 0.0,  # startup 2.6 s slower
        inc_high_rebuffering=0.25 if degraded else 0.0,
    )
    return rates


_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    """SplitMix64 finaliser: a fast, well-spread integer hash."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _unit(*parts: int) -> float:
    """A deterministic number in [0, 1) from integers."""
    value = 0
    for part in parts:
        value = _mix(value ^ (part & _MASK))
    return (value >> 11) / float(1 << 53)


# --------------------------------------------------------------------------------------------
# Metric recipes: every value field from the summed underlying counts of a bucket (or total)
# --------------------------------------------------------------------------------------------

# (field, kind, numerator, denominator, scale). Kinds: "count" a count; "pct" 100*num/den;
# "stall" 100*seconds/(60*minutes + seconds), a ratio in percent; "avg" num/den*scale;
# "unique" num*repeat-viewing factor*scale; "per_unique" num per unique device of `den`;
# "concurrent" minutes per minute of the bucket.
Field = tuple[str, str, str, str, float]
Recipe = tuple[Field, ...]


def _field(field: str, kind: str, num: str, den: str = "", scale: float = 1.0) -> Field:
    return (field, kind, num, den, scale)


def _r(*specs: tuple[Any, ...]) -> Recipe:
    return tuple(_field(*spec) for spec in specs)


def _count_pct(count: str, base: str) -> Recipe:
    return _r(("count", "count", count), ("percentage", "pct", count, base))


_IMPRESSIONS = _count_pct("AI", "AA")

RECIPES: Mapping[str, Recipe] = MappingProxyType(
    {
        "abandonment": _count_pct("ABN", "A"),
        "abandonment-with-pre-roll": _r(("percentage", "pct", "EBVSPR", "APR")),
        "abandonment-without-pre-roll": _r(("percentage", "pct", "EBVSNPR", "ANPR")),
        "ad-actual-duration": _r(("value", "avg", "ADUR", "AI")),
        "ad-attempts": _r(("count", "count", "AA")),
        "ad-bitrate": _r(("bps", "avg", "ABR", "AM", 1000.0)),
        "ad-completed-creative-plays": _r(("value", "pct", "ACOMP", "AI")),
        "ad-concurrent-plays": _r(("count", "concurrent", "AM")),
        "ad-connection-induced-rebuffering-ratio": _r(("ratio", "stall", "ACIRB", "AM")),
        "ad-ended-plays": _r(
            ("count", "count", "AE"), ("per_unique_device", "per_unique", "AE", "AI", 0.7)
        ),
        "ad-framerate": _r(("fps", "avg", "AFR", "AM")),
        "ad-impressions": _IMPRESSIONS,
        "ad-minutes-played": _r(
            ("count", "count", "AM"),
            ("per_unique_device", "per_unique", "AM", "AI", 0.7),
            ("per_ended_play", "avg", "AM", "AE"),
        ),
        "ad-percentage-complete": _r(("percentage", "avg", "APCS", "AI")),
        "ad-plays": _IMPRESSIONS,
        "ad-rebuffering-ratio": _r(("ratio", "stall", "ARB", "AM")),
        "ad-slate-duration": _r(("value", "avg", "SLD", "SLP")),
        "ad-slate-plays": _count_pct("SLP", "AI"),
        "ad-unique-devices": _r(("count", "unique", "AI", "", 0.7)),
        "ad-video-playback-failures": _count_pct("AVPF", "AI"),
        "ad-video-restart-time": _r(("value", "avg", "ARTS", "ARS", 0.001)),
        "ad-video-start-failures": _count_pct("AVSF", "AA"),
        "ad-video-start-time": _r(("value", "avg", "AST", "AI", 0.001)),
        "ads-not-started": _count_pct("ANS", "AA"),
        "attempts": _r(("count", "count", "A")),
        "attempts-with-pre-roll": _count_pct("APR", "A"),
        "attempts-without-pre-roll": _count_pct("ANPR", "A"),
        "bad-session": _count_pct("BAD", "P"),
        "bad-session-average-life-playing-time-mins": _r(("value", "avg", "MBAD", "BAD")),
        "bad-unique-devices": _r(
            ("count", "unique", "BAD", "", 1.0), ("percentage", "pct", "BAD", "P")
        ),
        "bad-unique-viewers": _r(
            ("count", "unique", "BAD", "", 0.8), ("percentage", "pct", "BAD", "P")
        ),
        "bitrate": _r(("bps", "avg", "BR", "M", 1000.0)),
        "cir-related-exits": _count_pct("CIRX", "E"),
        "concurrent-plays": _r(("count", "concurrent", "M")),
        "connection-induced-rebuffering-ratio": _r(("ratio", "stall", "CIRB", "M")),
        "ended-plays": _r(
            ("count", "count", "E"), ("per_unique_device", "per_unique", "E", "A", 1.0)
        ),
        "ended-plays-with-ads": _count_pct("EWA", "E"),
        "ended-plays-without-ads": _count_pct("EWOA", "E"),
        "exits-before-ad-start": _count_pct("EBAS", "AA"),
        "exits-before-video-start": _count_pct("EBVS", "A"),
        "exits-during-pre-roll": _count_pct("EDPR", "APR"),
        "framerate": _r(("fps", "avg", "FR", "M")),
        "good-session": _r(("count", "count", "GOOD")),
        "good-session-average-life-playing-time-mins": _r(("value", "avg", "MGOOD", "GOOD")),
        "good-unique-devices": _r(("count", "unique", "GOOD", "", 1.0)),
        "good-unique-viewers": _r(("count", "unique", "GOOD", "", 0.8)),
        "high-rebuffering": _count_pct("HR", "P"),
        "high-rebuffering-with-ads": _r(("percentage", "pct", "HRWA", "PWA")),
        "high-rebuffering-without-ads": _r(("percentage", "pct", "HRWOA", "PWOA")),
        "high-startup-time": _count_pct("HS", "P"),
        "high-startup-time-with-pre-roll": _r(("percentage", "pct", "HSPR", "PPR")),
        "high-startup-time-without-pre-roll": _r(("percentage", "pct", "HSNPR", "PNPR")),
        "interval-minutes-played": _r(("count", "count", "M")),
        "low-bitrate": _count_pct("LB", "P"),
        "low-bitrate-with-ads": _r(("percentage", "pct", "LBWA", "PWA")),
        "low-bitrate-without-ads": _r(("percentage", "pct", "LBWOA", "PWOA")),
        "minutes-played": _r(
            ("count", "count", "M"),
            ("per_unique_device", "per_unique", "M", "A", 1.0),
            ("per_ended_play", "avg", "M", "E"),
        ),
        "non-zero-cirr-ended-plays": _count_pct("NZC", "E"),
        "pause-ratio": _r(("ratio", "stall", "PZ", "M")),
        "paused-time": _r(("value", "avg", "PZ", "P")),
        "percentage-complete": _r(("percentage", "avg", "PCS", "E")),
        "plays": _count_pct("P", "A"),
        "rebuffering-ratio": _r(("ratio", "stall", "RB", "M")),
        "spi-streams": _r(("count", "count", "E")),
        "spi-unique-devices": _r(("count", "unique", "E", "", 1.0)),
        "spi-unique-viewers": _r(("count", "unique", "E", "", 0.8)),
        "streaming-performance-index": _r(("value", "pct", "GOOD", "P")),
        "unique-devices": _r(("count", "unique", "A", "", 1.0)),
        "video-playback-failures": _count_pct("VPF", "P"),
        "video-playback-failures-business": _count_pct("VPFB", "P"),
        "video-playback-failures-tech": _count_pct("VPFT", "P"),
        "video-playback-failures-tech-with-ads": _r(("percentage", "pct", "VPFTWA", "PWA")),
        "video-playback-failures-tech-without-ads": _r(("percentage", "pct", "VPFTWOA", "PWOA")),
        "video-restart-time": _r(("value", "avg", "RTS", "RS", 0.001)),
        "video-start-failures": _count_pct("VSF", "A"),
        "video-start-failures-business": _count_pct("VSFB", "A"),
        "video-start-failures-tech": _count_pct("VSFT", "A"),
        "video-start-failures-tech-with-pre-roll": _r(("percentage", "pct", "VSFTPR", "APR")),
        "video-start-failures-tech-without-pre-roll": _r(("percentage", "pct", "VSFTNPR", "ANPR")),
        "video-start-time": _r(("value", "avg", "ST", "P", 0.001)),
        "zero-cirr-ended-plays": _count_pct("ZC", "E"),
    }
)


def counters_for(metrics: Iterable[str]) -> tuple[str, ...]:
    """The underlying counts the recipes of `metrics` read, in computation order."""
    wanted = {name for metric in metrics for _, _, *names, _ in RECIPES[metric] for name in names}
    return tuple(name for name in _COUNTERS if name in wanted)


def repeat_factor(hours: float) -> float:
    """Unique devices per attempt over a window of `hours`: viewers come back, so the longer
    the window, the fewer distinct devices per attempt (1 at an instant, ~0.4 over a day)."""
    return 1.0 / (1.0 + 0.35 * math.log1p(hours))


Number = float | int


def evaluate(
    recipe: Recipe, sums: Mapping[str, Sequence[Number]], hours: Sequence[float]
) -> list[list[Number]]:
    """Each value field of the recipe, one value per bucket, from the buckets' summed counts."""
    columns: list[list[Number]] = []
    for _, kind, num, den, scale in recipe:
        n = sums[num]
        d = sums[den] if den else n
        if kind == "count":
            column: list[Number] = list(n)
        elif kind == "pct":
            column = [round(100.0 * a / b, 2) if b else 0.0 for a, b in zip(n, d, strict=True)]
        elif kind == "stall":
            column = [
                round(100.0 * a / (60.0 * b + a), 3) if a else 0.0
                for a, b in zip(n, d, strict=True)
            ]
        elif kind == "avg":
            column = [round(a / b * scale, 3) if b else 0.0 for a, b in zip(n, d, strict=True)]
        elif kind == "unique":
            column = [round(a * repeat_factor(h) * scale) for a, h in zip(n, hours, strict=True)]
        elif kind == "per_unique":
            devices = [round(b * repeat_factor(h) * scale) for b, h in zip(d, hours, strict=True)]
            column = [round(a / u, 3) if u else 0.0 for a, u in zip(n, devices, strict=True)]
        else:  # "concurrent": average plays in progress over the bucket
            column = [round(a / (60.0 * h)) if h else 0 for a, h in zip(n, hours, strict=True)]
        columns.append(column)
    return columns


# --------------------------------------------------------------------------------------------
# The model: per-segment tables of cumulative counts, summed per group at bucket boundaries
# --------------------------------------------------------------------------------------------

_NOISE_SIZE = 8192
_NOISE_AMPLITUDE = 0.4  # knots within +-0.2 of the lower neighbouring hour: counts never fall
HISTORICAL_LAG = timedelta(minutes=10)
REAL_TIME_LAG = timedelta(minutes=1)
_GROUP_CACHE_SIZE = 512  # summed tables of (counter, group): about 15 kB each
_FLOAT_COUNTERS = frozenset(name for name, op in _COUNTERS.items() if op[0].startswith("mulf"))

# One cumulative table per component, `period + 1` long, starting at 0.
Tables = tuple[Sequence[Number], ...]


def _depends_on_kpi(name: str) -> bool:
    op = _COUNTERS[name]
    if op[0] in ("add", "sub"):
        return _depends_on_kpi(op[1]) or _depends_on_kpi(op[2])
    if op[0].startswith("mul"):
        return op[2] in _KPI_RATES or _depends_on_kpi(op[1])
    return False


_KPI_DEPENDENT = frozenset(name for name in _COUNTERS if _depends_on_kpi(name))


class DataModel:
    """Deterministic synthetic counts for one seed.

    Each segment's attempts are the sum of three periodic parts (see ``_Component``); each part
    is a table of cumulative attempts over its period, drawn from the daily/weekly cycle in the
    segment's local time plus seeded hourly noise small enough that the table never decreases.
    Every other count is derived from the attempts table as nested floors of per-segment rates
    (plays within attempts, ended plays within plays, ...) plus the weekly incidents. The count
    up to hour h is ``cycles * table[period] + table[remainder]`` summed over the parts, and
    within an hour it advances in proportion to the segment's attempts in that hour. A bucket's
    count is the difference at its two ends, so it adds up exactly over segments (group-by and
    OR filters), over adjacent windows and over finer buckets; and tables summed per group make
    a 90-day hourly query cost little more than its number of rows.

    The newest data is incomplete: an instant within ``lag`` of now is read as if time ran
    slower there (its data still arriving), and nothing after now exists yet.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        noise = [_unit(seed, 1, i) - 0.5 for i in range(_NOISE_SIZE)]
        self._noise = noise + noise
        self._salt = [_mix(seed ^ _mix(2 + s.index)) % _NOISE_SIZE for s in POPULATION]
        base = [_segment_rates(seed, s) for s in POPULATION]
        self._rates = {
            kpi.id: [
                {k: v * kpi.multiplier if k in _KPI_RATES else v for k, v in rates.items()}
                for rates in base
            ]
            for kpi in KPIS.values()
        }
        self._tables: dict[tuple[str, int], list[Tables]] = {}
        self._group_cache: dict[tuple[str, int, tuple[int, ...]], Tables] = {}

    def cumulative(
        self,
        groups: Mapping[str, Sequence[Segment]],
        counters: Sequence[str],
        boundaries: Sequence[datetime],
        *,
        now: datetime,
        lag: timedelta,
        kpi_id: int,
    ) -> dict[str, dict[str, list[Number]]]:
        """For each group, each counter's summed cumulative value at every boundary."""
        now_s, lag_s = now.timestamp(), lag.total_seconds()
        hours: list[int] = []
        fractions: list[float] = []
        for boundary in boundaries:
            t = _observed(boundary.timestamp(), now_s, lag_s) / 3600.0
            hours.append(math.floor(t))
            fractions.append(t - hours[-1])
        tables = {name: self._table(name, kpi_id) for name in counters}
        positions = _positions(hours)
        result = {}
        for name, segments in groups.items():
            members = [s.index for s in segments]
            sums = {}
            for counter in counters:
                group_tables = self._group_tables(counter, kpi_id, members, tables[counter])
                sums[counter] = _at_positions(group_tables, positions)
            if any(fractions):
                self._add_within_hours(sums, members, hours, fractions, kpi_id)
            result[name] = sums
        return result

    def _add_within_hours(
        self,
        sums: dict[str, list[Number]],
        members: Sequence[int],
        hours: Sequence[int],
        fractions: Sequence[float],
        kpi_id: int,
    ) -> None:
        """Add to boundaries inside an hour each member's progress since the hour began: the
        hour's attempts advance evenly, every other count in step with the attempts."""
        attempts = self._table("A", kpi_id)
        tables = {counter: self._table(counter, kpi_id) for counter in sums}
        per_hour: dict[int, tuple[list[Number], dict[str, list[Number]]]] = {}
        for k, (hour, fraction) in enumerate(zip(hours, fractions, strict=True)):
            if not fraction:
                continue
            if hour not in per_hour:
                per_hour[hour] = (
                    [_in_hour(attempts[i], hour) for i in members],
                    {c: [_in_hour(tables[c][i], hour) for i in members] for c in sums},
                )
            hour_attempts, hour_counts = per_hour[hour]
            progress = list(map(int, map(fraction.__mul__, hour_attempts)))
            divisors = [max(int(a), 1) for a in hour_attempts]
            for counter, counts in hour_counts.items():
                shares = map(operator.mul, counts, progress)
                if counter in _FLOAT_COUNTERS:
                    sums[counter][k] += sum(map(operator.truediv, shares, divisors))
                else:
                    sums[counter][k] += sum(map(operator.floordiv, shares, divisors))

    def _group_tables(
        self, name: str, kpi_id: int, members: Sequence[int], tables: Sequence[Tables]
    ) -> Tables:
        """The members' tables summed (kept for the next query over the same group)."""
        key = (name, kpi_id if name in _KPI_DEPENDENT else 0, tuple(members))
        summed = self._group_cache.get(key)
        if summed is None:
            if len(self._group_cache) >= _GROUP_CACHE_SIZE:
                self._group_cache.clear()
            summed = _sum_tables([tables[i] for i in members], name)
            self._group_cache[key] = summed
        return summed

    def _table(self, name: str, kpi_id: int) -> list[Tables]:
        """Every segment's tables for counter `name` (built on first use, then kept as compact
        arrays: about 0.7 MB per counter, 55 MB if every metric is ever asked for)."""
        key = (name, kpi_id if name in _KPI_DEPENDENT else 0)
        cached = self._tables.get(key)
        if cached is None:
            typecode = "d" if name in _FLOAT_COUNTERS else "q"
            cached = [
                tuple(array(typecode, column) for column in self._build(name, segment, kpi_id))
                for segment in POPULATION
            ]
            self._tables[key] = cached
        return cached

    def _build(self, name: str, segment: Segment, kpi_id: int) -> Tables:
        op = _COUNTERS[name]
        kind = op[0]
        rates = self._rates[kpi_id][segment.index]
        base = segment.weight * TOTAL_ATTEMPTS_PER_HOUR
        if kind == "base":
            return tuple(
                self._attempts(segment, base * part.share, number, part)
                for number, part in enumerate(_COMPONENTS)
            )
        if kind == "incident":
            rate = base * rates[op[1]]
            return tuple(
                [int(rate * x) for x in _incident_weight(op[2], segment.tz_hours, part)]
                for part in _COMPONENTS
            )
        if kind in ("add", "sub"):
            left = self._table(op[1], kpi_id)[segment.index]
            right = self._table(op[2], kpi_id)[segment.index]
            combine = operator.add if kind == "add" else operator.sub
            return tuple(list(map(combine, a, b)) for a, b in zip(left, right, strict=True))
        parent = self._table(op[1], kpi_id)[segment.index]
        rate = rates[op[2]]
        extra = base * rates[op[3]] if kind.endswith("_inc") else 0.0
        built = []
        for part, values in zip(_COMPONENTS, parent, strict=True):
            incident = _incident_weight(op[4], segment.tz_hours, part) if extra else None
            if incident is None:
                column: list[Number] = [rate * x for x in values]
            else:
                column = [rate * x + extra * y for x, y in zip(values, incident, strict=True)]
            built.append(column if kind.startswith("mulf") else list(map(int, column)))
        return tuple(built)

    def _attempts(self, segment: Segment, scale: float, number: int, part: _Component) -> list[int]:
        cumulative, knots = _shape(part, segment.tz_hours)
        start = (self._salt[segment.index] + 2731 * number) % _NOISE_SIZE
        noise = self._noise[start : start + part.period + 1]
        return [int(scale * (w + k * u)) for w, k, u in zip(cumulative, knots, noise, strict=True)]


def _at(tables: Tables, hour: int) -> Number:
    """A cumulative count at the start of `hour` (hours since the epoch)."""
    total: Number = 0
    for part, table in zip(_COMPONENTS, tables, strict=True):
        cycles, into = divmod(hour + part.offset, part.period)
        total += cycles * table[-1] + table[into]
    return total


# Where an hour falls in each part: (full cycles, remainder) per part, for many hours at once.
Positions = tuple[list[int], list[int], list[int], list[int], list[int], list[int]]


def _positions(hours: Sequence[int]) -> Positions:
    columns: list[list[int]] = []
    for part in _COMPONENTS:
        cycles, into = zip(*(divmod(h + part.offset, part.period) for h in hours), strict=True)
        columns += [list(cycles), list(into)]
    c0, i0, c1, i1, c2, i2 = columns
    return c0, i0, c1, i1, c2, i2


def _at_positions(tables: Tables, positions: Positions) -> list[Number]:
    """`_at` for many hours: the hot loop of long hourly queries, so written out flat."""
    t0, t1, t2 = tables
    q0, q1, q2 = t0[-1], t1[-1], t2[-1]
    return [
        a * q0 + t0[i] + b * q1 + t1[j] + c * q2 + t2[k]
        for a, i, b, j, c, k in zip(*positions, strict=True)
    ]


def _in_hour(tables: Tables, hour: int) -> Number:
    """The count during `hour`."""
    return _at(tables, hour + 1) - _at(tables, hour)


def _sum_tables(members: Sequence[Tables], counter: str) -> Tables:
    zero: Number = 0.0 if counter in _FLOAT_COUNTERS else 0
    sums = [[zero] * (part.period + 1) for part in _COMPONENTS]
    for tables in members:
        sums = [list(map(operator.add, s, t)) for s, t in zip(sums, tables, strict=True)]
    return tuple(sums)


@functools.lru_cache(maxsize=64)
def _shape(part: _Component, tz_hours: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Cumulative traffic weight over the part's period, and each hour knot's noise scale
    (zero at both ends, so that the table starts at 0 and its cycles join up)."""
    weights = [part.weight(r, tz_hours) for r in range(part.period)]
    cumulative = [0.0]
    for w in weights:
        cumulative.append(cumulative[-1] + w)
    knots = [0.0] + [
        _NOISE_AMPLITUDE * min(weights[r - 1], weights[r]) for r in range(1, part.period)
    ]
    return tuple(cumulative), (*knots, 0.0)


@functools.lru_cache(maxsize=64)
def _incident_weight(name: str, tz_hours: int, part: _Component) -> tuple[float, ...]:
    """Cumulative traffic weight of the incident's hours over the part's period (weekly part
    only: incidents follow the week)."""
    incident = next(i for i in INCIDENTS if i.name == name)
    cumulative = [0.0]
    for r in range(part.period):
        hit = part.weekly and incident.covers((r + tz_hours) % _WEEK)
        cumulative.append(cumulative[-1] + (part.weight(r, tz_hours) if hit else 0.0))
    return tuple(cumulative)


def _observed(t: float, now: float, lag: float) -> float:
    """The instant whose data is complete at `t`: itself when older than `lag`; within the lag
    time slows down (data still arriving, down to half the rate at now); frozen after now."""
    settled = now - lag
    if t <= settled:
        return t
    d = min(t, now) - settled
    return settled + d - d * d / (4.0 * lag)


@functools.lru_cache(maxsize=4)
def model_for(seed: int) -> DataModel:
    """The shared model of a seed (its tables are built once, whoever asks)."""
    return DataModel(seed)
