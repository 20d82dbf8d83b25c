"""Per-interface run state under ``/var/run/pppossh/<iface>/``.

netifd runs setup, the ppp hooks and teardown as separate short-lived processes; this small
JSON file is how they hand facts to each other (mode, link addresses, when the session came
up, consecutive failures for the back-off).  Updates take an exclusive lock so that a hook and
a teardown racing each other never lose a field.

Under netifd the ppp hooks, and the hook when it repeats a setup, are shell alone (no Python
start on the way up): they append one line per event to ``link-events`` (:data:`EVENTS_FILE`),
and every load reads those lines on top of the JSON.  Each line sets its fields to absolute
values, so reading one twice is harmless; an edit folds them into the JSON and removes them.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import atomic

EVENTS_FILE = "link-events"
_FOLDING = EVENTS_FILE + ".folding"


def ensure_private_dir(path: str | Path) -> Path:
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_atomic(path: str | Path, text: str, mode: int = 0o600) -> None:
    """Readers see the old or the new file; state files are always private (``mode``)."""
    atomic.write_atomic(path, text, mode)
    os.chmod(path, mode)


class State:
    """The state directory of one interface."""

    def __init__(self, rundir: str, iface: str) -> None:
        if not iface or "/" in iface or iface.startswith((".", "-")) or "\0" in iface:
            raise ValueError(f"{iface!r} is not an interface name")
        self.iface = iface
        self.dir = Path(rundir) / iface
        self.file = self.dir / "state.json"
        self.garbage = False  # a load found a state file that is not pppossh's JSON

    def path(self, name: str) -> Path:
        return self.dir / name

    def load(self, skip_events: bool = False) -> dict[str, Any]:
        """The JSON with the hooks' events read on top (``skip_events``: only the folding
        file's, the events that an unfinished edit had taken)."""
        try:
            data = json.loads(self.file.read_text())
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):
            # a torn write on a crashed router, garbage: read as empty, and the next write
            # replaces it; the caller may say so once (``garbage``)
            self.garbage = True
            data = {}
        # a fold in progress, then what the hooks appended since
        for name in (_FOLDING,) if skip_events else (_FOLDING, EVENTS_FILE):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                for line in self.path(name).read_text().splitlines():
                    data.update(link_event(line))
        return data

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        """Lock, load, let the caller change the dict, write it back.

        The hooks' events are moved aside first: a hook appending meanwhile starts a new
        file, which the next load reads on top.
        """
        self.dir.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        ensure_private_dir(self.dir)
        with open(self.dir / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.path(_FOLDING).exists():  # an edit that died before it finished folding
                self._write(self.load(skip_events=True))
                os.unlink(self.path(_FOLDING))
            with contextlib.suppress(FileNotFoundError):
                os.rename(self.path(EVENTS_FILE), self.path(_FOLDING))
            data = self.load()
            yield data
            self._write(data)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path(_FOLDING))

    def _write(self, data: dict[str, Any]) -> None:
        write_atomic(self.file, json.dumps(data, indent=1, sort_keys=True) + "\n")

    def update(self, **fields: Any) -> dict[str, Any]:
        with self.edit() as data:
            data.update(fields)
            return dict(data)


def link_event(line: str) -> dict[str, Any]:
    """The state fields one line of the shell hooks sets, e.g.
    ``ip-up time=1700000000 local=10.99.0.1 remote=10.99.0.2 dns1=192.0.2.53 dns2=``.

    Only known events and fields pass, and only well-formed values: anything else in the
    file (a torn line, garbage) is ignored rather than trusted.
    """
    event, *words = line.split() or [""]
    fields = dict(word.partition("=")[::2] for word in words)
    if event == "ip-up":
        dns = [a for a in (_address(fields.get("dns1")), _address(fields.get("dns2"))) if a]
        return {"phase": "up", "up_since": _time(fields.get("time")), "down_at": None,
                "local": _address(fields.get("local")), "remote": _address(fields.get("remote")),
                "dns": list(dict.fromkeys(dns))}
    if event == "ip-down":
        return {"phase": "connecting", "down_at": _time(fields.get("time"))}
    if event == "setup":  # the hook repeated the last setup (run/relay.py)
        return {"mode": "netifd", "phase": "connecting",
                "attempt_started": _time(fields.get("time")), "up_since": None,
                "down_at": None, "wait": 0}
    if event == "ipv6-up":
        return {"local6": _address(fields.get("local6")),
                "remote6": _address(fields.get("remote6"))}
    return {}


def _address(text: str | None) -> str:
    try:
        return str(ipaddress.ip_address(text or ""))
    except ValueError:
        return ""


def _time(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 12 else None
