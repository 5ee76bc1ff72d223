"""Test your own code against the emulator: a wired client in one line, and pytest fixtures.

Without pytest::

    from pyconviva.testing import emulated_client

    with emulated_client() as api:
        data = api.get_historical_data("attempts", group_by="isp", time_range=5)

With pytest, the fixtures are there as soon as pyconviva is installed (this module is a
``pytest11`` plugin, registered as ``pyconviva.testing``; ``pytest -p no:pyconviva.testing``
turns it off). Ask for them by name:

``conviva_emulator``
    a fresh :class:`~pyconviva.emulator.Emulator` per test (seed 0, clock fixed at
    :data:`FIXED_NOW`); override the ``conviva_emulator_options`` fixture to change that.
``conviva_api``
    a ``ConvivaAPI`` wired to it in process (no socket), closed after the test.
``conviva_async_api``
    the same as an ``AsyncConvivaAPI`` (needs pytest-asyncio; skips the test without it). An
    ``async def`` test that asks for it needs no ``@pytest.mark.asyncio``, in either mode.
``conviva_emulator_url``
    the emulator served on 127.0.0.1 for the test, as a base URL, for code that builds its
    own client (``ConvivaAPI(..., base_url=url)``) or runs in a subprocess.

Time: :class:`VirtualClock` is a :class:`~pyconviva.Clock` whose waits return at once, for a
client's ``clock=`` argument (``emulator.client(clock=VirtualClock())`` too): backoff,
``Retry-After`` and rate-limit waits then cost no real time and are recorded in ``sleeps``.

Recorded replies: :class:`RecordingTransport` writes a client's exchanges with the real API to
a file (no credentials in it), :class:`ReplayTransport` answers from that file offline and
raises :class:`UnrecordedRequestError` for a request it does not hold (see
:mod:`pyconviva.recording`).

pytest and pytest-asyncio are optional: importing this module without them still gives the
context managers. Importing it is cheap (it runs on every pytest start): the emulator, the
clients and the recording transports load when a fixture or helper is first used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pyconviva._clock import VirtualClock

if TYPE_CHECKING:
    from pyconviva._client import AsyncConvivaAPI, ConvivaAPI
    from pyconviva.emulator import Emulator
    from pyconviva.recording import RecordingTransport, ReplayTransport, UnrecordedRequestError

__all__ = [
    "FIXED_NOW",
    "RecordingTransport",
    "ReplayTransport",
    "UnrecordedRequestError",
    "VirtualClock",
    "emulated_async_client",
    "emulated_client",
]

# Names served from pyconviva.recording on first use: it imports httpx2, which this module
# must not load on every pytest start.
_FROM_RECORDING = frozenset({"RecordingTransport", "ReplayTransport", "UnrecordedRequestError"})


def __getattr__(name: str) -> Any:
    if name in _FROM_RECORDING:
        from pyconviva import recording

        return getattr(recording, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FIXED_NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
"""The clock the helpers fix when no emulator is given, so that every run sees the same data."""


def _new_emulator(**options: Any) -> Emulator:
    from pyconviva.emulator import Emulator  # loaded on first use: see the module docstring

    return Emulator(**options)


def _emulator_or_default(emulator: Emulator | None) -> Emulator:
    return emulator if emulator is not None else _new_emulator(now=FIXED_NOW)


@contextmanager
def emulated_client(
    emulator: Emulator | None = None, **client_options: Any
) -> Iterator[ConvivaAPI]:
    """A ``ConvivaAPI`` wired to ``emulator`` in process (a fresh one at :data:`FIXED_NOW` if
    none is given), closed on exit. ``client_options`` go to the client (``max_retries=0``...)."""
    with _emulator_or_default(emulator).client(**client_options) as api:
        yield api


@asynccontextmanager
async def emulated_async_client(
    emulator: Emulator | None = None, **client_options: Any
) -> AsyncIterator[AsyncConvivaAPI]:
    """The ``AsyncConvivaAPI`` counterpart of :func:`emulated_client`."""
    async with _emulator_or_default(emulator).async_client(**client_options) as api:
        yield api


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is optional; the context managers still work
    pass
else:

    @pytest.fixture
    def conviva_emulator_options() -> dict[str, Any]:
        """Keyword arguments for ``Emulator``; override this fixture to change them."""
        return {"seed": 0, "now": FIXED_NOW}

    @pytest.fixture
    def conviva_emulator(conviva_emulator_options: dict[str, Any]) -> Emulator:
        """A fresh emulator for each test."""
        return _new_emulator(**conviva_emulator_options)

    @pytest.fixture
    def conviva_api(conviva_emulator: Emulator) -> Iterator[ConvivaAPI]:
        """A ``ConvivaAPI`` wired to ``conviva_emulator`` in process."""
        with emulated_client(conviva_emulator) as api:
            yield api

    @pytest.fixture
    def conviva_emulator_url(conviva_emulator: Emulator) -> Iterator[str]:
        """``conviva_emulator`` on a loopback socket for the test; its base URL."""
        with conviva_emulator.serve() as url:
            yield url

    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - only the async fixture needs pytest-asyncio

        @pytest.fixture
        def conviva_async_api(conviva_emulator: Emulator) -> Iterator[AsyncConvivaAPI]:
            """Skips: async fixtures need pytest-asyncio."""
            pytest.skip("conviva_async_api needs pytest-asyncio: pip install pytest-asyncio")

    else:

        @pytest_asyncio.fixture
        async def conviva_async_api(  # type: ignore[misc]
            conviva_emulator: Emulator,
        ) -> AsyncIterator[AsyncConvivaAPI]:
            """An ``AsyncConvivaAPI`` wired to ``conviva_emulator`` in process.

            Works in both pytest-asyncio modes: in ``strict`` mode (its default) an
            ``async def`` test that asks for this fixture is marked ``asyncio`` by this plugin,
            so it needs no ``@pytest.mark.asyncio``. A test marked for another framework
            (``anyio``, ``trio``) is left as it is.
            """
            async with emulated_async_client(conviva_emulator) as api:
                yield api

        @pytest.hookimpl(tryfirst=True)
        def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
            """Mark async tests that use ``conviva_async_api`` as asyncio tests (strict mode
            leaves unmarked ones unrun); runs before the test item is made from ``obj``."""
            if _wants_async_api(obj) and not _has_async_marker(collector, obj):
                pytest.mark.asyncio(obj)


def _wants_async_api(obj: object) -> bool:
    import inspect  # loaded by pytest already; kept off the plain import of this module

    if not inspect.iscoroutinefunction(obj):
        return False
    try:
        return "conviva_async_api" in inspect.signature(obj).parameters
    except (TypeError, ValueError):  # no signature to read: not a test function
        return False


_ASYNC_MARKERS = ("asyncio", "anyio", "trio")


def _has_async_marker(collector: Any, obj: object) -> bool:
    own = [getattr(mark, "name", None) for mark in getattr(obj, "pytestmark", ())]
    return any(
        name in own or collector.get_closest_marker(name) is not None for name in _ASYNC_MARKERS
    )
