"""Reading one interface's UCI section before it is a complete, valid configuration."""

from __future__ import annotations

from ..errors import ConfigError
from ..uci import Section, Uci, Value


def interface_section(uci: Uci, iface: str) -> Section:
    section = uci.section("network", iface)
    if section is None:
        raise ConfigError(
            "NO_INTERFACE",
            f"there is no interface {iface!r} in {uci.confdir}/network; create it with:"
            f" uci set network.{iface}=interface; uci set network.{iface}.proto=pppossh",
        )
    return section


def raw_option(uci: Uci, iface: str, name: str) -> Value | None:
    return interface_section(uci, iface).options.get(name)
