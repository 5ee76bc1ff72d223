"""A `dlt <https://dlthub.com>`_ source of historical Conviva metrics (``pip install
'pyconviva[dlt]'``).

:func:`conviva_source` gives one resource, and so one table, per metric selection × group-by.
Every table has the columns of :func:`pyconviva.export_dataset`: ``timestamp`` (UTC bucket
start), ``dimension``, ``dimension_value``, ``metric``, ``field``, ``value``. Loads merge on
(timestamp, dimension value, metric, field), and dlt's incremental cursor on ``timestamp``
remembers the last bucket loaded, so a scheduled pipeline asks only for the buckets that have
settled since its last run: a rerun with nothing new sends no request, and a run that fails or
is killed leaves the cursor where it was, so the next one fetches the same buckets again and
the merge keeps one row each.

Requests go through one :class:`~pyconviva.ConvivaAPI` per resource sharing one
:class:`~pyconviva.RateLimiter`: ranges are split into the API's legal windows, paced to the
account's budget and retried like any other call. A range is fetched in windows of at most 90
days, so a pipeline holds one window of rows at a time.

Credentials follow dlt's conventions: ``client_key`` is a secret (``secrets.toml``
``[sources.conviva]`` or ``SOURCES__CONVIVA__CLIENT_KEY``), ``client_id`` and ``base_url`` are
config. Unset, they fall back to ``CONVIVA_CLIENT_KEY``, ``CONVIVA_CLIENT_ID`` and
``CONVIVA_BASE_URL``, as the client does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from pyconviva import ConvivaAPI, QuerySpec, RateLimiter
from pyconviva._dataset._units import query_pairs, refuse_repeated
from pyconviva._exceptions import MissingDependencyError, QueryError
from pyconviva._query import GroupBy, build_metrics_query, to_instant
from pyconviva._rules import HISTORICAL, HISTORICAL_SETTLE_DELAY, parse_granularity

# This module is itself named "dlt"; imports are absolute, so this finds the dlt package.
try:
    import dlt
except ModuleNotFoundError as exc:  # pragma: no cover - the extra is installed in the suite
    raise MissingDependencyError("pyconviva.dlt", "dlt", "dlt") from exc

__all__ = ["SETTLE_DELAY", "conviva_source"]

# Conviva's historical data for the newest ~10 minutes is still arriving (API reference §9):
# a bucket is loaded once it ended at least this long ago, so the cursor never passes a bucket
# whose numbers will still change.
SETTLE_DELAY = HISTORICAL_SETTLE_DELAY
_FIRST_RUN_DAYS = 7
_WINDOW = timedelta(days=90)  # the longest range one historical request may cover
_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_COLUMNS: dict[str, dict[str, Any]] = {
    "timestamp": {"data_type": "timestamp", "nullable": False},
    "dimension": {"data_type": "text", "nullable": True},
    "dimension_value": {"data_type": "text", "nullable": True},
    "metric": {"data_type": "text", "nullable": False},
    "field": {"data_type": "text", "nullable": False},
    "value": {"data_type": "double", "nullable": True},
}
_NOT_A_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class _Table:
    """One resource: a metric selection and a group-by, the table they load into."""

    metrics: tuple[str, ...]
    group_by: GroupBy
    name: str

    @property
    def primary_key(self) -> tuple[str, ...]:
        if self.group_by is None:
            return ("timestamp", "metric", "field")
        return ("timestamp", "dimension_value", "metric", "field")


def _tables(
    metrics: str | Sequence[str | Sequence[str]], group_bys: Sequence[GroupBy]
) -> list[_Table]:
    tables = [
        _Table(names, group, _table_name(names, group))
        for names, group in query_pairs(metrics, group_bys)
    ]
    refuse_repeated([table.name for table in tables], "table")
    return tables


def _table_name(metrics: tuple[str, ...], group_by: GroupBy) -> str:
    """``attempts_plays`` ungrouped, ``attempts_plays_by_isp``, ``plays_by_tag_appversion``."""
    name = "_".join(_snake(m) for m in metrics)
    if group_by is None:
        return name
    if isinstance(group_by, str):
        return f"{name}_by_{_snake(group_by)}"
    return f"{name}_by_tag_{'_'.join(_snake(str(v)) for v in group_by.values())}"


def _snake(text: str) -> str:
    return _NOT_A_NAME.sub("_", text.lower()).strip("_")


def _bucket_step(granularity: str) -> timedelta:
    """The bucket length; only granularities that divide a day, so buckets sit on a grid that
    the cursor can step along."""
    try:
        parsed = parse_granularity(granularity, HISTORICAL)
    except ValueError as exc:
        raise QueryError(f"granularity={granularity!r}: {exc}", argument="granularity") from exc
    step = parsed.step
    if step is None or step > _DAY or _DAY % step:
        raise QueryError(
            f"granularity={granularity!r}: incremental loads step bucket by bucket, so buckets "
            "must divide a day; use e.g. 'PT15M', 'PT1H' or 'P1D'",
            argument="granularity",
        )
    return step


def _floor(instant: datetime, step: timedelta) -> datetime:
    return instant - (instant - _EPOCH) % step


def _windows(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    while start < end:
        stop = min(start + _WINDOW, end)
        yield start, stop
        start = stop


def _rows(
    api: ConvivaAPI,
    table: _Table,
    start: datetime,
    end: datetime,
    options: Mapping[str, Any],
) -> Iterator[list[dict[str, Any]]]:
    """The table's rows over [start, end), one list per window."""
    for window in _windows(start, end):
        result = api.get_historical_data(
            list(table.metrics), table.group_by, time_range=window, **options
        )
        dimension = result.dimension
        yield [
            {
                "timestamp": record["timestamp"],
                "dimension": dimension,
                "dimension_value": None if dimension is None else str(record[dimension]),
                "metric": record["metric"],
                "field": record["field"],
                "value": None if record["value"] is None else float(record["value"]),
            }
            for record in result.records()
        ]


