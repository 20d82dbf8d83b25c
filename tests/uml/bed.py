"""The network inside the test-bed guest: namespaces, SSH servers, keys, pppossh calls.

Runs as root inside the user-mode-linux guest (see ``testbed.py``).  The topology:

    router (192.0.2.1) --veth-- server (192.0.2.2, SSH at 203.0.113.1) --veth-- far
                                                         (198.51.100.1)   (198.51.100.2)

The router's only way anywhere is its default route via 192.0.2.2, and the SSH servers
listen on 203.0.113.1, so once the tunnel takes the default route, the SSH connection stays
out of its own tunnel only through the pinned host route.  The server forwards nothing from
the router's link to ``far``: far is reachable through the tunnel alone.  Real dropbear and
OpenSSH servers run in ``server``, the remote pppd is the real pppd, and every step has a
timeout.  :meth:`Bed.close` removes every process and namespace the bed started.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PPPOSSH = str(VENV_BIN / "pppossh")

ROUTER, SERVER, FAR = "router", "server", "far"
ROUTER_IP, SERVER_LINK_IP, SSH_IP = "192.0.2.1", "192.0.2.2", "203.0.113.1"
SERVER_FAR_IP, FAR_IP = "198.51.100.1", "198.51.100.2"
LOCAL_TUN, REMOTE_TUN = "10.99.0.1", "10.99.0.2"
DROPBEAR_PORT, SSHD_PORT = 22, 2222


class BedError(AssertionError):
    """A step of the bed failed; the message carries the command and its output."""


def sh(
    cmd: list[str] | str, *, ns: str | None = None, timeout: float = 30, check: bool = True,
    env: dict[str, str] | None = None, input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
    if ns:
        argv = ["ip", "netns", "exec", ns, *argv]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                              timeout=timeout, check=False,
                              env=env, input=input,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise BedError(f"timed out after {timeout} s: {shlex.join(argv)}") from exc
    if check and proc.returncode != 0:
        raise BedError(
            f"failed ({proc.returncode}): {shlex.join(argv)}\n{proc.stdout}{proc.stderr}"
        )
    return proc


def ping_stats(text: str) -> dict[str, float]:
    """Loss (a fraction under load: '36.2069% packet loss') and RTT from ping's summary."""
    loss = re.search(r"([\d.]+)% packet loss", text)
    rtt = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)", text)
    return {"loss_pct": float(loss.group(1)) if loss else 100.0,
            "rtt_avg_ms": float(rtt.group(2)) if rtt else -1.0,
            "rtt_max_ms": float(rtt.group(3)) if rtt else -1.0}


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise BedError(f"gave up after {timeout} s waiting for {what}")


