"""Standalone mode outside the test bed: what `pppossh up` starts, and what `down` cleans.

- The supervisor `up` starts runs Python isolated and from /: a ``pppossh/__main__.py`` in
  the caller's directory is never imported (issue 10, item 2).
- `down` after a supervisor crash removes what the tunnel made whatever the state file says,
  and says what it removed (item 8); a tunnel netifd runs is left to ifdown.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import PPPOSSH, network_file

needs_tools = pytest.mark.skipif(
    not (shutil.which("dropbearkey") and shutil.which("dbclient")
         and os.access("/usr/sbin/pppd", os.X_OK) and os.geteuid() == 0),
    reason="needs dropbear-bin, pppd and root",
)


def _env() -> dict[str, str]:
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
            "PPPOSSH_UCI_BACKEND": "file", "PPPOSSH_UBUS": "cli", "PPPOSSH_NO_SYSLOG": "1"}


@needs_tools
def test_supervisor_ignores_a_pppossh_package_in_the_callers_directory(tmp_path: Path) -> None:
    """`pppossh up` run from a directory holding a hostile pppossh/__main__.py: the real
    supervisor runs (pppd fails here for want of kernel PPP, and the supervisor says so in
    the state), and the hostile module never runs."""
    identity = tmp_path / "id_vpn"
    subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(identity)], capture_output=True,
                   check=True, timeout=60)
    confdir, rundir = tmp_path / "config", tmp_path / "run"
    network_file(confdir, str(identity), use_hostdep="0", connect_timeout="5",
                 ssh_client="dbclient")
    cwd = tmp_path / "cwd"
    marker = tmp_path / "marker"
    (cwd / "pppossh").mkdir(parents=True)
    (cwd / "pppossh" / "__init__.py").write_text("")
    (cwd / "pppossh" / "__main__.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n")
    out = subprocess.run(
        [PPPOSSH, "--confdir", str(confdir), "--rundir", str(rundir), "up", "vpn"],
        cwd=cwd, env=_env(), capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert not marker.exists(), "the supervisor imported pppossh from the caller's directory"
    state = json.loads((rundir / "vpn" / "state.json").read_text())
    assert out.returncode == 1 and state["phase"] == "failed", (out.stderr, state)
    assert state.get("last_error"), state


# --- down after a supervisor crash (issue 10, item 8) -----------------------------------------

FAKE_PPPD = (  # argv0 /usr/sbin/pppd leaves Python only its built-in modules
    "import os, sys, time\n"
    "child = os.fork()\n"
    "if child == 0:\n"
    "    os.execv('/bin/sleep', ['sleep', '300'])\n"  # stands for the SSH client pppd started
    "open(sys.argv[-1], 'w').write(str(child))\n"
    "time.sleep(300)\n"
)


def _crashed_session(rundir: Path, tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """What a supervisor killed with SIGKILL leaves: a pppd (a stand-in with pppd's argv0 and
    the argv pppossh gives pppd) with a child, the resolv file, the password file, and a
    state file that still says up with the dead supervisor's pid."""
    from pppossh.run.state import State

    statedir = rundir / "vpn"
    child_pid = tmp_path / "child.pid"
    pppd = subprocess.Popen(
        ["bash", "-c", f'exec -a /usr/sbin/pppd {shlex.quote(sys.executable)} -c "$0" "$@"',
         FAKE_PPPD,
         "nodetach", "ipparam", "vpn", "ifname", "pppossh-vpn", "logfile",
         f"{statedir}/pppd.log", str(child_pid)],
        start_new_session=True)
    for _ in range(100):
        if child_pid.exists() and child_pid.read_text():
            break
        time.sleep(0.05)
    dead = subprocess.Popen(["true"])
    dead.wait()
    State(str(rundir), "vpn").update(
        mode="standalone", phase="up", supervisor_pid=dead.pid, pppd_pid=None,
        device="pppossh-vpn", host_routes=[], routes_added=[])
    (rundir / "resolv.conf.vpn").write_text("nameserver 192.0.2.53\n")
    (statedir / "pppd-secrets").write_text("password x\n")
    return pppd, int(child_pid.read_text())


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_down_after_a_supervisor_crash_removes_everything(tmp_path: Path) -> None:
    """`pppossh down` with a state file whose supervisor is dead and whose pppd pid is lost:
    the pppd and its child end, the resolv and password files go, the state says down, and
    the command says what it removed instead of 'was not running'."""
    rundir = tmp_path / "run"
    pppd, child = _crashed_session(rundir, tmp_path)
    try:
        out = subprocess.run([PPPOSSH, "--rundir", str(rundir), "down", "vpn"], env=_env(),
                             capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, out.stderr
        assert "was not running" not in out.stdout, out.stdout
        assert "removed" in out.stdout and "pppd (pid" in out.stdout, out.stdout
        assert pppd.wait(timeout=10) is not None and not _alive(child)
        assert not (rundir / "resolv.conf.vpn").exists()
        assert not (rundir / "vpn" / "pppd-secrets").exists()
        state = json.loads((rundir / "vpn" / "state.json").read_text())
        assert state["phase"] == "down" and state["supervisor_pid"] is None
        again = subprocess.run([PPPOSSH, "--rundir", str(rundir), "down", "vpn"], env=_env(),
                               capture_output=True, text=True, timeout=60, check=False)
        assert again.stdout.strip() == "vpn was not running"
    finally:
        pppd.kill()
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def test_down_unpins_host_routes_from_the_state(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Host routes the state still lists are unpinned, routes through the device deleted."""
    from pppossh.run import leftovers, routes, standalone
    from pppossh.run.state import State

    calls: list[tuple] = []
    monkeypatch.setattr(routes, "unpin_host_route", lambda pin: calls.append(("unpin", pin)))
    monkeypatch.setattr(routes, "delete_device_route",
                        lambda *args: calls.append(("delete", *args)))
    monkeypatch.setattr(leftovers, "processes", lambda: [])
    pin = {"address": "203.0.113.1/32", "gateway": "192.0.2.2", "dev": "up0"}
    State(str(tmp_path), "vpn").update(mode="standalone", phase="up", supervisor_pid=None,
                                       device="pppossh-vpn", metric=5, host_routes=[pin],
                                       routes_added=["0.0.0.0/1"])
    result = standalone.down("vpn", str(tmp_path))
    assert not result.stopped and result.removed == ["host route 203.0.113.1/32"]
    assert calls == [("delete", "0.0.0.0/1", "pppossh-vpn", 5), ("unpin", pin)]
    assert State(str(tmp_path), "vpn").load()["host_routes"] == []


def test_down_leaves_netifds_pppd_alone(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A pppd whose parent is netifd belongs to ifdown: down refuses and touches nothing."""
    from pppossh.errors import PppsshError
    from pppossh.run import leftovers, standalone

    statedir = tmp_path / "vpn"
    proc = leftovers.Proc(4242, 1, ("/usr/sbin/pppd", "nodetach", "ipparam", "vpn", "ifname",
                                    "pppossh-vpn", "logfile", f"{statedir}/pppd.log"))
    monkeypatch.setattr(leftovers, "processes", lambda: [proc])
    monkeypatch.setattr(leftovers, "_comm", lambda pid: "netifd")
    killed: list[int] = []
    monkeypatch.setattr(leftovers, "terminate", lambda victims: killed.extend(victims))
    statedir.mkdir()
    (tmp_path / "resolv.conf.vpn").write_text("x")
    with pytest.raises(PppsshError) as err:
        standalone.down("vpn", str(tmp_path))
    assert err.value.code == "RUN_BY_NETIFD" and "ifdown vpn" in err.value.message
    assert killed == [] and (tmp_path / "resolv.conf.vpn").exists()


def test_session_matches_only_this_state_directory(tmp_path: Path) -> None:
    """Processes of another rundir, another interface, or that merely read a log file of
    this one are not part of the session."""
    from pppossh.run import leftovers
    from pppossh.run.state import State

    state = State(str(tmp_path / "run"), "vpn")
    d = f"{state.dir}/"
    procs = [
        leftovers.Proc(10, 1, ("pppd", "ifname", "pppossh-vpn", "logfile", d + "pppd.log")),
        leftovers.Proc(11, 10, ("sh", "-c", f"HOME={d}home; export HOME; exec 3<&0; x")),
        leftovers.Proc(12, 11, ("dbclient", "-T", "192.0.2.2")),
        leftovers.Proc(20, 1, ("pppd", "ifname", "pppossh-vpn", "logfile",
                               "/other/run/vpn/pppd.log")),
        leftovers.Proc(21, 1, ("pppd", "ifname", "pppossh-vpn2", "logfile",
                               f"{tmp_path}/run/vpn2/pppd.log")),
        leftovers.Proc(30, 1, ("less", d + "ssh.log")),
        leftovers.Proc(31, 1, ("ssh", "-o", f"UserKnownHostsFile={d}home/.ssh/known_hosts")),
    ]
    ours, netifds = leftovers.session(procs, state)
    assert sorted(p.pid for p in ours) == [10, 11, 12, 31] and netifds == []


@pytest.mark.parametrize("command", ["down", "status", "up", "plan", "keygen", "pubkey",
                                     "trust", "check"])
@pytest.mark.parametrize("iface", ["../../tmp/x", "..", "-x", "a/b", "a b", "x" * 33, "vpn\n"])
def test_cli_refuses_interface_names_that_are_paths(tmp_path: Path, command: str,
                                                    iface: str) -> None:
    """An interface name from the command line becomes a path under the state directory:
    names that cannot be interfaces are refused (exit 2, INVALID_INTERFACE) and nothing is
    created or removed anywhere."""
    rundir = tmp_path / "run"
    victim = tmp_path / "resolv.conf.x"
    victim.write_text("keep")
    out = subprocess.run([PPPOSSH, "--rundir", str(rundir), "--confdir", str(tmp_path),
                          command, "--", iface], env=_env(), capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 2 and "INVALID_INTERFACE" in out.stderr, out
    assert not rundir.exists() and victim.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resolv.conf.x"]


@pytest.mark.parametrize("iface", ["", ".", "..", "../x", "a/b", "-x", "a\0b"])
def test_state_refuses_path_names(tmp_path: Path, iface: str) -> None:
    from pppossh.run.state import State

    with pytest.raises(ValueError):
        State(str(tmp_path), iface)
