"""The system's resolver while a standalone tunnel with ``system_dns`` is up.

Three ways a Linux box takes DNS servers, tried in this order: systemd-resolved (``resolvectl``
sets them on the tunnel's device, which drops them with the device), resolvconf (a record
named after the device), and else ``/etc/resolv.conf`` itself.  Before anything changes, a
record of how to undo it goes to ``<rundir>/resolver.<iface>.json``; restoring reads that
record, so the exact previous state (the file's bytes and mode, or the symlink it was) comes
back on ``down``, at link-down, and after a crash on the next ``disconnect --all``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import log
from ..atomic import write_atomic

RESOLV_CONF_ENV = "PPPOSSH_RESOLV_CONF"  # tests point it elsewhere
BACKEND_ENV = "PPPOSSH_RESOLVER"  # "resolved", "resolvconf" or "file": no detection
BACKENDS = ("resolved", "resolvconf", "file")


def resolv_conf() -> Path:
    return Path(os.environ.get(RESOLV_CONF_ENV, "/etc/resolv.conf"))


def detect() -> str:
    """systemd-resolved when it runs, resolvconf when installed, else the file."""
    import shutil  # here: the hooks import this module at every link-up, rarely to detect

    forced = os.environ.get(BACKEND_ENV, "")
    if forced in BACKENDS:
        return forced
    if shutil.which("resolvectl") and Path("/run/systemd/resolve/io.systemd.Resolve").exists():
        return "resolved"
    if shutil.which("resolvconf") and not _is_systemd_shim():
        return "resolvconf"
    return "file"


def _is_systemd_shim() -> bool:
    """systemd's resolvconf is resolvectl under another name: without resolved it fails."""
    import shutil

    path = shutil.which("resolvconf")
    return bool(path) and os.path.realpath(path or "").endswith("resolvectl")


def record_path(rundir: str | Path, iface: str) -> Path:
    return Path(rundir, f"resolver.{iface}.json")


def text(iface: str, servers: Sequence[str]) -> str:
    return (f"# written by pppossh while interface {iface} is up; the previous file comes"
            " back when it goes down\n" + "".join(f"nameserver {s}\n" for s in servers))


def apply(rundir: str | Path, iface: str, device: str, servers: Sequence[str]) -> str:
    """Give the system ``servers``; the backend used, or "" when another tunnel holds the
    file (two tunnels cannot both own /etc/resolv.conf: the second is refused, logged)."""
    record = record_path(rundir, iface)
    backend = detect()
    if backend == "file":
        holder = _file_holder(rundir)
        if holder and holder != iface:
            log.warning("%s: %s holds %s already; DNS servers %s not set", iface, holder,
                        resolv_conf(), " ".join(servers))
            return ""
    previous = _load(record)
    if not previous:  # the first link-up: remember how it was before anything changes
        previous = {"iface": iface, "device": device, "backend": backend,
                    **(_snapshot(resolv_conf()) if backend == "file" else {})}
        write_atomic(record, json.dumps(previous), 0o600)
    if backend == "resolved":
        _run(["resolvectl", "dns", device, *servers])
        _run(["resolvectl", "domain", device, "~."])
    elif backend == "resolvconf":
        _run(["resolvconf", "-a", device], text(iface, servers))
    else:
        path = resolv_conf()
        tmp = path.with_name(f".{path.name}.pppossh")
        tmp.write_text(text(iface, servers))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # replaces a symlink as well: the record keeps its target
    log.info("%s: DNS %s through %s", iface, " ".join(servers), backend)
    return backend


def restore(rundir: str | Path, iface: str) -> str:
    """Undo :func:`apply` for ``iface``; what was restored, for people ("" when nothing)."""
    record = record_path(rundir, iface)
    data = _load(record)
    if not data:
        return ""
    backend, device = data.get("backend"), str(data.get("device", ""))
    if backend == "resolved":
        _run(["resolvectl", "revert", device])
        done = f"systemd-resolved's DNS for {device}"
    elif backend == "resolvconf":
        _run(["resolvconf", "-d", device])
        done = f"resolvconf's record {device}"
    else:
        _put_back(resolv_conf(), data)
        done = str(resolv_conf())
    record.unlink(missing_ok=True)
    return done


def restore_all(rundir: str | Path) -> list[str]:
    """Every record left behind (a supervisor killed before it could restore)."""
    done = []
    for record in sorted(Path(rundir).glob("resolver.*.json")):
        iface = record.name[len("resolver."):-len(".json")]
        restored = restore(rundir, iface)
        if restored:
            done.append(restored)
    return done


def _file_holder(rundir: str | Path) -> str:
    for record in Path(rundir).glob("resolver.*.json"):
        data = _load(record)
        if data.get("backend") == "file":
            return str(data.get("iface", ""))
    return ""


def _snapshot(path: Path) -> dict[str, Any]:
    """How the file is now: a symlink and its target, or the bytes and mode, or absent."""
    if path.is_symlink():
        return {"link": os.readlink(path)}
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {"absent": True}
    return {"content": base64.b64encode(data).decode(), "mode": path.stat().st_mode & 0o7777}


def _put_back(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.pppossh")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    if "link" in data:
        os.symlink(data["link"], tmp)
    elif "content" in data:
        tmp.write_bytes(base64.b64decode(data["content"]))
        os.chmod(tmp, int(data.get("mode", 0o644)))
    else:
        path.unlink(missing_ok=True)
        return
    os.replace(tmp, path)


def _load(record: Path) -> dict[str, Any]:
    try:
        data = json.loads(record.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _run(argv: list[str], stdin: str | None = None) -> None:
    try:
        out = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=15,
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("%s failed: %s", argv[0], exc)
        return
    if out.returncode:
        log.warning("%s exited with %d: %s", " ".join(argv[:2]), out.returncode,
                    out.stderr.strip())
