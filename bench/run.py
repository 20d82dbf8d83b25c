"""Tunnel figures side by side from one test-bed run: pppossh, upstream's command line, and
the raw SSH channel, for dbclient and OpenSSH, on a LAN and on WAN-like paths.

``make bench`` (as root) boots the user-mode-linux test bed once.  For each profile
(:data:`PROFILES`: netem on both ends of the router's uplink) and each SSH client it measures
three rows, each ``BENCH_REPEATS`` times (3), interleaved:

- ``raw``: the client's own SSH channel to the same server (``dd`` of zeros into ``cat
  >/dev/null`` for up, ``head -c`` of zeros for down), the ceiling of any VPN over it;
- ``pppossh``: the real hook driven by the netifd double (``tests/uml/fake_netifd.py``, the
  contract in ``tests/golden/netifd``): setup is ``ifup`` to the first ping answered, first
  with the helper, then again after ``ifdown`` (the hook repeats the helper's saved plan);
- ``upstream``: the pppd command line OpenWrt's own ``pppossh`` handler hands netifd (its
  ``pty`` string and ``ppp.sh``'s generic options), through the same netifd double with a
  handler and ppp hooks that send what upstream's send (:meth:`Bench._upstream`);
- ``sshtun`` (OpenSSH only: dbclient has no ``-w``): ``proto sshtun``'s real hook through
  the same double, OpenSSH carrying a tun device, to the same sshd (root may open tunnels
  there), measured like ``pppossh``; its CPU column is the SSH client's alone.

Columns: setup s, and again s (the same once more: for the raw row a second login);
RTT idle, and while a bulk transfer runs up and down (ping every 0.2 s);
up and down Mbit/s (iperf3, ``BENCH_SECONDS`` s); 4 parallel flows up; client CPU seconds
per GB sent (pppd and the SSH client, from /proc).  Each is the median (min-max) of the
repeats, with the ratio of pppossh to upstream and to raw.  The server's dropbear runs with
the receive window pppossh's server role documents (``-W``, OpenWrt's RecvWindowSize).

UML makes system calls and process starts slow: compare figures within one run, never with
real hardware.  ``BENCH_PROFILES=lan BENCH_REPEATS=1`` gives a quick look.  Nothing here
asserts: it prints figures.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "uml"))

# netem on the router's uplink and on the server's end of it, each way
PROFILES: dict[str, list[str]] = {
    "lan": [],
    "wan": ["delay", "25ms"],
    "wan-loss": ["delay", "25ms", "loss", "0.5%"],
}
CLIENTS = ("dbclient", "openssh")
ROWS = ("raw", "pppossh", "upstream", "sshtun")
TUN_LOCAL, TUN_REMOTE = "10.97.0.2", "10.97.0.1"  # sshtun's link: the router's end, the server's


def rows_of(client: str) -> tuple[str, ...]:
    """The rows a client has: sshtun needs OpenSSH's client."""
    return tuple(r for r in ROWS if r != "sshtun" or client == "openssh")


def _target(row: str) -> tuple[str, str]:
    """(the server's end of the row's link, what ``ip route get`` names for it)."""
    from bed import REMOTE_TUN

    return (TUN_REMOTE, "dev tun") if row == "sshtun" else (REMOTE_TUN, "pppossh-")
