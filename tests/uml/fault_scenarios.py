"""Reliability scenarios of issue 13, run inside the test-bed guest by ``guest.py``.

Two tunnels run side by side, so that one guest covers both clients and both run modes:
``vpn`` over dbclient to dropbear under the netifd double (the router's case: the hook, the
back-off wait as netifd's proto task, the real shell), and ``vpn2`` over OpenSSH to sshd in
standalone mode (the supervisor).  Both take the defaults for every timer.

- ``black_hole``: with traffic flowing, every packet between router and server is dropped,
  both ways, in silence (iptables DROP in each end's INPUT: no RST, no ICMP).  Each tunnel
  notices within 15 s; the server's pppd ends its side too (its LCP echo) before the path
  returns, so no stale session holds the tunnel's routes; once the path returns, both tunnels
  come back by themselves and carry traffic.
- ``load``: 64 TCP flows through each tunnel for 60 s (vpn uploads, vpn2 downloads) with a
  ping beside them: both stay up with the same sessions on both ends (no LCP echo false
  positive); throughput and the ping's loss and delay are reported.
- ``ipv6``: a server reachable over IPv6 alone, ``ipv6 auto``: the /128 host dependency,
  IPv6CP link-local addresses, ping6 through the tunnel, the DHCPv6 interface asked of netifd.
- ``kill_pieces``: under the netifd double, SIGKILL to dbclient, the local pppd, the remote
  pppd, the helper at points of its setup and dropbear's session during the login; garbage
  in the state file; a full /var/run.  Each ends in recovery or a clear error, with one
  pppd, one device and one server session, and nothing that blocks the next ifup.
- ``scale``: 8 tunnels (32 in ``make bench``, ``PPPOSSH_SCALE``) from one router to one
  dropbear server as ``pppossh peer`` peers with forced commands, set up at once.
- ``server_outage``: the SSH servers stop, with every session they had, for 20 s.  Few
  attempts are made in the outage, none of them a login; once a server's port answers
  again, its tunnel is up within seconds, and the server logged one bare connection (the
  port probe) and one login, nothing a ban tool counts as a failed login.
- ``uplink_change``: a second uplink with a better metric comes up: each tunnel moves its SSH
  connection onto it once and stays; when it goes down, both come back over the first.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from bed import (
    DROPBEAR_PORT,
    REMOTE_TUN,
    REPO,
    ROUTER,
    ROUTER_IP,
    SERVER,
    SERVER_LINK_IP,
    SSH_IP,
    SSHD_PORT,
    VENV_BIN,
    Bed,
    BedError,
    Keys,
    ping_stats,
    processes,
    sh,
    step,
    wait_for,
)
from scenarios import _standard_bed, _vpn, netns_enter, remote_pppd_sessions

from pppossh.run.uplink import CHECK_EVERY

LOCAL_TUN2, REMOTE_TUN2 = "10.99.1.1", "10.99.1.2"
DETECT_GOAL = 15.0  # seconds from the black hole to the tunnel reported down
HOLE = 35.0  # seconds the path stays black-holed: longer than the server's LCP echo
OUTAGE = 20.0


def _hole(on: bool) -> None:
    """Drop everything between router and server in each end's INPUT: a silent black hole."""
    op = "-I" if on else "-D"
    sh(f"iptables-legacy {op} INPUT -s {SSH_IP} -j DROP", ns=ROUTER)
    sh(f"iptables-legacy {op} INPUT -s {ROUTER_IP} -j DROP", ns=SERVER)


def _pings(target: str) -> bool:
    return sh(["ping", "-c1", "-W1", target], ns=ROUTER, check=False, timeout=5).returncode == 0


def _pids(pattern: str) -> list[int]:
    return [int(line.split(":")[0]) for line in processes(pattern)]


