"""The ubus binding double (tests/doubles/ubus.py) set up for one test, in this process.

``import ubus`` finds the double for the test only; its pretend socket exists, netifd answers
(``bus.netifd("silent")`` or ``"absent"`` changes that), and every call is logged in the
layout of golden/ubus-calls.log.  The test's SIGTERM handler is put back afterwards: the
double installs uloop's stand-in on connect, as libubus does.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import parse_ubus_log

DOUBLES = Path(__file__).resolve().parent


@dataclass
class Bus:
    socket: Path
    log: Path
    monkeypatch: pytest.MonkeyPatch

    def netifd(self, behaviour: str) -> None:
        """``answer`` (the default), ``silent`` (never answers) or ``absent``."""
        self.monkeypatch.setenv("UBUS_DOUBLE_NETIFD", behaviour)

    def calls(self) -> list[list[str]]:
        return parse_ubus_log(self.log.read_text()) if self.log.exists() else []

    def headers(self) -> list[str]:
        if not self.log.exists():
            return []
        return [line for line in self.log.read_text().splitlines()
                if line.startswith("=== ubus invocation")]


def ordered(text: str) -> Any:
    """A JSON text parsed with its key order kept (what netifd's blobmsg gets)."""
    return json.loads(text, object_pairs_hook=lambda pairs: [list(p) for p in pairs])


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    """The body of a test's ``ubus_binding`` fixture (``yield from install(...)``)."""
    monkeypatch.syspath_prepend(str(DOUBLES))
    monkeypatch.delitem(sys.modules, "ubus", raising=False)
    socket = tmp_path / "ubus.sock"
    socket.touch()
    log = tmp_path / "ubus-binding.log"
    monkeypatch.setenv("UBUS_DOUBLE_SOCKET", str(socket))
    monkeypatch.setenv("UBUS_LOG", str(log))
    monkeypatch.delenv("UBUS_DOUBLE_NETIFD", raising=False)
    monkeypatch.delenv("PPPOSSH_UBUS", raising=False)
    term = signal.getsignal(signal.SIGTERM)
    try:
        yield Bus(socket, log, monkeypatch)
    finally:
        sys.modules.pop("ubus", None)
        signal.signal(signal.SIGTERM, term)
