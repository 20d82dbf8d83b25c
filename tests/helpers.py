"""Shared helpers for the tests: where the golden data lives and how to read it.

The golden transcripts in ``tests/golden/`` (or ``$PPPOSSH_GOLDEN``) are recorded from the real
OpenWrt netifd, ubus and uci (see ``tests/golden/SOURCE.md``); tests and doubles replay them.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

GOLDEN = Path(os.environ.get("PPPOSSH_GOLDEN", Path(__file__).resolve().parent / "golden"))
NETIFD = GOLDEN / "netifd"
REPO = Path(__file__).resolve().parents[1]


def load_luci_server() -> ModuleType:
    """``tests/luci/server.py`` (the uhttpd/rpcd stand-in), which is not in a package."""
    name = "luci_test_server"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tests/luci/server.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def golden_call(phase: str, pattern: str) -> Path:
    """The one call file of ``phase`` whose name matches ``pattern`` (e.g. ``*-setup-vpn.txt``)."""
    found = sorted((NETIFD / phase).glob(pattern))
    assert found, f"no {pattern} in {NETIFD / phase}"
    return found[-1]


def call_argv(path: Path) -> list[str]:
    """The handler argv recorded in a ``call-*.txt`` file, single quotes stripped."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("### argv"))
    argv: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("### "):
            break
        assert line.startswith("'") and line.endswith("'"), line
        argv.append(line[1:-1])
    return argv


def setup_json(phase: str, iface: str) -> str:
    """The config JSON netifd passed to ``setup <iface>`` (4th argv line) in ``phase``."""
    argv = call_argv(golden_call(phase, f"call-*-setup-{iface}.txt"))
    assert argv[:3] == ["pppossh", "setup", iface], argv
    return argv[3]


def ed25519_key(seed: int = 1) -> str:
    """A syntactically valid ``ssh-ed25519 AAAA...`` public key (type name inside the blob)."""
    kind = b"ssh-ed25519"
    point = bytes((seed + i) % 256 for i in range(32))
    blob = struct.pack(">I", len(kind)) + kind + struct.pack(">I", len(point)) + point
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


GOLDEN_PLACEHOLDER_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldenGoldenGoldenGoldenGoldenGoldenGold"
)


def with_hostkey(config_json: str, key: str) -> str:
    """Replace the golden placeholder host key in a setup JSON by ``key``."""
    assert GOLDEN_PLACEHOLDER_KEY in config_json
    return config_json.replace(GOLDEN_PLACEHOLDER_KEY, key)


def parse_ubus_log(text: str) -> list[list[str]]:
    """argv of each ``=== ubus invocation`` block of a log in golden/ubus-calls.log layout.

    A block cut short by the recorder (the golden log elides most of phase 07's loop with a
    ``[... N more lines ...]`` line) is skipped.
    """
    calls: list[list[str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("=== ubus invocation"):
            i += 1
            continue
        header = lines[i + 1] if i + 1 < len(lines) else ""
        if not header.startswith("--- argv ($# = "):
            i += 1
            continue
        count = int(header.split("$# = ")[1].split(")")[0])
        calls.append(lines[i + 2 : i + 2 + count])
        i += 2 + count
    return calls


def read_uci(text: str) -> dict[str, dict[str, str | tuple[str, ...]]]:
    """Sections of a simple UCI file (``option``/``list`` lines, single-quoted values)."""
    sections: dict[str, dict[str, str | tuple[str, ...]]] = {}
    current: dict[str, str | tuple[str, ...]] | None = None
    for line in text.splitlines():
        words = line.strip().split(None, 2)
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "config":
            current = sections.setdefault(words[2].strip("'\""), {})
        elif current is not None and words[0] == "option":
            current[words[1]] = words[2][1:-1]
        elif current is not None and words[0] == "list":
            old = current.get(words[1], ())
            current[words[1]] = (*old, words[2][1:-1])
    return sections


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dropbear_on_localhost(tmp: Path) -> Iterator[tuple[int, str]]:
    """A real dropbear on 127.0.0.1 with a new ed25519 host key: (port, ``type base64`` of
    its host key), once the port answers; stopped afterwards."""
    host_key = tmp / "host_key"
    subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(host_key)], check=True,
                   capture_output=True, timeout=60)
    public = subprocess.run(["dropbearkey", "-y", "-f", str(host_key)], check=True,
                            capture_output=True, text=True, timeout=60).stdout
    line = " ".join(next(x for x in public.splitlines() if x.startswith("ssh-")).split()[:2])
    port = free_port()
    proc = subprocess.Popen(["dropbear", "-F", "-E", "-s", "-p", f"127.0.0.1:{port}", "-r",
                             str(host_key), "-P", str(tmp / "dropbear.pid")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield port, line
    finally:
        proc.terminate()
        proc.wait(10)


class RecordingBus:
    """An in-process stand-in for ``run.ubus.Ubus``: keeps each notify_proto message and each
    other call; ``call`` answers from ``answers`` by (path, method), else nothing, as the CLI
    double does (tests/netifd/ubus).  Messages must be JSON, as on the real bus."""

    backend = "test"

    def __init__(self, answers: dict[tuple[str, str], Any] | None = None) -> None:
        self.sent: list[dict] = []
        self.calls: list[tuple[str, str, dict | None]] = []
        self.answers = answers or {}

    def notify(self, message: dict) -> None:
        json.dumps(message)
        self.sent.append(message)

    def call(self, path: str, method: str, message: dict | None = None,
             simple: bool = False) -> Any:
        self.calls.append((path, method, message))
        return self.answers.get((path, method))