class Pair:
    """``vpn`` (dbclient, netifd double) and ``vpn2`` (OpenSSH, standalone), both up."""

    def __init__(self, bed: Bed, prepare: Callable[[], object] | None = None,
                 uplinks: list | None = None) -> None:
        """``prepare``: runs once the network and servers are there, before the tunnels;
        ``uplinks``: the netifd double's uplink interfaces (fake_netifd.Uplink)."""
        import fake_netifd

        self.bed = bed
        self.keys: Keys = _standard_bed(bed)
        sh("modprobe ip_tables; modprobe iptable_filter; true", check=False)
        if prepare:
            prepare()
        bed.write_network({"vpn2": _vpn(self.keys, "openssh", ipaddr=LOCAL_TUN2,
                                        peeraddr=REMOTE_TUN2)})
        started = time.monotonic()
        up = bed.pppossh("up", "vpn2")
        assert up.returncode == 0, up.stdout + up.stderr
        wait_for(lambda: _pings(REMOTE_TUN2), 30, "vpn2 (standalone, OpenSSH) to carry traffic")
        self.setup_s = {"vpn2": round(time.monotonic() - started, 1)}  # each one alone
        fake_netifd.install(VENV_BIN)
        netns_enter(ROUTER)  # netifd, its hook and its tasks live in the router's namespace
        self.netifd = fake_netifd.FakeNetifd("vpn", _vpn(self.keys, "dbclient"), uplinks=uplinks)
        started = time.monotonic()
        self.netifd.ifup()
        wait_for(lambda: self.netifd.status()["up"] and _pings(REMOTE_TUN), 60,
                 "vpn (netifd, dbclient) to carry traffic")
        self.setup_s["vpn"] = round(time.monotonic() - started, 1)
        step("both tunnels up: vpn (dbclient, netifd) and vpn2 (OpenSSH, standalone)")

    def up(self) -> dict[str, Callable[[], bool]]:
        """Whether each tunnel reports itself up."""
        return {"vpn": lambda: bool(self.netifd.status()["up"]),
                "vpn2": lambda: bool(self.bed.status("vpn2")["up"])}

    def carries(self) -> dict[str, Callable[[], bool]]:
        return {"vpn": lambda: _pings(REMOTE_TUN), "vpn2": lambda: _pings(REMOTE_TUN2)}

    def close(self) -> None:
        self.netifd.ifdown()
        down = self.bed.pppossh("down", "vpn2")
        assert down.returncode == 0, down.stdout + down.stderr
        wait_for(lambda: not self.bed.leftovers() and not self.bed.leftovers("vpn2"), 20,
                 "nothing left of either tunnel")


def _until_each(checks: dict[str, Callable[[], bool]], timeout: float,
                what: str) -> dict[str, float]:
    """Seconds until each check first holds, polled side by side."""
    started, found = time.monotonic(), {}
    while len(found) < len(checks):
        for name, check in checks.items():
            if name not in found and check():
                found[name] = round(time.monotonic() - started, 1)
        if time.monotonic() - started > timeout:
            missing = sorted(set(checks) - set(found))
            raise AssertionError(f"gave up after {timeout} s waiting for {what}: {missing}")
        time.sleep(0.2)
    return found


def black_hole(bed: Bed) -> dict:
    pair = Pair(bed)
    sh(f"ip netns exec {ROUTER} ping -i 0.2 -c 1000 -W 1 {REMOTE_TUN} >/dev/null 2>&1 &"
       f" ip netns exec {ROUTER} ping -i 0.2 -c 1000 -W 1 {REMOTE_TUN2} >/dev/null 2>&1 &",
       check=False)
    time.sleep(2)
    assert len(remote_pppd_sessions()) == 2, remote_pppd_sessions()
    step("black hole between router and server")
    holed = time.monotonic()
    _hole(True)
    try:
        down = {name: lambda c=check: not c() for name, check in pair.up().items()}
        detect = _until_each(down, 60, "each tunnel to notice the black hole")
        step(f"noticed after {detect} s (goal {DETECT_GOAL} s)")
        # the server's pppd ends its side on its own (REMOTE_LCP_ECHO), path still dead
        wait_for(lambda: not remote_pppd_sessions(), HOLE - (time.monotonic() - holed) - 1,
                 "the server's pppd sessions to end while the path is dead")
        server_gone = round(time.monotonic() - holed, 1)
        step(f"the server's pppd sessions ended {server_gone} s into the black hole")
        time.sleep(max(0.0, HOLE - (time.monotonic() - holed)))
    finally:
        _hole(False)
    step("path back")
    back = _until_each(pair.carries(), 90, "each tunnel to carry traffic again")
    step(f"traffic through each tunnel again after {back} s")
    sh("pkill -f 'ping -i 0.2' || true", check=False)
    wait_for(lambda: len(remote_pppd_sessions()) == 2, 20, "one server pppd per tunnel")
    assert sh(["ip", "-o", "link"], ns=ROUTER).stdout.count("pppossh-") == 2
    pair.close()
    for name, seconds in detect.items():
        assert seconds <= DETECT_GOAL, f"{name} noticed the black hole after {seconds} s"
    return {"detect_s": detect, "server_side_ended_s": server_gone, "back_after_path_s": back}


def _stop_servers(bed: Bed) -> None:
    """dropbear and sshd stop, with every session they forked: a server restart."""
    for pidfile in ("dropbear.pid", "sshd.pid"):
        path = bed.root / pidfile
        pid = int(path.read_text().split()[0]) if path.exists() else 0
        if pid in bed.started:
            bed.started.remove(pid)
    for line in processes(r"^(/usr/sbin/)?(dropbear|sshd)\b"):
        os.kill(int(line.split(":")[0]), signal.SIGTERM)
    wait_for(lambda: not processes(r"^(/usr/sbin/)?(dropbear|sshd)\b"), 10, "servers to stop")
    (bed.root / "dropbear.pid").unlink(missing_ok=True)
    (bed.root / "sshd.pid").unlink(missing_ok=True)


