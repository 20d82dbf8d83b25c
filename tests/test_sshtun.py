"""proto sshtun (issue 14): the plan, the proto task script and the remote script.

The scripts run for real here, under busybox ash (OpenWrt's /bin/sh) and dash, with a stand-in
for the SSH client that behaves as OpenSSH does with ``-w`` (it prints what the server's
command prints and holds the session while its stdin stays open).  The tunnel itself runs in
the test bed (``tests/uml/tun_scenarios.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_hook_contract import router  # noqa: F401
from test_plan import KEY, SSH, facts, golden_config, o_options, value_after

from pppossh.admin.check import TUN_STEPS
from pppossh.config import tun_session
from pppossh.config.options import for_proto
from pppossh.errors import ConfigError
from pppossh.plan import make_plan, sshtun
from pppossh.plan.quoting import sh_split
from pppossh.plan.ssh import EXIT_NOTE
from pppossh.run import outcome

SHELLS = [s for s in ("/bin/busybox", "/bin/dash") if os.path.exists(s)]


def tun_config(**changes):
    base = golden_config(proto="sshtun", ipaddr="10.9.0.1", peeraddr="10.9.0.2",
                         remote_unit=3)
    return dataclasses.replace(base, **changes)


def test_plan_asks_openssh_for_the_tunnel() -> None:
    plan = make_plan(tun_config(), facts("openssh", net_devices=frozenset({"tun0", "lo"})),
                     "netifd")
    assert (plan.proto, plan.device, plan.client, plan.pppd_argv) == ("sshtun", "tun1",
                                                                     "openssh", ())
    argv = plan.ssh_argv
    assert argv[:2] == (SSH, "-v") and value_after(argv, "-w") == "1:3"
    assert {"Tunnel=point-to-point", "ExitOnForwardFailure=yes", "BatchMode=yes",
            "StrictHostKeyChecking=yes"} <= set(o_options(argv))
    # the first value wins in OpenSSH: a third of ssh_keepalive (15), before the common 15
    alive = [o for o in o_options(argv) if o.startswith("ServerAliveInterval=")]
    assert alive == ["ServerAliveInterval=5", "ServerAliveInterval=15"]
    assert "-t" not in argv and argv[-2] == "vpn.example.net"
    assert sh_split(argv[-1]) == ["sh", "-c", tun_session.SCRIPT, "sshtun", "tun3",
                                  "10.9.0.2", "10.9.0.1"]
    task = plan.task_argv
    assert task[:2] == ("/bin/sh", "-c") and task[4:15] == (
        "/var/run/pppossh/vpn", plan_hooks(plan), "vpn", "tun1", "10.9.0.1", "10.9.0.2",
        "netifd", "/usr/bin/python3", "", "", "")
    assert task[15:] == argv
    fixed = make_plan(tun_config(unit=7), facts("openssh"), "standalone")
    assert fixed.device == "tun7" and fixed.task_argv[10] == "standalone"


def test_plan_for_ipv6_on_the_link() -> None:
    """The router's IPv6 end goes to the task, the server's (with the link's prefix) to the
    server's command, which sets it as root."""
    config = tun_config(ip6addr="2001:db8:64::2/64", peer6addr="2001:db8:64::1")
    plan = make_plan(config, facts("openssh"), "netifd")
    assert plan.task_argv[13:15] == ("2001:db8:64::2/64", "2001:db8:64::1")
    assert sh_split(plan.ssh_argv[-1])[4:] == ["tun3", "10.9.0.2", "10.9.0.1", "",
                                               "2001:db8:64::1/64"]


def test_plan_for_a_bridged_tap() -> None:
    """mode tap: an Ethernet tunnel on tapN at both ends, the bridge handed to the task, no
    addresses for the server's command to set (its device is in a bridge of its own)."""
    config = tun_config(mode="tap", bridge="lan", ipaddr="", peeraddr="")
    plan = make_plan(config, facts("openssh", net_devices=frozenset({"tap0", "tun1"})),
                     "netifd")
    assert plan.device == "tap1" and value_after(plan.ssh_argv, "-w") == "1:3"
    assert "Tunnel=ethernet" in o_options(plan.ssh_argv)
    assert "Tunnel=point-to-point" not in o_options(plan.ssh_argv)
    assert sh_split(plan.ssh_argv[-1])[4:] == ["tap3", tun_session.NONE, tun_session.NONE]
    assert plan.task_argv[7:15] == ("tap1", "", "", "netifd", "/usr/bin/python3", "lan", "",
                                    "")


def plan_hooks(plan) -> str:
    return plan.task_argv[5]


def test_sshtun_needs_openssh() -> None:
    with pytest.raises(ConfigError) as err:
        make_plan(tun_config(), facts("dbclient"))
    assert err.value.code == "NO_SSH_CLIENT" and "openssh-client" in err.value.message


def test_no_free_unit() -> None:
    devices = frozenset(f"tun{n}" for n in range(256))
    with pytest.raises(ConfigError) as err:
        make_plan(tun_config(), facts("openssh", net_devices=devices))
    assert err.value.code == "NO_TUN_UNIT" and "network.vpn.unit" in err.value.message


# --- the proto task script, with a stand-in client -------------------------------------------
FAKE_SSH = """#!/bin/sh
# prints what the server's command would, then holds the session while stdin is open
echo "args: $*" >&2
echo "debug1: client_input_global_request: rtype keepalive@openssh.com want_reply 1" >&2
echo "debug1: Remote: Forced command." >&2
[ -n "$FAKE_READY" ] && echo "$FAKE_READY"
[ -n "$FAKE_EXIT" ] && { echo "$FAKE_MESSAGE" >&2; exit "$FAKE_EXIT"; }
exec cat >/dev/null
"""
HOOK = """#!/bin/sh
echo "$0 $* IFNAME=$IFNAME IPLOCAL=$IPLOCAL IPREMOTE=$IPREMOTE MODE=$PPPOSSH_MODE \
RUNDIR=$PPPOSSH_RUNDIR HOME=$HOME" >>"${0%/*}/calls"
"""


@pytest.fixture
def bench(tmp_path: Path) -> dict[str, Path]:
    hooks, state = tmp_path / "hooks", tmp_path / "run" / "lan2"
    hooks.mkdir()
    state.mkdir(parents=True)
    for event in ("ip-up", "ip-down"):
        (hooks / event).write_text(HOOK)
        (hooks / event).chmod(0o755)
    ssh = tmp_path / "ssh"
    ssh.write_text(FAKE_SSH)
    ssh.chmod(0o755)
    bindir = tmp_path / "bin"  # 'ip' records what the task asks of the device
    bindir.mkdir()
    (bindir / "ip").write_text(f'#!/bin/sh\necho "ip $*" >>{tmp_path / "ip.log"}\n')
    (bindir / "ip").chmod(0o755)
    return {"hooks": hooks, "state": state, "ssh": ssh, "bin": bindir,
            "ip_log": tmp_path / "ip.log"}


def _start(bench: dict[str, Path], shell: str, config=None, device: str = "tun4",
           mode: str = "netifd", **env: str) -> subprocess.Popen[bytes]:
    config = config or tun_config(iface="lan2")
    argv = sshtun.task_argv(str(bench["state"]), str(bench["hooks"]), config, device, mode,
                            "/usr/bin/python3", [str(bench["ssh"]), "-w", "4:3", "server"],
                            EXIT_NOTE)
    argv[0:1] = [shell, "sh"] if shell.endswith("busybox") else [shell]
    return subprocess.Popen(argv, env={"PATH": f"{bench['bin']}:/usr/bin:/bin", **env},
                            stdin=subprocess.DEVNULL)


def _calls(bench: dict[str, Path]) -> list[str]:
    path = bench["hooks"] / "calls"
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("shell", SHELLS)
def test_task_runs_the_hooks_around_a_ready_tunnel(bench: dict[str, Path], shell: str) -> None:
    task = _start(bench, shell, FAKE_READY=sshtun.READY)
    try:
        deadline = time.monotonic() + 10
        while not _calls(bench) and time.monotonic() < deadline:
            time.sleep(0.05)
        state = bench["state"]
        assert _calls(bench) == [
            f"{bench['hooks']}/ip-up tun4  0 10.9.0.1 10.9.0.2 lan2 IFNAME=tun4"
            f" IPLOCAL=10.9.0.1 IPREMOTE=10.9.0.2 MODE=netifd RUNDIR={state.parent}"
            f" HOME={state}/home"]
        assert not list(state.glob("tun-*"))  # the FIFOs' names go once each end is open
        time.sleep(0.3)
        assert task.poll() is None  # the session holds while the task runs
        task.send_signal(signal.SIGTERM)
        assert task.wait(10) == 128 + signal.SIGTERM
    finally:
        task.kill()
    assert _calls(bench)[1].startswith(f"{bench['hooks']}/ip-down tun4  0 10.9.0.1 10.9.0.2 lan2")
    log = (bench["state"] / "ssh.log").read_text()
    assert log.splitlines()[-1] == f"{EXIT_NOTE} {128 + signal.SIGTERM}"
    assert "args: -w 4:3 server" in log
    # the ready device's queue is a PPP device's, not tun's 500 packets (bufferbloat).  Debian's
    # busybox shell runs its own ip applet before PATH; OpenWrt's ip is iproute2's
    if not shell.endswith("busybox"):
        assert bench["ip_log"].read_text() == "ip link set tun4 txqueuelen 3\n"
    # -v's own lines stay out of the log (a keepalive each few seconds), the server's stay
    assert "debug1: Remote: Forced command." in log and "global_request" not in log
    assert not subprocess.run(["pgrep", "-f", str(bench["ssh"])], capture_output=True).stdout


@pytest.mark.parametrize("config", [
    tun_config(iface="lan2", mode="tap", bridge="br0", ipaddr="", peeraddr=""),
    tun_config(iface="lan2", mode="tap"),
    tun_config(iface="lan2", mode="tap", ip6addr="2001:db8:64::2/64",
               peer6addr="2001:db8:64::1")])
def test_standalone_task_bridges_or_addresses_the_tap(bench: dict[str, Path], config) -> None:
    """Standalone, the task itself puts a bridged tap into its bridge device, or addresses a
    routed one, once the server is ready (dash: busybox would run its own ip applet)."""
    if not os.path.exists("/bin/dash"):
        pytest.skip("needs dash")
    task = _start(bench, "/bin/dash", config, "tap4", "standalone", FAKE_READY=sshtun.READY)
    try:
        deadline = time.monotonic() + 10
        while not _calls(bench) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _calls(bench)
    finally:
        task.terminate()
        task.wait(10)
    steps = bench["ip_log"].read_text().splitlines()
    assert steps[0] == "ip link set tap4 txqueuelen 3"
    if config.bridge:
        assert steps[1:] == ["ip link set tap4 master br0 up"]
    elif config.ip6addr:
        assert steps[1:] == ["ip addr add 10.9.0.1 peer 10.9.0.2 dev tap4", "ip link set tap4 up",
                             "ip -6 addr add 2001:db8:64::2/64 dev tap4"]
    else:
        assert steps[1:] == ["ip addr add 10.9.0.1 peer 10.9.0.2 dev tap4", "ip link set tap4 up"]


@pytest.mark.parametrize("shell", SHELLS)
def test_task_without_ready_runs_no_hook(bench: dict[str, Path], shell: str) -> None:
    task = _start(bench, shell, FAKE_EXIT="255", FAKE_MESSAGE="Tunnel forwarding failed")
    assert task.wait(10) == 255
    assert _calls(bench) == []
    log = (bench["state"] / "ssh.log").read_text()
    assert "Tunnel forwarding failed" in log and log.endswith(f"{EXIT_NOTE} 255\n")
    ending = outcome.classify(255, log, iface="lan2", server="192.0.2.2", port=22, user="vpn",
                              session_seconds=None, proto="sshtun")
    assert ending.code == "TUNNEL_REFUSED" and "PermitTunnel" in ending.message


@pytest.mark.parametrize("shell", SHELLS)
def test_a_wrong_first_line_is_not_ready(bench: dict[str, Path], shell: str) -> None:
    """Whatever else the server's command prints (a banner, a forced command that is not
    pppossh's), the link is not reported up."""
    task = _start(bench, shell, FAKE_READY="Welcome to the server", FAKE_EXIT="0")
    assert task.wait(10) == 0 and _calls(bench) == []
    assert not bench["ip_log"].exists()


def test_outcomes_of_a_tunnel() -> None:
    def code(log: str, status: int = 255, session: float | None = None) -> str:
        return outcome.classify(status, log, iface="lan2", server="s", port=22, user="u",
                                session_seconds=session, proto="sshtun").code

    assert code("Tunnel device open failed.\nCould not request tunnel forwarding.") == \
        "NO_LOCAL_TUN"
    assert code("channel 0: open failed: administratively prohibited: open failed") == \
        "TUNNEL_REFUSED"
    # as OpenSSH 9.2 (-v) logged it in the test bed, device not open to the user
    refused = ("debug1: channel 1: new session [client-session] (inactive timeout: 0)\n"
               "debug1: Remote: Failed to open the tunnel device.\n"
               "channel 0: open failed: connect failed: open failed\nTunnel forwarding failed")
    assert code(refused) == "TUNNEL_DEVICE"
    assert code("debug1: Remote: Server has rejected tunnel device forwarding\n"
                "Tunnel forwarding failed") == "TUNNEL_DISABLED"
    assert code("debug1: channel 1: new session [client-session] (inactive timeout: 0)",
                session=30.0) == "CONNECTION_LOST"  # a debug line's 'timeout' is no error
    assert code("root@s: Permission denied (publickey).") == "AUTH_FAILED"
    assert code(f"{EXIT_NOTE} 255", session=40.0) == "CONNECTION_LOST"
    assert code("", status=2) == "TUNNEL_NOT_READY"  # pppd's 2 means nothing here


@pytest.mark.parametrize("shell", SHELLS)
def test_remote_script_waits_for_the_device(tmp_path: Path, shell: str) -> None:
    """The server's command, with /sys/class/net stood in for by a directory: no device,
    no ready line (after its 10 s bound, shortened here); carrier 1: ready at once."""
    sysnet = tmp_path / "net"
    # as if not root: the test must not address a device of this machine
    # the bound first: the temporary path may hold "50" itself (pytest-of-root/pytest-50)
    script = tun_session.SCRIPT.replace("50", "3").replace("/sys/class/net", str(sysnet))
    script = script.replace('"$(id -u)" = 0', '"$(id -u)" = not-root')
    assert script.count("not-root") == 1
    argv = ([shell, "sh"] if shell.endswith("busybox") else [shell])
    run = [*argv, "-c", script, "sshtun", "tun3", "10.9.0.2", "10.9.0.1"]
    out = subprocess.run(run, input="", capture_output=True, text=True, timeout=20)
    assert out.stdout == ""
    (sysnet / "tun3").mkdir(parents=True)
    (sysnet / "tun3" / "carrier").write_text("1\n")
    out = subprocess.run(run, input="", capture_output=True, text=True, timeout=20)
    assert out.stdout == f"{sshtun.READY}\n"


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("how", ["argument", "forced"])
def test_remote_script_answers_a_state_question(tmp_path: Path, shell: str, how: str) -> None:
    """Asked 'state' (as the router's own remote command, or through a pppossh server's forced
    command, which sees it in SSH_ORIGINAL_COMMAND), the script says missing, busy or free
    at once and opens no session."""
    sysnet = tmp_path / "net"
    sysnet.mkdir()
    script = tun_session.SCRIPT.replace("/sys/class/net", str(sysnet))
    argv = ([shell, "sh"] if shell.endswith("busybox") else [shell])
    config = tun_config(remote_unit=3)
    if how == "argument":
        run, env = [*argv, "-c", script, *sh_split(sshtun.state_command(config))[3:]], {}
    else:  # tun-session tun3 10.64.0.1 10.64.0.2 pppossh-a, the client's command in the env
        run = [*argv, "-c", script, "sshtun", "tun3", "10.64.0.1", "10.64.0.2", "pppossh-a"]
        env = {"SSH_ORIGINAL_COMMAND": sshtun.state_command(config)}

    def answer() -> str:
        out = subprocess.run(run, input="", capture_output=True, text=True, timeout=5,
                             env={"PATH": "/usr/bin:/bin", **env})
        assert out.returncode == 0, out
        return out.stdout

    assert answer() == f"{tun_session.STATE} tun3 missing\n"
    (sysnet / "tun3").mkdir()
    (sysnet / "tun3" / "carrier").write_text("0\n")
    assert answer() == f"{tun_session.STATE} tun3 free\n"
    (sysnet / "tun3" / "carrier").write_text("1\n")
    assert answer() == f"{tun_session.STATE} tun3 busy\n"


@pytest.mark.parametrize("answer,code,words", [
    (f"{tun_session.STATE} tun3 busy", "TUNNEL_BUSY", "held by another session"),
    (f"{tun_session.STATE} tun3 missing", "TUNNEL_NO_DEVICE", "ip tuntap add dev tun3 mode tun"),
    (f"{tun_session.STATE} tun5 free", "TUNNEL_UNIT", "network.lan2.remote_unit=5"),
    (f"{tun_session.STATE} tap5 free", "TUNNEL_UNIT", "network.lan2.mode=tap"),
    (f"{tun_session.STATE} tun3 free", "TUNNEL_DEVICE", "free now"),
    ("", "TUNNEL_DEVICE", "busy with another session"),  # no answer: as sshd said it
    (f"{tun_session.STATE} tun3 $(reboot)", "TUNNEL_DEVICE", "busy with another session"),
])
def test_the_servers_answer_makes_tunnel_device_precise(answer: str, code: str,
                                                        words: str) -> None:
    told = outcome.classify(255, "debug1: Remote: Failed to open the tunnel device.\n"
                            "Tunnel forwarding failed", iface="lan2", server="s", port=22,
                            user="u", session_seconds=None, proto="sshtun")
    assert told.code == "TUNNEL_DEVICE"
    precise = outcome.tun_device(told, answer, "tun3", iface="lan2", server="s", user="u")
    assert precise.code == code and words in precise.message, precise


def test_only_tunnel_device_asks_the_server(tmp_path: Path) -> None:
    """record_end asks after TUNNEL_DEVICE alone: any other ending costs no login."""
    from pppossh.run.state import State

    asked: list[int] = []

    def ask() -> str:
        asked.append(1)
        return f"{tun_session.STATE} tun0 busy"

    state = State(str(tmp_path), "lan2")
    state.update(mode="netifd", proto="sshtun")
    for text, code in (("debug1: Remote: Failed to open the tunnel device.", "TUNNEL_BUSY"),
                       ("debug1: Remote: Server has rejected tunnel device forwarding",
                        "TUNNEL_DISABLED")):
        state.path("ssh.log").write_text(text + "\nTunnel forwarding failed\n")
        ending = outcome.record_end(state, 255, iface="lan2", server="s", port=22, user="u",
                                    ask_device=ask, remote_device="tun0")
        assert ending.outcome.code == code
        assert state.load()["last_error"]["code"] == code
    assert asked == [1]


def test_a_busy_device_is_retried_soon_then_backs_off(tmp_path: Path) -> None:
    """The server's device held by the router's own last session: the shortest step for
    a while (the server's ClientAlive frees it), then the growing back-off."""
    from pppossh.run.state import State

    state = State(str(tmp_path), "lan2")
    state.update(mode="netifd", proto="sshtun", failures=3)
    state.path("ssh.log").write_text("debug1: Remote: Failed to open the tunnel device.\n")
    seen = []
    for _ in range(outcome.BUSY_QUICK + 2):
        ending = outcome.record_end(state, 255, iface="lan2", server="s", port=22, user="u",
                                    ask_device=lambda: f"{tun_session.STATE} tun0 busy",
                                    remote_device="tun0")
        seen.append(ending.failures)
    assert seen[:outcome.BUSY_QUICK] == [1] * outcome.BUSY_QUICK  # the shortest step
    assert seen[outcome.BUSY_QUICK:] == [2, 3]
    state.path("ssh.log").write_text("Connection closed by 192.0.2.2\n")
    outcome.record_end(state, 255, iface="lan2", server="s", port=22, user="u")
    assert state.load()["busy_endings"] == 0


def test_the_commands_on_an_sshtun_section(tmp_path: Path) -> None:
    """plan shows the tunnel's task; check walks sshtun's own steps (the server's device and
    the local tun control device instead of pppd's), and nothing starts."""
    from test_cli import network_file, pppossh

    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    network_file(tmp_path / "config", str(key), proto="sshtun", ipaddr="10.9.0.1",
                 peeraddr="10.9.0.2", remote_unit="2", unit="5")
    common = ["--confdir", str(tmp_path / "config"), "--rundir", str(tmp_path / "run")]
    plan = pppossh(*common, "plan", "vpn")
    assert plan.returncode == 0, plan.stderr
    assert " -w 5:2 " in plan.stdout and "pppossh-tun" not in plan.stderr
    network_file(tmp_path / "config", str(key), proto="sshtun", ipaddr="10.9.0.1",
                 peeraddr="10.9.0.2", remote_unit="2", unit="5", server="127.0.0.1", port="1")
    check = pppossh(*common, "check", "vpn", "--json")
    assert check.returncode == 1, check.stderr
    steps = json.loads(check.stdout)["steps"]
    assert [s["name"] for s in steps] == list(TUN_STEPS)
    assert [s["ok"] for s in steps[:3]] == [True, True, False]  # port 1: refused
    assert not (tmp_path / "run" / "vpn" / "ssh.log").exists()


def _check_context(state: str):
    from pppossh.admin.check import Context

    ctx = Context(None, "lan2", "/nonexistent", None)  # type: ignore[arg-type]
    ctx.config, ctx.tun_state = tun_config(iface="lan2"), state
    return ctx


@pytest.mark.parametrize("state,code", [
    (f"{tun_session.STATE} tun3 free", ""),
    (f"{tun_session.STATE} tun3 busy", "TUNNEL_BUSY"),
    (f"{tun_session.STATE} tun3 missing", "TUNNEL_NO_DEVICE"),
    (f"{tun_session.STATE} tun1 free", "TUNNEL_UNIT"),
    ("", "REMOTE_NOT_PPPOSSH"),
])
def test_check_words_the_servers_device(state: str, code: str) -> None:
    from pppossh.admin import check

    ctx = _check_context(state)
    if not code:
        assert check.CHECKS["remote_device"](ctx)[0] == "tun3 is there and free"
        return
    with pytest.raises(check.Failed) as failed:
        check.CHECKS["remote_device"](ctx)
    assert failed.value.code == code and failed.value.fix


def test_the_hook_declares_sshtun_and_hands_its_setup_to_the_helper(
        router, tmp_path: Path) -> None:  # noqa: F811
    """sshtun.sh under busybox, as netifd runs it: its dump registers sshtun alone (pppossh.sh,
    which it sources for the shared functions, does not register itself twice); a setup
    reaches the helper, which hands netifd the tunnel's task."""
    import json

    from test_hook_contract import REPO

    shutil.copy(REPO / "files/lib/netifd/proto/sshtun.sh", router.proto)
    dump = router.run("", "dump", script="sshtun.sh")
    assert dump.returncode == 0, dump.stderr
    declared = [json.loads(line) for line in dump.stdout.splitlines()]
    assert [d["name"] for d in declared] == ["sshtun"]
    assert [name for name, _ in declared[0]["config"]] == [
        o.declaration for o in for_proto("sshtun")]
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True,
                   timeout=30)
    config = {"proto": "sshtun", "server": "192.0.2.2", "sshuser": "tunpeer",
              "identity": [str(key)], "hostkey": [KEY], "ipaddr": "10.9.0.1",
              "peeraddr": "10.9.0.2", "remote_unit": 3, "unit": 6, "use_hostdep": 0}
    setup = router.run("sshtun", "setup", "lan2", json.dumps(config), script="sshtun.sh")
    assert setup.returncode == 0, setup.stderr
    (run,) = [m for m in router.messages() if m["action"] == 1]
    assert run["command"][:2] == ["/bin/sh", "-c"] and run["command"][3:8] == [
        "sshtun", str(router.rundir / "lan2"), run["command"][5], "lan2", "tun6"]
    assert "-w" in run["command"] and "6:3" in run["command"]
