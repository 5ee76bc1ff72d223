"""``python -m pyconviva.emulator``: serve the emulator on loopback until Ctrl-C.

Prints the base URL and the credentials to use (the client key only when it is the built-in
demo key: a key of your own is not echoed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime

from pyconviva._exceptions import ConfigurationError
from pyconviva._rules import parse_instant
from pyconviva.emulator import Emulator
from pyconviva.emulator._controls import rate_scale
from pyconviva.emulator._foreground import DEMO_CLIENT_ID, DEMO_CLIENT_KEY, serve_in_foreground


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pyconviva.emulator",
        description="Serve an offline Conviva Metrics V3 API on a loopback socket.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=0, help="data set seed (default 0)")
    parser.add_argument("--now", type=_instant, help="fixed clock, ISO 8601 (default: real time)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each reply")
    parser.add_argument(
        "--jitter", type=float, default=0.0, help="vary the latency by this fraction, e.g. 0.2"
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        help="enforce the published rate limits: on, off, or a scale such as 0.05",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="fault this fraction of requests at random, reproducibly from the seed (soak tests)",
    )
    parser.add_argument(
        "--strict-real-time",
        action="store_true",
        help="serve only the real-time alert metrics (plus plays, ended plays) in real time",
    )
    parser.add_argument(
        "--legacy-default-range",
        action="store_true",
        help="read a historical request without a range as days=1 (pre-2024 behaviour)",
    )
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID)
    parser.add_argument("--client-key", default=DEMO_CLIENT_KEY)
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the emulator is not a secure server)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    emulator = Emulator(
        seed=args.seed,
        now=args.now,
        latency=args.latency,
        jitter=args.jitter,
        rate_limit=args.rate_limit or False,
        fault_rate=args.fault_rate,
        strict_real_time=args.strict_real_time,
        legacy_default_range=args.legacy_default_range,
        client_id=args.client_id,
        client_key=args.client_key,
    )
    try:
        serve_in_foreground(
            emulator, write=_print, host=args.host, port=args.port, allow_remote=args.allow_remote
        )
    except ConfigurationError as exc:
        sys.stderr.write(f"error: {exc} (on the command line: --allow-remote)\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"error: cannot serve on {args.host}:{args.port}: {exc}\n")
        return 2
    return 0


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