def _attempts(pair: Pair) -> tuple[Callable[[], int], Callable[[], None]]:
    """(count, poll): attempts seen so far, netifd's setups for vpn and the supervisor's
    distinct attempt start times for vpn2."""
    seen: set[float] = set()
    start_setups = pair.netifd.status()["setups"]

    def poll() -> None:
        started = pair.bed.state("vpn2").get("attempt_started")
        if started:
            seen.add(started)

    poll()
    first = set(seen)

    def count() -> int:
        return pair.netifd.status()["setups"] - start_setups + len(seen - first)
    return count, poll


def server_outage(bed: Bed) -> dict:
    pair = Pair(bed)
    logs = {"dropbear": bed.root / "dropbear.log", "sshd": bed.root / "sshd.log"}
    step(f"stopping dropbear and sshd with their sessions for {OUTAGE:g} s")
    stopped = time.monotonic()
    _stop_servers(bed)
    count, poll = _attempts(pair)
    down = {name: lambda c=check: not c() for name, check in pair.up().items()}
    _until_each(down, 30, "each tunnel to see its session end")
    while time.monotonic() - stopped < OUTAGE:
        poll()
        time.sleep(0.3)
    attempts = count()
    sizes = {name: path.stat().st_size if path.exists() else 0 for name, path in logs.items()}
    step(f"{attempts} attempts in the outage (both tunnels); starting the servers again")
    bed.start_dropbear(pair.keys)  # each returns once its server wrote its pid: listening
    listening = {"vpn": time.monotonic()}
    bed.start_sshd(pair.keys)
    listening["vpn2"] = time.monotonic()
    polled = time.monotonic()
    found = _until_each(pair.carries(), 60, "each tunnel to carry traffic again")
    recovery = {name: round(found[name] + polled - listening[name], 1) for name in found}
    step(f"traffic again {recovery} s after each server listened")
    logged = {name: path.read_text(errors="replace")[sizes[name]:]
              for name, path in logs.items()}
    connections = {"dropbear": logged["dropbear"].count("Child connection from"),
                   "sshd": logged["sshd"].count(f"Connection from {ROUTER_IP}")}
    failed = [line for text in logged.values() for line in text.splitlines()
              if any(w in line for w in ("Failed", "Bad ", "Invalid user", "authentication"
                                                                             " failure"))]
    step(f"server logs since the restart: {connections} connections, failed logins: {failed}")
    pair.close()
    assert attempts <= 2 * 5, f"{attempts} attempts in a {OUTAGE:g} s outage (two tunnels)"
    assert not failed, failed
    for name, total in connections.items():
        assert total <= 2, f"{name} saw {total} connections: probe and login at most"
    for name, seconds in recovery.items():
        assert seconds <= 15, f"{name} came back {seconds} s after its server"
    return {"attempts_in_outage": attempts, "recovery_s": recovery,
            "server_connections": connections}


LOAD_FLOWS, LOAD_SECONDS = 64, 60


