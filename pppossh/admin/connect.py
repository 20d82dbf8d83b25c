"""``pppossh connect``/``disconnect``/``save``: a tunnel from one command line, as pvpn has.

``connect`` writes a transient interface section into ``<rundir>/connect/network`` (never
``/etc/config``), validates it like any other section, pins the server's key (asking first,
like ``ssh``, or ``--yes``), and brings it up with the standalone supervisor.  ``disconnect``
takes such tunnels down and drops their sections, and ``--all`` also puts back any DNS a
crashed one left.  ``save`` copies a transient section into the real configuration.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pwd
import random
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..config import from_uci
from ..config.checks import interface_name, parse_hop
from ..config.options import BY_NAME
from ..errors import ConfigError, PppsshError
from ..plan import make_plan
from ..plan.facts import probe
from ..run import resolver, standalone
from ..run.state import State, ensure_private_dir
from ..uci import Uci, Value, open_uci
from . import trust

TRANSIENT_DIR = "connect"  # under the run dir: the UCI directory of connect's sections
NAME_PREFIX = "vpn"
POOL = ipaddress.IPv4Network("10.0.0.0/8")
# options connect sets from its own flags: -o may not set them behind the flags' back
OWN = ("proto", "server", "port", "sshuser")


@dataclass
class Request:
    """The command line of ``pppossh connect``."""

    target: str  # [user@]host[:port]
    routes: Sequence[str] = ()  # "default" or networks
    kind: str = "ppp"  # ppp: proto pppossh; tun: proto sshtun
    addresses: str = ""  # "LOCAL:REMOTE"; empty: random ones (ppp: unless the server assigns)
    dns: bool = False  # the peer's DNS into the system's resolver
    dns_servers: Sequence[str] = ()
    key: str = ""
    name: str = ""
    jump: Sequence[str] = ()
    options: Sequence[str] = field(default_factory=list)  # NAME=VALUE, any table option


def transient(rundir: str) -> Uci:
    """The UCI directory of connect's sections, created empty on first use."""
    directory = ensure_private_dir(Path(rundir, TRANSIENT_DIR))
    network = directory / "network"
    if not network.exists():
        network.write_text("")
    return open_uci(str(directory), "file")


def local_user() -> str:
    """Whom ``ssh host`` logs in as: the user running it."""
    return pwd.getpwuid(os.getuid()).pw_name


def section_options(request: Request, used: Sequence[ipaddress.IPv4Network],
                    rng: random.Random) -> dict[str, Value]:
    """The transient section's options, from the command line alone (no machine state
    but ``used``, the networks already on the machine)."""
    if request.kind not in ("ppp", "tun"):
        raise ConfigError("INVALID_TYPE", f"-t {request.kind}: give ppp or tun")
    try:
        user, host, port = parse_hop(request.target)
    except ValueError as exc:
        raise ConfigError("INVALID_SERVER", f"{request.target!r}: {exc}") from None
    options: dict[str, Value] = {
        "proto": "pppossh" if request.kind == "ppp" else "sshtun",
        "server": host, "port": str(port), "sshuser": user or local_user(),
        "defaultroute": "0", "peerdns": "1",
    }
    routes = []
    for route in request.routes:
        if route == "default":
            options["defaultroute"] = "1"
        else:
            routes.append(route)
    if routes:
        options["route"] = tuple(routes)
    if request.addresses:
        local, sep, remote = request.addresses.partition(":")
        if not sep:
            raise ConfigError("INVALID_ADDRESSES", f"-i {request.addresses}: give both ends"
                              " as LOCAL:REMOTE, e.g. -i 10.64.0.2:10.64.0.1")
        options.update(ipaddr=local, peeraddr=remote)
    else:
        local, remote = free_pair(used, rng)
        options.update(ipaddr=local, peeraddr=remote)
        if request.kind == "ppp":  # a server that assigns addresses (a pppossh peer) wins
            options["pppd_options"] = "ipcp-accept-local ipcp-accept-remote"
    if request.dns:
        options["system_dns"] = "1"
        if request.kind == "tun" and not request.dns_servers:
            raise ConfigError("DNS_NEEDS_SERVER", "-D with -t tun: nothing on a tun link"
                              " announces DNS servers; name them: --dns-server ADDRESS")
    if request.dns_servers:
        options["dns"] = tuple(request.dns_servers)
    if request.key:
        options["identity"] = (os.path.abspath(request.key),)
    if request.jump:
        options["jump"] = tuple(request.jump)
    for item in request.options:
        name, sep, value = item.partition("=")
        option = BY_NAME.get(name)
        if not sep or option is None or name in OWN:
            raise ConfigError("INVALID_OPTION", f"-o {item}: give NAME=VALUE with an option"
                              " of 'pppossh options' (server, port and user come from"
                              " [user@]host[:port])")
        if option.kind == "list":
            current = options.get(name, ())
            options[name] = (*(current if isinstance(current, tuple) else ()), value)
        else:
            options[name] = value
    return options


