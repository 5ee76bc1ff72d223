"""The large audience: the world of a large streaming service, and the segments watching in it.

Vocabulary first (all drawn from one fixed seed, so it never changes): 50 countries, about 2,600
cities in their states and time zones, about 300 ISPs with over 1,000 autonomous systems,
330 device models in 15 families, over 1,300 video assets (live events, live programmes,
episodes and films), CDN edge servers per continent, 40 app versions and 6 subscription tiers.
Popularity is long-tailed within each (a Zipf-Mandelbrot law: a flat head, a steep tail).

Then *behaviours*: a time zone (and market) with a device family, a CDN, a kind of content and
an ad tier; they set the rates, so a Roku on Akamai in New York's time zone watching a live
event behaves alike wherever it is. Each behaviour at each of three volume tiers (sparse,
middling, busy) is one traffic :class:`Profile` of the data model.

Then segments: one for every city, network, device model, asset and app version (so that each
one has traffic), then about 20,000 more drawn by popularity. A segment's volume multiplies,
for each of city, network, device model and asset, that value's popularity over its number of
segments, so that each dimension's totals follow its own popularity; a volume becomes a number
of copies of the profile of its behaviour at the nearest tier below. The tail thus lands on the
sparse profiles, whose hours are often empty.
"""

from __future__ import annotations

import itertools
import math
import random
from array import array
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from statistics import NormalDist
from typing import Any

from pyconviva.emulator._audience import Audience, Column, column_of
from pyconviva.emulator._data import Profile
from pyconviva.emulator._population import (
    CDNS,
    DEVICE_FAMILIES,
    INDEPENDENT_VALUES,
    ISPS,
    hash_text,
)

__all__ = ["ATTEMPTS_PER_HOUR", "large_audience"]

_SEED = 20250602
ATTEMPTS_PER_HOUR = 600_000.0  # mean over a week
_TIER_SCALES = (0.25, 1.0, 4.0, 16.0, 64.0)  # attempts an hour of a profile at each volume tier
_FILL = 16_000  # segments drawn by popularity, beyond one for each value

# --------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------

# code, name, continent, emerging market, audience weight, ((UTC offset, share), ...)
_COUNTRIES: tuple[tuple[str, str, str, bool, float, tuple[tuple[int, float], ...]], ...] = (
    ("us", "United States", "North America", False, 30.0,
     ((-5, 0.47), (-6, 0.29), (-7, 0.07), (-8, 0.17))),
    ("ca", "Canada", "North America", False, 4.0, ((-5, 0.6), (-7, 0.15), (-8, 0.25))),
    ("mx", "Mexico", "North America", True, 3.0, ((-6, 1.0),)),
    ("br", "Brazil", "South America", True, 4.0, ((-3, 1.0),)),
    ("ar", "Argentina", "South America", True, 1.2, ((-3, 1.0),)),
    ("co", "Colombia", "South America", True, 1.0, ((-5, 1.0),)),
    ("cl", "Chile", "South America", False, 0.7, ((-4, 1.0),)),
    ("pe", "Peru", "South America", True, 0.6, ((-5, 1.0),)),
    ("gb", "United Kingdom", "Europe", False, 7.0, ((0, 1.0),)),
    ("ie", "Ireland", "Europe", False, 0.6, ((0, 1.0),)),
    ("pt", "Portugal", "Europe", False, 0.5, ((0, 1.0),)),
    ("de", "Germany", "Europe", False, 5.0, ((1, 1.0),)),
    ("fr", "France", "Europe", False, 4.0, ((1, 1.0),)),
    ("es", "Spain", "Europe", False, 3.0, ((1, 1.0),)),
    ("it", "Italy", "Europe", False, 2.5, ((1, 1.0),)),
    ("nl", "Netherlands", "Europe", False, 1.5, ((1, 1.0),)),
    ("be", "Belgium", "Europe", False, 0.8, ((1, 1.0),)),
    ("ch", "Switzerland", "Europe", False, 0.6, ((1, 1.0),)),
    ("at", "Austria", "Europe", False, 0.5, ((1, 1.0),)),
    ("se", "Sweden", "Europe", False, 0.8, ((1, 1.0),)),
    ("no", "Norway", "Europe", False, 0.5, ((1, 1.0),)),
    ("dk", "Denmark", "Europe", False, 0.5, ((1, 1.0),)),
    ("pl", "Poland", "Europe", False, 1.2, ((1, 1.0),)),
    ("cz", "Czechia", "Europe", False, 0.4, ((1, 1.0),)),
    ("fi", "Finland", "Europe", False, 0.4, ((2, 1.0),)),
    ("gr", "Greece", "Europe", False, 0.4, ((2, 1.0),)),
    ("ro", "Romania", "Europe", False, 0.4, ((2, 1.0),)),
    ("tr", "Turkey", "Europe", True, 1.0, ((3, 1.0),)),
    ("il", "Israel", "Asia", False, 0.4, ((2, 1.0),)),
    ("sa", "Saudi Arabia", "Asia", False, 0.8, ((3, 1.0),)),
    ("ae", "United Arab Emirates", "Asia", False, 0.5, ((4, 1.0),)),
    ("eg", "Egypt", "Africa", True, 0.5, ((2, 1.0),)),
    ("za", "South Africa", "Africa", True, 0.6, ((2, 1.0),)),
    ("ng", "Nigeria", "Africa", True, 0.5, ((1, 1.0),)),
    ("ke", "Kenya", "Africa", True, 0.3, ((3, 1.0),)),
    ("in", "India", "Asia", True, 4.0, ((5, 1.0),)),
    ("pk", "Pakistan", "Asia", True, 0.6, ((5, 1.0),)),
    ("bd", "Bangladesh", "Asia", True, 0.4, ((6, 1.0),)),
    ("th", "Thailand", "Asia", True, 0.7, ((7, 1.0),)),
    ("vn", "Vietnam", "Asia", True, 0.6, ((7, 1.0),)),
    ("id", "Indonesia", "Asia", True, 1.2, ((7, 1.0),)),
    ("my", "Malaysia", "Asia", False, 0.5, ((8, 1.0),)),
    ("sg", "Singapore", "Asia", False, 0.5, ((8, 1.0),)),
    ("ph", "Philippines", "Asia", True, 0.9, ((8, 1.0),)),
    ("hk", "Hong Kong", "Asia", False, 0.4, ((8, 1.0),)),
    ("tw", "Taiwan", "Asia", False, 0.5, ((8, 1.0),)),
    ("kr", "South Korea", "Asia", False, 1.0, ((9, 1.0),)),
    ("jp", "Japan", "Asia", False, 2.5, ((9, 1.0),)),
    ("au", "Australia", "Oceania", False, 3.0, ((10, 0.85), (8, 0.15))),
    ("nz", "New Zealand", "Oceania", False, 0.6, ((12, 1.0),)),
)  # fmt: skip

