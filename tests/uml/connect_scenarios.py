"""``pppossh connect``/``disconnect`` in the test bed (issue 15), one guest for all of it.

- ``connect_oneline``: ``pppossh connect --yes -D root@203.0.113.1 default`` pins the
  unknown key on first use, brings up PPP with the default route through it (the server
  pinned via the uplink), the server's DNS in /etc/resolv.conf; ping and iperf3 pass;
  ``disconnect --all`` leaves the routes and /etc/resolv.conf exactly as they were, also
  after the supervisor and pppd were killed (no hook ran: the resolver's record restores
  it). A server that assigns the addresses wins over connect's random ones. ``-t tun`` does
  the same over OpenSSH's tun device. Then a connection through a jump host: ``far`` runs
  dropbear and sshd and is reached only through ``server``; dbclient's multi-hop and
  OpenSSH's ``-J`` each come up with both host keys pinned, the route pin goes to the first
  hop, and ``pppossh check`` passes every step through the jump host; under netifd too, with
  the host dependency on the first hop. ``save`` keeps the tun connection as interface
  ``office``, which runs as pppossh@office.service would: ``pppossh supervise office`` in
  the foreground, ended by SIGTERM with everything removed; a broken section exits 2 (no
  restart).
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import subprocess
from pathlib import Path

from bed import (
    DROPBEAR_PORT,
    FAR,
    FAR_IP,
    PPPOSSH,
    ROUTER,
    SSH_IP,
    SSHD_PORT,
    VENV_BIN,
    Bed,
    sh,
    step,
    wait_for,
)

RESOLV = Path("/etc/resolv.conf")
PEER_DNS = "192.0.2.53"


def _snapshot() -> dict[str, object]:
    """What disconnect must give back exactly: the router's routes, the resolver file."""
    return {"routes4": sh(["ip", "-4", "route", "show", "table", "all"], ns=ROUTER).stdout,
            "routes6": sh(["ip", "-6", "route", "show"], ns=ROUTER, check=False).stdout,
            "resolv": RESOLV.read_bytes() if RESOLV.exists() else None,
            "resolv_link": os.readlink(RESOLV) if RESOLV.is_symlink() else None}


def _pings(target: str) -> bool:
    return sh(["ping", "-c1", "-W1", target], ns=ROUTER, check=False, timeout=5).returncode == 0


def _connect(bed: Bed, *args: str) -> tuple[str, dict]:
    out = bed.pppossh("connect", "--yes", *args, timeout=120)
    assert out.returncode == 0, f"connect {args} failed:\n{out.stdout}{out.stderr}"
    name = re.search(r"pppossh disconnect (\w+)", out.stdout)[1]
    step(f"connect {' '.join(args)}:\n{out.stdout.strip()}")
    return name, bed.status(name)


def _disconnect_all(bed: Bed, before: dict) -> str:
    out = bed.pppossh("disconnect", "--all")
    assert out.returncode == 0, out.stdout + out.stderr
    after = _snapshot()
    for key, value in before.items():
        assert after[key] == value, f"disconnect --all left {key} changed:\n{after[key]!r}\n" \
            f"before:\n{value!r}"
    return out.stdout.strip()


def _far_servers(bed: Bed) -> dict[str, str]:
    """dropbear (22) and sshd (2222) in ``far``, with host keys of their own."""
    keys = bed.root / "far-keys"
    keys.mkdir(mode=0o700)
    sh(["dropbearkey", "-t", "ed25519", "-f", str(keys / "dropbear_host")])
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / "openssh_host")])
    pid = bed.root / "far-dropbear.pid"
    sh(f"dropbear -r {keys / 'dropbear_host'} -p {FAR_IP}:{DROPBEAR_PORT} -s -P {pid} -E"
       f" >>{bed.root / 'far-dropbear.log'} 2>&1", ns=FAR)
    bed.started.append(int(wait_for(lambda: pid.exists() and pid.read_text().strip(), 10,
                                    "far's dropbear")))
    cfg = bed.root / "far_sshd_config"
    cfg.write_text(f"Port {SSHD_PORT}\nListenAddress {FAR_IP}\nHostKey {keys / 'openssh_host'}\n"
                   f"PidFile {bed.root / 'far-sshd.pid'}\nPermitRootLogin prohibit-password\n"
                   "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n")
    sh(f"/usr/sbin/sshd -f {cfg} -E {bed.root / 'far-sshd.log'}", ns=FAR)
    bed.started.append(int(wait_for(lambda: (bed.root / "far-sshd.pid").exists()
                                    and (bed.root / "far-sshd.pid").read_text().strip(), 10,
                                    "far's sshd")))
    return {"dbclient": bed.dropbear_pub(keys / "dropbear_host"),
            "openssh": " ".join((keys / "openssh_host.pub").read_text().split()[:2])}


