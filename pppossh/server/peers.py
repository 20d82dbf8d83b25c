"""The server role's configuration: ``/etc/config/pppossh`` with one ``peer`` per router.

::

    config server 'server'
        option remote_pppd '/usr/sbin/pppd'     # pppd as the login user runs it
        option pool '10.64.0.0/24'              # the server side takes the first address
        option pool6 '2001:db8:64::/64'         # tun, tap peers: IPv6 too (empty: none)
        list dns '192.0.2.53'                   # ms-dns for peers; default: our resolvers
        option authorized_keys '/etc/dropbear/authorized_keys'
        option sshd 'auto'                      # dropbear | openssh: restriction syntax

    config peer
        option name 'branch-1'
        option key 'ssh-ed25519 AAAA...'
        option ipaddr '10.64.0.1'               # the server's end of this peer's link
        option peeraddr '10.64.0.2'             # the address the peer gets
        list route '192.168.10.0/24'            # networks behind the peer
        option enabled '1'
        option mode 'ppp'                       # ppp (pppd) | tun | tap (OpenSSH's -w, sshtun)
        option unit '0'                         # tun, tap: the server's device tun<unit>, tap<unit>
        option bridge 'br0'                     # tap: the server's bridge its device joins
        option ip6addr '2001:db8:64::1'         # tun, tap with pool6: the server's IPv6 end
        option peer6addr '2001:db8:64::2'       # and the peer's (in pool6's prefix)

A peer's addresses are chosen from the pool when it is added and written to UCI, so they
never change behind the admin's back.  A tap peer in a bridge has none: it takes what the
bridge's network gives (DHCP, for one).  Tun and tap peers share one range of units, so that
a key allowed unit N (``tunnel="N"``) finds only its own device whichever mode it asks for.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
from dataclasses import dataclass, field

from ..config import checks
from ..config.tun_session import UNITS
from ..errors import ConfigError
from ..uci import Uci
from . import paths

CONFIG = "pppossh"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
MODES = ("ppp", "tun", "tap")
DEVICE_MODES = ("tun", "tap")  # the peers of the router's proto sshtun
SYSNET = "/sys/class/net"
USER_KEY_TYPES = tuple(t for t in checks.HOSTKEY_TYPES)


@dataclass(frozen=True)
class ServerConfig:
    remote_pppd: str = "/usr/sbin/pppd"
    pool: str = "10.64.0.0/24"
    dns: tuple[str, ...] = ()
    authorized_keys: str = ""
    sshd: str = "auto"
    pool6: str = ""  # tun and tap peers' IPv6 link: the server ::1, each peer one address

    @property
    def network6(self) -> ipaddress.IPv6Network | None:
        return ipaddress.IPv6Network(self.pool6) if self.pool6 else None

    @property
    def pppd_argv(self) -> tuple[str, ...]:
        """``remote_pppd`` as words: ``(pppd,)`` or ``(sudo, '-n', pppd)``."""
        return paths.remote_pppd_argv(self.remote_pppd)

    @property
    def pppd_path(self) -> str:
        return self.pppd_argv[-1]

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.pool, strict=False)

    @property
    def server_address(self) -> str:
        return str(next(self.network.hosts()))


@dataclass(frozen=True)
class Peer:
    name: str
    key: str
    ipaddr: str
    peeraddr: str
    routes: tuple[str, ...] = ()
    enabled: bool = True
    section: str = field(default="", compare=False)
    mode: str = "ppp"
    unit: int | None = None  # tun, tap: the server's device
    bridge: str = ""  # tap: the server's bridge the device joins (then no addresses)
    ip6addr: str = ""  # tun, tap with the server's pool6: the server's IPv6 end
    peer6addr: str = ""  # and the peer's

    @property
    def ipparam(self) -> str:
        return f"pppossh-{self.name}"

    @property
    def tunnel(self) -> bool:
        """A peer of the router's proto sshtun: OpenSSH carries its tun or tap device."""
        return self.mode in DEVICE_MODES

    @property
    def device(self) -> str:
        """The server's device of a tun or tap peer ('' for ppp: pppd chooses)."""
        return f"{self.mode}{self.unit}" if self.tunnel else ""


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(
            "INVALID_PEER_NAME",
            f"{name!r} cannot name a peer: use letters, digits, '.', '_', '-' (not first),"
            " at most 32 characters",
        )
    return name


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ConfigError("INVALID_PEER_MODE", f"mode {mode!r}: use ppp (the router's proto"
                          " pppossh), tun or tap (its proto sshtun, mode tun or tap)")
    return mode