# The biggest cities first, (city, state, UTC offset, DMA); the rest of each country is drawn.
_HEAD_CITIES: Mapping[str, tuple[tuple[str, str, int, str], ...]] = {
    "us": (
        ("New York", "New York", -5, "New York"),
        ("Los Angeles", "California", -8, "Los Angeles"),
        ("Chicago", "Illinois", -6, "Chicago"),
        ("Houston", "Texas", -6, "Houston"),
        ("Philadelphia", "Pennsylvania", -5, "Philadelphia"),
        ("Dallas", "Texas", -6, "Dallas-Ft. Worth"),
        ("Atlanta", "Georgia", -5, "Atlanta"),
        ("Phoenix", "Arizona", -7, "Phoenix"),
        ("Seattle", "Washington", -8, "Seattle-Tacoma"),
        ("Miami", "Florida", -5, "Miami-Ft. Lauderdale"),
        ("Boston", "Massachusetts", -5, "Boston"),
        ("San Francisco", "California", -8, "San Francisco-Oakland-San Jose"),
        ("Denver", "Colorado", -7, "Denver"),
    ),
    "ca": (("Toronto", "Ontario", -5, "N/A"), ("Vancouver", "British Columbia", -8, "N/A"),
           ("Montreal", "Quebec", -5, "N/A"), ("Calgary", "Alberta", -7, "N/A")),
    "gb": (("London", "England", 0, "N/A"), ("Manchester", "England", 0, "N/A"),
           ("Birmingham", "England", 0, "N/A"), ("Glasgow", "Scotland", 0, "N/A")),
    "de": (("Berlin", "Berlin", 1, "N/A"), ("Munich", "Bavaria", 1, "N/A"),
           ("Hamburg", "Hamburg", 1, "N/A")),
    "fr": (("Paris", "Ile-de-France", 1, "N/A"), ("Lyon", "Auvergne-Rhone-Alpes", 1, "N/A")),
    "br": (("Sao Paulo", "Sao Paulo", -3, "N/A"), ("Rio de Janeiro", "Rio de Janeiro", -3, "N/A")),
    "in": (("Mumbai", "Maharashtra", 5, "N/A"), ("Delhi", "Delhi", 5, "N/A"),
           ("Bangalore", "Karnataka", 5, "N/A")),
    "jp": (("Tokyo", "Tokyo", 9, "N/A"), ("Osaka", "Osaka", 9, "N/A")),
    "au": (("Sydney", "New South Wales", 10, "N/A"), ("Melbourne", "Victoria", 10, "N/A"),
           ("Brisbane", "Queensland", 10, "N/A"), ("Perth", "Western Australia", 8, "N/A")),
    "es": (("Madrid", "Madrid", 1, "N/A"), ("Barcelona", "Catalonia", 1, "N/A")),
    "it": (("Rome", "Lazio", 1, "N/A"), ("Milan", "Lombardy", 1, "N/A")),
    "mx": (("Mexico City", "Mexico City", -6, "N/A"),),
}  # fmt: skip

# The states of multi-zone countries, by UTC offset (other countries' regions are drawn).
_ZONE_STATES: Mapping[str, Mapping[int, tuple[str, ...]]] = {
    "us": {
        -5: ("New York", "Florida", "Pennsylvania", "Ohio", "Georgia", "North Carolina",
             "Michigan", "New Jersey", "Virginia", "Massachusetts", "Maryland", "South Carolina"),
        -6: ("Texas", "Illinois", "Tennessee", "Missouri", "Wisconsin", "Minnesota", "Alabama",
             "Louisiana", "Oklahoma", "Iowa"),
        -7: ("Colorado", "Arizona", "Utah", "New Mexico"),
        -8: ("California", "Washington", "Oregon", "Nevada"),
    },
    "ca": {-5: ("Ontario", "Quebec"), -7: ("Alberta",), -8: ("British Columbia",)},
    "au": {10: ("New South Wales", "Victoria", "Queensland"), 8: ("Western Australia",)},
}  # fmt: skip

_CITY_TOTAL = 2600
_CITY_CAP = 470  # fewer cities than a group-by's 500 rows in any one country

