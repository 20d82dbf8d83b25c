"""Tun peers (the routers' proto sshtun) on the server: units, key lines, the session script,
the account's devices and sshd's leave.

The test bed runs all of it against real sshd, tun devices and routers
(``tun_scenarios.sshtun_tun``); here: what goes into the files, that hostile values never get
there, and the device script's decisions, with ``ip`` and sysfs stood in for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_server import KEY_A, KEY_B
from test_server_security import uci_with

from pppossh.config import tun_session
from pppossh.errors import ConfigError
from pppossh.server import peers, render, setup
from pppossh.templates import render as render_template

KEY_C = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsX2d6QPq1RGk0b5oGz1Xo5mRFW4W7dYyWmq4kq5xq3"


@pytest.fixture
def uci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    sysnet = tmp_path / "sysnet"
    sysnet.mkdir()
    monkeypatch.setattr(peers, "SYSNET", str(sysnet))
    return uci_with(tmp_path)


def test_tun_peers_get_free_units_and_pool_addresses(uci, tmp_path: Path) -> None:
    (tmp_path / "sysnet" / "tun0").mkdir()  # an OpenVPN's tun0, say: not a peer's
    a = peers.add_peer(uci, "a", KEY_A, mode="tun", routes=("192.168.20.0/24",))
    b = peers.add_peer(uci, "b", KEY_B, mode="tun", unit="7")
    c = peers.add_peer(uci, "c", KEY_C)
    assert (a.device, a.ipaddr, a.peeraddr) == ("tun1", "10.64.0.1", "10.64.0.2")
    assert (b.device, c.device, c.mode) == ("tun7", "", "ppp")
    assert peers.load_peers(uci) == [a, b, c]
    text = (tmp_path / "config" / "pppossh").read_text()
    assert "option mode 'tun'" in text and "option unit '7'" in text


@pytest.mark.parametrize("mode,unit,code", [
    ("tape", None, "INVALID_PEER_MODE"),
    ("tun;reboot", None, "INVALID_PEER_MODE"),
    ("tun", "1;reboot", "INVALID_PEER_UNIT"),
    ("tun", "-1", "INVALID_PEER_UNIT"),
    ("tun", "256", "INVALID_PEER_UNIT"),
    ("tun", "1e2", "INVALID_PEER_UNIT"),
    ("tun", "\u0663", "INVALID_PEER_UNIT"),  # an Arabic-Indic three: a digit, not ours
    ("ppp", "3", "INVALID_PEER_UNIT"),  # a unit is for tun peers alone
])
def test_bad_modes_and_units_are_refused(uci, mode: str, unit: str | None, code: str) -> None:
    with pytest.raises(ConfigError) as err:
        peers.add_peer(uci, "a", KEY_A, mode=mode, unit=unit)
    assert err.value.code == code
    assert peers.load_peers(uci) == []


def test_a_unit_is_one_peers_alone(uci, tmp_path: Path) -> None:
    peers.add_peer(uci, "a", KEY_A, mode="tun", unit="2")
    with pytest.raises(ConfigError) as err:
        peers.add_peer(uci, "b", KEY_B, mode="tun", unit="2")
    assert err.value.code == "UNIT_IN_USE" and "peer a" in err.value.message
    # written by hand (or LuCI) into UCI: refused when the files are made
    conf = tmp_path / "config" / "pppossh"
    conf.write_text(conf.read_text() + f"\nconfig peer\n\toption name 'b'\n\toption key '{KEY_B}'"
                    "\n\toption ipaddr '10.64.0.1'\n\toption peeraddr '10.64.0.9'\n"
                    "\toption mode 'tun'\n\toption unit '2'\n")
    for make in (lambda: setup.apply(uci), lambda: setup.setup_script(uci)):
        with pytest.raises(ConfigError) as err:
            make()
        assert err.value.code == "UNIT_IN_USE"


@pytest.mark.parametrize("unit", ["2 -o ProxyCommand=x", "$(reboot)", "", "two"])
def test_a_hostile_unit_in_uci_is_refused(uci, tmp_path: Path, unit: str) -> None:
    conf = tmp_path / "config" / "pppossh"
    conf.write_text(conf.read_text() + f"\nconfig peer\n\toption name 'a'\n\toption key '{KEY_A}'"
                    "\n\toption ipaddr '10.64.0.1'\n\toption peeraddr '10.64.0.9'\n"
                    f"\toption mode 'tun'\n\toption unit '{unit}'\n")
    with pytest.raises(ConfigError) as err:
        setup.setup_script(uci)
    assert err.value.code == "INVALID_PEER_UNIT" and "peer a" in err.value.message


def test_a_tun_peers_key_opens_its_own_device_and_runs_the_session(uci) -> None:
    peer = peers.add_peer(uci, "a", KEY_A, mode="tun", unit="4")
    server = peers.load_server(uci)
    line = render.managed_block("openssh", server, [peer]).splitlines()[1]
    command = "/etc/pppossh/tun-session tun4 10.64.0.1 10.64.0.2 pppossh-a"
    assert line == f'restrict,tunnel="4",command="{command}" {KEY_A} pppossh-peer-a'
    # the same under the account: no sudo, no root at connect time
    account = render.managed_block("openssh", server, [peer], sudo=True).splitlines()[1]
    assert account == line
    with pytest.raises(ConfigError) as err:
        render.managed_block("dropbear", server, [peer])
    assert err.value.code == "TUN_NEEDS_OPENSSH"


def test_apply_installs_the_session_script_and_says_what_root_needs(uci, tmp_path: Path) -> None:
    peers.add_peer(uci, "a", KEY_A, mode="tun")
    script = tmp_path / "tun-session"
    done = setup.apply(uci, peer_up=str(tmp_path / "peer-up"), tun_script=str(script))
    assert str(script) in done.changed and script.read_text() == tun_session.file_text()
    assert os.access(script, os.X_OK)
    assert any("PermitTunnel" in note for note in done.notes), done.notes
    again = setup.apply(uci, peer_up=str(tmp_path / "peer-up"), tun_script=str(script))
    assert again.changed == []


def test_apply_refuses_tun_peers_on_dropbear(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(peers, "SYSNET", str(tmp_path))
    uci = uci_with(tmp_path, sshd="dropbear")
    peers.add_peer(uci, "a", KEY_A, mode="tun")
    with pytest.raises(ConfigError) as err:
        setup.apply(uci, peer_up=str(tmp_path / "peer-up"), tun_script=str(tmp_path / "t"))
    assert err.value.code == "TUN_NEEDS_OPENSSH"
    assert not (tmp_path / "authorized_keys").exists()


def _login_shell(tmp_path: Path, uci) -> Path:
    """The account's login shell from the set-up script, its tun session pointing at a stand-in
    that prints its arguments."""
    script = setup.setup_script(uci)
    text = script.split('"$login_shell" <<\'PPPOSSH_END_OF_FILE\'\n', 1)[1]
    text = text.split("PPPOSSH_END_OF_FILE", 1)[0]
    session = tmp_path / "session"
    session.write_text('#!/bin/sh\necho "session $*"\n')
    session.chmod(0o755)
    shell = tmp_path / "login-shell"
    shell.write_text(text.replace(render.TUN_SESSION, str(session)))
    return shell


@pytest.mark.parametrize("command,ran", [
    ("{session} tun3 10.64.0.1 10.64.0.2 pppossh-a", "session tun3 10.64.0.1 10.64.0.2"
                                                      " pppossh-a"),
    ("{session} tun4 10.64.0.1 10.64.0.2 pppossh-a", None),  # another unit
    ("{session} tun3 10.64.0.1 10.64.0.2 pppossh-a; id", None),
    ("{session} tun3 10.64.0.1 10.64.0.2 pppossh-a *", None),
    ("/bin/sh", None),
])
def test_the_login_shell_runs_a_tun_peers_session_and_nothing_else(
        uci, tmp_path: Path, command: str, ran: str | None) -> None:
    peers.add_peer(uci, "a", KEY_A, mode="tun", unit="3")
    peers.add_peer(uci, "b", KEY_B)
    shell = _login_shell(tmp_path, uci)
    out = subprocess.run(["/bin/sh", str(shell), "-c",
                          command.format(session=tmp_path / "session")],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    if ran:
        assert (out.returncode, out.stdout) == (0, ran + "\n"), out
    else:
        assert out.returncode == 1 and "not one a peer may run" in out.stderr, out
        assert "session" not in out.stdout


def test_the_set_up_script_serves_tun_peers_without_sudo(uci) -> None:
    peers.add_peer(uci, "a", KEY_A, mode="tun", unit="3", routes=("192.168.20.0/24",))
    peers.add_peer(uci, "b", KEY_B)
    script = setup.setup_script(uci)
    assert subprocess.run(["/bin/sh", "-n"], input=script, text=True).returncode == 0
    sudoers = script.split("# Written by 'pppossh server-setup': the pppossh account may")[1]
    sudoers = sudoers.split("PPPOSSH_END_OF_FILE")[0]
    assert "tun-session" not in sudoers and "pppossh-b" in sudoers
    assert "Match User pppossh\n\tPermitTunnel point-to-point\n" in script
    assert "device tun tun3 10.64.0.1 10.64.0.2 '' '' a '' 192.168.20.0/24\n" in script
    assert 'ExecStart=/etc/pppossh/tun-devices\n' in script
    assert "removed what tun peers needed" not in script
    peers.del_peer(uci, "a")
    gone = setup.setup_script(uci)
    assert "removed what tun peers needed" in gone and "\ndevice " not in gone


def test_the_boot_unit_is_one_systemd_accepts(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    script = tmp_path / "tun-devices"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    unit = tmp_path / "pppossh-tun-devices.service"
    unit.write_text(render_template("tun-devices.service.j2", user="pppossh",
                                    script=str(script)))
    out = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                         timeout=60)
    problems = [line for line in (out.stdout + out.stderr).splitlines()
                if "pppossh-tun-devices" in line]
    assert out.returncode == 0 and not problems, out.stdout + out.stderr


# -- the device script, with 'ip' and sysfs stood in for ------------------------------------

IP_STANDIN = """#!/bin/sh
echo "ip $*" >>"$LOG"
case "$1 $2" in
"tuntap add") mkdir -p "$NET/$4" && echo "$UID_OF_USER" >"$NET/$4/owner" ;;
"link del") rm -rf "$NET/$3" ;;
"-o -4") cat "$NET/$6/addr" 2>/dev/null ;;
esac
exit 0
"""


def _devices(tmp_path: Path, uci) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    script = setup.setup_script(uci, "vpnpeers")
    text = script.split("install_file 0755 \"$tun_devices\" <<'PPPOSSH_END_OF_FILE'\n")[1]
    text = text.split("PPPOSSH_END_OF_FILE")[0]
    net, bindir, log = tmp_path / "net", tmp_path / "bin", tmp_path / "ip.log"
    net.mkdir(exist_ok=True)
    bindir.mkdir(exist_ok=True)
    (bindir / "ip").write_text(IP_STANDIN)
    (bindir / "id").write_text("#!/bin/sh\necho 990\n")
    for tool in bindir.iterdir():
        tool.chmod(0o755)
    path = tmp_path / "tun-devices"
    path.write_text(text.replace("net=/sys/class/net", f"net={net}"))
    log.unlink(missing_ok=True)
    out = subprocess.run(["/bin/sh", str(path)], capture_output=True, text=True, timeout=30,
                         env={"PATH": f"{bindir}:/usr/bin:/bin", "LOG": str(log),
                              "NET": str(net), "UID_OF_USER": "990"})
    return out, log.read_text().splitlines() if log.exists() else []


def test_the_device_script_makes_keeps_and_removes_only_the_accounts_devices(
        uci, tmp_path: Path) -> None:
    peers.add_peer(uci, "a", KEY_A, mode="tun", unit="3", routes=("192.168.20.0/24",))
    peers.add_peer(uci, "b", KEY_B, mode="tun", unit="5")
    net = tmp_path / "net"
    for dev, owner in (("tun9", "990"), ("tun8", "0")):  # an old peer's; root's OpenVPN
        (net / dev).mkdir(parents=True)
        (net / dev / "owner").write_text(owner + "\n")
    out, calls = _devices(tmp_path, uci)
    assert out.returncode == 0, out
    assert "ip tuntap add dev tun3 mode tun user vpnpeers" in calls
    assert "ip addr add 10.64.0.1 peer 10.64.0.2 dev tun3" in calls
    assert "ip route replace 192.168.20.0/24 dev tun3" in calls
    assert "ip link set tun3 up txqueuelen 3" in calls  # as a PPP device's, not 500
    assert "ip addr add 10.64.0.1 peer 10.64.0.3 dev tun5" in calls
    assert "ip link del tun9" in calls and not any("tun8" in c for c in calls)
    assert "made tun3 for peer a" in out.stdout and "removed tun9" in out.stdout
    # again, the addresses in place: nothing is made or re-addressed, the links stay up
    for dev, peer in (("tun3", "10.64.0.2"), ("tun5", "10.64.0.3")):
        (net / dev / "addr").write_text(  # as 'ip -o -4 addr show dev' prints it
            f"4: {dev}    inet 10.64.0.1 peer {peer}/32 scope global {dev}\\"
            "       valid_lft forever preferred_lft forever\n")
    out, calls = _devices(tmp_path, uci)
    assert out.returncode == 0 and out.stdout == "", out
    assert not [c for c in calls if c.startswith(("ip tuntap", "ip addr add", "ip addr flush",
                                                  "ip link del"))], calls


def test_the_device_script_never_takes_a_device_it_does_not_own(uci, tmp_path: Path) -> None:
    peers.add_peer(uci, "a", KEY_A, mode="tun", unit="3")
    (tmp_path / "net" / "tun3").mkdir(parents=True)
    (tmp_path / "net" / "tun3" / "owner").write_text("-1\n")
    out, calls = _devices(tmp_path, uci)
    assert out.returncode == 1 and "give peer a another unit" in out.stderr, out
    assert not [c for c in calls if "tun3" in c and not c.startswith("ip -o")], calls


def test_sshd_gives_tunnels_to_the_account_alone(tmp_path: Path) -> None:
    """The real sshd reads the drop-in as Debian's sshd_config includes it, at the top: its
    Match block gives the account tunnels and takes forwarding away, and ends with the file
    (root and everyone else keep the main file's settings)."""
    sshd = shutil.which("sshd", path="/usr/sbin:/usr/bin")
    if not sshd:
        pytest.skip("OpenSSH's sshd is not installed")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "pppossh.conf").write_text(
        render_template("sshd-tun.conf.j2", user="pppossh", permit_tunnel="point-to-point"))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "hk")],
                   check=True, timeout=30)
    config = tmp_path / "sshd_config"
    config.write_text(f"Include {tmp_path}/d/*.conf\nHostKey {tmp_path}/hk\n"
                      "X11Forwarding yes\nAllowTcpForwarding yes\n")
    made = not os.path.isdir("/run/sshd")  # sshd -T wants its privilege separation directory
    if made:
        os.makedirs("/run/sshd", mode=0o755)
    try:
        seen = {}
        for user in ("pppossh", "root", "alice"):
            out = subprocess.run([sshd, "-T", "-f", str(config), "-C",
                                  f"user={user},host=router,addr=192.0.2.1"],
                                 capture_output=True, text=True, timeout=30, check=True).stdout
            seen[user] = {k: v for k, _, v in (line.partition(" ") for line in out.splitlines())}
    finally:
        if made:
            os.rmdir("/run/sshd")
    assert {k: seen["pppossh"][k] for k in ("permittunnel", "allowtcpforwarding",
                                            "x11forwarding", "clientaliveinterval")} == {
        "permittunnel": "point-to-point", "allowtcpforwarding": "no", "x11forwarding": "no",
        "clientaliveinterval": "3"}
    for user in ("root", "alice"):
        assert (seen[user]["permittunnel"], seen[user]["x11forwarding"],
                seen[user]["allowtcpforwarding"]) == ("no", "yes", "yes"), user


