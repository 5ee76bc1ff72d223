"""Where and in which format a command's result goes (``--output``, ``--format``), decided and
checked before any request is sent, then written: to the terminal, to stdout or atomically to
a file."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console, Group

from pyconviva._files import atomic_path
from pyconviva.cli.output import (
    FORMATS,
    Tabular,
    csv_text,
    json_text,
    jsonl_text,
    rich_tables,
)

__all__ = [
    "SUFFIX_FORMATS",
    "Destination",
    "choose_format",
    "output_options",
    "require_directory",
    "stdout_is_terminal",
]

_F = TypeVar("_F", bound=Callable[..., Any])

_UNBOUNDED_WIDTH = 10_000  # a table off the terminal takes its natural width

# The formats each file suffix may hold, the one it picks first. A suffix not listed here picks
# nothing: writing CSV into ``out.xlsx`` because the suffix was not understood is a silent
# wrong answer.
SUFFIX_FORMATS: Mapping[str, tuple[str, ...]] = {
    ".csv": ("csv",),
    ".json": ("json", "raw"),
    ".jsonl": ("jsonl",),
    ".ndjson": ("jsonl",),
    ".parquet": ("parquet",),
    ".pq": ("parquet",),
    ".txt": ("table", "summary"),
}


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal, as rich's ``TTY_COMPATIBLE`` may declare it either way
    (``1`` shows the terminal view through a pipe, e.g. into ``less -R``; ``0`` never does).

    ``FORCE_COLOR``, which rich also reads, is left out on purpose: a shell that sets it for
    colours must still get CSV when it pipes a command into a file.
    """
    declared = os.environ.get("TTY_COMPATIBLE", "")
    if declared in ("0", "1"):
        return declared == "1"
    return sys.stdout.isatty()


def output_options(*, rows: str, raw: bool = True, summary: bool = False) -> Callable[[_F], _F]:
    """Add ``--output`` and ``--format``; the command receives ``output`` and ``output_format``.

    ``rows`` says what the command's rows are; ``raw`` offers the API's reply as it came (not
    for commands that send no request); ``summary`` offers the terminal summary, and makes it
    the default on a terminal.
    """
    offered = {"raw": raw, "summary": summary}
    formats = tuple(name for name in FORMATS if offered.get(name, True))
    raw_help = " or raw (the API's reply as it came)" if raw else ""
    terminal_help = (
        "summary (default on a terminal: a row per group, totals and trends), table (every row)"
        if summary
        else "table (default on a terminal)"
    )
    output = click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="Write to FILE (atomically: an interrupted run leaves no partial file) instead of "
        f"stdout. Its suffix ({', '.join(SUFFIX_FORMATS)}) picks the format when --format is "
        "not given.",
    )
    output_format = click.option(
        "--format",
        "-f",
        "output_format",
        type=click.Choice(formats),
        help=f"{terminal_help}, csv (default otherwise), json (the rows as one array), jsonl "
        f"(one row a line), parquet (needs --output){raw_help}. The rows: {rows}.",
    )

    def add(func: _F) -> _F:
        return output_format(output(func))

    return add


def choose_format(
    requested: str | None,
    output: Path | None,
    stdout_is_terminal: bool,
    terminal_default: str = "table",
) -> str:
    """The asked-for format, else the output file's suffix, else ``terminal_default`` on a
    terminal, CSV off it.

    A file whose suffix names no format is refused unless ``--format`` says what to write, and
    a ``--format`` the suffix contradicts (``-f csv -o out.parquet``) is refused.
    """
    if output is None:
        return requested or (terminal_default if stdout_is_terminal else "csv")
    suffix = output.suffix.lower()
    fitting = SUFFIX_FORMATS.get(suffix)
    if requested is None:
        if fitting is None:
            raise click.UsageError(
                f"--output {output}: {_suffix_words(suffix)} names no format pyconviva writes; "
                f"use one of {', '.join(SUFFIX_FORMATS)}, or say the format with --format"
            )
        return fitting[0]
    if fitting is not None and requested not in fitting:
        raise click.UsageError(
            f"--format {requested} contradicts --output {output}, whose suffix {suffix} means "
            f"{fitting[0]}; drop --format or name the file for {requested}"
        )
    return requested


def _suffix_words(suffix: str) -> str:
    return f"the suffix {suffix}" if suffix else "a name without a suffix"


def require_directory(path: Path, option: str) -> None:
    """Refuse a file in a missing directory before any request, not after the data came back."""
    if not path.parent.is_dir():
        raise click.UsageError(
            f"{option} {path}: the directory {path.parent} does not exist; create it first"
        )


@dataclass(frozen=True)
class Destination:
    """Where and how a command's result goes; checked before any request is sent."""

    output_format: str
    output: Path | None

    @classmethod
    def choose(
        cls, output_format: str | None, output: Path | None, terminal_default: str = "table"
    ) -> Destination:
        chosen = choose_format(output_format, output, stdout_is_terminal(), terminal_default)
        if chosen == "parquet" and output is None:
            raise click.UsageError("--format parquet writes a file: add --output FILE.parquet")
        if output is not None:
            require_directory(output, "--output")
        return cls(chosen, output)

    def write(self, tabular: Tabular) -> None:
        if self.output_format == "parquet":
            assert self.output is not None  # checked in choose()
            with atomic_path(self.output) as temporary:
                tabular.write_parquet(temporary)
            return
        if self.output_format in ("table", "summary") and self.output is None:
            if stdout_is_terminal():
                console = Console(force_terminal=True)
            else:
                # Piped or redirected: no terminal width to fit, so no folded cells either.
                console = Console(width=_UNBOUNDED_WIDTH)
            console.print(Group(*self._renderables(tabular)))
            return
        text = self._render(tabular)
        if self.output is None:
            click.echo(text, nl=False)
            return
        with atomic_path(self.output) as temporary:
            temporary.write_text(text, encoding="utf-8")

    def _render(self, tabular: Tabular) -> str:
        if self.output_format == "csv":
            return csv_text(tabular.rows)
        if self.output_format == "jsonl":
            return jsonl_text(tabular.rows)
        if self.output_format == "json":
            return json_text(tabular.rows)
        if self.output_format == "raw":
            return json_text(tabular.document)
        buffer = io.StringIO()
        Console(file=buffer, width=_UNBOUNDED_WIDTH, no_color=True).print(
            Group(*self._renderables(tabular))
        )
        return buffer.getvalue()

    def _renderables(self, tabular: Tabular) -> list[Any]:
        if self.output_format == "summary":
            assert tabular.summary is not None  # only commands with a summary offer it
            return list(tabular.summary())
        return list(rich_tables(tabular))
