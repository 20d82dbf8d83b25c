"""Value checks for the option table.

Every check turns a typed value into its normal form or raises ``ValueError`` with a sentence
that says what a valid value looks like.  Checks run before any process starts, so that nothing
from UCI, LuCI or the command line can reach a shell in a form we did not expect.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import shlex
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Characters no SSH option, pppd option or file name we accept ever needs.  They are the ones a
# shell gives meaning to; refusing them keeps a mistake (or an attack) from looking valid.
SHELL_META = set(";&|$`<>\\'\"")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_USER = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}$")
_IFACE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_SCOPE = re.compile(r"[A-Za-z0-9_.-]{1,15}")
_BRIDGE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")

# Host key types OpenSSH and Dropbear know, mapped to the key blob's own type name.
HOSTKEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


@dataclass(frozen=True)
class Check:
    """A named check: ``fn`` validates, ``datatype`` is the matching LuCI datatype."""

    name: str
    datatype: str
    fn: Callable[[Any], Any]

    def __call__(self, value: Any) -> Any:
        return self.fn(value)


def _printable(value: str, what: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"{what} contains a control character (newline, tab, ...); remove it")
    return value


def host(value: str) -> str:
    """A host name, an IPv4 address or an IPv6 address (without brackets)."""
    value = _printable(value, "the server name").strip()
    if not value:
        raise ValueError("give the SSH server's host name or IP address")
    address, _, scope = value.partition("%")
    if scope and not _SCOPE.fullmatch(scope):
        raise ValueError(f"{scope!r} is not an interface name for the IPv6 scope of {address}")
    try:
        parsed = ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return str(parsed)
    if value.startswith("[") and value.endswith("]"):
        raise ValueError(f"write the IPv6 address without brackets: {value[1:-1]}")
    name = value[:-1] if value.endswith(".") else value
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise ValueError(
            f"{value!r} is not a host name or IP address; use letters, digits, '-' and '.' only"
            " (no spaces, no leading '-', no 'user@' and no ':port' - use options sshuser and"
            " port for those)"
        )
    return value


def port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a TCP port; use a number from 1 to 65535")
    return value


def username(value: str) -> str:
    """A POSIX portable user name (what useradd accepts), never starting with '-'."""
    if not _USER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid user name; use letters, digits, '.', '_' and '-'"
            " (not first), at most 32 characters"
        )
    return value


def abspath(value: str) -> str:
    _printable(value, "the path")
    if not value.startswith("/"):
        raise ValueError(f"{value!r} is not an absolute path; give the full path starting with /")
    if "/../" in value + "/" or value.endswith("/"):
        raise ValueError(f"{value!r} must name a file: no '..' parts and no trailing '/'")
    return value


def ipv4(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address such as 10.64.0.1") from None


def ipaddr(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None


def ipv6(value: str) -> str:
    """A unicast IPv6 address, no prefix."""
    try:
        addr = ipaddress.IPv6Address(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv6 address such as 2001:db8:64::1") from None
    if addr.is_unspecified or addr.is_multicast or addr.is_loopback:
        raise ValueError(f"{value!r} cannot be an address on a link")
    return str(addr)


def ipv6_prefix(value: str) -> str:
    """A unicast IPv6 address with its prefix length, as a link's address is written."""
    text = value.strip()
    try:
        if "/" not in text:
            raise ValueError
        iface = ipaddress.IPv6Interface(text)
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv6 address with its prefix such as"
                         " 2001:db8:64::2/64") from None
    ipv6(str(iface.ip))
    if iface.network.prefixlen == 0:
        raise ValueError(f"{value!r}: a link's prefix is longer than /0, e.g. /64")
    return str(iface)


def cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a network; write it as address/prefix, e.g. 198.51.100.0/24"
        ) from None


def hostkey(value: str) -> str:
    """A public host key as ``type base64 [comment]``; the blob must carry the same type."""
    _printable(value, "the host key")
    # fields are separated by ASCII spaces only: str.split() would also take Unicode line
    # and paragraph separators, and accept a key that no SSH program reads the same way
    parts = [part for part in value.split(" ") if part]
    if len(parts) >= 3 and parts[0] not in HOSTKEY_TYPES and parts[1] in HOSTKEY_TYPES:
        raise ValueError(
            "give the key without the host name in front: "
            f"'{parts[1]} {parts[2][:12]}...' (known_hosts lines start with the host)"
        )
    if len(parts) < 2 or parts[0] not in HOSTKEY_TYPES:
        raise ValueError(
            f"{value[:40]!r} is not a public host key; expected e.g. 'ssh-ed25519 AAAAC3Nza...'"
            " as printed by 'pppossh trust' or ssh-keyscan"
        )
    kind, b64 = parts[0], parts[1]
    try:
        blob = base64.b64decode(b64, validate=True)
        (n,) = struct.unpack(">I", blob[:4])
        inner = blob[4 : 4 + n].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError, ValueError):
        raise ValueError(f"the {kind} key is not valid base64 key data; copy it again") from None
    if inner != kind:
        raise ValueError(f"the key data is a {inner!r} key, but the line says {kind!r}")
    return f"{kind} {b64}"


