"""From peers to the text files a server needs (jinja2 templates in ``pppossh/templates``).

Each enabled peer's key becomes one ``authorized_keys`` line whose forced command starts
pppd with that peer's addresses: whatever the client asks for, its key can only start that
pppd.  Only the marked block of the file is pppossh's; lines outside it are the admin's and
stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from .. import atomic
from ..config import tun_session
from ..config.pppd_options import REMOTE_LCP_ECHO, TTY_CHOICE
from ..errors import ConfigError
from ..templates import render
from .peers import Peer, ServerConfig

BEGIN = "# --- pppossh peers: managed by 'pppossh peer apply', edit them there ---"
END = "# --- end of pppossh peers ---"
PEER_UP = tun_session.PEER_UP
TUN_SESSION = "/etc/pppossh/tun-session"  # a tun peer's forced command (tun_session.py)
# every word of a forced command: no space, quote, backslash, '$', '=' or ',' (sudoers)
_WORD = re.compile(r"[A-Za-z0-9_./:+-]+")

# A terminal is allowed: on one the server's kernel frames PPP and pppd copies nothing
# (client option remote_pty); the forced command stays the only thing a key can run.
RESTRICT = {
    "openssh": "restrict,pty",
    # dropbear knows the single options, not OpenSSH's umbrella 'restrict'
    "dropbear": "no-port-forwarding,no-agent-forwarding,no-X11-forwarding",
}
# pppd's word for the line it runs on, chosen where the forced command runs: by root's own
# shell (peer apply, TTY_CHOICE in front), or by the login shell of the account server-setup
# makes, whose sudo rules allow either word
TTY_WORDS = ("local", "notty")


def pppd_words(server: ServerConfig, peer: Peer, peer_up: str = PEER_UP) -> list[str]:
    """The server's pppd for one peer: its addresses fixed, its ipparam for the routes; the
    word for its line (:data:`TTY_WORDS`) follows where the command runs.  A tun or tap
    peer's command is the session script with its device and addresses instead (a bridged
    tap has none: :data:`~pppossh.config.tun_session.NONE` for each)."""
    if peer.tunnel:
        words = [TUN_SESSION, peer.device, peer.ipaddr or tun_session.NONE,
                 peer.peeraddr or tun_session.NONE, peer.ipparam]
        if peer.ip6addr and server.network6:  # set by the script when root runs it
            words.append(f"{peer.ip6addr}/{server.network6.prefixlen}")
    else:
        words = [*server.pppd_argv, "nodetach", "noauth", *REMOTE_LCP_ECHO,
                 "ipparam", peer.ipparam, f"{peer.ipaddr}:{peer.peeraddr}"]
        for dns in server.dns:
            words += ["ms-dns", dns]
        if peer.routes:
            words += ["ip-up-script", peer_up]
    for word in words:  # the checks made them so; a forced command must never rely on it
        if not _WORD.fullmatch(word):
            raise ConfigError("INVALID_FORCED_COMMAND", f"{word!r} cannot go into a forced"
                              " command; check pppossh.server.remote_pppd and the peer")
    return words


def key_line(kind: str, command: str, peer: Peer) -> str:
    """One peer's authorized_keys line.  A tun or tap peer's key may open its own unit alone
    (``tunnel="N"``), and only OpenSSH's sshd carries tun and tap devices."""
    if peer.tunnel:
        if kind != "openssh":
            raise ConfigError("TUN_NEEDS_OPENSSH", f"peer {peer.name} is a {peer.mode} peer,"
                              f" and {kind} carries no tun or tap devices: serve it with"
                              " OpenSSH's sshd (pppossh.server.sshd openssh) or make it a ppp"
                              " peer")
        return (f'restrict,tunnel="{peer.unit}",command="{command}" {peer.key}'
                f" pppossh-peer-{peer.name}")
    return f'{RESTRICT[kind]},command="{command}" {peer.key} pppossh-peer-{peer.name}'


def forced_command(server: ServerConfig, peer: Peer, *, sudo: bool = False,
                   peer_up: str = PEER_UP) -> tuple[list[str], str]:
    """(pppd's words, the forced command).

    With ``sudo`` (the account server-setup makes), 'sudo -n' goes in front of pppd alone,
    never in front of a sudo that remote_pppd already names, and the login shell adds the
    line's word.  Without, root's shell runs the command and chooses the word itself.
    """
    if peer.tunnel:  # no pppd and no root: the device is the account's own
        words = pppd_words(server, peer, peer_up)
        return words, " ".join(words)
    if sudo:
        server = replace(server, remote_pppd=server.pppd_path)
        words = pppd_words(server, peer, peer_up)
        return words, " ".join(["sudo", "-n", *words])
    words = pppd_words(server, peer, peer_up)
    return words, f"{TTY_CHOICE} {' '.join(words)} $t"  # no quote: a key option ends at one


def managed_block(kind: str, server: ServerConfig, peers: list[Peer], *, sudo: bool = False,
                  peer_up: str = PEER_UP) -> str:
    lines = [key_line(kind, forced_command(server, peer, sudo=sudo, peer_up=peer_up)[1], peer)
             for peer in peers if peer.enabled]
    return render("authorized_keys_block.j2", begin=BEGIN, end=END, lines=lines)


def merge_block(existing: str, block: str) -> str:
    """``existing`` with its managed block replaced by ``block`` (appended if there was none).

    Only a complete block (BEGIN ... END) is replaced: a BEGIN line without its END (an edit
    gone wrong) is dropped by itself, and every line after it stays.
    """
    lines = existing.splitlines()
    begin = lines.index(BEGIN) if BEGIN in lines else -1
    end = lines.index(END, begin) if begin >= 0 and END in lines[begin:] else -1
    if begin >= 0 and end >= 0:
        out = lines[:begin] + block.splitlines() + lines[end + 1:]
    else:
        out = [line for line in lines if line not in (BEGIN, END)] + block.splitlines()
    return "\n".join(out) + "\n"


def peer_up_script(peers: list[Peer]) -> str:
    return render("peer-up.sh.j2", peers=[p for p in peers if p.enabled and p.routes])


def write_if_changed(path: str, text: str, mode: int) -> bool:
    """Replace ``path`` atomically, keeping its owner; False when it already says ``text``."""
    target = Path(path)
    try:
        if target.read_text() == text:
            return False
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_atomic(target, text, mode)
    return True