def load(bed: Bed) -> dict:
    """64 TCP flows through each tunnel for 60 s (vpn uploads, vpn2 downloads), a ping beside
    them: both stay up, with the same sessions on both ends, and the ping is reported."""
    import subprocess

    pair = Pair(bed)
    pidfile = bed.root / "iperf2.pid"
    sh(f"iperf3 -s -p 5202 -D -I {pidfile} >/dev/null 2>&1", ns=SERVER)
    bed.started.append(int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(),
                                    10, "the second iperf3")))
    setups = pair.netifd.status()["setups"]
    vpn2_pppd = bed.status("vpn2")["pppd_pid"]
    sessions = sorted(remote_pppd_sessions())
    step(f"{LOAD_FLOWS} flows through each tunnel for {LOAD_SECONDS} s, pinging beside them")
    runs = {}
    for name, target, extra in (("vpn", REMOTE_TUN, []), ("vpn2", REMOTE_TUN2,
                                                          ["-p", "5202", "-R"])):
        runs[name] = subprocess.Popen(
            ["ip", "netns", "exec", ROUTER, "iperf3", "-c", target, "-P", str(LOAD_FLOWS),
             "-t", str(LOAD_SECONDS), "-J", *extra], stdout=subprocess.PIPE, text=True)
    pings = {name: subprocess.Popen(
        ["ip", "netns", "exec", ROUTER, "ping", "-i", "0.5", "-W", "5",
         "-c", str(LOAD_SECONDS * 2 - 4), target], stdout=subprocess.PIPE, text=True)
        for name, target in (("vpn", REMOTE_TUN), ("vpn2", REMOTE_TUN2))}
    import json

    mbit, flow_errors = {}, {}
    for name, proc in runs.items():
        out, _ = proc.communicate(timeout=LOAD_SECONDS + 120)
        data = json.loads(out)
        # iperf3 ends the whole run when one of its 64 connections times out (seen once in
        # CI, cause not found yet): reported; whether the tunnel stayed up is checked below
        if "error" in data:
            flow_errors[name] = data["error"]
        received = data.get("end", {}).get("sum_received", {}).get("bits_per_second", 0)
        mbit[name] = round(received / 1e6, 2)
    ping = {name: ping_stats(proc.communicate(timeout=60)[0]) for name, proc in pings.items()}
    step(f"under load: {mbit} Mbit/s, ping {ping}, iperf3 errors {flow_errors}")
    # no LCP echo false positive on either end: the same sessions, never a new setup
    assert pair.netifd.status()["up"] and pair.netifd.status()["setups"] == setups
    status = bed.status("vpn2")
    assert status["up"] and status["pppd_pid"] == vpn2_pppd and not status["failures"], status
    assert sorted(remote_pppd_sessions()) == sessions
    for name, stats in ping.items():  # the loss is reported; some must have got through
        assert stats["loss_pct"] < 90, f"{name}: {stats}"
    pair.close()
    return {"flows": LOAD_FLOWS, "seconds": LOAD_SECONDS, "mbit": mbit, "ping": ping,
            "iperf3_errors": flow_errors}


ROUTER_IP6, SERVER_LINK_IP6, SSH_IP6 = "2001:db8:1::1", "2001:db8:1::2", "2001:db8:2::1"


def _ipv6_network(bed: Bed, keys: Keys) -> None:
    """IPv6 on the router-server link, and the SSH server's IPv6 address: the router reaches
    it through its IPv6 default route only."""
    for ns in (ROUTER, SERVER):
        sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0",
           ns=ns)
    sh(f"ip -6 addr add {ROUTER_IP6}/64 dev up0 nodad"
       f" && ip -6 route add default via {SERVER_LINK_IP6}", ns=ROUTER)
    sh(f"ip -6 addr add {SERVER_LINK_IP6}/64 dev down0 nodad"
       f" && ip -6 addr add {SSH_IP6}/128 dev lo nodad", ns=SERVER)
    pidfile = bed.root / "dropbear6.pid"
    sh(f"dropbear -r {keys.dropbear_host} -p [{SSH_IP6}]:22 -s -P {pidfile} -E"
       f" >>{bed.root / 'dropbear6.log'} 2>&1", ns=SERVER)
    bed.started.append(int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(),
                                    10, "dropbear on IPv6")))


# pppd 2.4.9 (Debian, the bed) takes no ipv6-up-script option and always runs /etc/ppp/ipv6-up;
# 2.5 (OpenWrt) runs pppossh's hook by that option.  In the guest's throwaway root the bed puts
# the hook there for the router's pppd (PPPOSSH_MODE set), and Debian's script for the rest.
IPV6_UP_SHIM = """#!/bin/sh
[ "$PPPOSSH_MODE" = netifd ] && exec {hook} "$@"
exec /etc/ppp/ipv6-up.debian "$@"
"""


