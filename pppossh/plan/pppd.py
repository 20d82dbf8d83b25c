"""The local pppd command line.

The shape follows OpenWrt's generic ppp handler (``nodetach ipparam <iface> ifname <dev>``,
LCP echo from ``keepalive``, ``nodefaultroute usepeerdns``) with two differences: the
ip-up/ip-down hooks are pppossh's own, and only options both pppd 2.4.9 (Debian) and 2.5.x
(OpenWrt) accept are used; ``ipv6-up-script``/``ipv6-down-script`` are added for 2.5 only,
because 2.4.9 exits with "invalid option" (status 2) on them.
"""

from __future__ import annotations

import math
import os
import shlex

from ..config import Config

DEFAULT_KEEPALIVE = "5 1"  # OpenWrt's ppp.sh: 5 unanswered echoes, one a second
LCP_RESTART = 1  # seconds between LCP Configure-Requests (pppd: 3)


def lcp_echo(keepalive: str) -> list[str]:
    """``keepalive 'failure interval'`` -> LCP echo options, as OpenWrt's ppp.sh reads it.

    Empty means OpenWrt's default ``5 1``; a failure count of 0 turns LCP echo off.  Echoes
    are adaptive, as OpenWrt's ``keepalive_adaptive`` default: pppd sends one only when the
    peer has been silent for an interval, so a busy link is never dropped for a late reply.
    """
    words = (keepalive or DEFAULT_KEEPALIVE).split()
    failure = int(words[0])
    interval = int(words[1]) if len(words) > 1 else 5
    if failure == 0 or interval == 0:
        return []
    return ["lcp-echo-interval", str(interval), "lcp-echo-failure", str(failure),
            "lcp-echo-adaptive"]


def pppd_argv(
    config: Config,
    *,
    pppd: str,
    version: tuple[int, ...],
    pty: str,
    hooks_dir: str,
    python: str,
    rundir: str,
    mode: str,
    logfile: str = "",
    secrets: str = "",
) -> list[str]:
    """pppd's argv.  ``secrets`` is the options file that carries the PAP/CHAP password
    (:func:`secrets_text`): a password in argv is visible to every local user."""
    argv = [pppd, "nodetach", "ipparam", config.iface, "ifname", config.device]
    argv += lcp_echo(config.keepalive)
    # explicit either way: Debian's pppd negotiates IPv6CP unless told not to, OpenWrt's not
    argv.append("+ipv6" if config.ipv6_on else "noipv6")
    # No PPP compression: both pppds offer deflate, which spends the router's CPU on traffic
    # that is mostly compressed or encrypted already (the kernel then logs "compressor
    # dropped pkt"); SSH can compress (-C in ssh_options) where it pays.
    argv.append("noccp")
    argv.append("nodefaultroute")
    # netifd decides itself whether to use the peer's DNS (option peerdns); standalone asks
    # the peer only when the user wants its DNS.
    if mode == "netifd" or config.peerdns:
        argv.append("usepeerdns")
    if config.persist:
        argv.append("persist")
    maxfail = config.maxfail if config.maxfail is not None else (0 if config.persist else 1)
    argv += ["maxfail", str(maxfail)]
    if config.holdoff is not None:
        argv += ["holdoff", str(config.holdoff)]
    if config.username:
        argv += ["user", config.username]
        if secrets:
            argv += ["file", secrets]
    up, down = os.path.join(hooks_dir, "ip-up"), os.path.join(hooks_dir, "ip-down")
    argv += ["ip-up-script", up, "ip-down-script", down]
    if config.ipv6_on and version >= (2, 5):
        argv += ["ipv6-up-script", os.path.join(hooks_dir, "ipv6-up"),
                 "ipv6-down-script", os.path.join(hooks_dir, "ipv6-down")]
    # pppd runs its scripts with an empty environment; these tell our hooks where to look.
    # Under netifd the hooks are shell alone; standalone they run the helper with this Python.
    argv += ["set", "PPPOSSH_MODE=netifd" if mode == "netifd" else f"PPPOSSH_PYTHON={python}",
             "set", f"PPPOSSH_RUNDIR={rundir}"]
    if config.ipv6 == "auto" and mode == "netifd":
        # the ipv6-up hook adds a DHCPv6 interface <iface>_6 on the link, as OpenWrt's ppp6-up
        argv += ["set", "PPPOSSH_AUTOIPV6=1" if config.peerdns else "PPPOSSH_AUTOIPV6=nodns"]
    if logfile:
        # pppd's own account of the session (syslog gets it too), read when it ends
        argv += ["logfile", logfile]
    if config.mtu is not None:
        argv += ["mtu", str(config.mtu), "mru", str(config.mtu)]
    # A login that stalls (unreachable server, a client waiting for an answer) ends when LCP
    # gives up: connect_timeout seconds at the default restart interval.
    tries = max(1, math.ceil(config.connect_timeout / LCP_RESTART))
    argv += ["lcp-restart", str(LCP_RESTART), "lcp-max-configure", str(tries)]
    if not config.ipaddr:
        argv.append("noipdefault")  # else pppd proposes the address of the router's hostname
    argv += ["noauth", "pty", pty]
    if config.ipaddr or config.peeraddr:
        argv.append(f"{config.ipaddr}:{config.peeraddr}")
    argv += shlex.split(config.pppd_options)
    return argv


def _escape(value: str) -> str:
    """A word for a pppd options file: every byte other than a letter or digit as a three
    digit octal escape, which pppd's getword() reads back in 2.4.9 and 2.5 alike (quotes,
    '#', spaces and backslashes then never mean anything)."""
    return "".join(
        chr(b) if chr(b).isascii() and chr(b).isalnum() else f"\\{b:03o}"
        for b in value.encode()
    )


def secrets_text(config: Config) -> str:
    """The options file pppd reads with ``file``: the password, for root's eyes only."""
    if not config.username:
        return ""
    word = _escape(config.password) or '""'
    return (f"# pppossh: the PAP/CHAP password of network.{config.iface}"
            f" (read by pppd's option 'file')\npassword {word}\n")
