"""Issue 10, the server role: no value in /etc/config/pppossh (which a LuCI user holding this
app's ACL may write), no peer and no ``--user`` turns a peer key into a shell or root into a
writer of any file.

- item 4: ``remote_pppd`` is an absolute path to pppd, optionally behind exactly ``sudo -n``;
- item 5: ``authorized_keys`` is dropbear's, root's, or that of the account server-setup made,
  and no one but root can swap a link into its path;
- item 6: ``server-setup --user`` never takes over an account it did not make;
- item 10: ``peer add --ip`` refuses addresses that collide.

Each is refused by the functions the CLI and the rpcd plugin call, and by the plugin itself.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from pppossh.errors import ConfigError
from pppossh.server import paths, peers, setup
from pppossh.uci import open_uci

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "files/usr/libexec/rpcd/pppossh"
KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArewmMS5CsREYdKI4UPpFsPUFxea2kgxEjj5YSyYuuU"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGz+/hMemoN2+jdTwbfe9+GLeVzlHap36RhZgpT8ZWYk"
KEY_C = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9Wn0ThvTBAwAAFuJpSr0Hx5ViFvYnQvxxQXsfFRGEk"


def write_server(tmp_path: Path, **options: str) -> Path:
    confdir = tmp_path / "config"
    confdir.mkdir(exist_ok=True)
    options.setdefault("authorized_keys", str(tmp_path / "authorized_keys"))
    lines = "".join(f"\toption {k} '{v}'\n" for k, v in options.items())
    (confdir / "pppossh").write_text(f"config server 'server'\n{lines}\tlist dns '192.0.2.53'\n")
    return confdir


def uci_with(tmp_path: Path, **options: str):
    return open_uci(str(write_server(tmp_path, **options)), backend="file")


def plugin(confdir: Path, method: str, args: dict) -> dict:
    """The rpcd plugin as rpcd runs it (cwd /, the message on stdin)."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PPPOSSH_CONFDIR": str(confdir),
           "PPPOSSH_RUNDIR": str(confdir.parent / "run"),
           "PPPOSSH_KEYDIR": str(confdir.parent / "keys"), "PPPOSSH_UCI_BACKEND": "file",
           "PPPOSSH_NO_SYSLOG": "1"}
    out = subprocess.run([sys.executable, str(PLUGIN), "call", method],
                         input=json.dumps(args).encode(), capture_output=True, env=env, cwd="/",
                         check=True, timeout=60)
    return json.loads(out.stdout)


def cli(confdir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PPPOSSH_UCI_BACKEND": "file",
           "PPPOSSH_NO_SYSLOG": "1", "PYTHONPATH": str(REPO), "HOME": str(confdir.parent)}
    return subprocess.run([sys.executable, "-I", "-c",
                           f"import sys; sys.path.insert(0, {str(REPO)!r});"
                           "from pppossh.cli import main; sys.exit(main())",
                           "--confdir", str(confdir), *argv],
                          capture_output=True, text=True, env=env, cwd="/", timeout=60,
                          check=False)


# -- item 4: remote_pppd -----------------------------------------------------------------------

REFUSED_PPPD = [
    "/bin/sh -s", "/bin/sh", "sh", "pppd", "usr/sbin/pppd", "/usr/sbin/pppd2",
    "/usr/sbin/pppd -s", "/usr/sbin/pppd plugin /tmp/x.so", "/usr/sbin/pppd nodetach",
    "sudo /usr/sbin/pppd", "sudo -n pppd", "sudo -n /bin/sh", "sudo -n -u root /usr/sbin/pppd",
    "sudo -n -- /usr/sbin/pppd", "sudo -E -n /usr/sbin/pppd",
    "/usr/local/bin/sudo -n /usr/sbin/pppd",
    "/tmp/sudo -n /usr/sbin/pppd", "doas /usr/sbin/pppd", "env /usr/sbin/pppd",
    "/usr/sbin/../../bin/pppd", "/usr/sbin/./pppd", "/usr//sbin/pppd", "/usr/sbin/pppd/",
    "/usr/sbin/pppd\n", "/usr/sbin/pppd;sh", "/usr/sbin/pppd $(id)", "/usr/sbin/pp\u2028pd",
    "/usr/sbin/pppd\x00", "-x", "", "'/usr/sbin/pppd'", "/usr/sbin/pppd\u00a0", "/.x/pppd",
]


