"""The server role lives in its own OpenWrt package (pppossh-server, which brings jinja2):
a client router without it gets a sentence saying what to install, not a traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import PppsshError

SERVER_PACKAGE = "pppossh-server"


def server(name: str) -> ModuleType:
    """``pppossh.server.<name>``, or SERVER_NOT_INSTALLED when the server role (or what it
    needs, such as jinja2) is not installed."""
    try:
        return importlib.import_module(f"pppossh.server.{name}")
    except ModuleNotFoundError as exc:
        # pppossh.templates ships in pppossh-server too
        if exc.name is None or (exc.name.startswith("pppossh.") and not exc.name.startswith(
                ("pppossh.server", "pppossh.templates"))):
            raise  # a module of the client package itself: a broken install, not a role
        raise PppsshError(
            "SERVER_NOT_INSTALLED",
            f"the server role (peers, server-setup) is not installed ({exc.name} is missing):"
            f" install the package {SERVER_PACKAGE} (opkg install {SERVER_PACKAGE})",
        ) from None
