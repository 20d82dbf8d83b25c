"""Per-interface run state under ``/var/run/pppossh/<iface>/``.

netifd runs setup, the ppp hooks and teardown as separate short-lived processes; this small
JSON file is how they hand facts to each other (mode, link addresses, when the session came
up, consecutive failures for the back-off).  Updates take an exclusive lock so that a hook and
a teardown racing each other never lose a field.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import atomic


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

    def path(self, name: str) -> Path:
        return self.dir / name

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        """Lock, load, let the caller change the dict, write it back."""
        self.dir.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        ensure_private_dir(self.dir)
        with open(self.dir / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.load()
            yield data
            write_atomic(self.file, json.dumps(data, indent=1, sort_keys=True) + "\n")

    def update(self, **fields: Any) -> dict[str, Any]:
        with self.edit() as data:
            data.update(fields)
            return dict(data)
