"""Every example of README.md and docs/**/*.md runs, as a user would run it, against the emulator.

One test per fenced block (id ``file:line``; see :mod:`tests.docs.blocks` for the kinds and the
markers). The blocks of one file share one namespace and run in reading order, so a later block
may use the ``api`` an earlier one made; a block picked alone with ``-k`` first runs the blocks
before it. The credentials and the base URL come from the environment, pointed at one loopback
emulator for the whole module, so the examples read exactly like user code
(``ConvivaAPI()``, ``ConvivaAPI(os.environ["client_key"], os.environ["client_id"])``).
The emulator runs on the real clock: the examples give every date relative to "now".
"""

from __future__ import annotations

import doctest
import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pyconviva import ConvivaAPI
from pyconviva.cli import main as pyconviva_main
from pyconviva.emulator import Emulator
from tests.docs.blocks import Block, console_commands, documentation_blocks

# A page's examples share one namespace and run in order: one worker takes them all.
pytestmark = [pytest.mark.network, pytest.mark.xdist_group("documentation-examples")]

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = documentation_blocks(ROOT)
OUTPUT_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Nested pytest runs (<!-- pytest --> blocks) must not take over the outer run's alarm or cache,
# nor pay for plugins our own suite loads (hypothesis imports itself for its summary: seconds).
NESTED_PYTEST_OPTIONS = [
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:timeout",
    "-p",
    "no:hypothesispytest",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
]


@dataclass
class DocsRun:
    """The state the examples of one test module share: a working directory, one namespace
    per documentation file, and which blocks have run."""

    workdir: Path
    namespaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)

    def namespace(self, block: Block) -> dict[str, Any]:
        return self.namespaces.setdefault(block.path, {"__name__": "__main__"})

    def run_earlier_blocks(self, block: Block) -> None:
        """Run the blocks before ``block`` in its file that have not run (``-k`` picked it)."""
        for earlier in BLOCKS:
            if (
                earlier.path == block.path
                and earlier.line < block.line
                and earlier.id not in self.started
                and earlier.no_run_reason is None
            ):
                self.run(earlier)

    def run(self, block: Block) -> None:
        self.started.add(block.id)
        if block.language == "python" and block.marker == "pytest":
            run_as_test_module(block, self.workdir)
        elif block.language == "python":
            run_python(block, self.namespace(block))
        elif block.language == "pycon":
            run_pycon(block, self.namespace(block))
        else:
            run_console(block)

    def close_clients(self) -> None:
        for namespace in self.namespaces.values():
            for value in namespace.values():
                if isinstance(value, ConvivaAPI):
                    value.close()


def run_python(block: Block, namespace: dict[str, Any]) -> None:
    # Blank lines in front keep the line numbers of tracebacks those of the Markdown file.
    source = "\n" * block.line + block.code
    exec(compile(source, str(ROOT / block.path), "exec"), namespace)  # noqa: S102 - our docs


def run_pycon(block: Block, namespace: dict[str, Any]) -> None:
    test = doctest.DocTestParser().get_doctest(
        block.code, namespace, block.id, str(ROOT / block.path), block.line
    )
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OUTPUT_FLAGS)
    outcome = runner.run(test, out=report.write, clear_globs=False)
    if outcome.failed:
        pytest.fail(f"{block.id}: the session does not give the output shown\n{report.getvalue()}")


def run_console(block: Block) -> None:
    for command in console_commands(block):
        code, output = run_pyconviva(command.argv[1:])
        shown = " ".join(command.argv)
        assert code == block.expected_exit_code, f"`{shown}` exited {code}:\n{output}"
        if command.expected_output and not doctest.OutputChecker().check_output(
            command.expected_output + "\n", output, OUTPUT_FLAGS
        ):
            pytest.fail(
                f"{block.id}: `{shown}` printed\n{output}\nbut the docs show\n"
                f"{command.expected_output}"
            )


def run_pyconviva(arguments: list[str]) -> tuple[int, str]:
    """Run the ``pyconviva`` command in process; its exit code and what it printed."""
    with pytest.MonkeyPatch.context() as patch:
        out, err = io.StringIO(), io.StringIO()
        patch.setattr("sys.stdout", out)
        patch.setattr("sys.stderr", err)
        try:
            pyconviva_main(arguments)
        except SystemExit as exit_:
            code = exit_.code
        else:
            code = 0
    status = code if isinstance(code, int) else (0 if code is None else 1)
    return status, out.getvalue() + err.getvalue()


def run_as_test_module(block: Block, workdir: Path) -> None:
    """Run the block with pytest, as a test module of a user's suite (the plugin loads itself)."""
    suite = workdir / "user-suite"
    suite.mkdir(exist_ok=True)
    (suite / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    module = suite / f"test_{re.sub(r'[^a-z0-9]+', '_', block.id.lower())}.py"
    module.write_text(block.code, encoding="utf-8")
    code = pytest.main([*NESTED_PYTEST_OPTIONS, "--rootdir", str(suite), str(module)])
    assert code == pytest.ExitCode.OK, f"{block.id}: pytest exited {code!r} (output above)"


@contextmanager
def logging_restored(*names: str) -> Iterator[None]:
    """Undo what examples do to logging (``basicConfig``, levels), as a script's exit would."""
    loggers = [logging.getLogger(name) for name in names]
    saved = [(logger.level, list(logger.handlers), logger.propagate) for logger in loggers]
    try:
        yield
    finally:
        for logger, (level, handlers, propagate) in zip(loggers, saved, strict=True):
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate


@pytest.fixture(scope="module")
def docs_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocsRun]:
    emulator = Emulator()
    workdir = tmp_path_factory.mktemp("docs-examples")
    with (
        emulator.serve() as base_url,
        pytest.MonkeyPatch.context() as patch,
        logging_restored("", "pyconviva"),
    ):
        for name in ("CONVIVA_CLIENT_SECRET", "PYCONVIVA_EMULATOR_NOW", "PYCONVIVA_CONFIG"):
            patch.delenv(name, raising=False)
        patch.setenv("CONVIVA_CLIENT_ID", emulator.client_id)
        patch.setenv("CONVIVA_CLIENT_KEY", emulator.client_key)
        patch.setenv("CONVIVA_BASE_URL", base_url)
        # The seed README's own variable names, which its first example reads.
        patch.setenv("client_id", emulator.client_id)
        patch.setenv("client_key", emulator.client_key)
        patch.setenv("XDG_CONFIG_HOME", str(workdir / "config"))
        patch.chdir(workdir)
        run = DocsRun(workdir)
        try:
            yield run
        finally:
            run.close_clients()


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_documentation_example_runs(block: Block, docs_run: DocsRun) -> None:
    if block.no_run_reason is not None:
        pytest.skip(f"{block.id} is marked no-run: {block.no_run_reason}")
    docs_run.run_earlier_blocks(block)
    docs_run.run(block)