COLUMNS = (  # key, heading, digits
    ("setup_s", "setup s", 2), ("again_s", "again s", 2), ("rtt_ms", "RTT ms", 1),
    ("rtt_up_ms", "RTT+up", 0), ("rtt_down_ms", "RTT+down", 0), ("up_mbit", "up Mbit/s", 1),
    ("down_mbit", "down", 1), ("p4_mbit", "4 flows", 1), ("cpu_s_gb", "CPU s/GB", 0),
)
UP_IFACE = "up"  # upstream's interface: its device is pppossh-up


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def guest() -> int:
    from bed import Bed
    from scenarios import _standard_bed

    from pppossh.plan.ssh import DBCLIENT_WINDOW

    repeats = _env_int("BENCH_REPEATS", 3)
    seconds = _env_int("BENCH_SECONDS", 5)
    profiles = (os.environ.get("BENCH_PROFILES") or ",".join(PROFILES)).split(",")
    bed = Bed(Path(tempfile.mkdtemp(prefix="bench-")))
    results: dict[str, Any] = {"repeats": repeats, "seconds": seconds, "profiles": {}}
    try:
        keys = _standard_bed(bed)
        bed.stop_dropbear()
        bed.start_dropbear(keys, window=DBCLIENT_WINDOW)
        _allow_root_tunnels(bed)
        bench = Bench(bed, keys, seconds)
        for profile in profiles:
            with _netem(PROFILES[profile]):
                table: dict[str, dict[str, list[dict[str, float]]]] = {}
                for client in CLIENTS:
                    rows = table.setdefault(client, {row: [] for row in rows_of(client)})
                    for _ in range(repeats):
                        for row in rows_of(client):
                            rows[row].append(bench.attempt(row, client))
                results["profiles"][profile] = {
                    "path_rtt_ms": bed.ping(bench.ssh_ip)["rtt_avg_ms"], "table": table}
    finally:
        bed.close()
    Path("/xfer/bench.json").write_text(json.dumps(results, indent=1))
    return 0


def _allow_root_tunnels(bed: Any) -> None:
    """The bench's sshd lets root open tun devices (for the sshtun row); a reload keeps it."""
    from bed import ROUTER, SSH_IP, SSHD_PORT, sh, wait_for

    config = bed.root / "sshd_config"
    config.write_text(config.read_text() + "PermitTunnel point-to-point\n")
    sh(["kill", "-HUP", (bed.root / "sshd.pid").read_text().strip()])
    probe = f"import socket; socket.create_connection(('{SSH_IP}', {SSHD_PORT}), 2).close()"
    wait_for(lambda: sh([sys.executable, "-c", probe], ns=ROUTER, check=False).returncode == 0,
             10, "sshd back after its reload")


class _netem:
    """netem on both ends of the router's uplink while the block runs."""

    def __init__(self, args: list[str]) -> None:
        self.args = args

    def __enter__(self) -> None:
        from bed import ROUTER, SERVER, sh

        if self.args:
            sh(["modprobe", "sch_netem"])
            for dev, ns in (("up0", ROUTER), ("down0", SERVER)):
                sh(["tc", "qdisc", "add", "dev", dev, "root", "netem", *self.args], ns=ns)

    def __exit__(self, *exc: object) -> None:
        from bed import ROUTER, SERVER, sh

        if self.args:
            for dev, ns in (("up0", ROUTER), ("down0", SERVER)):
                sh(["tc", "qdisc", "del", "dev", dev, "root"], ns=ns, check=False)


