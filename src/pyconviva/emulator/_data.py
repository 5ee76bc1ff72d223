"""The emulator's deterministic, believable and consistent synthetic data.

Who watches (audiences of segments over traffic profiles) lives in ``_audience``; here, in order:

* The time profile: daily and weekly cycles in each profile's local time, and two weekly
  incidents (an ISP outage that fails start attempts, a CDN degradation that stalls playback).
* Counts and recipes: every profile has cumulative underlying counts (attempts, plays, minutes,
  stalling seconds, bitrate sums, ...) and every metric value is a recipe over their sums, so
  ratios and percentages come from the same counts as the counts themselves. ``DataModel``
  says how the counts are built so that they add up exactly however a question is sliced.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from pyconviva.emulator._population import KPIS, hash_text

__all__ = [
    "HISTORICAL_LAG",
    "INCIDENTS",
    "REAL_TIME_LAG",
    "RECIPES",
    "TOTAL_ATTEMPTS_PER_HOUR",
    "DataModel",
    "Incident",
    "Mix",
    "Number",
    "Profile",
    "counters_for",
    "evaluate",
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
    """A weekly incident hitting every segment with ``dimension == value`` (its profiles name
    it): ``hours`` long, starting ``start`` hours after Monday 00:00 local time."""

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
    """One periodic part of the traffic: ``share`` of a profile's attempts follow ``weekly``
    (else daily) cycles and seeded hourly noise that repeats every ``period`` hours. Periods of
    168, 120 and 72 hours add up to noise that repeats only every 105 days, longer than any
    request, while each part stays a small table per profile."""

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
# Underlying counts. Each is a cumulative, non-decreasing integer per profile, evaluated at any
# instant; a bucket's count is the difference at its two ends, so buckets of any size, split
# windows and groups of segments (whole numbers of copies of profiles) all add up exactly.
# --------------------------------------------------------------------------------------------

# name -> (operation, operands...). Operations: "base" attempts from the time profile;
# "incident" extra attempts during an incident; "add"/"sub" of two counts; "mul" floor of a
# per-profile rate times a count (a subset when the rate is below 1; sums such as bitrate times
# minutes when above); "mul_inc" plus a rate times the profile's incident traffic. Every count
# is a whole number, so that sums over profiles are exact. Listed parents first.
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
    "BR": ("mul_inc", "M", "bitrate_kbps", "inc_bitrate", "cdn_degradation"),
    "FR": ("mul", "M", "framerate"),
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
    "PCS": ("mul", "E", "percent_complete"),
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
    "ABR": ("mul", "AM", "ad_bitrate_kbps"),
    "AFR": ("mul", "AM", "framerate"),
    "AST": ("mul", "AI", "ad_start_ms"),
    "ARS": ("mul", "AI", "ad_restarts"),
    "ARTS": ("mul", "ARS", "restart_ms"),
    "ADUR": ("mul", "AI", "ad_duration_s"),
    "ACOMP": ("mul", "AI", "ad_completed"),
    "APCS": ("mul", "AI", "ad_percent_complete"),
    "SLP": ("mul", "AI", "slates"),
    "SLD": ("mul", "SLP", "slate_s"),
}

# Rates that a KPI threshold set scales (stricter thresholds flag more plays).
_KPI_RATES = ("high_rebuffering", "high_startup", "low_bitrate", "bad", "bad_minutes")


@dataclass(frozen=True)
class Profile:
    """A traffic profile: the unit whose counts are built. An audience's segments are each a
    whole number of copies of one profile, so that any group's counts are exact sums."""

    index: int
    attempts_per_hour: float  # the mean, over a week, of its attempts an hour
    tz_hours: int  # local time offset of its daily and weekly cycles and incidents
    mobile: bool  # phones and tablets: slower starts, more failures, lower bitrate
    emerging: bool  # markets with slower networks
    cdn: str
    incidents: frozenset[str]  # names of the INCIDENTS that hit it
    traits: Mapping[str, float]  # typical minutes per play, bitrate, start time, ...


