"""Which uplink carries the route to the SSH server, and when the tunnel should move.

The SSH connection is pinned to the uplink the server's route had when it started (a host
route: netifd's host dependency, or the standalone supervisor's own).  The pin keeps the
connection out of its own tunnel, but also on that uplink after a better one appears: a wired
WAN that returns while the tunnel still runs over the LTE backup.  Here is the choice of an
uplink and the test whether it changed:

- :func:`best` picks among routes the way the kernel would: the longest prefix, then the
  lowest metric.  Routes through pppossh's own devices and the pin itself do not count.
- Standalone, the candidates are the kernel's main table (:func:`from_kernel`).
- Under netifd they are the interfaces' routes from ``ubus call network.interface dump``
  (:func:`from_dump`).  netifd, left to choose, takes the longest prefix and, between equal
  ones, the first interface by name (``interface_ip_add_target_route`` in
  ``interface-ip.c``), whatever its metric; so the helper names the interface in the host
  dependency itself (``proto_add_host_dependency``'s third argument).

netifd tears the tunnel down by itself when the uplink of its dependency goes down
(``proto_shell_if_down_cb`` in ``proto-shell.c``), and the setup that follows picks again.
An uplink coming up is news to nobody: the hotplug script ``/etc/hotplug.d/iface/95-pppossh``
runs :func:`check`, which reconnects each tunnel whose server is now better reached through
another interface.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import log
from .state import State

CHECK_EVERY = 2.0  # seconds between two looks at the routing table (standalone)
OWN_PROTOCOLS = ("pppossh", "sshtun")
OWN_DEVICE_PREFIX = "pppossh-"  # the devices pppossh's tunnels use (plan: pppossh-<iface>)
NOT_A_PATH = {"unreachable", "blackhole", "prohibit", "throw", "local", "broadcast",
              "anycast", "multicast", "nat"}


@dataclass(frozen=True)
class Route:
    """One route that may carry traffic to the server."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    device: str
    gateway: str = ""
    metric: int = 0
    interface: str = ""  # the netifd interface it belongs to, under netifd

    @property
    def uplink(self) -> tuple[str, str]:
        """What a pin through this route is made of: the device and the next hop."""
        return self.device, self.gateway


def best(routes: Iterable[Route], address: str) -> Route | None:
    """The route the kernel takes to ``address`` among ``routes``: the longest prefix that
    holds it, then the lowest metric.  Ties keep the order given (netifd's: by name)."""
    target = ipaddress.ip_address(address)
    found: Route | None = None
    for route in routes:
        if route.network.version != target.version or target not in route.network:
            continue
        if found is None or (route.network.prefixlen, -route.metric) > (
                found.network.prefixlen, -found.metric):
            found = route
    return found


def parse_routes(text: str, family: int) -> list[Route]:
    """``ip route show`` output (iproute2's or busybox's plain text) as routes.

    Routes of other kinds than unicast (unreachable, blackhole, ...) carry nothing and are
    left out, as are routes through pppossh's own devices.
    """
    found = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] in NOT_A_PATH:
            continue
        fields = dict(zip(words[1::2], words[2::2], strict=False))
        # keyword-value pairs follow the destination, except flags such as 'onlink' or
        # 'linkdown' that come alone: read them by position from each keyword
        for key in ("via", "dev", "metric"):
            if key in words and words.index(key) + 1 < len(words):
                fields[key] = words[words.index(key) + 1]
        device = fields.get("dev", "")
        if not device or device.startswith(OWN_DEVICE_PREFIX) or "linkdown" in words:
            continue
        destination = words[0]
        if destination == "default":
            destination = "0.0.0.0/0" if family == 4 else "::/0"
        try:
            network = ipaddress.ip_network(destination, strict=False)
            metric = int(fields.get("metric", "0"))
        except ValueError:
            continue
        found.append(Route(network, device, fields.get("via", ""), metric))
    return found


def without_pins(routes: Iterable[Route], pins: Iterable[dict[str, str]]) -> list[Route]:
    """``routes`` less the host routes pppossh pinned itself (``routes.pin_host_route``)."""
    pinned = {(ipaddress.ip_network(p["address"]), p.get("dev", ""), p.get("gateway", ""))
              for p in pins}
    return [r for r in routes if (r.network, r.device, r.gateway) not in pinned]


