"""The netifd side: what the hook's setup and teardown hand over to.

setup: config JSON -> Config -> Plan -> host dependencies (action 6) -> proto task (action 1),
or an error code plus block_restart (actions 3, 4) when the configuration is wrong, so netifd
does not spin (``golden/netifd/07``: a setup every 28 ms).  The back-off wait happens inside
the proto task (:data:`WAIT_SCRIPT`), which ``ifdown`` can kill at any moment.  A setup that
started the task at once saves its plan for the hook to repeat (:mod:`.relay`).

teardown: record how the session ended (``ERROR`` is set only when the task ended by itself),
report why, then stop the task (action 2), as ``golden/netifd/03``/``05`` show.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from .. import log
from ..config import Config, from_netifd_json
from ..errors import ConfigError, PppsshError, TransientError
from ..plan import Plan, make_plan
from ..plan.facts import HostFacts, known_hosts_files, probe, search_path, which
from . import backoff, outcome, relay, tunstate, ubus, uplink
from .ppphook import NETIFD_UPDATE, netifd_update_text
from .prepare import prepare_state_dir, remove_secrets, session_info
from .resolve import resolve
from .state import State, write_atomic

# netifd copies the command into a fixed array and refuses the 63rd word (proto-shell.c)
MAX_ARGV = 62
# In the state directory once netifd has the proto task: the hook reports no HELPER_FAILED
# (and blocks no restart) for a helper that dies after that, e.g. at the hands of the OOM killer.
TASK_STARTED = "task-started"

Watch = tuple[str, str, int, bool]  # what the back-off wait probes: busybox, address, port,
# and whether the port was found down already


def task_argv(plan: Plan, wait: float, watch: Watch | None = None) -> list[str]:
    """The proto task: pppd itself, or pppd behind the back-off wait (:data:`WAIT_SCRIPT`).

    The limit is checked with the wrapper counted, so that a configuration that works the
    first time keeps working after a failure.
    """
    wrapper = wait_argv(wait, watch)
    if len(wrapper) + len(plan.task_argv) > MAX_ARGV:
        raise ConfigError(
            "TOO_MANY_OPTIONS",
            f"the tunnel's command would have {len(plan.task_argv)} words, and netifd runs"
            f" at most {MAX_ARGV - len(wrapper)} with pppossh's back-off in front; shorten"
            f" network.{plan.iface}.{'ssh_options' if plan.proto == 'sshtun' else 'pppd_options'}",
        )
    return [*wrapper, *plan.task_argv] if wait > 0 else list(plan.task_argv)


def dependencies(addresses: list[str]) -> list[str]:
    """The addresses to pin through netifd: those the router has a route for now.

    netifd keeps an interface unavailable while one of its host dependencies has no route,
    so an AAAA record on an IPv4-only uplink would hold the tunnel down for good; scoped
    link-local addresses need no route and netifd cannot parse them.
    """
    from .routes import route_get

    plain = [a for a in addresses if "%" not in a and not a.lower().startswith("fe80:")]
    routed = [a for a in plain if route_get(a).get("dev")]
    return routed or plain


def setup(iface: str, config_json: str, rundir: str, bus: ubus.Ubus) -> int:
    """Start the proto task, or say why not.  Exit status 0 unless nothing could be told to
    netifd: then the hook reports HELPER_FAILED itself.

    Once netifd has the task, nothing that fails afterwards is reported as a failed setup: a
    block_restart then would leave a running pppd on an interface marked failed.
    """
    state = State(rundir, iface)
    try:
        relay.discard(state)  # whatever happens now, the next setup asks the helper again
        try:
            prepared = _prepare(iface, config_json, rundir, state, bus)
        except TransientError as exc:
            _report(iface, bus, exc)
            failures = int(state.load().get("failures", 0))
            wait = max(backoff.delay(failures + 1), 1.0)
            state.update(mode="netifd", phase="backoff", wait=wait, last_error={
                "code": exc.code, "message": exc.message, "time": time.time()})
            argv = wait_argv(wait)
            prepared = None
        except PppsshError as exc:
            _report(iface, bus, exc)
            state.update(mode="netifd", phase="failed", last_error={
                "code": exc.code, "message": exc.message, "time": time.time()})
            return 0
        else:
            argv = prepared.argv
        bus.notify(ubus.run_command(iface, argv))
        with contextlib.suppress(OSError):  # for the hook, should this helper die from here
            state.path(TASK_STARTED).touch()
    except Exception as exc:  # a bug, a full disk, netifd not answering: not started
        return _not_started(iface, bus, state, exc)
    if prepared is None:
        return 0
    try:
        relay.save(state, prepared.relay, prepared.newest)
        prepared.announce()
    except Exception as exc:  # the task runs: nothing to undo, nothing to block
        log.error("%s: after the tunnel task was started: %s: %s (it runs on)",
                  iface, type(exc).__name__, exc)
    return 0


@dataclass
class _Prepared:
    """A setup ready to hand netifd its task; ``announce`` runs once netifd has it."""

    argv: list[str]
    announce: Callable[[], None]
    relay: str | None = None  # the plan for the hook to repeat, when it may
    newest: float = 0.0  # the newest modification time of the files it was made from


def _prepare(iface: str, config_json: str, rundir: str, state: State,
             bus: ubus.Ubus) -> _Prepared:
    config = from_netifd_json(iface, config_json)
    facts = probe(config, rundir=rundir)
    plan = make_plan(config, facts, mode="netifd")
    for note in plan.notes:
        log.warning("%s: %s", iface, note)
    # the host dependency follows where TCP goes: the first jump host, else the server
    first, port = config.first_hop
    addresses = resolve(first, config.connect_timeout)
    hosts = dependencies(addresses) if config.use_hostdep else []
    uplinks, choices = _uplinks(iface, hosts, bus)
    for address in hosts:
        bus.notify(ubus.host_dependency(iface, address, uplinks.get(address, "")))
    previous = state.load()
    if state.garbage:
        log.warning("%s: %s held no state pppossh wrote (garbage); it starts afresh",
                    iface, state.file)
    failures = int(previous.get("failures", 0))
    wait = backoff.delay(failures)
    argv = task_argv(plan, wait, _watch(previous, hosts or addresses, port, wait))
    prepare_state_dir(state, plan)
    write_atomic(state.path(NETIFD_UPDATE), netifd_update_text(config, plan.client))
    state.update(
        mode="netifd", phase="connecting", attempt_started=time.time(), up_since=None,
        wait=wait, addresses=addresses, uplinks=uplinks,
        **session_info(config, plan),
    )

    def announce() -> None:
        last = previous.get("last_error") or {}
        if failures and last.get("code"):
            # netifd clears an interface's errors when it sets it up again: say it again, so
            # that ifstatus shows why the tunnel is down for the whole back-off
            bus.notify(ubus.notify_error(iface, last["code"], last.get("message", "")))
        log.info(
            "%s: connecting to %s:%d with %s%s", iface, config.server, config.port, plan.client,
            f" in {wait:g} s (failure {failures} in a row)" if wait else "",
        )

    needs = _needs(plan, facts)
    # the hook's relay pins without naming an uplink: netifd's own choice, the same as the
    # helper's only while one uplink at most leads to the server
    saved = None if wait or plan.secrets or choices > 1 else relay.relay_text(
        config_json, needs=list(needs), server=first, addresses=addresses,
        hosts=hosts, empty=[p for p in (plan.ssh_log, plan.pppd_log) if p], argv=argv)
    return _Prepared(argv, announce, saved, max(needs.values(), default=0.0))


def _uplinks(iface: str, hosts: list[str], bus: ubus.Ubus) -> tuple[dict[str, str], int]:
    """The interface each host dependency names (:mod:`.uplink`), and the most interfaces
    that led to one host.  Nothing is named when netifd's dump cannot be had."""
    if not hosts:
        return {}, 0
    try:
        dump = bus.call("network.interface", "dump") or {}
    except ubus.UbusError as exc:
        log.warning("%s: no interface dump from netifd (%s); netifd picks the uplink", iface, exc)
        return {}, 0
    named, most = {}, 0
    for host in hosts:
        routes = uplink.candidates(dump, host, skip=[iface])
        chosen = uplink.best(routes, host)
        if chosen is not None and chosen.interface:
            named[host] = chosen.interface
        most = max(most, len({r.interface for r in routes}))
    return named, most


