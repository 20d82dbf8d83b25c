"""proto sshtun scenarios (issue 14), run inside the test-bed guest by ``guest.py``.

- ``sshtun_tun``: ``proto sshtun`` under the netifd double, OpenSSH to an sshd that allows
  tunnels to one unprivileged user only (``Match User``), whose key may open one persistent
  tun device it owns (``tunnel="3"``) and runs the pppossh server command alone.  The link
  comes up with its addresses and a route to ``far`` through it; ping both ways and iperf3;
  the key gets no shell, no other unit, no port forwarding, and root gets no tunnel at all;
  netifd is told TUNNEL_DEVICE for the busy unit and TUNNEL_DISABLED for root;
  a black-holed path ends the session (SSH keepalive) and the link comes back by itself;
  ``ifdown`` leaves nothing on the router, and the server's device is free for the next:
  the same section standalone (``pppossh up``/``down``), then netifd again.
"""

from __future__ import annotations

import re
import time

from bed import (
    FAR_IP,
    ROUTER,
    ROUTER_IP,
    SERVER,
    SSH_IP,
    SSHD_PORT,
    VENV_BIN,
    Bed,
    processes,
    sh,
    step,
    wait_for,
)
from scenarios import netns_enter, netns_leave

from pppossh.plan import sshtun

TUN_USER, TUN_UNIT = "tunpeer", 3
TUN_LOCAL, TUN_REMOTE = "10.98.0.1", "10.98.0.2"


def _tun_server(bed: Bed) -> object:
    """sshd allowing tunnels to TUN_USER alone; TUN_USER owns tun3, addressed, and its key
    may open that device only and run the server's command only."""
    bed.network()
    keys = bed.keys()
    bed.authorize(keys.client_openssh_pub)  # root may log in, but gets no tunnel
    # the server's keepalive ends the session of a router that vanished, which would hold
    # the device busy for the router's next session
    bed.start_sshd(keys, extra=f"Match User {TUN_USER}\n\tPermitTunnel point-to-point\n"
                   "\tClientAliveInterval 5\n\tClientAliveCountMax 3\n")
    bed.start_iperf()
    sh("modprobe ip_tables; modprobe iptable_filter; true", check=False)
    sh(f"useradd -m -s /bin/sh -p '*' {TUN_USER}")  # no password, not locked
    # as udev's rule leaves it on Debian: opening the tun control device grants nothing but
    # attaching to a device the user owns (the UML guest's devtmpfs makes it 0600)
    sh("chmod 0666 /dev/net/tun")
    sh(f"ip tuntap add dev tun{TUN_UNIT} mode tun user {TUN_USER}"
       f" && ip addr add {TUN_REMOTE} peer {TUN_LOCAL} dev tun{TUN_UNIT}"
       f" && ip link set tun{TUN_UNIT} up", ns=SERVER)
    command = " ".join(["sh", "-c", f"'{sshtun.REMOTE_SCRIPT}'", "sshtun", str(TUN_UNIT),
                        TUN_REMOTE, TUN_LOCAL]).replace('"', '\\"')
    line = f'restrict,tunnel="{TUN_UNIT}",command="{command}" {keys.client_openssh_pub}'
    home = f"/home/{TUN_USER}"
    sh(f"mkdir -p -m 700 {home}/.ssh && cat >{home}/.ssh/authorized_keys"
       f" && chown -R {TUN_USER}: {home}/.ssh && chmod 600 {home}/.ssh/authorized_keys",
       input=line + "\n")
    return keys


def _section(keys, **extra: str | list[str]) -> dict:
    section: dict[str, str | list[str]] = {
        "proto": "sshtun", "server": SSH_IP, "port": str(SSHD_PORT), "sshuser": TUN_USER,
        "identity": [str(keys.client_openssh)], "hostkey": [keys.openssh_host_pub],
        "ipaddr": TUN_LOCAL, "peeraddr": TUN_REMOTE, "remote_unit": str(TUN_UNIT),
        "defaultroute": "0", "route": ["198.51.100.0/24"], "connect_timeout": "20",
    }
    section.update(extra)
    return section