def _profile_rates(seed: int, profile: Profile) -> dict[str, float]:
    """A profile's rates: its traits, shaded by a seeded +-20 % jitter per rate."""

    def jitter(name: str) -> float:
        return 0.8 + 0.4 * _unit(seed, 3, profile.index, hash_text(name))

    traits = profile.traits
    mobile = profile.mobile
    emerging = profile.emerging
    rebuffering = traits["rebuffering_s_per_min"] * jitter("rebuffering")
    start_ms = 1700.0 * (1.35 if mobile else 1.0) * (1.3 if emerging else 1.0) * jitter("start")
    bitrate = traits["bitrate_kbps"] * (0.75 if emerging else 1.0) * jitter("bitrate")
    high_rebuffering = min(0.3, 0.035 * rebuffering / 0.27)
    high_startup = min(0.3, 0.05 * start_ms / 1700.0)
    low_bitrate = min(0.3, 0.06 * 4000.0 / bitrate)
    vpf = 0.006 * (1.4 if profile.cdn == "Edgio" else 1.0) * jitter("vpf")
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
        "framerate": traits["framerate"] * (0.97 + 0.03 * _unit(seed, 4, profile.index)),
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
    outage = "isp_outage" in profile.incidents
    degraded = "cdn_degradation" in profile.incidents
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
# The model: per-profile tables of cumulative counts, combined per group at bucket boundaries
# --------------------------------------------------------------------------------------------

_NOISE_SIZE = 8192
_NOISE_AMPLITUDE = 0.4  # knots within +-0.2 of the lower neighbouring hour: counts never fall
HISTORICAL_LAG = timedelta(minutes=10)
REAL_TIME_LAG = timedelta(minutes=1)
_TABLE_LENGTH = sum(part.period + 1 for part in _COMPONENTS)
_PACKED_KEPT = 24  # counters whose packed tables are kept: a metric group's worth

# One cumulative table per component, `period + 1` long, starting at 0.
Tables = tuple[Sequence[int], ...]

# A group of segments: the profiles it holds (each once, ascending) and how many copies of each.
Mix = tuple[tuple[int, ...], tuple[int, ...]]


def _depends_on_kpi(name: str) -> bool:
    op = _COUNTERS[name]
    if op[0] in ("add", "sub"):
        return _depends_on_kpi(op[1]) or _depends_on_kpi(op[2])
    if op[0].startswith("mul"):
        return op[2] in _KPI_RATES or _depends_on_kpi(op[1])
    return False


_KPI_DEPENDENT = frozenset(name for name in _COUNTERS if _depends_on_kpi(name))