_ONSETS = ("b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "k", "l", "m",
           "n", "p", "pr", "r", "s", "sh", "st", "t", "tr", "v", "w", "z")  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ou", "ie")
_CODAS = ("", "", "n", "r", "l", "s", "th", "m", "nd", "rt", "ck", "x", "ng")
_SUFFIXES = ("", "", "", "", "ton", "ville", "field", "ford", "burg", "wood", "mouth", "dale",
             "stead", " Falls", " Springs", " Bay", " Heights")  # fmt: skip


def _word(rng: random.Random, syllables: int) -> str:
    text = "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    )
    return text.capitalize()


def _names(rng: random.Random, count: int, taken: set[str], suffixes: bool = True) -> list[str]:
    """`count` new pronounceable names, none of them in `taken` (which they join)."""
    names: list[str] = []
    while len(names) < count:
        name = _word(rng, rng.choice((1, 2, 2)))
        if suffixes:
            name += rng.choice(_SUFFIXES)
        if len(name) > 3 and name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _zipf(count: int, head: float = 2.0, power: float = 1.2) -> list[float]:
    """Zipf-Mandelbrot weights for ranks 1..count, summing to 1: flat head, steep tail."""
    raw = [1.0 / (rank + head) ** power for rank in range(1, count + 1)]
    total = sum(raw)
    return [w / total for w in raw]


@dataclass(frozen=True)
class _Entity:
    """One value of a bundle (a city, a network, a device model, ...): the dimension values it
    carries (snake keys), its traits and its share of the audience's traffic."""

    values: Mapping[str, str]
    weight: float
    key: tuple[Any, ...] = ()  # what a segment's behaviour must agree with: (zone, country), ...


