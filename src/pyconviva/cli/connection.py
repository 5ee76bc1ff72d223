"""Where a command's requests go: the real API (a profile or the environment's credentials), an
in-process emulator, or a recording (``--replay``), optionally recorded on the way
(``--record``); with the client settings of the command line (``--retries``, ``--timeout``),
declared once as options every data command shares."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from pyconviva._config import DEFAULT_BASE_URL, resolve_base_url, resolve_credentials
from pyconviva._retry import DEFAULT_MAX_RETRIES
from pyconviva.cli.arguments import instant_option
from pyconviva.cli.errors import EMULATED, errors_reported
from pyconviva.cli.profiles import config_path, resolve_profile
from pyconviva.cli.verbosity import library_log
from pyconviva.recording import RecordingTransport, ReplayTransport, UnrecordedRequestError

if TYPE_CHECKING:
    import httpx2

    from pyconviva._client import ConvivaAPI
    from pyconviva.emulator import Emulator

__all__ = ["Connection", "Target", "connected", "connected_hiding"]

# A replayed client needs credentials to build its requests, and sends them nowhere.
_REPLAY_ID = _REPLAY_KEY = "replay"


@dataclass(frozen=True)
class Target:
    """Where a command that speaks HTTP itself (``conformance``) sends: the base URL, the
    credentials, a transport to send through instead of the network (None: the network) and
    the server's clock when it is not the real one."""

    base_url: str
    client_id: str
    client_key: str = field(repr=False)
    transport: httpx2.BaseTransport | None
    now: datetime | None


@dataclass(frozen=True)
class Connection:
    """Where a command's requests go: the real API (profile or environment) or an emulator."""

    profile: str | None
    emulator: bool
    emulator_seed: int
    emulator_now: datetime | None
    retries: int | None
    timeout: float | None
    debug: bool
    emulator_speed: float | None = None
    record: Path | None = None  # write every exchange to this cassette
    replay: Path | None = None  # answer from this cassette instead of sending

    def now(self) -> datetime:
        """The clock the client will use: the emulator's fixed one when given (where a running
        one starts), else UTC now."""
        if self.emulator and self.emulator_now is not None:
            return self.emulator_now
        return datetime.now(timezone.utc)

    def open_client(self, **settings: Any) -> ConvivaAPI:
        """A client for the connection; ``settings`` are further ``ConvivaAPI`` arguments."""
        if self.retries is not None:
            settings["max_retries"] = self.retries
        if self.timeout is not None:
            settings["timeout"] = self.timeout
        if self.emulator:
            emulator = self.new_emulator()
            return emulator.client(transport=self._transport(emulator), **settings)
        from pyconviva._client import ConvivaAPI

        transport = self._transport(None)
        if transport is not None:
            settings["transport"] = transport
        if self.replay is not None:
            return ConvivaAPI(client_id=_REPLAY_ID, client_key=_REPLAY_KEY, **settings)
        profile = resolve_profile(self.profile, os.environ, config_path(os.environ))
        if profile is not None:
            settings.update(
                client_key=profile.client_key,
                client_id=profile.client_id,
                base_url=profile.base_url,
            )
        # Without a profile the library reads CONVIVA_CLIENT_* and CONVIVA_BASE_URL itself.
        return ConvivaAPI(**settings)

    def target(self) -> Target:
        """Where raw requests go, for a command that makes its own HTTP clients; credentials
        as :meth:`open_client` finds them. (The one such command, ``conformance``, refuses
        ``--replay``: its ranges follow the server's clock, which a recording cannot.)"""
        if self.emulator:
            emulator = self.new_emulator()
            transport = self._transport(emulator)
            credentials = (emulator.client_id, emulator.client_key)
            return Target(DEFAULT_BASE_URL, *credentials, transport, emulator.now())
        transport = self._transport(None)
        profile = resolve_profile(self.profile, os.environ, config_path(os.environ))
        if profile is not None:
            base_url = resolve_base_url(profile.base_url, os.environ)
            return Target(base_url, profile.client_id, profile.client_key, transport, None)
        found = resolve_credentials(None, None, None, os.environ)
        base_url = resolve_base_url(None, os.environ)
        return Target(base_url, found.client_id, found.client_key, transport, None)

    def new_emulator(self) -> Emulator:
        """An emulator with the command line's seed, clock and speed."""
        from pyconviva.emulator import Emulator

        return Emulator(seed=self.emulator_seed, now=self.emulator_now, speed=self.emulator_speed)

    def _transport(self, emulator: Emulator | None) -> httpx2.BaseTransport | None:
        """The replayed cassette, or the emulator (None: the network), recorded if asked."""
        if self.replay is not None:
            try:
                return ReplayTransport(self.replay)
            except ValueError as error:  # not a cassette
                raise click.BadParameter(str(error), param_hint="--replay") from None
        inner = None if emulator is None else emulator.transport()
        return inner if self.record is None else RecordingTransport(self.record, inner)