@pytest.mark.parametrize("value", REFUSED_PPPD)
def test_remote_pppd_is_only_an_absolute_pppd(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        paths.remote_pppd_argv(value)
    assert err.value.code == "INVALID_REMOTE_PPPD"
    assert "/usr/sbin/pppd" in err.value.message and "'sudo -n'" in err.value.message


@pytest.mark.parametrize("value,argv", [
    ("/usr/sbin/pppd", ("/usr/sbin/pppd",)),
    ("/usr/local/sbin/pppd", ("/usr/local/sbin/pppd",)),
    ("sudo -n /usr/sbin/pppd", ("sudo", "-n", "/usr/sbin/pppd")),
    ("/usr/bin/sudo -n /usr/local/sbin/pppd", ("/usr/bin/sudo", "-n", "/usr/local/sbin/pppd")),
    ("  sudo  -n\t/usr/sbin/pppd ", ("sudo", "-n", "/usr/sbin/pppd")),
    ("/opt/ppp-2.5.2/sbin/pppd", ("/opt/ppp-2.5.2/sbin/pppd",)),
])
def test_remote_pppd_allowed_forms(tmp_path: Path, value: str, argv: tuple[str, ...]) -> None:
    assert paths.remote_pppd_argv(value) == argv
    server = peers.load_server(uci_with(tmp_path, remote_pppd=value))
    assert server.pppd_argv == argv and server.remote_pppd == " ".join(argv)


def test_a_shell_as_remote_pppd_is_refused_by_add_apply_and_setup(tmp_path: Path) -> None:
    """Issue 10, item 4: '/bin/sh -s' made the forced command run what the peer sent."""
    uci = uci_with(tmp_path)
    peers.add_peer(uci, "a", KEY_A)
    uci.set("pppossh", "server", "remote_pppd", "/bin/sh -s")
    uci.commit("pppossh")
    config = (tmp_path / "config" / "pppossh").read_text()
    for call in (lambda: peers.add_peer(uci, "b", KEY_B), lambda: setup.apply(uci),
                 lambda: setup.setup_script(uci)):
        with pytest.raises(ConfigError) as err:
            call()
        assert err.value.code == "INVALID_REMOTE_PPPD"
    assert (tmp_path / "config" / "pppossh").read_text() == config
    assert not (tmp_path / "authorized_keys").exists()


def test_the_rpcd_plugin_and_the_cli_refuse_a_shell_as_remote_pppd(tmp_path: Path) -> None:
    confdir = write_server(tmp_path, remote_pppd="/bin/sh -s")
    added = plugin(confdir, "peer_add", {"name": "a", "key": KEY_A})
    assert added["error"] == "INVALID_REMOTE_PPPD", added
    applied = plugin(confdir, "peer_apply", {})
    assert applied["error"] == "INVALID_REMOTE_PPPD", applied
    for argv in (["peer", "add", "a", "--key", KEY_A], ["peer", "apply"],
                 ["server-setup", "--print"]):
        out = cli(confdir, *argv)
        assert out.returncode == 2 and "INVALID_REMOTE_PPPD" in out.stderr, (argv, out)
        assert "sudo -n /usr/sbin/pppd" in out.stderr
    assert not (tmp_path / "authorized_keys").exists()


def test_server_setup_takes_the_pppd_path_out_of_a_sudo_remote_pppd(tmp_path: Path) -> None:
    uci = uci_with(tmp_path, remote_pppd="/usr/bin/sudo -n /usr/local/sbin/pppd")
    peers.add_peer(uci, "a", KEY_A)
    script = setup.setup_script(uci, "vpnpeers")
    assert 'command="sudo -n /usr/local/sbin/pppd nodetach' in script
    assert "sudo -n /usr/bin/sudo" not in script and "sudo -n sudo" not in script


# -- item 5: authorized_keys -------------------------------------------------------------------

REFUSED_KEYS = [
    "/etc/passwd", "/etc/shadow", "/etc/sudoers", "/etc/sudoers.d/pppossh", "/etc/crontab",
    "/root/.ssh/authorized_keys2", "/root/.ssh/rc", "/root/.bashrc",
    "/etc/dropbear/dropbear_rsa_host_key",
    "/home/alice/.ssh/authorized_keys", "/var/lib/daemon/.ssh/authorized_keys",
    "/var/lib/pppossh/.ssh/authorized_keys",  # no such account here: server-setup makes it
    "/usr/sbin/.ssh/authorized_keys",  # daemon's home, not an account pppossh made
    "/tmp/authorized_keys", "/etc/config/authorized_keys", "/etc/authorized_keys",
    "/etc/dropbear/../passwd", "/etc/dropbear/./authorized_keys", "etc/dropbear/authorized_keys",
]


@pytest.mark.parametrize("target", REFUSED_KEYS)
def test_authorized_keys_is_only_a_login_key_file(target: str) -> None:
    with pytest.raises(ConfigError) as err:
        paths.allowed_authorized_keys(target, paths.SYSTEM_CONFDIR)
    assert err.value.code == "INVALID_AUTHORIZED_KEYS"
    assert "/etc/dropbear/authorized_keys" in err.value.message


@pytest.mark.parametrize("target", ["/etc/dropbear/authorized_keys", "/root/.ssh/authorized_keys"])
def test_dropbears_and_roots_files_are_allowed(target: str) -> None:
    assert paths.allowed_authorized_keys(target, paths.SYSTEM_CONFDIR) == target


def test_etc_passwd_is_refused_by_add_apply_the_plugin_and_the_cli(tmp_path: Path) -> None:
    """Issue 10, item 5: peer apply appended the block to any file, as root."""
    confdir = write_server(tmp_path, authorized_keys="/etc/passwd")
    uci = open_uci(str(confdir), backend="file")
    before = Path("/etc/passwd").read_bytes()
    for call in (lambda: peers.add_peer(uci, "a", KEY_A), lambda: setup.apply(uci)):
        with pytest.raises(ConfigError) as err:
            call()
        assert err.value.code == "INVALID_AUTHORIZED_KEYS"
    assert plugin(confdir, "peer_add", {"name": "a", "key": KEY_A})["error"] == \
        "INVALID_AUTHORIZED_KEYS"
    assert plugin(confdir, "peer_apply", {})["error"] == "INVALID_AUTHORIZED_KEYS"
    out = cli(confdir, "peer", "apply")
    assert out.returncode == 2 and "INVALID_AUTHORIZED_KEYS" in out.stderr, out
    assert Path("/etc/passwd").read_bytes() == before


def _fake_account(monkeypatch: pytest.MonkeyPatch, name: str, gecos: str, home: str,
                  uid: int = 998) -> None:
    real = pwd.getpwnam

    def getpwnam(user: str) -> pwd.struct_passwd:
        if user == name:
            return pwd.struct_passwd((name, "x", uid, uid, gecos, home, "/bin/sh"))
        return real(user)

    monkeypatch.setattr(pwd, "getpwnam", getpwnam)


def test_the_account_server_setup_made_may_hold_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    target = "/var/lib/vpnpeers/.ssh/authorized_keys"
    _fake_account(monkeypatch, "vpnpeers", "pppossh VPN peers", "/var/lib/vpnpeers")
    assert paths.allowed_authorized_keys(target) == target
    assert paths.is_account_keys(target)
    for gecos, home in (("Alice", "/var/lib/vpnpeers"), ("pppossh VPN peers", "/home/vpnpeers")):
        _fake_account(monkeypatch, "vpnpeers", gecos, home)
        with pytest.raises(ConfigError):
            paths.allowed_authorized_keys(target)
    _fake_account(monkeypatch, "vpnpeers", "pppossh VPN peers", "/var/lib/vpnpeers", uid=0)
    with pytest.raises(ConfigError):
        paths.allowed_authorized_keys(target)


def test_a_link_someone_else_placed_is_not_followed(tmp_path: Path) -> None:
    """A link to another file, owned by another user: apply must not write through it."""
    uci = uci_with(tmp_path)
    peers.add_peer(uci, "a", KEY_A)
    victim = tmp_path / "victim"
    victim.write_text("root:x:0:0::/root:/bin/sh\n")
    link = tmp_path / "authorized_keys"
    link.symlink_to(victim)
    os.lchown(link, 65534, 65534)
    with pytest.raises(ConfigError) as err:
        setup.apply(uci)
    assert err.value.code == "UNSAFE_PATH" and "uid 65534" in err.value.message
    assert victim.read_text() == "root:x:0:0::/root:/bin/sh\n"
    link.unlink()
    os.chmod(tmp_path, 0o777)  # a directory anyone may write (no sticky bit)
    try:
        with pytest.raises(ConfigError) as err:
            setup.apply(uci)
        assert err.value.code == "UNSAFE_PATH" and "chmod go-w" in err.value.message
    finally:
        os.chmod(tmp_path, 0o700)
    assert setup.apply(uci).changed == [str(link)]
    assert link.stat().st_mode & 0o777 == 0o600 and link.stat().st_uid == os.geteuid()


def test_the_default_is_dropbears_file_or_the_callers_own(tmp_path: Path) -> None:
    server = peers.load_server(open_uci(str(write_server(tmp_path, authorized_keys="")),
                                        backend="file"))
    home = pwd.getpwuid(os.geteuid()).pw_dir
    assert server.authorized_keys in ("/etc/dropbear/authorized_keys",
                                      f"{home}/.ssh/authorized_keys")


# -- item 6: server-setup --user ---------------------------------------------------------------

@pytest.mark.parametrize("user", [
    ".", "..", "root", "", "-x", "Foo", "a b", "a" * 32, "x\n", "d\u00e6mon", "a:b", "a/b",
    "1abc", "a.b", "$(id)", "a\u2028",
])
def test_server_setup_refuses_names_that_are_not_plain(tmp_path: Path, user: str) -> None:
    with pytest.raises(ConfigError) as err:
        setup.setup_script(uci_with(tmp_path), user)
    assert err.value.code == "INVALID_USER"


@pytest.mark.parametrize("user", ["daemon", "bin", "nobody", "sys"])
def test_server_setup_never_takes_over_an_existing_account(tmp_path: Path, user: str) -> None:
    """Issue 10, item 6: for an existing user the script replaced its shell and password."""
    try:
        pwd.getpwnam(user)
    except KeyError:
        pytest.skip(f"no account {user} here")
    with pytest.raises(ConfigError) as err:
        setup.setup_script(uci_with(tmp_path), user)
    assert err.value.code == "ACCOUNT_NOT_OURS" and "did not make it" in err.value.message


def test_server_setup_refuses_the_name_of_a_group(tmp_path: Path) -> None:
    import grp

    names = [g.gr_name for g in grp.getgrall() if not paths.account_exists(g.gr_name)
             and paths.USER.fullmatch(g.gr_name)]
    if not names:
        pytest.skip("every group here has its user")
    with pytest.raises(ConfigError) as err:
        setup.setup_script(uci_with(tmp_path), names[0])
    assert err.value.code == "ACCOUNT_NOT_OURS" and "group" in err.value.message


def test_server_setup_reruns_on_its_own_account(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_account(monkeypatch, "vpnpeers", "pppossh VPN peers", "/var/lib/vpnpeers")
    script = setup.setup_script(uci_with(tmp_path), "vpnpeers")
    assert "home=/var/lib/vpnpeers" in script and "--no-create-home" in script


def _script_run(tmp_path: Path, script: str, passwd: str, group: str = "") -> tuple[
        subprocess.CompletedProcess[str], list[str]]:
    """Run the set-up script with every program it calls replaced by one that logs its call:
    ``getent`` answers ``passwd``/``group``, ``id -u`` says 0; the first other program ends it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls"
    for tool in ("useradd", "visudo", "sudo", "awk", "usermod", "mkdir", "install", "mktemp",
                 "chmod", "chown", "mv", "cat", "stat", "sysctl", "nft", "iptables", "rm",
                 "dirname", "cmp"):
        (bindir / tool).write_text(f"#!/bin/sh\necho {tool} \"$@\" >>{log}\nexit 1\n")
    (bindir / "id").write_text("#!/bin/sh\necho 0\n")
    (bindir / "getent").write_text(
        "#!/bin/sh\ncase $1 in\npasswd) [ -n \"$PASSWD\" ] && echo \"$PASSWD\" ;;\n"
        "group) [ -n \"$GROUP\" ] && echo \"$GROUP\" ;;\nesac\n")
    for tool in ("cut", "wc", "printf"):
        os.symlink(f"/usr/bin/{tool}", bindir / tool)
    for tool in bindir.iterdir():
        tool.chmod(0o755)
    # 'command -v useradd' must find them: they exist; then step 1 calls dirname/mkdir
    path = tmp_path / "setup.sh"
    path.write_text(script)
    out = subprocess.run(["/bin/sh", str(path)], capture_output=True, text=True, timeout=30,
                         env={"PATH": str(bindir), "PASSWD": passwd, "GROUP": group},
                         check=False)
    calls = log.read_text().splitlines() if log.exists() else []
    return out, calls


@pytest.mark.parametrize("passwd,group", [
    ("vpnpeers:x:1001:1001:Alice,,,:/home/vpnpeers:/bin/bash", ""),
    ("vpnpeers:x:998:998:Alice:/var/lib/vpnpeers:/bin/sh", ""),
    ("vpnpeers:x:998:998:pppossh VPN peers:/home/vpnpeers:/bin/sh", ""),
    ("vpnpeers:x:0:0:pppossh VPN peers:/var/lib/vpnpeers:/bin/sh", ""),
    ("", "vpnpeers:x:1000:"),
])
def test_the_script_itself_refuses_an_account_it_did_not_make(
        tmp_path: Path, passwd: str, group: str) -> None:
    """The script may run where --print did not: it checks the account before any change."""
    script = setup.setup_script(uci_with(tmp_path), "vpnpeers")
    out, calls = _script_run(tmp_path, script, passwd, group)
    assert out.returncode == 1, out
    assert "nothing was changed" in out.stdout, out.stdout
    assert calls == [], f"it ran {calls} before refusing"


@pytest.mark.parametrize("passwd", ["", "vpnpeers:x:998:998:pppossh VPN peers,,,:/var/lib/vpnpeers:"
                                        "/usr/local/sbin/pppossh-login-shell"])
def test_the_script_goes_on_with_a_new_account_or_its_own(tmp_path: Path, passwd: str) -> None:
    script = setup.setup_script(uci_with(tmp_path), "vpnpeers")
    out, calls = _script_run(tmp_path, script, passwd)
    assert "nothing was changed" not in out.stdout, out.stdout
    assert calls and calls[0].startswith("dirname "), calls  # step 1 began


# -- item 10: peer addresses -------------------------------------------------------------------

@pytest.fixture
def two_peers(tmp_path: Path):
    uci = uci_with(tmp_path)
    peers.add_peer(uci, "a", KEY_A)  # 10.64.0.1:10.64.0.2
    peers.add_peer(uci, "b", KEY_B, "10.64.0.1:10.64.0.9")
    return uci


@pytest.mark.parametrize("ip,code,says", [
    ("10.64.0.5:10.64.0.5", "INVALID_PEER_IP", "both ends are 10.64.0.5"),
    ("10.64.0.1:10.64.0.1", "INVALID_PEER_IP", "both ends"),
    ("10.64.0.5:10.64.0.1", "ADDRESS_IN_USE", "server's own address"),
    ("10.64.0.1:10.64.0.2", "ADDRESS_IN_USE", "address of peer a"),
    ("10.64.0.1:10.64.0.9", "ADDRESS_IN_USE", "address of peer b"),
    ("10.64.0.2:10.64.0.7", "ADDRESS_IN_USE", "10.64.0.2 is already the address of peer a"),
    ("10.64.0.1:10.64.0.0", "INVALID_PEER_IP", "network address of the pool"),
    ("10.64.0.1:10.64.0.255", "INVALID_PEER_IP", "broadcast address of the pool"),
    ("10.64.0.255:10.64.0.7", "INVALID_PEER_IP", "broadcast address"),
    ("10.64.0.1:0.0.0.0", "INVALID_PEER_IP", "cannot be the peer's end"),
    ("10.64.0.1:127.0.0.1", "INVALID_PEER_IP", "cannot be"),
    ("10.64.0.1:224.0.0.1", "INVALID_PEER_IP", "cannot be"),
    ("10.64.0.1:255.255.255.255", "INVALID_PEER_IP", "cannot be"),
    ("169.254.0.1:10.64.0.7", "INVALID_PEER_IP", "cannot be the server's end"),
])
def test_peer_addresses_never_collide(two_peers, ip: str, code: str, says: str) -> None:
    """Issue 10, item 10: --ip took the server's own address and one address for both ends."""
    with pytest.raises(ConfigError) as err:
        peers.add_peer(two_peers, "c", KEY_C, ip)
    assert err.value.code == code and says in err.value.message, err.value.message
    if code == "ADDRESS_IN_USE":
        assert "leave out --ip to get the next free address (10.64.0.1:10.64.0.3)" in \
            err.value.message
    assert [p.name for p in peers.load_peers(two_peers)] == ["a", "b"]


@pytest.mark.parametrize("ip", ["10.64.0.1:10.64.0.7", "192.168.100.1:192.168.100.2",
                                "10.64.0.200:10.64.0.201"])
def test_free_addresses_are_taken(two_peers, ip: str) -> None:
    peer = peers.add_peer(two_peers, "c", KEY_C, ip)
    assert f"{peer.ipaddr}:{peer.peeraddr}" == ip


def test_apply_refuses_colliding_peers_written_by_hand(tmp_path: Path) -> None:
    confdir = write_server(tmp_path)
    with (confdir / "pppossh").open("a") as fh:
        for name, key in (("a", KEY_A), ("b", KEY_B)):
            fh.write(f"\nconfig peer\n\toption name '{name}'\n\toption key '{key}'\n"
                     "\toption ipaddr '10.64.0.1'\n\toption peeraddr '10.64.0.2'\n")
    uci = open_uci(str(confdir), backend="file")
    for call in (lambda: setup.apply(uci), lambda: setup.setup_script(uci)):
        with pytest.raises(ConfigError) as err:
            call()
        assert err.value.code == "ADDRESS_IN_USE" and "peer b" in err.value.message
    assert not (tmp_path / "authorized_keys").exists()


@pytest.mark.parametrize("route,says", [
    ("0.0.0.0/0", "default route"), ("::/0", "default route"), ("10.64.0.0/16", "overlaps"),
    ("10.64.0.128/25", "overlaps"), ("127.0.0.0/8", "not a network behind"),
    ("224.0.0.0/4", "not a network behind"),
])
def test_a_peer_cannot_take_the_servers_routes(tmp_path: Path, route: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        peers.add_peer(uci_with(tmp_path), "a", KEY_A, routes=(route,))
    assert err.value.code == "INVALID_ROUTE" and says in err.value.message


def test_apply_refuses_a_default_route_written_by_hand(tmp_path: Path) -> None:
    """A route peer add would refuse, written into UCI by hand, never reaches peer-up."""
    confdir = write_server(tmp_path)
    with (confdir / "pppossh").open("a") as fh:
        fh.write(f"\nconfig peer\n\toption name 'a'\n\toption key '{KEY_A}'\n"
                 "\toption ipaddr '10.64.0.1'\n\toption peeraddr '10.64.0.2'\n"
                 "\tlist route '0.0.0.0/0'\n")
    uci = open_uci(str(confdir), backend="file")
    for call in (lambda: setup.apply(uci), lambda: setup.setup_script(uci)):
        with pytest.raises(ConfigError) as err:
            call()
        assert err.value.code == "INVALID_ROUTE" and "default route" in err.value.message
    assert not (tmp_path / "authorized_keys").exists()


def test_apply_to_the_accounts_keys_writes_what_server_setup_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The account server-setup made accepts only 'sudo -n <pppd ...>' (its login shell and
    sudoers say so): peer apply on its file writes those lines, whatever remote_pppd says."""
    confdir = write_server(tmp_path, remote_pppd="/usr/sbin/pppd", sshd="dropbear")
    uci = open_uci(str(confdir), backend="file")
    peers.add_peer(uci, "a", KEY_A)
    monkeypatch.setattr(setup.paths, "is_account_keys", lambda path: True)
    setup.apply(uci)
    written = (tmp_path / "authorized_keys").read_text()
    assert ('restrict,pty,command="sudo -n /usr/sbin/pppd nodetach noauth'
            ' lcp-echo-interval 4 lcp-echo-failure 4 ipparam') in written
    from pppossh.server import render
    expected = render.managed_block("openssh", peers.load_server(uci), peers.load_peers(uci),
                                    sudo=True)
    assert expected in written
