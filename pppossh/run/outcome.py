"""Why a session ended, in words a router admin can act on.

pppd's exit status says little when the SSH client dies ("hangup"); the client's own message,
captured in ``ssh.log``, says the rest.  :func:`classify` turns both into a netifd error code,
a sentence with the fix, and whether retrying can help at all; :func:`record_end` does that
for a session that just ended and writes it down for the back-off and ``status``, the same
way under netifd (teardown) and standalone (the supervisor).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..config import tun_session
from ..plan.facts import TERMINAL_REFUSED
from ..plan.ssh import EXIT_NOTE
from .backoff import failures_after
from .state import State

# pppd(8) EXIT STATUS
PPPD_EXIT = {
    0: "ENDED", 1: "FATAL_ERROR", 2: "INVALID_OPTIONS", 3: "NOT_ROOT", 4: "NO_KERNEL_SUPPORT",
    5: "USER_REQUEST", 6: "LOCK_FAILED", 7: "OPEN_FAILED", 8: "CONNECT_FAILED",
    9: "PTYCMD_FAILED", 10: "NEGOTIATION_FAILED", 11: "PEER_AUTH_FAILED", 12: "IDLE_TIMEOUT",
    13: "CONNECT_TIME", 14: "CALLBACK", 15: "PEER_DEAD", 16: "HANGUP", 17: "LOOPBACK",
    18: "INIT_FAILED", 19: "AUTH_TOPEER_FAILED", 20: "TRAFFIC_LIMIT", 21: "CNID_AUTH_FAILED",
}
RETRY_EXIT = 75  # the back-off wait's exit status after a setup that could not start pppd


@dataclass(frozen=True)
class Outcome:
    code: str
    message: str
    block: bool = False  # retrying cannot help: stop netifd's restart loop
    values: tuple[tuple[str, object], ...] = ()  # what LuCI words the code with

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"code": self.code, "message": self.message,
                                   "block": self.block}
        if self.values:
            data["values"] = dict(self.values)
        return data


# (pattern in the SSH client's messages, code, message, block); first match wins.
_SSH_PATTERNS: list[tuple[str, str, str, bool]] = [
    (r"host key mismatch|REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed"
     r"(?![\s\S]*No \S+ host key is known)",
     "HOSTKEY_MISMATCH",
     "the server {server} shows a different host key than the one pinned{detail}; if the"
     " server was really re-keyed, pin the new key: pppossh trust {iface}", True),
    (r"No \S+ host key is known|Host key not accepted|host key .* not accepted"
     r"|is not in the trusted hosts file|Didn't validate host key",
     "HOSTKEY_UNKNOWN",
     "{server} offered a host key that is not pinned (dbclient checks only the key type it"
     " prefers, ed25519 first); pin that one with: pppossh trust {iface}", True),
    # OpenSSH ends a login whose terminal request the server refused (plan.facts
    # TERMINAL_REFUSED makes the next plans ask for none); dbclient goes on without one
    (r"PTY allocation request failed",
     "TERMINAL_REFUSED",
     "{server} refuses a terminal to {user} (sshd PermitTTY no, or 'no-pty' / 'restrict'"
     " without 'pty' for this key): the next attempt starts its pppd without one ('notty');"
     " set remote_pty 0 to start that way", False),
    (r"String too long",
     "INVALID_IDENTITY",
     "dbclient cannot read an identity file (an OpenSSH-format key?); convert it with"
     " dropbearconvert or create one with: pppossh keygen {iface}", True),
    (r"You need to create the /dev/ppp device|This system lacks kernel support for PPP",
     "REMOTE_NO_PPP",
     "pppd started on {server} but its kernel has no PPP support; load ppp_generic there"
     " (modprobe ppp_generic ppp_async) or install kmod-ppp on an OpenWrt server", False),
    (r"sudo: (a password is required|a terminal is required|.*password)",
     "REMOTE_SUDO_PASSWORD",
     "sudo on {server} asks for a password; allow pppd without one for {user} (pppossh"
     " server-setup writes that sudoers rule)", False),
    (r"(pppd|sudo).*(not found|No such file)|command not found|: pppd: .*not found",
     "REMOTE_PPPD_MISSING",
     "pppd could not be started on {server}; install ppp there or set remote_pppd to its"
     " path (e.g. 'sudo -n /usr/sbin/pppd')", False),
    # dbclient: "asked for a password" is pppossh's note (plan.ssh.pty_command) after ending
    # a login at the password prompt; "exited: Interrupted" is dbclient's own end when
    # getpass() fails without a terminal (musl, OpenWrt)
    (r"must be root to run pppd|Operation not permitted|Permission denied \(publickey"
     r"|No auth methods could be used|Permission denied|asked for a password"
     r"|exited: Interrupted",
     "AUTH_FAILED",
     "{server} refused the login of {user} with the configured key; add the key to the"
     " server's authorized_keys (pppossh pubkey {iface} prints it)", False),
    (r"Connection refused",
     "CONNECT_REFUSED",
     "{server} refused the connection on port {port}; check the port and that the SSH server"
     " runs", False),
    (r"No route to host|Network is unreachable|Network unreachable",
     "NO_ROUTE",
     "no route to {server}; check the router's uplink", False),
    (r"[Tt]imed out|timeout",
     "CONNECT_TIMEOUT",
     "{server} did not answer on port {port}; check the address and any firewall", False),
    (r"Name or service not known|Could not resolve|Temporary failure in name resolution"
     r"|Name does not resolve|Host lookup failed",
     "RESOLVE_FAILED",
     "cannot resolve {server}; check the name and the router's DNS", False),
]

# sshtun: the client's messages when the tunnel itself cannot be had (ssh.c, misc.c tun_open)
_TUN_PATTERNS: list[tuple[str, str, str, bool]] = [
    (r"Tunnel device open failed|failed to open tunnel control device|Could not request tunnel",
     "NO_LOCAL_TUN",
     "the router cannot open a tun device for {iface}: install kmod-tun (modprobe tun), or"
     " set network.{iface}.unit to a unit that is free", True),
    # the server's reasons reach the client's log as "debug1: Remote: ..." (it runs with -v)
    (r"Remote: Server has (rejected|disabled) tunnel device forwarding",
     "TUNNEL_DISABLED",
     "{server} does not allow tunnels to {user}: set 'PermitTunnel point-to-point' (tun),"
     " 'ethernet' (tap) or 'yes' for that user in its sshd_config (a 'Match User {user}'"
     " block; pppossh server-setup writes it)",
     False),
    (r"Remote: Failed to open the tunnel device",
     "TUNNEL_DEVICE",
     "{server} could not open its tun device for {user}: the device of remote_unit is"
     " missing, busy with another session, owned by another user, not the unit the key"
     " allows (tunnel=\"N\"), or /dev/net/tun is not open to that user; 'pppossh peer list'"
     " on a pppossh server shows each peer's unit", False),
    (r"Tunnel forwarding failed|open failed: administratively prohibited",
     "TUNNEL_REFUSED",
     "{server} refused the tunnel to {user}: its sshd has PermitTunnel off for this user, or"
     " the server's tun device (remote_unit) is missing, busy with another session, or not"
     " the one the key allows; on a pppossh server 'pppossh peer list' shows each peer's"
     " unit", False),
]

# (pattern in pppd's own log, code, message, block)
_PPPD_PATTERNS: list[tuple[str, str, str, bool]] = [
    (r"Peer refused to agree to our IP address|Peer is not authorized to use remote address"
     r"|Could not determine remote IP address",
     "ADDRESS_REFUSED",
     "the server gives this tunnel other addresses than options ipaddr/peeraddr say; clear"
     " them so that the server's are accepted (uci delete network.{iface}.ipaddr; uci delete"
     " network.{iface}.peeraddr)", False),
    (r"LCP: timeout sending Config-Requests",
     "NO_PPP_ANSWER",
     "no PPP answer from {server} within connect_timeout: the SSH login stalled, or the"
     " command the server runs for this key is not pppd ('pppossh check {iface}' tells)",
     False),
    (r"Couldn't open the /dev/ppp device|lacks kernel support for PPP",
     "NO_KERNEL_SUPPORT",
     "the kernel has no PPP support (/dev/ppp missing); install kmod-ppp / load ppp_generic",
     True),
]

# The server's command ended before PPP started, on a terminal: its own words went into the
# stream, its exit status is what the client's log keeps (plan.ssh.EXIT_NOTE).
_REMOTE_EXIT = {126: "REMOTE_PPPD_MISSING", 127: "REMOTE_PPPD_MISSING", 4: "REMOTE_NO_PPP"}
_REMOTE_EXIT_OTHER = (
    "the command {server} ran for {user} ended with status {status} before PPP started (sudo"
    " asking for a password, pppd refusing an option, a forced command that is not pppd);"
    " 'pppossh check {iface}' shows the server's own message"
)


def remote_exit(ssh_log: str) -> int | None:
    """The exit status of the server's command, when the client's log says the command ran:
    not the client's own failure (OpenSSH 255, dbclient 'Exited:') nor a signal."""
    found = re.findall(rf"^{re.escape(EXIT_NOTE)} (\d+)$", ssh_log, re.M)
    if not found or re.search(r"[Ee]xited: ", ssh_log):
        return None
    status = int(found[-1])
    return status if 0 < status < 128 else None


