"""Where a command's requests go: the real API (a profile or the environment's credentials) or
an in-process emulator, with the client settings of the command line (``--retries``,
``--timeout``), declared once as options every data command shares."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from pyconviva._retry import DEFAULT_MAX_RETRIES
from pyconviva.cli.arguments import instant_option
from pyconviva.cli.errors import EMULATED, errors_reported
from pyconviva.cli.profiles import config_path, resolve_profile
from pyconviva.cli.verbosity import library_log

if TYPE_CHECKING:
    from pyconviva._client import ConvivaAPI

__all__ = ["Connection", "connected"]


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

    def now(self) -> datetime:
        """The clock the client will use: the emulator's fixed one when given, else UTC now."""
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
            from pyconviva.emulator import Emulator

            return Emulator(seed=self.emulator_seed, now=self.emulator_now).client(**settings)
        from pyconviva._client import ConvivaAPI

        profile = resolve_profile(self.profile, os.environ, config_path(os.environ))
        if profile is not None:
            settings.update(
                client_key=profile.client_key,
                client_id=profile.client_id,
                base_url=profile.base_url,
            )
        # Without a profile the library reads CONVIVA_CLIENT_* and CONVIVA_BASE_URL itself.
        return ConvivaAPI(**settings)


_CONNECTION_OPTIONS = (
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
        "--retries",
        type=click.IntRange(min=0),
        metavar="N",
        help=(
            f"Retries after a network error or 5xx (default {DEFAULT_MAX_RETRIES}); a 429 waits "
            "for the rate-limit window instead, within the call's deadline; 0 fails fast."
        ),
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="Per-request timeout (default 30).",
    ),
    click.option("--debug", is_flag=True, help="Show tracebacks and the library's log on stderr."),
)


def connected(func: Callable[..., None]) -> Callable[..., None]:
    """Add the connection options; the command receives them as one ``connection`` argument,
    runs with the library's log on stderr, and its errors are reported as documented."""

    @functools.wraps(func)
    def command(
        profile: str | None,
        emulator: bool,
        emulator_seed: int,
        emulator_now: datetime | None,
        retries: int | None,
        timeout: float | None,
        debug: bool,
        **options: Any,
    ) -> None:
        _refuse_ineffective_flags(profile=profile, emulator=emulator)
        connection = Connection(
            profile, emulator, emulator_seed, emulator_now, retries, timeout, debug
        )
        click.get_current_context().meta[EMULATED] = emulator  # errors name the emulator
        with errors_reported(debug, func.__name__), library_log(debug):
            func(connection=connection, **options)

    for option in reversed(_CONNECTION_OPTIONS):
        command = option(command)
    return command


_EMULATOR_SETTINGS = ("emulator_seed", "emulator_now")


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
