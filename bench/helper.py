"""What the helper itself costs per netifd setup: wall time and peak memory, outside UML.

``pppossh netifd setup`` is the one Python start between ``ifup`` and pppd: it checks the
section, resolves the server, writes known_hosts and hands netifd the host dependency and
the task.  It runs here from the installed client package (``make stage``: byte-compiled
only, as on the router) against the ubus program's double (tests/netifd/ubus), with a setup
and a teardown per round, side by side with an empty Python as the floor.  Peak memory is
the child's maximum resident set (wait4).  x86-64 here; a router's CPU is several times
slower, its Python's memory about the same.  Nothing asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGE = REPO / "build" / "stage"
SITE = "pppossh/usr/lib/python3/site-packages"
HOSTKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7fQ0Il6YEGz5nMpnZpB1wq2JwqHmSjw8sj7rIUJyuh"


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in kB, exit status) of one child."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - started, usage.ru_maxrss, proc.returncode


def helper(site: Path, action: str, config: str) -> list[str]:
    code = (f"import sys; sys.path.insert(0, {str(site)!r}); from pppossh.cli import main; "
            f"sys.exit(main(['netifd', {action!r}, 'vpn', sys.argv[1]]))")
    return [sys.executable, "-I", "-S", "-c", code, config]


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="rounds (default 15)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stage", type=Path, default=STAGE, help="where `make stage` put it")
    args = parser.parse_args(argv)
    site = args.stage / SITE
    if not (site / "pppossh").is_dir() or not shutil.which("dropbearkey"):
        print("helper bench: needs `make stage` and dropbearkey", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="pppossh-helper-") as tmp:
        work = Path(tmp)
        (work / "bin").mkdir()
        shutil.copy(REPO / "tests/netifd/ubus", work / "bin" / "ubus")
        (work / "bin" / "ubus.log-path").write_text(f"{work / 'ubus.log'}\n")
        key = work / "id_vpn"
        subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(key)], check=True,
                       capture_output=True, timeout=60)
        config = json.dumps({"server": "192.0.2.2", "port": 22, "sshuser": "vpn",
                             "identity": [str(key)], "hostkey": [HOSTKEY],
                             "ssh_client": "dbclient"}, separators=(",", ":"))
        env = {"PATH": f"{work / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
               "PPPOSSH_RUNDIR": str(work / "run"), "PPPOSSH_NO_SYSLOG": "1"}
        setup_ms, setup_kb, floor_ms, floor_kb = [], [], [], []
        for _ in range(args.n):
            seconds, kb, status = run(helper(site, "setup", config), env)
            if status != 0:
                print(f"helper bench: setup failed ({status})", file=sys.stderr)
                return 1
            setup_ms.append(seconds * 1000)
            setup_kb.append(kb)
            run(helper(site, "teardown", config), env)
            seconds, kb, _ = run([sys.executable, "-I", "-S", "-c", "pass"], env)
            floor_ms.append(seconds * 1000)
            floor_kb.append(kb)
        calls = (work / "ubus.log").read_text().count("=== ubus invocation")
    figures = {"rounds": args.n, "setup_ms": statistics.median(setup_ms),
               "setup_peak_kb": max(setup_kb), "floor_ms": statistics.median(floor_ms),
               "floor_peak_kb": max(floor_kb), "ubus_calls_per_round": calls / args.n}
    print(f"pppossh netifd setup, installed client package, {args.n} rounds, median (min-max);"
          f" {sys.version.split()[0]}")
    print(f"{'':<28} {'wall ms':>16} {'peak RSS':>10}")
    for name, ms, kb in (("helper: netifd setup", setup_ms, setup_kb),
                         ("floor: python -I -S pass", floor_ms, floor_kb)):
        print(f"{name:<28} {summary(ms):>16} {max(kb) / 1024:>7.1f} MB")
    print(f"ubus calls per setup and teardown: {calls / args.n:g}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
