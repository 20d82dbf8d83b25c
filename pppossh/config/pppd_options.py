"""Which pppd options ``pppd_options`` and ``peer_pppd_options`` may carry: allow lists.

pppd has options that run programs as root (``pty``, ``connect``, every ``*-script``, ...),
load code (``plugin``), read more options from files (``file``, ``call``) or read and write
files (``logfile``, ``record``, ``pap-secrets``, ...), and every release may add more (2.5.1
added ``net-init-script``, 2.5.3 ``auth-up-script``).  So a word is accepted only when it is
on the list below, with an argument of the expected form; everything else is refused, the
options pppossh sets itself with a pointer to the UCI option that does the job.

Every allowed option exists in pppd 2.4.9 (Debian) and 2.5.x (OpenWrt) alike, and none of
them starts a program or touches a file (tests/test_pppd_options.py checks both against the
option lists in tests/data/).

``peer_pppd_options`` go to the server's pppd inside the remote command.  A pppossh server's
forced command ignores them; a plain server that lets the account run ``sudo pppd`` runs them
as root.  They get an allow list of their own (the link options plus what only a server sets:
addresses, DNS for the router, asking it for a password), so that no value typed on the
router makes a server run a program.  That is a courtesy to the server, not its protection:
whoever holds the key can send any command, and only the server's sudo rule or forced
command decides what runs there.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def _names(text: str) -> list[str]:
    return text.split()


@dataclass(frozen=True)
class Arg:
    """The argument an option takes: ``what`` for the error message, ``check`` raises."""

    what: str
    check: Callable[[str], None]


def _number(lo: int, hi: int) -> Arg:
    def check(value: str) -> None:
        if not re.fullmatch(r"[0-9]{1,10}", value) or not lo <= int(value) <= hi:
            raise ValueError(f"a number from {lo} to {hi}")

    return Arg(f"a number from {lo} to {hi}", check)


def _hex32(value: str) -> None:
    if not re.fullmatch(r"(0[xX])?[0-9a-fA-F]{1,8}", value):
        raise ValueError("a 32-bit hex map such as 0x000a0000")


def _compression(lo: int, hi: int) -> Arg:
    def check(value: str) -> None:
        parts = value.split(",")
        if len(parts) > 2 or not all(
            re.fullmatch(r"[0-9]{1,2}", p) and (int(p) == 0 or lo <= int(p) <= hi)
            for p in parts
        ):
            raise ValueError(f"'nr' or 'nr,nt', each 0 or from {lo} to {hi}")

    return Arg(f"'nr' or 'nr,nt' (code sizes from {lo} to {hi})", check)


def _ipv4(value: str) -> None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError("an IPv4 address such as 192.0.2.53") from None


def _ipv6_ids(value: str) -> None:
    parts = value.split(",")
    if len(parts) > 2 or not any(parts):
        raise ValueError("'local,remote' interface identifiers such as ::1,::2")
    for part in parts:
        if part:
            try:
                ipaddress.IPv6Address(part)
            except ValueError:
                raise ValueError(
                    "'local,remote' interface identifiers such as ::1,::2"
                ) from None


def _name(value: str) -> None:
    if not value or value.startswith("-") or len(value) > 255 or re.search(r"[\x00-\x1f\x7f]",
                                                                              value):
        raise ValueError("a name of 1 to 255 printable characters, not starting with '-'")


SECONDS = _number(0, 86400)
COUNT = _number(0, 1000)
ARGS = {
    "kdebug": _number(0, 7),
    "asyncmap": Arg("a 32-bit hex map such as 0x000a0000", _hex32),
    "-as": Arg("a 32-bit hex map such as 0x000a0000", _hex32),
    "bsdcomp": _compression(9, 15),
    "deflate": _compression(8, 15),
    "vj-max-slots": _number(2, 16),
    "ipv6": Arg("'local,remote' interface identifiers such as ::1,::2", _ipv6_ids),
    "ms-dns": Arg("an IPv4 address", _ipv4),
    "ms-wins": Arg("an IPv4 address", _ipv4),
    "netmask": Arg("an IPv4 netmask such as 255.255.255.255", _ipv4),
    "name": Arg("a name", _name),
    "mtu": _number(128, 16384),
    "mru": _number(128, 16384),
}

# Link tuning both ends may use: LCP/IPCP/IPv6CP/CCP negotiation, timers, debugging.
_COMMON_FLAGS = _names("debug -d noaccomp -ac default-asyncmap -am nomagic -mn nopcomp -pc "
                        "passive -p silent receive-all novj -vj novjccomp -vjccomp "
                        "ipcp-accept-local ipcp-accept-remote noipdefault ipcp-no-address "
                        "ipcp-no-addresses noremoteip nosendip ipv6cp-accept-local "
                        "ipv6cp-accept-remote ipv6cp-use-ipaddr ipv6cp-use-persistent noccp "
                        "-ccp nobsdcomp -bsdcomp nodeflate -deflate nodeflatedraft "
                        "predictor1 nopredictor1 -predictor1 noecp -ecp refuse-pap -pap "
                        "refuse-chap -chap refuse-mschap -mschap refuse-mschap-v2 -mschap-v2 "
                        "refuse-eap hide-password chapms-strip-domain lcp-echo-adaptive")
_COMMON_ARGS = {
    "kdebug": ARGS["kdebug"], "asyncmap": ARGS["asyncmap"], "-as": ARGS["-as"],
    "bsdcomp": ARGS["bsdcomp"], "deflate": ARGS["deflate"],
    "vj-max-slots": ARGS["vj-max-slots"], "ipv6": ARGS["ipv6"],
    "idle": SECONDS, "maxconnect": SECONDS,
    "lcp-max-terminate": COUNT, "lcp-max-failure": COUNT,
    "ipcp-restart": SECONDS, "ipcp-max-terminate": COUNT, "ipcp-max-configure": COUNT,
    "ipcp-max-failure": COUNT,
    "ipv6cp-restart": SECONDS, "ipv6cp-max-terminate": COUNT, "ipv6cp-max-configure": COUNT,
    "ipv6cp-max-failure": COUNT,
    "pap-restart": SECONDS, "pap-max-authreq": COUNT, "pap-timeout": SECONDS,
    "chap-restart": SECONDS, "chap-max-challenge": COUNT, "chap-interval": SECONDS,
    "chap-timeout": SECONDS,
}

LOCAL: dict[str, Arg | None] = {**dict.fromkeys(_COMMON_FLAGS), **_COMMON_ARGS}
"""pppd_options: the options of the router's own pppd."""

