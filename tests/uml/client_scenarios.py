"""Client-side security scenarios of issue 10, run inside the test-bed guest by ``guest.py``.

- ``password_not_in_argv``: a tunnel whose server's pppd requires PAP (pap-secrets in the
  guest's /etc/ppp) comes up with a hostile password that pppossh hands pppd in a root-only
  file; while it is up, ``ps`` run as another user (nobody) and every /proc/*/cmdline show
  no trace of the password (item 3).
- ``down_after_crash``: the supervisor is killed with SIGKILL while the tunnel is up; `pppossh
  down` removes pppd, the SSH client, the host route, the resolv file and the password file,
  and says what it removed instead of "was not running" (item 8).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bed import REMOTE_TUN, ROUTER, SSH_IP, Bed, processes, sh, step, wait_for
from scenarios import _standard_bed, _vpn, remote_pppd_sessions  # puts the repo on sys.path

from pppossh.plan.pppd import _escape

PASSWORD = "pa$$ w0rd \"q\" 'x' \\ # \u00e9-Geheim"
MARK = "Geheim"  # a part of the password that nothing else contains


def visible(password: str) -> str:
    """The password as pppd's PAP server compares it: check_passwd() first makes it visible
    ("%.*v": a byte from 0x80 as M- and the byte less 0x80, a control byte as ^X), so the
    pap-secrets entry must be written that way to match a password with such bytes."""
    out = []
    for byte in password.encode():
        if byte >= 0x80:
            out.append("M-")
            byte -= 0x80
        out.append(f"^{chr(byte ^ 0x40)}" if byte < 0x20 or byte == 0x7F else chr(byte))
    return "".join(out)


def _pap_secrets(bed: Bed, user: str, password: str) -> None:
    """The server's pppd (same root file system, guest's overlay) checks PAP against it."""
    path = Path("/etc/ppp/pap-secrets")
    saved = path.read_bytes() if path.exists() else None
    path.write_text(f"{user} * {_escape(visible(password))} *\n")
    os.chmod(path, 0o600)
    bed.cleanup.append(lambda: path.write_bytes(saved) if saved is not None else path.unlink())


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-3000:]
    except OSError as exc:
        return str(exc)


def password_not_in_argv(bed: Bed) -> dict:
    keys = _standard_bed(bed)
    _pap_secrets(bed, "router1", PASSWORD)
    bed.write_network({"vpn": _vpn(keys, "dbclient", username="router1", password=PASSWORD,
                                   peer_pppd_options="ms-dns 192.0.2.53 auth require-pap debug")})
    step("pppossh up vpn with username/password; the server's pppd requires PAP")
    up = bed.pppossh("up", "vpn")
    logs = "".join(f"--- {n}:\n{_tail(bed.rundir / 'vpn' / n)}" for n in ("pppd.log", "ssh.log"))
    assert up.returncode == 0, f"up failed:\n{up.stdout}{up.stderr}{logs}"
    wait_for(lambda: sh(["ping", "-c1", "-W1", REMOTE_TUN], ns=ROUTER, check=False,
                        timeout=5).returncode == 0, 30, "a ping through the tunnel")
    rundir = bed.rundir / "vpn"
    pppd_log = (rundir / "pppd.log").read_text()
    assert "PAP authentication succeeded" in pppd_log, pppd_log[-2000:]
    secrets = rundir / "pppd-secrets"
    mode = secrets.stat().st_mode & 0o777
    dir_mode = rundir.stat().st_mode & 0o777
    assert (mode, dir_mode) == (0o600, 0o700), (oct(mode), oct(dir_mode))
    ours = processes(r"pppd .*pppossh-vpn")
    assert any(f"file {secrets}" in line for line in ours), ours
    step("ps -eww -o pid,args as nobody, and every /proc/*/cmdline")
    ps = sh(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "ps", "-eww", "-o", "pid,args"]).stdout
    assert "pppossh-vpn" in ps and "pppd-secrets" in ps, "ps as nobody sees no pppd at all"
    leaks = [line for line in ps.splitlines() if MARK in line or "pa$$" in line]
    cmdlines = [line for line in processes(".") if MARK in line or "pa$$" in line]
    unreadable = sh(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                     "cat", str(secrets)], check=False)
    assert not leaks and not cmdlines, leaks + cmdlines
    assert unreadable.returncode != 0, "nobody could read the password file"
    step(f"{len(ps.splitlines())} processes seen by nobody, none shows the password")
    down = bed.pppossh("down", "vpn")
    assert down.returncode == 0 and not bed.leftovers(), down.stdout + str(bed.leftovers())
    assert not secrets.exists(), "the password file outlived the tunnel"
    return {"processes_checked": len(ps.splitlines())}


def down_after_crash(bed: Bed) -> dict:
    keys = _standard_bed(bed)
    bed.write_network({"vpn": _vpn(keys, "dbclient", username="router1", password="x")})
    up = bed.pppossh("up", "vpn")
    assert up.returncode == 0, f"up failed:\n{up.stdout}{up.stderr}"
    status = bed.status()
    assert status["up"] and status["host_routes"], status
    resolv = bed.rundir / "resolv.conf.vpn"
    assert resolv.exists(), "no resolv file while up"
    supervisor = int(status["supervisor_pid"])
    step(f"kill -9 the supervisor ({supervisor})")
    os.kill(supervisor, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{supervisor}").exists()
             or Path(f"/proc/{supervisor}/stat").read_text().split(") ")[1][0] == "Z", 10,
             "the supervisor to die")
    time.sleep(0.5)
    left = bed.leftovers()
    assert left, "killing the supervisor left nothing: the scenario tests nothing"
    step(f"left behind by the crash: {left}")
    started = time.monotonic()
    down = bed.pppossh("down", "vpn")
    took = round(time.monotonic() - started, 2)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "was not running" not in down.stdout, down.stdout
    assert "removed" in down.stdout and "pppd (pid" in down.stdout, down.stdout
    step(down.stdout.strip())
    assert not bed.leftovers(), f"down left: {bed.leftovers()}"
    assert not resolv.exists() and not (bed.rundir / "vpn" / "pppd-secrets").exists()
    routes = sh(["ip", "route"], ns=ROUTER).stdout
    assert SSH_IP not in routes, routes
    assert bed.status()["up"] is False
    wait_for(lambda: not remote_pppd_sessions(), 15, "the server to end its pppd as well")
    again = bed.pppossh("down", "vpn")
    assert again.stdout.strip() == "vpn was not running", again.stdout
    return {"down_s": took, "left_by_crash": len(left)}