class DataModel:
    """Deterministic synthetic counts for one seed over an audience's profiles.

    Each profile's attempts are the sum of three periodic parts (see ``_Component``); each part
    is a table of cumulative attempts over its period, drawn from the daily/weekly cycle in the
    profile's local time plus seeded hourly noise small enough that the table never decreases.
    Every other count is derived from the attempts table as nested floors of per-profile rates
    (plays within attempts, ended plays within plays, ...) plus the weekly incidents. The count
    up to hour h is ``cycles * table[period] + table[remainder]`` summed over the parts, and
    within an hour it advances in proportion to the profile's attempts in that hour.

    A group of segments is a mix of profiles (each with its number of copies), and its count is
    the same whole-number combination of the profiles' counts. A bucket's count is the
    difference at its two ends, so it adds up exactly over segments (group-by and OR filters),
    over adjacent windows and over finer buckets. The combinations are computed on whole
    vectors at once: a vector of non-negative integers packed into one Python integer (64 bits
    a field) is scaled and added in a single arithmetic operation, with no carry between fields.

    The newest data is incomplete: an instant within ``lag`` of now is read as if time ran
    slower there (its data still arriving), and nothing after now exists yet.
    """

    def __init__(self, profiles: Sequence[Profile], seed: int) -> None:
        self.seed = seed
        self._profiles = tuple(profiles)
        noise = [_unit(seed, 1, i) - 0.5 for i in range(_NOISE_SIZE)]
        self._noise = noise + noise
        self._salt = [_mix(seed ^ _mix(2 + p.index)) % _NOISE_SIZE for p in self._profiles]
        self._phase = [_unit(seed, 5, p.index) for p in self._profiles]
        base = [_profile_rates(seed, p) for p in self._profiles]
        self._rates = {
            kpi.id: [
                {k: v * kpi.multiplier if k in _KPI_RATES else v for k, v in rates.items()}
                for rates in base
            ]
            for kpi in KPIS.values()
        }
        self._tables: dict[tuple[str, int], list[Tables]] = {}
        self._packed_tables: dict[tuple[str, int], list[int]] = {}  # oldest first
        self._packed_lock = threading.Lock()  # server threads share a model

    def cumulative(
        self,
        groups: Mapping[str, Mix],
        counters: Sequence[str],
        boundaries: Sequence[datetime],
        *,
        now: datetime,
        lag: timedelta,
        kpi_id: int,
    ) -> Mapping[str, dict[str, list[int]]]:
        """For each group, each counter's cumulative value at every boundary, up to a constant
        (a group's bucket counts are the differences between its consecutive values). Groups
        are computed when first looked up, so that a reply cut short at the size cap costs
        only the groups it wrote."""
        now_s, lag_s = now.timestamp(), lag.total_seconds()
        hours: list[int] = []
        fractions: list[float] = []
        for boundary in boundaries:
            t = _observed(boundary.timestamp(), now_s, lag_s) / 3600.0
            hours.append(math.floor(t))
            fractions.append(t - hours[-1])
        used = sorted({index for profiles, _ in groups.values() for index in profiles})
        width = len(boundaries)
        positions = _positions(hours)
        # Boundaries inside an hour (minutely buckets, the newest data still arriving) add each
        # profile's progress into that hour to the counts at the hour's start.
        progress = _Progress(self, counters, kpi_id, used, hours, fractions)
        # Two ways to the same whole numbers; the cheaper one is the smaller count of vectors
        # evaluated at every boundary: one per profile used, or one per group.
        if len(used) <= len(groups) or width <= 2:
            points = {c: self._points(c, kpi_id, used, positions, progress) for c in counters}

            def at_points(mix: Mix) -> dict[str, list[int]]:
                return {c: _unpack(_combine(mix, points[c]), width) for c in counters}

            return _Lazy(groups, at_points)
        tables = {c: self._packed(c, kpi_id) for c in counters}

        def from_tables(mix: Mix) -> dict[str, list[int]]:
            counts = {c: _at_positions(_summed(mix, tables[c]), positions) for c in counters}
            return progress.added(mix, counts)

        return _Lazy(groups, from_tables)

    def _points(
        self,
        counter: str,
        kpi_id: int,
        used: Sequence[int],
        positions: Positions,
        progress: _Progress,
    ) -> dict[int, int]:
        """Per profile used, its counts at the boundaries, less the first (so non-negative),
        packed."""
        every = self._table(counter, kpi_id)
        packed = {}
        for index in used:
            values = _at_positions(every[index], positions)
            if progress.moments:
                shares = progress.profile_shares(counter, index)
                for (k, _, _), share in zip(progress.moments, shares, strict=True):
                    values[k] += share
            first = values[0]
            packed[index] = _pack([v - first for v in values])
        return packed

    def in_hours(
        self, counter: str, kpi_id: int, used: Sequence[int], hours: Sequence[int]
    ) -> dict[int, list[int]]:
        """Per hour, each used profile's count during it (aligned with `used`)."""
        starts = _positions([h for hour in hours for h in (hour, hour + 1)])
        every = self._table(counter, kpi_id)
        per_profile = [_at_positions(every[index], starts) for index in used]
        return {
            hour: [values[2 * n + 1] - values[2 * n] for values in per_profile]
            for n, hour in enumerate(hours)
        }

    def phases(self, used: Sequence[int]) -> list[float]:
        return [self._phase[index] for index in used]

    def _packed(self, name: str, kpi_id: int) -> list[int]:
        """Every profile's tables for counter `name`, packed; the most recently used counters'
        are kept (long queries over many groups combine them)."""
        key = (name, kpi_id if name in _KPI_DEPENDENT else 0)
        with self._packed_lock:
            cached = self._packed_tables.pop(key, None)
            if cached is not None:
                self._packed_tables[key] = cached  # now the most recent
                return cached
        every = self._table(name, kpi_id)
        packed = [_pack([v for part in tables for v in part]) for tables in every]
        with self._packed_lock:
            if len(self._packed_tables) >= _PACKED_KEPT:
                del self._packed_tables[next(iter(self._packed_tables))]
            self._packed_tables[key] = packed
        return packed

    def _table(self, name: str, kpi_id: int) -> list[Tables]:
        """Every profile's tables for counter `name` (built on first use, then kept as compact
        arrays: about 3 kB per profile and counter)."""
        key = (name, kpi_id if name in _KPI_DEPENDENT else 0)
        cached = self._tables.get(key)
        if cached is None:
            cached = [
                tuple(array("q", column) for column in self._build(name, profile, kpi_id))
                for profile in self._profiles
            ]
            self._tables[key] = cached
        return cached

    def _build(self, name: str, profile: Profile, kpi_id: int) -> Tables:
        op = _COUNTERS[name]
        kind = op[0]
        rates = self._rates[kpi_id][profile.index]
        base = profile.attempts_per_hour
        if kind == "base":
            return tuple(
                self._attempts(profile, base * part.share, number, part)
                for number, part in enumerate(_COMPONENTS)
            )
        if kind == "incident":
            rate = base * rates[op[1]]
            return tuple(
                [int(rate * x) for x in _incident_weight(op[2], profile.tz_hours, part)]
                for part in _COMPONENTS
            )
        if kind in ("add", "sub"):
            left = self._table(op[1], kpi_id)[profile.index]
            right = self._table(op[2], kpi_id)[profile.index]
            combine = operator.add if kind == "add" else operator.sub
            return tuple(list(map(combine, a, b)) for a, b in zip(left, right, strict=True))
        parent = self._table(op[1], kpi_id)[profile.index]
        rate = rates[op[2]]
        extra = base * rates[op[3]] if kind == "mul_inc" else 0.0
        built = []
        for part, values in zip(_COMPONENTS, parent, strict=True):
            if not extra:
                built.append(list(map(int, map(rate.__mul__, values))))
                continue
            incident = _incident_weight(op[4], profile.tz_hours, part)
            column = [int(rate * x + extra * y) for x, y in zip(values, incident, strict=True)]
            # An incident that lowers a sum (bitrate) must not make it fall where a small
            # profile had no minutes that hour: counts never decrease.
            built.append(list(itertools.accumulate(column, max)))
        return tuple(built)

    def _attempts(self, profile: Profile, scale: float, number: int, part: _Component) -> list[int]:
        cumulative, knots = _shape(part, profile.tz_hours)
        start = (self._salt[profile.index] + 2731 * number) % _NOISE_SIZE
        noise = self._noise[start : start + part.period + 1]
        return [int(scale * (w + k * u)) for w, k, u in zip(cumulative, knots, noise, strict=True)]


