"""pppd's ip-up/ip-down hooks in standalone mode: routes and the resolv file.

pppd runs ``ppp/ip-up`` and ``ppp/ip-down`` with the arguments ``ifname tty speed local
remote ipparam`` and an environment holding only its own variables (IPLOCAL, IPREMOTE, DNS1,
DNS2, LLLOCAL, ...).  Under netifd the hooks are shell alone (``templates/ppp-hook.sh.j2``),
as OpenWrt's ``ppp-up`` is, and read what they need from :func:`netifd_update_text`, written
at setup.  Standalone, this module adds the routes and writes the resolv file.  Either way the
scripts in ``/etc/ppp/<event>.d/`` run afterwards, as OpenWrt's hooks do.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import log
from . import resolver, routes
from .state import State, write_atomic

if TYPE_CHECKING:
    from ..config import Config

EVENTS = ("ip-up", "ip-down", "ipv6-up", "ipv6-down")
NETIFD_UPDATE = "netifd-update"


def ppp_dir() -> Path:
    return Path(os.environ.get("PPPOSSH_PPP_DIR", "/etc/ppp"))


def handle(event: str, args: Sequence[str], rundir: str) -> int:
    ifname = args[0] if args else os.environ.get("IFNAME", "")
    iface = args[5] if len(args) > 5 else ""
    if not iface:
        log.error("ppp hook %s for %s: no ipparam, cannot tell the interface", event, ifname)
        return 1
    state = State(rundir, iface)
    info = state.load()
    if info.get("mode") != "standalone":
        log.error("ppp hook %s for %s: %s is not a standalone session (under netifd the"
                  " hooks run without the helper)", event, ifname, iface)
        return 1
    env = os.environ
    _standalone(event, iface, ifname, info, state)
    now = time.time()
    if event == "ip-up":
        state.update(
            phase="up", up_since=now, down_at=None, local=env.get("IPLOCAL", ""),
            remote=env.get("IPREMOTE", ""), dns=_dns(env),
        )
        log.info("%s: up, %s -> %s over %s", iface, env.get("IPLOCAL"), env.get("IPREMOTE"),
                 ifname)
    elif event == "ip-down":
        state.update(phase="connecting", down_at=now)
        log.info("%s: link down after %s s", iface, env.get("CONNECT_TIME", "?"))
    elif event == "ipv6-up":
        state.update(local6=env.get("LLLOCAL", ""), remote6=env.get("LLREMOTE", ""))
    if not env.get("PPPOSSH_TUN"):  # /etc/ppp's scripts expect a PPP link (plan.sshtun)
        run_scripts(event, args)
    return 0


def _dns(env: os._Environ[str] | dict[str, str]) -> list[str]:
    out: list[str] = []
    for name in ("DNS1", "DNS2"):
        value = env.get(name, "")
        if value and value not in out:
            out.append(value)
    return out


def netifd_update_text(config: Config, client: str) -> str:
    """What the shell ip-up hook adds to netifd's link update, one fact per line (the hook
    reads it with ``read``, never as code): the client, the server, the extra routes and
    the interface whose bridge sshtun's tap device joins, sshtun's IPv6 ends."""
    lines = [f"transport {client}", f"server {config.server}"]
    if config.ip6addr:
        address, prefix = config.ip6addr.rsplit("/", 1)
        lines += [f"local6 {address} {prefix}", f"remote6 {config.peer6addr}"]
    if config.bridge:
        lines.append(f"bridge {config.bridge}")
    for text in config.route:
        net = ipaddress.ip_network(text, strict=False)
        lines.append(f"route{net.version} {net.network_address} {net.prefixlen}")
    return "".join(f"{line}\n" for line in lines)


def _standalone(event: str, iface: str, ifname: str, info: dict[str, Any], state: State) -> None:
    metric = int(info.get("metric") or 0)
    if event == "ip-up":
        wanted = list(info.get("routes", []))
        if info.get("defaultroute"):
            wanted += routes.DEFAULT_SPLIT
        added = []
        # sshtun's tap is Ethernet: its routes go via the server's address of their family
        tap = ifname.startswith("tap")
        for network in wanted:
            gateway = os.environ.get("PPPOSSH_PEER6" if ":" in network else "IPREMOTE", "") \
                if tap else ""
            if routes.add_device_route(network, ifname, metric, gateway):
                added.append(network)
            else:
                log.warning("%s: could not add route %s via %s", iface, network, ifname)
        # beside the state directories, readable by every resolver (they are 0700)
        resolv = resolv_path(state)
        servers = (_dns(os.environ) if info.get("peerdns", True) else []) + [
            d for d in info.get("dns_config", []) if d not in _dns(os.environ)]
        if servers:
            write_atomic(resolv, resolv_text(iface, servers), mode=0o644)
        system = resolver.apply(state.dir.parent, iface, ifname, servers) \
            if servers and info.get("system_dns") else ""
        state.update(routes_added=added, resolv=str(resolv) if servers else None,
                     system_dns_via=system)
    elif event == "ip-down":
        for network in info.get("routes_added", []):
            routes.delete_device_route(network, ifname, metric)
        resolver.restore(state.dir.parent, iface)
        state.update(routes_added=[], system_dns_via="")


def resolv_path(state: State) -> Path:
    return state.dir.parent / f"resolv.conf.{state.iface}"


def resolv_text(iface: str, servers: Sequence[str]) -> str:
    """The standalone resolv file; plain Python, as the client package ships no jinja2."""
    head = (f"# DNS servers announced by the peer of pppossh interface {iface}.\n"
            "# Point your resolver here (e.g. resolvconf or a symlink); pppossh rewrites it"
            " on every link-up.\n")
    return head + "".join(f"nameserver {server}\n" for server in servers)


def run_scripts(event: str, args: Sequence[str]) -> None:
    """Run ``/etc/ppp/<event>.d/*`` (executable files, in name order) like OpenWrt's hooks
    (under netifd the shell hooks run them themselves).

    USEPEERDNS is not passed on: Debian's usepeerdns script would rewrite
    /etc/resolv.conf, and pppossh writes the peer's DNS to its own resolv file instead.
    """
    directory = ppp_dir() / f"{event}.d"
    if not directory.is_dir():
        return
    for script in sorted(directory.iterdir()):
        if script.is_file() and os.access(script, os.X_OK):
            try:
                env = {k: v for k, v in os.environ.items() if k != "USEPEERDNS"}
                subprocess.run([str(script), *args], timeout=60, check=False, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired) as exc:
                log.warning("%s script %s failed: %s", event, script, exc)