def ipv6(bed: Bed) -> dict:
    """Scenario 6 of issue 13, under the netifd double with dbclient: a server reachable
    only over IPv6 (its host dependency pinned as a /128), ipv6 'auto' on the link: IPv6CP
    link-local addresses on both ends, IPv6 traffic through the tunnel, and the DHCPv6
    interface vpn_6 asked of netifd as OpenWrt's ppp6-up asks for it."""
    import fake_netifd

    sh("modprobe ipv6")  # the guest's kernel has IPv6 as a module: before the namespaces
    keys = _standard_bed(bed)
    _ipv6_network(bed, keys)
    shim = Path("/etc/ppp/ipv6-up")
    os.rename(shim, "/etc/ppp/ipv6-up.debian")
    bed.cleanup.append(lambda: os.replace("/etc/ppp/ipv6-up.debian", shim))
    shim.write_text(IPV6_UP_SHIM.format(hook=REPO / "pppossh/ppp/ipv6-up"))
    shim.chmod(0o755)
    fake_netifd.install(VENV_BIN)
    netns_enter(ROUTER)
    section = _vpn(keys, "dbclient", server=SSH_IP6, ipv6="auto",
                   peer_pppd_options="ms-dns 192.0.2.53 +ipv6")
    netifd = fake_netifd.FakeNetifd("vpn", section)
    netifd.ifup()
    wait_for(lambda: netifd.status()["up"] and _pings(REMOTE_TUN), 60,
             "the tunnel to the IPv6-only server")
    assert netifd.log[0]["action"] == 6 and netifd.log[0]["host"] == SSH_IP6, netifd.log[0]
    pinned = sh(["ip", "-6", "route", "show", f"{SSH_IP6}/128"]).stdout
    assert "dev up0" in pinned, pinned
    events = Path("/var/run/pppossh/vpn/link-events")
    wait_for(lambda: events.exists() and "ipv6-up" in events.read_text(), 20, "IPv6CP")
    line = next(x for x in events.read_text().splitlines() if x.startswith("ipv6-up"))
    fields = dict(word.split("=", 1) for word in line.split()[1:])
    local6, remote6 = fields["local6"], fields["remote6"]
    assert local6.startswith("fe80::") and remote6.startswith("fe80::"), line
    assert any(a["ipaddr"] == local6 for a in netifd.update.get("ip6addr", [])) or \
        any("ip6addr" in m for m in netifd.log if m["action"] == 0), netifd.log
    wait_for(lambda: netifd.dynamic, 10, "the DHCPv6 interface request")
    assert netifd.dynamic[0] == {"name": "vpn_6", "ifname": "@vpn", "proto": "dhcpv6"}
    ping6 = sh(["ping", "-6", "-c", "5", "-i", "0.2", "-W", "2", f"{remote6}%pppossh-vpn"],
               check=False, timeout=20)
    stats = ping_stats(ping6.stdout)
    assert stats["loss_pct"] == 0, ping6.stdout + ping6.stderr
    step(f"IPv6-only server {SSH_IP6}, /128 pinned; IPv6CP {local6} <-> {remote6},"
         f" ping6 {stats}; {netifd.dynamic[0]}")
    netifd.ifdown()
    wait_for(lambda: not bed.leftovers(), 15, "pppd and dbclient to end after ifdown")
    assert not sh(["ip", "-6", "route", "show", f"{SSH_IP6}/128"]).stdout.strip()
    return {"server": SSH_IP6, "local6": local6, "remote6": remote6,
            "ping6_rtt_ms": stats["rtt_avg_ms"]}


def _one_of_each() -> None:
    """A running tunnel has one local pppd, one pppossh-vpn device and one server session."""
    assert len(processes(r"pppd nodetach ipparam vpn ")) == 1, processes(r"pppd nodetach")
    assert sh(["ip", "-o", "link"]).stdout.count("pppossh-vpn") == 1
    wait_for(lambda: len(remote_pppd_sessions()) == 1, 30,
             f"one server pppd session (have {remote_pppd_sessions()})")


def _clean_ifdown(bed: Bed, netifd) -> None:
    netifd.ifdown()
    wait_for(lambda: not bed.leftovers(), 15, "nothing left after ifdown")
    wait_for(lambda: not remote_pppd_sessions(), 30, "the server's side to end too")


