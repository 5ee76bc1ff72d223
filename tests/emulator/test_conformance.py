"""The conformance suite passes against the emulator within its request cap, says what differs
on a server that behaves otherwise, and reports without a credential."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyconviva.conformance import DEFAULT_MAX_REQUESTS, check_names, run
from pyconviva.emulator import Emulator

NOW = "2025-06-02T12:00:00Z"
KEY = "conformance-key-0042"


def test_the_emulator_conforms_within_the_request_cap() -> None:
    emulator = Emulator(now=NOW, client_key=KEY)
    report = run(
        transport=emulator.transport(),
        client_id=emulator.client_id,
        client_key=KEY,
        now=emulator.now(),
    )
    assert report.passed, report.table()
    assert report.counts() == {"hold": len(check_names()), "differ": 0, "could not test": 0}
    logged = emulator.requests()
    assert report.requests_made == len(logged) <= DEFAULT_MAX_REQUESTS == 60
    assert {entry.method for entry in logged} == {"GET"}


def test_a_tight_cap_leaves_checks_untested_and_is_never_exceeded() -> None:
    emulator = Emulator(now=NOW)
    report = run(
        transport=emulator.transport(),
        client_id=emulator.client_id,
        client_key=emulator.client_key,
        now=emulator.now(),
        max_requests=5,
    )
    assert len(emulator.requests()) == report.requests_made == 5
    untested = [r for r in report.results if r.verdict == "could not test"]
    assert untested
    assert all("cap of 5 requests" in r.detail for r in untested)
    assert report.passed  # nothing differs; some checks could not run


def test_a_server_that_behaves_otherwise_is_reported_as_differing() -> None:
    # Before 2024 the API read a historical request without a range as the last day.
    emulator = Emulator(now=NOW, legacy_default_range=True)
    report = run(
        transport=emulator.transport(),
        client_id=emulator.client_id,
        client_key=emulator.client_key,
        now=emulator.now(),
        only=["historical request needs a range"],
    )
    (result,) = report.results
    assert (result.verdict, result.detail) == (
        "differ",
        "a historical request needs a range: 200, expected 400",
    )
    assert not report.passed


def test_the_report_names_checks_and_requests_but_no_credential(tmp_path: Path) -> None:
    emulator = Emulator(now=NOW, client_key=KEY)
    report = run(
        transport=emulator.transport(),
        client_id=emulator.client_id,
        client_key=KEY,
        now=emulator.now(),
        only=["discovery", "credentials"],
    )
    written = report.write(tmp_path / "conformance.json")
    data = json.loads(written.read_text())
    assert [r["verdict"] for r in data["results"]] == ["hold", "hold", "hold"]
    requests = {r["name"]: r["requests"] for r in data["results"]}
    assert requests["metrics discovery lists resources and their endpoints"] == [
        "/insights/3.0/metrics"
    ]
    text = written.read_text() + report.table() + report.write(tmp_path / "c.txt").read_text()
    assert KEY not in text
    assert "3 hold, 0 differ, 0 could not test" in report.table()


@pytest.mark.network
def test_the_suite_runs_against_a_base_url_with_credentials() -> None:
    emulator = Emulator(now=NOW, client_key=KEY)
    with emulator.serve() as url:
        report = run(url, emulator.client_id, KEY, now=emulator.now(), only=["metric group"])
    assert [r.verdict for r in report.results] == ["hold"]
    assert report.base_url == url


def test_a_cap_below_one_request_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run(max_requests=0)