class _Progress:
    """The profiles' progress into the hours of the boundaries that fall inside one: the
    hour's attempts advance evenly (each a whole step, shifted by the profile's phase so that
    quiet profiles do not all step at the same moments), every other count in step with them.
    Whole numbers per profile, so that a group's progress is the exact sum over its profiles:
    added to each profile's vector (:meth:`profile_shares`) or summed per group over its own
    profiles (:meth:`added`, for long minutely ranges of a few groups)."""

    def __init__(
        self,
        model: DataModel,
        counters: Sequence[str],
        kpi_id: int,
        used: Sequence[int],
        hours: Sequence[int],
        fractions: Sequence[float],
    ) -> None:
        self.moments = [
            (k, h, f) for k, (h, f) in enumerate(zip(hours, fractions, strict=True)) if f
        ]
        if not self.moments:
            return
        distinct = sorted({h for _, h, _ in self.moments})
        self._where = {index: n for n, index in enumerate(used)}
        self._phase = model.phases(used)
        self._attempts = model.in_hours("A", kpi_id, used, distinct)
        self._counts = {c: model.in_hours(c, kpi_id, used, distinct) for c in counters}

    def profile_shares(self, counter: str, index: int) -> list[int]:
        """One profile's progress at each moment, in order."""
        n = self._where[index]
        phase, counts = self._phase[n], self._counts[counter]
        shares = []
        for _, hour, fraction in self.moments:
            attempts = self._attempts[hour][n]
            step = int(fraction * attempts + phase)
            shares.append(counts[hour][n] * step // max(attempts, 1))
        return shares

    def added(self, mix: Mix, counts: dict[str, list[int]]) -> dict[str, list[int]]:
        """`counts` of the mix with its progress added at the boundaries inside an hour."""
        if not self.moments:
            return counts
        profiles, copies = mix
        spots = [self._where[index] for index in profiles]
        phase = [self._phase[i] for i in spots]
        selected: dict[int, tuple[list[int], list[int], dict[str, list[int]]]] = {}
        for k, hour, fraction in self.moments:
            if hour not in selected:
                attempts = [self._attempts[hour][i] for i in spots]
                divisors = [max(a, 1) for a in attempts]
                in_hour = {c: [per[hour][i] for i in spots] for c, per in self._counts.items()}
                selected[hour] = attempts, divisors, in_hour
            attempts, divisors, in_hour = selected[hour]
            steps = list(map(int, map(operator.add, map(fraction.__mul__, attempts), phase)))
            for counter, values in counts.items():
                shares = map(
                    operator.floordiv, map(operator.mul, in_hour[counter], steps), divisors
                )
                values[k] += sum(map(operator.mul, copies, shares))
        return counts


class _Lazy(Mapping[str, dict[str, list[int]]]):
    """Groups' counts, each computed on first lookup."""

    def __init__(
        self, groups: Mapping[str, Mix], compute: Callable[[Mix], dict[str, list[int]]]
    ) -> None:
        self._groups = groups
        self._compute = compute
        self._done: dict[str, dict[str, list[int]]] = {}

    def __getitem__(self, name: str) -> dict[str, list[int]]:
        done = self._done.get(name)
        if done is None:
            done = self._done[name] = self._compute(self._groups[name])
        return done

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)


