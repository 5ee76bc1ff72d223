"""pyconviva.dlt: incremental, merged loads of historical metrics into DuckDB through dlt."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

dlt = pytest.importorskip("dlt")

from dlt.pipeline.exceptions import PipelineStepFailed  # noqa: E402

from pyconviva import ConvivaAPI, QueryError  # noqa: E402
from pyconviva.dlt import conviva_source  # noqa: E402
from pyconviva.emulator import Emulator, SlowReply, StatusFault  # noqa: E402
from pyconviva.testing import FIXED_NOW  # noqa: E402

HOUR = timedelta(hours=1)
SETTLED = datetime(2025, 6, 2, 11, tzinfo=timezone.utc)  # the first run's end
START = "2025-06-01T00:00:00Z"
WAIT = 20.0  # seconds: the bound on waiting for a child process, never a timing assumption
GROUPED_PATH = "/insights/3.0/metrics/custom-selection/group-by/isp"

COLUMNS = ("timestamp", "dimension", "dimension_value", "metric", "field", "value")
KEY = ("timestamp", "dimension_value", "metric", "field")
Row = tuple[Any, ...]


def source(api: ConvivaAPI, **options: Any) -> Any:
    settings: dict[str, Any] = {
        "metrics": [["plays", "bitrate"]],
        "group_bys": [None, "isp"],
        "start": START,
        "limit": 3,
        "api": api,
    }
    settings.update(options)
    return conviva_source(**settings)


def pipeline_in(directory: Path, name: str = "conviva_test") -> Any:
    """A pipeline loading into the directory's DuckDB file, with its working directory there:
    each call is a fresh process's view of the same pipeline."""
    return dlt.pipeline(
        name,
        destination=dlt.destinations.duckdb(str(directory / "warehouse.duckdb")),
        dataset_name="conviva",
        pipelines_dir=str(directory / "pipelines"),
    )


@pytest.fixture
def new_pipeline(tmp_path: Path) -> Callable[[], Any]:
    return lambda: pipeline_in(tmp_path)


