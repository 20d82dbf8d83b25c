"""The typed, validated configuration of one ``proto pppossh`` interface.

Two doors lead in: the config JSON netifd hands the hook at setup (already typed by netifd,
see ``golden/netifd/README.md``), and a UCI section read by the standalone commands (strings,
converted here exactly as netifd would convert them).  Both end in the same checks.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import ConfigError
from .checks import interface_name, parse_hop
from .convert import convert_uci_value
from .options import BY_NAME, PROTOCOLS, Option, for_proto


@dataclass(frozen=True)
class Config:
    """One interface's options after validation; field names are the UCI option names."""

    iface: str
    server: str
    sshuser: str
    proto: str = "pppossh"  # or "sshtun" (options.PROTOCOLS)
    port: int = 22
    identity: tuple[str, ...] = ()
    hostkey: tuple[str, ...] = ()
    ipaddr: str = ""
    peeraddr: str = ""
    ssh_client: str = "auto"
    ssh_options: str = ""
    ssh_keepalive: int = 15
    connect_timeout: int = 30
    remote_pppd: str = "pppd"
    remote_pty: bool = True
    peer_pppd_options: str = ""
    use_hostdep: int = 1
    keepalive: str = ""
    mtu: int | None = None
    ipv6: str = "0"  # "0", "1" or "auto" (checks.ipv6_mode)
    pppd_options: str = ""
    persist: bool = False
    maxfail: int | None = None
    holdoff: int | None = None
    username: str = ""
    password: str = field(default="", repr=False)
    defaultroute: bool = True
    peerdns: bool = True
    dns: tuple[str, ...] = ()
    metric: int = 0
    route: tuple[str, ...] = ()
    mode: str = "tun"  # sshtun: tun or tap
    ip6addr: str = ""  # sshtun: the router's IPv6 address with the link's prefix
    peer6addr: str = ""  # sshtun: the server's, inside that prefix
    remote_unit: int = 0
    unit: int | None = None
    bridge: str = ""
    jump: tuple[str, ...] = ()  # checks.jump's normal form: user@host:port
    jump_hostkey: tuple[str, ...] = ()  # "HOST[:PORT] TYPE BASE64"
    system_dns: bool = False

    @property
    def hops(self) -> tuple[tuple[str, str, int], ...]:
        """The jump hosts as (user or "", host, port), first hop first."""
        return tuple(parse_hop(hop) for hop in self.jump)

    @property
    def first_hop(self) -> tuple[str, int]:
        """Where the TCP connection goes: the first jump host, else the server.  The host
        dependency and the pinned route follow it."""
        if self.jump:
            return self.hops[0][1:]
        return self.server, self.port

    @property
    def device(self) -> str:
        """The PPP device name, the same as OpenWrt's pppossh uses; sshtun's tun or tap
        device (``unit`` left empty: the plan picks the first free one)."""
        if self.proto == "sshtun":
            return f"{self.mode}{self.unit}" if self.unit is not None else ""
        return f"pppossh-{self.iface}"

    @property
    def remote_device(self) -> str:
        """sshtun: the server's device the link asks for (tunN or tapN)."""
        return f"{self.mode}{self.remote_unit}"

    @property
    def ipv6_on(self) -> bool:
        """IPv6CP on the link: ipv6 1 or auto."""
        return self.ipv6 != "0"

    def option_values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("iface", "proto")}


def _where(iface: str, option: Option) -> str:
    return f"network.{iface}.{option.name}"


def _code(prefix: str, option: Option) -> str:
    return f"{prefix}_{option.name.upper()}"


def validate(iface: str, raw: dict[str, Any], proto: str = "pppossh") -> Config:
    """Check typed values against the table and build a :class:`Config`.

    ``raw`` maps option names to values of the option's kind (str, int, bool, list of str);
    options that are absent or empty take their default, and options protocol ``proto`` does
    not declare are left out, as netifd leaves them out.  The first problem raises
    :class:`ConfigError` naming the option and what to write instead.
    """
    try:
        interface_name(iface)
    except ValueError as exc:
        raise ConfigError("INVALID_INTERFACE", str(exc)) from None
    if proto not in PROTOCOLS:
        raise ConfigError(
            "WRONG_PROTO",
            f"network.{iface} has proto {proto!r}; pppossh runs {' and '.join(PROTOCOLS)}",
        )
    values: dict[str, Any] = {}
    for option in for_proto(proto):
        value = raw.get(option.name)
        if value is None or value == "" or value == []:
            if option.required:
                raise ConfigError(
                    _code("MISSING", option),
                    f"{_where(iface, option)} is not set ({option.help})"
                    f" Set it with: uci set {_where(iface, option)}=<value>",
                )
            continue
        values[option.name] = _check(iface, option, value)
    if proto == "sshtun":
        _check_link(iface, values)
    return Config(iface=iface, proto=proto, **values)