def processes(pattern: str) -> list[str]:
    """Command lines of running processes matching a regular expression."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
        except (OSError, IndexError):
            continue
        if cmd and state != "Z" and re.search(pattern, cmd):
            out.append(f"{pid}: {cmd}")
    return out


@dataclass
class Keys:
    dropbear_host: Path
    openssh_host: Path
    client_dropbear: Path
    client_openssh: Path
    dropbear_host_pub: str = ""
    openssh_host_pub: str = ""
    client_dropbear_pub: str = ""
    client_openssh_pub: str = ""


@dataclass
class Bed:
    root: Path
    started: list[int] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    cleanup: list[Callable[[], object]] = field(default_factory=list)

    @property
    def confdir(self) -> Path:
        return self.root / "config"

    @property
    def rundir(self) -> Path:
        return self.root / "run"

    # --- network ----------------------------------------------------------------------------
    def network(self) -> None:
        step("creating namespaces router, server, far and their links")
        for ns in (ROUTER, SERVER, FAR):
            sh(["ip", "netns", "add", ns])
            self.namespaces.append(ns)
            sh(["ip", "link", "set", "lo", "up"], ns=ns)
        for a, ns_a, b, ns_b in (("up0", ROUTER, "down0", SERVER), ("down1", SERVER, "far0", FAR)):
            sh(["ip", "link", "add", "name", a, "type", "veth", "peer", "name", b])
            sh(["ip", "link", "set", a, "netns", ns_a])
            sh(["ip", "link", "set", b, "netns", ns_b])
        sh(f"ip addr add {ROUTER_IP}/24 dev up0 && ip link set up0 up"
           f" && ip route add default via {SERVER_LINK_IP}", ns=ROUTER)
        sh(f"ip addr add {SERVER_LINK_IP}/24 dev down0 && ip link set down0 up"
           f" && ip addr add {SSH_IP}/32 dev lo"
           f" && ip addr add {SERVER_FAR_IP}/24 dev down1 && ip link set down1 up"
           " && sysctl -qw net.ipv4.ip_forward=1"
           # only traffic that arrives through a tunnel may go on to far
           " && iptables-legacy -A FORWARD -i down0 -j DROP"
           " && iptables-legacy -t nat -A POSTROUTING -o down1 -j MASQUERADE", ns=SERVER)
        sh(f"ip addr add {FAR_IP}/24 dev far0 && ip link set far0 up"
           f" && ip route add default via {SERVER_FAR_IP}", ns=FAR)

    # --- keys and servers -------------------------------------------------------------------
    def keys(self) -> Keys:
        d = self.root / "keys"
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        k = Keys(d / "dropbear_host", d / "openssh_host", d / "id_dropbear", d / "id_openssh")
        sh(["dropbearkey", "-t", "ed25519", "-f", str(k.dropbear_host)])
        sh(["dropbearkey", "-t", "ed25519", "-f", str(k.client_dropbear)])
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(k.openssh_host)])
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bed", "-f",
            str(k.client_openssh)])
        k.dropbear_host_pub = self.dropbear_pub(k.dropbear_host)
        k.client_dropbear_pub = self.dropbear_pub(k.client_dropbear)
        k.openssh_host_pub = " ".join(Path(f"{k.openssh_host}.pub").read_text().split()[:2])
        k.client_openssh_pub = " ".join(Path(f"{k.client_openssh}.pub").read_text().split()[:2])
        return k

    @staticmethod
    def dropbear_pub(path: Path) -> str:
        out = sh(["dropbearkey", "-y", "-f", str(path)]).stdout
        line = next(x for x in out.splitlines() if x.startswith("ssh-"))
        return " ".join(line.split()[:2])

    def authorize(self, *keys: str, user_home: str = "/root") -> None:
        ssh = Path(user_home) / ".ssh"
        ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(user_home, 0o700)
        (ssh / "authorized_keys").write_text("".join(f"{k} bed\n" for k in keys))
        os.chmod(ssh / "authorized_keys", 0o600)

    def start_dropbear(self, keys: Keys, passwords: bool = False, window: int = 0) -> None:
        """dropbear with password logins off (-s), or on as OpenWrt ships it (``passwords``);
        ``window``: its receive window (-W, OpenWrt's RecvWindowSize), else its default."""
        step(f"starting dropbear in server on {SSH_IP}:{DROPBEAR_PORT}")
        pidfile = self.root / "dropbear.pid"
        pidfile.unlink(missing_ok=True)
        # dropbear -E keeps logging to the stderr it was given: a file, not our pipe
        sh(f"dropbear -r {keys.dropbear_host} -p {SSH_IP}:{DROPBEAR_PORT}"
           f"{'' if passwords else ' -s'}{f' -W {window}' if window else ''} -P {pidfile} -E"
           f" >>{self.root / 'dropbear.log'} 2>&1", ns=SERVER)
        self.started.append(int(wait_for(lambda: _read(pidfile), 10, "dropbear pid")))

    def stop_dropbear(self) -> None:
        """The listening dropbear started last (sessions it forked run on)."""
        pid = int(_read(self.root / "dropbear.pid") or 0)
        if pid in self.started:
            os.kill(pid, signal.SIGTERM)
            self.started.remove(pid)
            wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10, "dropbear to end")

    def start_sshd(self, keys: Keys, extra: str = "", passwords: bool = False) -> None:
        """sshd with key logins only, or also offering password and keyboard-interactive
        logins, as Debian's default sshd does (``passwords``)."""
        step(f"starting OpenSSH sshd in server on {SSH_IP}:{SSHD_PORT}")
        cfg = self.root / "sshd_config"
        offer = "yes" if passwords else "no"
        cfg.write_text(
            f"Port {SSHD_PORT}\nListenAddress {SSH_IP}\nHostKey {keys.openssh_host}\n"
            f"PidFile {self.root / 'sshd.pid'}\nPermitRootLogin"
            f" {'yes' if passwords else 'prohibit-password'}\n"
            f"PasswordAuthentication {offer}\nKbdInteractiveAuthentication {offer}\nUsePAM no\n"
            f"StrictModes yes\nLogLevel VERBOSE\n{extra}"
        )
        sh(f"/usr/sbin/sshd -f {cfg} -E {self.root / 'sshd.log'} >/dev/null 2>&1", ns=SERVER)
        self.started.append(int(wait_for(lambda: _read(self.root / "sshd.pid"), 10, "sshd pid")))

    def start_iperf(self) -> None:
        pidfile = self.root / "iperf.pid"
        sh(f"iperf3 -s -D -I {pidfile} >/dev/null 2>&1", ns=SERVER)
        self.started.append(int(wait_for(lambda: _read(pidfile), 10, "iperf3 pid")))

    # --- pppossh ----------------------------------------------------------------------------
    def write_network(self, sections: dict[str, dict[str, str | list[str]]]) -> str:
        """Write ``config/network`` in UCI syntax; returns the text for the log."""
        self.confdir.mkdir(parents=True, exist_ok=True)
        lines = []
        for name, options in sections.items():
            lines.append(f"config interface '{name}'")
            for key, value in options.items():
                for item in value if isinstance(value, list) else [value]:
                    kind = "list" if isinstance(value, list) else "option"
                    lines.append(f"\t{kind} {key} " + _uci_quote(item))
            lines.append("")
        text = "\n".join(lines)
        (self.confdir / "network").write_text(text)
        return text

    def pppossh(self, *args: str, timeout: float = 90, check: bool = False,
                ns: str = ROUTER, wrap: str = "") -> subprocess.CompletedProcess[str]:
        """Run the pppossh command in a namespace; ``wrap`` is a shell prefix that execs it."""
        env = {"PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
               "PPPOSSH_UCI_BACKEND": "file", "PPPOSSH_NO_SYSLOG": "1"}
        argv = ["ip", "netns", "exec", ns, PPPOSSH, "--confdir", str(self.confdir),
                "--rundir", str(self.rundir), *args]
        if wrap:
            return sh(f"{wrap} {shlex.join(argv)}", timeout=timeout, check=check, env=env)
        return sh(argv, timeout=timeout, check=check, env=env)

    def status(self, iface: str = "vpn") -> dict:
        return json.loads(self.pppossh("status", iface, "--json").stdout)

    def state(self, iface: str) -> dict:
        """The interface's state file as pppossh wrote it (more than ``status`` shows: when
        the attempt started, the uplinks)."""
        path = self.rundir / iface / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def ping(self, target: str, ns: str = ROUTER, count: int = 5) -> dict[str, float]:
        out = sh(["ping", "-c", str(count), "-i", "0.2", "-W", "2", target], ns=ns,
                 timeout=count + 10).stdout
        return ping_stats(out)

    def iperf(self, target: str, seconds: int = 3, reverse: bool = False) -> float:
        """TCP throughput router -> target (target -> router with ``reverse``) in Mbit/s,
        receiver side."""
        out = sh(["iperf3", "-c", target, "-t", str(seconds), "-J", *(["-R"] if reverse else [])],
                 ns=ROUTER, timeout=seconds + 30).stdout
        data = json.loads(out)
        return round(data["end"]["sum_received"]["bits_per_second"] / 1e6, 1)

    def leftovers(self, iface: str = "vpn") -> list[str]:
        """Everything a stopped tunnel must not leave behind."""
        found = processes(r"(^|/)(pppd|dbclient|ssh) .*(pppossh|nodetach)")
        found += processes(r"pppossh .*supervise|pppossh-wait")
        links = sh(["ip", "-o", "link"], ns=ROUTER).stdout
        if f"pppossh-{iface}" in links:
            found.append(f"device pppossh-{iface}")
        for line in sh(["ip", "route"], ns=ROUTER).stdout.splitlines():
            if "pppossh" in line or line.startswith(("0.0.0.0/1", "128.0.0.0/1", SSH_IP)):
                found.append(f"route {line}")
        return found

    def close(self) -> None:
        if self.rundir.exists():
            for iface in os.listdir(self.rundir):
                self.pppossh("down", iface, timeout=30)
        for pid in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for ns in reversed(self.namespaces):
            sh(["ip", "netns", "del", ns], check=False)
        for undo in self.cleanup:
            undo()


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _uci_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"
