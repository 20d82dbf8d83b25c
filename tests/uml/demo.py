"""``make demo``: a real pppossh tunnel between two network namespaces, shown step by step.

On the host this boots the user-mode-linux test bed (the machine's own kernel may lack PPP)
and runs itself inside with ``--guest``.  There it builds a router and a server namespace,
starts a real dropbear server, writes the UCI section a router admin would write, lets
pppossh make the router's key (the server authorizes it), fetch and pin the server's host
key and check every step of the connection, brings the tunnel up with ``pppossh up vpn``,
measures ping and throughput through it, shows ``pppossh status`` and takes everything down
again.  Exit status 0 only when every step worked.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

STEPS = 9


def say(n: int, text: str) -> None:
    print(f"\n[{n}/{STEPS}] {text}", flush=True)


def indent(text: str) -> str:
    return "\n".join("      " + line for line in text.strip().splitlines())


def guest() -> int:
    from bed import LOCAL_TUN, REMOTE_TUN, SSH_IP, Bed, sh

    bed = Bed(Path(tempfile.mkdtemp(prefix="demo-")))
    started = time.monotonic()
    try:
        say(1, "network namespaces: router 192.0.2.1 <-> server 192.0.2.2 (SSH on 203.0.113.1)")
        bed.network()
        say(2, "server: a real dropbear SSH server")
        keys = bed.keys()
        bed.start_dropbear(keys)
        bed.start_iperf()
        bed.write_network({"vpn": {"proto": "pppossh", "server": SSH_IP, "sshuser": "root",
                                   "ipaddr": LOCAL_TUN, "peeraddr": REMOTE_TUN,
                                   "defaultroute": "0",
                                   "peer_pppd_options": "ms-dns 192.0.2.53"}})
        say(3, "router: pppossh keygen vpn, then the server authorizes pppossh pubkey vpn")
        print(indent(bed.pppossh("keygen", "vpn", check=True).stdout))
        bed.cleanup.append(lambda: shutil.rmtree("/etc/pppossh/keys", ignore_errors=True))
        bed.authorize(bed.pppossh("pubkey", "vpn", check=True).stdout.strip())
        say(4, "router: pppossh trust vpn --yes, then pppossh check vpn")
        print(indent(bed.pppossh("trust", "vpn", "--yes", check=True).stdout))
        check = bed.pppossh("check", "vpn", timeout=120)
        print(indent(check.stdout))
        if check.returncode != 0:
            return 1
        say(5, "the UCI section the router now has (/etc/config/network on OpenWrt)")
        print(indent((bed.confdir / "network").read_text()))
        say(6, "pppossh up vpn")
        t0 = time.monotonic()
        up = bed.pppossh("up", "vpn")
        if up.returncode != 0:
            print(indent(up.stdout + up.stderr))
            return 1
        print(indent(up.stdout))
        print(indent(f"link up and addressed after {time.monotonic() - t0:.1f} s"))
        say(7, f"ping through the tunnel: router -> {REMOTE_TUN} and server -> {LOCAL_TUN}")
        there, back = bed.ping(REMOTE_TUN), bed.ping(LOCAL_TUN, ns="server")
        print(indent(f"router -> server: avg {there['rtt_avg_ms']} ms, loss {there['loss_pct']} %"
                     f"\nserver -> router: avg {back['rtt_avg_ms']} ms, loss {back['loss_pct']} %"))
        if there["loss_pct"] or back["loss_pct"]:
            return 1
        say(8, "3 s of TCP through the tunnel (iperf3), then pppossh status")
        print(indent(f"throughput: {bed.iperf(REMOTE_TUN, seconds=3)} Mbit/s"))
        print(indent(bed.pppossh("status", "vpn", check=True).stdout))
        status = json.loads(bed.pppossh("status", "vpn", "--json").stdout)
        say(9, "pppossh down vpn, then look for anything left behind")
        print(indent(bed.pppossh("down", "vpn", check=True).stdout))
        left = bed.leftovers()
        print(indent("nothing left: no pppd, no SSH client, no device, no route" if not left
                     else f"LEFT BEHIND: {left}"))
        ok = status["up"] and not left
        print(f"\n{'demo OK' if ok else 'demo FAILED'} in {time.monotonic() - started:.0f} s"
              " (inside the test bed)")
        print(indent("router's links now:\n" + sh(["ip", "-br", "link"], ns="router").stdout))
        return 0 if ok else 1
    finally:
        bed.close()


def host() -> int:
    import testbed

    reason = testbed.available()
    if reason:
        print(f"demo: {reason}", file=sys.stderr)
        return 1
    print("booting the user-mode-linux test bed (its kernel has PPP)...", flush=True)
    started = time.monotonic()
    rc = testbed.run_streaming(f"{sys.executable} {HERE / 'demo.py'} --guest", timeout=300)
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s, exit status {rc}")
    return rc


if __name__ == "__main__":
    sys.exit(guest() if sys.argv[1:] == ["--guest"] else host())