def _check_link(iface: str, values: dict[str, Any]) -> None:
    """sshtun: a routed link needs both addresses (nothing negotiates them); a tap device
    in a bridge has neither addresses nor routes of its own (the bridge's interface holds
    them)."""
    where = f"network.{iface}"
    if values.get("bridge"):
        if values.get("mode", "tun") != "tap":
            raise ConfigError("BRIDGE_NEEDS_TAP", f"{where}.bridge is set, but only an"
                              " Ethernet link can join a bridge: uci set"
                              f" {where}.mode=tap (or delete {where}.bridge)")
        for name in (*TUN_REQUIRED, *IPV6_PAIR):
            if values.get(name):
                raise ConfigError("ADDRESS_WITH_BRIDGE", f"{where}.{name} is set, but the tap"
                                  f" device joins {values['bridge']}, whose interface holds"
                                  f" the addresses: uci delete {where}.{name}")
        if values.get("route"):
            raise ConfigError("ROUTE_WITH_BRIDGE", f"{where}.route is set, but the tap device"
                              f" joins {values['bridge']}: routes through it belong to that"
                              f" interface (uci delete {where}.route; add them to"
                              f" network.{values['bridge']} or as 'config route')")
        return
    _check_ipv6(where, values)
    for name in TUN_REQUIRED:
        if not values.get(name):
            raise ConfigError(
                f"MISSING_{name.upper()}",
                f"{where}.{name} is not set: a tun or tap link has no negotiation that would"
                f" give it one. Set it with: uci set {where}.{name}=<IPv4 address>"
                f" (or, mode tap, join a bridge: uci set {where}.bridge=lan)",
            )


TUN_REQUIRED = ("ipaddr", "peeraddr")
IPV6_PAIR = ("ip6addr", "peer6addr")


def _check_ipv6(where: str, values: dict[str, Any]) -> None:
    """Both IPv6 ends or neither; the server's inside the router's prefix, not the same."""
    given = [name for name in IPV6_PAIR if values.get(name)]
    if len(given) == 1:
        other = next(name for name in IPV6_PAIR if name not in given)
        raise ConfigError(f"MISSING_{other.upper()}", f"{where}.{given[0]} is set but"
                          f" {where}.{other} is not: IPv6 on the link needs both ends"
                          f" (uci set {where}.{other}=..., or uci delete {where}.{given[0]})")
    if given:
        own = ipaddress.IPv6Interface(values["ip6addr"])
        peer = ipaddress.IPv6Address(values["peer6addr"])
        if peer not in own.network or peer == own.ip:
            raise ConfigError("INVALID_PEER6ADDR", f"{where}.peer6addr {peer} must be another"
                              f" address of the link's prefix {own.network}: uci set"
                              f" {where}.peer6addr=<the server's address in {own.network}>")


def _check(iface: str, option: Option, value: Any) -> Any:
    expected = {"string": str, "int": int, "bool": bool, "list": list}[option.kind]
    if isinstance(value, tuple):
        value = list(value)
    if option.kind == "list" and isinstance(value, str):
        value = [value]  # a handler that declared the option as a string (golden capture did)
    if option.name == "ipv6" and isinstance(value, bool):
        value = str(int(value))  # a handler that declared it boolean (golden captures did)
    if not isinstance(value, expected) or (option.kind == "int" and isinstance(value, bool)):
        raise ConfigError(
            _code("INVALID", option),
            f"{_where(iface, option)} must be {_kind_words(option)}, not {value!r}",
        )
    try:
        if option.kind == "list":
            if not all(isinstance(v, str) for v in value):
                raise ValueError(f"every entry must be text, not {value!r}")
            return tuple(option.check(v) for v in value)
        return option.check(value)
    except ValueError as exc:
        raise ConfigError(_code("INVALID", option), f"{_where(iface, option)}: {exc}") from None


def _kind_words(option: Option) -> str:
    return {
        "string": "a single text value",
        "int": "a whole number",
        "bool": "1 or 0",
        "list": "a list of text values",
    }[option.kind]


def _dedup_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """netifd repeats some keys (defaultroute, mtu, ...) with equal values; the last one wins."""
    return dict(pairs)


def from_netifd_json(iface: str, text: str) -> Config:
    """Parse the config JSON of a setup/teardown call (``golden/netifd/*/call-*-setup-*.txt``)."""
    try:
        data = json.loads(text, object_pairs_hook=_dedup_pairs)
    except json.JSONDecodeError as exc:
        raise ConfigError("INVALID_CONFIG", f"netifd passed unreadable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("INVALID_CONFIG", "netifd passed config JSON that is not an object")
    proto = data.get("proto", "pppossh")
    return validate(iface, {k: v for k, v in data.items() if k in BY_NAME},
                    proto if isinstance(proto, str) else "")


def from_uci(iface: str, section: dict[str, str | tuple[str, ...]]) -> Config:
    """Convert a UCI section's strings the way netifd would, then validate.

    Where netifd would silently drop a value (``port 'abc'``, ``defaultroute 'yes'``) this
    raises instead: the standalone commands can see the raw text and say what to fix.
    """
    proto = section.get("proto", "pppossh")
    proto = proto if isinstance(proto, str) else ""
    raw: dict[str, Any] = {}
    for name, value in section.items():
        option = BY_NAME.get(name)
        if option is None or proto not in option.protos:
            continue
        try:
            raw[name] = convert_uci_value(option, value)
        except ValueError as exc:
            raise ConfigError(
                _code("INVALID", option), f"{_where(iface, option)}: {exc}"
            ) from None
    return validate(iface, raw, proto)