def kill_pieces(bed: Bed) -> dict:
    """Scenario 3 of issue 13, under the netifd double with dbclient: each piece killed with
    SIGKILL (dbclient, the local pppd, the remote pppd, the helper at points of its setup,
    dropbear's session during the login), a state file with garbage in it and a full run
    directory.  Each ends in recovery or in a clear error, with one pppd, one device and one
    server session afterwards, nothing left after ifdown, and nothing that blocks the next
    ifup."""
    import subprocess
    import threading

    import fake_netifd

    keys = _standard_bed(bed)
    fake_netifd.install(VENV_BIN)
    netns_enter(ROUTER)
    netifd = fake_netifd.FakeNetifd("vpn", _vpn(keys, "dbclient"))
    up = lambda: netifd.status()["up"] and _pings(REMOTE_TUN)  # noqa: E731
    netifd.ifup()
    wait_for(up, 60, "the tunnel")
    figures: dict[str, object] = {}

    for victim, pattern in (("dbclient", r"^\S*dbclient "),
                            ("local pppd", r"pppd nodetach ipparam vpn "),
                            ("remote pppd", r"^pppd nodetach (notty|local) noauth")):
        pids = [int(p.split(":")[0]) for p in processes(pattern)]
        assert pids, victim
        setups = netifd.status()["setups"]
        killed = time.monotonic()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda s=setups: netifd.status()["setups"] > s, 30, f"a new setup ({victim})")
        wait_for(up, 60, f"the tunnel back after killing {victim}")
        back = round(time.monotonic() - killed, 1)
        figures[f"back_after_{victim.replace(' ', '_')}_s"] = back
        _one_of_each()
        step(f"{victim} killed: back after {back} s")

    # the helper, killed at points of its setup: HELPER_FAILED and blocked, or the task runs
    helper_cases = []
    relay = Path("/var/run/pppossh/vpn/relay")
    for delay in (0.1, 0.4, 0.8, 1.5):
        _clean_ifdown(bed, netifd)
        relay.unlink(missing_ok=True)  # else the hook repeats the last plan without a helper
        thread = threading.Thread(target=netifd.ifup)
        thread.start()
        pids = wait_for(lambda: _pids(r"pppossh netifd setup vpn"), 20, "the helper's setup")
        time.sleep(delay)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        thread.join(60)
        status = netifd.status()
        if status["blocked"]:
            assert status["errors"] and status["errors"][0][0] == "HELPER_FAILED", status
            helper_cases.append(f"{delay} s: HELPER_FAILED, blocked")
            _clean_ifdown(bed, netifd)
            netifd.ifup()  # nothing stale blocks the next ifup
        else:
            helper_cases.append(f"{delay} s: the task ran")
        wait_for(up, 60, f"the tunnel after the helper was killed at {delay} s")
        _one_of_each()
    figures["helper_killed"] = helper_cases
    step(f"helper killed: {helper_cases}")

    # dropbear's session process, killed while the router logs in
    _clean_ifdown(bed, netifd)
    relay.unlink(missing_ok=True)
    before = {p.split(":")[0] for p in processes(r"^dropbear ")}
    thread = threading.Thread(target=netifd.ifup)
    thread.start()
    session = wait_for(lambda: [p.split(":")[0] for p in processes(r"^dropbear ")
                                if p.split(":")[0] not in before], 30, "the login's session")
    killed = time.monotonic()
    for pid in session:
        os.kill(int(pid), signal.SIGKILL)
    thread.join(60)
    wait_for(lambda: netifd.status()["setups"] >= 2, 30, "a setup after the killed login")
    wait_for(up, 60, "the tunnel after the login was killed")
    errors = [m["error"][0] for m in netifd.log if m["action"] == 3]
    figures["login_killed"] = {"back_s": round(time.monotonic() - killed, 1),
                               "reported": errors[-1] if errors else None}
    _one_of_each()
    step(f"login killed: {figures['login_killed']}")

    # garbage in the state file: said in the log, set aside, the tunnel comes up
    _clean_ifdown(bed, netifd)
    rundir = Path("/var/run/pppossh")
    (rundir / "vpn" / "relay").unlink(missing_ok=True)  # else the hook repeats the plan
    (rundir / "vpn" / "state.json").write_bytes(b"\x00\xff{garbage")
    netifd.ifup()
    wait_for(up, 60, "the tunnel over a garbage state file")

    # a full run directory: RUNDIR_UNWRITABLE, blocked; free space, ifup, up
    _clean_ifdown(bed, netifd)
    sh(f"mount -t tmpfs -o size=64k tmpfs {rundir}")
    bed.cleanup.append(lambda: sh(f"umount -l {rundir}", check=False))
    subprocess.run(["dd", "if=/dev/zero", f"of={rundir}/filler", "bs=4k"],
                   capture_output=True, check=False)
    netifd.ifup()
    wait_for(lambda: netifd.status()["blocked"], 30, "the setup on a full /var/run")
    error = netifd.status()["errors"][0]
    assert error[0] == "RUNDIR_UNWRITABLE" and "No space left on device" in error[1], error
    # nothing started (netifd keeps the host route of a blocked interface until ifdown)
    assert not [x for x in bed.leftovers() if not x.startswith("route ")], bed.leftovers()
    step(f"full run directory: {error}")
    figures["full_rundir"] = error[0]
    _clean_ifdown(bed, netifd)
    os.unlink(rundir / "filler")
    netifd.ifup()
    wait_for(up, 60, "the tunnel once /var/run has room")
    _one_of_each()
    _clean_ifdown(bed, netifd)
    sh(f"umount -l {rundir}", check=False)
    return figures


# make check runs 8 tunnels; make bench (bench/faults.py) the 32 of the issue
SCALE = int(os.environ.get("PPPOSSH_SCALE", "8"))
SERVED = r"pppd nodetach noauth .*ipparam pppossh-r\d"  # the peers' forced pppd


