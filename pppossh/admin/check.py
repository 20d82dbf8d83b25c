"""``pppossh check``: walk the path of a connection step by step, stop at the first break.

Each step says what it saw and, when it fails, the one thing to change.  The order follows
the connection: configuration, name, TCP, host key, login, remote pppd, local pppd and
kernel PPP, and the route the SSH connection will take once the tunnel is up.  For proto
sshtun the login asks the server's session script about its device (``tun_session``'s
state question), which stands in for the remote pppd, and the local step opens the tun
control device instead of PPP's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..config import Config, tun_session
from ..errors import PppsshError
from ..plan import Plan, make_plan, sshtun
from ..plan.facts import HostFacts, pppd_version, probe
from ..plan.knownhosts import fingerprint
from ..run import outcome, routes
from ..run.prepare import write_known_hosts
from ..run.resolve import resolve, tcp_connect
from ..run.standalone import load_config
from ..run.state import State, write_atomic
from ..uci import Uci
from . import trust

STEPS = ("config", "resolve", "tcp", "hostkey", "auth", "remote_pppd", "local_ppp", "route")
TUN_STEPS = ("config", "resolve", "tcp", "hostkey", "auth", "remote_device", "local_tun",
             "route")
DEV_TUN = "/dev/net/tun"
# An LCP Configure-Request as pppd frames it on an async line: flag, address 0xff, control
# 0x03 escaped as 0x7d 0x23, protocol 0xc021.
LCP_START = b"\x7e\xff\x7d\x23\xc0\x21"
DEV_PPP = "/dev/ppp"


@dataclass
class Step:
    """One step's result.  ``detail`` and ``fix`` are sentences for the CLI; ``code`` (of a
    failure) and ``values`` (the facts the sentences are made of) let LuCI word the step in
    the admin's language."""

    name: str
    ok: bool | None  # None: not run because an earlier step failed
    detail: str = ""
    fix: str = ""
    ms: int | None = None
    code: str = ""
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    uci: Uci
    iface: str
    rundir: str
    keydir: str | None
    config: Config | None = None
    facts: HostFacts | None = None
    plan: Plan | None = None
    addresses: list[str] = field(default_factory=list)
    tun_state: str = ""  # sshtun: the server's answer to the state question

    @property
    def steps(self) -> tuple[str, ...]:
        return TUN_STEPS if self.config and self.config.proto == "sshtun" else STEPS


class Failed(Exception):
    def __init__(self, detail: str, fix: str, code: str, **values: Any) -> None:
        super().__init__(detail)
        self.detail, self.fix, self.code, self.values = detail, fix, code, values


Done = tuple[str, dict[str, Any]]  # what a passed step saw: the sentence and its values


def _config(ctx: Context) -> Done:
    try:
        ctx.config = load_config(ctx.uci, ctx.iface)
        ctx.facts = probe(ctx.config, rundir=ctx.rundir, keydir=ctx.keydir)
        ctx.plan = make_plan(ctx.config, ctx.facts, mode="standalone", require_hostkey=False)
    except PppsshError as exc:
        raise Failed(f"{exc.code}", exc.message, exc.code, interface=ctx.iface) from None
    keys = ", ".join(ctx.plan.identities)
    return (f"{ctx.plan.client} as {ctx.config.sshuser}, key {keys}",
            {"client": ctx.plan.client, "user": ctx.config.sshuser,
             "keys": list(ctx.plan.identities)})


def _resolve(ctx: Context) -> Done:
    assert ctx.config
    first = ctx.config.first_hop[0]  # with jump hosts, the first: where TCP goes
    try:
        ctx.addresses = resolve(first, ctx.config.connect_timeout)
    except PppsshError as exc:
        raise Failed(exc.code, exc.message, exc.code, server=first) from None
    return " ".join(ctx.addresses), {"server": first, "addresses": ctx.addresses}