def check_unit(unit: object) -> int:
    text = str(unit)
    if not re.fullmatch(r"[0-9]{1,3}", text) or int(text) not in UNITS:
        raise ConfigError("INVALID_PEER_UNIT", f"unit {unit!r}: give the server's tun or tap"
                          f" unit as a number from {UNITS[0]} to {UNITS[-1]} (tun<unit>)")
    return int(text)


def check_bridge(bridge: object) -> str:
    """A tap peer's bridge: a device name no program takes for an option."""
    try:
        if not isinstance(bridge, str):
            raise ValueError("give the bridge device's name as text, e.g. br0")
        return checks.bridge(bridge)
    except ValueError as exc:
        raise ConfigError("INVALID_PEER_BRIDGE", f"--bridge: {exc}") from None


def check_key(text: str) -> str:
    """A public login key line; the comment is dropped (it could carry anything)."""
    try:
        if not isinstance(text, str):
            raise ValueError("give the public key line as text, e.g. 'ssh-ed25519 AAAA...'")
        key = checks.hostkey(text)
    except ValueError as exc:
        raise ConfigError("INVALID_PEER_KEY", f"--key: {exc}") from None
    return key


def _default_authorized_keys() -> str:
    """Dropbear's file where dropbear is configured, else the caller's own (root's)."""
    if os.path.isdir("/etc/dropbear"):
        return paths.DROPBEAR_KEYS
    home = paths.home_of(os.geteuid()) or "/root"
    return os.path.join(os.path.normpath(home), ".ssh", "authorized_keys")


def _default_dns(server_address: str) -> tuple[str, ...]:
    """The server's own resolvers, unless they are loopback (then: us, inside the tunnel)."""
    found: list[str] = []
    try:
        with open("/etc/resolv.conf") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    try:
                        addr = ipaddress.ip_address(parts[1].split("%")[0])
                    except ValueError:
                        continue
                    if addr.version == 4 and not addr.is_loopback and str(addr) not in found:
                        found.append(str(addr))
    except OSError:
        pass
    return tuple(found[:2]) or (server_address,)


def _pool6(text: str) -> str:
    """pppossh.server.pool6: an IPv6 prefix of /48 to /120, or '' (no IPv6 on the links)."""
    if not text:
        return ""
    try:
        net = ipaddress.IPv6Network(text, strict=False)
        if not 48 <= net.prefixlen <= 120 or net.is_multicast or net.is_loopback:
            raise ValueError
    except ValueError:
        raise ConfigError("INVALID_POOL6", f"pppossh.server.pool6 {text!r} is not an IPv6"
                          " prefix of /48 to /120 such as 2001:db8:64::/64") from None
    return str(net)


def load_server(uci: Uci) -> ServerConfig:
    sections = uci.sections(CONFIG, "server")
    opts = sections[0].options if sections else {}
    pool = str(opts.get("pool", ServerConfig.pool))
    try:
        net = ipaddress.IPv4Network(pool, strict=False)
    except ValueError:
        raise ConfigError("INVALID_POOL", f"pppossh.server.pool {pool!r} is not an IPv4"
                          " network such as 10.64.0.0/24") from None
    if net.num_addresses < 4:
        raise ConfigError("INVALID_POOL", f"pppossh.server.pool {pool} is too small")
    server = ServerConfig(pool=str(net), pool6=_pool6(str(opts.get("pool6", ""))))
    remote = " ".join(paths.remote_pppd_argv(str(opts.get("remote_pppd", server.remote_pppd))))
    dns = opts.get("dns", ())
    dns_list = (dns,) if isinstance(dns, str) else tuple(dns)
    try:
        dns_list = tuple(checks.ipv4(d) for d in dns_list)
    except ValueError as exc:
        raise ConfigError("INVALID_DNS", f"pppossh.server.dns: {exc}") from None
    sshd = str(opts.get("sshd", "auto"))
    if sshd not in ("auto", "dropbear", "openssh"):
        raise ConfigError("INVALID_SSHD", f"pppossh.server.sshd {sshd!r}: use auto, dropbear"
                          " or openssh")
    target = str(opts.get("authorized_keys", "")) or _default_authorized_keys()
    try:
        checks.abspath(target)
    except ValueError as exc:
        raise ConfigError("INVALID_AUTHORIZED_KEYS", f"pppossh.server.authorized_keys: {exc}"
                          ) from None
    paths.allowed_authorized_keys(target, getattr(uci, "confdir", paths.SYSTEM_CONFDIR))
    return ServerConfig(
        remote_pppd=remote,
        pool=str(net),
        dns=dns_list or _default_dns(server.server_address),
        authorized_keys=target,
        sshd=sshd,
        pool6=server.pool6,
    )