PEER: dict[str, Arg | None] = {
    **LOCAL,
    # the server's side of what pppossh sets on the router from its own options
    **dict.fromkeys(_names("mtu mru default-mru -mru +ipv6 noipv6 -ipv6 proxyarp noproxyarp "
                            "-proxyarp nodefaultroute -defaultroute")),
    "mtu": ARGS["mtu"], "mru": ARGS["mru"],
    "lcp-echo-interval": SECONDS, "lcp-echo-failure": COUNT,
    "lcp-restart": SECONDS, "lcp-max-configure": COUNT,
    # what only a server offers: addresses and DNS for the router, asking it for a password
    "ms-dns": ARGS["ms-dns"], "ms-wins": ARGS["ms-wins"], "netmask": ARGS["netmask"],
    **dict.fromkeys(_names("auth require-pap +pap require-chap +chap require-mschap +mschap "
                            "require-mschap-v2 +mschap-v2 noauth")),
    "name": ARGS["name"],
}
"""peer_pppd_options: options for the server's pppd, which runs them as root there."""

# --- refused, each with its reason -------------------------------------------------------------

PROGRAM = ("it makes pppd run a program (or load code) as root, and no configuration value may"
           " run a program")
FILES = "it makes pppd read or write a file as root; pppossh keeps its files itself"
OPTIONS_FILE = "it reads more options from a file, where any option (a program to run too) can be"
EXITS = "it makes pppd exit without connecting"
PROGRAM_OPTIONS = frozenset(_names(
    "pty connect disconnect init welcome plugin ip-up-script ip-down-script ipv6-up-script "
    "ipv6-down-script ip-pre-up-script net-init-script net-pre-up-script net-down-script "
    "auth-up-script auth-down-script auth-fail-script"
))


def runs_program(word: str) -> bool:
    """pppd options that start a program or load code: the known ones and any ``*-script``."""
    return word in PROGRAM_OPTIONS or word.endswith("-script")


_REFUSED: dict[str, str] = {
    **dict.fromkeys(("file", "call"), OPTIONS_FILE),
    **dict.fromkeys(_names("logfile logfd record lcp-rtt-file pap-secrets chap-secrets +ua "
                            "ca capath crl crl-dir cert key pkcs12 linkname"), FILES),
    **dict.fromkeys(_names("dryrun --version -v --help -h show-options"), EXITS),
    "show-password": "it writes the PAP/CHAP password into the log",
    "privgroup": "it gives a group's members privileged pppd options",
    "set": "pppossh sets the environment of its own hooks",
    "unset": "pppossh sets the environment of its own hooks",
    "socket": "the SSH command is built from server/port/sshuser/ssh_options",
    "notty": "the SSH command is built from server/port/sshuser/ssh_options",
    "demand": "pppossh connects at once and supervises the link itself",
}

