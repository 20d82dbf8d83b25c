"""Standalone mode: ``pppossh up|down IFACE`` on a Linux box without netifd.

``up`` starts a detached supervisor and waits, like pppd's ``updetach``, until the link is up
and addressed or the first attempt has failed (bounded by connect_timeout).  The supervisor
owns everything the tunnel adds to the machine: the pppd process (and through it the SSH
client), the host route to the server, the routes through the tunnel and the resolv file.
It reconnects with the same back-off netifd mode uses, and on SIGTERM (``down``) it removes
all of it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .. import log
from ..admin.section import pppossh_section
from ..config import Config, from_uci
from ..errors import PppsshError
from ..plan import Plan, make_plan
from ..plan.facts import probe
from ..uci import Uci
from . import backoff, leftovers, outcome, resolver, routes, tunstate, uplink
from .ppphook import resolv_path
from .prepare import prepare_state_dir, remove_secrets, session_info
from .resolve import resolve
from .state import State, ensure_private_dir


def load_config(uci: Uci, iface: str) -> Config:
    """The validated configuration of ``network.<iface>``, which must be a pppossh interface."""
    return from_uci(iface, pppossh_section(uci, iface).options)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own dead child) counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True


def device_exists(device: str) -> bool:
    return Path("/sys/class/net", device).exists()


def is_ours(pid: int | None, *words: str) -> bool:
    """A live process whose command line has all ``words``: not a recycled pid."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return all(word in cmdline for word in words)


