"""The reliability figures of issue 13 in one table: how fast a dead path is noticed, how a
server outage is ridden out, what 64 flows do, what killing each piece costs, and 32 tunnels
to one server, and what a better uplink does.

``make bench`` (as root) runs the fault scenarios of ``tests/uml/fault_scenarios.py`` in the
user-mode-linux test bed, ``scale`` with the issue's 32 tunnels (``make check`` runs it with
8), and prints what each measured beside the goal.  The scenarios assert what must hold
(recovery, no leftovers); this only prints figures.  UML makes process starts slow: compare
figures within one run, never with real hardware.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "uml"))

import testbed  # noqa: E402

SCENARIOS = ["black_hole", "server_outage", "load", "kill_pieces", "ipv6", "scale",
             "uplink_change"]
GOALS = {
    "black_hole": "noticed <= 15 s, back by itself",
    "server_outage": "<= 5 attempts in 20 s, up <= 3 s after the port answers",
    "load": "stays up (no LCP echo false positive); loss and RTT reported",
    "kill_pieces": "recovery or a clear error; nothing left, nothing blocks ifup",
    "ipv6": "IPv6-only server, /128 pinned, IPv6CP, ping6",
    "scale": "all 32 up; setup time and memory per tunnel reported",
    "uplink_change": "onto a better uplink once it is up, back when it goes down",
}


def main() -> int:
    reason = testbed.available()
    if reason:
        print(f"bench/faults.py: the test bed cannot run: {reason}")
        return 1
    rows = []
    for name in SCENARIOS:
        xfer = Path(tempfile.mkdtemp(prefix=f"faults-{name}-"))
        command = f"PPPOSSH_SCALE=32 {sys.executable} {REPO / 'tests/uml/guest.py'} {name}"
        result = testbed.run(command, timeout=900, xfer=xfer, mem="2048M")
        text = result.file(f"result-{name}.json")
        data = json.loads(text) if text else {"ok": False, "error": result.output[-500:]}
        rows.append((name, data))
        print(f"{name}: {'ok' if data.get('ok') else 'FAILED'} in {data.get('seconds')} s",
              flush=True)
    print("\n| scenario | goal | measured | held |\n| --- | --- | --- | --- |")
    for name, data in rows:
        measured = json.dumps(data.get("metrics") or data.get("error"), separators=(", ", ": "))
        print(f"| {name} | {GOALS[name]} | {measured} | {'yes' if data.get('ok') else 'no'} |")
    return 0 if all(data.get("ok") for _, data in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