def _tcp(ctx: Context) -> Done:
    assert ctx.config
    server, port = ctx.config.first_hop
    last = ""
    for address in ctx.addresses:
        started = time.monotonic()
        try:
            with tcp_connect(address, port, ctx.config.connect_timeout):
                ms = (time.monotonic() - started) * 1000
                return (f"{address} port {port} answered in {ms:.0f} ms",
                        {"address": address, "port": port, "ms": round(ms)})
        except TimeoutError:
            last = "timeout"
        except OSError as exc:
            last = {errno.ECONNREFUSED: "refused", errno.ENETUNREACH: "no route",
                    errno.EHOSTUNREACH: "no route"}.get(exc.errno or 0, exc.strerror or str(exc))
    fixes = {
        "refused": f"nothing listens on port {port} of {server}: check option port and that"
                   " the SSH server runs",
        "no route": f"the router has no route to {server}: check its uplink and default route",
        "timeout": f"{server} did not answer within {ctx.config.connect_timeout} s: check the"
                   " address and firewalls on the way",
    }
    codes = {"refused": "TCP_REFUSED", "no route": "TCP_NO_ROUTE", "timeout": "TCP_TIMEOUT"}
    raise Failed(f"port {port}: {last}", fixes.get(last, f"cannot connect to {server}: {last}"),
                 codes.get(last, "TCP_FAILED"), server=server, port=port,
                 seconds=ctx.config.connect_timeout, reason=last)


def _hostkey(ctx: Context) -> Done:
    assert ctx.config and ctx.plan and ctx.facts
    config = ctx.config
    try:  # with jump hosts, through them (their keys pinned)
        offered = trust.server_keys(config, ctx.plan.client, ctx.plan.ssh_argv[0],
                                    list(ctx.plan.identities), config.connect_timeout)
    except PppsshError as exc:
        raise Failed(exc.code, exc.message, exc.code, server=config.server) from None
    if not offered:
        raise Failed("the server offered no host key",
                     "the SSH server did not complete the key exchange; look at its log",
                     "HOSTKEY_NONE", server=ctx.config.server, port=ctx.config.port)
    pinned = list(ctx.plan.host_keys)
    if not pinned:
        raise Failed(
            f"not pinned; the server offers {offered[0].describe()}",
            f"pin it after checking the fingerprint: pppossh trust {ctx.iface}",
            "NOT_PINNED", type=offered[0].kind, fingerprint=offered[0].fingerprint,
        )
    if not any(k.key in pinned for k in offered):
        raise Failed(
            f"HOSTKEY_MISMATCH: the server offers {offered[0].fingerprint}, pinned "
            + ", ".join(fingerprint(k) for k in pinned),
            "if the server was really re-keyed, pin the new key: pppossh trust"
            f" {ctx.iface} (otherwise someone may be in the middle)",
            "HOSTKEY_MISMATCH", type=offered[0].kind, fingerprint=offered[0].fingerprint,
            pinned=[fingerprint(k) for k in pinned],
        )
    match = next(k for k in offered if k.key in pinned)
    source = "option hostkey" if ctx.config.hostkey else "~/.ssh/known_hosts"
    return (f"{match.describe()}, pinned in {source}",
            {"type": match.kind, "fingerprint": match.fingerprint,
             "source": "hostkey" if ctx.config.hostkey else "known_hosts"})


