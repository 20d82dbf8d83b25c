"""The option table: the single source of truth for every UCI option of ``proto pppossh``.

The netifd hook's ``dump`` (``proto_pppossh_init_config``), the validation in
:mod:`pppossh.config.model`, the LuCI form and the option reference in the docs are all made
from this table (``make generate``), and tests fail when one of them drifts from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from . import checks, tun_session
from .checks import Check

Kind = Literal["string", "int", "bool", "list"]

# The netifd protocols of this package: PPP over SSH, and OpenSSH's own tun device (ssh -w).
PROTOCOLS = ("pppossh", "sshtun")
PPP_ONLY = ("pppossh",)
TUN_ONLY = ("sshtun",)
_TUN_UNIT = checks.uint(tun_session.UNITS[0], tun_session.UNITS[-1])

# blobmsg types netifd's handler protocol uses in the dump (see golden/netifd/11-manual-dump).
BLOBMSG_TYPE: dict[Kind, int] = {"list": 1, "string": 3, "int": 5, "bool": 7}


@dataclass(frozen=True)
class Option:
    """One UCI option.

    ``origin`` says who defined its name and meaning: ``pppossh`` (OpenWrt's own pppossh),
    ``ppp`` (OpenWrt's generic ppp options), ``netifd`` (interface options netifd itself
    applies) or ``new`` (added by this package).  ``tab`` places it in the LuCI form;
    ``standalone`` options are not in it (on OpenWrt netifd does their job).
    """

    name: str
    title: str  # the label in LuCI
    kind: Kind
    default: Any
    check: Check
    help: str
    origin: Literal["pppossh", "ppp", "netifd", "new"]
    tab: Literal["general", "advanced", "standalone"] = "advanced"
    required: bool = False
    secret: bool = False
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label): LuCI offers these alone
    protos: tuple[str, ...] = PROTOCOLS  # the protocols that declare it

    @property
    def blobmsg_type(self) -> int:
        return BLOBMSG_TYPE[self.kind]

    @property
    def declaration(self) -> str:
        """The name netifd is given: list options carry their item type, as upstream does."""
        return f"{self.name}:list(string)" if self.kind == "list" else self.name

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "type": self.kind,
            "blobmsg": self.blobmsg_type,
            "default": self.default,
            "required": self.required,
            "check": self.check.name,
            "datatype": self.check.datatype,
            "help": self.help,
            "origin": self.origin,
            "tab": self.tab,
            "secret": self.secret,
            "placeholder": self.placeholder,
            "protos": list(self.protos),
        }


OPTIONS: tuple[Option, ...] = (
    # --- where to connect -------------------------------------------------------------------
    Option("server", "SSH server", "string", None, checks.HOST,
           "SSH server to connect to: host name, IPv4 or IPv6 address.",
           "pppossh", "general", required=True, placeholder="vpn.example.net"),
    Option("port", "SSH port", "int", 22, checks.PORT,
           "TCP port of the SSH server.", "pppossh", "general"),
    Option("sshuser", "SSH user", "string", None, checks.USER,
           "User name to log in as on the SSH server.",
           "pppossh", "general", required=True, placeholder="vpn"),
    Option("identity", "Private keys", "list", [], checks.PATH,
           "Private key files to log in with; files that do not exist are skipped. Empty: the"
           " interface's own key (pppossh keygen), then ~/.ssh/id_ed25519, id_dropbear, id_rsa.",
           "pppossh", "general"),
    Option("hostkey", "Pinned server keys", "list", [], checks.HOSTKEY,
           "Pinned public host keys of the server ('ssh-ed25519 AAAA...'); the connection is"
           " refused when the server shows another key. Fill it with 'pppossh trust'.",
           "new", "general"),
    Option("jump", "Jump hosts", "list", [], checks.JUMP,
           "SSH servers to pass through on the way to the server, first hop first, each"
           " [user@]host[:port] (OpenSSH's -J, dbclient's multi-hop). The route to the"
           " server is pinned to the first hop, and every hop's key must be pinned"
           " (jump_hostkey, 'pppossh trust' fills it).",
           "new", placeholder="admin@bastion.example.net"),
    Option("jump_hostkey", "Pinned jump host keys", "list", [], checks.JUMP_HOSTKEY,
           "Pinned public keys of the jump hosts, one known_hosts line each: 'HOST TYPE"
           " BASE64', '[HOST]:PORT TYPE BASE64' for another port than 22, e.g."
           " 'bastion.example.net ssh-ed25519 AAAA...'. Fill it with 'pppossh trust'.",
           "new"),
    Option("ipaddr", "Local tunnel address", "string", "", checks.IPV4,
           "Local address of the tunnel; empty: accept the one the server assigns (sshtun:"
           " required, nothing negotiates one, unless the tap device joins a bridge).",
           "pppossh", "general"),
    Option("peeraddr", "Remote tunnel address", "string", "", checks.IPV4,
           "Server's address inside the tunnel; empty: accept the one the server announces"
           " (sshtun: required unless the tap device joins a bridge).",
           "pppossh", "general"),
    # --- how to connect ---------------------------------------------------------------------
    Option("ssh_client", "SSH client", "string", "auto", checks.SSH_CLIENT,
           "SSH client to run: dbclient (Dropbear), openssh, or auto (dbclient when installed).",
           "new", choices=(("auto", "automatic"), ("dbclient", "Dropbear (dbclient)"),
                           ("openssh", "OpenSSH")),
           protos=PPP_ONLY),
    Option("ssh_options", "SSH options", "string", "", checks.SSH_OPTIONS,
           "Extra SSH client arguments, split like a shell command line, e.g."
           " '-c aes128-ctr'. Options that would run commands or skip host key checks are refused.",
           "pppossh"),
    Option("ssh_keepalive", "SSH keepalive", "int", 15, checks.uint(0, 3600),
           "Seconds between SSH-level keepalives, so a dead TCP path is noticed even when LCP"
           " echoes stall; 0 turns them off. sshtun, which has no LCP echo, sends one every"
           " third of this while the server is silent: a dead path ends its session after"
           " about this many seconds.", "new"),
    Option("connect_timeout", "Connect timeout", "int", 30, checks.uint(5, 600),
           "Seconds to wait for the SSH login and PPP negotiation before giving up on an attempt.",
           "new"),
    Option("remote_pppd", "Remote pppd command", "string", "pppd", checks.REMOTE_COMMAND,
           "Command that starts pppd on the server, e.g. 'sudo -n /usr/sbin/pppd'.", "new",
           protos=PPP_ONLY),
    Option("remote_pty", "Remote pppd on a terminal", "bool", True, checks.BOOL,
           "Ask the server for a terminal, so that its kernel frames PPP and its pppd copies"
           " nothing: more throughput and less delay under load than 'notty'. A server that"
           " refuses terminals gets 'notty'. 0: always 'notty', for a server whose login shell"
           " is not POSIX sh.",
           "new",
           protos=PPP_ONLY),
    Option("peer_pppd_options", "Remote pppd options", "string", "", checks.PEER_PPPD_OPTIONS,
           "Extra options for the server's pppd, appended to 'nodetach notty noauth' ('local'"
           " on a terminal) and an LCP echo every 4 s that ends the server's session once"
           " the router is gone (about 20 s): link tuning, addresses, ms-dns, auth. Options that"
           " run programs or name files are refused; a pppossh server ignores these and sets"
           " its own.",
           "pppossh",
           protos=PPP_ONLY),
    Option("use_hostdep", "Pin route to server", "int", 1, checks.uint(0, 1),
           "Pin a host route to the SSH server through the best uplink, so that the"
           " tunnel never carries its own SSH connection, and reconnect through a better"
           " uplink once one comes up (1, the default), or not (0).",
           "pppossh"),
    # --- the tun or tap device (sshtun) --------------------------------------------------------
    Option("mode", "Link", "string", "tun", checks.TUN_MODE,
           "tun: a point-to-point IP link (layer 3). tap: an Ethernet link (layer 2), addressed"
           " like tun or joined to a bridge (bridge), so that DHCP and every other protocol"
           " cross it.",
           "new", "general", choices=(("tun", "IP (tun)"), ("tap", "Ethernet (tap)")),
           protos=TUN_ONLY),
    Option("remote_unit", "Server's device unit", "int", 0, _TUN_UNIT,
           "Number of the server's device (tunN, tapN with mode tap) to use. A pppossh"
           " server's peer key allows one unit only: the one 'pppossh peer add --mode tun'"
           " (or tap) printed.",
           "new", "general", protos=TUN_ONLY),
    Option("unit", "Local device unit", "int", None, _TUN_UNIT,
           "Number of the local device (tunN or tapN); empty: the first one not in use.",
           "new", protos=TUN_ONLY),
    Option("ip6addr", "Local IPv6 address", "string", "", checks.IPV6_PREFIX,
           "The router's IPv6 address on the link, with the link's prefix, e.g."
           " 2001:db8:64::2/64 (with peer6addr); empty: IPv4 alone.",
           "new", "general", placeholder="2001:db8:64::2/64", protos=TUN_ONLY),
    Option("peer6addr", "Remote IPv6 address", "string", "", checks.IPV6_ADDR,
           "The server's IPv6 address on the link, inside ip6addr's prefix: IPv6 routes go"
           " via it, and the server's session script sets it when it runs as root.",
           "new", "general", placeholder="2001:db8:64::1", protos=TUN_ONLY),
    Option("bridge", "Bridge to join", "string", "", checks.BRIDGE,
           "mode tap: the interface whose bridge the tap device joins (e.g. lan), as gretap's"
           " 'network'; standalone, the bridge device (e.g. br0). The bridge's interface then"
           " holds the addresses and routes: leave ipaddr, peeraddr, ip6addr, peer6addr and"
           " route empty.",
           "new", "general", placeholder="lan", protos=TUN_ONLY),
    # --- the PPP link -----------------------------------------------------------------------
    Option("keepalive", "LCP echo", "string", "", checks.KEEPALIVE,
           "LCP echo as 'failure interval', e.g. '5 3': drop the link after 5 unanswered"
           " echoes sent every 3 seconds, echoes only while the peer is silent (adaptive)."
           " Empty: '5 1', as OpenWrt's ppp; '0' turns LCP echo off.", "ppp",
           placeholder="5 1",
           protos=PPP_ONLY),
    Option("mtu", "MTU", "int", None, checks.uint(128, 9200),
           "MTU and MRU of the PPP link; empty: pppd's default (1500).", "ppp"),
    Option("ipv6", "IPv6 on the link", "string", "0", checks.IPV6,
           "1: negotiate IPv6 (link-local addresses) on the link as well. auto: the same, and"
           " under netifd a DHCPv6 client on the link (interface NAME_6), as OpenWrt's ppp"
           " does."
           " 0: IPv4 only.", "ppp",
           choices=(("0", "disabled"), ("1", "enabled"), ("auto", "automatic (DHCPv6)")),
           protos=PPP_ONLY),
    Option("pppd_options", "Extra pppd options", "string", "", checks.PPPD_OPTIONS,
           "Extra options for the local pppd, split like a shell command line: link tuning"
           " that pppd 2.4.9 and 2.5 share, e.g. 'debug novj'. Options that run programs or"
           " name files are refused.", "ppp",
           protos=PPP_ONLY),
    Option("persist", "pppd redials itself", "bool", False, checks.BOOL,
           "Let pppd redial by itself after the link drops (waiting 'holdoff' seconds) instead of"
           " ending and letting pppossh reconnect with growing back-off.", "ppp",
           protos=PPP_ONLY),
    Option("maxfail", "pppd maxfail", "int", None, checks.uint(0, 1000),
           "With persist: give up after this many failed attempts in a row (0 = never). Empty: 1"
           " without persist, 0 with persist.", "ppp",
           protos=PPP_ONLY),
    Option("holdoff", "pppd holdoff", "int", None, checks.uint(0, 3600),
           "With persist: seconds pppd waits before redialling.", "ppp",
           protos=PPP_ONLY),
    Option("username", "PAP/CHAP username", "string", "", checks.TEXT,
           "PAP/CHAP user name, only if the server's pppd asks for authentication.", "ppp",
           protos=PPP_ONLY),
    Option("password", "PAP/CHAP password", "string", "", checks.TEXT,
           "PAP/CHAP password, only if the server's pppd asks for authentication. Handed to"
           " pppd in a root-only file, never on a command line.", "ppp",
           secret=True,
           protos=PPP_ONLY),
    # --- routing and DNS (netifd's own interface options; applied by pppossh in standalone) --
    Option("defaultroute", "Use default gateway", "bool", True, checks.BOOL,
           "Send all traffic through the tunnel (default route via the peer).", "netifd"),
    Option("peerdns", "Use DNS servers advertised by peer", "bool", True, checks.BOOL,
           "Use the DNS servers the server announces.", "netifd",
           protos=PPP_ONLY),
    Option("dns", "Use custom DNS servers", "list", [], checks.IPADDR,
           "DNS servers to use while the tunnel is up, in addition to the peer's.", "netifd"),
    Option("system_dns", "Set the system's DNS", "bool", False, checks.BOOL,
           "Standalone (plain Linux) only: while the tunnel is up, the DNS servers it"
           " gets go into the system's resolver (resolvconf, systemd-resolved, or"
           " /etc/resolv.conf, restored exactly afterwards). netifd does this itself on"
           " OpenWrt.", "new", "standalone"),
    Option("metric", "Gateway metric", "int", 0, checks.uint(0, 2147483647),
           "Metric of the routes through the tunnel.", "netifd"),
    Option("route", "Routes through the tunnel", "list", [], checks.CIDR,
           "Networks to send through the tunnel (address/prefix), in addition to or instead of"
           " the default route.", "new", "general"),
)

BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}


def for_proto(proto: str) -> tuple[Option, ...]:
    """The options protocol ``proto`` declares, in table order."""
    return tuple(o for o in OPTIONS if proto in o.protos)


def table_json() -> list[dict[str, Any]]:
    """The table as ``pppossh options --json`` prints it."""
    return [o.to_json() for o in OPTIONS]
