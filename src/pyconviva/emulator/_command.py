"""The emulator's command line, one option set for ``python -m pyconviva.emulator`` and for
``pyconviva emulator`` (which hands its arguments to :func:`main`).

:data:`OPTIONS` is the table both are built from: each option's flags, destination, parser
and help. Settings land in :class:`~pyconviva.emulator.Emulator` unchanged, so the command line
and the Python API refuse the same bad values with the same messages.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyconviva._exceptions import ConfigurationError
from pyconviva._rules import parse_instant
from pyconviva.emulator import Emulator
from pyconviva.emulator._audience import AUDIENCES, DEFAULT_AUDIENCE
from pyconviva.emulator._controls import rate_scale
from pyconviva.emulator._foreground import DEMO_CLIENT_ID, DEMO_CLIENT_KEY, serve_in_foreground

__all__ = ["OPTIONS", "Option", "build_parser", "main"]


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _rate_limit(text: str) -> float | None:
    words = {"on": True, "true": True, "off": False, "false": False}
    try:
        return rate_scale(words[text.lower()] if text.lower() in words else float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--rate-limit takes on, off or a positive scale such as 0.05, got {text!r}"
        ) from exc


def _audience(text: str) -> str:
    if text not in AUDIENCES:
        raise argparse.ArgumentTypeError(f"--audience takes {' or '.join(AUDIENCES)}, got {text!r}")
    return text


@dataclass(frozen=True)
class Option:
    """One command-line option: ``parse`` turns its text into the value (None: a plain flag,
    True when given); ``bare`` is the value of a valued option given without one."""

    flag: str
    dest: str
    help: str
    parse: Callable[[str], Any] | None = None
    default: Any = None
    metavar: str | None = None
    repeat: bool = False
    bare: str | None = None


OPTIONS: tuple[Option, ...] = (
    Option("--host", "host", "address to bind (default 127.0.0.1)", str, "127.0.0.1", "HOST"),
    Option("--port", "port", "port (default 8080); 0 picks a free one", int, 8080, "PORT"),
    Option("--seed", "seed", "data set seed (default 0)", int, 0, "N"),
    Option("--now", "now", "fixed clock, ISO 8601 (default: real time)", _instant, None, "ISO"),
    Option(
        "--speed",
        "speed",
        "run the clock from --now (or from the real time) at N emulated seconds per real "
        "second, e.g. 60 for a demo",
        float,
        None,
        "N",
    ),
    Option(
        "--audience",
        "audience",
        f"who watches: {' or '.join(AUDIENCES)} (default {DEFAULT_AUDIENCE}); small keeps "
        "replies tiny",
        _audience,
        DEFAULT_AUDIENCE,
        "NAME",
    ),
    Option("--latency", "latency", "seconds added to each reply", float, 0.0, "SECONDS"),
    Option("--jitter", "jitter", "vary the latency by this fraction, e.g. 0.2", float, 0.0, "F"),
    Option(
        "--rate-limit",
        "rate_limit",
        "enforce the published rate limits: on, off, or a scale such as 0.05 (alone: on)",
        _rate_limit,
        None,
        "on|off|SCALE",
        bare="on",
    ),
    Option(
        "--fault-rate",
        "fault_rate",
        "fault this fraction of requests at random, reproducibly from the seed (soak tests)",
        float,
        0.0,
        "F",
    ),
    Option(
        "--disable-metric",
        "disabled_metrics",
        "a metric this account may not use (403); repeat for more",
        str,
        (),
        "NAME",
        repeat=True,
    ),
    Option(
        "--disable-dimension",
        "disabled_dimensions",
        "a dimension this account may not use (403); repeat for more",
        str,
        (),
        "NAME",
        repeat=True,
    ),
    Option(
        "--strict-real-time",
        "strict_real_time",
        "serve only the real-time alert metrics (plus plays, ended plays) in real time",
    ),
    Option(
        "--legacy-default-range",
        "legacy_default_range",
        "read a historical request without a range as days=1 (pre-2024 behaviour)",
    ),
    Option("--client-id", "client_id", "the client id to accept", str, DEMO_CLIENT_ID, "ID"),
    Option("--client-key", "client_key", "the client key to accept", str, DEMO_CLIENT_KEY, "KEY"),
    Option(
        "--allow-remote",
        "allow_remote",
        "allow a non-loopback --host (the emulator is not a secure server)",
    ),
)

_SERVING = ("host", "port", "allow_remote")  # how to serve; every other option is a setting


def build_parser(prog: str = "python -m pyconviva.emulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Serve an offline Conviva Metrics V3 API on a loopback socket."
    )
    for option in OPTIONS:
        if option.parse is None:
            parser.add_argument(
                option.flag, dest=option.dest, action="store_true", help=option.help
            )
        elif option.repeat:
            parser.add_argument(
                option.flag,
                dest=option.dest,
                type=option.parse,
                action="append",
                default=[],
                metavar=option.metavar,
                help=option.help,
            )
        else:
            parser.add_argument(
                option.flag,
                dest=option.dest,
                type=option.parse,
                default=option.default,
                nargs="?" if option.bare is not None else None,
                const=None if option.bare is None else option.parse(option.bare),
                metavar=option.metavar,
                help=option.help,
            )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "python -m pyconviva.emulator") -> int:
    """Serve until Ctrl-C; 2 (with the reason on stderr) when the settings or the address are
    refused."""
    values = vars(build_parser(prog).parse_args(argv))
    serving = {name: values.pop(name) for name in _SERVING}
    values["rate_limit"] = values["rate_limit"] or False
    try:
        emulator = Emulator(**values)
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    try:
        serve_in_foreground(emulator, write=_print, **serving)
    except ConfigurationError as exc:
        sys.stderr.write(f"error: {exc} (on the command line: --allow-remote)\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"error: cannot serve on {serving['host']}:{serving['port']}: {exc}\n")
        return 2
    return 0


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
