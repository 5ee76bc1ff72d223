"""Does a server behave like Conviva's Metrics V3 API? A conformance suite with a request cap.

The checks define "behaves like the API" as pyconviva (and its emulator) understand it: reply
shapes and JSON types, limits and the statuses that refuse them, error bodies, the consistency
laws (groups add up to the whole, OR filters to their parts, split windows and finer buckets to
the unsplit ones, the same query the same bytes) and the discovery and metadata replies. Run
them against the emulator in CI, and against the real API the day you have credentials::

    from pyconviva.conformance import run

    report = run("https://api.conviva.com", client_id="...", client_key="...")
    print(report.table())
    report.write("conformance.json")   # attach it to a bug report

Every request is a read-only ``GET``, and no more than ``max_requests`` (default 60) are sent:
a check that would need more is reported as *could not test*, as is one the server answered
with 429 or 5xx. Each check *holds*, *differs* (with what was expected and what came back) or
*could not test*. The report names the base URL and the requests made, never a credential.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import httpx2

from pyconviva._rules import format_instant, last_full_hour

__all__ = ["DEFAULT_MAX_REQUESTS", "CheckResult", "ConformanceReport", "check_names", "run"]

Verdict = Literal["hold", "differ", "could not test"]
HOLD: Verdict = "hold"
DIFFER: Verdict = "differ"
UNTESTED: Verdict = "could not test"

DEFAULT_MAX_REQUESTS = 60
H = "/insights/3.0/metrics"
RT = "/insights/3.0/real-time-metrics"
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
Params = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict, what it compared, and the requests it made (method and target)."""

    name: str
    area: str
    verdict: Verdict
    detail: str
    requests: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConformanceReport:
    """Every check's result, the server checked and how many requests were spent."""

    base_url: str
    started: str
    requests_made: int
    max_requests: int
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        """True when no check differs (checks that could not run do not fail the report)."""
        return all(r.verdict != DIFFER for r in self.results)

    def counts(self) -> dict[str, int]:
        return {v: sum(r.verdict == v for r in self.results) for v in (HOLD, DIFFER, UNTESTED)}

    def table(self) -> str:
        """A plain-text table: one line per check, then the totals."""
        width = max(len(r.name) for r in self.results)
        lines = [f"{'check':{width}}  {'verdict':14}  detail"]
        for r in self.results:
            lines.append(f"{r.name:{width}}  {r.verdict:14}  {r.detail}")
        totals = ", ".join(f"{n} {v}" for v, n in self.counts().items())
        lines.append(
            f"{totals}; {self.requests_made} of at most {self.max_requests} requests to "
            f"{self.base_url}"
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "started": self.started,
            "requests_made": self.requests_made,
            "max_requests": self.max_requests,
            "counts": self.counts(),
            "results": [
                {
                    "name": r.name,
                    "area": r.area,
                    "verdict": r.verdict,
                    "detail": r.detail,
                    "requests": list(r.requests),
                }
                for r in self.results
            ],
        }

    def write(self, path: str | PathLike[str]) -> Path:
        """Write the report as JSON (``.json``) or as the text table (any other suffix)."""
        target = Path(path)
        if target.suffix == ".json":
            target.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        else:
            target.write_text(self.table() + "\n", encoding="utf-8")
        return target


class _OutOfRequests(Exception):
    """The request cap is reached."""


class _Unavailable(Exception):
    """The server could not answer now (429 or 5xx): the check cannot conclude."""


class _Differs(Exception):
    """The server's behaviour differs from the API's."""


