"""``ConvivaAPI`` and ``AsyncConvivaAPI``: thin I/O shells over :mod:`pyconviva._base_client`.

The two classes have the same public methods with the same signatures (a test checks this);
they differ only in ``send`` vs ``await send`` and ``clock.sleep`` vs ``await
clock.async_sleep``. A call travels as one :class:`~pyconviva.QuerySpec`, built by the public
method.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta
from types import TracebackType
from typing import TypeAlias

import httpx2

from pyconviva._base_client import Attempts, BaseConvivaClient, PreparedRequest
from pyconviva._bulk import (
    BatchResult,
    Outcome,
    Progress,
    assemble_batch,
    batch_windows,
    too_large_halves,
)
from pyconviva._clock import Clock
from pyconviva._config import DEFAULT_LIMITS, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from pyconviva._exceptions import ConvivaError, ResponseTooLargeError
from pyconviva._names import DimensionName, MetricGroupName, MetricName
from pyconviva._query import (
    FilterBy,
    GroupBy,
    Metrics,
    MetricsQuery,
    QuerySpec,
    SortBy,
    TimeRange,
    group_by_endpoints_path,
    metadata_path,
)
from pyconviva._ratelimit import AsyncRateLimiter, RateLimiter, SyncRateLimiter
from pyconviva._results import MetadataResult, MetricsResult
from pyconviva._retry import RetryPolicy
from pyconviva._wire import (
    DEADLINE_PASSED,
    aread_reply,
    bound_sockets,
    deadline,
    read_reply,
    within,
)

__all__ = ["AsyncConvivaAPI", "ConvivaAPI"]

DEFAULT_MAX_CONCURRENCY = 8

# The catalogue's names first, so that editors offer them; any other string still passes (a
# custom metric, a name newer than the catalogue), so mypy checks names only where the caller
# annotates them with the Literal types themselves.
MetricsArg: TypeAlias = "MetricName | MetricGroupName | Sequence[MetricName] | Metrics"
GroupByArg: TypeAlias = "DimensionName | GroupBy"


class ConvivaAPI(BaseConvivaClient):
    """Client for Conviva's Metrics V3 API.

    Every endpoint is a method; replies come back as :class:`~pyconviva.MetricsResult` or
    :class:`~pyconviva.MetadataResult`, read-only mappings over the raw JSON. One pooled HTTP
    connection set is kept per instance: reuse the instance, and close it when done (or use
    it as a context manager).

    Args:
        client_key: the API client key (Conviva calls it the client *secret*). Positional
            order is ``ConvivaAPI(client_key, client_id)``, as in the original README; the
            keywords avoid any doubt. Falls back to ``CONVIVA_CLIENT_KEY`` (or
            ``CONVIVA_CLIENT_SECRET``).
        client_id: the API client id. Falls back to ``CONVIVA_CLIENT_ID``.
        client_secret: Conviva's name for the key; give it or ``client_key``, not both.
        base_url: API root, default ``https://api.conviva.com`` or ``CONVIVA_BASE_URL``. Must
            be ``https://`` except for loopback hosts (a local emulator).
        timeout: seconds allowed for each of connect, read, write and pool acquisition
            (default 30), or an ``httpx2.Timeout`` for finer control. Applies per attempt; a
            whole call ends within the retry policy's ``total_timeout`` plus one such timeout
            of its own time, even against a server that trickles its reply byte by byte.
        max_retries: retries after a connection error, timeout, 408 or 5xx (default 10): a
            backstop, since the retry policy's deadline (``total_timeout``, default 300 s)
            bounds a call first. Retries after a 429 are not counted; ``0`` disables every
            retry.
        retry: a full :class:`~pyconviva.RetryPolicy` (backoff, jitter, deadline,
            ``Retry-After`` cap) instead of ``max_retries``.
        transport: an ``httpx2`` transport to send through instead of the network, e.g. the
            emulator's ``Emulator().transport()``.
        verify: a CA bundle path (file or directory) or an ``ssl.SSLContext`` to verify the
            server with. Verification cannot be switched off. Default: the system trust store,
            or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set. Proxies come from the usual
            ``HTTPS_PROXY`` / ``NO_PROXY`` environment variables.
        clock: the client's time: a :class:`~pyconviva.Clock` whose ``now()`` resolves and
            checks time ranges, whose ``monotonic()`` measures the retry deadline and paces the
            rate limit, and whose ``sleep()`` (``async_sleep()`` in the async client) makes
            every wait, between retries and for the rate limit. Default: a
            :class:`~pyconviva.SystemClock`, real time. In tests, a
            :class:`pyconviva.testing.VirtualClock` makes waits instant and records them. A
            function returning the current UTC ``datetime`` (the earlier form) is accepted too:
            it gives the wall time, and waits are real. Read it back as :attr:`clock`.
        rate_limit: ``True`` (default) keeps to the API's published request budgets (a burst
            up to a whole budget goes out at once; only larger jobs are paced) and learns from
            429s that others spend them too: after a 429 without ``Retry-After`` every request
            of the client pauses until the window can have freed (61 s, logged at INFO), then
            resumes at a lower estimate that grows back. ``False`` paces nothing (a 429 still
            pauses the client for the window). A :class:`~pyconviva.RateLimiter` sets other
            budgets or an ``on_pause`` callback; clients given the same ``RateLimiter`` share
            its budgets and pauses. Time a request waits in the limiter is not charged to its
            deadline.
        max_concurrency: the most requests one call keeps in flight at once (default 8), when
            it fetches a split range or a batch (``get_many``).
        max_window: the longest span one request may cover when a range is split, as a
            positive ``timedelta`` (default ``None``: the API's limits, e.g. 90 days). A
            shorter window makes more, smaller requests: smaller replies, and less to fetch
            again when one fails. Applies to every split call and to ``get_many``; a call
            with ``split=False`` sends its range as one request regardless. A window is never
            shorter than one bucket of the query's granularity.

    Raises:
        ConfigurationError: missing credentials, unsafe ``base_url`` or TLS settings, or a
            ``max_concurrency``, ``rate_limit``, ``max_window`` or ``clock`` of the wrong kind.

    Example:
        >>> from pyconviva import ConvivaAPI
        >>> with ConvivaAPI(client_id="my-id", client_key="my-key") as api:  # doctest: +SKIP
        ...     data = api.get_historical_data("attempts", group_by="isp", time_range=5)
        ...     data["time_series"]
    """

    def __init__(
        self,
        client_key: str | None = None,
        client_id: str | None = None,
        *,
        client_secret: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx2.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry: RetryPolicy | None = None,
        transport: httpx2.BaseTransport | None = None,
        verify: str | ssl.SSLContext | None = None,
        clock: Clock | Callable[[], datetime] | None = None,
        rate_limit: bool | RateLimiter = True,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_window: timedelta | None = None,
    ) -> None:
        super().__init__(
            client_key,
            client_id,
            client_secret=client_secret,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            verify=verify,
            clock=clock,
            rate_limit=rate_limit,
            max_concurrency=max_concurrency,
            max_window=max_window,
            transport=transport,
        )
        self._rate = SyncRateLimiter(self._rate_limiter, clock=self._clock)
        self._http = httpx2.Client(
            timeout=self._config.timeout,
            verify=self._config.verify,
            trust_env=self._config.trust_env,  # a loopback base URL never goes through a proxy
            limits=DEFAULT_LIMITS,
            transport=transport,
        )
        bound_sockets(self._http)

    def close(self) -> None:
        """Close the pooled connections. The client cannot send afterwards.

        A copy made by :meth:`with_options` shares the original's connections and leaves
        them open: closing the original closes them.
        """
        if self._owns_connections:
            self._http.close()

    def __enter__(self) -> ConvivaAPI:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _send_once(self, prepared: PreparedRequest, attempts: Attempts) -> httpx2.Response:
        with deadline(attempts.exchange_limit()):
            response = self._http.send(prepared.request, stream=True)
            try:
                return read_reply(response, prepared.description)
            finally:
                response.close()

    def _send(self, prepared: PreparedRequest) -> httpx2.Response:
        """Send one prepared request, retrying per the policy; a 2xx response or an error."""
        attempts = self._attempts(prepared)
        while True:
            # Every attempt is charged by the API, so every attempt waits for the rate limit,
            # and holds its slot until its outcome is taken in (see RateLimiter, slow start).
            with self._rate.acquire(prepared.root, prepared.cost) as slot:
                attempts.sending(slot.waited)
                try:
                    response = self._send_once(prepared, attempts)
                except httpx2.RequestError as exc:
                    retry = attempts.after_failure(exc)
                else:
                    if response.is_success:
                        return attempts.succeeded(response)
                    retry = attempts.after_status(response)
            wait = retry.left(self._clock.monotonic())
            if wait > 0:
                self._clock.sleep(wait)

    def _fetch(self, window: MetricsQuery, split: bool) -> list[MetricsResult]:
        """One window's replies: its own, or (``split``) after a 413 those of its halves."""
        prepared = self._prepare_metrics(window)
        try:
            return [self._metrics_result(self._send(prepared), prepared, window)]
        except ResponseTooLargeError as exc:
            if not split:
                raise
            first, second = too_large_halves(window, exc)
        return [*self._fetch(first, split), *self._fetch(second, split)]

    def _outcome(self, window: MetricsQuery, split: bool) -> Outcome:
        try:
            return self._fetch(window, split)
        except ConvivaError as exc:
            return exc

    def _fetch_all(
        self,
        windows: Sequence[MetricsQuery],
        max_concurrency: int,
        progress: Progress,
        *,
        split: bool = True,
    ) -> list[Outcome]:
        """Every window's outcome, in order; at most ``max_concurrency`` threads send at once."""
        if len(windows) <= 1 or max_concurrency == 1:
            outcomes = []
            for window in windows:
                outcomes.append(self._outcome(window, split))
                progress.advance()
            return outcomes
        found: dict[int, Outcome] = {}
        pool = ThreadPoolExecutor(min(max_concurrency, len(windows)), "pyconviva")
        try:
            futures: dict[Future[Outcome], int] = {
                pool.submit(self._outcome, window, split): i for i, window in enumerate(windows)
            }
            for future in as_completed(futures):  # progress reported from the caller's thread
                found[futures[future]] = future.result()
                progress.advance()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [found[i] for i in range(len(windows))]

    def _get(self, spec: QuerySpec, split: bool) -> MetricsResult:
        planned = self._plan(spec, split)
        windows = planned.windows
        progress = Progress(None, len(windows))
        outcomes = self._fetch_all(windows, self._max_concurrency, progress, split=split)
        return self._query_result(planned, outcomes)

    def get_many(
        self,
        specs: Iterable[QuerySpec],
        *,
        max_concurrency: int | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> BatchResult:
        """Run many queries concurrently, at the rate limit; results in input order.

        Each query is split like a single call when its range needs it. A failed query does not
        stop the others: its error takes its place in the result (``raise_for_errors()`` raises
        the first). Invalid specs are reported the same way, and never sent.

        Args:
            specs: the queries, each a :class:`~pyconviva.QuerySpec` (``QuerySpec.historical(
                "attempts", group_by="isp", time_range=7)``, ``QuerySpec.real_time(...)``).
            max_concurrency: the most requests in flight at once (default: the client's).
            progress: called as ``progress(done, total)`` after each request window finishes,
                from the calling thread.

        Returns:
            A :class:`~pyconviva.BatchResult`: a sequence of ``MetricsResult`` or error, one
            per spec, with ``.results``, ``.errors`` and ``.raise_for_errors()``.

        Raises:
            QueryError: ``max_concurrency`` is not a positive whole number.

        Example:
            >>> specs = [QuerySpec.historical("attempts", group_by=d) for d in ("isp", "cdn")]
            >>> batch = api.get_many(specs)  # doctest: +SKIP
            >>> batch.raise_for_errors()  # doctest: +SKIP
        """
        planned, errors, bound = self._plan_batch(specs, max_concurrency)
        windows = batch_windows(planned)
        outcomes = self._fetch_all(windows, bound, Progress(progress, len(windows)))
        return assemble_batch(planned, errors, outcomes)

    def get_historical_data(
        self,
        metrics: MetricsArg,
        group_by: GroupByArg = None,
        filter_by: FilterBy = None,
        time_range: TimeRange = None,
        sort_by: SortBy = None,
        granularity: str | None = None,
        *,
        limit: int | None = None,
        kpi_id: int | str | None = None,
        split: bool = True,
    ) -> MetricsResult:
        """Historical metric data (up to 13 months back, at most 90 days per request).

        Args:
            metrics: one metric or metric-group name (``"attempts"``, ``"quality-summary"``),
                or a list of up to 12 metric names.
            group_by: a dimension (``"isp"``, ``"device_name"``), or
                ``{"custom-tag": "appVersion"}`` to group by a custom tag.
            filter_by: ``{dimension: value}`` or ``{dimension: [value, ...]}`` (values of one
                dimension are OR-ed, dimensions AND-ed); ``{"custom-tag": {"tag": "v"}}`` for
                custom tags; or ``{"filter_id": "180"}`` for a saved filter (alone).
            time_range: days back as an ``int`` (default 1 day, ending at the last full
                hour), a ``timedelta``, a ``(start, end)`` pair of datetimes, dates or ISO
                strings, or the API's own parameters as a dict
                (``{"start_date": ..., "end_date": ...}``, ``start_epoch``/``end_epoch``).
            sort_by: a requested metric to sort groups by, descending; ``[metric, "asc"]``
                for ascending. Needs ``group_by``.
            granularity: bucket size as an ISO 8601 duration (``"PT1H"`` default, ``"P1D"``,
                ``"P1W"``, ``"PT15M"``, ...) or ``"ALL"`` for one bucket.
            limit: keep the top ``limit`` groups (1-500; the API default is 50).
            kpi_id: a KPI threshold definition id (see :meth:`get_kpis`).
            split: fetch a range longer than one request may cover (90 days; 24 hours for
                minutely buckets; or the client's ``max_window``) as several legal windows,
                concurrently and at the rate limit, and halve a window whose reply is too
                large (413); the replies are merged into one result whose ``notes`` say what a
                merge cannot keep. It holds every bucket once, each as its own window returned
                it; in ``total``, the counts of additive metrics summed over the windows (the
                rest dropped, with a note). With ``group_by``, each window ranks its own top
                ``limit`` groups, so the rows are the union of those: a group missing from a
                window that returned its full ``limit`` has no rows there — unknown, never
                zero (null once pivoted) — and a note names those windows and groups, so a sum
                of that group over the range is short by them. ``False``: one request, refused
                when too long.

        Returns:
            The reply as a :class:`~pyconviva.MetricsResult`: ``data["time_series"]``,
            ``data["total"]`` and ``data["_meta"]`` as in the raw JSON, plus ``records()``,
            ``to_pandas()``, ``to_polars()`` and file writers.

        Raises:
            QueryError: invalid arguments, before any request is sent.
            APIStatusError: the API refused the request (a subclass per status).
            APIConnectionError: no reply, after the retries.

        Example:
            >>> api.get_historical_data("attempts", group_by="isp", time_range=5)  # doctest: +SKIP
            >>> api.get_historical_data(
            ...     ["attempts", "bitrate"], group_by="isp", sort_by=["bitrate", "asc"]
            ... )  # doctest: +SKIP
        """
        spec = QuerySpec.historical(
            metrics,
            group_by,
            filter_by,
            time_range,
            sort_by,
            granularity,
            limit=limit,
            kpi_id=kpi_id,
        )
        return self._get(spec, split)

    def get_real_time_data(
        self,
        metrics: MetricsArg,
        group_by: GroupByArg = None,
        filter_by: FilterBy = None,
        time_range: TimeRange = None,
        sort_by: SortBy = None,
        granularity: str | None = None,
        *,
        limit: int | None = None,
        kpi_id: int | str | None = None,
        split: bool = True,
    ) -> MetricsResult:
        """Real-time metric data: the last few minutes (at most 15), by the minute.

        Arguments are those of :meth:`get_historical_data`, except that an ``int``
        ``time_range`` counts minutes (1-15; the API's default is the last 5) and the
        default granularity is ``"PT1M"``.

        Returns:
            The reply as a :class:`~pyconviva.MetricsResult`.

        Raises:
            QueryError: invalid arguments, before any request is sent.
            APIStatusError: the API refused the request (a subclass per status).
            APIConnectionError: no reply, after the retries.

        Example:
            >>> api.get_real_time_data("attempts", time_range=5)  # doctest: +SKIP
        """
        spec = QuerySpec.real_time(
            metrics,
            group_by,
            filter_by,
            time_range,
            sort_by,
            granularity,
            limit=limit,
            kpi_id=kpi_id,
        )
        return self._get(spec, split)

    def _metadata(self, path: str, kind: str) -> MetadataResult:
        prepared = self._prepare(path)
        return self._metadata_result(self._send(prepared), prepared, kind)

    def get_available_dimensions(self) -> MetadataResult:
        """The filter and group-by dimensions (including custom tags) of the account.

        Example:
            >>> api.get_available_dimensions()["dimensions"][0]["name"]  # doctest: +SKIP
            'Device OS'
        """
        return self._metadata(metadata_path("dimensions"), "dimensions")

    def get_saved_filters(self) -> MetadataResult:
        """The account's saved filters; their ids go in ``filter_by={"filter_id": ...}``.

        Example:
            >>> [f["id"] for f in api.get_saved_filters()["filters"]]  # doctest: +SKIP
        """
        return self._metadata(metadata_path("filters"), "filters")

    def get_kpis(self) -> MetadataResult:
        """The KPI threshold definitions; their ids go in ``kpi_id=``.

        Example:
            >>> api.get_kpis()["kpis"]  # doctest: +SKIP
        """
        return self._metadata(metadata_path("kpis"), "kpis")

    def get_available_endpoints(self) -> MetadataResult:
        """The Metrics V3 endpoints available to the account (discovery).

        Example:
            >>> api.get_available_endpoints()["resources"]  # doctest: +SKIP
        """
        return self._metadata(metadata_path("endpoints"), "endpoints")

    def get_available_group_by_endpoints(
        self, metric_group: str, dimension_tag_only: bool = False
    ) -> MetadataResult:
        """The group-by endpoints available for a metric or metric group.

        Args:
            metric_group: a metric or metric-group name, e.g. ``"quality-summary"``.
            dimension_tag_only: list only the custom-tag (``dimension-tag``) group-bys.

        Example:
            >>> api.get_available_group_by_endpoints("quality-summary")  # doctest: +SKIP
        """
        path = group_by_endpoints_path(metric_group, dimension_tag_only)
        return self._metadata(path, "group-by-endpoints")


class AsyncConvivaAPI(BaseConvivaClient):
    """Asynchronous client for Conviva's Metrics V3 API.

    The same constructor and methods as :class:`ConvivaAPI` (see there for every argument),
    with each ``get_*`` a coroutine, ``aclose()`` instead of ``close()`` and ``async with``.
    ``transport`` takes an ``httpx2.AsyncBaseTransport`` (the emulator's transport serves
    both).

    Example:
        >>> async with AsyncConvivaAPI(client_id="id", client_key="key") as api:  # doctest: +SKIP
        ...     data = await api.get_historical_data("attempts", time_range=5)
    """

    def __init__(
        self,
        client_key: str | None = None,
        client_id: str | None = None,
        *,
        client_secret: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx2.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry: RetryPolicy | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        verify: str | ssl.SSLContext | None = None,
        clock: Clock | Callable[[], datetime] | None = None,
        rate_limit: bool | RateLimiter = True,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_window: timedelta | None = None,
    ) -> None:
        super().__init__(
            client_key,
            client_id,
            client_secret=client_secret,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            verify=verify,
            clock=clock,
            rate_limit=rate_limit,
            max_concurrency=max_concurrency,
            max_window=max_window,
            transport=transport,
        )
        self._rate = AsyncRateLimiter(self._rate_limiter, clock=self._clock)
        self._http = httpx2.AsyncClient(
            timeout=self._config.timeout,
            verify=self._config.verify,
            trust_env=self._config.trust_env,  # a loopback base URL never goes through a proxy
            limits=DEFAULT_LIMITS,
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the pooled connections. The client cannot send afterwards.

        A copy made by :meth:`with_options` shares the original's connections and leaves
        them open: closing the original closes them.
        """
        if self._owns_connections:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncConvivaAPI:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send_once(self, prepared: PreparedRequest, attempts: Attempts) -> httpx2.Response:
        try:
            return await within(attempts.exchange_limit(), self._exchange(prepared))
        except asyncio.TimeoutError:  # raised by `within` alone: httpx2's timeouts are its own
            raise httpx2.ReadTimeout(DEADLINE_PASSED, request=prepared.request) from None

    async def _exchange(self, prepared: PreparedRequest) -> httpx2.Response:
        response = await self._http.send(prepared.request, stream=True)
        try:
            return await aread_reply(response, prepared.description)
        finally:
            await response.aclose()

    async def _send(self, prepared: PreparedRequest) -> httpx2.Response:
        """Send one prepared request, retrying per the policy; a 2xx response or an error."""
        attempts = self._attempts(prepared)
        while True:
            # As in ConvivaAPI._send: the slot is held until the outcome is taken in.
            with await self._rate.acquire(prepared.root, prepared.cost) as slot:
                attempts.sending(slot.waited)
                try:
                    response = await self._send_once(prepared, attempts)
                except httpx2.RequestError as exc:
                    retry = attempts.after_failure(exc)
                else:
                    if response.is_success:
                        return attempts.succeeded(response)
                    retry = attempts.after_status(response)
            wait = retry.left(self._clock.monotonic())
            if wait > 0:
                await self._clock.async_sleep(wait)

    async def _fetch(self, window: MetricsQuery, split: bool) -> list[MetricsResult]:
        """One window's replies: its own, or (``split``) after a 413 those of its halves."""
        prepared = self._prepare_metrics(window)
        try:
            return [self._metrics_result(await self._send(prepared), prepared, window)]
        except ResponseTooLargeError as exc:
            if not split:
                raise
            first, second = too_large_halves(window, exc)
        return [*await self._fetch(first, split), *await self._fetch(second, split)]

    async def _outcome(self, window: MetricsQuery, split: bool) -> Outcome:
        try:
            return await self._fetch(window, split)
        except ConvivaError as exc:
            return exc

    async def _fetch_all(
        self,
        windows: Sequence[MetricsQuery],
        max_concurrency: int,
        progress: Progress,
        *,
        split: bool = True,
    ) -> list[Outcome]:
        """Every window's outcome, in order; at most ``max_concurrency`` tasks send at once."""
        slots = asyncio.Semaphore(max_concurrency)

        async def fetch(window: MetricsQuery) -> Outcome:
            async with slots:
                outcome = await self._outcome(window, split)
            progress.advance()
            return outcome

        tasks = [asyncio.ensure_future(fetch(window)) for window in windows]
        try:
            return list(await asyncio.gather(*tasks))
        finally:  # a failure or cancellation of the call leaves no request running
            for task in tasks:
                task.cancel()

    async def _get(self, spec: QuerySpec, split: bool) -> MetricsResult:
        planned = self._plan(spec, split)
        windows = planned.windows
        progress = Progress(None, len(windows))
        outcomes = await self._fetch_all(windows, self._max_concurrency, progress, split=split)
        return self._query_result(planned, outcomes)

    async def get_many(
        self,
        specs: Iterable[QuerySpec],
        *,
        max_concurrency: int | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> BatchResult:
        """Run many queries concurrently; see :meth:`ConvivaAPI.get_many`.

        Example:
            >>> batch = await api.get_many([QuerySpec.historical("attempts")])  # doctest: +SKIP
        """
        planned, errors, bound = self._plan_batch(specs, max_concurrency)
        windows = batch_windows(planned)
        outcomes = await self._fetch_all(windows, bound, Progress(progress, len(windows)))
        return assemble_batch(planned, errors, outcomes)

    async def get_historical_data(
        self,
        metrics: MetricsArg,
        group_by: GroupByArg = None,
        filter_by: FilterBy = None,
        time_range: TimeRange = None,
        sort_by: SortBy = None,
        granularity: str | None = None,
        *,
        limit: int | None = None,
        kpi_id: int | str | None = None,
        split: bool = True,
    ) -> MetricsResult:
        """Historical metric data; see :meth:`ConvivaAPI.get_historical_data`.

        Example:
            >>> await api.get_historical_data("attempts", group_by="isp")  # doctest: +SKIP
        """
        spec = QuerySpec.historical(
            metrics,
            group_by,
            filter_by,
            time_range,
            sort_by,
            granularity,
            limit=limit,
            kpi_id=kpi_id,
        )
        return await self._get(spec, split)

    async def get_real_time_data(
        self,
        metrics: MetricsArg,
        group_by: GroupByArg = None,
        filter_by: FilterBy = None,
        time_range: TimeRange = None,
        sort_by: SortBy = None,
        granularity: str | None = None,
        *,
        limit: int | None = None,
        kpi_id: int | str | None = None,
        split: bool = True,
    ) -> MetricsResult:
        """Real-time metric data; see :meth:`ConvivaAPI.get_real_time_data`.

        Example:
            >>> await api.get_real_time_data("attempts", time_range=5)  # doctest: +SKIP
        """
        spec = QuerySpec.real_time(
            metrics,
            group_by,
            filter_by,
            time_range,
            sort_by,
            granularity,
            limit=limit,
            kpi_id=kpi_id,
        )
        return await self._get(spec, split)

    async def _metadata(self, path: str, kind: str) -> MetadataResult:
        prepared = self._prepare(path)
        return self._metadata_result(await self._send(prepared), prepared, kind)

    async def get_available_dimensions(self) -> MetadataResult:
        """The account's dimensions; see :meth:`ConvivaAPI.get_available_dimensions`."""
        return await self._metadata(metadata_path("dimensions"), "dimensions")

    async def get_saved_filters(self) -> MetadataResult:
        """The account's saved filters; see :meth:`ConvivaAPI.get_saved_filters`."""
        return await self._metadata(metadata_path("filters"), "filters")

    async def get_kpis(self) -> MetadataResult:
        """The KPI threshold definitions; see :meth:`ConvivaAPI.get_kpis`."""
        return await self._metadata(metadata_path("kpis"), "kpis")

    async def get_available_endpoints(self) -> MetadataResult:
        """The available endpoints; see :meth:`ConvivaAPI.get_available_endpoints`."""
        return await self._metadata(metadata_path("endpoints"), "endpoints")

    async def get_available_group_by_endpoints(
        self, metric_group: str, dimension_tag_only: bool = False
    ) -> MetadataResult:
        """Group-by endpoints; see :meth:`ConvivaAPI.get_available_group_by_endpoints`."""
        path = group_by_endpoints_path(metric_group, dimension_tag_only)
        return await self._metadata(path, "group-by-endpoints")