def _rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def scale(bed: Bed) -> dict:
    """Scenario 5 of issue 13: SCALE tunnels from one router to one dropbear server, each a
    ``pppossh peer`` with its own key and a forced command, under the netifd double, all set
    up at once.  Every one comes up and carries traffic; peer apply writes one forced command
    per peer and changes nothing the second time.  Reported: the time until all carry
    traffic, the setups that took, and memory per tunnel on each side."""
    import shutil
    import threading

    import fake_netifd
    from scenarios import _server_chooses, _sha, _srv

    keys = _standard_bed(bed)
    keydir = bed.root / "scale-keys"
    keydir.mkdir()
    step(f"{SCALE} client keys and peers")
    pubs = []
    for i in range(SCALE):
        sh(["dropbearkey", "-t", "ed25519", "-f", str(keydir / f"s{i}")])
        pubs.append(bed.dropbear_pub(keydir / f"s{i}"))
    conf = bed.root / "server-config"
    conf.mkdir()
    text = ("config server 'server'\n\toption sshd 'dropbear'\n"
            "\toption authorized_keys '/root/.ssh/authorized_keys'\n")
    for i, pub in enumerate(pubs):
        text += (f"\nconfig peer\n\toption name 'r{i}'\n\toption key '{pub}'\n"
                 f"\toption ipaddr '10.64.0.1'\n\toption peeraddr '10.64.0.{i + 2}'\n")
    (conf / "pppossh").write_text(text)
    bed.cleanup.append(lambda: shutil.rmtree("/etc/pppossh", ignore_errors=True))
    step(_srv(bed, "peer", "apply").stdout.strip())
    authorized = "/root/.ssh/authorized_keys"
    lines = Path(authorized).read_text().count('command="')
    assert lines == SCALE, f"{lines} forced commands for {SCALE} peers"
    before = _sha(authorized)
    assert "unchanged" in _srv(bed, "peer", "apply").stdout
    assert _sha(authorized) == before
    fake_netifd.install(VENV_BIN)
    fake_netifd.FakeNetifd.hook_timeout = 300.0  # 32 helpers at once share one guest CPU
    netns_enter(ROUTER)
    tunnels = []
    for i in range(SCALE):
        section = _server_chooses(_vpn(keys, "dbclient"), identity=[str(keydir / f"s{i}")])
        tunnels.append(fake_netifd.FakeNetifd(f"s{i}", section))
    step(f"ifup of {SCALE} interfaces at once")
    started = time.monotonic()
    threads = [threading.Thread(target=t.ifup) for t in tunnels]
    for thread in threads:
        thread.start()

    def carries(i: int) -> bool:
        if not tunnels[i].status()["up"]:
            return False
        try:  # the guest is busy with 32 setups: a ping may take long to even start
            return sh(["ping", "-c1", "-W2", "-I", f"pppossh-s{i}", "10.64.0.1"], check=False,
                      timeout=30).returncode == 0
        except BedError:
            return False

    done = _until_each({f"s{i}": (lambda i=i: carries(i)) for i in range(SCALE)}, 300,
                       "every tunnel to carry traffic")
    all_up = round(time.monotonic() - started, 1)
    for thread in threads:
        thread.join(60)
    setups = sum(t.status()["setups"] for t in tunnels)
    step(f"all {SCALE} up after {all_up} s ({setups} setups; first {min(done.values())} s)")
    assert sh(["ip", "-o", "link"]).stdout.count("pppossh-s") == SCALE
    sessions = _pids(SERVED)
    assert len(sessions) == SCALE, len(sessions)
    router = _rss_kb([t.task.pid for t in tunnels if t.task] + _pids(r"^\S*dbclient "))
    server = _rss_kb(sessions + [p for p in _pids(r"^dropbear ") if p not in bed.started])
    memory = {"router_kb_per_tunnel": round(router / SCALE),
              "server_kb_per_tunnel": round(server / SCALE)}
    step(f"memory per tunnel (RSS): {memory}")
    for t in tunnels:
        t.ifdown()
    wait_for(lambda: not processes(r"pppd nodetach ipparam s\d"), 60, "every pppd to end")
    wait_for(lambda: not _pids(SERVED), 60, "the server's sessions to end")
    return {"tunnels": SCALE, "all_up_s": all_up, "setups": setups, **memory}


WANB_ROUTER, WANB_SERVER = "10.200.0.1", "10.200.0.2"


def _second_uplink() -> None:
    """A second link between router and server (``up1``/``down2``, 10.200.0.0/24), down for
    now; the first uplink's default route gets metric 20, so that the second, with 10, is the
    better one once it is up.  As on ``down0``, nothing from it is forwarded to far."""
    sh("ip link add name up1 type veth peer name down2"
       f" && ip link set up1 netns {ROUTER} && ip link set down2 netns {SERVER}")
    sh(f"ip addr add {WANB_SERVER}/24 dev down2 && ip link set down2 up"
       " && iptables-legacy -I FORWARD -i down2 -j DROP", ns=SERVER)
    sh(f"ip addr add {WANB_ROUTER}/24 dev up1"
       f" && ip route replace default via {SERVER_LINK_IP} dev up0 metric 20"
       f" && ip route del default via {SERVER_LINK_IP} dev up0 metric 0", ns=ROUTER)


