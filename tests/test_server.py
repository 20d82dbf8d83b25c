"""The server role without a server: peers in UCI, forced-command lines, the set-up script.

The real servers (OpenSSH with useradd/sudo/visudo, dropbear) run these files in the test
bed (``scenarios.server_setup_openssh``, ``server_dropbear_peers``); here: the rules that
decide what goes into them, and that hostile input never gets there.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pppossh.config.pppd_options import TTY_CHOICE
from pppossh.errors import ConfigError
from pppossh.server import peers, render, setup
from pppossh.uci import open_uci

KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArewmMS5CsREYdKI4UPpFsPUFxea2kgxEjj5YSyYuuU"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGz+/hMemoN2+jdTwbfe9+GLeVzlHap36RhZgpT8ZWYk"


@pytest.fixture
def uci(tmp_path: Path):
    """A private UCI tree: its authorized_keys lies beside the config directory."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "pppossh").write_text(
        "config server 'server'\n\toption authorized_keys '%s'\n\tlist dns '192.0.2.53'\n"
        % (tmp_path / "authorized_keys")
    )
    return open_uci(str(tmp_path / "config"), backend="file")


def test_peers_get_stable_addresses_from_the_pool(uci) -> None:
    a = peers.add_peer(uci, "branch-1", KEY_A + " alice@laptop", routes=("192.168.10.0/24",))
    b = peers.add_peer(uci, "branch-2", KEY_B)
    assert (a.ipaddr, a.peeraddr, b.peeraddr) == ("10.64.0.1", "10.64.0.2", "10.64.0.3")
    assert a.key == KEY_A, "the comment of a pasted key is dropped"
    peers.del_peer(uci, "branch-1")
    c = peers.add_peer(uci, "branch-3", "ssh-ed25519 " + KEY_A.split()[1][:-4] + "AAAA")
    assert c.peeraddr == "10.64.0.2"  # the freed address is reused; b keeps its own
    listed = {p.name: p.peeraddr for p in peers.load_peers(uci)}
    assert listed == {"branch-2": "10.64.0.3", "branch-3": "10.64.0.2"}


@pytest.mark.parametrize(
    "name,key,ip,code",
    [
        ("-x", KEY_A, None, "INVALID_PEER_NAME"),
        ("a b", KEY_A, None, "INVALID_PEER_NAME"),
        ("ok", "ssh-ed25519 AAAA$(reboot)", None, "INVALID_PEER_KEY"),
        ("ok", KEY_A + '\ncommand="sh"', None, "INVALID_PEER_KEY"),
        ("ok", KEY_A, "10.64.0.9", "INVALID_PEER_IP"),
        ("ok", KEY_A, "10.64.0.1:10.64.0.x", "INVALID_PEER_IP"),
    ],
)
def test_bad_peers_are_refused(uci, name: str, key: str, ip: str | None,
                               code: str) -> None:
    with pytest.raises(ConfigError) as err:
        peers.add_peer(uci, name, key, ip)
    assert err.value.code == code
    assert peers.load_peers(uci) == []


def test_duplicates_are_refused(uci) -> None:
    peers.add_peer(uci, "a", KEY_A)
    for name, key, code in (("a", KEY_B, "PEER_EXISTS"), ("b", KEY_A, "DUPLICATE_KEY")):
        with pytest.raises(ConfigError) as err:
            peers.add_peer(uci, name, key)
        assert err.value.code == code
    with pytest.raises(ConfigError) as err:
        peers.add_peer(uci, "c", KEY_B, "10.64.0.1:10.64.0.2")
    assert err.value.code == "ADDRESS_IN_USE"


def test_forced_command_fixes_the_peers_addresses(uci) -> None:
    peer = peers.add_peer(uci, "branch-1", KEY_A, routes=("192.168.10.0/24",))
    server = peers.load_server(uci)
    block = render.managed_block("openssh", server, [peer])
    line = block.splitlines()[1]
    assert line == (
        f'restrict,pty,command="{TTY_CHOICE} /usr/sbin/pppd nodetach noauth'
        ' lcp-echo-interval 4 lcp-echo-failure 4 ipparam'
        ' pppossh-branch-1 10.64.0.1:10.64.0.2 ms-dns 192.0.2.53 ip-up-script'
        f' /etc/pppossh/peer-up $t" {KEY_A} pppossh-peer-branch-1'
    )
    dropbear = render.managed_block("dropbear", server, [peer]).splitlines()[1]
    assert dropbear.startswith("no-port-forwarding,no-agent-forwarding,no-X11-forwarding,"
                               f'command="{TTY_CHOICE} /usr/sbin/pppd ')