@dataclass
class _Probe:
    """Budgeted, cached GETs: the same request is sent once per run."""

    client: httpx2.Client
    bad_auth: httpx2.Client
    max_requests: int
    made: int = 0
    cache: dict[tuple[str, tuple[tuple[str, str], ...], bool], httpx2.Response] = field(
        default_factory=dict
    )
    log: list[str] = field(default_factory=list)

    def get(self, path: str, params: Params = (), *, authorised: bool = True) -> httpx2.Response:
        key = (path, tuple(params), authorised)
        target = path + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else "")
        self.log.append(target)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if self.made >= self.max_requests:
            raise _OutOfRequests(f"the cap of {self.max_requests} requests was reached")
        self.made += 1
        client = self.client if authorised else self.bad_auth
        reply = client.get(path, params=list(params))
        self.cache[key] = reply
        return reply

    def ok(self, path: str, params: Params = ()) -> Any:
        """The JSON of a 200 reply; Differs for another status (Unavailable for 429/5xx)."""
        reply = self.get(path, params)
        if reply.status_code == 429 or reply.status_code >= 500:
            raise _Unavailable(f"{path} answered {reply.status_code}; try again later")
        _expect(reply.status_code == 200, f"{path} answered {reply.status_code}, expected 200")
        try:
            return reply.json()
        except ValueError:
            raise _Differs(f"{path} answered 200 with a body that is not JSON") from None


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise _Differs(message)


@dataclass(frozen=True)
class _Context:
    probe: _Probe
    settled_end: datetime  # an hour boundary whose data has long settled


Check = Callable[[_Context], str]
_CHECKS: list[tuple[str, str, Check]] = []


