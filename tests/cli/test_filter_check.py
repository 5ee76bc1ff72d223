"""A filter value that matches nothing: ``--filter isp=Optsu`` gives all zeros, so the command
looks the dimension's values up (one more request, only then) and warns, with suggestions."""

from __future__ import annotations

import pytest

from pyconviva.cli.filter_check import FilterLookup, filter_lookups, unmatched_filter_warning
from pyconviva.emulator import Emulator
from tests.cli.support import run

DAY = ["--start", "2026-11-19T00:00:00Z", "--end", "2026-11-20T00:00:00Z"]


def test_a_misspelt_filter_value_warns_with_the_closest_values(
    env: dict[str, str | None],
) -> None:
    outcome = run(env, "historical", "attempts", "--filter", "isp=Optsu", *DAY, "--emulator")

    assert outcome.exit_code == 0, outcome.output
    values = [line.rsplit(",", 1)[1] for line in outcome.stdout.splitlines()[1:]]
    assert set(values) == {"0"}  # the answer itself is unchanged
    assert "pyconviva: warning: --filter isp=Optsu matched nothing" in outcome.stderr
    assert "did you mean 'Optus'?" in outcome.stderr


def test_the_lookup_costs_one_request_and_only_for_an_all_zero_reply(
    env: dict[str, str | None], served: Emulator
) -> None:
    matching = run(
        env, "historical", "attempts", "--filter", "isp=Optus", *DAY, "--profile", "test"
    )
    assert matching.exit_code == 0, matching.output
    assert len(served.requests()) == 1
    assert "warning" not in matching.stderr

    missing = run(env, "historical", "attempts", "--filter", "isp=Optsu", *DAY, "--profile", "test")
    assert missing.exit_code == 0, missing.output
    lookup = served.requests()[-1]
    assert len(served.requests()) == 3
    assert "/group-by/isp" in lookup.path
    assert "isp" not in dict(lookup.query)  # the lookup is not filtered
    assert "matched nothing" in missing.stderr


def test_a_custom_tag_filter_is_looked_up_by_its_tag(env: dict[str, str | None]) -> None:
    args = ["attempts", "--filter-tag", "appVersion=9.9.9", "--emulator"]
    outcome = run(env, "realtime", *args)

    assert outcome.exit_code == 0, outcome.output
    assert "--filter-tag appVersion=9.9.9 matched nothing" in outcome.stderr


def test_help_says_an_all_zero_reply_costs_one_more_request(env: dict[str, str | None]) -> None:
    text = " ".join(run(env, "historical", "--help").stdout.split())
    assert "When the reply is all zeros, one more request per key lists the key's values" in text


ISP = FilterLookup("--filter isp", "isp", ("Optsu",), "isp")
KNOWN = ["Optus", "Telstra", "optical Fibre Co"]


def test_one_known_value_among_several_means_the_filter_matched() -> None:
    both = FilterLookup("--filter isp", "isp", ("Optsu", "Telstra"), "isp")
    assert unmatched_filter_warning(both, KNOWN, capped=False, window="w") is None


def test_nothing_is_said_when_the_range_has_no_values_at_all() -> None:
    assert unmatched_filter_warning(ISP, [], capped=False, window="w") is None


def test_a_difference_of_case_is_suggested_first() -> None:
    lookup = FilterLookup("--filter isp", "isp", ("OPTUS",), "isp")
    warning = unmatched_filter_warning(lookup, KNOWN, capped=False, window="w")
    assert warning is not None
    assert "did you mean 'Optus'?" in warning


def test_without_close_values_the_warning_says_how_to_list_them() -> None:
    lookup = FilterLookup("--filter isp", "isp", ("zzz",), "isp")
    warning = unmatched_filter_warning(lookup, KNOWN, capped=True, window="w")
    assert warning is not None
    assert "not among the top 3 isp values with data in w" in warning
    assert warning.endswith("list the values with --group-by isp")


@pytest.mark.parametrize(
    ("filter_by", "expected"),
    [
        (
            {"device_os": "iOS"},
            [FilterLookup("--filter device_os", "device_os", ("iOS",), "device-os")],
        ),
        (
            {"isp": ["A", "B"], "filter_id": "7"},
            [FilterLookup("--filter isp", "isp", ("A", "B"), "isp")],
        ),
        (
            {"custom-tag": {"app": "1.2"}},
            [FilterLookup("--filter-tag app", "app", ("1.2",), {"custom-tag": "app"})],
        ),
        (
            {"tag_app": "1.2"},
            [FilterLookup("--filter tag_app", "tag_app", ("1.2",), {"custom-tag": "app"})],
        ),
    ],
)
def test_each_filter_key_is_listed_by_its_own_group_by(
    filter_by: dict[str, object], expected: list[FilterLookup]
) -> None:
    assert filter_lookups(filter_by) == expected