def _foreground(bed: Bed, before: dict) -> dict:
    """The saved connection as pppossh@office.service runs it: ``pppossh supervise office``
    in the foreground (its ExecStart), stopped by SIGTERM as ``systemctl stop`` does."""
    section = (bed.confdir / "network").read_text()
    assert "config interface 'office'" in section and "option proto 'sshtun'" in section
    env = {"PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
           "PPPOSSH_UCI_BACKEND": "file", "PPPOSSH_NO_SYSLOG": "1"}
    argv = ["ip", "netns", "exec", ROUTER, PPPOSSH, "--confdir", str(bed.confdir), "--rundir",
            str(bed.rundir), "supervise", "office"]
    log = open(bed.root / "foreground.log", "wb")  # noqa: SIM115  (closed below)
    supervisor = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: bed.status("office")["up"], 30, "the foreground supervisor's link")
        wait_for(lambda: _pings("10.77.0.1"), 15, "a ping through the saved connection")
        second = bed.pppossh("supervise", "office")
        assert second.returncode == 2 and "ALREADY_UP" in second.stderr, second.stderr
        supervisor.send_signal(signal.SIGTERM)
        status = supervisor.wait(30)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        log.close()
    assert status == 0, (bed.root / "foreground.log").read_text()[-2000:]
    after = _snapshot()
    assert after["routes4"] == before["routes4"], after["routes4"]
    assert not bed.leftovers("office"), bed.leftovers("office")
    bad = bed.write_network({"broken": {"proto": "pppossh", "server": "-x", "sshuser": "r"}})
    wrong = bed.pppossh("supervise", "broken")
    assert wrong.returncode == 2, f"{bad}\n{wrong.stderr}"  # RestartPreventExitStatus=2
    return {"stopped_with": status, "bad_config_exit": wrong.returncode}