_LOCAL_SET: dict[str, str] = {
    **dict.fromkeys(_names("nodetach -detach detach updetach up_sdnotify"),
                    "pppossh runs pppd in the foreground"),
    **dict.fromkeys(("ifname", "unit"), "the device is always pppossh-<interface>"),
    "ipparam": "pppossh passes the interface name",
    **dict.fromkeys(_names("defaultroute nodefaultroute -defaultroute replacedefaultroute "
                            "noreplacedefaultroute defaultroute-metric defaultroute6 "
                            "nodefaultroute6 -defaultroute6"),
                    "use options defaultroute and metric"),
    "usepeerdns": "use option peerdns",
    **dict.fromkeys(("persist", "nopersist"), "use option persist"),
    "maxfail": "use option maxfail",
    "holdoff": "use option holdoff",
    **dict.fromkeys(("mtu", "mru", "default-mru", "-mru"), "use option mtu"),
    **dict.fromkeys(("lcp-echo-interval", "lcp-echo-failure"), "use option keepalive"),
    **dict.fromkeys(("lcp-restart", "lcp-max-configure"),
                    "pppossh sets it from option connect_timeout"),
    **dict.fromkeys(("+ipv6", "noipv6", "-ipv6"), "use option ipv6"),
    **dict.fromkeys(("user", "password"), "use options username and password"),
    **dict.fromkeys(_names("auth noauth require-pap +pap require-chap +chap require-mschap "
                            "+mschap require-mschap-v2 +mschap-v2 require-eap"),
                    "pppossh passes noauth: the SSH host key authenticates the server (to make"
                    " the server ask the router for a password, use peer_pppd_options)"),
    "ms-dns": "it offers DNS to the server; use peer_pppd_options on this side",
}

_PEER_SET: dict[str, str] = {
    **dict.fromkeys(_names("nodetach -detach detach updetach up_sdnotify"),
                    "pppossh starts the server's pppd as '<remote_pppd> nodetach notty noauth'"
                    " (on a terminal 'local' in place of 'notty')"),
    **dict.fromkeys(("user", "password"),
                    "the router's username and password are options username and password"),
}

# The shell words in front of a remote pppd that may run on a terminal: on a pty (the client
# asked for one, the server granted it) the server's kernel frames PPP and pppd copies
# nothing ('local': a pty has no modem lines); on a plain stream (a server refusing ptys, a
# client without remote_pty, 'pppossh check') it copies through its helper ('notty').  POSIX
# sh, as the login shells of OpenWrt and Linux servers are; $t is the word.
TTY_CHOICE = "t=notty; [ -t 0 ] && t=local; exec"

# The server's pppd asks for an LCP echo every 4 s and ends after 4 unanswered: a router that
# vanished without closing its TCP connection (power lost, a black-holed path, a new uplink
# address) leaves no session behind that holds the tunnel's addresses and routes, which
# would black-hole the next session's traffic.  Not adaptive: pppd before 2.4.8 lacks that
# option and would refuse to start; 16 s without an answer leaves room for a queue under load.
REMOTE_LCP_ECHO = ("lcp-echo-interval", "4", "lcp-echo-failure", "4")

ADDRESS_PAIR = re.compile(r"[0-9.]*:[0-9.]*")


def _allowed_names(table: dict[str, Arg | None]) -> str:
    """The allowed names without pppd's short aliases (-ac for noaccomp, ...)."""
    return " ".join(sorted(n for n in table if not n.startswith("-")))


def check_words(words: Sequence[str], what: str, peer: bool = False) -> None:
    """Raise ValueError naming the first word of ``words`` that is not allowed, and why."""
    table = PEER if peer else LOCAL
    specific = _PEER_SET if peer else _LOCAL_SET
    i = 0
    while i < len(words):
        word = words[i]
        reason = None
        if runs_program(word):
            reason = PROGRAM
        elif word in _REFUSED:
            reason = _REFUSED[word]
        elif word in specific:
            reason = specific[word]
        if reason:
            raise ValueError(f"{what} must not contain {word!r}: {reason}")
        if ADDRESS_PAIR.fullmatch(word):
            if not peer:
                raise ValueError(
                    f"{what} must not contain {word!r}: use options ipaddr and peeraddr"
                )
            for side in word.split(":"):
                if side:
                    try:
                        _ipv4(side)
                    except ValueError:
                        raise ValueError(
                            f"{what}: {word!r} is not 'local:remote' IPv4 addresses"
                        ) from None
            i += 1
            continue
        if word not in table:
            raise ValueError(
                f"{what}: {word!r} is not an option pppossh passes to pppd; allowed: "
                f"{_allowed_names(table)}"
            )
        arg = table[word]
        if arg is not None:
            if i + 1 >= len(words):
                raise ValueError(f"{what}: {word} needs {arg.what} after it")
            try:
                arg.check(words[i + 1])
            except ValueError as exc:
                raise ValueError(
                    f"{what}: {word} {words[i + 1]!r}: the value must be {exc}"
                ) from None
            i += 2
        else:
            i += 1