class Bench:
    """One measurement of one row: bring it up, measure, take it down."""

    def __init__(self, bed: Any, keys: Any, seconds: int) -> None:
        from bed import DROPBEAR_PORT, SSH_IP, SSHD_PORT

        self.bed, self.keys, self.seconds = bed, keys, seconds
        self.ssh_ip = SSH_IP
        # upstream's HOME and the raw channel's: root's own, as OpenSSH reads the account's
        # home whatever HOME says (the guest's /root is a throwaway overlay)
        self.home = Path("/root")
        (self.home / ".ssh").mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.home / ".ssh" / "known_hosts").write_text(
            f"{SSH_IP} {keys.dropbear_host_pub}\n[{SSH_IP}]:{SSHD_PORT} {keys.openssh_host_pub}\n")
        self.ports = {"dbclient": DROPBEAR_PORT, "openssh": SSHD_PORT}

    def attempt(self, row: str, client: str) -> dict[str, Any]:
        """One measurement; a failure is recorded (and counted in the table), the run goes on
        with a fresh iperf3 server."""
        try:
            return self.measure(row, client)
        except Exception as exc:  # a long run must not end at its 40th measurement
            from bed import SERVER, sh

            sh("pkill -x iperf3; sleep 1", ns=SERVER, check=False)
            self.bed.start_iperf()
            return {"error": f"{type(exc).__name__}: {exc}"[:300]}

    def measure(self, row: str, client: str) -> dict[str, float]:
        if row == "raw":
            return self._raw(client)
        return self._tunnel(row, client)

    # --- the raw SSH channel --------------------------------------------------------------
    def _ssh(self, client: str, command: str) -> str:
        """The client's command line into ``command`` on the server (as upstream runs it)."""
        from pppossh.plan.ssh import DBCLIENT_WINDOW

        key = self.keys.client_dropbear if client == "dbclient" else self.keys.client_openssh
        # dbclient with pppossh's receive window, so that the ceiling is the channel's
        program = f"dbclient -W {DBCLIENT_WINDOW}" if client == "dbclient" else "ssh"
        return (f"env HOME={self.home} {program} -i {key} -p {self.ports[client]}"
                f" root@{self.ssh_ip} '{command}'")

    def _raw(self, client: str) -> dict[str, float]:
        from bed import ROUTER, sh

        mib = 16
        setups = []
        for _ in range(2):
            started = time.monotonic()
            sh(self._ssh(client, "true"), ns=ROUTER, timeout=60)
            setups.append(time.monotonic() - started)
        rtt = self.bed.ping(self.ssh_ip, count=10)["rtt_avg_ms"]
        pinger = _Pinger(self.ssh_ip)
        up_s, cpu = _timed_cpu(f"dd if=/dev/zero bs=1M count={mib} 2>/dev/null |"
                               f" {self._ssh(client, 'cat >/dev/null')}")
        rtt_up = pinger.stop()
        pinger = _Pinger(self.ssh_ip)
        down_s, _ = _timed_cpu(f"{self._ssh(client, f'head -c {mib << 20} /dev/zero')}"
                               " >/dev/null")
        rtt_down = pinger.stop()
        mbit = mib * 8 * 1.048576
        return {"setup_s": setups[0], "again_s": setups[1], "rtt_ms": rtt,
                "rtt_up_ms": rtt_up, "rtt_down_ms": rtt_down,
                "up_mbit": mbit / up_s, "down_mbit": mbit / down_s,
                "cpu_s_gb": cpu / (mib / 1024 * 1.073741824)}

    # --- tunnels --------------------------------------------------------------------------
    def _tunnel(self, row: str, client: str) -> dict[str, float]:
        start, stop = {"pppossh": self._pppossh, "upstream": self._upstream,
                       "sshtun": self._sshtun}[row](client)
        target = _target(row)[0]
        figures = {"setup_s": self._up(row, client, start)}
        stop()
        self._gone(row, client)
        # the same again: pppossh's hook now repeats the plan its helper saved
        figures["again_s"] = self._up(row, client, start)
        try:
            figures["rtt_ms"] = self.bed.ping(target, count=10)["rtt_avg_ms"]
            tree = _tun_client_pid() if row == "sshtun" else \
                _pppd_pid(UP_IFACE if row == "upstream" else "vpn")
            cpu_before = _tree_cpu(tree)
            pinger = _Pinger(target)
            up = _iperf(target, self.seconds)
            figures["rtt_up_ms"] = pinger.stop()
            cpu = _tree_cpu(tree) - cpu_before
            figures["up_mbit"] = up["mbit"]
            figures["cpu_s_gb"] = cpu / (up["bytes"] / 1e9) if up["bytes"] else 0.0
            pinger = _Pinger(target)
            figures["down_mbit"] = _iperf(target, self.seconds, reverse=True)["mbit"]
            figures["rtt_down_ms"] = pinger.stop()
            figures["p4_mbit"] = _iperf(target, self.seconds, flows=4)["mbit"]
        finally:
            stop()
        self._gone(row, client)
        return figures

    def _up(self, row: str, client: str, start: Callable[[], None]) -> float:
        """Seconds from ``start`` to the first ping answered through the tunnel."""
        from bed import ROUTER, sh, wait_for

        target, device = _target(row)
        started = time.monotonic()
        start()
        # the peer's route appears with IPCP (sshtun: the ready line); a ping before it would
        # wait its timeout
        wait_for(lambda: device in sh(["ip", "route", "get", target], ns=ROUTER,
                                      check=False, timeout=5).stdout,
                 60, f"{row} {client}: the link", interval=0.05)
        wait_for(lambda: sh(["ping", "-c1", "-W1", target], ns=ROUTER, check=False,
                            timeout=5).returncode == 0, 30, f"{row} {client}: first ping",
                 interval=0.05)
        return time.monotonic() - started

    def _gone(self, row: str, client: str) -> None:
        from bed import ROUTER, processes, sh, wait_for

        def left() -> list[str]:
            found = [x for iface in ("vpn", UP_IFACE) for x in self.bed.leftovers(iface)]
            if row == "sshtun":  # no pppd there: the client and its tun device
                found += processes(r"(^|/)ssh .*-w")
                found += [line for line in sh(["ip", "-o", "link"], ns=ROUTER).stdout
                          .splitlines() if ": tun" in line]
            return found

        wait_for(lambda: not left(), 30, f"{row} {client}: nothing left after it stopped")

    def _pppossh(self, client: str) -> tuple[Callable[[], None], Callable[[], None]]:
        """(ifup, ifdown) of the netifd double, with the hook, helper and ubus in place."""
        import fake_netifd
        from bed import ROUTER, VENV_BIN
        from scenarios import _vpn, netns_enter

        fake_netifd.install(VENV_BIN)
        netns_enter(ROUTER)  # netifd and its hook live in the router's namespace
        # the first setup of a section runs the helper: no plan saved by an earlier round
        Path("/var/run/pppossh/vpn/relay").unlink(missing_ok=True)
        netifd = fake_netifd.FakeNetifd("vpn", _vpn(self.keys, client, peer_pppd_options=""))
        return netifd.ifup, netifd.ifdown

    def _sshtun(self, client: str) -> tuple[Callable[[], None], Callable[[], None]]:
        """(ifup, ifdown) of a ``proto sshtun`` interface through the netifd double: OpenSSH
        as root to the bench's sshd, the server's end addressed by the session script."""
        import fake_netifd
        from bed import ROUTER, SSH_IP, SSHD_PORT, VENV_BIN
        from scenarios import netns_enter

        fake_netifd.install(VENV_BIN)
        netns_enter(ROUTER)
        section = {"proto": "sshtun", "server": SSH_IP, "port": str(SSHD_PORT),
                   "sshuser": "root", "identity": [str(self.keys.client_openssh)],
                   "hostkey": [self.keys.openssh_host_pub], "ipaddr": TUN_LOCAL,
                   "peeraddr": TUN_REMOTE, "remote_unit": "0", "defaultroute": "0"}
        netifd = fake_netifd.FakeNetifd("tun", section, proto="sshtun")
        return netifd.ifup, netifd.ifdown

    def _upstream(self, client: str) -> tuple[Callable[[], None], Callable[[], None]]:
        """(ifup, ifdown) of upstream's way through the same netifd double: a handler that
        does what OpenWrt's own pppossh handler does at setup (pin the server, hand netifd
        ``ppp_generic_setup``'s pppd with ``noauth pty "env 'HOME=…' /usr/bin/ssh -i KEY -p
        PORT user@server pppd nodetach notty noauth" ipaddr:peeraddr``), and ip-up/ip-down
        hooks that send what OpenWrt's ppp-up/ppp-down send.  The values are written into
        the scripts (the double has no jshn to read them from the config JSON)."""
        import fake_netifd
        from bed import LOCAL_TUN, REMOTE_TUN, ROUTER, VENV_BIN
        from scenarios import netns_enter

        key = self.keys.client_dropbear if client == "dbclient" else self.keys.client_openssh
        program = "dbclient" if client == "dbclient" else "ssh"
        pty = (f"env 'HOME={self.home}' {program} -i {key} -p {self.ports[client]}"
               f" root@{self.ssh_ip} pppd nodetach notty noauth")
        lib = fake_netifd.PROTO_DIR.parent
        argv = ["/usr/sbin/pppd", "nodetach", "ipparam", UP_IFACE, "ifname",
                f"pppossh-{UP_IFACE}", "lcp-echo-interval", "1", "lcp-echo-failure", "5",
                "lcp-echo-adaptive", "noipv6", "nodefaultroute", "usepeerdns", "maxfail", "1",
                "ip-up-script", str(lib / "upstream-ppp-up"), "ip-down-script",
                str(lib / "upstream-ppp-down"), "noauth", "pty", pty, f"{LOCAL_TUN}:{REMOTE_TUN}"]
        fake_netifd.install(VENV_BIN)
        (fake_netifd.PROTO_DIR / "upstream.sh").write_text(UPSTREAM_HANDLER.format(
            server=self.ssh_ip, argv=shlex.join(argv)))
        for name, text in (("upstream-ppp-up", UPSTREAM_UP), ("upstream-ppp-down", UPSTREAM_DOWN)):
            (lib / name).write_text(text)
            (lib / name).chmod(0o755)
        netns_enter(ROUTER)
        netifd = fake_netifd.FakeNetifd(UP_IFACE, {"proto": "upstream", "defaultroute": "0"},
                                        proto="upstream")
        return netifd.ifup, netifd.ifdown