def _watch(previous: dict, addresses: list[str], port: int, wait: float) -> Watch | None:
    """What the back-off wait probes: the server's port, after a failure that may have been
    an outage (backoff.WATCH_AFTER), when a busybox with nc is there to probe it."""
    target = backoff.watch_target((previous.get("last_error") or {}).get("code"), addresses)
    if not wait or target is None:
        return None
    tool = probe_tool()
    return (tool, target[0], port, target[1]) if tool else None


def _needs(plan: Plan, facts: HostFacts) -> dict[str, float]:
    """The files a plan was made from, with their modification times: once one is newer than
    the saved plan, the hook asks the helper again.  Files that do not exist are left out."""
    import pppossh

    files = [plan.task_argv[0], plan.ssh_argv[0], *plan.identities,
             *known_hosts_files(facts.home), pppossh.__file__ or ""]
    found: dict[str, float] = {}
    for path in dict.fromkeys(f for f in files if f):
        with contextlib.suppress(OSError):
            found[path] = os.stat(path).st_mtime
    return found


# A run directory the helper cannot write to (a full or read-only /var/run): its own code,
# since the fix is on the router and not in pppossh.
_UNWRITABLE = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM}


def _not_started(iface: str, bus: ubus.Ubus, state: State, exc: Exception) -> int:
    """An unexpected failure before netifd had the task: HELPER_FAILED with what happened (or
    RUNDIR_UNWRITABLE), and block_restart (a retry every 28 ms would not help); 1 when netifd
    cannot be told."""
    code = "HELPER_FAILED"
    message = (f"the pppossh helper failed: {type(exc).__name__}: {exc}; see logread;"
               f" then: ifup {iface}")
    if isinstance(exc, OSError) and exc.errno in _UNWRITABLE:
        code = "RUNDIR_UNWRITABLE"
        where, top = exc.filename or str(state.dir), state.dir.parent.parent
        message = (f"cannot write {where} ({os.strerror(exc.errno)}): free space in {top}"
                   f" (df -h {top}) or make it writable, then: ifup {iface}")
    log.error("%s: %s: %s", iface, code, message)
    with contextlib.suppress(Exception):
        state.update(mode="netifd", phase="failed", last_error={
            "code": code, "message": message, "time": time.time()})
    try:
        bus.notify(ubus.notify_error(iface, code, message))
        bus.notify(ubus.block_restart(iface))
    except Exception as again:
        log.error("%s: cannot tell netifd either: %s", iface, again)
        return 1
    return 0


