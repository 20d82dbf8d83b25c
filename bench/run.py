"""Tunnel figures from one test-bed run: setup time, RTT, throughput, raw SSH channel.

``make bench`` (as root) boots the user-mode-linux test bed once and, for dbclient and for
OpenSSH, measures:

- setup time: ``pppossh up vpn`` started -> first ping answered through the tunnel;
- ping RTT through the tunnel (20 pings);
- TCP throughput through the tunnel (iperf3, 5 s);
- the raw SSH channel of the same client to the same server (``dd`` of zeros into
  ``cat >/dev/null`` on the server), the ceiling any VPN over that SSH connection can reach;
- the bare veth link for scale.

``PPPD_OPTIONS='noccp novj' make bench`` measures with extra local pppd options.

UML makes system calls and process starts slow, so compare the figures with each other
(tunnel vs raw channel, dbclient vs OpenSSH), not with real hardware.  Nothing here asserts:
it prints figures.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "uml"))

MIB = 64


def guest() -> int:
    from bed import LOCAL_TUN, REMOTE_TUN, SERVER_LINK_IP, SSH_IP, Bed
    from scenarios import _standard_bed, _vpn

    bed = Bed(Path(tempfile.mkdtemp(prefix="bench-")))
    results: dict[str, dict[str, float]] = {}
    try:
        keys = _standard_bed(bed)
        results["veth"] = {"mbit": bed.iperf(SERVER_LINK_IP, seconds=5)}
        for client in ("dbclient", "openssh"):
            section = _vpn(keys, client)
            if os.environ.get("PPPD_OPTIONS"):
                section["pppd_options"] = os.environ["PPPD_OPTIONS"]
            bed.write_network({"vpn": section})
            if client == "dbclient":
                ssh = _dbclient(bed, keys)
            else:
                kh = bed.root / "kh"
                kh.write_text(f"[{SSH_IP}]:2222 {keys.openssh_host_pub}\n")
                ssh = (f"ssh -T -i {keys.client_openssh} -p 2222 -o BatchMode=yes"
                       f" -o UserKnownHostsFile={kh} root@{SSH_IP} 'cat >/dev/null'")
            raw = _raw_mbit(ssh, MIB)
            started = time.monotonic()
            _tunnel_up(bed)
            setup = time.monotonic() - started
            ping = bed.ping(REMOTE_TUN, count=20)
            tunnel = bed.iperf(REMOTE_TUN, seconds=5)
            back = bed.ping(LOCAL_TUN, ns="server", count=5)
            bed.pppossh("down", "vpn")
            results[client] = {
                "setup_s": round(setup, 2),
                "rtt_ms": ping["rtt_avg_ms"],
                "rtt_back_ms": back["rtt_avg_ms"],
                "tunnel_mbit": tunnel,
                "raw_ssh_channel_mbit": raw,
                "tunnel_vs_raw": round(tunnel / raw, 2),
            }
        # last: it restarts the server's dropbear with a larger window
        results["wan"] = _wan(bed, keys)
    finally:
        bed.close()
    Path("/xfer/bench.json").write_text(json.dumps(results, indent=1))
    return 0


def _dbclient(bed: object, keys: object, window: int = 0) -> str:
    """The raw channel's command: dbclient into the server's ``cat >/dev/null``."""
    from bed import SSH_IP

    home = bed.root / "home"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    (home / ".ssh" / "known_hosts").write_text(f"{SSH_IP} {keys.dropbear_host_pub}\n")
    return (f"HOME={home} dbclient -T{f' -W {window}' if window else ''}"
            f" -i {keys.client_dropbear} -p 22 -l root {SSH_IP} 'cat >/dev/null'")


def _raw_mbit(ssh: str, mib: int) -> float:
    """Mbit/s of ``mib`` MiB of zeros pushed through an SSH command from the router."""
    from bed import ROUTER, sh

    started = time.monotonic()
    sh(f"dd if=/dev/zero bs=1M count={mib} 2>/dev/null | {ssh}", ns=ROUTER, timeout=300)
    return round(mib * 8 * 1.048576 / (time.monotonic() - started), 1)


def _tunnel_up(bed: object) -> None:
    """``pppossh up vpn``, returning once a ping crosses the tunnel."""
    from bed import REMOTE_TUN, ROUTER, sh, wait_for

    up = bed.pppossh("up", "vpn")
    if up.returncode != 0:
        raise AssertionError(up.stderr)
    wait_for(lambda: sh(["ping", "-c1", "-W1", REMOTE_TUN], ns=ROUTER, check=False,
                        timeout=5).returncode == 0, 60, "first ping")


WAN_DELAY_MS = 25  # each way: a 50 ms round trip, what most routers' uplinks see
WAN_MIB = 8
OLD_WINDOW = 24576  # dbclient's own default receive window


def _wan(bed: object, keys: object) -> dict[str, float]:
    """dbclient over a 50 ms path (netem on both ends of the router's uplink): the raw
    channel and the tunnel, each with dbclient's own receive window and with pppossh's."""
    from bed import REMOTE_TUN, ROUTER, SERVER, SSH_IP, sh
    from scenarios import _vpn

    from pppossh.plan.ssh import DBCLIENT_WINDOW

    sh(["modprobe", "sch_netem"])
    for dev, ns in (("up0", ROUTER), ("down0", SERVER)):
        sh(["tc", "qdisc", "add", "dev", dev, "root", "netem", "delay", f"{WAN_DELAY_MS}ms"],
           ns=ns)
    figures: dict[str, float] = {"rtt_ms": bed.ping(SSH_IP)["rtt_avg_ms"]}
    try:
        # the router's receive window sets the download, the server's the upload
        for name, window, server_window in (("old", OLD_WINDOW, 0), ("new", DBCLIENT_WINDOW, 0),
                                            ("server", DBCLIENT_WINDOW, DBCLIENT_WINDOW)):
            if name == "server":
                bed.stop_dropbear()
                bed.start_dropbear(keys, window=server_window)
            figures[f"raw_{name}_mbit"] = _raw_mbit(_dbclient(bed, keys, window), WAN_MIB)
            section = _vpn(keys, "dbclient")
            if name == "old":
                section["ssh_options"] = f"-W {OLD_WINDOW}"
            bed.write_network({"vpn": section})
            _tunnel_up(bed)
            figures[f"tunnel_{name}_up_mbit"] = bed.iperf(REMOTE_TUN, seconds=8)
            figures[f"tunnel_{name}_down_mbit"] = bed.iperf(REMOTE_TUN, seconds=8,
                                                            reverse=True)
            bed.pppossh("down", "vpn")
    finally:
        for dev, ns in (("up0", ROUTER), ("down0", SERVER)):
            sh(["tc", "qdisc", "del", "dev", dev, "root"], ns=ns, check=False)
    return figures


def host() -> int:
    import testbed

    reason = testbed.available()
    if reason:
        print(f"bench: {reason}", file=sys.stderr)
        return 1
    xfer = Path(tempfile.mkdtemp(prefix="pppossh-bench-"))
    result = testbed.run(f"{sys.executable} {Path(__file__).resolve()} --guest", timeout=600,
                         xfer=xfer)
    data = json.loads(result.file("bench.json") or "{}")
    if result.rc != 0 or not data:
        print(result.output[-4000:], file=sys.stderr)
        return 1
    print(f"bare veth link (iperf3 5 s): {data['veth']['mbit']} Mbit/s")
    print(f"{'client':<10} {'setup s':>8} {'RTT ms':>8} {'tunnel Mbit/s':>14} "
          f"{'raw SSH Mbit/s':>15} {'tunnel/raw':>10}")
    for client in ("dbclient", "openssh"):
        r = data[client]
        print(f"{client:<10} {r['setup_s']:>8} {r['rtt_ms']:>8} {r['tunnel_mbit']:>14} "
              f"{r['raw_ssh_channel_mbit']:>15} {r['tunnel_vs_raw']:>10}")
    wan = data["wan"]
    print(f"\nWAN profile: netem {WAN_DELAY_MS} ms each way (RTT {wan['rtt_ms']} ms), dbclient"
          " to dropbear; receive windows: old = both at dropbear's default"
          f" {OLD_WINDOW} B, new = the router's at pppossh's default, server = the server's"
          " raised to the same (dropbear -W, OpenWrt's RecvWindowSize)")
    print(f"{'windows':<10} {'raw SSH up Mbit/s':>18} {'tunnel up':>10} {'tunnel down':>12}")
    for name in ("old", "new", "server"):
        print(f"{name:<10} {wan[f'raw_{name}_mbit']:>18} {wan[f'tunnel_{name}_up_mbit']:>10}"
              f" {wan[f'tunnel_{name}_down_mbit']:>12}")
    for name in ("new", "server"):
        print(f"{name + '/old':<10} {wan[f'raw_{name}_mbit'] / wan['raw_old_mbit']:>18.1f}"
              f" {wan[f'tunnel_{name}_up_mbit'] / wan['tunnel_old_up_mbit']:>10.1f}"
              f" {wan[f'tunnel_{name}_down_mbit'] / wan['tunnel_old_down_mbit']:>12.1f}")
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    sys.exit(guest() if sys.argv[1:] == ["--guest"] else host())