def keepalive(value: str) -> str:
    """pppd LCP echo as ``failure [interval]`` (space or comma separated), as OpenWrt's ppp."""
    words = re.split(r"[ ,]+", value.strip())
    if (
        not 1 <= len(words) <= 2
        or not all(re.fullmatch(r"[0-9]{1,6}", w) for w in words)
        or (len(words) == 2 and int(words[1]) == 0 and int(words[0]) != 0)
    ):
        raise ValueError(
            f"{value!r} is not 'failure interval'; e.g. '5 3' = give up after 5 unanswered LCP"
            " echoes sent every 3 seconds ('0' or '0 0' turns LCP echoes off)"
        )
    return " ".join(words)


def shell_words(value: str, what: str) -> list[str]:
    """Split like a POSIX shell would, refusing anything a shell would treat as code."""
    _printable(value, what)
    try:
        words = shlex.split(value, comments=False, posix=True)
    except ValueError as exc:
        raise ValueError(f"{what} cannot be split into words ({exc}); check the quotes") from None
    for word in words:
        bad = sorted(SHELL_META & set(word))
        if bad:
            raise ValueError(
                f"{what}: {word!r} contains {' '.join(bad)}, which no valid option needs;"
                " this value is split into words and never run by a shell"
            )
    return words


def words_check(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        shell_words(value, what)
        return value

    return check


def pppd_words(value: str) -> str:
    """pppd_options: only options on the allow list (pppossh.config.pppd_options.LOCAL)."""
    from .pppd_options import check_words

    check_words(shell_words(value, "pppd_options"), "pppd_options")
    return value


def peer_pppd_words(value: str) -> str:
    """peer_pppd_options: only options on the allow list for the server's pppd (PEER)."""
    from .pppd_options import check_words

    check_words(shell_words(value, "peer_pppd_options"), "peer_pppd_options", peer=True)
    return value


def remote_command(value: str) -> str:
    """The program started on the server, e.g. ``pppd`` or ``sudo -n /usr/sbin/pppd``."""
    words = shell_words(value, "remote_pppd")
    if not words:
        raise ValueError("remote_pppd is empty; use 'pppd' or e.g. 'sudo -n /usr/sbin/pppd'")
    if words[0].startswith("-"):
        raise ValueError(f"remote_pppd must start with a program name, not {words[0]!r}")
    return value


def choice(*allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of: {', '.join(allowed)}")
        return value

    return check


def ipv6_mode(value: str) -> str:
    """OpenWrt's ppp ``ipv6``: 0, 1 or auto; true and false as netifd spells booleans."""
    mode = {"true": "1", "false": "0"}.get(value, value)
    if mode not in ("0", "1", "auto"):
        raise ValueError(f"{value!r} is not one of: 0, 1, auto")
    return mode


def int_range(lo: int, hi: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if not lo <= value <= hi:
            raise ValueError(f"{value} is out of range; use a number from {lo} to {hi}")
        return value

    return check


def secret(value: str) -> str:
    return _printable(value, "the value")


def interface_name(value: str) -> str:
    """A netifd interface name that leaves room for the ``pppossh-`` device prefix."""
    if not _IFACE.fullmatch(value) or len("pppossh-" + value) > 15:
        raise ValueError(
            f"{value!r} cannot be an interface name here: use at most 7 letters, digits or '_'"
            " so that the device name pppossh-<name> fits the kernel's 15 characters"
        )
    return value


def bridge(value: str) -> str:
    """sshtun's ``bridge``: a netifd interface (``lan``) or, standalone, a bridge device
    (``br0``); a word of the kernel's 15 characters that no program takes for an option."""
    if not _BRIDGE.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"{value!r} cannot name a bridge: give the interface (e.g. lan) or,"
                         " standalone, the bridge device (e.g. br0): letters, digits, '_',"
                         " '.', '-' (not first), at most 15")
    return value


def parse_hop(value: str) -> tuple[str, str, int]:
    """A jump host ``[user@]host[:port]`` as (user or "", host, port); an IPv6 address
    with a port in brackets (``[2001:db8::1]:2222``), as OpenSSH's ``-J`` reads it."""
    text = _printable(value, "the jump host").strip()
    user, at, rest = text.rpartition("@")
    if at:
        username(user)
    port_text = ""
    if rest.startswith("["):
        inner, closed, after = rest[1:].partition("]")
        if not closed or (after and not after.startswith(":")):
            raise ValueError(f"{value!r}: write an IPv6 jump host as [address]:port")
        name, port_text = inner, after[1:]
        if ":" not in name:
            raise ValueError(f"{value!r}: brackets are for IPv6 addresses only")
    elif rest.count(":") == 1:
        name, _, port_text = rest.partition(":")
    else:
        name = rest
    if at and not user:
        raise ValueError(f"{value!r}: give the user before '@', or leave 'user@' out")
    if (port_text or rest.endswith(":")) and not re.fullmatch(r"[0-9]{1,5}", port_text):
        raise ValueError(f"{value!r}: the port after ':' must be a number from 1 to 65535")
    if "%" in name:  # OpenSSH would read it as a token of the command it builds
        raise ValueError(f"{value!r}: a jump host cannot carry an IPv6 scope ('%')")
    try:
        hostname = host(name)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not [user@]host[:port]: {exc}") from None
    return user, hostname, port(int(port_text)) if port_text else 22


def hop_text(user: str, hostname: str, port_number: int) -> str:
    """The normal form of a jump host: ``user@host:port``, IPv6 in brackets."""
    name = f"[{hostname}]" if ":" in hostname else hostname
    return f"{user + '@' if user else ''}{name}:{port_number}"


def jump(value: str) -> str:
    """One jump host: only names, numbers and '@', ':', '[', ']' reach the SSH client, so no
    option (``-oProxyCommand=...``) or second hop can hide in it."""
    return hop_text(*parse_hop(value))


def known_host(token: str) -> tuple[str, int]:
    """A known_hosts host field, ``host`` or ``[host]:port``, as (host, port)."""
    bracketed = re.fullmatch(r"\[([^]]+)\]:([0-9]{1,5})", token)
    if bracketed:
        return host(bracketed.group(1)), port(int(bracketed.group(2)))
    return host(token), 22


def known_host_token(hostname: str, port_number: int) -> str:
    """The known_hosts form of a host: ``[host]:port`` for another port than 22."""
    return hostname if port_number == 22 else f"[{hostname}]:{port_number}"


def jump_hostkey(value: str) -> str:
    """A jump host's pinned key, a known_hosts line: ``HOST TYPE BASE64`` (``[HOST]:PORT``
    for another port than 22), as ``pppossh trust`` writes it."""
    token, _, key = _printable(value, "the jump host key").strip().partition(" ")
    if not key:
        raise ValueError(f"{value[:40]!r}: give the jump host, then its key: 'jump.example.net"
                         " ssh-ed25519 AAAA...' ('[host]:port ...' for another port than 22)")
    try:
        hostname, port_number = known_host(token)
    except ValueError as exc:
        raise ValueError(f"{token!r} is not a jump host as known_hosts names it: {exc}") \
            from None
    return f"{known_host_token(hostname, port_number)} {hostkey(key)}"


HOST = Check("host", "host(0)", host)
PORT = Check("port", "port", port)
USER = Check("username", "string", username)
PATH = Check("path", "file", abspath)
IPV4 = Check("ipv4", 'ip4addr("nomask")', ipv4)
IPADDR = Check("ipaddr", 'ipaddr("nomask")', ipaddr)
CIDR = Check("cidr", "cidr", cidr)
HOSTKEY = Check("hostkey", "string", hostkey)
KEEPALIVE = Check("keepalive", "string", keepalive)
SSH_OPTIONS = Check("ssh_options", "string", words_check("ssh_options"))
PEER_PPPD_OPTIONS = Check("peer_pppd_options", "string", peer_pppd_words)
PPPD_OPTIONS = Check("pppd_options", "string", pppd_words)
REMOTE_COMMAND = Check("remote_command", "string", remote_command)
SSH_CLIENT = Check("ssh_client", "string", choice("auto", "dbclient", "openssh"))
IPV6 = Check("ipv6", "string", ipv6_mode)
TUN_MODE = Check("tun_mode", "string", choice("tun", "tap"))
IPV6_PREFIX = Check("ipv6_prefix", "cidr6", ipv6_prefix)
IPV6_ADDR = Check("ipv6_addr", 'ip6addr("nomask")', ipv6)
BRIDGE = Check("bridge", "string", bridge)
TEXT = Check("text", "string", secret)
JUMP = Check("jump", "string", jump)
JUMP_HOSTKEY = Check("jump_hostkey", "string", jump_hostkey)
BOOL = Check("bool", "bool", lambda v: v)


def uint(lo: int, hi: int) -> Check:
    return Check(f"range({lo},{hi})", f"range({lo},{hi})", int_range(lo, hi))