# The proto task while backing off: sleep, then become the command given after the seconds
# (pppd), or end with the retry status when there is none (a setup that could not start
# pppd).  A shell, not Python: it may wait minutes, and a router's memory is short.  netifd's
# SIGTERM on ifdown ends the sleep and any probe too.  Given "BUSYBOX ADDRESS PORT DOWN" (one
# word: netifd runs at most MAX_ARGV), it watches the port as backoff.watch does: a probe a
# second while the port does not answer, and the wait ends once it answers after it did not
# (DOWN 1: it did not already); while the port stays down the wait goes on past the step, up
# to the longest step.  The probe is busybox's nc in the one form OpenWrt's build knows, 'nc
# HOST PORT' (no -w, no -z): stdin at EOF, it connects, half-closes, and ends when the server
# closes, as sshd and dropbear do at once; status 1 when the connection fails.  A watchdog
# ends it after PROBE_TIMEOUT seconds (a black hole: down); any other status (no nc applet)
# ends the watch, and the step is slept out.  The script is constant: no value reaches it but
# as an argument.  Every child that is to be killed is forked while the shell sets no TERM
# trap: a child forked under a trap takes a moment to drop it, and a kill in that moment is
# lost (ash and dash alike).  On a loaded machine that let the sleep that ends a wait early,
# or a probe its watchdog ends, run out its time.
WAIT_SCRIPT = (
    'n=$1 w=$2 d= e= p= t= r=; shift 2; x=${w##* }; w=${w% *}; o=${w##* }; w=${w% *}; '
    'a=${w##* }; b=${w% *}; '
    'sleep "$n" & d=$!; '
    f'[ -z "$b" ] || {{ sleep {int(backoff.CAP)} & e=$!; }}; '
    'k=\'kill $d $e $p $t 2>/dev/null; wait; trap - TERM; kill -TERM $$\'; trap "$k" TERM; '
    'while [ -n "$b" ]; do trap - TERM; '
    '"$b" nc "$a" "$o" </dev/null >/dev/null 2>&1 & p=$!; '
    '( trap \'kill $s 2>/dev/null; exit 0\' TERM; '
    f'sleep {backoff.PROBE_TIMEOUT} & s=$!; wait $s; kill $p 2>/dev/null ) & t=$!; '
    'trap "$k" TERM; '
    'wait $p; r=$?; kill $t 2>/dev/null; wait $t; t=; '
    'if [ $r = 0 ]; then [ "$x" != 1 ] || kill $d 2>/dev/null; b=; '
    'elif [ $r = 1 ] || [ $r -gt 128 ]; then x=1; else b=; fi; '
    '[ -n "$b" ] && { kill -0 $d 2>/dev/null || kill -0 $e 2>/dev/null; } || b=; '
    f'[ -z "$b" ] || {{ sleep {backoff.PROBE_EVERY:g} & p=$!; wait $p; }}; done; '
    'kill $e 2>/dev/null; wait; trap - TERM; '
    f'[ "$#" -gt 0 ] || exit {outcome.RETRY_EXIT}; exec "$@"'
)