@pytest.fixture(scope="module")
def _first_load(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where the first run of ``source`` has loaded, made once for the module."""
    directory = tmp_path_factory.mktemp("first-load")
    # The same data set as the conviva_emulator fixture (conftest.py's options).
    with Emulator(seed=0, now=FIXED_NOW, audience="small").client() as api:
        pipeline_in(directory).run(source(api))
    return directory


@pytest.fixture
def after_first_load(_first_load: Path, tmp_path: Path) -> Callable[[], Any]:
    """``new_pipeline`` where the first run has already loaded (a copy of it)."""
    shutil.copytree(_first_load, tmp_path, dirs_exist_ok=True)
    return lambda: pipeline_in(tmp_path)


def table(pipeline: Any, name: str) -> list[Row]:
    with pipeline.sql_client() as sql:
        # the table names are this module's constants
        query = f"SELECT {', '.join(COLUMNS)} FROM {name} ORDER BY {', '.join(KEY)}"  # noqa: S608
        rows = sql.execute_sql(query)
    return [tuple(row) for row in rows]


def expected(
    api: ConvivaAPI, metrics: list[str], group_by: str | None, end: str, start: str = START
) -> list[Row]:
    """What the API says for the range in one call: what a run over that range loads."""
    result = api.get_historical_data(
        metrics, group_by, time_range=(start, end), limit=3 if group_by else None
    )
    dimension = result.dimension
    rows = [
        (
            r["timestamp"],
            dimension,
            None if dimension is None else r[dimension],
            r["metric"],
            r["field"],
            float(r["value"]),
        )
        for r in result.records()
    ]
    return sorted(rows, key=lambda r: (r[0], r[2] or "", r[3], r[4]))


def loaded_rows(pipeline: Any) -> dict[str, int]:
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return {name: n for name, n in counts.items() if not name.startswith("_dlt")}


def keys_are_unique(rows: list[Row]) -> bool:
    keys = [(r[0], r[2], r[3], r[4]) for r in rows]
    return len(keys) == len(set(keys))


def test_first_load_writes_every_settled_bucket_of_every_table_once(
    conviva_api: ConvivaAPI, after_first_load: Callable[[], Any]
) -> None:
    pipeline = after_first_load()
    # The emulator's clock is 2025-06-02 12:00: buckets up to 11:50 have settled, so the last
    # whole one is 10:00-11:00.
    end = "2025-06-02T11:00:00Z"
    assert table(pipeline, "plays_bitrate") == expected(
        conviva_api, ["plays", "bitrate"], None, end
    )
    assert table(pipeline, "plays_bitrate_by_isp") == expected(
        conviva_api, ["plays", "bitrate"], "isp", end
    )


def test_scheduled_run_fetches_and_loads_only_the_buckets_settled_since_the_last(
    conviva_emulator: Emulator, conviva_api: ConvivaAPI, after_first_load: Callable[[], Any]
) -> None:
    conviva_emulator.advance(3 * 3600)
    pipeline = after_first_load()

    pipeline.run(source(conviva_api))

    windows = {dict(r.query)["start_date"] for r in conviva_emulator.requests()}
    assert windows == {"2025-06-02T11:00:00Z"}  # one request per table, from the cursor on
    assert loaded_rows(pipeline)["plays_bitrate"] == 3 * 3  # 11:00, 12:00, 13:00 × 3 fields
    new_rows = [row for row in table(pipeline, "plays_bitrate_by_isp") if row[0] >= SETTLED]
    # The top 3 ISPs of those three hours: each run keeps the top groups of its own range.
    since = expected(
        conviva_api,
        ["plays", "bitrate"],
        "isp",
        "2025-06-02T14:00:00Z",
        start="2025-06-02T11:00:00Z",
    )
    assert new_rows == since


def test_rerun_with_nothing_new_sends_no_request_and_loads_no_row(
    conviva_emulator: Emulator, conviva_api: ConvivaAPI, after_first_load: Callable[[], Any]
) -> None:
    before = table(after_first_load(), "plays_bitrate_by_isp")
    pipeline = after_first_load()

    pipeline.run(source(conviva_api))

    assert conviva_emulator.requests() == ()
    assert not loaded_rows(pipeline)
    assert table(pipeline, "plays_bitrate_by_isp") == before


def test_run_failing_mid_extract_moves_no_cursor_and_the_next_run_loads_everything_once(
    conviva_emulator: Emulator, new_pipeline: Callable[[], Any]
) -> None:
    api = conviva_emulator.client(max_retries=0)
    conviva_emulator.add_faults(StatusFault(status=503, path=GROUPED_PATH))
    with pytest.raises(PipelineStepFailed):
        new_pipeline().run(source(api))

    pipeline = new_pipeline()
    pipeline.run(source(api))

    end = "2025-06-02T11:00:00Z"
    assert table(pipeline, "plays_bitrate_by_isp") == expected(
        api, ["plays", "bitrate"], "isp", end
    )
    assert table(pipeline, "plays_bitrate") == expected(api, ["plays", "bitrate"], None, end)


def test_package_left_unloaded_by_a_kill_is_loaded_by_the_next_run_without_duplicates(
    conviva_emulator: Emulator, conviva_api: ConvivaAPI, new_pipeline: Callable[[], Any]
) -> None:
    interrupted = new_pipeline()
    interrupted.extract(source(conviva_api))
    interrupted.normalize()  # killed here: a normalized package waits, nothing is loaded
    conviva_emulator.advance(2 * 3600)

    pipeline = new_pipeline()
    pipeline.run(source(conviva_api))

    rows = table(pipeline, "plays_bitrate_by_isp")
    assert keys_are_unique(rows)
    assert rows == expected(conviva_api, ["plays", "bitrate"], "isp", "2025-06-02T13:00:00Z")


def test_buckets_loaded_again_replace_their_rows(
    conviva_api: ConvivaAPI, after_first_load: Callable[[], Any], tmp_path: Path
) -> None:
    # Another pipeline (its own cursor: a backfill, a second schedule) loading the same buckets
    # into the same tables.
    backfill = pipeline_in(tmp_path, "conviva_backfill")
    backfill.run(source(conviva_api))

    rows = table(backfill, "plays_bitrate_by_isp")
    assert loaded_rows(backfill)["plays_bitrate_by_isp"] == len(rows)  # all fetched again
    assert keys_are_unique(rows)


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"granularity": "PT5H"}, "granularity"),
        ({"granularity": "P1W"}, "granularity"),
        ({"metrics": []}, "metrics"),
        ({"group_bys": ["isp", "isp"]}, "group_bys"),
        ({"start": "last tuesday"}, "start"),
        ({"limit": 1000}, "limit"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    conviva_emulator: Emulator, conviva_api: ConvivaAPI, options: dict[str, Any], argument: str
) -> None:
    with pytest.raises(QueryError) as caught:
        source(conviva_api, **options)
    assert caught.value.argument == argument
    assert conviva_emulator.requests() == ()


def test_key_from_dlt_secrets_is_used_and_written_nowhere(
    monkeypatch: pytest.MonkeyPatch, new_pipeline: Callable[[], Any], tmp_path: Path
) -> None:
    emulator = Emulator(client_key="hush-7f3a9c", now=_hour_ago(), audience="small")
    with emulator.serve() as url:
        _set_dlt_credentials(monkeypatch, emulator, url)
        pipeline = new_pipeline()
        pipeline.run(
            conviva_source(metrics="attempts", start=emulator.now() - 3 * HOUR, end=emulator.now())
        )
    assert len(table(pipeline, "attempts")) == 3
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".duckdb"]
    assert written
    assert not [p for p in written if b"hush-7f3a9c" in p.read_bytes()]
    assert "hush-7f3a9c" not in repr(pipeline.last_trace.asdict())


@pytest.mark.slow
def test_process_killed_mid_extract_is_completed_by_the_next_run(
    monkeypatch: pytest.MonkeyPatch, new_pipeline: Callable[[], Any], tmp_path: Path
) -> None:
    now = _hour_ago()
    emulator = Emulator(now=now, audience="small")
    start, end = now - 6 * HOUR, now
    # The grouped table's request never gets its reply, so the child is inside its extract.
    emulator.add_faults(SlowReply(delay=60, path=GROUPED_PATH))
    with emulator.serve() as url:
        _set_dlt_credentials(monkeypatch, emulator, url)
        with _child_pipeline(tmp_path, start, end) as child:
            _wait_for_request(emulator, GROUPED_PATH, child)
            child.send_signal(signal.SIGKILL)
            child.wait(WAIT)
        emulator.clear_faults()

        pipeline = new_pipeline()
        pipeline.run(_child_source(start, end))

    with emulator.client() as api:
        result = api.get_historical_data(
            ["plays", "bitrate"], "isp", time_range=(start, end), limit=3
        )
    rows = table(pipeline, "plays_bitrate_by_isp")
    assert keys_are_unique(rows)
    assert len(rows) == len(result.records())
    assert len(table(pipeline, "plays_bitrate")) == 6 * 3  # 6 hours × 3 fields


def _hour_ago() -> datetime:
    """A clock for a loopback emulator, whose clients read the real clock: an hour ago, on the
    hour, so that the ranges asked for are past and whole."""
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return now - HOUR


def _set_dlt_credentials(monkeypatch: pytest.MonkeyPatch, emulator: Emulator, url: str) -> None:
    monkeypatch.setenv("SOURCES__CONVIVA__CLIENT_ID", emulator.client_id)
    monkeypatch.setenv("SOURCES__CONVIVA__CLIENT_KEY", emulator.client_key)
    monkeypatch.setenv("SOURCES__CONVIVA__BASE_URL", url)
    for name in ("CONVIVA_CLIENT_ID", "CONVIVA_CLIENT_KEY", "CONVIVA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _child_source(start: datetime, end: datetime) -> Any:
    return conviva_source(
        metrics=[["plays", "bitrate"]],
        group_bys=[None, "isp"],
        limit=3,
        start=start,
        end=end,
    )


_CHILD = """
import sys
import dlt
from tests.integrations.test_dlt_source import _child_source
from datetime import datetime

directory = sys.argv[1]
pipeline = dlt.pipeline(
    "conviva_test",
    destination=dlt.destinations.duckdb(directory + "/warehouse.duckdb"),
    dataset_name="conviva",
    pipelines_dir=directory + "/pipelines",
)
start, end = (datetime.fromisoformat(text) for text in sys.argv[2:])
pipeline.run(_child_source(start, end))
"""


@contextmanager
def _child_pipeline(
    directory: Path, start: datetime, end: datetime
) -> Iterator[subprocess.Popen[bytes]]:
    """The pipeline run in a child process (credentials from the environment); killed on exit
    if still running."""
    root = Path(__file__).resolve().parents[2]
    arguments = [str(directory), start.isoformat(), end.isoformat()]
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, *arguments], cwd=root, stderr=subprocess.PIPE
    ) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()


def _wait_for_request(emulator: Emulator, path: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while not any(r.path == path for r in emulator.requests()):
        if child.poll() is not None:
            stderr = child.stderr.read().decode() if child.stderr else ""
            pytest.fail(f"the child pipeline ended ({child.returncode}) before {path}: {stderr}")
        if time.monotonic() > deadline:
            pytest.fail(f"no request for {path} within {WAIT} s")
        time.sleep(0.02)


def test_source_module_imports_the_dlt_package_not_itself() -> None:
    import pyconviva.dlt

    assert pyconviva.dlt.dlt is dlt
    assert dlt.__name__ == "dlt"