def sshd_kind(server: ServerConfig) -> str:
    if server.sshd != "auto":
        return server.sshd
    if server.authorized_keys.startswith("/etc/dropbear/"):
        return "dropbear"
    if shutil.which("dropbear") and not shutil.which("sshd", path="/usr/sbin:/usr/bin"):
        return "dropbear"
    return "openssh"


def load_peers(uci: Uci) -> list[Peer]:
    peers = []
    for section in uci.sections(CONFIG, "peer"):
        o = section.options
        name = str(o.get("name", section.name))
        routes = o.get("route", ())
        try:
            mode = check_mode(str(o.get("mode", "ppp")))
            unit = check_unit(o.get("unit", "")) if mode in DEVICE_MODES else None
            bridge = check_bridge(str(o["bridge"])) if mode == "tap" and o.get("bridge") \
                else ""
            ends = ("", "") if bridge else (checks.ipv4(str(o.get("ipaddr", ""))),
                                            checks.ipv4(str(o.get("peeraddr", ""))))
            ends6 = (checks.ipv6(str(o["ip6addr"])), checks.ipv6(str(o.get("peer6addr", ""))))\
                if mode in DEVICE_MODES and not bridge and o.get("ip6addr") else ("", "")
            peer = Peer(
                name=check_name(name),
                key=check_key(str(o.get("key", ""))),
                ipaddr=ends[0],
                peeraddr=ends[1],
                routes=tuple(checks.cidr(r) for r in ((routes,) if isinstance(routes, str)
                                                      else routes)),
                enabled=str(o.get("enabled", "1")) in ("1", "true", "yes", "on"),
                section=section.name,
                mode=mode,
                unit=unit,
                bridge=bridge,
                ip6addr=ends6[0],
                peer6addr=ends6[1],
            )
        except ValueError as exc:
            raise ConfigError("INVALID_PEER", f"peer {name}: {exc}") from None
        except ConfigError as exc:
            raise ConfigError(exc.code, f"peer {name}: {exc.message}") from None
        peers.append(peer)
    return peers


def _allocate(server: ServerConfig, peers: list[Peer]) -> str:
    used = {p.peeraddr for p in peers} | {p.ipaddr for p in peers} | {server.server_address}
    for host in server.network.hosts():
        if str(host) not in used:
            return str(host)
    raise ConfigError("POOL_EXHAUSTED", f"no free address left in {server.pool}; enlarge"
                      " pppossh.server.pool")


def _allocate6(server: ServerConfig, peers: list[Peer]) -> tuple[str, str]:
    """(the server's, the peer's) IPv6 end from pool6, or ('', '') without one: the server
    is the prefix's first address on every link, as it is in the IPv4 pool."""
    net = server.network6
    if net is None:
        return "", ""
    first = net.network_address + 1
    used = {p.peer6addr for p in peers} | {str(first)}
    for offset in range(2, min(net.num_addresses, 1 << 16)):
        candidate = str(net.network_address + offset)
        if candidate not in used:
            return str(first), candidate
    raise ConfigError("POOL_EXHAUSTED", f"no free address left in {server.pool6}; enlarge"
                      " pppossh.server.pool6")


def _instead(server: ServerConfig, peers: list[Peer]) -> str:
    try:
        free = _allocate(server, peers)
    except ConfigError:
        return f"enlarge pppossh.server.pool ({server.pool} is full)"
    return (f"leave out --ip to get the next free address ({server.server_address}:{free}),"
            " or choose a free one")