def _summed(mix: Mix, tables: Sequence[int]) -> Tables:
    """A mix's tables: its profiles' packed tables combined, unpacked and split."""
    return _split(_unpack(_combine(mix, tables), _TABLE_LENGTH))


def _pack(values: Sequence[int]) -> int:
    """Non-negative integers below 2**63 as one integer, 64 bits a field, the first lowest."""
    return int.from_bytes(array("q", values).tobytes(), "little")


def _unpack(packed: int, width: int) -> list[int]:
    fields = array("q")
    fields.frombytes(packed.to_bytes(8 * width, "little"))
    return fields.tolist()


def _combine(mix: Mix, packed: Mapping[int, int] | Sequence[int]) -> int:
    """The packed vectors of a mix's profiles, each times its number of copies, summed."""
    profiles, copies = mix
    return sum(map(operator.mul, copies, map(packed.__getitem__, profiles)))


def _split(flat: Sequence[int]) -> Tables:
    """A profile's or group's tables out of their concatenation."""
    parts = []
    start = 0
    for part in _COMPONENTS:
        parts.append(flat[start : start + part.period + 1])
        start += part.period + 1
    return tuple(parts)


# Where an hour falls in each part: (full cycles, remainder) per part, for many hours at once.
Positions = tuple[list[int], list[int], list[int], list[int], list[int], list[int]]


def _positions(hours: Sequence[int]) -> Positions:
    columns: list[list[int]] = []
    for part in _COMPONENTS:
        cycles, into = zip(*(divmod(h + part.offset, part.period) for h in hours), strict=True)
        columns += [list(cycles), list(into)]
    c0, i0, c1, i1, c2, i2 = columns
    return c0, i0, c1, i1, c2, i2


def _at_positions(tables: Tables, positions: Positions) -> list[int]:
    """`_at` for many hours: the hot loop of long hourly queries, so written out flat."""
    t0, t1, t2 = tables
    q0, q1, q2 = t0[-1], t1[-1], t2[-1]
    return [
        a * q0 + t0[i] + b * q1 + t1[j] + c * q2 + t2[k]
        for a, i, b, j, c, k in zip(*positions, strict=True)
    ]


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
