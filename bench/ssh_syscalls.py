"""Why ``sshtun`` moves less than ``pppossh`` through the same OpenSSH client: system calls.

Run as root from the repository: ``.venv/bin/python bench/ssh_syscalls.py``.  It boots the
test-bed guest, sets the server up with pppossh (a tun peer; root logs in for pppd), brings
up an ``sshtun`` and a ``pppossh`` interface in turn (standalone, OpenSSH, the LAN path of
the bed), and counts the SSH client's system calls with ``strace -c`` during a 5 s iperf3
upload through each, twice.  strace stops the client at every call, so the throughput it
shows is far below the bench's; what it compares is calls per megabyte, side by side.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UML = Path(__file__).resolve().parents[1] / "tests" / "uml"
sys.path.insert(0, str(UML))
ROUNDS = 2
SECONDS = 5


def _calls(summary: str) -> dict[str, int]:
    """``strace -c``'s table as {syscall: calls}."""
    found = {}
    for line in summary.splitlines():
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
        if m and m[2] != "total":
            found[m[2]] = int(m[1])
    return found


def guest() -> None:
    from bed import ROUTER, SSH_IP, SSHD_PORT, Bed, processes, sh
    from tun_scenarios import TUN_REMOTE, _section, _tun_server

    bed = Bed(Path(tempfile.mkdtemp(prefix="syscalls-")))
    rows: dict[str, list[dict[str, float]]] = {"sshtun": [], "pppossh": []}
    try:
        keys, _unit, _setup = _tun_server(bed)
        ppp = {"proto": "pppossh", "server": SSH_IP, "port": str(SSHD_PORT), "sshuser": "root",
               "ssh_client": "openssh", "identity": [str(keys.client_openssh)],
               "hostkey": [keys.openssh_host_pub], "ipaddr": "10.99.0.2",
               "peeraddr": "10.99.0.1", "defaultroute": "0", "connect_timeout": "20"}
        bed.write_network({"sshtun": _section(keys, unit="7"), "pppossh": ppp})
        plan = {"sshtun": (TUN_REMOTE, r"^/usr/bin/ssh .*-w"),
                "pppossh": ("10.99.0.1", r"^/usr/bin/ssh .*pppd")}
        for _ in range(ROUNDS):
            for iface, (target, pattern) in plan.items():
                up = bed.pppossh("up", iface)
                assert up.returncode == 0, up.stdout + up.stderr
                time.sleep(2)
                pid = int(processes(pattern)[0].split(":")[0])
                log = Path(bed.root / f"strace-{iface}")
                trace = subprocess.Popen(["strace", "-c", "-o", str(log), "-p", str(pid)],
                                         stderr=subprocess.DEVNULL)
                time.sleep(1)
                out = sh(["iperf3", "-c", target, "-t", str(SECONDS), "-J"], ns=ROUTER,
                         timeout=60).stdout
                trace.send_signal(signal.SIGINT)
                trace.wait(30)
                megabytes = json.loads(out)["end"]["sum_received"]["bytes"] / 1e6
                calls = _calls(log.read_text())
                io = calls.get("read", 0) + calls.get("write", 0)
                reads = max(1, calls.get("read", 1))
                rows[iface].append({"MB": megabytes, "read+write": io,
                                    "per MB": io / megabytes,
                                    "bytes per read": megabytes * 1e6 / reads})
                bed.pppossh("down", iface)
                time.sleep(2)
    finally:
        bed.close()
    print(json.dumps(rows))


def main() -> int:
    import testbed

    reason = testbed.available()
    if reason:
        print(f"cannot run: {reason}")
        return 1
    result = testbed.run(f"{sys.executable} {Path(__file__).resolve()} --guest", timeout=900)
    line = next((x for x in reversed(result.output.splitlines()) if x.startswith("{")), "")
    if result.rc != 0 or not line:
        print(result.output[-3000:])
        return 1
    rows = json.loads(line)
    print(f"{'row':<8} {'MB moved':>9} {'read+write':>11} {'calls/MB':>9} {'bytes/read':>11}")
    for name, runs in rows.items():
        for r in runs:
            print(f"{name:<8} {r['MB']:>9.2f} {r['read+write']:>11} {r['per MB']:>9.0f}"
                  f" {r['bytes per read']:>11.0f}")
    ratio = [t["per MB"] / p["per MB"] for t, p in zip(rows["sshtun"], rows["pppossh"],
                                                       strict=True)]
    print("sshtun/pppossh calls per MB: " + ", ".join(f"{x:.2f}" for x in ratio))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--guest"]:
        guest()
        sys.exit(0)
    sys.exit(main())
