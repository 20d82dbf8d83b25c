"""``pppossh status``: what each interface is doing, from its state file and the kernel."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .standalone import device_exists, pid_alive
from .state import State


def _counter(device: str, name: str) -> int | None:
    try:
        return int(Path(f"/sys/class/net/{device}/statistics/{name}").read_text())
    except (OSError, ValueError):
        return None


def interface_status(rundir: str, iface: str) -> dict[str, Any]:
    data = State(rundir, iface).load()
    device = data.get("device") or f"pppossh-{iface}"
    present = device_exists(device)
    phase = data.get("phase", "down")
    if data.get("mode") == "standalone" and phase not in ("down", "failed") and not pid_alive(
        data.get("supervisor_pid")
    ):
        phase = "down"  # the supervisor is gone (killed, reboot) and left its last words
    up = phase == "up" and present
    up_since = data.get("up_since")
    return {
        "interface": iface,
        "up": up,
        "phase": phase if (up or phase != "up") else "connecting",
        "mode": data.get("mode"),
        "device": device,
        "device_present": present,
        "transport": data.get("transport"),
        "server": data.get("server"),
        "port": data.get("port"),
        "jump": data.get("jump", []),
        "local": data.get("local") if up else None,
        "remote": data.get("remote") if up else None,
        "dns": data.get("dns", []) if up else [],
        "uptime": round(time.time() - up_since, 1) if up and up_since else None,
        "rx_bytes": _counter(device, "rx_bytes") if present else None,
        "tx_bytes": _counter(device, "tx_bytes") if present else None,
        "routes": data.get("routes_added", []) if up else [],
        "host_routes": [p["address"] for p in data.get("host_routes", [])],
        "resolv": data.get("resolv") if up else None,
        "failures": data.get("failures", 0),
        "next_wait": data.get("wait") if phase == "backoff" else None,
        "last_error": data.get("last_error"),
        "supervisor_pid": data.get("supervisor_pid"),
        "pppd_pid": data.get("pppd_pid"),
    }


def known_interfaces(rundir: str) -> list[str]:
    root = Path(rundir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "state.json").exists())


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def format_text(status: dict[str, Any]) -> str:
    s = status
    where = f"{s['transport'] or 'ssh'} to {s['server']}:{s['port']}" if s["server"] else ""
    if where and s.get("jump"):
        where += f" through {', '.join(s['jump'])}"
    if s["up"]:
        lines = [
            f"{s['interface']}: up {s['uptime']:.0f} s, {s['device']} {s['local']} -> "
            f"{s['remote']} over {where}",
            f"  traffic: received {_size(s['rx_bytes'])}, sent {_size(s['tx_bytes'])}",
        ]
        if s["dns"]:
            lines.append(f"  DNS: {' '.join(s['dns'])}" + (f" (in {s['resolv']})"
                                                            if s["resolv"] else ""))
        if s["routes"]:
            lines.append(f"  routes: {' '.join(s['routes'])}")
    else:
        lines = [f"{s['interface']}: {s['phase']}" + (f" ({where})" if where else "")]
        if s["next_wait"]:
            lines.append(f"  next attempt in about {s['next_wait']:g} s"
                         f" ({s['failures']} failures in a row)")
    err = s.get("last_error")
    if err and not s["up"]:
        lines.append(f"  last error: {err.get('code')}: {err.get('message')}")
    return "\n".join(lines)