def _session(ctx: Context, command: str, timeout: float) -> tuple[str, bytes, str, float]:
    """Run the SSH client with ``command``; (how it ended, stdout, stderr, seconds)."""
    assert ctx.plan
    write_known_hosts(State(ctx.rundir, ctx.iface), ctx.plan)
    # no terminal: the server's messages come on stderr, apart from the stream
    argv = [*ctx.plan.probe_argv, command]
    started = time.monotonic()
    proc = subprocess.Popen(argv, env={"HOME": ctx.plan.home, "PATH": os.environ["PATH"]},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stdout and proc.stderr
    out, err, ended = b"", b"", "timeout"
    deadline = started + timeout
    streams = [proc.stdout, proc.stderr]
    while streams and time.monotonic() < deadline:
        ready, _, _ = select.select(streams, [], [], max(0.0, deadline - time.monotonic()))
        for stream in ready:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                streams.remove(stream)
            elif stream is proc.stdout:
                out += chunk
            else:
                err += chunk
        if LCP_START in out:
            ended = "ppp"
            break
    else:
        if not streams:
            ended = "exit"
    if ended == "exit":
        # the client closed its output; give it a moment to report its exit status
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(max(1.0, deadline - time.monotonic()))
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    status = proc.wait()
    if ended == "exit":
        ended = f"exit {status}"
    return ended, out, err.decode(errors="replace"), time.monotonic() - started


def _fail_from_log(ctx: Context, err: str, what: str) -> Failed:
    assert ctx.config
    result = outcome.classify(
        255, err, iface=ctx.iface, server=ctx.config.server, port=ctx.config.port,
        user=ctx.config.sshuser, session_seconds=None,
    )
    if result.code.startswith("EXIT_") or result.code == "FATAL_ERROR":
        return Failed(f"{what}: {outcome.tail(err) or 'no message'}",
                      "see the SSH client's message above", "SSH_FAILED",
                      server=ctx.config.server)
    return Failed(f"{result.code}: {outcome.tail(err, 2)}", result.message, result.code,
                  server=ctx.config.server, port=ctx.config.port, user=ctx.config.sshuser)


def _auth(ctx: Context) -> Done:
    assert ctx.config
    tun = ctx.config.proto == "sshtun"
    # sshtun: a pppossh server's key runs the session script whatever is asked; its state
    # question is answered at once by that script and by a server set up by hand alike
    command = sshtun.state_command(ctx.config) if tun else "exit 0"
    ended, out, err, took = _session(ctx, command, ctx.config.connect_timeout)
    if tun:
        ctx.tun_state = tun_session.state_line(out.decode(errors="replace"))
    values = {"user": ctx.config.sshuser, "seconds": round(took, 1)}
    if ended == "exit 0":
        return f"{ctx.config.sshuser} logged in ({took:.1f} s)", {**values, "forced": False}
    if ended == "ppp":
        return (f"{ctx.config.sshuser} logged in ({took:.1f} s); the server forces its own"
                " command (pppd)", {**values, "forced": True})
    if ended == "timeout":
        raise Failed(f"no login within {ctx.config.connect_timeout} s",
                     "the server did not finish the login; look at its log", "LOGIN_TIMEOUT",
                     seconds=ctx.config.connect_timeout, user=ctx.config.sshuser)
    raise _fail_from_log(ctx, err, f"login failed ({ended})")


def _remote_pppd(ctx: Context) -> Done:
    assert ctx.config and ctx.plan
    ended, _, err, took = _session(ctx, ctx.plan.remote_command, ctx.config.connect_timeout)
    command = ctx.plan.remote_command
    if ended == "ppp":
        return (f"'{command}' answered with PPP ({took:.1f} s)",
                {"command": command, "seconds": round(took, 1)})
    if ended == "timeout":
        raise Failed(
            f"'{command}' said nothing in {ctx.config.connect_timeout} s",
            "the remote command does not speak PPP on its output; a forced command in the"
            " server's authorized_keys may run something else",
            "REMOTE_SILENT", command=command, seconds=ctx.config.connect_timeout,
        )
    failed = _fail_from_log(ctx, err, f"'{command}' ended ({ended})")
    if failed.code == "SSH_FAILED" or not failed.fix:
        failed.fix = ("the server ran something that is not pppd; check remote_pppd and any"
                      " forced command for this key on the server")
        failed.code = "REMOTE_NOT_PPPD"
    failed.values["command"] = command
    raise failed


def _remote_device(ctx: Context) -> Done:
    assert ctx.config
    wanted = ctx.config.remote_device
    if not ctx.tun_state:
        raise Failed("no answer about the server's device",
                     "the server ran something else than pppossh's session script: a forced"
                     " command for this key that is not 'pppossh peer add --mode"
                     f" {ctx.config.mode}''s, or a login shell that is not POSIX sh",
                     "REMOTE_NOT_PPPOSSH", device=wanted)
    asked = outcome.Outcome("TUNNEL_DEVICE", "")
    told = outcome.tun_device(asked, ctx.tun_state, wanted, iface=ctx.iface,
                              server=ctx.config.server, user=ctx.config.sshuser)
    if told.code != "TUNNEL_DEVICE":
        raise Failed(ctx.tun_state.split(" ", 1)[1], told.message, told.code,
                     **dict(told.values))
    return (f"{wanted} is there and free", {"device": wanted})


def _opens(path: str, no_kernel_fix: str, codes: tuple[str, str]) -> None:
    """Open a kernel device the link needs, or fail with (no kernel support, no access)."""
    try:
        fd = os.open(path, os.O_RDWR)
        os.close(fd)
    except OSError as exc:
        no_kernel = exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO)
        raise Failed(
            f"{path}: {exc.strerror}",
            no_kernel_fix if no_kernel else f"run pppossh as root ({path} needs it)",
            codes[0] if no_kernel else codes[1], device=path,
            reason=errno.errorcode.get(exc.errno or 0, ""),
        ) from None


def _local_tun(ctx: Context) -> Done:
    _opens(DEV_TUN, "the kernel has no tun support: install kmod-tun (OpenWrt) or load it"
           " (modprobe tun)", ("NO_LOCAL_TUN", "TUN_DEVICE_DENIED"))
    return f"{DEV_TUN} opens", {"device": DEV_TUN}