# -- tap peers --------------------------------------------------------------------------------

def test_tap_peers_share_the_units_and_a_bridged_one_has_no_addresses(uci, tmp_path) -> None:
    """A tap peer in a bridge takes no pool address and no route; tun and tap peers draw on
    one range of units (a key's tunnel="N" names a unit, whichever kind it asks for)."""
    (tmp_path / "sysnet" / "tap0").mkdir()  # a device of the server's own
    a = peers.add_peer(uci, "a", KEY_A, mode="tap", bridge="br-peers")
    b = peers.add_peer(uci, "b", KEY_B, mode="tun")
    c = peers.add_peer(uci, "c", KEY_C, mode="tap")
    assert (a.device, a.ipaddr, a.peeraddr, a.bridge) == ("tap1", "", "", "br-peers")
    assert (b.device, b.ipaddr, b.peeraddr) == ("tun2", "10.64.0.1", "10.64.0.2")
    assert (c.device, c.peeraddr, c.bridge) == ("tap3", "10.64.0.3", "")
    assert peers.load_peers(uci) == [a, b, c]
    with pytest.raises(ConfigError) as err:
        peers.add_peer(uci, "d", KEY_C.replace("q3", "q4"), mode="tun", unit="1")
    assert err.value.code == "UNIT_IN_USE" and "peer a" in err.value.message
    text = (tmp_path / "config" / "pppossh").read_text()
    assert "option bridge 'br-peers'" in text