def _check(area: str, name: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        _CHECKS.append((area, name, function))
        return function

    return register


# --- shapes and JSON types --------------------------------------------------------------------


def _buckets(reply: Any) -> list[Any]:
    _expect(isinstance(reply, dict), "the reply is not a JSON object")
    for key, kind in (("_meta", dict), ("time_series", list), ("total", dict)):
        _expect(isinstance(reply.get(key), kind), f"{key!r} missing or not a {kind.__name__}")
    for bucket in reply["time_series"]:
        stamp = bucket.get("timestamp") if isinstance(bucket, dict) else None
        _expect(isinstance(stamp, dict), "a bucket has no timestamp object")
        assert isinstance(stamp, dict)
        _expect(isinstance(stamp.get("epoch_ms"), int), "timestamp.epoch_ms is not an integer")
        iso = stamp.get("iso_date")
        _expect(isinstance(iso, str) and bool(_ISO.fullmatch(iso)), f"iso_date {iso!r}")
        expected = format_instant(datetime.fromtimestamp(stamp["epoch_ms"] / 1000, timezone.utc))
        _expect(iso == expected, f"iso_date {iso} is not epoch_ms {stamp['epoch_ms']}")
    buckets: list[Any] = reply["time_series"]
    return buckets


def _steps(buckets: Sequence[Any]) -> set[int]:
    """The distinct gaps between consecutive bucket stamps, in milliseconds."""
    stamps = [b["timestamp"]["epoch_ms"] for b in buckets]
    return {b - a for a, b in itertools.pairwise(stamps)}


def _count(value: Any, where: str) -> int:
    _expect(isinstance(value, dict) and isinstance(value.get("count"), int), f"{where}.count")
    count: int = value["count"]
    _expect(count >= 0, f"{where}.count is negative")
    return count


@_check("shapes", "historical metric: envelope, types, hourly buckets")
def _historical_plain(c: _Context) -> str:
    reply = c.probe.ok(f"{H}/attempts", [("days", "1")])
    buckets = _buckets(reply)
    _expect(len(buckets) == 24, f"{len(buckets)} buckets for days=1, expected 24 hourly")
    _expect(_steps(buckets) == {3_600_000}, "buckets are not an hour apart")
    counts = [_count(b.get("attempts"), "attempts") for b in buckets]
    total = _count(reply["total"].get("attempts"), "total.attempts")
    _expect(total == sum(counts), f"total {total} is not the sum of the buckets {sum(counts)}")
    return f"24 hourly buckets, integer counts, total {total:,} = sum of buckets"


@_check("shapes", "group-by: rows of dimension and metrics")
def _group_by(c: _Context) -> str:
    reply = c.probe.ok(f"{H}/attempts/group-by/device-name", [("days", "1"), ("limit", "5")])
    buckets = _buckets(reply)
    label = reply["_meta"].get("group_by_dimension", {}).get("description")
    _expect(isinstance(label, str), "_meta.group_by_dimension.description is not a string")
    values = set()
    for bucket in buckets:
        rows = bucket.get("dimensional_data")
        _expect(isinstance(rows, list), "a bucket has no dimensional_data list")
        for row in rows:
            dimension = row.get("dimension", {})
            _expect(isinstance(dimension.get("value"), str), "dimension.value is not a string")
            _expect(isinstance(dimension.get("key"), str), "dimension.key is not a string")
            _count(row.get("metrics", {}).get("attempts"), "metrics.attempts")
            values.add(dimension["value"])
    _expect(0 < len(values) <= 5, f"{len(values)} distinct values for limit=5")
    return f"{len(values)} device names (limit 5), labelled {label!r}"


@_check("shapes", "custom-selection: each metric under its key, with its value fields")
def _custom_selection(c: _Context) -> str:
    params = [("days", "1"), ("metric", "plays"), ("metric", "bitrate"),
              ("metric", "rebuffering-ratio")]  # fmt: skip
    reply = c.probe.ok(f"{H}/custom-selection", params)
    _buckets(reply)
    total = reply["total"]
    plays, bitrate, ratio = total.get("plays"), total.get("bitrate"), total.get("rebuffering_ratio")
    _count(plays, "plays")
    _expect(0 <= plays.get("percentage", -1) <= 100, "plays.percentage is not 0-100")
    _expect(isinstance(bitrate, dict) and isinstance(bitrate.get("bps"), (int, float)), "bps")
    _expect(isinstance(ratio, dict) and isinstance(ratio.get("ratio"), (int, float)), "ratio")
    return "plays {count, percentage 0-100}, bitrate {bps}, rebuffering_ratio {ratio}"


@_check("shapes", "metric group: every member metric answered")
def _metric_group(c: _Context) -> str:
    total = c.probe.ok(f"{H}/audience", [("days", "1")])["total"]
    expected = {"plays", "ended_plays", "concurrent_plays", "unique_devices", "minutes_played"}
    _expect(expected <= set(total), f"audience members missing: {sorted(expected - set(total))}")
    minutes = total["minutes_played"]
    _expect(
        {"count", "per_unique_device", "per_ended_play"} <= set(minutes),
        "minutes_played lacks count/per_unique_device/per_ended_play",
    )
    return "audience: " + ", ".join(sorted(expected))


@_check("shapes", "real-time: minutely buckets over the last minutes")
def _real_time(c: _Context) -> str:
    buckets = _buckets(c.probe.ok(f"{RT}/attempts", [("minutes", "5")]))
    _expect(5 <= len(buckets) <= 6, f"{len(buckets)} buckets for minutes=5")
    _expect(_steps(buckets) == {60_000}, "buckets are not a minute apart")
    return f"{len(buckets)} minutely buckets"


@_check("shapes", "a filtered reply says so in _meta.filter_info")
def _filter_info(c: _Context) -> str:
    value = _some_values(c, 1)[0]
    reply = c.probe.ok(f"{H}/attempts", [("days", "1"), ("device_name", value)])
    info = reply["_meta"].get("filter_info")
    _expect(isinstance(info, dict), "no _meta.filter_info on a filtered reply")
    return f"device_name={value}: filter_info {json.dumps(info)[:80]}"


# --- limits and their statuses ---------------------------------------------------------------


def _refused(c: _Context, status: int, path: str, params: Params, what: str) -> str:
    reply = c.probe.get(path, params)
    if reply.status_code == 429:
        raise _Unavailable("rate limited (429)")
    _expect(reply.status_code == status, f"{what}: {reply.status_code}, expected {status}")
    body = _error_body(reply)
    return f"{status} {body.get('name') or body.get('message')!s}"[:90]


def _error_body(reply: httpx2.Response) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        raise _Differs(f"the {reply.status_code} body is not JSON: {reply.text[:60]!r}") from None
    _expect(isinstance(body, dict), f"the {reply.status_code} body is not a JSON object")
    _expect(
        isinstance(body.get("message"), str) or isinstance(body.get("name"), str),
        f"the {reply.status_code} body has neither a 'message' nor a 'name' string",
    )
    return dict(body)


_LIMITS: tuple[tuple[str, int, str, tuple[tuple[str, str], ...]], ...] = (
    ("more than 90 days is refused", 422, f"{H}/attempts", (("days", "91"),)),
    ("a historical request needs a range", 400, f"{H}/attempts", ()),
    ("real-time minutes above 15 are refused", 422, f"{RT}/attempts", (("minutes", "16"),)),
    ("limit above 500 is refused", 400, f"{H}/attempts/group-by/device-name",
     (("days", "1"), ("limit", "501"))),
    ("limit above 50 needs a range of 24 h at most", 422, f"{H}/attempts/group-by/device-name",
     (("days", "2"), ("limit", "100"))),
    ("an unknown metric is not found", 404, f"{H}/no-such-metric", (("days", "1"),)),
    ("an unknown dimension is not found", 404, f"{H}/attempts/group-by/no-such-dimension",
     (("days", "1"),)),
    ("a granularity not in the list is refused", 400, f"{H}/attempts",
     (("days", "1"), ("granularity", "PT7M"))),
)  # fmt: skip


def _limit_check(status: int, path: str, params: Params, what: str) -> Check:
    return lambda c: _refused(c, status, path, params, what)


for _what, _status, _path, _params in _LIMITS:
    _check("limits", _what)(_limit_check(_status, _path, _params, _what))


@_check("limits", "minutely data older than 31 days is refused")
def _minutely_retention(c: _Context) -> str:
    start = c.settled_end - timedelta(days=40)
    end = start + timedelta(hours=1)
    params = [
        ("start_date", format_instant(start)),
        ("end_date", format_instant(end)),
        ("granularity", "PT1M"),
    ]
    return _refused(c, 422, f"{H}/attempts", params, "minutely 40 days back")


@_check("errors", "wrong credentials: 401 with a message")
def _unauthorised(c: _Context) -> str:
    reply = c.probe.get(f"{H}/attempts", [("days", "1")], authorised=False)
    _expect(reply.status_code == 401, f"{reply.status_code}, expected 401")
    body = _error_body(reply)
    return f"401 {json.dumps(body)[:70]}"


@_check("limits", "a reply over 5,700,000 bytes is refused with 413")
def _too_large(c: _Context) -> str:
    metrics = [("metric", m) for m in ("attempts", "plays", "bitrate", "rebuffering-ratio")]
    reply = c.probe.get(
        f"{H}/custom-selection/group-by/cdn-edge-server", [*metrics, ("days", "90")]
    )
    if reply.status_code == 200:
        raise _Unavailable(f"the reply fitted ({len(reply.content):,} bytes): too few values")
    if reply.status_code == 429 or reply.status_code >= 500:
        raise _Unavailable(f"answered {reply.status_code}")
    _expect(reply.status_code == 413, f"{reply.status_code}, expected 413")
    return f"413 {_error_body(reply).get('name', '')}"


# --- the consistency laws ---------------------------------------------------------------------


def _settled_window(c: _Context, hours: int = 24) -> list[tuple[str, str]]:
    start = c.settled_end - timedelta(hours=hours)
    return [("start_date", format_instant(start)), ("end_date", format_instant(c.settled_end))]


def _series(reply: Any, key: str) -> list[int]:
    return [_count(b.get(key), key) for b in _buckets(reply)]


def _some_values(c: _Context, count: int) -> list[str]:
    reply = c.probe.ok(f"{H}/attempts/group-by/device-name", [("days", "1"), ("limit", "5")])
    values = sorted(
        {row["dimension"]["value"] for b in reply["time_series"] for row in b["dimensional_data"]}
    )
    if len(values) < count:
        raise _Unavailable(f"only {len(values)} device names to filter by")
    return values[:count]


@_check("laws", "groups add up to the whole when all fit")
def _groups_add_up(c: _Context) -> str:
    window = [*_settled_window(c), ("granularity", "PT6H")]
    whole = _series(c.probe.ok(f"{H}/attempts", window), "attempts")
    grouped = c.probe.ok(f"{H}/attempts/group-by/device-name", [*window, ("limit", "500")])
    sums = []
    rows = 0
    for bucket in _buckets(grouped):
        rows = max(rows, len(bucket["dimensional_data"]))
        sums.append(sum(_count(r["metrics"]["attempts"], "attempts")
                        for r in bucket["dimensional_data"]))  # fmt: skip
    if rows >= 500:
        raise _Unavailable("500 device names or more: the groups may not all fit")
    _expect(sums == whole, f"group sums {sums} != whole {whole}")
    return f"{rows} device names add up to the whole in each of {len(whole)} buckets"


@_check("laws", "an OR filter equals the sum of its parts")
def _or_filter(c: _Context) -> str:
    first, second = _some_values(c, 2)
    window = [*_settled_window(c), ("granularity", "PT6H")]
    both = _series(
        c.probe.ok(f"{H}/attempts", [*window, ("device_name", first), ("device_name", second)]),
        "attempts",
    )
    parts = [
        _series(c.probe.ok(f"{H}/attempts", [*window, ("device_name", v)]), "attempts")
        for v in (first, second)
    ]
    _expect(
        both == [a + b for a, b in zip(*parts, strict=True)], f"{both} != {parts[0]} + {parts[1]}"
    )
    return f"{first} OR {second} = {first} + {second} in every bucket"


@_check("laws", "a range split in two gives the unsplit buckets")
def _split_windows(c: _Context) -> str:
    end = c.settled_end
    middle, start = end - timedelta(hours=12), end - timedelta(hours=24)

    def window(a: datetime, b: datetime) -> Any:
        params = [("start_date", format_instant(a)), ("end_date", format_instant(b))]
        return c.probe.ok(f"{H}/attempts", params)

    whole, first, second = window(start, end), window(start, middle), window(middle, end)
    _expect(
        first["time_series"] + second["time_series"] == whole["time_series"],
        "the two halves' buckets are not the whole's",
    )
    return "24 hourly buckets = 12 + 12"


@_check("laws", "finer buckets add up to the hour")
def _finer_buckets(c: _Context) -> str:
    hour = [("start_date", format_instant(c.settled_end - timedelta(hours=1))),
            ("end_date", format_instant(c.settled_end))]  # fmt: skip
    fine = _series(c.probe.ok(f"{H}/attempts", [*hour, ("granularity", "PT15M")]), "attempts")
    hourly = _series(c.probe.ok(f"{H}/attempts", [*hour, ("granularity", "PT1H")]), "attempts")
    _expect([sum(fine)] == hourly, f"15-minute buckets {fine} do not add up to {hourly}")
    return f"4 x 15 min = the hour ({hourly[0]:,})"


@_check("laws", "the same query gets the same bytes")
def _same_bytes(c: _Context) -> str:
    params = _settled_window(c)
    first = c.probe.get(f"{H}/attempts", params)
    c.probe.cache.pop((f"{H}/attempts", tuple(params), True), None)
    again = c.probe.get(f"{H}/attempts", params)
    _expect(first.status_code == again.status_code == 200, "not answered 200 twice")
    _expect(first.content == again.content, "two answers to the same settled query differ")
    return f"{len(first.content):,} identical bytes twice"


# --- discovery and metadata -------------------------------------------------------------------


def _resources(reply: Any, where: str) -> list[Any]:
    _expect(isinstance(reply, dict) and isinstance(reply.get("resources"), list), where)
    resources: list[Any] = reply["resources"]
    for resource in resources:
        endpoints = resource.get("endpoints") if isinstance(resource, dict) else None
        _expect(isinstance(endpoints, list) and bool(endpoints), f"{where}: endpoints")
        assert isinstance(endpoints, list)
        for endpoint in endpoints:
            _expect(isinstance(endpoint.get("path"), str), f"{where}: endpoint path")
    return resources


@_check("discovery", "metrics discovery lists resources and their endpoints")
def _discovery(c: _Context) -> str:
    resources = _resources(c.probe.ok(H), "GET /insights/3.0/metrics")
    names = {r.get("resource_name") for r in resources}
    _expect("attempts" in names, "no 'attempts' resource")
    return f"{len(resources)} resources"


@_check("discovery", "group-by discovery of a metric")
def _group_by_discovery(c: _Context) -> str:
    resources = _resources(c.probe.ok(f"{H}/attempts/group-by"), "group-by discovery")
    return f"{len(resources)} group-by endpoints for attempts"


@_check("metadata", "dimensions reference")
def _dimensions(c: _Context) -> str:
    reply = c.probe.ok(f"{H}/_meta/references/dimensions")
    dimensions = reply.get("dimensions") if isinstance(reply, dict) else None
    _expect(isinstance(dimensions, list) and bool(dimensions), "no 'dimensions' list")
    assert isinstance(dimensions, list)
    _expect(all(isinstance(d.get("name"), str) for d in dimensions), "a dimension has no name")
    return f"{len(dimensions)} dimensions and tags"


@_check("metadata", "saved filters reference")
def _filters(c: _Context) -> str:
    reply = c.probe.ok(f"{H}/_meta/references/filters")
    filters = reply.get("filters") if isinstance(reply, dict) else None
    _expect(isinstance(filters, list), "no 'filters' list")
    assert isinstance(filters, list)
    return f"{len(filters)} saved filters"


@_check("metadata", "KPI sets reference")
def _kpis(c: _Context) -> str:
    reply = c.probe.ok("/insights/3.0/kpis")
    kpis = reply.get("kpis") if isinstance(reply, dict) else None
    _expect(isinstance(kpis, list), "no 'kpis' list")
    assert isinstance(kpis, list)
    return f"{len(kpis)} KPI sets"


# --- running ----------------------------------------------------------------------------------


def run(
    base_url: str = "https://api.conviva.com",
    client_id: str | None = None,
    client_key: str | None = None,
    *,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    transport: httpx2.BaseTransport | None = None,
    now: datetime | None = None,
    timeout: float = 60.0,
    only: Iterable[str] = (),
) -> ConformanceReport:
    """Run the checks against ``base_url`` (or through ``transport``, e.g. an emulator's) with
    at most ``max_requests`` requests; ``now`` is the server's clock when it is not the real
    one (a fixed emulator clock). ``only`` limits the run to the checks whose names contain
    one of its words."""
    if max_requests < 1:
        raise ValueError(f"max_requests must be at least 1, got {max_requests}")
    clock = now or datetime.now(timezone.utc)
    started = format_instant(clock)
    # Two days back on an hour boundary: late data has long arrived there.
    context_end = last_full_hour(clock) - timedelta(days=2)
    auth = (client_id or "", client_key or "")
    wrong = (client_id or "conformance", "not-the-key")
    kwargs: dict[str, Any] = {"base_url": base_url, "timeout": timeout, "transport": transport}
    chosen = [(a, n, f) for a, n, f in _CHECKS if not only or any(w in n for w in only)]
    results = []
    with httpx2.Client(auth=auth, **kwargs) as client, httpx2.Client(auth=wrong, **kwargs) as bad:
        probe = _Probe(client, bad, max_requests)
        context = _Context(probe, context_end)
        for area, name, check in chosen:
            probe.log = []
            verdict, detail = _verdict(check, context)
            results.append(CheckResult(name, area, verdict, detail, tuple(probe.log)))
    shown = base_url if transport is None else f"{base_url} (in-process transport)"
    return ConformanceReport(shown, started, probe.made, max_requests, tuple(results))


def _verdict(check: Check, context: _Context) -> tuple[Verdict, str]:
    try:
        return HOLD, check(context)
    except _Differs as exc:
        return DIFFER, str(exc)
    except (_OutOfRequests, _Unavailable) as exc:
        return UNTESTED, str(exc)
    except httpx2.HTTPError as exc:
        return UNTESTED, f"no reply: {type(exc).__name__}"
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        return DIFFER, f"unexpected reply structure ({type(exc).__name__}: {exc})"


def check_names() -> list[str]:
    """The checks' names, in the order they run."""
    return [name for _, name, _ in _CHECKS]
