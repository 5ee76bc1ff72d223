"""The retry policy's pure decisions: what is retried and counted, Retry-After, backoff delays."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyconviva import ConfigurationError, RetryPolicy
from pyconviva._retry import (
    counts_against_max_retries,
    next_delay,
    parse_retry_after,
    should_retry,
    within_budget,
)

NOW = datetime(2025, 1, 10, 12, 34, 56, tzinfo=timezone.utc)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@pytest.mark.parametrize("failure", ["connection", "timeout", 408, 429, 500, 502, 503, 504, 599])
def test_transient_failures_are_retried(failure: int | str) -> None:
    assert should_retry(failure)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [300, 301, 400, 401, 403, 404, 409, 413, 422, 451])
def test_answers_about_the_request_itself_are_never_retried(status: int) -> None:
    assert not should_retry(status)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("soon", None),
        ("12abc", None),
        ("-1", None),
        ("-0.5", None),
        ("nan", None),
        ("inf", None),
        ("0", 0.0),
        ("7", 7.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("59.9", 59.9),
        ("86400", 86400.0),
        ("1e12", 1e12),
        (http_date(NOW + timedelta(seconds=30)), 30.0),
        (http_date(NOW + timedelta(hours=2)), 7200.0),
        (http_date(NOW - timedelta(seconds=30)), 0.0),
        ("Wed, 99 Foo 2025 99:99:99 GMT", None),
    ],
)
def test_parse_retry_after_table(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_parse_retry_after_cuts_only_at_a_cap_given() -> None:
    assert parse_retry_after("300", NOW, cap=120.0) == 120.0
    assert parse_retry_after("300", NOW, cap=600.0) == 300.0


def test_backoff_doubles_from_the_base_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(jitter=0.0)
    delays = [next_delay(attempt, policy, None, 0.5) for attempt in range(1, 8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_jitter_only_shortens_the_delay_by_at_most_its_fraction() -> None:
    policy = RetryPolicy(jitter=0.25)
    assert next_delay(2, policy, None, 0.0) == 1.0
    assert next_delay(2, policy, None, 0.999999) == pytest.approx(0.75, abs=1e-5)


def test_retry_after_overrides_backoff_and_is_obeyed_as_given() -> None:
    policy = RetryPolicy(retry_after_cap=10.0)
    assert next_delay(1, policy, 3.0, 0.9) == 3.0
    assert next_delay(1, policy, 0.0, 0.9) == 0.0
    # Whether a long one fits (the cap, the deadline) is the caller's decision, not a cut.
    assert next_delay(1, policy, 45.0, 0.9) == 45.0


@pytest.mark.parametrize("failure", ["connection", "timeout", 408, 500, 502, 503])
def test_retries_after_faults_count_against_max_retries(failure: int | str) -> None:
    assert counts_against_max_retries(failure)  # type: ignore[arg-type]


def test_retries_after_a_429_are_not_counted_the_deadline_bounds_them() -> None:
    assert not counts_against_max_retries(429)


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert next_delay(10_000, RetryPolicy(jitter=0.0), None, 0.0) == 8.0


@settings(max_examples=200)
@given(
    attempt=st.integers(min_value=1, max_value=2000),
    rng_value=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
def test_delays_are_never_negative_nor_above_the_cap(
    attempt: int, rng_value: float, jitter: float
) -> None:
    policy = RetryPolicy(jitter=jitter)
    delay = next_delay(attempt, policy, None, rng_value)
    assert 0.0 <= delay <= policy.max_delay


@settings(max_examples=100)
@given(attempt=st.integers(min_value=1, max_value=50), rng_value=st.floats(0.0, 0.999))
def test_the_same_random_input_gives_the_same_delay(attempt: int, rng_value: float) -> None:
    policy = RetryPolicy()
    assert next_delay(attempt, policy, None, rng_value) == next_delay(
        attempt, policy, None, rng_value
    )


def test_within_budget_counts_elapsed_time_and_the_next_wait() -> None:
    policy = RetryPolicy(total_timeout=10.0)
    assert within_budget(4.0, 6.0, policy)
    assert not within_budget(4.0, 6.5, policy)
    assert not within_budget(11.0, 0.0, policy)


def test_policy_defaults_are_the_documented_ones() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.backoff_base, policy.backoff_factor) == (10, 0.5, 2.0)
    assert (policy.max_delay, policy.total_timeout, policy.retry_after_cap) == (8.0, 300.0, None)
    assert 0.0 < policy.jitter < 1.0


def test_the_default_deadline_covers_two_rate_limit_windows_and_the_per_ip_one() -> None:
    window_and_margin = 60.0 + 1.0
    assert RetryPolicy().total_timeout >= 2 * window_and_margin
    assert RetryPolicy().total_timeout >= 300.0  # the per-IP budget's window


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_retries", -1),
        ("max_retries", 1.5),
        ("max_retries", True),
        ("backoff_base", -0.1),
        ("backoff_factor", 0.5),
        ("max_delay", float("inf")),
        ("jitter", 1.5),
        ("jitter", -0.1),
        ("total_timeout", float("nan")),
        ("retry_after_cap", "60"),
        ("retry_after_cap", float("inf")),
        ("retry_after_cap", -1.0),
    ],
)
def test_invalid_policies_are_refused_with_the_field_named(field: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=field):
        RetryPolicy(**{field: value})  # type: ignore[arg-type]


def test_zero_retries_is_a_valid_policy() -> None:
    assert RetryPolicy(max_retries=0).max_retries == 0