def _connection_options(hidden: frozenset[str]) -> tuple[Callable[[Any], Any], ...]:
    """The connection options, those named in ``hidden`` left out of ``--help`` (a command that
    refuses them still explains why when they are given)."""
    return (
        click.option(
            "--profile",
            metavar="NAME",
            help="Use this profile of the config file (default: the CONVIVA_CLIENT_* environment "
            "variables, else the 'default' profile).",
        ),
        click.option(
            "--emulator",
            is_flag=True,
            help="Run against an in-process emulator with its demo credentials: no account, "
            "no network.",
        ),
        click.option(
            "--emulator-seed",
            type=int,
            default=0,
            show_default=True,
            metavar="N",
            help="Seed of the emulator's synthetic data.",
        ),
        click.option(
            "--emulator-now",
            metavar="ISO",
            envvar="PYCONVIVA_EMULATOR_NOW",
            callback=instant_option,
            help="Fix the emulator's clock (for tests and demos) [env: PYCONVIVA_EMULATOR_NOW].",
        ),
        click.option(
            "--emulator-speed",
            type=click.FloatRange(min=0, min_open=True),
            metavar="N",
            help="Run the emulator's clock at N emulated seconds per real second, from "
            "--emulator-now (or from now): 60 plays an hour in a minute.",
        ),
        click.option(
            "--record",
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            metavar="FILE",
            help="Also write every request and reply to FILE (a cassette; no credentials in it), "
            "to replay later with --replay.",
        ),
        click.option(
            "--replay",
            type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
            metavar="FILE",
            hidden="replay" in hidden,
            help="Answer from the cassette FILE that --record wrote: no network, no credentials; "
            "a request it does not hold fails.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            metavar="N",
            hidden="retries" in hidden,
            help=(
                f"Retries after a network error or 5xx (default {DEFAULT_MAX_RETRIES}); a 429 "
                "waits for the rate-limit window instead, within the call's deadline; 0 fails "
                "fast."
            ),
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            metavar="SECONDS",
            help="Per-request timeout (default 30).",
        ),
        click.option(
            "--debug", is_flag=True, help="Show tracebacks and the library's log on stderr."
        ),
    )


def connected(func: Callable[..., None]) -> Callable[..., None]:
    """Add the connection options; the command receives them as one ``connection`` argument,
    runs with the library's log on stderr, and its errors are reported as documented."""
    return _connected(func, frozenset())


def connected_hiding(*hidden: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """As :func:`connected`, with the options named in ``hidden`` (``"retries"``,
    ``"replay"``) left out of the command's ``--help``: for a command that refuses them."""
    return lambda func: _connected(func, frozenset(hidden))


def _connected(func: Callable[..., None], hidden: frozenset[str]) -> Callable[..., None]:

    @functools.wraps(func)
    def command(
        profile: str | None,
        emulator: bool,
        emulator_seed: int,
        emulator_now: datetime | None,
        emulator_speed: float | None,
        record: Path | None,
        replay: Path | None,
        retries: int | None,
        timeout: float | None,
        debug: bool,
        **options: Any,
    ) -> None:
        _refuse_ineffective_flags(profile=profile, emulator=emulator)
        _refuse_replay_beside_a_source(profile, emulator, record, replay)
        connection = Connection(
            profile=profile,
            emulator=emulator,
            emulator_seed=emulator_seed,
            emulator_now=emulator_now,
            retries=retries,
            timeout=timeout,
            debug=debug,
            emulator_speed=emulator_speed,
            record=record,
            replay=replay,
        )
        click.get_current_context().meta[EMULATED] = emulator  # errors name the emulator
        with errors_reported(debug, func.__name__), library_log(debug):
            try:
                func(connection=connection, **options)
            except UnrecordedRequestError as error:
                # Said as the library says it: the query is the cassette's, not the command's.
                raise click.ClickException(str(error)) from None

    for option in reversed(_connection_options(hidden)):
        command = option(command)
    return command


_EMULATOR_SETTINGS = ("emulator_seed", "emulator_now", "emulator_speed")


def _refuse_ineffective_flags(*, profile: str | None, emulator: bool) -> None:
    """Flags the connection would ignore are refused rather than silently dropped.

    ``PYCONVIVA_EMULATOR_NOW`` from the environment stays a quiet default: a shell or CI job
    may set it for every command, with or without ``--emulator``.
    """
    if emulator and profile is not None:
        raise click.UsageError(
            f"--emulator runs with the emulator's demo credentials, so --profile {profile} would "
            "be ignored; drop --emulator to use the profile, or --profile to use the emulator"
        )
    if emulator:
        return
    context = click.get_current_context()
    given = [
        "--" + name.replace("_", "-")
        for name in _EMULATOR_SETTINGS
        if context.get_parameter_source(name) is ParameterSource.COMMANDLINE
    ]
    if given:
        raise click.UsageError(
            f"{' and '.join(given)} set the emulator, which runs only with --emulator; add "
            f"--emulator or drop {' and '.join(given)}"
        )


def _refuse_replay_beside_a_source(
    profile: str | None, emulator: bool, record: Path | None, replay: Path | None
) -> None:
    """``--replay`` answers every request from its file, so a source of replies beside it
    would never be asked."""
    if replay is None:
        return
    other = [
        flag
        for flag, given in (
            ("--emulator", emulator),
            (f"--record {record}", record is not None),
            (f"--profile {profile}", profile is not None),
        )
        if given
    ]
    if other:
        raise click.UsageError(
            f"--replay {replay} answers every request from that file, so {' and '.join(other)} "
            f"would not be used; drop --replay, or drop {' and '.join(other)}"
        )
