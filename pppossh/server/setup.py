"""``pppossh peer apply`` (a dropbear/OpenWrt-style server) and ``pppossh server-setup``.

``peer apply`` writes the managed block into the server's authorized_keys (root logs in,
as on OpenWrt) and the script that adds the routes behind peers.  ``server-setup`` renders
one POSIX sh script for a Debian/Ubuntu server with OpenSSH: a dedicated unprivileged
account whose keys may only start pppd through a sudo rule for exactly those command lines.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field

from ..config import tun_session
from ..errors import ConfigError, PppsshError
from ..templates import render
from ..uci import Uci
from . import paths
from . import render as r
from .peers import Peer, check_addresses, load_peers, load_server, sshd_kind

DELIMITER = "PPPOSSH_END_OF_FILE"
TUN_DEVICES = "/etc/pppossh/tun-devices"
TUN_SERVICE = "/etc/systemd/system/pppossh-tun-devices.service"
SSHD_CONF = "/etc/ssh/sshd_config.d/pppossh.conf"


@dataclass(frozen=True)
class Applied:
    authorized_keys: str
    changed: list[str]
    peers: int
    notes: list[str] = field(default_factory=list)


# The receive window a dropbear server should give its peers: what a peer may send before
# dropbear must answer.  dropbear's own default, 24 KiB, caps each peer's upload over a 50 ms
# path at about 3 Mbit/s; 1 MiB (the window pppossh gives dbclient on the router) carries
# about 160 Mbit/s, and costs up to that much memory per busy peer.  OpenSSH's sshd has a
# 2 MiB window of its own and no setting.
SERVER_WINDOW = 1 << 20
DROPBEAR_DEFAULT_WINDOW = 24576


def window_notes(uci: Uci, kind: str) -> list[str]:
    """What to change in the SSH server so that peers' uploads are not capped by its window:
    OpenWrt's dropbear reads RecvWindowSize from /etc/config/dropbear."""
    if kind != "dropbear":
        return []
    notes = []
    for section in uci.sections("dropbear", "dropbear"):
        value = str(section.options.get("RecvWindowSize", "") or "")
        size = int(value) if value.isdigit() else DROPBEAR_DEFAULT_WINDOW
        if size < SERVER_WINDOW:
            notes.append(
                f"dropbear's receive window ({size} bytes, dropbear.{section.name}) caps each"
                " peer's upload over a 50 ms path near"
                f" {size * 8 / 0.05 / 1e6:.0f} Mbit/s; raise it: uci set"
                f" dropbear.{section.name}.RecvWindowSize={SERVER_WINDOW}; uci commit dropbear;"
                " /etc/init.d/dropbear restart (up to 1 MiB of memory per busy peer)")
    return notes


def apply(uci: Uci, peer_up: str = r.PEER_UP, tun_script: str = r.TUN_SESSION) -> Applied:
    server = load_server(uci)
    peers = load_peers(uci)
    check_addresses(server, peers)
    target = server.authorized_keys
    # the account server-setup made runs its peers' pppd through sudo, as that script wrote
    account = paths.is_account_keys(target)
    kind = "openssh" if account else sshd_kind(server)
    block = r.managed_block(kind, server, peers, sudo=account, peer_up=peer_up)
    paths.check_safe(target, "pppossh.server.authorized_keys")
    paths.check_safe(server.pppd_path, "pppossh.server.remote_pppd")
    try:
        with open(target) as fh:
            existing = fh.read()
    except FileNotFoundError:
        existing = ""
    changed = []
    # a new file: root's alone, but the account server-setup made must read its own (sshd
    # reads it as that user); it stays root's, so the account cannot change its keys
    mode = 0o644 if account else 0o600
    if r.write_if_changed(target, r.merge_block(existing, block), mode):
        changed.append(target)
    if any(p.routes for p in peers):
        paths.check_safe(peer_up, "the peer-up script")
        if r.write_if_changed(peer_up, r.peer_up_script(peers), 0o755):
            changed.append(peer_up)
    notes = window_notes(uci, kind)
    if any(p.enabled and p.tunnel for p in peers):
        paths.check_safe(tun_script, "the tun session script")
        if r.write_if_changed(tun_script, tun_session.file_text(), 0o755):
            changed.append(tun_script)
        if not account:
            notes.append("tun and tap peers log in as root here: sshd must let root open"
                         f" their devices (PermitTunnel {permit_tunnel(peers)}); 'pppossh"
                         " server-setup' serves them from an unprivileged account instead")
    return Applied(target, changed, sum(p.enabled for p in peers), notes)