# upstream's way, for the bench: see Bench._upstream
UPSTREAM_HANDLER = """#!/bin/sh
. ../netifd-proto.sh
init_proto "$@"
proto_upstream_init_config() {{
	available=1
	no_device=1
}}
proto_upstream_setup() {{
	proto_add_host_dependency "$1" {server}
	proto_run_command "$1" {argv}
}}
proto_upstream_teardown() {{
	proto_kill_command "$1"
}}
add_protocol upstream
"""
UPSTREAM_UP = """#!/bin/sh
. /lib/netifd/netifd-proto.sh
proto_init_update "$IFNAME" 1 1
proto_set_keep 1
[ -n "$IPLOCAL" ] && proto_add_ipv4_address "$IPLOCAL" 32 "" "$IPREMOTE"
[ -n "$IPREMOTE" ] && proto_add_ipv4_route 0.0.0.0 0 "$IPREMOTE"
[ -n "$DNS1" ] && proto_add_dns_server "$DNS1"
proto_send_update "$6"
"""
UPSTREAM_DOWN = """#!/bin/sh
. /lib/netifd/netifd-proto.sh
proto_init_update "$IFNAME" 0
proto_send_update "$6"
"""


class _Pinger:
    """A ping every 0.2 s to ``target`` until :meth:`stop`; the mean RTT in ms."""

    def __init__(self, target: str) -> None:
        from bed import ROUTER

        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ROUTER, "ping", "-i", "0.2", "-W", "5", target],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def stop(self) -> float:
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=15)
        times = [float(t) for t in re.findall(r"time=([\d.]+) ms", out)]
        return statistics.fmean(times) if times else -1.0


