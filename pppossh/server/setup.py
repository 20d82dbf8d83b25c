"""``pppossh peer apply`` (a dropbear/OpenWrt-style server) and ``pppossh server-setup``.

``peer apply`` writes the managed block into the server's authorized_keys (root logs in,
as on OpenWrt) and the script that adds the routes behind peers.  ``server-setup`` renders
one POSIX sh script for a Debian/Ubuntu server with OpenSSH: a dedicated unprivileged
account whose keys may only start pppd through a sudo rule for exactly those command lines.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass

from ..errors import ConfigError, PppsshError
from ..templates import render
from ..uci import Uci
from . import render as r
from .peers import load_peers, load_server, sshd_kind

DELIMITER = "PPPOSSH_END_OF_FILE"


@dataclass(frozen=True)
class Applied:
    authorized_keys: str
    changed: list[str]
    peers: int


def apply(uci: Uci, peer_up: str = r.PEER_UP) -> Applied:
    server = load_server(uci)
    peers = load_peers(uci)
    kind = sshd_kind(server)
    block = r.managed_block(kind, server, peers, peer_up=peer_up)
    try:
        with open(server.authorized_keys) as fh:
            existing = fh.read()
    except FileNotFoundError:
        existing = ""
    changed = []
    if r.write_if_changed(server.authorized_keys, r.merge_block(existing, block), 0o600):
        changed.append(server.authorized_keys)
    if any(p.routes for p in peers) and r.write_if_changed(
        peer_up, r.peer_up_script(peers), 0o755
    ):
        changed.append(peer_up)
    return Applied(server.authorized_keys, changed, sum(p.enabled for p in peers))


def _sudoers_args(words: list[str]) -> str:
    """A sudoers Cmnd with arguments: ',', ':', '=' and '\\' must be escaped there."""
    out = []
    for word in words:
        for ch in "\\,:=":
            word = word.replace(ch, "\\" + ch)
        out.append(word)
    return " ".join(out)


def setup_script(uci: Uci, user: str = "pppossh", *, masquerade: bool = False,
                 home: str | None = None,
                 login_shell: str = "/usr/local/sbin/pppossh-login-shell") -> str:
    from ..config.checks import username

    try:
        username(user)
    except ValueError as exc:
        raise ConfigError("INVALID_USER", f"--user: {exc}") from None
    server = load_server(uci)
    pppd = shlex.split(server.remote_pppd)
    if len(pppd) != 1 or not pppd[0].startswith("/"):
        raise ConfigError(
            "INVALID_REMOTE_PPPD",
            "server-setup runs pppd through sudo, so pppossh.server.remote_pppd must be the"
            f" absolute path of pppd alone (e.g. /usr/sbin/pppd), not {server.remote_pppd!r}",
        )
    peers = [p for p in load_peers(uci) if p.enabled]
    home = home or f"/var/lib/{user}"
    commands, sudo_args = [], []
    for peer in peers:
        words = r.pppd_words(server, peer)
        commands.append(" ".join(["sudo", "-n", *words]))
        sudo_args.append(_sudoers_args(words))
    files = {
        "login_shell_text": render("login-shell.sh.j2", user=user, commands=commands),
        "block": r.managed_block("openssh", server, peers, sudo=True),
        "sudoers": render("sudoers.j2", user=user, commands=sudo_args),
        "peer_up": r.peer_up_script(peers) if any(p.routes for p in peers) else "",
    }
    for name, text in files.items():
        if DELIMITER in text:
            raise ConfigError("INVALID_CONFIG", f"the {name} text contains {DELIMITER}")
    return render(
        "server-setup.sh.j2", confdir=uci.confdir, user=user, home=home,
        login_shell=login_shell, begin=r.BEGIN, end=r.END, pppd=pppd[0],
        masquerade=masquerade, pool=server.pool, peer_up_path=r.PEER_UP, **files,
    )


def run_script(script: str) -> tuple[int, str]:
    """Run the set-up script with /bin/sh; (exit status, its output)."""
    if os.geteuid() != 0:
        raise PppsshError("NOT_ROOT", "server-setup --apply must run as root")
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
        fh.write(script)
        path = fh.name
    try:
        out = subprocess.run(["/bin/sh", path], capture_output=True, text=True, timeout=300,
                             check=False, stdin=subprocess.DEVNULL)
    finally:
        os.unlink(path)
    return out.returncode, out.stdout + out.stderr
