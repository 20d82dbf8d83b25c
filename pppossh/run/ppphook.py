"""pppd's ip-up/ip-down hooks: tell netifd (or, standalone, the kernel) about the link.

pppd runs ``ppp/ip-up`` and ``ppp/ip-down`` with the arguments ``ifname tty speed local
remote ipparam`` and an environment holding only its own variables (IPLOCAL, IPREMOTE, DNS1,
DNS2, LLLOCAL, ...).  Under netifd the hook sends the interface update (action 0) the way
OpenWrt's ``ppp-up`` does; standalone it adds the routes and writes the resolv file itself.
Either way the scripts in ``/etc/ppp/<event>.d/`` run afterwards, as OpenWrt's hooks do.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import log
from . import routes, ubus
from .state import State, write_atomic

EVENTS = ("ip-up", "ip-down", "ipv6-up", "ipv6-down")


def ppp_dir() -> Path:
    return Path(os.environ.get("PPPOSSH_PPP_DIR", "/etc/ppp"))


def handle(event: str, args: Sequence[str], rundir: str, bus: ubus.Ubus | None = None) -> int:
    ifname = args[0] if args else os.environ.get("IFNAME", "")
    iface = args[5] if len(args) > 5 else ""
    if not iface:
        log.error("ppp hook %s for %s: no ipparam, cannot tell the interface", event, ifname)
        return 1
    state = State(rundir, iface)
    info = state.load()
    env = os.environ
    if info.get("mode") == "standalone":
        _standalone(event, iface, ifname, info, state)
    else:
        try:
            _netifd(event, iface, ifname, info, bus or ubus.Ubus())
        except ubus.UbusError as exc:
            # on ifdown netifd refuses updates from a link it is tearing down: the state
            # and the ip-down.d scripts still matter
            log.log(log.DEBUG if event.endswith("down") else log.WARNING,
                    "%s: %s: %s", iface, event, exc)
    now = time.time()
    if event == "ip-up":
        dns = _dns(env)
        state.update(
            phase="up", up_since=now, down_at=None, local=env.get("IPLOCAL", ""),
            remote=env.get("IPREMOTE", ""), dns=dns,
        )
        log.info("%s: up, %s -> %s over %s", iface, env.get("IPLOCAL"), env.get("IPREMOTE"),
                 ifname)
    elif event == "ip-down":
        state.update(phase="connecting", down_at=now)
        log.info("%s: link down after %s s", iface, env.get("CONNECT_TIME", "?"))
    elif event == "ipv6-up":
        state.update(local6=env.get("LLLOCAL", ""), remote6=env.get("LLREMOTE", ""))
    run_scripts(event, args, standalone=info.get("mode") == "standalone")
    return 0


def _dns(env: os._Environ[str] | dict[str, str]) -> list[str]:
    out: list[str] = []
    for name in ("DNS1", "DNS2"):
        value = env.get(name, "")
        if value and value not in out:
            out.append(value)
    return out


def _netifd(event: str, iface: str, ifname: str, info: dict[str, Any], bus: ubus.Ubus) -> None:
    env = os.environ
    data = {"transport": info.get("transport", ""), "server": info.get("server", "")}
    if event == "ip-up":
        local, remote = env.get("IPLOCAL", ""), env.get("IPREMOTE", "")
        v4, v6 = _split_routes(info.get("routes", []), remote)
        message = ubus.update(
            iface, ifname, True, external=True, keep=True, data=data,
            ipaddr=[ubus.Address(local, "32", remote)] if local else [],
            routes=([ubus.Route("0.0.0.0", "0", remote)] if remote else []) + v4,
            routes6=v6,
            dns=_dns(env),
        )
    elif event == "ipv6-up":
        local6 = env.get("LLLOCAL", "")
        message = ubus.update(
            iface, ifname, True, external=True, keep=True, data=data,
            ip6addr=[ubus.Address(local6, "128")] if local6 else [],
        )
    elif event == "ip-down":
        message = ubus.update(iface, ifname, False)
    else:
        return
    bus.notify(message)


def _split_routes(
    networks: Sequence[str], gateway: str
) -> tuple[list[ubus.Route], list[ubus.Route]]:
    v4: list[ubus.Route] = []
    v6: list[ubus.Route] = []
    for text in networks:
        net = ipaddress.ip_network(text, strict=False)
        if net.version == 4:
            v4.append(ubus.Route(str(net.network_address), str(net.prefixlen), gateway))
        else:
            v6.append(ubus.Route(str(net.network_address), str(net.prefixlen)))
    return v4, v6


def _standalone(event: str, iface: str, ifname: str, info: dict[str, Any], state: State) -> None:
    metric = int(info.get("metric") or 0)
    if event == "ip-up":
        wanted = list(info.get("routes", []))
        if info.get("defaultroute"):
            wanted += routes.DEFAULT_SPLIT
        added = []
        for network in wanted:
            if routes.add_device_route(network, ifname, metric):
                added.append(network)
            else:
                log.warning("%s: could not add route %s via %s", iface, network, ifname)
        # beside the state directories, readable by every resolver (they are 0700)
        resolv = resolv_path(state)
        servers = (_dns(os.environ) if info.get("peerdns", True) else []) + [
            d for d in info.get("dns_config", []) if d not in _dns(os.environ)]
        if servers:
            write_atomic(resolv, resolv_text(iface, servers), mode=0o644)
        state.update(routes_added=added, resolv=str(resolv) if servers else None)
    elif event == "ip-down":
        for network in info.get("routes_added", []):
            routes.delete_device_route(network, ifname, metric)
        state.update(routes_added=[])


def resolv_path(state: State) -> Path:
    return state.dir.parent / f"resolv.conf.{state.iface}"


def resolv_text(iface: str, servers: Sequence[str]) -> str:
    """The standalone resolv file; plain Python, as the client package ships no jinja2."""
    head = (f"# DNS servers announced by the peer of pppossh interface {iface}.\n"
            "# Point your resolver here (e.g. resolvconf or a symlink); pppossh rewrites it"
            " on every link-up.\n")
    return head + "".join(f"nameserver {server}\n" for server in servers)


def run_scripts(event: str, args: Sequence[str], standalone: bool = False) -> None:
    """Run ``/etc/ppp/<event>.d/*`` (executable files, in name order) like OpenWrt's hooks.

    Standalone, USEPEERDNS is not passed on: Debian's usepeerdns script would rewrite
    /etc/resolv.conf, and pppossh writes the peer's DNS to its own resolv file instead.
    """
    directory = ppp_dir() / f"{event}.d"
    if not directory.is_dir():
        return
    for script in sorted(directory.iterdir()):
        if script.is_file() and os.access(script, os.X_OK):
            try:
                env = {k: v for k, v in os.environ.items()
                       if not (standalone and k == "USEPEERDNS")}
                subprocess.run([str(script), *args], timeout=60, check=False, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired) as exc:
                log.warning("%s script %s failed: %s", event, script, exc)