@pytest.mark.parametrize("kwargs,code", [
    ({"mode": "tun", "bridge": "br0"}, "INVALID_PEER_BRIDGE"),
    ({"mode": "tap", "bridge": "br0;reboot"}, "INVALID_PEER_BRIDGE"),
    ({"mode": "tap", "bridge": "-br0"}, "INVALID_PEER_BRIDGE"),
    ({"mode": "tap", "bridge": "br0", "ip": "10.64.0.1:10.64.0.9"}, "INVALID_PEER_BRIDGE"),
    ({"mode": "tap", "bridge": "br0", "routes": ("192.168.9.0/24",)}, "INVALID_PEER_BRIDGE"),
])
def test_bad_bridges_are_refused(uci, kwargs, code: str) -> None:
    with pytest.raises(ConfigError) as err:
        peers.add_peer(uci, "a", KEY_A, **kwargs)
    assert err.value.code == code and "--bridge" in err.value.message
    assert peers.load_peers(uci) == []


def test_a_hostile_bridge_in_uci_is_refused(uci, tmp_path: Path) -> None:
    conf = tmp_path / "config" / "pppossh"
    conf.write_text(conf.read_text() + f"\nconfig peer\n\toption name 'a'\n\toption key '{KEY_A}'"
                    "\n\toption mode 'tap'\n\toption unit '1'\n\toption bridge 'br0 up; id'\n")
    with pytest.raises(ConfigError) as err:
        setup.setup_script(uci)
    assert err.value.code == "INVALID_PEER_BRIDGE" and "peer a" in err.value.message


