"""``python -m pyconviva.cli``: the ``pyconviva`` command, where no console script is installed."""

from pyconviva.cli import main

main()
