"""Reading one interface's UCI section before it is a complete, valid configuration."""

from __future__ import annotations

from ..config.options import PROTOCOLS
from ..errors import ConfigError
from ..uci import Section, Uci, Value


def interface_section(uci: Uci, iface: str) -> Section:
    section = uci.section("network", iface)
    if section is None or section.type != "interface":
        raise ConfigError(
            "NO_INTERFACE",
            f"there is no interface {iface!r} in {uci.confdir}/network; create it with:"
            f" uci set network.{iface}=interface; uci set network.{iface}.proto=pppossh",
        )
    return section


def pppossh_section(uci: Uci, iface: str) -> Section:
    """The section of ``network.<iface>``, which must be an interface of pppossh's (proto
    pppossh or sshtun):
    commands that change an interface (keygen, trust) or read its keys refuse any other
    before they do anything."""
    section = interface_section(uci, iface)
    proto = section.options.get("proto")
    if proto not in PROTOCOLS:
        raise ConfigError(
            "WRONG_PROTO",
            f"network.{iface} has proto {proto!r}, not 'pppossh' or 'sshtun'; pppossh works"
            f" only on its own interfaces (to make it one: uci set network.{iface}.proto=pppossh)",
        )
    return section


def raw_option(uci: Uci, iface: str, name: str) -> Value | None:
    """An option of a pppossh interface as UCI has it, before validation."""
    return pppossh_section(uci, iface).options.get(name)