_PPPD_MESSAGES = {
    2: ("INVALID_OPTIONS", "pppd refused its options; check pppd_options ({detail})", True),
    3: ("NOT_ROOT", "pppd must run as root", True),
    4: ("NO_KERNEL_SUPPORT",
        "the kernel has no PPP support (/dev/ppp missing); install kmod-ppp / load ppp_generic",
        True),
    10: ("NEGOTIATION_FAILED",
         "the PPP link did not come up within connect_timeout; the SSH login or the remote"
         " pppd stalled (see the log)", False),
    11: ("PEER_AUTH_FAILED", "the server's pppd failed our PAP/CHAP check", False),
    15: ("PEER_DEAD", "the server stopped answering LCP echoes (option keepalive)", False),
    19: ("AUTH_TOPEER_FAILED", "the server's pppd rejected username/password", False),
}


def tail_file(path: object, size: int = 4000) -> str:
    """The end of a log file, or "" when there is none."""
    try:
        with open(str(path), "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - size))
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class Ending:
    outcome: Outcome
    session_seconds: float | None  # None: the link never came up
    failures: int  # in a row, for the back-off
    ssh_log: str


# TUNNEL_BUSY endings in a row that keep the shortest back-off step (about 2 s each): the
# server still holds the device for this router's last session, until its ClientAlive ends
# that (a pppossh server: 9-12 s after the path died).  Past that, another router most
# likely has the unit, and the back-off grows as for any failure.
BUSY_QUICK = 8


def record_end(state: State, status: int, *, iface: str, server: str, port: int,
               user: str, ask_device: Callable[[], str] | None = None,
               remote_device: str = "") -> Ending:
    """Classify how a session ended (from its state and logs) and record it in the state:
    the failure count the back-off reads, the last error status shows.  sshtun: after
    ``TUNNEL_DEVICE``, ``ask_device`` asks the server about ``remote_device``
    (:mod:`.tunstate`)."""
    data = state.load()
    up_since = data.get("up_since")
    session = (data.get("down_at") or time.time()) - up_since if up_since else None
    ssh_log = tail_file(state.path("ssh.log"))
    result = classify(
        status, ssh_log, iface=iface, server=server, port=port, user=user,
        session_seconds=session, pinned=data.get("pinned", []),
        pppd_log=tail_file(state.path("pppd.log")), proto=data.get("proto", "pppossh"),
    )
    if result.code == "TUNNEL_DEVICE" and ask_device is not None:
        result = tun_device(result, ask_device(), remote_device, iface=iface, server=server,
                            user=user)
    if result.code == "TERMINAL_REFUSED":  # the next plans ask for none (plan.facts)
        state.path(TERMINAL_REFUSED).write_text(f"{server} {port}\n")
    with state.edit() as current:
        failures = int(current.get("failures", 0))
        busy = int(current.get("busy_endings", 0)) + 1 if result.code == "TUNNEL_BUSY" else 0
        if busy and busy <= BUSY_QUICK:
            failures = 1  # the shortest step: the device is about to be free
        elif result.code != "TERMINAL_REFUSED":  # the next attempt, without one, is no retry
            failures = failures_after(failures, session)
        current.update(failures=failures, up_since=None, last_session_seconds=session,
                       last_exit=status, busy_endings=busy)
        if result.code != "RETRY":
            current["last_error"] = {**result.as_dict(), "time": time.time()}
    return Ending(result, session, failures, ssh_log)


def tun_device(result: Outcome, answer: str, wanted: str, *, iface: str, server: str,
               user: str) -> Outcome:
    """``TUNNEL_DEVICE`` made precise by the server's state line for its device (``answer``,
    '' when none came): another unit than the key allows, missing, or busy."""
    words = answer.split()
    if len(words) != 3 or words[0] != tun_session.STATE or words[2] not in tun_session.STATES:
        return result
    device, what = words[1], words[2]
    values = (("device", device), ("wanted", wanted))
    kind, unit = device[:3], device[3:]
    if device != wanted:
        mode = f" and network.{iface}.mode={kind}" if not wanted.startswith(kind) else ""
        return Outcome("TUNNEL_UNIT", f"{server}'s key for {user} opens {device} alone, not"
                       f" {wanted}: set network.{iface}.remote_unit={unit}{mode}", True, values)
    if what == "missing":
        return Outcome("TUNNEL_NO_DEVICE", f"{server} has no {device}: on a pppossh server run"
                       " 'pppossh server-setup --apply' (its pppossh-tun-devices unit makes"
                       f" the devices at boot); set up by hand: ip tuntap add dev {device}"
                       f" mode {kind} user {user}", False, values)
    if what == "busy":
        return Outcome("TUNNEL_BUSY", f"{server}'s {device} is held by another session:"
                       f" another router with the same remote_unit, or this router's last"
                       " session, which the server has not noticed is gone yet (a pppossh"
                       " server ends it within about 12 s); pppossh tries again", False, values)
    return Outcome(result.code, f"{result.message} ({device} is there and free now: if this"
                   f" repeats, it is owned by another user than {user}, or /dev/net/tun is"
                   " closed to that user)", result.block, values)


def tail(text: str, lines: int = 6) -> str:
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def classify(
    exit_status: int | None,
    ssh_log: str,
    *,
    iface: str,
    server: str,
    port: int,
    user: str,
    session_seconds: float | None,
    pinned: Sequence[str] = (),
    pppd_log: str = "",
    proto: str = "pppossh",
) -> Outcome:
    """The reason a session ended; ``exit_status`` None means it was stopped on request.

    ``pinned`` are the fingerprints of the keys the client was told to accept, so that a
    changed host key is reported with the old and the new fingerprint.  Under ``proto``
    sshtun the status is the SSH client's, not pppd's.
    """
    fields = {"iface": iface, "server": server, "port": port, "user": user}
    if exit_status is None:
        return Outcome("STOPPED", "stopped on request")
    if exit_status == RETRY_EXIT:
        return Outcome("RETRY", "retrying after a failed setup")
    if proto == "sshtun":
        return _classify_tun(exit_status, ssh_log, fields, session_seconds, pinned)
    if exit_status in (2, 3, 4):
        code, text, block = _PPPD_MESSAGES[exit_status]
        return Outcome(code, text.format(detail=tail(ssh_log) or "see logread"), block)
    for pattern, code, text, block in _SSH_PATTERNS:
        match = re.search(pattern, ssh_log)
        if match:
            detail = _fingerprints(ssh_log, pinned)
            return Outcome(code, text.format(detail=detail, **fields), block)
    for pattern, code, text, block in _PPPD_PATTERNS:
        if re.search(pattern, pppd_log):
            return Outcome(code, text.format(**fields), block)
    status = remote_exit(ssh_log) if session_seconds is None else None
    if status is not None:
        values = (("status", status),)
        if status not in _REMOTE_EXIT:
            return Outcome("REMOTE_EXIT", _REMOTE_EXIT_OTHER.format(status=status, **fields),
                           False, values)
        # the sentence its message in the stream would have matched, and the status
        code = _REMOTE_EXIT[status]
        text, block = next((t, b) for _, c, t, b in _SSH_PATTERNS if c == code)
        return Outcome(code, f"{text.format(**fields)} (exit {status})", block, values)
    if exit_status in _PPPD_MESSAGES:
        code, text, block = _PPPD_MESSAGES[exit_status]
        return Outcome(code, text, block)
    name = PPPD_EXIT.get(exit_status, f"EXIT_{exit_status}")
    if session_seconds is not None:
        return Outcome(
            "CONNECTION_LOST",
            f"the tunnel to {server} went down after {session_seconds:.0f} s (pppd: {name})"
            + (f"; ssh said: {tail(ssh_log, 2)}" if ssh_log.strip() else ""),
        )
    return Outcome(
        name,
        f"the connection to {server} ended before the link came up (pppd: {name})"
        + (f"; ssh said: {tail(ssh_log, 3)}" if ssh_log.strip() else ""),
    )


def _fingerprints(log: str, pinned: Sequence[str]) -> str:
    shown = [f for f in re.findall(r"SHA256:[A-Za-z0-9+/]{43}", log) if f not in pinned]
    parts = []
    if shown:
        parts.append(f"server now shows {shown[0]}")
    if pinned:
        parts.append(f"pinned {', '.join(pinned)}")
    return f" ({', '.join(parts)})" if parts else ""


def _classify_tun(exit_status: int, ssh_log: str, fields: dict[str, object],
                  session_seconds: float | None, pinned: Sequence[str]) -> Outcome:
    """sshtun: the client's messages, then how long the link was up.  The client runs with
    -v; its own debug lines (words such as 'timeout' in them) are not read as errors."""
    plain = "\n".join(line for line in ssh_log.splitlines() if not line.startswith("debug"))
    for pattern, code, text, block in _TUN_PATTERNS:
        if re.search(pattern, ssh_log):
            return Outcome(code, text.format(**fields), block)
    for pattern, code, text, block in _SSH_PATTERNS:
        if code not in ("TERMINAL_REFUSED", "INVALID_IDENTITY") and re.search(pattern, plain):
            return Outcome(code, text.format(detail=_fingerprints(plain, pinned), **fields),
                           block)
    said = f"; ssh said: {tail(plain, 2)}" if plain.strip() else ""
    if session_seconds is not None:
        return Outcome("CONNECTION_LOST", f"the tunnel to {fields['server']} went down after"
                       f" {session_seconds:.0f} s (ssh exit {exit_status}){said}")
    return Outcome("TUNNEL_NOT_READY", f"the tunnel to {fields['server']} ended before the"
                   f" server said its end was attached (ssh exit {exit_status}){said}")