def _sudoers_args(words: list[str]) -> str:
    """A sudoers Cmnd with arguments: ',', ':', '=' and '\\' must be escaped there."""
    out = []
    for word in words:
        for ch in "\\,:=":
            word = word.replace(ch, "\\" + ch)
        out.append(word)
    return " ".join(out)


def check_account(user: str) -> str:
    """A plain user name for the peers' account: new, or the one pppossh made before."""
    if not isinstance(user, str) or not paths.USER.fullmatch(user):
        raise ConfigError(
            "INVALID_USER",
            f"--user {user!r} is not a plain user name: use lower-case letters, digits, '_' and"
            " '-', starting with a letter or '_', at most 31 characters (default: pppossh)",
        )
    if user == "root":
        raise ConfigError("INVALID_USER", "--user root: peers never log in as root; leave out"
                          " --user to get the unprivileged account pppossh")
    if paths.account_exists(user) and not paths.own_account(user):
        raise ConfigError(
            "ACCOUNT_NOT_OURS",
            f"--user {user}: that account exists and pppossh did not make it (its comment is not"
            f" {paths.ACCOUNT_MARK!r} or its home is not {paths.account_home(user)});"
            " server-setup never takes over an account: choose a new name, e.g. pppossh",
        )
    if not paths.account_exists(user) and _group_exists(user):
        raise ConfigError("ACCOUNT_NOT_OURS", f"--user {user}: a group of that name exists;"
                          " choose a name that is neither a user nor a group, e.g. pppossh")
    return user


def _group_exists(name: str) -> bool:
    try:
        import grp
    except ImportError:  # the script checks again where it runs
        return False
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def permit_tunnel(peers: list[Peer]) -> str:
    """sshd's PermitTunnel for the account: the kinds of device its peers have, no more (a
    key's tunnel="N" names a unit, not a kind: tun and tap peers never share a unit)."""
    modes = {p.mode for p in peers if p.tunnel and p.enabled}
    if modes == {"tap"}:
        return "ethernet"
    return "yes" if "tap" in modes else "point-to-point"


def setup_script(uci: Uci, user: str = "pppossh", *, masquerade: bool = False,
                 login_shell: str = "/usr/local/sbin/pppossh-login-shell") -> str:
    check_account(user)
    server = load_server(uci)
    all_peers = load_peers(uci)
    check_addresses(server, all_peers)
    peers = [p for p in all_peers if p.enabled]
    home = paths.account_home(user)
    commands, tun_commands, sudo_args = [], [], []
    for peer in peers:
        words, command = r.forced_command(server, peer, sudo=True)
        if peer.tunnel:  # the session script, as the account: no sudo
            tun_commands.append(command)
            continue
        commands.append(command)
        sudo_args += [_sudoers_args([*words, tty]) for tty in r.TTY_WORDS]
    tun_peers = [p for p in peers if p.tunnel]
    files = {
        "login_shell_text": render("login-shell.sh.j2", user=user, commands=commands,
                                   tun_commands=tun_commands, tty_words=r.TTY_WORDS),
        "block": r.managed_block("openssh", server, peers, sudo=True),
        "sudoers": render("sudoers.j2", user=user, commands=sudo_args),
        "peer_up": r.peer_up_script(peers) if any(p.routes for p in peers) else "",
        "tun_session": tun_session.file_text(),
        "tun_devices": render("tun-devices.sh.j2", confdir=uci.confdir, user=user,
                              peers=tun_peers, unit_name=TUN_SERVICE.rsplit("/", 1)[1],
                              txqueuelen=tun_session.TXQUEUELEN, none=tun_session.NONE),
        "tun_service": render("tun-devices.service.j2", user=user, script=TUN_DEVICES),
        "sshd_conf": render("sshd-tun.conf.j2", user=user,
                            permit_tunnel=permit_tunnel(tun_peers)),
    }
    for name, text in files.items():
        if DELIMITER in text:
            raise ConfigError("INVALID_CONFIG", f"the {name} text contains {DELIMITER}")
    return render(
        "server-setup.sh.j2", confdir=uci.confdir, user=user, home=home,
        marker=paths.ACCOUNT_MARK, login_shell=login_shell, begin=r.BEGIN, end=r.END,
        pppd=server.pppd_path, masquerade=masquerade, pool=server.pool,
        peer_up_path=r.PEER_UP, tun_peers=bool(tun_peers), tun_session_path=r.TUN_SESSION,
        tun_devices_path=TUN_DEVICES, tun_unit_path=TUN_SERVICE, sshd_conf_path=SSHD_CONF,
        permit_tunnel=permit_tunnel(tun_peers), **files,
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
