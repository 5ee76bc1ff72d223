"""What ``pyconviva export`` says when it is done: one summary line on stdout with the range the
run really fetched, the failed units on stderr, and the exit code of the first failure."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from pyconviva._rules import format_instant, parse_instant
from pyconviva.cli.errors import exit_code_for, one_line
from pyconviva.cli.export_advice import export_advice

if TYPE_CHECKING:
    from pyconviva._dataset import ExportSummary

__all__ = ["export_summary_line", "fetched_range", "report_export"]

_ERRORS_SHOWN = 5  # a network outage fails every unit alike: a few lines say it


def report_export(summary: ExportSummary, *, granularity: str) -> None:
    """The summary line on stdout; failed units on stderr and the first one's exit code."""
    from pyconviva._dataset import data_files

    files = len(data_files(summary.directory))  # finished files only, not another run's temporaries
    for path, error in list(summary.errors.items())[:_ERRORS_SHOWN]:
        click.echo(f"Error: {path}: {one_line(error, debug=False, command='export')}", err=True)
    if len(summary.errors) > _ERRORS_SHOWN:
        click.echo(f"Error: ... and {len(summary.errors) - _ERRORS_SHOWN} more", err=True)
    fetched = fetched_range(summary, granularity=granularity)
    click.echo(export_summary_line(summary, files=files, fetched=fetched))
    if summary.errors:
        for advice in export_advice(list(summary.errors.values())):
            click.echo(f"pyconviva: {advice}", err=True)
        raise click.exceptions.Exit(exit_code_for(next(iter(summary.errors.values()))))


def fetched_range(summary: ExportSummary, *, granularity: str) -> tuple[datetime, datetime] | None:
    """The range this run covered: its own, widened to the units it wrote for earlier runs.

    A ``--since-last`` run also completes the units an earlier run left unfinished, so what it
    wrote can lie before its own range (which is empty when nothing new is due yet). ``None``
    when the run covered nothing.
    """
    from pyconviva._dataset import MANIFEST_NAME, Manifest

    spans = [(summary.start, summary.end)] if summary.start < summary.end else []
    if summary.written:
        units = Manifest.read(summary.directory / MANIFEST_NAME, granularity).units
        spans.extend(
            (parse_instant(units[path]["start"]), parse_instant(units[path]["end"]))
            for path in summary.written
        )
    if not spans:
        return None
    return min(start for start, _ in spans), max(end for _, end in spans)


def export_summary_line(
    summary: ExportSummary, *, files: int, fetched: tuple[datetime, datetime] | None
) -> str:
    """One line: what this run fetched, wrote, skipped and failed, and the dataset it left."""
    if fetched is None:
        covered = f"Nothing new to export after {format_instant(summary.end)}"
    else:
        covered = f"Exported {format_instant(fetched[0])} to {format_instant(fetched[1])}"
    unsettled = ""
    if summary.provisional or summary.pending:
        unsettled = (
            f", {len(summary.provisional) + summary.pending} not settled yet (fetched again by "
            "the next run)"
        )
    return (
        f"{covered} into {summary.directory}: {len(summary.written)} units written "
        f"({summary.rows:,} rows), {summary.skipped} skipped (already exported), "
        f"{len(summary.errors)} failed{unsettled}; {files} files in the dataset"
    )