def from_kernel(address: str, pins: Iterable[dict[str, str]],
                show: Callable[[int], str]) -> Route | None:
    """Standalone: the route to ``address`` the kernel would take without pppossh's pins and
    tunnels.  ``show(family)`` gives ``ip -4|-6 route show`` (main table)."""
    family = ipaddress.ip_address(address).version
    return best(without_pins(parse_routes(show(family), family), pins), address)


def moved(pin: dict[str, str], now: Route | None) -> bool:
    """Whether the server is now better reached through another uplink than its pin.

    No route at all is no reason to move: the pin is all that still leads there.
    """
    return now is not None and now.uplink != (pin.get("dev", ""), pin.get("gateway", ""))


# --- netifd -------------------------------------------------------------------------------
def _dump_routes(entry: dict[str, Any], family: int) -> list[Route]:
    """One interface of the dump: its routes, and its own subnets (on-link: netifd looks
    for an address that holds the target first, and such a subnet is the longest prefix)."""
    device = str(entry.get("l3_device") or entry.get("device") or "")
    interface = str(entry.get("interface", ""))
    metric = int(entry.get("metric") or 0)
    found = []
    for key in ("ipv4-address", "ipv6-address"):
        for addr in entry.get(key) or []:
            try:
                network = ipaddress.ip_network(f"{addr['address']}/{addr['mask']}", strict=False)
            except (KeyError, ValueError):
                continue
            if network.version == family:
                found.append(Route(network, device, "", metric, interface))
    for route in entry.get("route") or []:
        try:
            network = ipaddress.ip_network(f"{route['target']}/{route['mask']}", strict=False)
        except (KeyError, ValueError):
            continue
        if network.version != family or route.get("table"):
            continue
        nexthop = str(route.get("nexthop", ""))
        if nexthop in ("0.0.0.0", "::"):
            nexthop = ""
        found.append(Route(network, device, nexthop, int(route.get("metric", metric)),
                           interface))
    return found


def candidates(dump: dict[str, Any], address: str, skip: Iterable[str] = ()) -> list[Route]:
    """Under netifd: the routes of the interfaces that are up and hold ``address``, in
    netifd's order (by interface name).

    ``skip``: interfaces that do not count (the tunnel itself).  pppossh interfaces never do:
    a server reached through another pppossh tunnel is left to netifd's own choice.
    """
    target = ipaddress.ip_address(address)
    skipped = set(skip)
    found: list[Route] = []
    entries = sorted(dump.get("interface") or [], key=lambda e: str(e.get("interface", "")))
    for entry in entries:
        if not entry.get("up") or entry.get("interface") in skipped:
            continue
        if entry.get("proto") in OWN_PROTOCOLS:
            continue
        found += [r for r in _dump_routes(entry, target.version) if target in r.network]
    return found


def from_dump(dump: dict[str, Any], address: str, skip: Iterable[str] = ()) -> Route | None:
    """Under netifd: the interface whose route reaches ``address`` best (:func:`candidates`)."""
    return best(candidates(dump, address, skip), address)


def check(rundir: str, dump: Callable[[], dict[str, Any]],
          reconnect: Callable[[str], None], trigger: str = "") -> list[str]:
    """Reconnect every netifd tunnel that is up and whose server a different interface now
    reaches better than the one its host dependency names; the tunnels reconnected.

    ``trigger``: the interface whose event ran the check (nothing to do when it is a tunnel
    of pppossh's own).
    """
    found = _netifd_tunnels(rundir)
    if any(iface == trigger for iface, _ in found):
        return []
    tunnels = [(iface, data) for iface, data in found
               if data.get("phase") == "up" and data.get("uplinks")]
    if not tunnels:
        return []
    current = dump() or {}
    moving = []
    for iface, data in tunnels:
        for host, was in data["uplinks"].items():
            now = from_dump(current, host, skip=[iface])
            if now is not None and now.interface and now.interface != was:
                log.info("%s: %s is now reached through %s (the tunnel runs over %s):"
                         " reconnecting", iface, host, now.interface, was)
                reconnect(iface)
                moving.append(iface)
                break
    return moving


def _netifd_tunnels(rundir: str) -> list[tuple[str, dict[str, Any]]]:
    """(interface, state) of every tunnel netifd runs, each state file read once."""
    root = Path(rundir)
    if not root.is_dir():
        return []
    found = []
    for entry in sorted(root.iterdir()):
        try:
            state = State(rundir, entry.name)
        except ValueError:
            continue
        data = state.load() if state.file.exists() else {}
        if data.get("mode") == "netifd":
            found.append((state.iface, data))
    return found