def wait_argv(wait: float, watch: Watch | None = None) -> list[str]:
    """The back-off wait in front of a command (or alone): whole seconds, at least one, as
    ``sleep`` takes them everywhere; ``watch`` says what to probe (:data:`WAIT_SCRIPT`)."""
    word = ""
    if watch:
        busybox, address, port, down = watch
        word = f"{busybox} {address} {port} {int(down)}"
    return ["/bin/sh", "-c", WAIT_SCRIPT, "pppossh-wait", str(max(1, math.ceil(wait))), word]


def probe_tool() -> str:
    """The busybox whose nc applet probes the server's port: the one ``nc`` is (OpenWrt), else
    any busybox on the PATH; "" when there is none (the wait then only sleeps)."""
    path = search_path()
    nc = which("nc", path)
    if nc and os.path.basename(os.path.realpath(nc)) == "busybox":
        return os.path.realpath(nc)
    return which("busybox", path) or ""


def _report(iface: str, bus: ubus.Ubus, exc: PppsshError) -> None:
    message = exc.message
    if exc.config_error:
        # a blocked interface stays down after the fix until someone brings it up
        message += f"; then: ifup {iface}"
    log.error("%s: %s: %s", iface, exc.code, message)
    bus.notify(ubus.notify_error(iface, exc.code, message))
    if exc.config_error:
        bus.notify(ubus.block_restart(iface))


def teardown(iface: str, config_json: str, rundir: str, bus: ubus.Ubus) -> int:
    state = State(rundir, iface)
    error = os.environ.get("ERROR")
    try:
        config: Config | None = from_netifd_json(iface, config_json)
    except ConfigError:
        config = None
    if error is not None and error.strip().lstrip("-").isdigit():
        relay.discard(state)  # the task ended by itself: the next setup decides the back-off
        from .leftovers import end_clients  # a failure's path: /proc is read only here

        for proc in end_clients(state):
            log.info("%s: ended %s (pid %d), left by the session", iface, proc.name, proc.pid)
        _record_end(iface, int(error), state, config, bus, rundir)
    else:
        with state.edit() as data:
            # A setup that failed on the configuration stays "failed" until the next setup.
            phase = "failed" if data.get("phase") == "failed" else "down"
            data.update(phase=phase, failures=0, up_since=None, wait=0)
        log.info("%s: stopped", iface)
    remove_secrets(state)
    bus.notify(ubus.kill_command(iface))
    return 0


def _record_end(
    iface: str, status: int, state: State, config: Config | None, bus: ubus.Ubus,
    rundir: str,
) -> None:
    tun = config if config and config.proto == "sshtun" else None
    ending = outcome.record_end(
        state, status, iface=iface,
        server=config.server if config else "the server",
        port=config.port if config else 22,
        user=config.sshuser if config else "the SSH user",
        ask_device=(lambda: tunstate.ask(tun, rundir, "netifd")) if tun else None,
        remote_device=tun.remote_device if tun else "",
    )
    result, failures, ssh_log = ending.outcome, ending.failures, ending.ssh_log
    state.update(phase="failed" if result.block else "backoff")
    if result.code == "RETRY":
        return
    log.log(
        log.ERROR if result.block else log.WARNING,
        "%s: %s: %s%s", iface, result.code, result.message,
        "" if result.block else f" (next attempt in about {backoff.delay(failures):g} s)",
    )
    if ssh_log.strip():
        log.info("%s: ssh client said: %s", iface, outcome.tail(ssh_log))
    message = result.message + (f"; then: ifup {iface}" if result.block else "")
    bus.notify(ubus.notify_error(iface, result.code, message))
    if result.block:
        bus.notify(ubus.block_restart(iface))


def follow_uplinks(trigger: str, rundir: str, bus: ubus.Ubus) -> int:
    """After interface ``trigger`` came up (the hotplug script): reconnect each tunnel whose
    server that interface, or another, now reaches better, the way ``ifup`` does it
    (``golden/ubus-calls.log``: ``network.interface down``, then ``up``)."""

    def reconnect(iface: str) -> None:
        for verb in ("down", "up"):
            bus.call("network.interface", verb, {"interface": iface})

    try:
        uplink.check(rundir, lambda: bus.call("network.interface", "dump"), reconnect, trigger)
    except (ubus.UbusError, OSError) as exc:
        log.error("uplink check after %s came up: %s", trigger, exc)
        return 1
    return 0

