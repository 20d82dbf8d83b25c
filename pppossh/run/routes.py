"""Routes the standalone runner sets itself (netifd does this on OpenWrt).

The default route goes in as two halves (0.0.0.0/1 and 128.0.0.0/1): they win over the
existing default route by being more specific, without touching it, and vanish with the PPP
device.  The host route to the SSH server is pinned through the route the server has now, so
the SSH connection never tries to run through its own tunnel.
"""

from __future__ import annotations

import subprocess

DEFAULT_SPLIT = ["0.0.0.0/1", "128.0.0.0/1"]


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)


def family(address: str) -> str:
    return "-6" if ":" in address else "-4"


def add_device_route(network: str, device: str, metric: int, gateway: str = "") -> bool:
    """A route through ``device``; ``gateway`` for an Ethernet one (sshtun's tap), whose
    destinations would otherwise each be asked for with ARP."""
    via = ["via", gateway] if gateway and family(gateway) == family(network) else []
    return _ip(family(network), "route", "replace", network, *via, "dev", device,
               "metric", str(metric)).returncode == 0


def delete_device_route(network: str, device: str, metric: int) -> None:
    _ip(family(network), "route", "del", network, "dev", device, "metric", str(metric))


def show(version: int) -> str:
    """``ip -4|-6 route show``: the main table, as plain text."""
    out = _ip(f"-{version}", "route", "show")
    return out.stdout if out.returncode == 0 else ""


def route_get(address: str) -> dict[str, str]:
    """``ip route get`` as {gateway, dev, src}; empty when there is no route.

    Read from the plain output, which busybox's ``ip`` (no ``-j``) and iproute2 both print:
    ``203.0.113.1 via 192.0.2.2 dev eth0 src 192.0.2.1 ...``.
    """
    out = _ip(family(address), "route", "get", address)
    if out.returncode != 0:
        return {}
    return parse_route_get(out.stdout)


def parse_route_get(text: str) -> dict[str, str]:
    words = text.split()
    if words[:1] in (["unreachable"], ["prohibit"], ["blackhole"]):
        return {}
    found: dict[str, str] = {}
    for key, name in (("via", "gateway"), ("dev", "dev"), ("src", "src")):
        if key in words and words.index(key) + 1 < len(words):
            found[name] = words[words.index(key) + 1]
    return found


def pin_host_route(address: str) -> dict[str, str] | None:
    """Add a /32 (/128) route to ``address`` via its current next hop; None if impossible."""
    current = route_get(address)
    dev = current.get("dev")
    if not dev or dev == "lo":
        return None
    prefix = "/128" if ":" in address else "/32"
    args = ["route", "replace", address + prefix]
    if current.get("gateway"):
        args += ["via", current["gateway"]]
    args += ["dev", dev]
    if _ip(family(address), *args).returncode != 0:
        return None
    return {"address": address + prefix, "gateway": current.get("gateway", ""), "dev": dev}


def unpin_host_route(pin: dict[str, str]) -> None:
    args = ["route", "del", pin["address"]]
    if pin.get("gateway"):
        args += ["via", pin["gateway"]]
    args += ["dev", pin["dev"]]
    _ip(family(pin["address"]), *args)