def address_problem(server: ServerConfig, others: list[Peer], local: str,
                    remote: str) -> tuple[str, str] | None:
    """(code, why) ``local:remote`` cannot be a new peer's link beside ``others``, or None.

    The server's end may be shared (every peer's link has the server's address at its end by
    default); the peer's address is that peer's alone: not the server's, not another peer's
    (either end), not the pool's network or broadcast address.
    """
    net = server.network
    for end, value in (("server", local), ("peer", remote)):
        addr = ipaddress.IPv4Address(value)
        if (addr.is_unspecified or addr.is_loopback or addr.is_multicast or addr.is_reserved
                or addr.is_link_local):
            return "INVALID_PEER_IP", f"{value} cannot be the {end}'s end of a tunnel"
        if addr in net and addr in (net.network_address, net.broadcast_address):
            which = "network" if addr == net.network_address else "broadcast"
            return "INVALID_PEER_IP", f"{value} is the {which} address of the pool {server.pool}"
    if local == remote:
        return "INVALID_PEER_IP", f"both ends are {local}; the peer needs an address of its own"
    if remote == server.server_address:
        return ("ADDRESS_IN_USE",
                f"{remote} is the server's own address (the first of the pool {server.pool})")
    for other in others:
        if remote in (other.peeraddr, other.ipaddr):
            end = "address" if remote == other.peeraddr else "server-side address"
            return "ADDRESS_IN_USE", f"{remote} is already the {end} of peer {other.name}"
        if local == other.peeraddr:
            return "ADDRESS_IN_USE", f"{local} is already the address of peer {other.name}"
    return None


def check_addresses(server: ServerConfig, peers: list[Peer]) -> None:
    """Refuse peers in UCI (written there by hand or by LuCI) whose addresses collide or
    whose routes ``peer add`` would have refused."""
    addressed = [p for p in peers if p.peeraddr]
    for i, peer in enumerate(peers):
        others = [p for p in addressed if p is not peer]
        problem = address_problem(server, others, peer.ipaddr, peer.peeraddr) \
            if peer.peeraddr else None
        if problem:
            raise ConfigError(problem[0], f"peer {peer.name}: {problem[1]}; give it other"
                              f" addresses (pppossh peer del {peer.name}, then peer add)")
        for route in peer.routes:
            check_route(server, route)
        for other in peers[:i]:
            if peer.tunnel and other.tunnel and other.unit == peer.unit:
                raise ConfigError("UNIT_IN_USE", f"peers {other.name} and {peer.name} both have"
                                  f" unit {peer.unit} ({other.device}, {peer.device}); give one"
                                  " another unit")


def check_route(server: ServerConfig, route: str) -> str:
    try:
        if not isinstance(route, str):
            raise ValueError(f"{route!r} is not a network such as 192.168.10.0/24")
        net = ipaddress.ip_network(checks.cidr(route))
    except ValueError as exc:
        raise ConfigError("INVALID_ROUTE", f"--route: {exc}") from None
    if net.prefixlen == 0:
        raise ConfigError("INVALID_ROUTE", f"--route {net}: a peer cannot take the server's"
                          " default route; give the networks behind it, e.g. 192.168.10.0/24")
    if net.version == 4 and net.overlaps(server.network):
        raise ConfigError("INVALID_ROUTE", f"--route {net} overlaps the pool {server.pool};"
                          " give the networks behind the peer, outside the pool")
    if net.is_loopback or net.is_multicast or net.is_unspecified:
        raise ConfigError("INVALID_ROUTE", f"--route {net} is not a network behind a peer")
    return str(net)


def _free_unit(taken: dict[int | None, str]) -> int:
    """The lowest unit that no peer has (``taken``) and no tun or tap device on this server
    uses now."""
    for unit in UNITS:
        if unit not in taken and not any(os.path.exists(f"{SYSNET}/{kind}{unit}")
                                         for kind in DEVICE_MODES):
            return unit
    raise ConfigError("NO_FREE_UNIT", f"units {UNITS[0]} to {UNITS[-1]} are all taken; remove"
                      " a tun or tap peer first")


