"""``pyconviva conformance``: does a server behave like Conviva's Metrics V3 API? Runs the checks
of :mod:`pyconviva.conformance` within a request cap, prints their table, and exits 1 when one
of them differs."""

from __future__ import annotations

from pathlib import Path

import click

from pyconviva.cli.connection import Connection, connected_hiding
from pyconviva.conformance import DEFAULT_MAX_REQUESTS

__all__ = ["conformance"]

_EPILOG = """\b
Examples:
  pyconviva conformance --emulator
  pyconviva conformance --profile prod --report conformance.json   # attach it to a bug report
  pyconviva conformance --only group-by --only filter --max-requests 20
  pyconviva conformance --profile prod --record conformance.jsonl  # keep the replies too

\b
Each check holds, differs (with what was expected and what came back) or could not be tested
(the cap was reached, or the server answered 429 or 5xx: run again later). Every request is a
read-only GET, sent once: no retries, so that a 429 or 5xx shows as what it was.
Exit codes: 0 when no check differs, 1 when one does.
"""


@click.command(epilog=_EPILOG)
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_REQUESTS,
    show_default=True,
    metavar="N",
    help="Send at most N requests; checks past the cap are reported as not tested.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE",
    help="Also write the report to FILE: JSON for a .json name, else the table.",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="WORD",
    help="Run only the checks whose name contains WORD (repeatable: any of them).",
)
@connected_hiding("retries", "replay")  # refused below, with the reason
def conformance(
    connection: Connection, max_requests: int, report: Path | None, only: tuple[str, ...]
) -> None:
    """Check that the API (or the emulator) behaves as Conviva's Metrics V3 API does."""
    from pyconviva.conformance import check_names, run

    if connection.retries is not None:
        raise click.UsageError(
            "conformance sends each request once, so that a 429 or 5xx is reported rather than "
            "retried away; drop --retries"
        )
    if connection.replay is not None:
        raise click.UsageError(
            "conformance asks for ranges relative to the server's clock, which a replay cannot "
            "follow; drop --replay (--record keeps the replies of a live run)"
        )
    names = check_names()
    if only and not any(word in name for name in names for word in only):
        raise click.UsageError(
            f"no check's name contains {' or '.join(map(repr, only))}; the checks: "
            + "; ".join(names)
        )
    target = connection.target()
    timing = {} if connection.timeout is None else {"timeout": connection.timeout}
    outcome = run(
        target.base_url,
        client_id=target.client_id,
        client_key=target.client_key,
        max_requests=max_requests,
        transport=target.transport,
        now=target.now,
        only=only,
        **timing,
    )
    click.echo(outcome.table())
    if report is not None:
        click.echo(f"Report written to {outcome.write(report)}", err=True)
    if not outcome.passed:
        raise click.exceptions.Exit(1)
