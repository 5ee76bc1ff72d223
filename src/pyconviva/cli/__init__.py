"""Entry point of the ``pyconviva`` command (``pyconviva = "pyconviva.cli:main"``).

The commands need the ``cli`` extra (click, rich). Without it, ``main`` says which install line
adds it instead of failing with an import traceback.

Exit codes: 0 success; 1 any other error; 2 bad usage, invalid query or configuration (nothing
was sent); 3 authentication or permission refused (401/403); 4 rate limited (429); 5 server
error or unusable reply; 6 network error or timeout; 7 query rejected by the API (400, 404,
413, 422); 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_CLI_EXTRA_MODULES = frozenset({"click", "rich", "tomli"})


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line with ``argv`` (default: the process's arguments); exits."""
    try:
        from pyconviva.cli.commands import app
    except ModuleNotFoundError as error:
        if error.name not in _CLI_EXTRA_MODULES:
            raise
        print(
            f"pyconviva: the command line needs {error.name!r}, which is not installed; "
            "install it with: pip install 'pyconviva[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    app.main(args=list(argv) if argv is not None else None, prog_name="pyconviva")