def connect_oneline(bed: Bed) -> dict:
    bed.network()
    keys = bed.keys()
    bed.authorize(keys.client_dropbear_pub, keys.client_openssh_pub)
    bed.start_dropbear(keys)
    bed.start_sshd(keys, extra="PermitTunnel yes\n")
    bed.start_iperf()
    metrics: dict[str, object] = {}
    before = _snapshot()
    assert before["resolv"] is None or PEER_DNS.encode() not in before["resolv"]

    step("pvpn's line: connect --yes -D root@203.0.113.1 default")
    name, status = _connect(bed, "-D", "-k", str(keys.client_dropbear), "-o",
                            f"peer_pppd_options=ms-dns {PEER_DNS}", f"root@{SSH_IP}", "default")
    assert status["up"] and status["transport"] == "dbclient", status
    section = (bed.rundir / "connect" / "network").read_text()
    assert keys.dropbear_host_pub in section, f"the key was not pinned:\n{section}"
    assert not (bed.confdir / "network").exists(), "connect wrote into the configuration"
    routes = sh(["ip", "route"], ns=ROUTER).stdout
    device = status["device"]
    for line in ("0.0.0.0/1 dev " + device, "128.0.0.0/1 dev " + device, f"{SSH_IP} via"):
        assert line in routes, f"no '{line}' in:\n{routes}"
    local = ipaddress.IPv4Address(status["local"])
    assert local in ipaddress.IPv4Network("10.0.0.0/8"), status
    assert f"nameserver {PEER_DNS}" in RESOLV.read_text(), RESOLV.read_text()
    far = sh(["ping", "-c", "5", "-i", "0.2", "-W", "2", FAR_IP], ns=ROUTER, timeout=20).stdout
    assert " 0% packet loss" in far, far
    mbit = bed.iperf(status["remote"], seconds=3)
    assert mbit > 0.5, f"iperf3 gave {mbit} Mbit/s"
    metrics.update(ppp_mbit=mbit, addresses=f"{status['local']}:{status['remote']}")
    step(f"ping far through the default route, iperf3 {mbit} Mbit/s; disconnect --all")
    metrics["disconnect"] = _disconnect_all(bed, before)
    assert not bed.leftovers(name), bed.leftovers(name)

    step("again, then kill -9 the supervisor and pppd (no ip-down hook runs):"
         " disconnect --all still restores everything")
    # this time the server's pppd assigns both addresses: they win over the random ones
    name, status = _connect(bed, "-D", "-k", str(keys.client_dropbear), "-o",
                            f"peer_pppd_options=ms-dns {PEER_DNS} 10.55.0.1:10.55.0.2",
                            f"root@{SSH_IP}", "default")
    assert (status["local"], status["remote"]) == ("10.55.0.2", "10.55.0.1"), status
    assert f"nameserver {PEER_DNS}" in RESOLV.read_text()
    os.kill(int(status["supervisor_pid"]), signal.SIGKILL)
    os.kill(int(status["pppd_pid"]), signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{status['pppd_pid']}/cmdline").read_bytes()
             if Path(f"/proc/{status['pppd_pid']}").exists() else True, 10, "pppd to die")
    assert f"nameserver {PEER_DNS}" in RESOLV.read_text(), "the crash restored DNS itself"
    metrics["after_crash"] = _disconnect_all(bed, before)
    assert "DNS servers (restored /etc/resolv.conf)" in metrics["after_crash"], \
        metrics["after_crash"]

    step("-t tun: OpenSSH's tun device, addresses given, a route instead of the default")
    name, status = _connect(bed, "-t", "tun", "-i", "10.77.0.2:10.77.0.1", "-k",
                            str(keys.client_openssh), f"root@{SSH_IP}:{SSHD_PORT}",
                            "198.51.100.0/24")
    assert status["up"] and status["device"].startswith("tun"), status
    wait_for(lambda: _pings("10.77.0.1"), 15, "a ping through the tun link")
    wait_for(lambda: _pings(FAR_IP), 15, "far through the tun link")
    metrics["tun_mbit"] = bed.iperf("10.77.0.1", seconds=3)
    saved = bed.pppossh("save", name, "--as", "office")
    assert saved.returncode == 0, saved.stdout + saved.stderr
    _disconnect_all(bed, before)
    metrics["foreground"] = _foreground(bed, before)

    far_keys = _far_servers(bed)
    for client, port, key in (("dbclient", DROPBEAR_PORT, keys.client_dropbear),
                              ("openssh", SSHD_PORT, keys.client_openssh)):
        step(f"through a jump host ({client}): server {SSH_IP} to far {FAR_IP}")
        assert not _pings(FAR_IP), "far answers without a tunnel: the jump proves nothing"
        name, status = _connect(bed, "-J", f"root@{SSH_IP}:{port}", "-k", str(key), "-o",
                                f"ssh_client={client}", f"root@{FAR_IP}:{port}", "default")
        section = (bed.rundir / "connect" / "network").read_text()
        hop_key = keys.dropbear_host_pub if client == "dbclient" else keys.openssh_host_pub
        token = SSH_IP if port == 22 else f"[{SSH_IP}]:{port}"
        assert f"{token} {hop_key}" in section, f"jump host key not pinned:\n{section}"
        assert far_keys[client] in section, f"far's key not pinned:\n{section}"
        pins = [p["address"] for p in bed.state(name).get("host_routes", [])]
        assert pins == [f"{SSH_IP}/32"], f"the route pin must go to the first hop: {pins}"
        wait_for(lambda s=status: _pings(s["remote"]), 15, "far's end of the tunnel")
        far_pppd = sh(["ip", "-o", "link"], ns=FAR).stdout
        assert "ppp" in far_pppd, f"the tunnel does not end in far:\n{far_pppd}"
        check = bed.pppossh("check", name, "--confdir", str(bed.rundir / "connect"))
        assert check.returncode == 0, f"check through the jump host:\n{check.stdout}" \
            f"{check.stderr}"
        assert f"{SSH_IP} port {port} answered" in check.stdout, check.stdout
        metrics[f"check_{client}"] = check.stdout.strip().splitlines()[-1]
        metrics[f"jump_{client}"] = status["remote"]
        _disconnect_all(bed, before)
    metrics["netifd_jump"] = _netifd_jump(keys, far_keys)
    return metrics


def _netifd_jump(keys, far_keys: dict[str, str]) -> dict:
    """Option jump under netifd (the hook, its helper, netifd's double): the host dependency
    is the first hop, and the link through it carries traffic."""
    import fake_netifd
    from scenarios import netns_enter

    fake_netifd.install(VENV_BIN)
    netns_enter(ROUTER)
    section = {"proto": "pppossh", "server": FAR_IP, "port": str(DROPBEAR_PORT),
               "sshuser": "root", "ssh_client": "dbclient",
               "identity": [str(keys.client_dropbear)], "hostkey": [far_keys["dbclient"]],
               "jump": [f"root@{SSH_IP}"], "jump_hostkey": [f"{SSH_IP} {keys.dropbear_host_pub}"],
               "ipaddr": "10.88.0.2", "peeraddr": "10.88.0.1", "defaultroute": "0",
               "connect_timeout": "20"}
    netifd = fake_netifd.FakeNetifd("vpnj", section)
    step("ifup vpnj (proto pppossh, jump root@203.0.113.1, netifd)")
    netifd.ifup()
    try:
        wait_for(lambda: netifd.status()["up"] and _pings("10.88.0.1"), 60,
                 "vpnj up through the jump host")
        pinned = list(netifd.host_routes)
        assert pinned == [SSH_IP], pinned  # the first hop's
    finally:
        netifd.ifdown()
    return {"host_dependency": pinned, "setups": netifd.status()["setups"]}
