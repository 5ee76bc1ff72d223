"""pyconviva.exporter: real-time metrics for Prometheus, polled on a schedule, scraped from
memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx2
import pytest

prometheus_client = pytest.importorskip("prometheus_client")

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from pyconviva import ConfigurationError, ConvivaAPI, QueryError  # noqa: E402
from pyconviva.emulator import Emulator, StatusFault  # noqa: E402
from pyconviva.exporter import (  # noqa: E402
    ConvivaCollector,
    ExporterConfig,
    Poller,
    family_for,
    load_config,
    parse_config,
    serve_metrics,
)
from pyconviva.testing import VirtualClock  # noqa: E402

METRICS = ["plays", "video-start-failures", "rebuffering-ratio", "bitrate", "video-start-time"]
CONFIG: dict[str, Any] = {
    "interval": 60,
    "stale_after": 180,
    "metrics": METRICS,
    "filters": [{"name": "all", "dimensions": ["cdn"], "limit": 3}],
}
WAIT = 20.0  # seconds: the bound on waiting for a thread, never a timing assumption

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def api(conviva_emulator: Emulator) -> Iterator[ConvivaAPI]:
    # Half a minute into a minute: the minute before has ended, the current one is filling.
    conviva_emulator.advance(30)
    with conviva_emulator.client(max_retries=0, clock=VirtualClock()) as client:
        yield client


@pytest.fixture
def poller(api: ConvivaAPI) -> Poller:
    return Poller(api, parse_config(CONFIG))


def scrape(poller: Poller) -> Samples:
    """The exposition text, parsed back by prometheus-client's own parser."""
    registry = prometheus_client.CollectorRegistry()
    registry.register(ConvivaCollector(poller))
    text = prometheus_client.generate_latest(registry).decode()
    return parse(text)


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def test_scrape_shows_the_newest_settled_minute_per_filter_and_dimension_value(
    api: ConvivaAPI, poller: Poller
) -> None:
    poller.poll()
    samples = scrape(poller)

    # At 12:00:30 the minute 11:59 is still settling: 11:58 is the newest shown.
    minute = datetime(2025, 6, 2, 11, 58, tzinfo=timezone.utc)
    by_cdn = api.get_real_time_data(METRICS, "cdn", time_range=3, limit=3).records()
    totals = api.get_real_time_data(METRICS, time_range=3).records()
    expected = [(r, "cdn", r["cdn"]) for r in by_cdn] + [(r, "", "") for r in totals]
    for record, dimension, group in expected:
        if record["timestamp"] != minute:
            continue
        family = family_for(record["metric"], record["field"])
        shown = value(
            samples, family.name, filter="all", dimension=dimension, dimension_value=group
        )
        assert shown == pytest.approx(record["value"] / family.divisor)
    shown_minute = value(
        samples, "conviva_exporter_minute_timestamp_seconds", filter="all", dimension="cdn"
    )
    assert shown_minute == minute.timestamp()


def test_percentages_become_ratios_and_units_are_named() -> None:
    assert family_for("video_start_failures", "percentage").name == (
        "conviva_video_start_failures_ratio"
    )
    assert family_for("video_start_failures", "percentage").divisor == 100
    assert family_for("rebuffering_ratio", "ratio").name == "conviva_rebuffering_ratio"
    assert family_for("bitrate", "bps").name == "conviva_bitrate_bits_per_second"
    assert family_for("video_start_time", "value").name == "conviva_video_start_time_seconds"
    assert family_for("plays", "count").name == "conviva_plays"
    assert family_for("mystery-metric", "odd field").name == "conviva_mystery_metric_odd_field"


def test_scrapes_read_memory_and_never_call_the_api(
    conviva_emulator: Emulator, poller: Poller
) -> None:
    poller.poll()
    sent = len(conviva_emulator.requests())
    for _ in range(20):
        scrape(poller)
    assert len(conviva_emulator.requests()) == sent == 2  # totals and by cdn


def test_polls_spend_one_request_per_target_per_interval(
    conviva_emulator: Emulator, poller: Poller
) -> None:
    for _ in range(10):
        poller.poll()
        conviva_emulator.advance(60)

    samples = scrape(poller)
    assert len(conviva_emulator.requests()) == 20
    assert poller.config.requests_per_minute == 2
    assert value(samples, "conviva_exporter_requests_total", filter="all", dimension="cdn") == 10