def _local_ppp(ctx: Context) -> Done:
    assert ctx.facts
    if not os.access(ctx.facts.pppd, os.X_OK):
        raise Failed(f"{ctx.facts.pppd} not found", "install pppd (opkg install ppp)",
                     "PPPD_MISSING", path=ctx.facts.pppd)
    version = ".".join(map(str, pppd_version(ctx.facts.pppd)))
    fix = ("the kernel has no PPP support: install kmod-ppp (OpenWrt) or load ppp_generic"
           " (modprobe ppp_generic ppp_async)")
    with contextlib.suppress(OSError):  # missing: opening it says so
        info = os.stat(DEV_PPP)
        if not stat.S_ISCHR(info.st_mode) or os.major(info.st_rdev) != 108:
            raise Failed(f"{DEV_PPP}: not the PPP character device (108, 0)", fix,
                         "NO_KERNEL_PPP", device=DEV_PPP, reason="ENODEV")
    _opens(DEV_PPP, fix, ("NO_KERNEL_PPP", "PPP_DEVICE_DENIED"))
    return f"pppd {version}, {DEV_PPP} opens", {"version": version, "device": DEV_PPP}


def _route(ctx: Context) -> Done:
    assert ctx.config and ctx.plan
    notes, found = [], []
    for address in ctx.addresses:
        via = routes.route_get(address)
        dev = via.get("dev", "")
        if not dev:
            raise Failed(f"no route to {address}", "check the router's uplink", "NO_ROUTE",
                         address=address)
        if dev.startswith("pppossh-") or (ctx.config.proto == "sshtun"
                                          and dev.startswith(ctx.config.mode)):
            raise Failed(
                f"{address} is routed through {dev}",
                "the SSH connection would run through its own tunnel; keep use_hostdep 1 (a"
                " host route pins the server) or add a route to the server via the uplink",
                "ROUTE_THROUGH_TUNNEL", address=address, device=dev,
            )
        notes.append(f"{address} via {via.get('gateway', 'link')} dev {dev}")
        found.append({"address": address, "gateway": via.get("gateway", ""), "device": dev})
    if ctx.config.defaultroute and not ctx.config.use_hostdep:
        raise Failed(
            "defaultroute 1 with use_hostdep 0",
            "once the tunnel takes the default route, the SSH connection would follow it;"
            " set use_hostdep 1",
            "HOSTDEP_NEEDED",
        )
    return "; ".join(notes) + ", not through the tunnel", {"routes": found}


CHECKS: dict[str, Callable[[Context], Done]] = {
    "config": _config, "resolve": _resolve, "tcp": _tcp, "hostkey": _hostkey, "auth": _auth,
    "remote_pppd": _remote_pppd, "local_ppp": _local_ppp, "route": _route,
    "remote_device": _remote_device, "local_tun": _local_tun,
}


def run(uci: Uci, iface: str, rundir: str, keydir: str | None = None,
        progress: Callable[[Step], None] | None = None) -> list[Step]:
    ctx = Context(uci, iface, rundir, keydir)
    steps: list[Step] = []
    failed = False
    for i in range(len(STEPS)):
        name = ctx.steps[i]  # the protocol's steps, known once the config step has run
        if failed:
            steps.append(Step(name, None))
            continue
        started = time.monotonic()
        try:
            detail, values = CHECKS[name](ctx)
            step = Step(name, True, detail, values=values)
        except Failed as exc:
            step = Step(name, False, exc.detail, exc.fix, code=exc.code, values=exc.values)
            failed = True
        step.ms = round((time.monotonic() - started) * 1000)
        steps.append(step)
        if progress:
            progress(step)
    return steps


def read_progress(path: Any) -> dict[str, Any]:
    """The steps a background check (``pppossh check --progress FILE``) has done so far."""
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {"running": False, "steps": []}
    return data if isinstance(data, dict) else {"running": False, "steps": []}


def write_progress(path: Any, data: dict[str, Any]) -> None:
    import json

    write_atomic(path, json.dumps(data), mode=0o600)


def to_json(iface: str, steps: list[Step]) -> dict[str, Any]:
    return {"interface": iface, "ok": all(s.ok for s in steps),
            "steps": [asdict(s) for s in steps]}


def format_step(step: Step) -> str:
    mark = {True: "[ ok ]", False: "[FAIL]", None: "[ -- ]"}[step.ok]
    line = f"{mark} {step.name:<12} {step.detail}"
    if step.ok is False:
        line += f"\n       fix: {step.fix}"
    return line

