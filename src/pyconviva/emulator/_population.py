"""The small audience, and the account's saved filters, KPI sets and custom tags.

The small audience is a fixed population of 240 weighted segments (``audience="small"``: tiny
replies for tests). A segment is a slice of traffic with one value for every dimension of the
catalogue (country, city, ISP, device, CDN, asset, ad stack, ...) and for every custom tag.
Values come in coherent bundles (a city carries its state, country, DMA and time zone; a device
its OS, player and typical bitrate; an ISP its AS number), and the population does not depend on
the seed. The large audience (``_world``) reuses its device families, CDNs, head ISPs and
independent ad-stack values; ``_audience`` turns either into traffic profiles for ``_data``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CDNS",
    "CUSTOM_TAGS",
    "DEVICE_FAMILIES",
    "INDEPENDENT_VALUES",
    "ISPS",
    "KPIS",
    "POPULATION",
    "SAVED_FILTERS",
    "KpiSet",
    "SavedFilter",
    "Segment",
    "hash_text",
]

CUSTOM_TAGS: tuple[str, ...] = ("appVersion", "title", "specialContentId", "subscriptionTier")

_SEGMENTS = 240
_POPULATION_SEED = 20250110


@dataclass(frozen=True)
class Segment:
    """One slice of traffic: its dimension values (snake keys), tags and traffic traits."""

    index: int
    weight: float  # share of all attempts; the weights of the population add up to 1
    tz_hours: int  # local time offset used for its daily and weekly cycles
    values: Mapping[str, str]
    tags: Mapping[str, str]
    traits: Mapping[str, float]  # typical minutes per play, bitrate, start time, ...


# (country, continent, state, city, DMA, postal code, UTC offset, weight)
_PLACES: tuple[tuple[str, str, str, str, str, str, int, float], ...] = (
    ("us", "North America", "New York", "New York", "New York", "10001", -5, 9.0),
    ("us", "North America", "California", "Los Angeles", "Los Angeles", "90012", -8, 8.0),
    ("us", "North America", "Illinois", "Chicago", "Chicago", "60601", -6, 5.0),
    ("us", "North America", "Texas", "Houston", "Houston", "77002", -6, 4.0),
    ("us", "North America", "Washington", "Seattle", "Seattle-Tacoma", "98101", -8, 3.0),
    ("us", "North America", "Georgia", "Atlanta", "Atlanta", "30303", -5, 3.0),
    ("ca", "North America", "Ontario", "Toronto", "N/A", "M5H", -5, 3.0),
    ("gb", "Europe", "England", "London", "N/A", "EC1A", 0, 5.0),
    ("gb", "Europe", "England", "Manchester", "N/A", "M1", 0, 2.0),
    ("de", "Europe", "Berlin", "Berlin", "N/A", "10115", 1, 3.0),
    ("de", "Europe", "Bavaria", "Munich", "N/A", "80331", 1, 2.0),
    ("fr", "Europe", "Ile-de-France", "Paris", "N/A", "75001", 1, 3.0),
    ("br", "South America", "Sao Paulo", "Sao Paulo", "N/A", "01000", -3, 3.0),
    ("in", "Asia", "Maharashtra", "Mumbai", "N/A", "400001", 5, 3.0),
    ("jp", "Asia", "Tokyo", "Tokyo", "N/A", "100-0001", 9, 2.5),
    ("au", "Oceania", "New South Wales", "Sydney", "N/A", "2000", 10, 3.0),
    ("au", "Oceania", "Victoria", "Melbourne", "N/A", "3000", 10, 2.0),
)

_COUNTRY_NAMES: Mapping[str, str] = {
    "us": "United States",
    "ca": "Canada",
    "gb": "United Kingdom",
    "de": "Germany",
    "fr": "France",
    "br": "Brazil",
    "in": "India",
    "jp": "Japan",
    "au": "Australia",
}

# country -> (ISP, AS number, weight)
ISPS: Mapping[str, tuple[tuple[str, int, float], ...]] = {
    "us": (
        ("Comcast", 7922, 5.0),
        ("Charter Spectrum", 20115, 4.0),
        ("AT&T", 7018, 3.0),
        ("Verizon", 701, 3.0),
    ),
    "ca": (("Rogers", 812, 2.0),),
    "gb": (("BT", 2856, 3.0), ("Virgin Media", 5089, 2.0)),
    "de": (("Deutsche Telekom", 3320, 3.0), ("Vodafone", 3209, 2.0)),
    "fr": (("Orange", 3215, 3.0),),
    "br": (("Claro", 28573, 2.0),),
    "in": (("Reliance Jio", 55836, 3.0),),
    "jp": (("NTT Docomo", 9605, 2.0),),
    "au": (("Telstra", 1221, 3.0), ("Optus", 4804, 2.5), ("Vodafone", 133612, 1.5)),
}

# name, category, OS, OS family, OS version, manufacturer, marketing name, model, hardware type,
# platform, player framework, framework version, browser, browser version, connection,
# weight, minutes per play, bitrate (kbps), frame rate
DEVICE_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("Roku", "Set-top Box", "Roku OS", "Roku", "12.5", "Roku", "Roku Ultra", "4802X",
     "Set-top Box", "Roku", "Roku Video Player", "12.5", "N/A", "N/A", "Ethernet",
     "9", "48", "6200", "30"),
    ("Apple TV", "Set-top Box", "tvOS", "tvOS", "17.4", "Apple", "Apple TV 4K", "A2843",
     "Set-top Box", "tvOS", "AVPlayer", "17.4", "N/A", "N/A", "WiFi",
     "5", "52", "7800", "30"),
    ("Fire TV", "Set-top Box", "Fire OS", "Android", "7.6", "Amazon", "Fire TV Stick 4K", "AFTKA",
     "Set-top Box", "Fire TV", "ExoPlayer", "2.19.1", "N/A", "N/A", "WiFi",
     "6", "45", "5900", "30"),
    ("Android TV", "Smart TV", "Android TV", "Android", "12", "Sony", "Bravia XR", "XR-55A80L",
     "Smart TV", "Android TV", "ExoPlayer", "2.19.1", "N/A", "N/A", "WiFi",
     "3", "44", "5600", "30"),
    ("Samsung TV", "Smart TV", "Tizen", "Tizen", "7.0", "Samsung", "Samsung Neo QLED",
     "QN90C", "Smart TV", "Tizen", "AVPlay", "7.0", "N/A", "N/A", "WiFi",
     "4", "50", "6600", "30"),
    ("LG TV", "Smart TV", "webOS", "webOS", "23", "LG", "LG OLED evo", "OLED55C3",
     "Smart TV", "webOS", "Shaka Player", "4.7.0", "N/A", "N/A", "WiFi",
     "3", "47", "6400", "30"),
    ("iPhone", "Mobile", "iOS", "iOS", "17.4", "Apple", "iPhone 15", "iPhone15,4",
     "Mobile", "iOS", "AVPlayer", "17.4", "N/A", "N/A", "Cellular",
     "9", "17", "2600", "30"),
    ("iPad", "Tablet", "iPadOS", "iOS", "17.4", "Apple", "iPad Air", "iPad13,16",
     "Tablet", "iOS", "AVPlayer", "17.4", "N/A", "N/A", "WiFi",
     "4", "28", "3900", "30"),
    ("Android Phone", "Mobile", "Android", "Android", "14", "Samsung", "Galaxy S23", "SM-S911B",
     "Mobile", "Android", "ExoPlayer", "2.19.1", "N/A", "N/A", "Cellular",
     "10", "15", "2300", "30"),
    ("Windows PC", "Desktop", "Windows", "Windows", "11", "Microsoft", "Windows PC", "PC",
     "Desktop", "Web", "Shaka Player", "4.7.0", "Chrome", "122.0", "Ethernet",
     "7", "24", "4500", "30"),
    ("Mac", "Desktop", "macOS", "macOS", "14.4", "Apple", "MacBook Pro", "Mac15,3",
     "Desktop", "Web", "HLS.js", "1.5.7", "Safari", "17.4", "WiFi",
     "4", "26", "4800", "30"),
    ("Linux PC", "Desktop", "Linux", "Linux", "6.5", "Unknown", "Linux PC", "PC",
     "Desktop", "Web", "Shaka Player", "4.7.0", "Firefox", "124.0", "Ethernet",
     "1", "22", "4300", "30"),
    ("PlayStation 5", "Game Console", "PlayStation OS", "PlayStation", "8.0", "Sony",
     "PlayStation 5", "CFI-1216A", "Game Console", "PlayStation", "WebMAF", "3.2",
     "N/A", "N/A", "Ethernet", "2", "55", "7400", "60"),
    ("Xbox", "Game Console", "Xbox OS", "Windows", "10.0", "Microsoft", "Xbox Series X",
     "1882", "Game Console", "Xbox", "MediaPlayer", "10.0", "N/A", "N/A", "Ethernet",
     "1.5", "53", "7200", "60"),
    ("Chromecast", "Set-top Box", "Google TV", "Android", "12", "Google",
     "Chromecast with Google TV", "G9N9N", "Set-top Box", "Chromecast", "Shaka Player",
     "4.7.0", "N/A", "N/A", "WiFi", "2", "43", "5800", "30"),
)  # fmt: skip

# CDN, edge host pattern, weight, rebuffering seconds per minute played
CDNS: tuple[tuple[str, str, float, float], ...] = (
    ("Akamai", "a{n}.deploy.akamaitechnologies.com", 5.0, 0.24),
    ("Fastly", "cache-{n}.fastly.net", 3.0, 0.30),
    ("Amazon CloudFront", "server-{n}.cloudfront.net", 4.0, 0.27),
    ("Edgio", "cs{n}.wpc.edgiocdn.net", 1.5, 0.42),
    ("Lumen", "edge{n}.lumen.net", 1.0, 0.36),
)

# asset, show title, series, genre, channel, brand, content type, Live/VOD, season, episode,
# weight
_CONTENT: tuple[tuple[str, str, str, str, str, str, str, str, str, str, float], ...] = (
    ("Evening News 2025-01-09", "Evening News", "Evening News", "News", "News 24",
     "StreamCo News", "Episode", "Live", "N/A", "N/A", 4.0),
    ("Premier League: Arsenal vs Chelsea", "Premier League", "Premier League 2024/25",
     "Sports", "StreamCo Sports 1", "StreamCo Sports", "Event", "Live", "2024", "N/A", 5.0),
    ("NBA: Lakers vs Celtics", "NBA Tonight", "NBA 2024-25", "Sports", "StreamCo Sports 2",
     "StreamCo Sports", "Event", "Live", "2024", "N/A", 3.5),
    ("Morning Show", "Morning Show", "Morning Show", "Talk", "StreamCo One", "StreamCo",
     "Episode", "Live", "N/A", "N/A", 2.0),
    ("Formula 1: Monaco Grand Prix", "Formula 1", "Formula 1 2025", "Sports",
     "StreamCo Sports 1", "StreamCo Sports", "Event", "Live", "2025", "N/A", 2.5),
    ("The Night Shift S02E05", "The Night Shift", "The Night Shift", "Drama",
     "StreamCo One", "StreamCo Originals", "Episode", "VOD", "2", "5", 3.5),
    ("The Night Shift S02E06", "The Night Shift", "The Night Shift", "Drama",
     "StreamCo One", "StreamCo Originals", "Episode", "VOD", "2", "6", 3.0),
    ("Harbor Lights S01E01", "Harbor Lights", "Harbor Lights", "Mystery", "StreamCo One",
     "StreamCo Originals", "Episode", "VOD", "1", "1", 2.5),
    ("Kitchen Wars S05E10", "Kitchen Wars", "Kitchen Wars", "Reality", "StreamCo Life",
     "StreamCo", "Episode", "VOD", "5", "10", 2.0),
    ("The Long Road", "The Long Road", "N/A", "Drama", "StreamCo Movies", "StreamCo Films",
     "Movie", "VOD", "N/A", "N/A", 2.5),
    ("Starfall", "Starfall", "N/A", "Science Fiction", "StreamCo Movies", "StreamCo Films",
     "Movie", "VOD", "N/A", "N/A", 3.0),
    ("Little Explorers S03E02", "Little Explorers", "Little Explorers", "Kids",
     "StreamCo Kids", "StreamCo Kids", "Episode", "VOD", "3", "2", 2.0),
    ("Planet Deep S01E04", "Planet Deep", "Planet Deep", "Documentary", "StreamCo Life",
     "StreamCo Originals", "Episode", "VOD", "1", "4", 1.5),
    ("Laugh Track Live", "Laugh Track", "Laugh Track", "Comedy", "StreamCo One", "StreamCo",
     "Special", "VOD", "N/A", "N/A", 1.0),
)  # fmt: skip

_APP_VERSIONS = (("6.2.0", 5.0), ("6.1.3", 3.0), ("6.1.2", 1.5), ("6.0.0", 0.7), ("5.9.4", 0.3))
_TIERS = (("Basic with Ads", 5.0), ("Standard", 3.0), ("Premium", 2.0))

# Dimensions whose values do not depend on the others: snake key -> values.
INDEPENDENT_VALUES: Mapping[str, tuple[str, ...]] = {
    "ad_break_id": ("break-pre-1", "break-mid-1", "break-mid-2", "break-post-1"),
    "ad_break_index": ("0", "1", "2", "3"),
    "ad_campaign_name": ("Spring Sale", "New Model Launch", "Holiday Push", "Brand Awareness"),
    "ad_category": ("Automotive", "Retail", "Finance", "Travel", "Food & Beverage"),
    "ad_creative_id": ("cr-10231", "cr-10447", "cr-11002", "cr-11350", "cr-12009"),
    "ad_creative_name": ("Drive Further 30s", "Big Sale 15s", "Bank Smarter 30s", "Fly Away 20s"),
    "ad_creative_type": ("video/mp4", "application/x-mpegURL"),
    "ad_day_part": ("Morning", "Daytime", "Prime Time", "Late Night"),
    "ad_deal_id": ("deal-001", "deal-017", "deal-042", "N/A"),
    "ad_fallback_index": ("0", "1"),
    "ad_first_ad_id": ("ad-5501", "ad-5502", "ad-5603", "ad-5718"),
    "ad_first_ad_system": ("Google Ad Manager", "FreeWheel", "SpringServe"),
    "ad_first_creative_id": ("cr-10231", "cr-10447", "cr-11002"),
    "ad_id": ("ad-5501", "ad-5502", "ad-5603", "ad-5718", "ad-5820"),
    "ad_is_slate": ("false", "false", "false", "true"),
    "ad_manager_name": ("Google IMA SDK", "FreeWheel SDK", "Google DAI"),
    "ad_manager_version": ("3.30.0", "3.29.2", "7.6.0"),
    "ad_media_file_api_framework": ("N/A", "VPAID", "OMID"),
    "ad_planned_duration": ("15", "20", "30"),
    "ad_position": ("Preroll", "Midroll", "Postroll"),
    "ad_sequence": ("1", "2", "3"),
    "ad_session_start_event": ("start", "impression"),
    "ad_stitcher": ("None", "AWS MediaTailor", "Google DAI"),
    "ad_system": ("Google Ad Manager", "FreeWheel", "SpringServe"),
    "ad_technology": ("Client Side", "Server Side"),
    "ad_type": ("Linear", "Non-linear"),
    "ad_unit_name": ("/1234/streamco/preroll", "/1234/streamco/midroll"),
    "ad_video_asset_name": ("Drive Further 30s", "Big Sale 15s", "Fly Away 20s"),
    "advertiser": ("Northwind Motors", "Contoso Bank", "Fabrikam Air", "Tailspin Foods"),
    "advertiser_category": ("Automotive", "Finance", "Travel", "Food & Beverage"),
    "advertiser_id": ("adv-301", "adv-302", "adv-303", "adv-304"),
    "advertiser_name": ("Northwind Motors", "Contoso Bank", "Fabrikam Air", "Tailspin Foods"),
    "conviva_core_sdk_version": ("4.7.2", "4.7.1", "4.6.0"),
    "customer": ("c3.StreamCo",),
    "precision_algo_id": ("pa-1", "pa-2"),
    "precision_rs": ("rs-default", "rs-low-latency"),
    "preroll_status": ("Preroll", "No Preroll"),
    "utm_tracking_code": ("N/A", "newsletter", "social", "search"),
    "video_playback_failure_business_error": ("N/A", "Concurrent stream limit", "Session expired"),
    "video_playback_failure_error": ("Network timeout", "Decoder error", "DRM license expired"),
    "video_playback_failure_tech_error": ("Network timeout", "Decoder error", "Segment 404"),
    "video_start_failure_business_error": ("N/A", "Geo-blocked", "Entitlement denied"),
    "video_start_failure_error": ("Manifest load error", "DRM license failure", "Network timeout"),
    "video_start_failure_tech_error": ("Manifest load error", "DRM license failure", "CDN 503"),
    "ad_video_playback_failure_error": ("Ad media timeout", "VAST error 405"),
    "ad_video_start_failure_error": ("VAST error 303", "Ad request timeout", "VAST error 402"),
}


def _pick(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([value for value, _ in options], [weight for _, weight in options])[0]


def _segment(rng: random.Random, index: int) -> tuple[float, Segment]:
    place = rng.choices(_PLACES, [p[7] for p in _PLACES])[0]
    country, continent, state, city, dma, postal, tz, place_weight = place
    isp, asn, _ = rng.choices(ISPS[country], [i[2] for i in ISPS[country]])[0]
    device = rng.choices(DEVICE_FAMILIES, [float(d[15]) for d in DEVICE_FAMILIES])[0]
    cdn, host, _, rebuffering = rng.choices(CDNS, [c[2] for c in CDNS])[0]
    content = rng.choices(_CONTENT, [c[10] for c in _CONTENT])[0]
    app_version = _pick(rng, _APP_VERSIONS)
    tier = _pick(rng, _TIERS)
    edge = rng.randint(1, 4)
    server = host.format(n=rng.randint(10, 99))
    mobile = device[1] in ("Mobile", "Tablet")
    values = {key: rng.choice(options) for key, options in INDEPENDENT_VALUES.items()}
    values.update(
        geo_country_code=country,
        geo_continent_name=continent,
        geo_state_name=state,
        geo_city_name=f"{city}, {state}, {_COUNTRY_NAMES[country]}",
        geo_dma=dma,
        geo_postal_code=postal,
        isp=isp,
        asn=f"AS{asn}",
        device_name=device[0],
        device_category=device[1],
        device_os=device[2],
        device_os_family=device[3],
        device_os_version=device[4],
        device_manufacturer=device[5],
        device_marketing_name=device[6],
        device_model=device[7],
        device_hardware_type=device[8],
        platform=device[9],
        platform_version=device[4],
        player_name=f"StreamCo_{device[9].replace(' ', '')}",
        player_framework_name=device[10],
        player_framework_version=device[11],
        browser_name=device[12],
        browser_version=device[13],
        connection_type=device[14],
        network_connection_type="Cellular" if device[14] == "Cellular" else "Fixed Broadband",
        user_agent=f"StreamCo/{app_version} ({device[2]} {device[4]}; {device[6]})",
        cdn=cdn,
        cdn_edge_group=f"{cdn.split()[-1].lower()}-{continent.split()[0].lower()}-{edge}",
        cdn_edge_server=server,
        stream_host=f"{cdn.split()[-1].lower()}.streamco-video.com",
        precision_cdn=cdn,
        asset=content[0],
        video_asset_name=content[0],
        asset_type="Live" if content[7] == "Live" else "On Demand",
        content_category=content[7],
        content_meta_show_title=content[1],
        content_meta_series_name=content[2],
        content_meta_genre=content[3],
        content_meta_genre_list=f"{content[3]}|Featured",
        content_meta_channel=content[4],
        content_meta_brand=content[5],
        content_meta_affiliate=content[4],
        content_meta_content_type=content[6],
        content_meta_category_type="Live TV" if content[7] == "Live" else "Library",
        content_meta_season_number=content[8],
        content_meta_episode_number=content[9],
        content_meta_id=f"cid-{abs(hash_text(content[0])) % 900000 + 100000}",
        content_meta_name=content[0],
        app_version=app_version,
        is_ad_requested="false" if tier == "Premium" else "true",
    )
    if tier == "Premium":
        values["preroll_status"] = "No Preroll"
    tags = {
        "appVersion": app_version,
        "title": content[1],
        "specialContentId": f"{hash_text(content[0]) & 0xFFFFFFFFFF:010X}",
        "subscriptionTier": tier,
    }
    traits = {
        "minutes_per_play": float(device[16]) * (0.6 if content[6] == "Event" else 1.0) * 0.9,
        "bitrate_kbps": float(device[17]) * (0.8 if mobile else 1.0),
        "framerate": float(device[18]),
        "rebuffering_s_per_min": rebuffering * (1.4 if mobile else 1.0),
        "ads": 0.0 if tier == "Premium" else 1.0,
        "live": 1.0 if content[7] == "Live" else 0.0,
    }
    weight = place_weight * float(device[15]) * content[10] * rng.lognormvariate(0.0, 0.7)
    segment = Segment(index, 0.0, tz, MappingProxyType(values), MappingProxyType(tags), traits)
    return weight, segment


def hash_text(text: str) -> int:
    """A stable 64-bit hash of a string (Python's own ``hash`` changes between runs)."""
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def _build() -> tuple[Segment, ...]:
    rng = random.Random(_POPULATION_SEED)
    drafts = [_segment(rng, index) for index in range(_SEGMENTS)]
    total = sum(weight for weight, _ in drafts)
    return tuple(
        Segment(s.index, weight / total, s.tz_hours, s.values, s.tags, MappingProxyType(s.traits))
        for weight, s in drafts
    )


POPULATION: tuple[Segment, ...] = _build()


# --------------------------------------------------------------------------------------------
# Saved filters and KPI threshold sets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedFilter:
    """A saved filter: AND over dimensions of OR over values (empty: all traffic)."""

    id: int
    name: str
    conditions: Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class KpiSet:
    """A KPI threshold set; stricter thresholds flag more plays as high rebuffering, etc."""

    id: int
    name: str
    thresholds: Mapping[str, float]
    multiplier: float  # how many more plays it flags than "Conviva Good"


SAVED_FILTERS: Mapping[int, SavedFilter] = MappingProxyType(
    {
        f.id: f
        for f in (
            SavedFilter(1234, "All Traffic", MappingProxyType({})),
            SavedFilter(
                180, "Live Only", MappingProxyType({"content_category": frozenset({"Live"})})
            ),
            SavedFilter(
                181, "VOD Only", MappingProxyType({"content_category": frozenset({"VOD"})})
            ),
            SavedFilter(
                2001,
                "US Connected TV",
                MappingProxyType(
                    {
                        "geo_country_code": frozenset({"us"}),
                        "device_category": frozenset({"Set-top Box", "Smart TV"}),
                    }
                ),
            ),
            SavedFilter(
                2002,
                "Mobile Apps",
                MappingProxyType({"device_category": frozenset({"Mobile", "Tablet"})}),
            ),
        )
    }
)

KPIS: Mapping[int, KpiSet] = MappingProxyType(
    {
        1: KpiSet(
            1,
            "Conviva Good",
            MappingProxyType(
                {"video_start_time_s": 5.0, "rebuffering_ratio_pct": 2.0, "bitrate_kbps": 1500.0}
            ),
            1.0,
        ),
        2: KpiSet(
            2,
            "Strict Premium",
            MappingProxyType(
                {"video_start_time_s": 3.0, "rebuffering_ratio_pct": 1.0, "bitrate_kbps": 3000.0}
            ),
            1.7,
        ),
    }
)
