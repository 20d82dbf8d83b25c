"""proto sshtun scenarios (issue 14), run inside the test-bed guest by ``guest.py``.

- ``sshtun_tun``: the server set up by pppossh itself (``peer add --mode tun``, then
  ``server-setup --apply``, twice): sshd allows tunnels to the unprivileged ``pppossh``
  account alone (``Match User``), whose key may open one persistent tun device the account
  owns (``tunnel="0"``) and runs the session script alone.  Then ``proto sshtun`` under the
  netifd double, OpenSSH.  The link
  comes up with its addresses (IPv6 too) and a route to ``far`` through it; ping both ways
  (IPv4 and IPv6) and iperf3;
  the key gets no shell, no other unit, no port forwarding, and root gets no tunnel at all;
  netifd is told TUNNEL_BUSY for the busy unit (the server's answer to a state question made
  sshd's "Failed to open the tunnel device" precise), TUNNEL_DISABLED for root, and
  TUNNEL_NO_DEVICE once the server's device is gone;
  a black-holed path ends the session (SSH keepalive) and the link comes back by itself;
  ``ifdown`` leaves nothing on the router, and the server's device is free for the next:
  the same section standalone (``pppossh up``/``down``), then netifd again.
  Then, on the same server, a tap peer in the server's bridge ``br-tap``, where a dnsmasq
  hands out leases: the router's ``proto sshtun`` with ``mode tap`` and ``bridge lan`` joins
  its tap device to the bridge of interface ``lan`` through netifd (``add_device``), and a
  DHCP client on that bridge (udhcpc, what netifd's ``proto dhcp`` runs) gets a lease from
  the server's side across the tunnel; ping and iperf3 to the server's bridge, ifdown takes
  the device out of the bridge again; standalone, ``bridge`` names the bridge device itself.
  Last, a routed tap peer (pool addresses, no bridge): standalone, far is reached through it.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

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

TUN_USER, PEER_NAME, PEER_NET = "pppossh", "lan2", "192.168.77.0/24"
TUN_LOCAL, TUN_REMOTE = "10.64.0.2", "10.64.0.1"  # the first peer of the default pool
POOL6, TUN6_LOCAL, TUN6_REMOTE = "2001:db8:64::/64", "2001:db8:64::2", "2001:db8:64::1"


def _tun_server(bed: Bed) -> tuple[object, int, dict]:
    """An sshd whose settings say nothing of tunnels, and a pppossh server: the router's key
    added as a tun peer, ``server-setup --apply`` run (twice: the second changes nothing).
    Returns the keys, the peer's unit and what the set-up did."""
    from scenarios import _srv

    bed.network()
    keys = bed.keys()
    bed.authorize(keys.client_openssh_pub)  # root may log in, but gets no tunnel
    # where Debian's sshd_config includes the drop-in directory, the bed's includes it too
    bed.start_sshd(keys, extra="Include /etc/ssh/sshd_config.d/*.conf\n")
    bed.start_iperf()
    sh("modprobe ip_tables; modprobe iptable_filter; true", check=False)
    sh("modprobe ipv6")  # the links' IPv6 (pool6)
    confdir = bed.root / "server-config"
    confdir.mkdir(exist_ok=True)
    (confdir / "pppossh").write_text(f"config server 'server'\n\toption pool6 '{POOL6}'\n")
    added = _srv(bed, "peer", "add", PEER_NAME, "--key", keys.client_openssh_pub, "--mode",
                 "tun", "--route", PEER_NET).stdout.strip()
    step(added)
    unit = int(re.search(r"remote_unit (\d+)", added)[1])
    assert f"ip6addr {TUN6_LOCAL}/64, peer6addr {TUN6_REMOTE}" in added, added
    first = _srv(bed, "server-setup", "--apply", check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    step(first.stdout.strip())
    again = _srv(bed, "server-setup", "--apply", check=False)
    assert again.returncode == 0 and "nothing to change" in again.stdout, again.stdout
    # no systemd and no /run/sshd.pid in the bed: the script asked for the reload
    assert "reload sshd now" in first.stdout, first.stdout
    sh(["kill", "-HUP", (bed.root / "sshd.pid").read_text().strip()])
    probe = f"import socket; socket.create_connection(('{SSH_IP}', {SSHD_PORT}), 2).close()"
    wait_for(lambda: sh([sys.executable, "-c", probe], ns=ROUTER, check=False).returncode == 0,
             10, "sshd back after its reload")
    return keys, unit, {"first": first.stdout.strip().splitlines()}


def _section(keys, **extra: str | list[str]) -> dict:
    section: dict[str, str | list[str]] = {
        "proto": "sshtun", "server": SSH_IP, "port": str(SSHD_PORT), "sshuser": TUN_USER,
        "identity": [str(keys.client_openssh)], "hostkey": [keys.openssh_host_pub],
        "ipaddr": TUN_LOCAL, "peeraddr": TUN_REMOTE, "remote_unit": "0",
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

    keys, unit, server_setup = _tun_server(bed)
    assert unit == 0, unit  # the first free unit of a server without tun devices
    server_dev = f"tun{unit}"
    server_routes = sh(["ip", "route"], ns=SERVER).stdout
    assert f"{PEER_NET} dev {server_dev}" in server_routes, server_routes
    fake_netifd.install(VENV_BIN)
    netns_enter(ROUTER)
    netifd = fake_netifd.FakeNetifd("lan2", _section(keys, ip6addr=f"{TUN6_LOCAL}/64",
                                                     peer6addr=TUN6_REMOTE), proto="sshtun")
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
    assert _pings(TUN6_REMOTE), "no IPv6 answer from the server through the tunnel"
    assert _pings(TUN6_LOCAL, ns=SERVER), "no IPv6 answer from the router through the tunnel"
    assert _pings(FAR_IP), "far is not reached through the tunnel's route"
    mbit = bed.iperf(TUN_REMOTE, seconds=3)
    assert mbit > 0.5, f"iperf3 through the tunnel gave only {mbit} Mbit/s"
    owner = sh(["cat", f"/sys/class/net/{server_dev}/owner"], ns=SERVER).stdout.strip()
    uid = sh(["id", "-u", TUN_USER]).stdout.strip()
    assert owner == uid, (owner, uid)
    for dev, ns in ((device, ROUTER), (server_dev, SERVER)):  # a PPP device's queue, not 500
        assert "qlen 3" in sh(["ip", "-o", "link", "show", dev], ns=ns).stdout, dev

    step("what the peer's key may not do")
    netns_leave()
    shell = _ssh(keys, TUN_USER, "-T", SSH_IP, "id; echo shell-ran")
    other = _ssh(keys, TUN_USER, "-o", "Tunnel=point-to-point", "-w", "any:4", "-o",
                 "ExitOnForwardFailure=yes", "-N", SSH_IP)
    busy = _ssh(keys, TUN_USER, "-o", "Tunnel=point-to-point", "-w", f"any:{unit}", "-o",
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
        for name, other, code in (("lan4", busy_if, "TUNNEL_BUSY"),
                                  ("lan5", root_if, "TUNNEL_DISABLED")):
            told = wait_for(lambda o=other: o.status()["errors"], 60, f"{name} to report why")
            codes[name] = told[0][0]
            assert codes[name] == code, (name, told)
    finally:
        for other in (busy_if, root_if):
            other.ifdown()
    step(f"reported: {codes}")
    assert _pings(TUN_REMOTE), "the tunnel broke while its unit was asked for again"
    step("pppossh check on a second section for the same unit, while lan2 holds it")
    bed.write_network({"lan3": _section(keys, unit="7")})
    busy_check = _check(bed, "lan3")
    assert [(s["name"], s["ok"]) for s in busy_check[4:6]] == [
        ("auth", True), ("remote_device", False)], busy_check
    assert busy_check[5]["code"] == "TUNNEL_BUSY", busy_check[5]

    step("black hole between router and server (iptables DROP both ways)")
    holed, mark = time.monotonic(), len(netifd.log)
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
    # what the attempts in between were told: the figures that explain a slow return
    recovery = [m["error"][0] for m in netifd.log[mark:] if m["action"] == 3]
    step(f"back after {back} s; errors reported on the way: {recovery}")

    step("ifdown lan2")
    netifd.ifdown()
    wait_for(lambda: device not in sh(["ip", "-o", "link"], ns=ROUTER).stdout, 15,
             f"{device} to be gone")
    wait_for(lambda: not processes(r"(^|/)ssh .*-w"), 15, "the SSH client to end")
    wait_for(lambda: "NO-CARRIER" in sh(["ip", "link", "show", server_dev],
                                        ns=SERVER).stdout, 15, "the server's device to be free")
    routes = sh(["ip", "route"], ns=ROUTER).stdout
    assert "198.51.100.0/24" not in routes and SSH_IP not in routes, routes
    step("the same section standalone: pppossh check, then pppossh up lan3")
    free_check = _check(bed, "lan3")
    assert all(s["ok"] for s in free_check), free_check
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
    step("as after a reboot: the server's device gone, then what the boot unit runs")
    sh(["ip", "link", "del", server_dev], ns=SERVER)
    netifd.ifup()
    try:
        told = wait_for(lambda: netifd.status()["errors"], 60, "lan2 to say why")
    finally:
        netifd.ifdown()
    codes["missing"] = told[0][0]
    assert codes["missing"] == "TUNNEL_NO_DEVICE", told
    unit_text = Path("/etc/systemd/system/pppossh-tun-devices.service").read_text()
    boot = re.search(r"^ExecStart=(.+)$", unit_text, re.M)[1]
    made = sh([boot], ns=SERVER).stdout
    assert f"made {server_dev}" in made, made
    assert f"{PEER_NET} dev {server_dev}" in sh(["ip", "route"], ns=SERVER).stdout
    step("ifup lan2 again: the server's device is there and free for the next session")
    netifd.ifup()
    wait_for(lambda: netifd.status()["up"] and _pings(TUN_REMOTE), 60, "lan2 up again")
    netifd.ifdown()
    tap = _tap_bridged(bed, keys)
    return {"server_setup": server_setup, "setup_s": setup_s, "mbit": mbit, "device": device,
            "refusals": codes,
            "dead_path_noticed_s": noticed, "back_after_path_s": back,
            "recovery_errors": recovery, "tap": tap}


TAP_NET, TAP_SERVER = "10.77.0.0/24", "10.77.0.1"  # the server's bridged segment
UDHCPC_SCRIPT = """#!/bin/sh
# what netifd's dhcp.script does with a lease, reduced to the address
case "$1" in
bound|renew) ip addr replace "$ip/$mask" dev "$interface" && echo "$ip" >"$0.lease" ;;
esac
exit 0
"""


def _tap_bridged(bed: Bed, keys) -> dict:
    """A tap peer in the server's bridge, and the router's tap in the bridge of ``lan``."""
    import fake_netifd
    from scenarios import _srv

    step("tap: the server's bridge br-tap with a dnsmasq, and a tap peer in it")
    netns_leave()
    sh("modprobe bridge")  # the guest kernel's bridge is a module
    sh(f"ip link add br-tap type bridge && ip addr add {TAP_SERVER}/24 dev br-tap"
       " && ip link set br-tap up", ns=SERVER)
    pidfile = bed.root / "dnsmasq.pid"
    sh(["dnsmasq", "--conf-file=/dev/null", "--port=0", "--interface=br-tap",
        "--bind-interfaces", "--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h",
        f"--dhcp-leasefile={bed.root / 'dnsmasq.leases'}", f"--pid-file={pidfile}",
        "--user=root", f"--log-facility={bed.root / 'dnsmasq.log'}", "--log-dhcp"], ns=SERVER)
    bed.started.append(int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(),
                                    10, "dnsmasq pid")))
    key = bed.root / "keys" / "id_tap"
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    pub = " ".join(Path(f"{key}.pub").read_text().split()[:2])
    added = _srv(bed, "peer", "add", "lan6", "--key", pub, "--mode", "tap", "--bridge",
                 "br-tap").stdout.strip()
    step(added)
    unit = int(re.search(r"remote_unit (\d+)", added)[1])
    setup = _srv(bed, "server-setup", "--apply", check=False)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    sh(["kill", "-HUP", (bed.root / "sshd.pid").read_text().strip()])
    server_tap = f"tap{unit}"
    master = sh(["readlink", f"/sys/class/net/{server_tap}/master"], ns=SERVER).stdout
    assert master.strip().endswith("/br-tap"), master
    permit = sh(["/usr/sbin/sshd", "-T", "-f", str(bed.root / "sshd_config"), "-C",
                 f"user={TUN_USER},host=router,addr={ROUTER_IP}"]).stdout
    assert "permittunnel yes" in permit.splitlines(), "tun and tap peers: PermitTunnel yes"
    probe = f"import socket; socket.create_connection(('{SSH_IP}', {SSHD_PORT}), 2).close()"
    wait_for(lambda: sh([sys.executable, "-c", probe], ns=ROUTER, check=False).returncode == 0,
             10, "sshd back after its reload")

    step("tap: router's interface lan on bridge br-lan; ifup lan6 (sshtun, mode tap, bridge lan)")
    sh("ip link add br-lan type bridge && ip link set br-lan up", ns=ROUTER)
    section = _section(keys, identity=[str(key)], mode="tap", bridge="lan",
                       remote_unit=str(unit))
    for name in ("ipaddr", "peeraddr", "route"):
        del section[name]
    netns_enter(ROUTER)
    netifd = fake_netifd.FakeNetifd("lan6", section, proto="sshtun", bridges={"lan": "br-lan"})
    started = time.monotonic()
    netifd.ifup()
    try:
        wait_for(lambda: netifd.status()["up"] and netifd.device_calls, 60,
                 "lan6 up and its device in lan's bridge")
    except Exception:
        _explain(netifd, bed)
        raise
    device = netifd.update["ifname"]
    assert re.fullmatch(r"tap\d+", device) and not netifd.update.get("ipaddr"), netifd.update
    assert netifd.device_calls == [("lan", "add_device", {"name": device, "link-ext": False})]
    # (ip, not /sys: this process entered the namespace without mounting its sysfs)
    wait_for(lambda: " master br-lan " in sh(["ip", "-o", "link", "show", device]).stdout, 10,
             "tap in br-lan")
    script = bed.root / "udhcpc.sh"
    script.write_text(UDHCPC_SCRIPT)
    script.chmod(0o755)
    dhcp = sh(["busybox", "udhcpc", "-i", "br-lan", "-f", "-q", "-n", "-t", "10", "-T", "2",
               "-s", str(script)], check=False, timeout=60)
    lease_s = round(time.monotonic() - started, 1)
    lease = Path(f"{script}.lease").read_text().strip() if Path(f"{script}.lease").exists() \
        else ""
    assert lease.startswith("10.77.0.1"), dhcp.stdout + dhcp.stderr
    step(f"tap: {device} in br-lan, lease {lease} from the server's dnsmasq after {lease_s} s")
    assert _pings(TAP_SERVER), "the server's bridge does not answer across the tap"
    mbit = bed.iperf(TAP_SERVER, seconds=3)
    assert mbit > 0.5, f"iperf3 through the tap gave only {mbit} Mbit/s"
    netifd.ifdown()
    wait_for(lambda: device not in sh(["ip", "-o", "link"]).stdout, 15, f"{device} gone")
    netifd.status()  # reads what ip-down sent while the task ended
    assert netifd.device_calls[-1] == ("lan", "remove_device",
                                       {"name": device, "link-ext": False}), netifd.device_calls
    assert not _pings(TAP_SERVER), "the server's bridge still answers with the tap down"
    wait_for(lambda: "NO-CARRIER" in sh(["ip", "link", "show", server_tap],
                                        ns=SERVER).stdout, 15, "the server's tap to be free")

    step("tap standalone: bridge names the bridge device, pppossh up lan7")
    bed.write_network({"lan7": {**section, "bridge": "br-lan", "unit": "5"}})
    up = bed.pppossh("up", "lan7")
    assert up.returncode == 0, up.stdout + up.stderr
    wait_for(lambda: _pings(TAP_SERVER), 30, "the server's bridge across lan7's tap5")
    status = bed.status("lan7")
    assert status["up"] is True and status["device"] == "tap5", status
    down = bed.pppossh("down", "lan7")
    assert down.returncode == 0, down.stdout + down.stderr
    wait_for(lambda: "tap5" not in sh(["ip", "-o", "link"]).stdout, 15, "tap5 to be gone")
    assert not processes(r"(^|/)ssh .*-w"), processes(r"(^|/)ssh .*-w")
    routed = _tap_routed(bed, keys)
    return {"device": device, "lease": lease, "lease_s": lease_s, "mbit": mbit,
            "routed": routed}


def _tap_routed(bed: Bed, keys) -> dict:
    """A tap peer addressed from the pool, no bridge: the router reaches far through it, its
    route via the server's address (Ethernet asks ARP for the gateway, not for far)."""
    from scenarios import _srv

    step("tap routed: a tap peer with pool addresses; standalone lan8 routes far through it")
    key = bed.root / "keys" / "id_tap_routed"
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    pub = " ".join(Path(f"{key}.pub").read_text().split()[:2])
    added = _srv(bed, "peer", "add", "lan8", "--key", pub, "--mode", "tap").stdout.strip()
    step(added)
    unit = re.search(r"remote_unit (\d+)", added)[1]
    server_addr, peer_addr = re.search(r"server ([\d.]+), peer ([\d.]+)", added).groups()
    setup = _srv(bed, "server-setup", "--apply", check=False)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    section = _section(keys, identity=[str(key)], mode="tap", remote_unit=unit,
                       ipaddr=peer_addr, peeraddr=server_addr, unit="6")
    bed.write_network({"lan8": section})
    up = bed.pppossh("up", "lan8")
    assert up.returncode == 0, up.stdout + up.stderr
    wait_for(lambda: _pings(FAR_IP), 30, "far through lan8's tap6")
    route = sh(["ip", "route", "show", "198.51.100.0/24"]).stdout
    assert f"via {server_addr} dev tap6" in route, route
    down = bed.pppossh("down", "lan8")
    assert down.returncode == 0, down.stdout + down.stderr
    wait_for(lambda: "tap6" not in sh(["ip", "-o", "link"]).stdout, 15, "tap6 to be gone")
    return {"route": route.strip()}


def _check(bed: Bed, iface: str) -> list[dict]:
    """``pppossh check IFACE --json``'s steps; sshtun's are TUN_STEPS."""
    import json

    out = bed.pppossh("check", iface, "--json", timeout=120)
    steps = json.loads(out.stdout)["steps"]
    step("check: " + ", ".join(f"{s['name']} {'ok' if s['ok'] else s['code'] or '-'}"
                               for s in steps))
    return steps


def _explain(netifd, bed: Bed) -> None:
    """What the hook, netifd, the client and the server said, for a scenario that failed."""
    state = Path("/var/run/pppossh") / netifd.iface
    logs = {p.name: p.read_text(errors="replace")[-3000:]
            for p in [*state.glob("*.log"), bed.root / "sshd.log"] if p.exists()}
    step(f"netifd: {netifd.status()} {netifd.log[-5:]}\nhook output:\n"
         + "\n".join(netifd.outputs[-6:]) + f"\nlogs: {logs}\n"
         + sh(["ip", "-o", "link"], ns=ROUTER).stdout + "\n".join(processes(r"ssh|sh -c")))
