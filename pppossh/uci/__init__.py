"""Access to UCI configuration (OpenWrt's /etc/config) through one small interface.

``open_uci()`` picks the best backend available at run time: pyuci's ``euci`` on an OpenWrt
router that has it, else the ``uci`` program, else direct file access (plain Linux, tests).
Only the standard library is used, and pyuci is imported only when chosen.
"""

from __future__ import annotations

import os

from pppossh.uci.backends import CliBackend, EUciBackend, FileBackend
from pppossh.uci.base import Section, Uci, UciError, Value

__all__ = [
    "CliBackend",
    "EUciBackend",
    "FileBackend",
    "Section",
    "Uci",
    "UciError",
    "Value",
    "open_uci",
]

BACKEND_ENV = "PPPOSSH_UCI_BACKEND"
BACKENDS = ("euci", "cli", "file")


def _detect() -> str:
    """The first backend that works here: euci, then the uci program, then the files."""
    import shutil

    try:
        import euci  # noqa: F401  (only to see whether pyuci loads)
    except ImportError:
        pass
    else:
        return "euci"
    if shutil.which("uci"):
        return "cli"
    return "file"


def open_uci(confdir: str = "/etc/config", backend: str | None = None) -> Uci:
    """Return a UCI backend for ``confdir``.

    ``backend`` (or the environment variable PPPOSSH_UCI_BACKEND) forces one of "euci", "cli"
    or "file"; otherwise the first one that works is used.
    """
    choice = backend or os.environ.get(BACKEND_ENV) or _detect()
    if choice == "euci":
        return EUciBackend(confdir)
    if choice == "cli":
        return CliBackend(confdir)
    if choice == "file":
        return FileBackend(confdir)
    raise UciError(
        f"unknown UCI backend {choice!r} (from {'open_uci()' if backend else BACKEND_ENV}): "
        f"use one of {', '.join(BACKENDS)}"
    )