def add_peer(uci: Uci, name: str, key: str, ip: str | None = None,
             routes: tuple[str, ...] = (), enabled: bool = True, mode: str = "ppp",
             unit: int | str | None = None, bridge: str = "") -> Peer:
    check_name(name)
    key = check_key(key)
    check_mode(mode)
    if unit is not None and mode not in DEVICE_MODES:
        raise ConfigError("INVALID_PEER_UNIT", "--unit is for --mode tun or tap peers only")
    if bridge:
        if mode != "tap":
            raise ConfigError("INVALID_PEER_BRIDGE", "--bridge is for --mode tap peers only:"
                              " only an Ethernet link joins a bridge")
        check_bridge(bridge)
        if ip or routes:
            raise ConfigError("INVALID_PEER_BRIDGE", f"--bridge {bridge}: the peer takes its"
                              f" address from {bridge}'s network (DHCP, for one); leave out"
                              " --ip and --route")
    server = load_server(uci)
    peers = load_peers(uci)
    for other in peers:
        if other.name == name:
            raise ConfigError("PEER_EXISTS", f"peer {name} exists; remove it first:"
                              f" pppossh peer del {name}")
        if other.key == key:
            raise ConfigError("DUPLICATE_KEY", f"this key already belongs to peer {other.name}"
                              "; every router needs its own key")
    if bridge:
        local = remote = ""
    elif ip:
        if not isinstance(ip, str):
            raise ConfigError("INVALID_PEER_IP", "--ip: give SERVER:PEER as text")
        local, sep, remote = ip.partition(":")
        try:
            if not sep:
                raise ValueError("give both ends as SERVER:PEER, e.g. 10.64.0.1:10.64.0.9")
            local, remote = checks.ipv4(local), checks.ipv4(remote)
        except ValueError as exc:
            raise ConfigError("INVALID_PEER_IP", f"--ip {ip!r}: {exc}") from None
        problem = address_problem(server, peers, local, remote)
        if problem:
            raise ConfigError(problem[0], f"--ip {local}:{remote}: {problem[1]};"
                              f" {_instead(server, peers)}")
    else:
        local, remote = server.server_address, _allocate(server, peers)
    if not isinstance(routes, (list, tuple)):
        raise ConfigError("INVALID_ROUTE", "--route: give a list of networks")
    routes = tuple(check_route(server, r) for r in routes)
    ends6 = _allocate6(server, peers) if mode in DEVICE_MODES and not bridge else ("", "")
    if mode in DEVICE_MODES:
        taken = {p.unit: p.name for p in peers if p.tunnel}
        unit = _free_unit(taken) if unit is None else check_unit(unit)
        if unit in taken:
            raise ConfigError("UNIT_IN_USE", f"--unit {unit}: unit {unit} is already peer"
                              f" {taken[unit]}'s; leave out --unit to get a free one")
    if not uci.sections(CONFIG, "server"):
        uci.set_section(CONFIG, "server", "server")
    section = uci.add_section(CONFIG, "peer")
    uci.set(CONFIG, section, "name", name)
    uci.set(CONFIG, section, "key", key)
    if not bridge:
        uci.set(CONFIG, section, "ipaddr", local)
        uci.set(CONFIG, section, "peeraddr", remote)
    if routes:
        uci.set(CONFIG, section, "route", routes)
    uci.set(CONFIG, section, "enabled", "1" if enabled else "0")
    if mode in DEVICE_MODES:
        uci.set(CONFIG, section, "mode", mode)
        uci.set(CONFIG, section, "unit", str(unit))
    if bridge:
        uci.set(CONFIG, section, "bridge", bridge)
    if ends6[0]:
        uci.set(CONFIG, section, "ip6addr", ends6[0])
        uci.set(CONFIG, section, "peer6addr", ends6[1])
    uci.commit(CONFIG)
    return Peer(name, key, local, remote, routes, enabled, section, mode,
                unit if mode in DEVICE_MODES else None, bridge, *ends6)


def del_peer(uci: Uci, name: str) -> Peer:
    for peer in load_peers(uci):
        if peer.name == name:
            uci.delete(CONFIG, peer.section)
            uci.commit(CONFIG)
            return peer
    raise ConfigError("NO_PEER", f"there is no peer {name!r} (pppossh peer list shows them)")
