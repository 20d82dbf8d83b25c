"""pppossh: VPN over SSH as an OpenWrt netifd protocol, a server role, and a standalone tool."""

__version__ = "0.1.0"
