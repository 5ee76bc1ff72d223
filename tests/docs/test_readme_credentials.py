"""The README's examples read the credentials from the variables its Credentials table names."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs.blocks import find_blocks

ROOT = Path(__file__).resolve().parents[2]
_ENVIRONMENT_READ = re.compile(r"""(?:environ\[|environ\.get\(|getenv\()\s*["']([^"']+)["']""")


def test_every_readme_example_reads_the_conviva_variables() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    read = {
        name
        for block in find_blocks(readme, "README.md")
        if block.is_example
        for name in _ENVIRONMENT_READ.findall(block.code)
    }
    assert read, "the README's examples no longer read the environment: update this test"
    assert all(name.startswith("CONVIVA_") for name in read), sorted(read)