def test_poll_loop_polls_at_once_then_waits_and_stops_when_told(
    conviva_emulator: Emulator, poller: Poller
) -> None:
    stop = threading.Event()
    loop = threading.Thread(target=poller.run, args=(stop,))
    loop.start()
    deadline = time.monotonic() + WAIT
    while len(conviva_emulator.requests()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    loop.join(WAIT)
    assert not loop.is_alive()
    assert len(conviva_emulator.requests()) == 2  # one poll: the next is 60 s away


def test_exporter_rides_out_a_fault_storm_and_counts_every_error_by_type(
    conviva_emulator: Emulator, poller: Poller
) -> None:
    conviva_emulator.set_random_faults(0.5, seed=7)
    for _ in range(30):
        poller.poll()
        samples = scrape(poller)  # parses after every poll, whatever failed
        conviva_emulator.advance(60)

    errors = {
        labels: count
        for (name, labels), count in samples.items()
        if name == "conviva_exporter_errors_total"
    }
    kinds = {dict(labels)["error"] for labels in errors}
    assert {"ServerError", "APIConnectionError", "RateLimitError"} <= kinds
    failed = sum(errors.values())
    assert 0 < failed < 60
    assert len(conviva_emulator.requests()) == 60  # no retries: each poll one request


def test_series_of_a_failing_target_are_dropped_after_stale_after_and_return_with_data(
    conviva_emulator: Emulator, poller: Poller
) -> None:
    poller.poll()
    by_cdn = {"filter": "all", "dimension": "cdn"}
    conviva_emulator.add_faults(StatusFault(status=503, times=4))
    for _ in range(2):  # two failed polls: within stale_after, the last values stay
        conviva_emulator.advance(60)
        poller.poll()
    assert value(scrape(poller), "conviva_exporter_stale", **by_cdn) == 0
    assert "conviva_plays" in names(scrape(poller))

    conviva_emulator.advance(121)  # the last good poll is now 241 s old
    samples = scrape(poller)
    assert value(samples, "conviva_exporter_stale", **by_cdn) == 1
    assert "conviva_plays" not in names(samples)
    assert value(samples, "conviva_exporter_errors_total", error="ServerError", **by_cdn) == 2
    assert value(samples, "conviva_exporter_last_success_timestamp_seconds", **by_cdn)

    poller.poll()  # the last two faults
    poller.poll()
    samples = scrape(poller)
    assert value(samples, "conviva_exporter_stale", **by_cdn) == 0
    assert "conviva_plays" in names(samples)


def test_served_metrics_come_from_the_exporters_own_registry(
    poller: Poller, conviva_emulator: Emulator
) -> None:
    poller.poll()
    with serve_metrics(ConvivaCollector(poller)) as url:
        reply = httpx2.get(url)
    assert reply.status_code == 200
    samples = parse(reply.text)
    assert "conviva_plays" in names(samples)
    assert "python_gc_objects_collected_total" not in names(samples)  # no global collectors
    assert conviva_emulator.client_key not in reply.text
    assert prometheus_client.REGISTRY.get_sample_value("conviva_exporter_requests_total") is None


SAMPLE_TOML = """
interval = 30
stale_after = 120
max_requests_per_minute = 20
metrics = ["plays", "rebuffering-ratio"]

[[filters]]
name = "all-traffic"
dimensions = ["cdn", "device-os"]

[[filters]]
name = "live"
id = "180"
dimensions = ["isp"]
limit = 10
totals = false
"""


def test_toml_configuration_is_read_into_targets(tmp_path: Path) -> None:
    path = tmp_path / "exporter.toml"
    path.write_text(SAMPLE_TOML)

    config = load_config(path)

    assert isinstance(config, ExporterConfig)
    assert [(t.filter_name, t.filter_id, t.dimension, t.limit) for t in config.targets] == [
        ("all-traffic", None, None, None),
        ("all-traffic", None, "cdn", None),
        ("all-traffic", None, "device-os", None),
        ("live", "180", "isp", 10),
    ]
    assert config.requests_per_minute == 8


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"interval": 1}, "requests a minute"),
        ({"max_requests_per_minute": 900}, "whole real-time budget"),
        ({"stale_after": 10}, "shorter than interval"),
        ({"intervall": 60}, "unknown key"),
        ({"interval": "60"}, "interval must be a number"),
        ({"metrics": "plays"}, "metrics must be an array"),
        ({"metrics": [f"metric-{i}" for i in range(13)]}, "at most 12"),
        ({"filters": [{"name": "x", "totals": False}]}, "poll nothing"),
        ({"filters": [{"name": "x", "limit": 0}]}, "limit must be"),
        ({"filters": [{"dimensions": ["cdn"]}]}, "name must be"),
        ({"filters": []}, "non-empty array"),
    ],
)
def test_bad_configurations_are_refused_with_the_key_to_fix(
    change: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigurationError, match=words):
        parse_config({**CONFIG, **change})


def test_unusable_metric_names_are_refused_before_any_request(
    conviva_emulator: Emulator, api: ConvivaAPI
) -> None:
    with pytest.raises(QueryError):
        Poller(api, parse_config({**CONFIG, "metrics": ["plays/../x"]}))
    assert conviva_emulator.requests() == ()