def test_a_bridged_tap_peers_key_and_session(uci, tmp_path: Path) -> None:
    """The key opens its own unit; the session gets '-' for the addresses it has not got,
    and the login shell runs exactly that line."""
    peer = peers.add_peer(uci, "a", KEY_A, mode="tap", unit="6", bridge="br0")
    line = render.managed_block("openssh", peers.load_server(uci), [peer]).splitlines()[1]
    command = "/etc/pppossh/tun-session tap6 - - pppossh-a"
    assert line == f'restrict,tunnel="6",command="{command}" {KEY_A} pppossh-peer-a'
    shell = _login_shell(tmp_path, uci)
    out = subprocess.run(["/bin/sh", str(shell), "-c",
                          command.replace(render.TUN_SESSION, str(tmp_path / "session"))],
                         capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert (out.returncode, out.stdout) == (0, "session tap6 - - pppossh-a\n"), out


@pytest.mark.parametrize("modes,permit", [(("tun",), "point-to-point"), (("tap",), "ethernet"),
                                          (("tun", "tap"), "yes")])
def test_sshd_permits_the_kinds_of_device_the_peers_have(uci, modes, permit: str) -> None:
    for name, key, mode in zip("ab", (KEY_A, KEY_B), modes, strict=False):
        peers.add_peer(uci, name, key, mode=mode)
    script = setup.setup_script(uci)
    assert f"Match User pppossh\n\tPermitTunnel {permit}\n" in script
    assert f'grep -qx "permittunnel {permit}"' in script


def test_the_device_script_puts_a_bridged_tap_into_its_bridge(uci, tmp_path: Path) -> None:
    peers.add_peer(uci, "a", KEY_A, mode="tap", unit="2", bridge="br0")
    peers.add_peer(uci, "b", KEY_B, mode="tap", unit="4", routes=("192.168.40.0/24",))
    (tmp_path / "net" / "br0" / "bridge").mkdir(parents=True)
    out, calls = _devices(tmp_path, uci)
    assert out.returncode == 0, out
    assert "ip tuntap add dev tap2 mode tap user vpnpeers" in calls
    assert "ip link set tap2 master br0" in calls
    assert not [c for c in calls if c.startswith("ip addr") and "tap2" in c]
    assert "ip addr add 10.64.0.1 peer 10.64.0.2 dev tap4" in calls
    # Ethernet: the network behind the peer via its address, not asked for with ARP
    assert "ip route replace 192.168.40.0/24 via 10.64.0.2 dev tap4" in calls
    assert "tap2 is in bridge br0" in out.stdout
    # a bridge that is not there: said, and the script fails
    peers.add_peer(uci, "c", KEY_C, mode="tap", unit="5", bridge="br9")
    out, calls = _devices(tmp_path, uci)
    assert out.returncode == 1 and "peer c's bridge br9 does not exist" in out.stderr, out


def test_routes_behind_a_tap_peer_go_via_its_address(uci) -> None:
    """peer-up (root's session script, pppd's ip-up-script): a tun peer's routes through the
    device, a tap peer's via the peer's address."""
    peers.add_peer(uci, "a", KEY_A, mode="tun", routes=("192.168.30.0/24",))
    peers.add_peer(uci, "b", KEY_B, mode="tap", routes=("192.168.40.0/24",))
    text = render.peer_up_script(peers.load_peers(uci))
    assert 'ip route replace 192.168.30.0/24 dev "$1"' in text
    assert 'ip route replace 192.168.40.0/24 via 10.64.0.3 dev "$1"' in text


def test_pool6_gives_tun_and_routed_tap_peers_an_ipv6_end(uci, tmp_path: Path) -> None:
    """With pppossh.server.pool6 the server is the prefix's first address on every link and
    each tun or routed tap peer gets its own; a bridged tap and a ppp peer get none.  The
    device script puts the server's end on the device and a host route to the peer's."""
    uci = uci_with(tmp_path, pool6="2001:db8:64::/64")
    a = peers.add_peer(uci, "a", KEY_A, mode="tun", unit="3")
    b = peers.add_peer(uci, "b", KEY_B, mode="tap", unit="4", bridge="br0")
    c = peers.add_peer(uci, "c", KEY_C, mode="tap", unit="5")
    assert (a.ip6addr, a.peer6addr) == ("2001:db8:64::1", "2001:db8:64::2")
    assert (b.ip6addr, c.peer6addr) == ("", "2001:db8:64::3")
    line = render.managed_block("openssh", peers.load_server(uci), [a]).splitlines()[1]
    assert 'command="/etc/pppossh/tun-session tun3 10.64.0.1 10.64.0.2 pppossh-a' \
        ' 2001:db8:64::1/64"' in line
    assert peers.load_peers(uci) == [a, b, c]
    (tmp_path / "net" / "br0" / "bridge").mkdir(parents=True)
    out, calls = _devices(tmp_path, uci)
    assert out.returncode == 0, out
    assert "ip -6 addr replace 2001:db8:64::1/128 dev tun3" in calls
    assert "ip -6 route replace 2001:db8:64::2/128 dev tun3" in calls
    assert "ip -6 route replace 2001:db8:64::3/128 dev tap5" in calls
    assert not [c for c in calls if c.startswith("ip -6") and "tap4" in c]


@pytest.mark.parametrize("pool6", ["2001:db8::/32", "2001:db8::/121", "10.0.0.0/24",
                                   "ff02::/64", "2001:db8::/64;reboot"])
def test_a_bad_pool6_is_refused(uci, tmp_path: Path, pool6: str) -> None:
    uci = uci_with(tmp_path, pool6=pool6)
    with pytest.raises(ConfigError) as err:
        peers.add_peer(uci, "a", KEY_A, mode="tun")
    assert err.value.code == "INVALID_POOL6"