def free_pair(used: Sequence[ipaddress.IPv4Network],
              rng: random.Random) -> tuple[str, str]:
    """Two addresses of a random /30 in 10.0.0.0/8 that overlaps nothing on the machine."""
    for _ in range(1000):
        net = ipaddress.IPv4Network((int(POOL.network_address) + 4 * rng.randrange(1, 1 << 22),
                                     30))
        if not any(net.overlaps(other) for other in used):
            hosts = list(net.hosts())
            return str(hosts[0]), str(hosts[1])
    raise PppsshError("NO_FREE_ADDRESSES", "no free /30 in 10.0.0.0/8; give -i LOCAL:REMOTE")


def used_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network a route (any table) or an address of this machine covers, except
    the default route."""
    used = []
    for argv in (["ip", "-4", "route", "show", "table", "all"], ["ip", "-4", "-o", "addr"]):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        for line in out.stdout.splitlines():
            words = line.split()
            candidates = words[3:4] if "inet" in words[2:3] else words[:2]
            for word in candidates:
                if word in ("default", "local", "broadcast", "unreachable", "blackhole"):
                    continue
                with contextlib.suppress(ValueError):
                    used.append(ipaddress.IPv4Interface(word).network)
    return used


def pick_name(uci: Uci, rundir: str) -> str:
    """The first vpnN with no transient section and no running tunnel."""
    for n in range(100):
        name = f"{NAME_PREFIX}{n}"
        running = State(rundir, name).load().get("supervisor_pid")
        if uci.section("network", name) is None and not standalone.pid_alive(running):
            return name
    raise PppsshError("NO_FREE_NAME", "vpn0 to vpn99 are all taken; give --name")


@dataclass
class Connected:
    iface: str
    result: standalone.UpResult
    pinned: list[str]


def connect(request: Request, rundir: str, *, yes: bool,
            confirm: Callable[[str], bool] | None,
            show: Callable[[trust.HostKey, str], None] | None,
            rng: random.Random | None = None) -> Connected:
    """Write the transient section, pin what is not pinned, bring it up."""
    uci = transient(rundir)
    try:
        name = interface_name(request.name) if request.name else pick_name(uci, rundir)
    except ValueError as exc:
        raise ConfigError("INVALID_INTERFACE", f"--name: {exc}") from None
    if uci.section("network", name) is not None:
        raise PppsshError("ALREADY_CONNECTED", f"{name} is a connection already; take it down"
                          f" first: pppossh disconnect {name}")
    if standalone.pid_alive(State(rundir, name).load().get("supervisor_pid")):
        raise PppsshError("ALREADY_UP", f"interface {name} is running ('pppossh up {name}');"
                          " give the connection another --name")
    options = section_options(request, used_networks(), rng or random.SystemRandom())
    needs_pin = validate(name, options, rundir)
    uci.set_section("network", name, "interface")
    for key, value in options.items():
        uci.set("network", name, key, value)
    uci.commit("network")
    pinned: list[str] = []
    try:
        if needs_pin:
            try:
                done = trust.trust(uci, name, yes=yes, expected=None, confirm=confirm,
                                   show=show)
            except PppsshError as exc:
                if exc.code != "NOT_PINNED":
                    raise
                raise PppsshError("NOT_PINNED", "nothing was pinned and nothing started:"
                                  " compare the fingerprint above with the one the server's"
                                  " admin gives you, then answer yes on a terminal, or add"
                                  " --yes to pin it on first use") from None
            pinned.append(done.message)
        result = standalone.up(uci, name, rundir)
    except KeyboardInterrupt:  # Ctrl-C while it comes up: nothing may run on unseen
        with contextlib.suppress(Exception):
            standalone.down(name, rundir)
        _drop(uci, name)
        raise
    except BaseException:
        _drop(uci, name)
        raise
    if not result.ok:
        _drop(uci, name)
    return Connected(name, result, pinned)


def validate(name: str, options: dict[str, Value], rundir: str) -> bool:
    """Every check a section gets, and the plan's (ssh_options, the SSH client, the keys),
    before anything is written or run; whether a host key still has to be pinned."""
    config = from_uci(name, options)
    try:
        make_plan(config, probe(config, rundir=rundir), mode="standalone")
    except ConfigError as exc:
        if exc.code == "HOSTKEY_UNKNOWN":
            return True
        raise
    return False


def _drop(uci: Uci, name: str) -> None:
    if uci.section("network", name) is not None:
        uci.delete("network", name)
        uci.commit("network")


@dataclass
class Disconnected:
    iface: str
    down: standalone.DownResult | None  # None: it was not a connection
    dns: list[str] = field(default_factory=list)


def connections(rundir: str) -> list[str]:
    return [s.name for s in transient(rundir).sections("network", "interface")]


def disconnect(rundir: str, name: str = "", everything: bool = False) -> list[Disconnected]:
    """Take connections down and drop their sections; ``everything``: all of them, then
    any DNS records a crashed one left."""
    uci = transient(rundir)
    names = connections(rundir)
    if not everything:
        if not name:
            if len(names) != 1:
                raise PppsshError("WHICH_CONNECTION", "name the connection to take down"
                                  f" ({', '.join(names) or 'none is up'}), or use --all")
            name = names[0]
        elif name not in names:
            raise PppsshError("NO_CONNECTION", f"{name} is not a connection made by 'pppossh"
                              f" connect' ({', '.join(names) or 'none is up'}); for an"
                              f" interface of the configuration: pppossh down {name}")
        names = [name]
    done = []
    for iface in names:
        down = standalone.down(iface, rundir)
        _drop(uci, iface)
        done.append(Disconnected(iface, down))
    if everything:
        left = resolver.restore_all(rundir)
        if left:
            done.append(Disconnected("", None, left))
    return done


def save(uci: Uci, rundir: str, name: str, new_name: str) -> dict[str, Value]:
    """Copy connection ``name`` into ``uci``'s network config as interface ``new_name``."""
    section = transient(rundir).section("network", name)
    if section is None:
        raise PppsshError("NO_CONNECTION", f"{name} is not a connection made by 'pppossh"
                          f" connect' ({', '.join(connections(rundir)) or 'none is up'})")
    if uci.section("network", new_name) is not None:
        raise PppsshError("INTERFACE_EXISTS", f"network.{new_name} exists already in"
                          f" {uci.confdir}/network; choose another name")
    from_uci(new_name, dict(section.options))  # valid under its new name, too
    network = Path(uci.confdir, "network")  # plain Linux has no /etc/config until now
    if not network.exists():
        network.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        network.touch(mode=0o644)
    uci.set_section("network", new_name, "interface")
    for key, value in section.options.items():
        uci.set("network", new_name, key, value)
    uci.commit("network")
    return dict(section.options)
