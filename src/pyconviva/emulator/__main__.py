"""``python -m pyconviva.emulator``: serve the emulator on loopback until Ctrl-C.

Prints the base URL and the credentials to use (the client key only when it is the built-in
demo key: a key of your own is not echoed). The options are those of ``pyconviva emulator``;
see ``_command``.
"""

from __future__ import annotations

import sys

from pyconviva.emulator._command import main

if __name__ == "__main__":
    sys.exit(main())