def _cities(rng: random.Random) -> list[_Entity]:
    weights = [c[4] ** 0.75 for c in _COUNTRIES]
    scale = _CITY_TOTAL / sum(weights)
    cities: list[_Entity] = []
    for (code, name, continent, emerging, weight, zones), share in zip(
        _COUNTRIES, weights, strict=True
    ):
        count = min(_CITY_CAP, max(12, round(share * scale)))
        heads = _HEAD_CITIES.get(code, ())
        taken = {city for city, *_ in heads}
        states = _ZONE_STATES.get(code) or {
            zones[0][0]: tuple(_names(rng, max(3, count // 12), set(), suffixes=False))
        }
        places = list(heads)
        offsets = [z for z, _ in zones]
        shares = [s for _, s in zones]
        for city in _names(rng, count - len(heads), taken):
            tz = rng.choices(offsets, shares)[0]
            state = rng.choice(states[tz])
            places.append((city, state, tz, city if code == "us" else "N/A"))
        for (city, state, tz, dma), w in zip(
            places, _zipf(count, head=3.0, power=1.5), strict=True
        ):
            postal = f"{rng.randint(10000, 99999)}" if code == "us" else f"{rng.randint(100, 9999)}"
            values = {
                "geo_country_code": code,
                "geo_continent_name": continent,
                "geo_state_name": state,
                "geo_city_name": f"{city}, {state}, {name}",
                "geo_dma": dma,
                "geo_postal_code": postal,
            }
            cities.append(_Entity(values, weight * w, ((tz, emerging), code)))
    total = sum(c.weight for c in cities)
    return [_Entity(c.values, c.weight / total, c.key) for c in cities]


# --------------------------------------------------------------------------------------------
# Networks: ISPs and their autonomous systems
# --------------------------------------------------------------------------------------------

_CHARTER = "Charter Spectrum"
_CHARTER_ASNS = (20115, 11427, 10796, 11351, 12271, 20001, 33363, 33588, 7843, 11426)
_ISP_WORDS = ("Northwind", "Bluewave", "Summit", "Horizon", "Pioneer", "Metro", "Atlas",
              "Beacon", "Cascade", "Crest", "Delta", "Echo", "Falcon", "Granite", "Harbor",
              "Nova", "Orbit", "Peak", "Quantum", "River", "Sierra", "Titan", "Unity", "Vertex",
              "Zenith", "Aurora", "Coastal", "Evergreen", "Frontier", "Lakeside",
              "Prairie")  # fmt: skip
_ISP_KINDS = ("Broadband", "Telecom", "Fiber", "Networks", "Communications", "Mobile", "Cable",
              "Net", "Internet", "Wireless")  # fmt: skip


def _networks(rng: random.Random, cities_per_country: Counter[str]) -> list[_Entity]:
    used_asns: set[int] = {asn for isps in ISPS.values() for _, asn, _ in isps}
    used_asns.update(_CHARTER_ASNS)
    networks: list[_Entity] = []
    # Local ISPs have names of their own (only the big real ones span countries).
    local = [f"{a} {b}" for a, b in itertools.product(_ISP_WORDS, _ISP_KINDS)]
    rng.shuffle(local)
    for code, _name, _continent, _emerging, weight, _zones in _COUNTRIES:
        heads = ISPS.get(code, ())
        count = max(3, round(cities_per_country[code] / 9))
        extra = [(local.pop(), 0) for _ in range(max(0, count - len(heads)))]
        isps = [(isp, asn) for isp, asn, _ in heads] + extra
        isp_weights = _zipf(len(isps), head=1.0, power=1.1)
        for rank, ((isp, first_asn), isp_weight) in enumerate(zip(isps, isp_weights, strict=True)):
            asns = list(_CHARTER_ASNS) if isp == _CHARTER else [first_asn] if first_asn else []
            wanted = max(len(asns), max(1, round(14 / (rank + 1) ** 0.7)))
            while len(asns) < wanted:
                asn = rng.randint(1000, 399_999)
                if asn not in used_asns:
                    used_asns.add(asn)
                    asns.append(asn)
            for asn, asn_weight in zip(asns, _zipf(len(asns), head=0.5, power=1.4), strict=True):
                values = {"isp": isp, "asn": f"AS{asn}"}
                networks.append(
                    _Entity(values, weight * isp_weight * asn_weight, (code, isp == _CHARTER))
                )
    total = sum(n.weight for n in networks)
    return [_Entity(n.values, n.weight / total, n.key) for n in networks]


# --------------------------------------------------------------------------------------------
# Device models
# --------------------------------------------------------------------------------------------

_MODEL_TOTAL = 330
_VARIANTS = ("", " 2", " Pro", " Lite", " Max", " 4K", " Plus", " Mini", " SE", " X", " S",
             " Ultra", " Go", " Neo", " Air", " (2023)", " (2022)", " (2021)")  # fmt: skip


def _older(version: str, steps: int) -> str:
    major, dot, rest = version.partition(".")
    return f"{int(major) - steps}{dot}{rest}" if major.isdigit() and int(major) > steps else version


def _models() -> list[_Entity]:
    family_weights = [float(d[15]) for d in DEVICE_FAMILIES]
    total_weight = sum(family_weights)
    spread = [w**0.7 for w in family_weights]
    models: list[_Entity] = []
    for family, (device, weight, share) in enumerate(
        zip(DEVICE_FAMILIES, family_weights, spread, strict=True)
    ):
        count = max(6, round(_MODEL_TOTAL * share / sum(spread)))
        for n, w in enumerate(_zipf(count, head=1.0, power=1.3)):
            variant = _VARIANTS[n] if n < len(_VARIANTS) else f" Gen {n - len(_VARIANTS) + 2}"
            os_version = _older(device[4], n % 3)
            values = {
                "device_name": device[0],
                "device_category": device[1],
                "device_os": device[2],
                "device_os_family": device[3],
                "device_os_version": os_version,
                "device_manufacturer": device[5],
                "device_marketing_name": device[6] + variant,
                "device_model": device[7] if n == 0 else f"{device[7]}-{n:02d}",
                "device_hardware_type": device[8],
                "platform": device[9],
                "platform_version": os_version,
                "player_name": f"StreamCo_{device[9].replace(' ', '')}",
                "player_framework_name": device[10],
                "player_framework_version": device[11],
                "browser_name": device[12],
                "browser_version": _older(device[13], n % 2),
                "connection_type": device[14],
                "network_connection_type": (
                    "Cellular" if device[14] == "Cellular" else "Fixed Broadband"
                ),
            }
            models.append(_Entity(values, weight / total_weight * w, (family,)))
    return models


# --------------------------------------------------------------------------------------------
# Content: live events, live programmes, episodes and films
# --------------------------------------------------------------------------------------------

_KINDS = ("event", "live", "vod")
_KIND_SHARES = (0.2, 0.15, 0.65)
_LEAGUES = (
    ("Premier League", "2024/25", "StreamCo Sports 1"),
    ("NBA", "2024-25", "StreamCo Sports 2"),
    ("NFL", "2024", "StreamCo Sports 1"),
    ("Formula 1", "2025", "StreamCo Sports 1"),
    ("La Liga", "2024/25", "StreamCo Sports 3"),
    ("Champions League", "2024/25", "StreamCo Sports 1"),
    ("MLB", "2025", "StreamCo Sports 2"),
    ("NHL", "2024-25", "StreamCo Sports 3"),
    ("Cricket World Cup", "2025", "StreamCo Sports 3"),
    ("Super Rugby", "2025", "StreamCo Sports 2"),
)
_PROGRAMMES = ("Evening News", "Morning Show", "World Report", "Business Today",
               "Late Night Live", "Weekend Brunch", "Sports Desk", "The Debate", "Weather Watch",
               "Market Close")  # fmt: skip
_EDITIONS = ("US", "UK", "Canada", "Australia", "India", "Europe")
_GENRES = ("Drama", "Comedy", "Mystery", "Reality", "Science Fiction", "Kids", "Documentary",
           "Thriller", "Romance", "Action", "Animation", "Horror")  # fmt: skip
_TITLE_WORDS = ("Night", "Harbor", "Kitchen", "Long", "Star", "Little", "Planet", "Hidden",
                "Last", "Silver", "Broken", "Golden", "Winter", "Northern", "Secret", "Wild",
                "Quiet", "Burning", "Lost", "Crimson", "Glass", "Iron", "Paper", "Velvet",
                "Electric")  # fmt: skip
_TITLE_NOUNS = ("Shift", "Lights", "Wars", "Road", "Fall", "Explorers", "Deep", "City", "Line",
                "Garden", "Kingdom", "Signal", "Bridge", "Empire", "Tide", "House", "Frontier",
                "Hours", "Club", "Files", "Code", "Witness", "Season", "Orbit",
                "Harvest")  # fmt: skip
_SHOWS = 80
_FILMS = 200
_EVENTS_PER_LEAGUE = 26


def _content_values(
    asset: str,
    title: str,
    series: str,
    genre: str,
    channel: str,
    brand: str,
    content_type: str,
    live: bool,
    season: str,
    episode: str,
) -> dict[str, str]:
    return {
        "asset": asset,
        "video_asset_name": asset,
        "asset_type": "Live" if live else "On Demand",
        "content_category": "Live" if live else "VOD",
        "content_meta_show_title": title,
        "content_meta_series_name": series,
        "content_meta_genre": genre,
        "content_meta_genre_list": f"{genre}|Featured",
        "content_meta_channel": channel,
        "content_meta_brand": brand,
        "content_meta_affiliate": channel,
        "content_meta_content_type": content_type,
        "content_meta_category_type": "Live TV" if live else "Library",
        "content_meta_season_number": season,
        "content_meta_episode_number": episode,
        "content_meta_id": f"cid-{hash_text(asset) % 900000 + 100000}",
        "content_meta_name": asset,
    }


def _assets(rng: random.Random) -> list[_Entity]:
    by_kind: dict[str, list[dict[str, str]]] = {kind: [] for kind in _KINDS}
    taken: set[str] = set()
    for league, season, channel in _LEAGUES:
        teams = _names(rng, 16, taken)
        for _ in range(_EVENTS_PER_LEAGUE):
            home, away = rng.sample(teams, 2)
            asset = f"{league}: {home} vs {away}"
            if asset not in taken:
                taken.add(asset)
                by_kind["event"].append(
                    _content_values(asset, league, f"{league} {season}", "Sports", channel,
                                    "StreamCo Sports", "Event", True, season.split("/")[0], "N/A")
                )  # fmt: skip
    for programme, edition in itertools.product(_PROGRAMMES, _EDITIONS):
        genre = "News" if "News" in programme or "Report" in programme else "Talk"
        by_kind["live"].append(
            _content_values(f"{programme} ({edition})", programme, programme, genre, "News 24",
                            "StreamCo News", "Episode", True, "N/A", "N/A")
        )  # fmt: skip
    titles = [f"The {a} {b}" for a, b in itertools.product(_TITLE_WORDS, _TITLE_NOUNS)]
    rng.shuffle(titles)
    for title in titles[:_SHOWS]:
        genre = rng.choice(_GENRES)
        for series in range(1, rng.randint(1, 4) + 1):
            for episode in range(1, rng.randint(3, 8) + 1):
                by_kind["vod"].append(
                    _content_values(f"{title} S{series:02d}E{episode:02d}", title, title, genre,
                                    "StreamCo One", "StreamCo Originals", "Episode", False,
                                    str(series), str(episode))
                )  # fmt: skip
    for title in titles[_SHOWS : _SHOWS + _FILMS]:
        by_kind["vod"].append(
            _content_values(title.removeprefix("The "), title.removeprefix("The "), "N/A",
                            rng.choice(_GENRES), "StreamCo Movies", "StreamCo Films", "Movie",
                            False, "N/A", "N/A")
        )  # fmt: skip
    assets: list[_Entity] = []
    for kind, share in zip(_KINDS, _KIND_SHARES, strict=True):
        values = by_kind[kind]
        rng.shuffle(values)
        for v, w in zip(values, _zipf(len(values), head=2.0, power=1.25), strict=True):
            assets.append(_Entity(v, share * w, (kind,)))
    return assets


# --------------------------------------------------------------------------------------------
# CDN edges, app versions, subscription tiers
# --------------------------------------------------------------------------------------------

_CONTINENTS = ("North America", "South America", "Europe", "Asia", "Africa", "Oceania")
_EDGES_PER_REGION = 10


def _edges() -> list[_Entity]:
    edges = []
    for cdn, host, weight, _rebuffering in CDNS:
        short = cdn.split()[-1].lower()
        for continent in _CONTINENTS:
            region = continent.split()[0].lower()
            for n, w in enumerate(_zipf(_EDGES_PER_REGION, head=1.0, power=1.0)):
                values = {
                    "cdn": cdn,
                    "cdn_edge_group": f"{short}-{region}-{n % 4 + 1}",
                    "cdn_edge_server": host.format(n=f"{region[:2]}{10 + n}"),
                    "stream_host": f"{short}.streamco-video.com",
                    "precision_cdn": cdn,
                }
                edges.append(_Entity(values, weight * w, (cdn, continent)))
    return edges


def _versions() -> list[_Entity]:
    names = [f"{major}.{minor}.{patch}" for major, minor, patch in
             itertools.product((6, 5, 4), (3, 2, 1, 0), (3, 2, 1, 0))][:40]  # fmt: skip
    return [
        _Entity({"app_version": name}, w, ())
        for name, w in zip(names, _zipf(len(names), head=0.5, power=1.6), strict=True)
    ]


# name, ads shown, weight
_TIERS = (
    ("Basic with Ads", True, 5.0),
    ("Standard", True, 3.0),
    ("Premium", False, 2.0),
    ("Premium Plus", False, 0.6),
    ("Family", True, 1.0),
    ("Student", True, 0.4),
)


# --------------------------------------------------------------------------------------------
# Behaviours and segments
# --------------------------------------------------------------------------------------------

Zone = tuple[int, bool]  # (UTC offset, emerging market)


@dataclass(frozen=True)
class _Behaviour:
    zone: Zone
    country: str | None  # only this country's cities (a US ISP's behaviour), or any
    family: int
    cdn: int
    kind: str
    ads: bool
    charter: bool
    weight: float


_BEHAVIOURS = 100  # about this many, shared out by the zones' traffic
_CHARTER_SHARE = 0.12  # of each US zone's traffic


def _zone_weights(cities: Sequence[_Entity]) -> dict[Zone, float]:
    weights: dict[Zone, float] = {}
    for city in cities:
        zone = city.key[0]
        assert isinstance(zone, tuple)
        weights[zone] = weights.get(zone, 0.0) + city.weight
    return weights


def _behaviours(rng: random.Random, zones: Mapping[Zone, float]) -> list[_Behaviour]:
    families = range(len(DEVICE_FAMILIES))
    family_weights = [float(d[15]) for d in DEVICE_FAMILIES]
    mobile_weights = [w * (1.8 if d[1] in ("Mobile", "Tablet") else 1.0)
                      for w, d in zip(family_weights, DEVICE_FAMILIES, strict=True)]  # fmt: skip
    cdn_weights = [c[2] for c in CDNS]
    ads_share = sum(w for _, ads, w in _TIERS if ads) / sum(w for *_, w in _TIERS)
    us_zones = {(tz, False) for tz in _ZONE_STATES["us"]}
    behaviours = []
    for zone, weight in sorted(zones.items()):
        count = max(3, round(_BEHAVIOURS * weight))
        charter = weight * _CHARTER_SHARE if zone in us_zones else 0.0
        for _ in range(count):
            behaviours.append(
                _Behaviour(
                    zone,
                    None,
                    rng.choices(families, mobile_weights if zone[1] else family_weights)[0],
                    rng.choices(range(len(CDNS)), cdn_weights)[0],
                    rng.choices(_KINDS, _KIND_SHARES)[0],
                    rng.random() < ads_share,
                    False,
                    (weight - charter) / count,
                )
            )
        if charter:
            behaviours.append(
                _Behaviour(
                    zone,
                    "us",
                    rng.choices(families, family_weights)[0],
                    rng.choices(range(len(CDNS)), cdn_weights)[0],
                    rng.choices(_KINDS, _KIND_SHARES)[0],
                    rng.random() < ads_share,
                    True,
                    charter,
                )
            )
    # Every family, CDN and kind of content somewhere, in the busiest zone if nowhere else.
    busiest = max(zones, key=zones.__getitem__)
    for family in families:
        if all(b.family != family for b in behaviours):
            behaviours.append(_Behaviour(busiest, None, family, 0, "vod", True, False, 0.001))
    for cdn in range(len(CDNS)):
        if all(b.cdn != cdn for b in behaviours):
            behaviours.append(_Behaviour(busiest, None, 0, cdn, "vod", True, False, 0.001))
    for kind in _KINDS:
        if all(b.kind != kind for b in behaviours):
            behaviours.append(_Behaviour(busiest, None, 0, 0, kind, True, False, 0.001))
    for ads in (True, False):
        if all(b.ads != ads for b in behaviours):
            behaviours.append(_Behaviour(busiest, None, 0, 0, "vod", ads, False, 0.001))
    return behaviours


class _Picker:
    """Draws indices of some items in proportion to their weights."""

    def __init__(self, indices: Sequence[int], weights: Sequence[float]) -> None:
        self._indices = list(indices)
        self._cumulative = list(itertools.accumulate(weights))

    def __call__(self, rng: random.Random) -> int:
        return self._indices[bisect(self._cumulative, rng.random() * self._cumulative[-1])]

    def draw(self, rng: random.Random, count: int) -> list[int]:
        return rng.choices(self._indices, cum_weights=self._cumulative, k=count)


def _pickers(weights: Sequence[float], keys: Sequence[object]) -> dict[object, _Picker]:
    """One picker per key, over the indices that have it."""
    members: dict[object, list[int]] = {}
    for index, key in enumerate(keys):
        members.setdefault(key, []).append(index)
    return {
        key: _Picker(indices, [weights[i] for i in indices]) for key, indices in members.items()
    }


@dataclass(frozen=True)
class _World:
    cities: list[_Entity]
    networks: list[_Entity]
    models: list[_Entity]
    assets: list[_Entity]
    edges: list[_Entity]
    versions: list[_Entity]


_BUNDLES = ("city", "network", "model", "asset", "version", "edge", "tier")
_Test = Callable[[tuple[Any, ...], _Behaviour], bool]  # does a behaviour agree with a value
_UNSET = -1


def _draw_segments(
    rng: random.Random, world: _World, behaviours: Sequence[_Behaviour]
) -> dict[str, list[int]]:
    """Per bundle, each segment's pick (an index into the world's list; tiers into _TIERS).

    First one segment for every city, network, device model, asset and app version, with a
    behaviour that agrees with it; then ``_FILL`` segments by behaviour weight. Each segment's
    other picks then agree with its behaviour: its zone's cities, its country's networks
    (Charter's only for a Charter behaviour), its family's models, its kind's assets, its CDN's
    edges on the city's continent and its ad tier's subscription tiers.
    """
    weights = [b.weight for b in behaviours]

    def compatible(test: Callable[[_Behaviour], bool]) -> _Picker:
        chosen = [i for i, b in enumerate(behaviours) if test(b)]
        return _Picker(chosen, [weights[i] for i in chosen])

    picks: dict[str, list[int]] = {name: [] for name in ("behaviour", *_BUNDLES)}

    def add(behaviours_drawn: Sequence[int], bundle: str | None = None) -> None:
        """Segments of these behaviours; with `bundle`, the n-th takes that bundle's n-th value."""
        picks["behaviour"].extend(behaviours_drawn)
        for name in _BUNDLES:
            if name == bundle:
                picks[name].extend(range(len(behaviours_drawn)))
            else:
                picks[name].extend([_UNSET] * len(behaviours_drawn))

    country_zones: dict[str, set[Zone]] = {}
    for city in world.cities:
        country_zones.setdefault(city.key[1], set()).add(city.key[0])
    anchors: dict[tuple[str, object], _Picker] = {}

    def anchored(bundle: str, entities: Sequence[_Entity], test: _Test) -> None:
        """One segment for each of these values, of a behaviour that agrees with it."""
        drawn = []
        for entity in entities:
            key = (bundle, entity.key)
            if key not in anchors:
                anchors[key] = compatible(partial(test, entity.key))
            drawn.append(anchors[key](rng))
        add(drawn, bundle)

    anchored("city", world.cities, _serves_city)
    anchored("network", world.networks, partial(_serves_network, country_zones))
    anchored("model", world.models, _serves_model)
    anchored("asset", world.assets, _serves_asset)
    anchored("version", world.versions, _serves_anyone)
    add(_Picker(range(len(behaviours)), weights).draw(rng, _FILL))
    _complete(rng, world, behaviours, picks)
    return picks


def _serves_city(key: tuple[Any, ...], b: _Behaviour) -> bool:
    zone, country = key
    return bool(b.zone == zone and b.country in (None, country))


def _serves_network(
    country_zones: Mapping[str, set[Zone]], key: tuple[Any, ...], b: _Behaviour
) -> bool:
    country, charter = key
    return (
        b.zone in country_zones[country] and b.charter == charter and b.country in (None, country)
    )


def _serves_model(key: tuple[Any, ...], b: _Behaviour) -> bool:
    return (b.family,) == key


def _serves_asset(key: tuple[Any, ...], b: _Behaviour) -> bool:
    return (b.kind,) == key


def _serves_anyone(key: tuple[Any, ...], b: _Behaviour) -> bool:
    return True


def _complete(
    rng: random.Random,
    world: _World,
    behaviours: Sequence[_Behaviour],
    picks: dict[str, list[int]],
) -> None:
    """Fill every unset pick, drawing in bulk per behaviour (and country or continent)."""
    cities = world.cities
    in_zone = _pickers([c.weight for c in cities], [c.key[0] for c in cities])
    in_zone_country = _pickers([c.weight for c in cities], [c.key for c in cities])
    networks = _pickers([n.weight for n in world.networks], [n.key for n in world.networks])
    models = _pickers([m.weight for m in world.models], [m.key for m in world.models])
    assets = _pickers([a.weight for a in world.assets], [a.key for a in world.assets])
    edges = _pickers([e.weight for e in world.edges], [e.key for e in world.edges])
    versions = _Picker(range(len(world.versions)), [v.weight for v in world.versions])
    tiers = _pickers([w for *_, w in _TIERS], [(ads,) for _, ads, _ in _TIERS])
    rows_of: dict[int, list[int]] = {}
    for row, behaviour in enumerate(picks["behaviour"]):
        rows_of.setdefault(behaviour, []).append(row)

    def fill(name: str, rows: Sequence[int], picker: _Picker) -> None:
        column = picks[name]
        unset = [r for r in rows if column[r] == _UNSET]
        for row, pick in zip(unset, picker.draw(rng, len(unset)), strict=True):
            column[row] = pick

    def by(rows: Sequence[int], key: Callable[[int], Any]) -> dict[Any, list[int]]:
        grouped: dict[Any, list[int]] = {}
        for row in rows:
            grouped.setdefault(key(row), []).append(row)
        return grouped

    city, network = picks["city"], picks["network"]
    country_of = [c.key[1] for c in cities]
    continent_of = [c.values["geo_continent_name"] for c in cities]
    for index, rows in sorted(rows_of.items()):
        b = behaviours[index]
        # A network's anchor takes a city of the network's country.
        anchored = by([r for r in rows if network[r] != _UNSET], lambda r: network[r])
        for chosen, group in anchored.items():
            country = world.networks[chosen].key[0]
            fill("city", group, in_zone_country[(b.zone, country)])
        zone_pool = in_zone[b.zone] if b.country is None else in_zone_country[(b.zone, b.country)]
        fill("city", rows, zone_pool)
        for country, group in by(rows, lambda r: country_of[city[r]]).items():
            fill("network", group, networks[(country, b.charter)])
        fill("model", rows, models[(b.family,)])
        fill("asset", rows, assets[(b.kind,)])
        fill("version", rows, versions)
        fill("tier", rows, tiers[(b.ads,)])
        for continent, group in by(rows, lambda r: continent_of[city[r]]).items():
            fill("edge", group, edges[(CDNS[b.cdn][0], continent)])


_NOISE = tuple(math.exp(0.35 * NormalDist().inv_cdf((i + 0.5) / 1024)) for i in range(1024))


def _volumes(rng: random.Random, world: _World, picks: Mapping[str, Sequence[int]]) -> list[float]:
    """Each segment's attempts an hour: per bundle, its value's share over its number of
    segments, multiplied; then a little noise, and scaled to the audience's total."""
    factors = []
    for entities, chosen in (
        (world.cities, picks["city"]),
        (world.networks, picks["network"]),
        (world.models, picks["model"]),
        (world.assets, picks["asset"]),
    ):
        counts = Counter(chosen)
        size = len(chosen)
        factors.append([entities[p].weight * size / counts[p] for p in chosen])
    noise = rng.choices(_NOISE, k=len(picks["city"]))
    raw = [a * b * c * d * e for a, b, c, d, e in zip(*factors, noise, strict=True)]
    scale = ATTEMPTS_PER_HOUR / sum(raw)
    return [v * scale for v in raw]


def _profile(index: int, behaviour: _Behaviour, tier: int) -> Profile:
    device = DEVICE_FAMILIES[behaviour.family]
    cdn = CDNS[behaviour.cdn]
    mobile = device[1] in ("Mobile", "Tablet")
    incidents = {"isp_outage"} if behaviour.charter else set()
    if cdn[0] == "Fastly":
        incidents.add("cdn_degradation")
    traits = {
        "minutes_per_play": float(device[16]) * (0.6 if behaviour.kind == "event" else 1.0) * 0.9,
        "bitrate_kbps": float(device[17]) * (0.8 if mobile else 1.0),
        "framerate": float(device[18]),
        "rebuffering_s_per_min": cdn[3] * (1.4 if mobile else 1.0),
        "ads": 1.0 if behaviour.ads else 0.0,
        "live": 0.0 if behaviour.kind == "vod" else 1.0,
    }
    return Profile(
        index=index,
        attempts_per_hour=_TIER_SCALES[tier],
        tz_hours=behaviour.zone[0],
        mobile=mobile,
        emerging=behaviour.zone[1],
        cdn=cdn[0],
        incidents=frozenset(incidents),
        traits=traits,
    )


def _codes(picks: Sequence[int]) -> array[int]:
    return array("I", picks)


def _bundle_maker(
    entities: Sequence[_Entity], picks: Sequence[int], key: str
) -> Callable[[], Column]:
    def make() -> Column:
        per_entity = column_of(e.values[key] for e in entities)
        lookup = per_entity.codes
        return Column(per_entity.values, array("I", (lookup[p] for p in picks)))

    return make


def _independent_maker(key: str, tiers: Sequence[int]) -> Callable[[], Column]:
    options = INDEPENDENT_VALUES[key]

    def make() -> Column:
        rng = random.Random(_SEED ^ hash_text(key))
        drawn = rng.choices(range(len(options)), k=len(tiers))
        if key == "preroll_status":  # no pre-roll without ads
            no_ads = options.index("No Preroll")
            drawn = [no_ads if not _TIERS[t][1] else d for d, t in zip(drawn, tiers, strict=True)]
        return column_of(options[d] for d in drawn)

    return make


def large_audience() -> Audience:
    """Build the large audience (a fraction of a second; the caller keeps it)."""
    rng = random.Random(_SEED)
    cities = _cities(rng)
    networks = _networks(rng, Counter(str(c.key[1]) for c in cities))
    world = _World(cities, networks, _models(), _assets(rng), _edges(), _versions())
    behaviours = _behaviours(rng, _zone_weights(cities))
    picks = _draw_segments(rng, world, behaviours)
    volumes = _volumes(rng, world, picks)
    # Each volume as copies of its behaviour's profile at the tier below it (the lowest tier
    # for the smallest: a sparse profile, one copy).
    tiers = [max(0, bisect(_TIER_SCALES, v) - 1) for v in volumes]
    copies = array(
        "I", (max(1, round(v / _TIER_SCALES[t])) for v, t in zip(volumes, tiers, strict=True))
    )
    profiles: dict[tuple[int, int], int] = {}
    profile_of = array(
        "I",
        (
            profiles.setdefault(key, len(profiles))
            for key in zip(picks["behaviour"], tiers, strict=True)
        ),
    )
    built = [_profile(i, behaviours[b], t) for (b, t), i in profiles.items()]
    return Audience(
        "large",
        built,
        profile_of,
        copies,
        columns=_columns(world, picks),
        tags=_tags(world, picks),
    )


def _columns(world: _World, picks: Mapping[str, Sequence[int]]) -> dict[str, Callable[[], Column]]:
    makers: dict[str, Callable[[], Column]] = {}
    for entities, bundle in (
        (world.cities, "city"),
        (world.networks, "network"),
        (world.models, "model"),
        (world.assets, "asset"),
        (world.edges, "edge"),
        (world.versions, "version"),
    ):
        for key in entities[0].values:
            makers[key] = _bundle_maker(entities, picks[bundle], key)
    tiers = picks["tier"]
    for key in INDEPENDENT_VALUES:
        makers[key] = _independent_maker(key, tiers)

    def ads_requested() -> Column:
        return column_of("true" if _TIERS[t][1] else "false" for t in tiers)

    def user_agent() -> Column:
        models, versions = world.models, world.versions
        return column_of(
            f"StreamCo/{versions[v].values['app_version']} ({models[m].values['device_os']} "
            f"{models[m].values['device_os_version']}; "
            f"{models[m].values['device_marketing_name']})"
            for m, v in zip(picks["model"], picks["version"], strict=True)
        )

    makers["is_ad_requested"] = ads_requested
    makers["user_agent"] = user_agent
    return makers


def _tags(world: _World, picks: Mapping[str, Sequence[int]]) -> dict[str, Callable[[], Column]]:
    assets = picks["asset"]

    def special_id() -> Column:
        return column_of(
            f"{hash_text(world.assets[a].values['asset']) & 0xFFFFFFFFFF:010X}" for a in assets
        )

    def tier() -> Column:
        return column_of(_TIERS[t][0] for t in picks["tier"])

    return {
        "appVersion": _bundle_maker(world.versions, picks["version"], "app_version"),
        "title": _bundle_maker(world.assets, assets, "content_meta_show_title"),
        "specialContentId": special_id,
        "subscriptionTier": tier,
    }