def take_lock(state: State) -> int | None:
    """The supervisor lock of an interface as an open fd, or None when one holds it.

    ``up`` takes it and hands the fd to the supervisor it starts, which holds it until it
    ends: two ``up`` at the same moment cannot both start one.
    """
    ensure_private_dir(state.dir)
    fd = os.open(state.path("supervisor.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@dataclass
class UpResult:
    ok: bool
    message: str
    state: dict[str, Any]


def claim(uci: Uci, iface: str, rundir: str) -> tuple[int, Config]:
    """Take the interface's lock and make sure it can start (no other supervisor, no device
    of that name, a plan that holds); the lock's fd and the configuration."""
    config = load_config(uci, iface)
    state = State(rundir, iface)
    lock = take_lock(state)
    if lock is None:
        current = state.load()
        raise PppsshError(
            "ALREADY_UP",
            f"{iface} is already running (supervisor pid {current.get('supervisor_pid')},"
            f" device {config.device}); run 'pppossh down {iface}' first",
        )
    try:
        if config.device and device_exists(config.device):  # sshtun: "" picks a free unit
            raise PppsshError(
                "DEVICE_EXISTS",
                f"device {config.device} already exists (netifd or another pppd owns it);"
                f" stop that first (ifdown {iface})",
            )
        make_plan(config, probe(config, rundir=rundir), mode="standalone")  # fail fast
        with state.edit() as data:
            data.clear()
            data.update(mode="standalone", phase="starting", started=time.time(), failures=0)
    except BaseException:
        os.close(lock)
        raise
    return lock, config


def up(uci: Uci, iface: str, rundir: str) -> UpResult:
    """Start the tunnel and wait until it is up or has failed."""
    lock, config = claim(uci, iface, rundir)
    state = State(rundir, iface)
    try:
        with open(state.path("supervisor.log"), "ab") as logfile:
            # isolated (-I) and from /: a pppossh/ in the caller's directory is never imported
            cmd = [sys.executable, "-I", "-m", "pppossh", "--confdir", uci.confdir, "--rundir",
                   rundir, "supervise", iface, "--lock-fd", str(lock)]
            child = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=logfile, stderr=logfile, cwd="/",
                start_new_session=True, pass_fds=(lock,),
            )
    finally:
        os.close(lock)  # the supervisor holds its own copy of the lock
    deadline = time.monotonic() + config.connect_timeout + 15
    while time.monotonic() < deadline:
        data = state.load()
        if data.get("phase") == "up":  # the ip-up hook sets it after adding the routes
            return UpResult(True, f"{iface} is up", data)
        if data.get("phase") in ("failed", "down") or child.poll() is not None:
            err = data.get("last_error") or {}
            child.wait(timeout=15)
            return UpResult(
                False, f"{err.get('code', 'FAILED')}: {err.get('message', 'see the log')}",
                state.load(),
            )
        time.sleep(0.1)
    down(iface, rundir)
    return UpResult(
        False,
        f"CONNECT_TIMEOUT: {iface} did not come up within {config.connect_timeout + 15} s",
        state.load(),
    )


@dataclass
class DownResult:
    stopped: bool  # a supervisor was running and was stopped
    removed: list[str]  # what a dead supervisor had left and ``down`` removed


def down(iface: str, rundir: str, timeout: float = 20.0) -> DownResult:
    """Stop the supervisor and wait until it has removed everything; then remove whatever
    is left of the tunnel anyway (a supervisor that was killed leaves pppd, its SSH client,
    routes and the resolv file), whatever the state file says."""
    state = State(rundir, iface)
    pid = state.load().get("supervisor_pid")
    running = [pid] if is_ours(pid, "pppossh", "supervise", iface) else []
    running += [p.pid for p in leftovers.supervisors(leftovers.processes(), state)
                if p.pid not in running]
    for supervisor in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(supervisor, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(pid_alive(p) for p in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for supervisor in running:
        if pid_alive(supervisor):
            with contextlib.suppress(ProcessLookupError):
                os.kill(supervisor, signal.SIGKILL)
    try:
        removed = leftovers.clean(state)
    except RuntimeError as exc:
        raise PppsshError("RUN_BY_NETIFD", str(exc)) from None
    return DownResult(bool(running), removed)


class Stopped(Exception):
    """``down`` arrived between two steps of an attempt."""


class Supervisor:
    """Runs pppd attempts until stopped; lives in its own session, detached from ``up``."""

    def __init__(self, uci: Uci, iface: str, rundir: str, foreground: bool = False) -> None:
        """``foreground``: run by a service manager (pppossh@.service), not by ``up``: a
        first attempt that fails is retried with back-off like any later one, since nobody
        waits for it; what retrying cannot mend ends it with status 2 (no restart)."""
        self.uci = uci
        self.foreground = foreground
        self.iface = iface
        self.rundir = rundir
        self.state = State(rundir, iface)
        self.stop = threading.Event()
        self.pppd: subprocess.Popen[bytes] | None = None
        self.pins: list[dict[str, str]] = []
        self.moving = False  # the session is ending to follow a better uplink

    def _on_term(self, signum: int, frame: object) -> None:
        self.stop.set()
        if self.pppd and self.pppd.poll() is None:
            self.pppd.terminate()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        self.state.update(supervisor_pid=os.getpid(), phase="connecting")
        ever_up = self.foreground  # in the foreground no first attempt ends the run
        try:
            while not self.stop.is_set():
                try:
                    config = load_config(self.uci, self.iface)
                    plan = make_plan(config, probe(config, rundir=self.rundir), "standalone")
                    self.moving = False
                    status = self._attempt(config, plan)
                    if self.moving and not self.stop.is_set():
                        continue  # no failure: straight on through the new uplink
                except Stopped:
                    break
                except PppsshError as exc:
                    final = exc.config_error or not ever_up
                    self._fail(exc.code, exc.message, final)
                    if final:  # 2: a restart (systemd's) would fail the same way
                        return 2 if exc.config_error else 1
                else:
                    if self.stop.is_set():
                        break
                    ending = self._classify(config, status)
                    ever_up = ever_up or ending.session_seconds is not None
                    if ending.outcome.code == "TERMINAL_REFUSED" and plan.ssh_argv[1] == "-t":
                        continue  # the next plan asks for no terminal (plan.facts)
                    # like pppd's updetach: a first attempt that fails ends 'up'
                    if ending.outcome.block or not ever_up:
                        self._fail(ending.outcome.code, ending.outcome.message, True)
                        return 2 if ending.outcome.block and self.foreground else 1
                self._back_off()
        finally:
            self._cleanup()
        return 0

    def _attempt(self, config: Config, plan: Plan) -> int:
        """One pppd session from resolving the server to pppd's exit; its exit status."""
        addresses = resolve(config.first_hop[0], config.connect_timeout)
        self._unpin()
        if config.use_hostdep:
            for address in addresses:
                pin = routes.pin_host_route(address)
                if pin:
                    self.pins.append(pin)
                else:
                    log.warning("%s: no route to %s to pin; the SSH connection follows the"
                                " routing table", self.iface, address)
        prepare_state_dir(self.state, plan)
        self.state.update(
            phase="connecting", attempt_started=time.time(), up_since=None, down_at=None,
            addresses=addresses, host_routes=self.pins,
            **session_info(config, plan),
        )
        if self.stop.is_set():  # down came while we resolved and pinned
            raise Stopped
        # pppd writes its log to pppd.log itself (option logfile); what it prints before it
        # opens that file (option errors) goes to the supervisor's log
        self.pppd = subprocess.Popen(
            list(plan.task_argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        if self.stop.is_set():
            self.pppd.terminate()
        self.state.update(pppd_pid=self.pppd.pid)
        status = self._wait_watching_uplink(self.pppd)
        self._reap_group(self.pppd.pid)
        leftovers.end_clients(self.state)
        return status

    def _wait_watching_uplink(self, pppd: subprocess.Popen[bytes]) -> int:
        """pppd's exit status; ends the session early when a better uplink to the server
        appeared (:mod:`.uplink`), for the next attempt to pin through it."""
        while True:
            try:
                return pppd.wait(uplink.CHECK_EVERY)
            except subprocess.TimeoutExpired:
                pass
            if not self.moving and self._uplink_moved():
                self.moving = True
                pppd.terminate()

    def _uplink_moved(self) -> bool:
        for pin in self.pins:
            address = pin["address"].split("/")[0]
            now = uplink.from_kernel(address, self.pins, routes.show)
            if uplink.moved(pin, now):
                assert now is not None
                log.info("%s: %s is now reached through %s%s (the tunnel runs over %s):"
                         " reconnecting", self.iface, address, now.device,
                         f" via {now.gateway}" if now.gateway else "", pin["dev"])
                return True
        return False

    def _back_off(self) -> None:
        """Wait before the next attempt; after a failure that may have been an outage, watch
        the server's port and end the wait once it answers again (backoff.watch)."""
        data = self.state.load()
        wait = backoff.delay(int(data.get("failures", 1)))
        self.state.update(phase="backoff", wait=wait, next_attempt=time.time() + wait)
        log.info("%s: reconnecting in %g s", self.iface, wait)
        port = int(data.get("tcp_port") or data.get("port") or 22)
        target = backoff.watch_target((data.get("last_error") or {}).get("code"),
                                      data.get("addresses") or [])
        address, down = target or ("", False)
        answers = partial(backoff.port_answers, address, port) if target else None
        if backoff.watch(wait, answers, self.stop.wait, time.monotonic, down=down):
            log.info("%s: %s answers on port %d again", self.iface, address, port)

    def _classify(self, config: Config, status: int) -> outcome.Ending:
        tun = config.proto == "sshtun"
        ending = outcome.record_end(
            self.state, status, iface=self.iface, server=config.server, port=config.port,
            user=config.sshuser,
            ask_device=partial(tunstate.ask, config, str(self.state.dir.parent), "standalone")
            if tun else None,
            remote_device=config.remote_device if tun else "")
        log.warning("%s: %s: %s", self.iface, ending.outcome.code, ending.outcome.message)
        return ending

    def _fail(self, code: str, message: str, final: bool) -> None:
        log.error("%s: %s: %s", self.iface, code, message)
        with self.state.edit() as data:
            data["last_error"] = {"code": code, "message": message, "time": time.time()}
            data["failures"] = int(data.get("failures", 0)) + 1
            if final:
                data["phase"] = "failed"

    def _reap_group(self, pgid: int) -> None:
        """pppd normally ends its SSH client; make sure nothing of the session lingers."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)

    def _unpin(self) -> None:
        for pin in self.pins:
            routes.unpin_host_route(pin)
        self.pins = []

    def _cleanup(self) -> None:
        if self.pppd and self.pppd.poll() is None:
            self.pppd.terminate()
            try:
                self.pppd.wait(10)
            except subprocess.TimeoutExpired:
                self.pppd.kill()
                self.pppd.wait()
        if self.pppd:
            self._reap_group(self.pppd.pid)
        data = self.state.load()
        device = data.get("device", "")
        for network in data.get("routes_added", []):
            routes.delete_device_route(network, device, int(data.get("metric") or 0))
        self._unpin()
        with contextlib.suppress(OSError):
            resolv_path(self.state).unlink()
        resolver.restore(self.rundir, self.iface)
        remove_secrets(self.state)
        with self.state.edit() as current:
            failed = current.get("phase") == "failed"
            current.update(
                phase="failed" if failed else "down", supervisor_pid=None, pppd_pid=None,
                host_routes=[], routes_added=[], up_since=None,
            )
        log.info("%s: stopped", self.iface)
