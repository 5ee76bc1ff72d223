"""The fenced code blocks of the README and the docs, and what each one asks of the test run.

Pure text processing, no I/O beyond reading the files: ``find_blocks`` turns one Markdown text
into :class:`Block` values; ``documentation_blocks`` gathers those of README.md and docs/**/*.md.

A block is an example (it runs) when its language is ``python``, ``pycon`` or ``console``.
An HTML comment on the last non-blank line before the fence changes that (invisible on GitHub
and in the built site):

``<!-- no-run: why -->``
    the block is shown but not run (an install line, a server that runs until Ctrl-C); the
    test reports it as skipped with the reason, so none goes unrun without saying so.
``<!-- exit-code: N -->``
    a ``console`` block whose commands are meant to fail with exit code N.
``<!-- pytest -->``
    a ``python`` block that is a test module: pytest runs it, as a user's suite would.

Every fence must name a language. Shell-like and Python-like languages other than the three
above (``sh``, ``bash``, ``py``...) must be marked ``no-run``: an example that silently never
runs is what this package exists to prevent. Data languages (``toml``, ``text``, ``csv``...)
are not examples.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

RUNNABLE = frozenset({"python", "pycon", "console"})
CODE_LIKE = frozenset({"py", "python3", "sh", "bash", "shell", "zsh", "ipython", "doscon"})
DATA = frozenset({"toml", "text", "json", "jsonl", "csv", "ini", "yaml"})

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<name>[a-z-]+)\s*(?::\s*(?P<value>.*?))?\s*-->\s*$")
_MARKERS = frozenset({"no-run", "exit-code", "pytest"})


class BlockError(ValueError):
    """A fence or marker the test run cannot read: the message says where and how to fix it."""


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and its marker (if any)."""

    path: str  # relative to the repository root, e.g. "docs/queries.md"
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    marker: str | None = None
    marker_value: str | None = None

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def is_example(self) -> bool:
        """Code a reader might run: it runs here too, or carries a no-run marker."""
        return self.language in RUNNABLE | CODE_LIKE

    @property
    def no_run_reason(self) -> str | None:
        return self.marker_value if self.marker == "no-run" else None

    @property
    def expected_exit_code(self) -> int:
        return int(self.marker_value or 0) if self.marker == "exit-code" else 0


def _marker_before(lines: list[str], fence_index: int) -> tuple[str | None, str | None]:
    for previous in reversed(lines[:fence_index]):
        if previous.strip():
            found = _MARKER.match(previous)
            if found and found["name"] in _MARKERS:
                return found["name"], found["value"]
            return None, None
    return None, None


def _check(block: Block) -> Block:
    where = block.id
    if not block.language:
        raise BlockError(f"{where}: a fence without a language; name one (python, console, toml…)")
    if block.language.startswith("{"):
        return block  # a MyST directive ({toctree}, {automodule}), not a code block
    if block.language not in RUNNABLE | CODE_LIKE | DATA:
        raise BlockError(f"{where}: unknown fence language {block.language!r}")
    if block.language in CODE_LIKE and block.marker != "no-run":
        raise BlockError(
            f"{where}: ```{block.language} blocks do not run; write ```python or ```console "
            "so that the test runs it, or mark it <!-- no-run: why --> before the fence"
        )
    if block.marker == "exit-code" and (
        block.language != "console" or not (block.marker_value or "").isdigit()
    ):
        raise BlockError(f"{where}: <!-- exit-code: N --> takes a number, on console blocks")
    if block.marker == "pytest" and block.language != "python":
        raise BlockError(f"{where}: <!-- pytest --> marks python blocks only")
    if block.marker == "no-run" and not block.marker_value:
        raise BlockError(f"{where}: say why: <!-- no-run: the reason -->")
    return block


def find_blocks(text: str, path: str) -> Iterator[Block]:
    """The fenced blocks of one Markdown text, in order; :class:`BlockError` on a bad one."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        closing = re.compile(rf"^ {{0,{indent + 3}}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        if end == len(lines):
            raise BlockError(f"{path}:{index + 1}: a fence that is never closed")
        body = [
            line[indent:] if line[:indent].isspace() else line for line in lines[index + 1 : end]
        ]
        marker, value = _marker_before(lines, index)
        language = opening["info"].strip().split(" ")[0] if opening["info"].strip() else ""
        yield _check(
            Block(
                path=path,
                line=index + 1,
                language=language,
                code="\n".join(body) + "\n",
                marker=marker,
                marker_value=value,
            )
        )
        index = end + 1


def documentation_files(root: Path) -> list[Path]:
    """README.md and every Markdown page of docs/ (the built site excluded), sorted."""
    pages = [p for p in (root / "docs").rglob("*.md") if "_build" not in p.parts]
    return [root / "README.md", *sorted(pages)]


def documentation_blocks(root: Path) -> list[Block]:
    """The examples (runnable or marked) of every documentation file, in reading order."""
    return [
        block
        for page in documentation_files(root)
        for block in find_blocks(
            page.read_text(encoding="utf-8"), page.relative_to(root).as_posix()
        )
        if block.is_example
    ]


@dataclass(frozen=True)
class Command:
    """One ``$ pyconviva ...`` line of a console block and the output shown under it."""

    argv: list[str]
    expected_output: str  # empty: only the exit code is checked


def console_commands(block: Block) -> list[Command]:
    """The commands of a console block (``$ `` lines, ``\\`` continuations joined)."""
    commands: list[Command] = []
    pending: list[str] = []
    output: list[str] = []
    lines = iter(block.code.splitlines())
    for line in lines:
        if line.startswith("$ "):
            if pending:
                commands.append(_command(block, pending, output))
            pending, output = [line[2:]], []
            while pending[-1].endswith("\\"):
                pending[-1] = pending[-1][:-1]
                pending.append(next(lines, ""))
        elif pending:
            output.append(line)
        elif line.strip():
            raise BlockError(f"{block.id}: console blocks start with a `$ ` command line")
    if pending:
        commands.append(_command(block, pending, output))
    if not commands:
        raise BlockError(f"{block.id}: a console block without a `$ ` command")
    for command in commands:
        if command.argv[:1] != ["pyconviva"]:
            raise BlockError(
                f"{block.id}: only `$ pyconviva ...` commands run; mark other commands "
                "<!-- no-run: why -->"
            )
    return commands


def _command(block: Block, pending: list[str], output: list[str]) -> Command:
    try:
        argv = shlex.split(" ".join(pending), comments=True)
    except ValueError as error:
        raise BlockError(f"{block.id}: cannot split the command: {error}") from None
    return Command(argv=argv, expected_output="\n".join(output).strip("\n"))