def test_only_the_managed_block_changes(uci, tmp_path: Path) -> None:
    target = tmp_path / "authorized_keys"
    target.write_text(f"# admin\n{KEY_B} admin@desk\n")
    target.chmod(0o600)
    peers.add_peer(uci, "a", KEY_A)
    first = setup.apply(uci)
    text = target.read_text()
    assert text.startswith(f"# admin\n{KEY_B} admin@desk\n{render.BEGIN}\n")
    assert text.endswith(f"{render.END}\n") and first.changed == [str(target)]
    assert setup.apply(uci).changed == [], "a second apply must change nothing"
    target.write_text(text + "ssh-rsa AAAAB3Nza later@admin\n")
    peers.del_peer(uci, "a")
    setup.apply(uci)
    after = target.read_text()
    assert "pppossh-peer-a" not in after and "later@admin" in after and "admin@desk" in after
    assert target.stat().st_mode & 0o777 == 0o600


def test_sudoers_arguments_are_escaped() -> None:
    assert setup._sudoers_args(["/usr/sbin/pppd", "10.64.0.1:10.64.0.2", "a,b=c"]) == (
        "/usr/sbin/pppd 10.64.0.1\\:10.64.0.2 a\\,b\\=c"
    )


def test_setup_script_is_valid_sh_and_matches_its_parts(uci, tmp_path: Path) -> None:
    peers.add_peer(uci, "a", KEY_A, routes=("192.168.10.0/24",))
    peers.add_peer(uci, "b", KEY_B)
    script = setup.setup_script(uci, "vpnpeers", masquerade=True)
    path = tmp_path / "setup.sh"
    path.write_text(script)
    for shell in (["sh", "-n"], ["busybox", "sh", "-n"]):
        subprocess.run([*shell, str(path)], check=True)
    assert "user=vpnpeers" in script
    for word in ("local", "notty"):  # the login shell adds the word of pppd's line
        sudo = ("vpnpeers ALL=(root) NOPASSWD: /usr/sbin/pppd nodetach noauth"
                " lcp-echo-interval 4 lcp-echo-failure 4 ipparam"
                " pppossh-a 10.64.0.1\\:10.64.0.2 ms-dns 192.0.2.53 ip-up-script"
                f" /etc/pppossh/peer-up {word}\n")
        assert sudo in script
    command = ("sudo -n /usr/sbin/pppd nodetach noauth"
               " lcp-echo-interval 4 lcp-echo-failure 4 ipparam pppossh-b"
               " 10.64.0.1:10.64.0.3 ms-dns 192.0.2.53")
    assert f'restrict,pty,command="{command}" {KEY_B} pppossh-peer-b' in script
    assert f"{shlex.quote(command)}) ;;" in script  # the login shell allows exactly that
    assert "ip route replace 192.168.10.0/24" in script


def test_setup_refuses_a_remote_pppd_sudo_cannot_pin(uci) -> None:
    uci.set("pppossh", "server", "remote_pppd", "sudo -n pppd")
    uci.commit("pppossh")
    with pytest.raises(ConfigError) as err:
        setup.setup_script(uci)
    assert err.value.code == "INVALID_REMOTE_PPPD"


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_hostile_peer_names_never_reach_the_files(name: str) -> None:
    try:
        peers.check_name(name)
    except ConfigError:
        return
    assert all(c.isalnum() or c in "_.-" for c in name) and name[0].isalnum()
    assert name.isascii()


def test_a_begin_marker_without_its_end_keeps_the_admins_lines() -> None:
    existing = f"{KEY_B} admin\n{render.BEGIN}\n{KEY_A} mine\nssh-rsa AAAA later\n"
    merged = render.merge_block(existing, f"{render.BEGIN}\nNEW\n{render.END}\n")
    assert merged == (f"{KEY_B} admin\n{KEY_A} mine\nssh-rsa AAAA later\n"
                      f"{render.BEGIN}\nNEW\n{render.END}\n")


@pytest.mark.parametrize("window, noted", [(None, True), ("65536", True), ("1048576", False),
                                           ("4194304", False), ("junk", True)])
def test_apply_notes_a_dropbear_window_that_caps_uploads(uci, tmp_path: Path,
                                                         window: str | None, noted: bool) -> None:
    """On an OpenWrt server (dropbear) apply says how to raise RecvWindowSize when it is below
    the 1 MiB that pppossh gives dbclient; it never changes dropbear's config itself."""
    uci.set("pppossh", "server", "sshd", "dropbear")
    uci.commit("pppossh")
    text = "config dropbear 'main'\n\toption Port '22'\n"
    if window is not None:
        text += f"\toption RecvWindowSize '{window}'\n"
    (tmp_path / "config" / "dropbear").write_text(text)
    peers.add_peer(uci, "a", KEY_A)
    notes = setup.apply(uci).notes
    if noted:
        assert len(notes) == 1 and "uci set dropbear.main.RecvWindowSize=1048576" in notes[0]
    else:
        assert notes == []
    assert (tmp_path / "config" / "dropbear").read_text() == text


def test_apply_says_nothing_of_windows_for_openssh(uci, tmp_path: Path) -> None:
    uci.set("pppossh", "server", "sshd", "openssh")
    uci.commit("pppossh")
    (tmp_path / "config" / "dropbear").write_text("config dropbear 'main'\n")
    peers.add_peer(uci, "a", KEY_A)
    assert setup.apply(uci).notes == []