def _resource(
    open_client: Callable[[], AbstractContextManager[ConvivaAPI]],
    table: _Table,
    step: timedelta,
    first: datetime,
    end: datetime | None,
    options: Mapping[str, Any],
) -> Any:
    """The table's dlt resource. Its cursor holds the start of the last bucket loaded (at
    first the bucket before ``first``), so each run asks for the buckets after it."""

    @dlt.resource(
        name=table.name,
        write_disposition="merge",
        primary_key=table.primary_key,
        columns=_COLUMNS,
    )
    def rows(
        # dlt finds a resource's cursor as an argument default, and keeps its state per resource
        cursor: Any = dlt.sources.incremental("timestamp", initial_value=first - step),  # noqa: B008
    ) -> Iterator[list[dict[str, Any]]]:
        with open_client() as api:
            stop = end if end is not None else _settled(api.clock.now(), step)
            start = _floor(cursor.last_value, step) + step
            yield from _rows(api, table, start, stop, options)

    return rows


def _settled(now: datetime, step: timedelta) -> datetime:
    """The end of the newest bucket whose data has all arrived."""
    return _floor(now - SETTLE_DELAY, step)


def _client_opener(
    api: ConvivaAPI | None, settings: Mapping[str, Any]
) -> Callable[[], AbstractContextManager[ConvivaAPI]]:
    if api is not None:
        return lambda: nullcontext(api)  # the caller's client: theirs to close
    return lambda: ConvivaAPI(**settings)


@dlt.source(name="conviva", section="conviva", max_table_nesting=0)
def conviva_source(
    metrics: str | Sequence[str | Sequence[str]] = ("attempts", "plays"),
    group_bys: Sequence[GroupBy] = (None,),
    granularity: str = "PT1H",
    start: datetime | date | str | None = None,
    end: datetime | date | str | None = None,
    limit: int | None = None,
    filter_by: dict[str, Any] | None = None,
    client_id: str | None = dlt.config.value,
    client_key: str | None = dlt.secrets.value,
    base_url: str | None = dlt.config.value,
    api: ConvivaAPI | None = None,
) -> Any:
    """Historical Conviva metrics as dlt resources, loaded incrementally and merged.

    Args:
        metrics: what to load, as :func:`pyconviva.export_dataset` takes it: a metric (or
            metric-group) name, or a list whose items are a name or a list of names fetched
            together. Each item × each group-by is one resource and one table.
        group_bys: a dimension (``"isp"``), ``None`` for the ungrouped totals, or
            ``{"custom-tag": "appVersion"}``, per table (default: ungrouped only).
        granularity: the bucket size, one that divides a day (``"PT15M"``, ``"PT1H"``,
            ``"P1D"``). Keep it fixed for a dataset: the cursor steps by it.
        start: where the first run starts (a datetime, date or ISO string; default: 7 days
            before the first run's end). Later runs continue from their cursor.
        end: where every run stops (default: the newest bucket that ended at least
            :data:`SETTLE_DELAY` ago), for a bounded backfill.
        limit: keep the top ``limit`` groups of each request (1-500; the API's default 50).
        filter_by: a filter, as ``get_historical_data`` takes it, e.g. ``{"filter_id": "180"}``.
        client_id, base_url: dlt config (``[sources.conviva]``); unset, the client reads
            ``CONVIVA_CLIENT_ID`` and ``CONVIVA_BASE_URL``.
        client_key: a dlt secret; unset, the client reads ``CONVIVA_CLIENT_KEY``.
        api: a client to fetch with instead (e.g. ``Emulator().client()``); the credentials are
            then not used, and the client is not closed.

    Returns:
        A dlt source with one resource per table; ``.with_resources(name)`` picks some.

    Raises:
        QueryError: bad metrics, group-bys, granularity, range or filter, before any request.
        ConfigurationError: missing credentials or an unsafe ``base_url``.
    """
    step = _bucket_step(granularity)
    tables = _tables(metrics, group_bys)
    open_client = _client_opener(
        api,
        {
            "client_key": client_key,
            "client_id": client_id,
            "base_url": base_url,
            "rate_limit": RateLimiter(),  # one account budget shared by every resource's client
        },
    )
    with open_client() as client:  # missing credentials or a bad base_url fail here
        now = client.clock.now()
    # A run ends on a bucket boundary, so the last bucket it loads is whole.
    last = _floor(to_instant(end, "end", argument="end"), step) if end is not None else None
    first_end = last if last is not None else _settled(now, step)
    first = (
        _floor(to_instant(start, "start", argument="start"), step)
        if start is not None
        else first_end - timedelta(days=_FIRST_RUN_DAYS)
    )
    for table in tables:
        options: dict[str, Any] = {"granularity": granularity, "filter_by": filter_by}
        if table.group_by is not None:
            options["limit"] = limit  # the top groups; an ungrouped query takes no limit
        # Refused here, as the client would refuse it, rather than in the middle of a load.
        spec = QuerySpec.historical(
            list(table.metrics), table.group_by, time_range=(first, first + step), **options
        )
        build_metrics_query(spec, now=now, check_limits=False)
        yield _resource(open_client, table, step, first, last, options)
