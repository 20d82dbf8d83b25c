"""What a standalone tunnel leaves when its supervisor dies without cleaning up.

``pppossh down`` removes it whatever the state file says (a supervisor killed with SIGKILL,
a state file lost or written by an older run): the processes are found by their command
lines, which name the interface's state directory; the files by their fixed names; the host
routes from the state, when it still has them.  A pppd whose parent is netifd is never
touched: that tunnel belongs to ``ifdown``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from ..plan import SECRETS_FILE
from . import resolver, routes
from .ppphook import resolv_path
from .state import State


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    argv: tuple[str, ...]

    @property
    def name(self) -> str:
        return Path(self.argv[0]).name if self.argv else "?"


def processes() -> list[Proc]:
    """Every live process with its argv (zombies and kernel threads left out)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if not raw or stat[0] == "Z":
            continue
        argv = tuple(raw.rstrip(b"\0").decode(errors="replace").split("\0"))
        found.append(Proc(int(entry), int(stat[1]), argv))
    return found


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def supervisors(procs: list[Proc], state: State) -> list[Proc]:
    """``pppossh ... --rundir <rundir> supervise <iface>`` processes of this interface."""
    rundir = str(state.dir.parent)
    return [p for p in procs if "supervise" in p.argv and state.iface in p.argv
            and rundir in p.argv and any("pppossh" in word for word in p.argv[:4])]


def _pty_shell(p: Proc, state: State) -> bool:
    """The shell of pppd's pty command: sh -c 'HOME=<state dir>/home; ... <client> ...'."""
    return len(p.argv) > 2 and p.argv[1] == "-c" and p.argv[2].startswith("HOME=") \
        and f"{state.dir}/" in p.argv[2]


def end_clients(state: State) -> list[Proc]:
    """End what is left of a session whose pppd is gone: the shell of its pty command and
    the SSH client under it.  pppd ends them when it ends by itself; killed, it cannot, and
    on a remote terminal nothing else does (the server's pppd never sees the client's
    stdin close), so the client and the server's pppd would stay until a keepalive fails."""
    procs = processes()
    shells = {p.pid for p in procs if _pty_shell(p, state)}
    victims = [p for p in procs if p.pid in shells or p.ppid in shells]
    if victims:
        terminate(victims, timeout=2.0)
    return victims


def session(procs: list[Proc], state: State) -> tuple[list[Proc], list[Proc]]:
    """(ours, netifd's): this interface's pppd processes with everything they started, and
    the shells and SSH clients that name its state directory.  pppd's own argv names the
    state directory too (its log file), so another rundir's tunnel is never matched."""
    where = f"{state.dir}/"
    device = f"pppossh-{state.iface}"

    def names_dir(p: Proc) -> bool:
        return any(where in word for word in p.argv)

    pppds = [p for p in procs if p.name == "pppd" and device in p.argv and names_dir(p)]
    netifds = [p for p in pppds if _comm(p.ppid) == "netifd"]
    roots = {p.pid for p in pppds if p not in netifds}
    # what pppd started, should pppd be gone: the shell of the pty command, the SSH client
    roots |= {p.pid for p in procs if _pty_shell(p, state)
              or (p.name in ("ssh", "dbclient") and names_dir(p))}
    chosen = set(roots)
    grew = True
    while grew:  # their descendants: the SSH client under the shell pppd started
        more = {p.pid for p in procs if p.ppid in chosen} - chosen
        grew = bool(more)
        chosen |= more
    netifd_tree = {p.pid for p in netifds}
    return [p for p in procs if p.pid in chosen and p.pid not in netifd_tree], netifds


def terminate(victims: list[Proc], timeout: float = 5.0) -> None:
    """TERM (pppd first: it hangs up and ends its client), then KILL what is left."""
    for proc in sorted(victims, key=lambda p: p.name != "pppd"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p.pid) for p in victims):
        time.sleep(0.1)
    for proc in victims:
        if _alive(proc.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def clean(state: State) -> list[str]:
    """Remove what a dead supervisor left of this interface; what was removed, for people.

    Raises RuntimeError (with the sentence to show) when netifd runs the interface's pppd.
    """
    removed: list[str] = []
    ours, netifds = session(processes(), state)
    if netifds:
        raise RuntimeError(
            f"{state.iface} is run by netifd (pppd pid {netifds[0].pid}); use: ifdown"
            f" {state.iface}"
        )
    if ours:
        terminate(ours)
        removed += [f"{p.name} (pid {p.pid})" for p in ours]
    data = state.load()
    device = data.get("device") or f"pppossh-{state.iface}"
    deadline = time.monotonic() + 5
    while Path("/sys/class/net", device).exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # the kernel removes the device (and its routes) when pppd is gone
    for network in data.get("routes_added", []):
        routes.delete_device_route(network, device, int(data.get("metric") or 0))
    for pin in data.get("host_routes", []):
        routes.unpin_host_route(pin)
        removed.append(f"host route {pin.get('address')}")
    restored = resolver.restore(state.dir.parent, state.iface)
    if restored:
        removed.append(f"its DNS servers (restored {restored})")
    for path in (resolv_path(state), state.path(SECRETS_FILE)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(str(path))
    if data:
        with state.edit() as current:
            failed = current.get("phase") == "failed"
            current.update(phase="failed" if failed else "down", supervisor_pid=None,
                           pppd_pid=None, host_routes=[], routes_added=[], up_since=None)
    return removed