def _ssh_source(port: int) -> str:
    """The router's address of its established SSH connection to ``port`` ('' when none)."""
    out = sh(["ss", "-Htn", "state", "established", "dst", f"{SSH_IP}:{port}"], ns=ROUTER,
             check=False).stdout.split()
    return out[2].rsplit(":", 1)[0] if len(out) >= 4 else ""


def _through(source: str, port: int, tunnel: str) -> Callable[[], bool]:
    return lambda: _ssh_source(port) == source and _pings(tunnel)


def _timed(pair: Pair, event: Callable[[], object], checks: dict[str, Callable[[], bool]],
           what: str) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds from the start of ``event`` (the netifd double's hotplug run included) until
    each tunnel's new attempt started, and until each check holds."""
    started, wall = time.monotonic(), time.time()
    event()
    polled = time.monotonic()
    found = _until_each(checks, 60, what)
    attempt = {"vpn": pair.netifd.setup_times[-1],
               "vpn2": pair.bed.state("vpn2").get("attempt_started") or 0}
    return ({name: round(t - wall, 1) for name, t in attempt.items()},
            {name: round(t + polled - started, 1) for name, t in found.items()})


def uplink_change(bed: Bed) -> dict:
    """Scenario 7 of issue 13: the route to the server moves to another uplink.

    A second uplink (``wanb``, metric 10) comes up beside ``wan`` (metric 20): each tunnel
    moves its SSH connection onto it (vpn through the hotplug script and a new setup that
    names wanb in its host dependency; vpn2 through the supervisor's look at the routing
    table), once, and stays there.  Then wanb goes down: netifd's dependency takes vpn down
    and up again through wan, the supervisor moves vpn2 back.
    """
    import fake_netifd

    uplinks = [fake_netifd.Uplink("wan", "up0", ROUTER_IP, SERVER_LINK_IP, 20),
               fake_netifd.Uplink("wanb", "up1", WANB_ROUTER, WANB_SERVER, 10, up=False)]
    pair = Pair(bed, prepare=_second_uplink, uplinks=uplinks)
    netifd = pair.netifd
    ports = {"vpn": DROPBEAR_PORT, "vpn2": SSHD_PORT}
    tunnels = {"vpn": REMOTE_TUN, "vpn2": REMOTE_TUN2}
    for name, port in ports.items():
        assert _ssh_source(port) == ROUTER_IP, (name, _ssh_source(port))
    setups = netifd.status()["setups"]
    attempts = {bed.state("vpn2").get("attempt_started")}

    step("wanb comes up with the better metric")
    sh(f"ip link set up1 up && ip route add default via {WANB_SERVER} dev up1 metric 10",
       ns=ROUTER)
    noticed, onto = _timed(pair, lambda: netifd.uplink_event("wanb", True),
                  {n: _through(WANB_ROUTER, ports[n], tunnels[n]) for n in ports},
                  "each SSH connection to run over wanb and carry traffic")
    step(f"new attempts after {noticed} s; both tunnels over wanb after {onto} s")
    time.sleep(3 * CHECK_EVERY + 2)  # a few of the supervisor's looks: no further move
    attempts.add(bed.state("vpn2").get("attempt_started"))
    moves = {"vpn": netifd.status()["setups"] - setups, "vpn2": len(attempts) - 1}
    pinned = sh(["ip", "route", "get", SSH_IP], ns=ROUTER).stdout
    step(f"setups since: {moves}; the server's route: {pinned.strip()}")
    assert moves == {"vpn": 1, "vpn2": 1}, moves
    assert all(_ssh_source(port) == WANB_ROUTER for port in ports.values())
    wait_for(lambda: len(remote_pppd_sessions()) == 2, 40, "the old server sessions to end")
    hotplug = [o for o in netifd.outputs if o.startswith("hotplug")]

    step("wanb goes down")
    setups = netifd.status()["setups"]
    sh(f"ip route del default via {WANB_SERVER} dev up1 && ip link set up1 down", ns=ROUTER)
    noticed_down, back = _timed(pair, lambda: netifd.uplink_event("wanb", False),
                  {n: _through(ROUTER_IP, ports[n], tunnels[n]) for n in ports},
                  "each SSH connection to run over wan again and carry traffic")
    step(f"new attempts after {noticed_down} s; both tunnels back over wan after {back} s"
         f" (netifd relinks: {netifd.relinks})")
    assert netifd.relinks == 1 and netifd.status()["setups"] - setups == 1
    wait_for(lambda: len(remote_pppd_sessions()) == 2, 40, "the wanb server sessions to end")
    pair.close()
    return {"first_setup_s": pair.setup_s,
            "onto_better_uplink_s": onto, "new_attempt_after_s": noticed,
            "back_after_uplink_down_s": back, "new_attempt_after_down_s": noticed_down,
            "setups_per_move": moves, "hotplug": hotplug[-1:]}