def _timed_cpu(command: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of it and every descendant) of a shell command run in the
    router's namespace."""
    from bed import ROUTER

    started = time.monotonic()
    proc = subprocess.Popen(["ip", "netns", "exec", ROUTER, "sh", "-c", command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise AssertionError(f"{command!r} exited {proc.returncode}")
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime


def _iperf(target: str, seconds: int, reverse: bool = False, flows: int = 1) -> dict[str, float]:
    """iperf3 through the tunnel; an iperf3 error (a server still busy with a test whose
    client went away) raises with iperf3's own words."""
    from bed import ROUTER, sh

    out = sh(["iperf3", "-c", target, "-t", str(seconds), "-P", str(flows), "-J",
              *(["-R"] if reverse else [])], ns=ROUTER, timeout=seconds + 30,
             check=False).stdout
    data = json.loads(out or "{}")
    end = data.get("end", {})
    if "sum_received" not in end:
        raise RuntimeError(f"iperf3: {data.get('error', out[-300:])}")
    return {"mbit": end["sum_received"]["bits_per_second"] / 1e6,
            "bytes": float(end["sum_sent"]["bytes"])}


def _find_process(wanted: Callable[[list[bytes]], bool], what: str) -> int:
    """The pid of the first process whose argv ``wanted`` accepts."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and wanted(argv):
                return int(entry.name)
    raise AssertionError(f"no {what}")


def _pppd_pid(iface: str) -> int:
    return _find_process(lambda argv: argv[0].endswith(b"pppd") and iface.encode() in argv[:4],
                         f"pppd with ipparam {iface}")


def _tun_client_pid() -> int:
    """The SSH client carrying the sshtun row's tunnel (it alone does the work there)."""
    return _find_process(lambda argv: argv[0].endswith(b"ssh") and b"-w" in argv,
                         "ssh -w client")


def _tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and its living descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    wanted = {root}
    for _ in range(8):  # pppd -> sh -> ssh: a few generations
        wanted |= {pid for pid, (ppid, _) in stats.items() if ppid in wanted}
    return sum(stats[pid][1] for pid in wanted if pid in stats)


# --- the host side: boot the guest, print the table ------------------------------------------


def _cell(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def table(results: dict[str, Any]) -> str:
    """The side-by-side table, one block per profile, Markdown."""
    out = [f"{results['repeats']} runs each, median (min-max); iperf3 {results['seconds']} s;"
           " RTT+up/RTT+down: ping during the bulk transfer"]
    for profile, data in results["profiles"].items():
        out.append(f"\n**{profile}** ({' '.join(PROFILES[profile]) or 'no netem'};"
                   f" path RTT {data['path_rtt_ms']} ms)\n")
        out.append("| client | row | " + " | ".join(h for _, h, _ in COLUMNS) + " |")
        out.append("|---|---|" + "---|" * len(COLUMNS))
        for client, rows in data["table"].items():
            for row in [r for r in ROWS if r in rows]:
                runs = rows[row]
                cells = [_cell([r[k] for r in runs if k in r], d) for k, _, d in COLUMNS]
                out.append(f"| {client} | {row} | " + " | ".join(cells) + " |")
            out.append(f"| {client} | pppossh/upstream | "
                       + " | ".join(_ratio(rows, "pppossh", "upstream", k) for k, _, _ in COLUMNS)
                       + " |")
            out.append(f"| {client} | pppossh/raw | "
                       + " | ".join(_ratio(rows, "pppossh", "raw", k) for k, _, _ in COLUMNS)
                       + " |")
            if "sshtun" in rows:
                out.append(f"| {client} | sshtun/pppossh | " + " | ".join(
                    _ratio(rows, "sshtun", "pppossh", k) for k, _, _ in COLUMNS) + " |")
        failed = [f"- {client} {row}: {run['error']}" for client, rows in data["table"].items()
                  for row in rows for run in rows[row] if "error" in run]
        if failed:
            out.append("\nfailed runs (left out of the figures):\n" + "\n".join(failed))
    return "\n".join(out)


def _ratio(rows: dict[str, list[dict[str, float]]], a: str, b: str, key: str) -> str:
    x = [r[key] for r in rows[a] if key in r]
    y = [r[key] for r in rows[b] if key in r]
    if not x or not y or statistics.median(y) <= 0:
        return "-"
    return f"{statistics.median(x) / statistics.median(y):.2f}"


def host() -> int:
    import testbed

    reason = testbed.available()
    if reason:
        print(f"bench: {reason}", file=sys.stderr)
        return 1
    xfer = Path(tempfile.mkdtemp(prefix="pppossh-bench-"))
    env = " ".join(f"{k}={os.environ[k]}" for k in ("BENCH_REPEATS", "BENCH_SECONDS",
                                                     "BENCH_PROFILES") if os.environ.get(k))
    result = testbed.run(f"{env} {sys.executable} {Path(__file__).resolve()} --guest",
                         timeout=3600, xfer=xfer)
    data = json.loads(result.file("bench.json") or "{}")
    if result.rc != 0 or not data:
        print(result.output[-4000:], file=sys.stderr)
        return 1
    print(table(data))
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    sys.exit(guest() if sys.argv[1:] == ["--guest"] else host())