def _ssh(keys, user: str, *args: str, timeout: float = 30) -> tuple[int, str]:
    """The bed's OpenSSH client from the router, with the pinned host key."""
    known = keys.client_openssh.parent / "known_hosts_tun"
    known.write_text(f"[{SSH_IP}]:{SSHD_PORT} {keys.openssh_host_pub}\n")
    argv = ["ssh", "-i", str(keys.client_openssh), "-p", str(SSHD_PORT), "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=10", "-l", user, *args]
    out = sh(argv, ns=ROUTER, check=False, timeout=timeout, input="")
    return out.returncode, out.stdout + out.stderr


def _hole(on: bool) -> None:
    """Every packet between router and server dropped in silence, both ways."""
    op = "-I" if on else "-D"
    sh(f"iptables-legacy {op} INPUT -s {SSH_IP} -j DROP", ns=ROUTER)
    sh(f"iptables-legacy {op} INPUT -s {ROUTER_IP} -j DROP", ns=SERVER)


def _pings(target: str, ns: str = ROUTER) -> bool:
    return sh(["ping", "-c1", "-W1", target], ns=ns, check=False, timeout=5).returncode == 0


def sshtun_tun(bed: Bed) -> dict:
    import fake_netifd

    keys = _tun_server(bed)
    fake_netifd.install(VENV_BIN)
    netns_enter(ROUTER)
    netifd = fake_netifd.FakeNetifd("lan2", _section(keys), proto="sshtun")
    step("ifup lan2 (proto sshtun)")
    started = time.monotonic()
    netifd.ifup()
    try:
        wait_for(lambda: netifd.status()["up"] and _pings(TUN_REMOTE), 60,
                 "lan2 to come up and carry traffic")
    except Exception:
        _explain(netifd, bed)
        raise
    setup_s = round(time.monotonic() - started, 1)
    device = netifd.update["ifname"]
    step(f"lan2 up on {device} after {setup_s} s: {netifd.update.get('ipaddr')}")
    assert re.fullmatch(r"tun\d+", device), device
    assert _pings(TUN_LOCAL, ns=SERVER), "no answer from the router through the tunnel"
    assert _pings(FAR_IP), "far is not reached through the tunnel's route"
    mbit = bed.iperf(TUN_REMOTE, seconds=3)
    assert mbit > 0.5, f"iperf3 through the tunnel gave only {mbit} Mbit/s"
    owner = sh(["cat", f"/sys/class/net/tun{TUN_UNIT}/owner"], ns=SERVER).stdout.strip()
    uid = sh(["id", "-u", TUN_USER]).stdout.strip()
    assert owner == uid, (owner, uid)

    step("what the peer's key may not do")
    netns_leave()
    shell = _ssh(keys, TUN_USER, "-T", SSH_IP, "id; echo shell-ran")
    other = _ssh(keys, TUN_USER, "-o", "Tunnel=point-to-point", "-w", "any:4", "-o",
                 "ExitOnForwardFailure=yes", "-N", SSH_IP)
    busy = _ssh(keys, TUN_USER, "-o", "Tunnel=point-to-point", "-w", f"any:{TUN_UNIT}", "-o",
                "ExitOnForwardFailure=yes", "-N", SSH_IP)
    forward = _ssh(keys, TUN_USER, "-W", "127.0.0.1:2222", SSH_IP)
    root = _ssh(keys, "root", "-o", "Tunnel=point-to-point", "-w", "any:5", "-o",
                "ExitOnForwardFailure=yes", "-N", SSH_IP)
    netns_enter(ROUTER)
    assert "shell-ran" not in shell[1] and "uid=" not in shell[1], shell
    for name, (rc, text) in {"other unit": other, "busy unit": busy, "root": root}.items():
        assert rc != 0 and "Tunnel forwarding failed" in text, (name, rc, text)
    assert forward[0] != 0 and "administratively prohibited" in forward[1], forward
    assert _pings(TUN_REMOTE), "the tunnel broke while the key was tried"

    step("the same refusals as netifd sees them: the busy unit, and root without PermitTunnel")
    busy_if = fake_netifd.FakeNetifd("lan4", _section(keys, unit="8"), proto="sshtun")
    root_if = fake_netifd.FakeNetifd("lan5", _section(keys, unit="9", sshuser="root"),
                                     proto="sshtun")
    codes = {}
    for other in (busy_if, root_if):
        other.ifup()
    try:
        for name, other, code in (("lan4", busy_if, "TUNNEL_DEVICE"),
                                  ("lan5", root_if, "TUNNEL_DISABLED")):
            wait_for(lambda o=other: o.errors, 60, f"{name} to report why")
            codes[name] = other.errors[0][0]
            assert codes[name] == code, (name, other.errors)
    finally:
        for other in (busy_if, root_if):
            other.ifdown()
    step(f"reported: {codes}")
    assert _pings(TUN_REMOTE), "the tunnel broke while its unit was asked for again"

    step("black hole between router and server (iptables DROP both ways)")
    holed = time.monotonic()
    _hole(True)
    try:
        wait_for(lambda: netifd.status()["teardowns"], 90, "the dead path to end the session")
        noticed = round(time.monotonic() - holed, 1)
    finally:
        _hole(False)
    step(f"noticed after {noticed} s: {netifd.errors}; path back")
    back_from = time.monotonic()
    wait_for(lambda: netifd.status()["up"] and _pings(TUN_REMOTE), 120, "lan2 back by itself")
    back = round(time.monotonic() - back_from, 1)
    step(f"back after {back} s")

    step("ifdown lan2")
    netifd.ifdown()
    wait_for(lambda: device not in sh(["ip", "-o", "link"], ns=ROUTER).stdout, 15,
             f"{device} to be gone")
    wait_for(lambda: not processes(r"(^|/)ssh .*-w"), 15, "the SSH client to end")
    wait_for(lambda: "NO-CARRIER" in sh(["ip", "link", "show", f"tun{TUN_UNIT}"],
                                        ns=SERVER).stdout, 15, "the server's device to be free")
    routes = sh(["ip", "route"], ns=ROUTER).stdout
    assert "198.51.100.0/24" not in routes and SSH_IP not in routes, routes
    step("the same section standalone: pppossh up lan3")
    bed.write_network({"lan3": _section(keys, unit="7")})
    up = bed.pppossh("up", "lan3")
    assert up.returncode == 0, up.stdout + up.stderr
    wait_for(lambda: _pings(TUN_REMOTE) and _pings(FAR_IP), 30, "lan3 to carry traffic")
    status = bed.status("lan3")
    assert status["up"] is True and status["device"] == "tun7", status
    down = bed.pppossh("down", "lan3")
    assert down.returncode == 0, down.stdout + down.stderr
    wait_for(lambda: "tun7" not in sh(["ip", "-o", "link"], ns=ROUTER).stdout, 15,
             "tun7 to be gone")
    routes = sh(["ip", "route"], ns=ROUTER).stdout
    assert "198.51.100.0/24" not in routes and SSH_IP not in routes, routes
    assert not processes(r"(^|/)ssh .*-w"), processes(r"(^|/)ssh .*-w")
    step("ifup lan2 again: the server's device is free for the next session")
    netifd.ifup()
    wait_for(lambda: netifd.status()["up"] and _pings(TUN_REMOTE), 60, "lan2 up again")
    netifd.ifdown()
    return {"setup_s": setup_s, "mbit": mbit, "device": device, "refusals": codes,
            "dead_path_noticed_s": noticed, "back_after_path_s": back}


def _explain(netifd, bed: Bed) -> None:
    """What the hook, netifd, the client and the server said, for a scenario that failed."""
    from pathlib import Path

    state = Path("/var/run/pppossh") / netifd.iface
    logs = {p.name: p.read_text(errors="replace")[-3000:]
            for p in [*state.glob("*.log"), bed.root / "sshd.log"] if p.exists()}
    step(f"netifd: {netifd.status()} {netifd.log[-5:]}\nhook output:\n"
         + "\n".join(netifd.outputs[-6:]) + f"\nlogs: {logs}\n"
         + sh(["ip", "-o", "link"], ns=ROUTER).stdout + "\n".join(processes(r"ssh|sh -c")))
