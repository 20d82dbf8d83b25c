"""The real hook files/lib/netifd/proto/pppossh.sh under busybox ash, called as netifd calls it.

Layout like OpenWrt in tmp_path: lib/netifd/netifd-proto.sh (the shell library double,
tests/netifd/netifd-proto.sh), lib/netifd/proto/pppossh.sh (the real hook), a bin dir with the
ubus CLI double (tests/netifd/ubus, logging in the layout of golden/ubus-calls.log) and its
ubus.log-path file.  cwd = the proto dir and argv as in golden/netifd/*/call-*.txt; the
environment is the golden one (golden/netifd/01-ifup-vpn/proto-task-env.txt: HOME=/root and
PATH) with the bin dir and the venv's bin (the real `pppossh` helper) in front of PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import NETIFD, REPO, parse_ubus_log, setup_json

from pppossh.config.options import for_proto
from pppossh.run import jsonc
from pppossh.run.netifd import WAIT_SCRIPT

BUSYBOX = "/bin/busybox"
VENV_BIN = Path(sys.executable).parent
GOLDEN_ENV = dict(
    line.split("=", 1)
    for line in (NETIFD / "01-ifup-vpn" / "proto-task-env.txt").read_text().splitlines()
    if "=" in line
)
GOLDEN_VPN = setup_json("01-ifup-vpn", "vpn")

pytestmark = pytest.mark.skipif(
    not (os.access(BUSYBOX, os.X_OK) and shutil.which("dropbearkey")),
    reason="needs busybox-static and dropbear-bin",
)


@dataclass
class Router:
    root: Path
    proto: Path
    bin: Path
    log: Path
    rundir: Path

    def env(self, with_helper: bool = True, **extra: str) -> dict[str, str]:
        # netifd passes only HOME and PATH (busybox adds PWD and SHLVL). Deviations, each
        # needed to run outside a router: the bin dir (ubus double) and the venv's bin (the
        # real pppossh helper, installed editable) go in front of PATH; PPPOSSH_RUNDIR points
        # the state away from /var/run/pppossh; PPPOSSH_NO_SYSLOG keeps the helper from
        # writing to the build machine's syslog.
        path = [str(self.bin), *([str(VENV_BIN)] if with_helper else []), GOLDEN_ENV["PATH"]]
        return {
            "HOME": GOLDEN_ENV["HOME"],
            "PATH": ":".join(path),
            "PPPOSSH_RUNDIR": str(self.rundir),
            "PPPOSSH_NO_SYSLOG": "1",
            **extra,
        }

    def run(self, *argv: str, with_helper: bool = True, script: str = "pppossh.sh",
            **extra: str):
        return subprocess.run(
            [BUSYBOX, "sh", f"./{script}", *argv], cwd=self.proto,
            env=self.env(with_helper, **extra), capture_output=True, text=True, timeout=120,
            check=False,
        )

    def every_call(self) -> list[list[str]]:
        return parse_ubus_log(self.log.read_text()) if self.log.exists() else []

    def calls(self) -> list[list[str]]:
        """The notify_proto calls (others, such as the interface dump, left out)."""
        return [argv for argv in self.every_call() if "notify_proto" in argv]

    def messages(self) -> list[dict]:
        return [json.loads(argv[-1]) for argv in self.calls()]


@pytest.fixture
def router(tmp_path: Path) -> Router:
    lib = tmp_path / "lib" / "netifd"
    proto = lib / "proto"
    proto.mkdir(parents=True)
    shutil.copy(REPO / "tests" / "netifd" / "netifd-proto.sh", lib / "netifd-proto.sh")
    shutil.copy(REPO / "files" / "lib" / "netifd" / "proto" / "pppossh.sh", proto)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy(REPO / "tests" / "netifd" / "ubus", bindir / "ubus")
    (bindir / "ubus").chmod(0o755)
    log = tmp_path / "ubus.log"
    (bindir / "ubus.log-path").write_text(f"{log}\n")
    rundir = tmp_path / "run"
    return Router(tmp_path, proto, bindir, log, rundir)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[list[str], str]:
    """Two dropbear ed25519 identities (one with a space in its name, as golden vpn has) and
    a host key line as `dropbearkey -y` prints it."""
    keydir = tmp_path / "keys"
    keydir.mkdir()
    paths = [str(keydir / "id_vpn"), str(keydir / "my key with space")]
    for path in paths:
        subprocess.run(["dropbearkey", "-t", "ed25519", "-f", path], capture_output=True,
                       check=True, timeout=60)
        os.utime(path, (time.time() - 3600, time.time() - 3600))  # made an hour ago
    hostfile = tmp_path / "host_key"
    subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(hostfile)], capture_output=True,
                   check=True, timeout=60)
    out = subprocess.run(["dropbearkey", "-y", "-f", str(hostfile)], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    hostkey = next(line for line in out.splitlines() if line.startswith("ssh-ed25519 "))
    return paths, hostkey


def adapted_vpn_json(identities: list[str], hostkey: str) -> str:
    """golden 01 vpn setup JSON with server 192.0.2.2, real key files and a real host key;
    everything else (key order, duplicated keys) as netifd sent it."""
    text = GOLDEN_VPN.replace('"server":"vpn.example.net"', '"server":"192.0.2.2"')
    old_ids = '["/etc/dropbear/id_vpn","/etc/dropbear/my key with space"]'
    assert old_ids in text
    text = text.replace(old_ids, json.dumps(identities, separators=(",", ":")))
    placeholder = json.loads(GOLDEN_VPN)["hostkey"]
    return text.replace(json.dumps(placeholder), json.dumps(hostkey))


def _assert_json_c_spelling(calls: list[list[str]]) -> None:
    for argv in calls:
        assert argv[-1] == jsonc.dumps(json.loads(argv[-1]))


# --- dump --------------------------------------------------------------------------------------


def test_dump_matches_golden_structure_and_table(router: Router) -> None:
    """`'' dump` prints one JSON line shaped like golden/netifd/11-manual-dump (same keys in
    the same order, name pppossh, no-device and available true) whose config list is the
    option table's declarations and blobmsg types; nothing is sent to ubus."""
    result = router.run("", "dump")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    ours = json.loads(lines[0])
    golden = json.loads((NETIFD / "11-manual-dump" / "dump-output.json").read_text())
    assert list(ours) == list(golden)
    assert ours["name"] == "pppossh"
    assert ours["no-device"] is True and ours["available"] is True
    for key, value in golden.items():
        if key not in ("name", "config", "no-device", "available"):
            assert ours[key] == value, key
    assert ours["config"] == [[o.declaration, o.blobmsg_type] for o in for_proto("pppossh")]
    assert router.calls() == []


# --- setup -------------------------------------------------------------------------------------


def test_setup_sends_host_dependency_then_run_command(router: Router, keys) -> None:
    """Adapted golden vpn: exactly action 6 (`-S call network.interface notify_proto`, host
    192.0.2.2) then action 1 running pppd (at most 64 words); JSON in json-c spelling."""
    identities, hostkey = keys
    result = router.run("pppossh", "setup", "vpn", adapted_vpn_json(identities, hostkey))
    assert result.returncode == 0, result.stderr
    calls = router.calls()
    assert [json.loads(argv[-1])["action"] for argv in calls] == [6, 1], result.stderr
    assert calls[0][:-1] == ["-S", "call", "network.interface", "notify_proto"]
    assert json.loads(calls[0][-1]) == {"action": 6, "host": "192.0.2.2", "interface": "vpn"}
    assert calls[1][:-1] == ["call", "network.interface", "notify_proto"]
    run = json.loads(calls[1][-1])
    assert run["interface"] == "vpn"
    command = run["command"]
    assert " ".join(command[:6]) == "/usr/sbin/pppd nodetach ipparam vpn ifname pppossh-vpn"
    assert len(command) <= 62
    pty = command[command.index("pty") + 1]
    assert all(path in pty for path in ("-i", "192.0.2.2", "'" + identities[1] + "'"))
    _assert_json_c_spelling(calls)


def test_setup_with_a_jump_host_depends_on_the_first_hop(router: Router, keys) -> None:
    """With option jump the host dependency names the first hop (where TCP goes), not the
    server behind it; the known_hosts holds both keys and dbclient gets its multi-hop chain."""
    identities, hostkey = keys
    data = json.loads(adapted_vpn_json(identities, hostkey))
    key = " ".join(hostkey.split()[:2])
    data.update(server="10.1.2.3", jump=["ops@192.0.2.9:2022"],
                jump_hostkey=[f"[192.0.2.9]:2022 {key}"])
    result = router.run("pppossh", "setup", "vpn", json.dumps(data))
    assert result.returncode == 0, result.stderr
    calls = router.calls()
    assert [json.loads(argv[-1])["action"] for argv in calls] == [6, 1], result.stderr
    assert json.loads(calls[0][-1]) == {"action": 6, "host": "192.0.2.9", "interface": "vpn"}
    command = json.loads(calls[1][-1])["command"]
    pty = command[command.index("pty") + 1]
    assert f"ops@192.0.2.9/2022,{data['sshuser']}@10.1.2.3/{data['port']}" in pty
    known = next((router.rundir / "vpn").rglob("known_hosts")).read_text().splitlines()
    assert known == [f"10.1.2.3 {key}", f"192.0.2.9 {key}"]


def test_setup_writes_pinned_known_hosts(router: Router, keys) -> None:
    """The per-interface known_hosts holds exactly the pinned key for the server."""
    identities, hostkey = keys
    router.run("pppossh", "setup", "vpn", adapted_vpn_json(identities, hostkey))
    known = list((router.rundir / "vpn").rglob("known_hosts"))
    assert len(known) == 1
    assert known[0].read_text().splitlines() == [
        "192.0.2.2 " + " ".join(hostkey.split()[:2])]


def test_setup_golden_placeholder_hostkey(router: Router) -> None:
    """Unmodified golden vpn JSON: action 3 ["INVALID_HOSTKEY", <message>], action 4, and no
    action 1 (golden/netifd/06: a blocked interface stays down instead of looping)."""
    result = router.run("pppossh", "setup", "vpn", GOLDEN_VPN)
    assert result.returncode == 0, result.stderr
    messages = router.messages()
    assert [m["action"] for m in messages] == [3, 4]
    code, text = messages[0]["error"]
    assert code == "INVALID_HOSTKEY"
    assert "network.vpn.hostkey" in text
    assert messages[1] == {"action": 4, "interface": "vpn"}
    _assert_json_c_spelling(router.calls())


HOSTILE = [
    ("server", "x;touch {root}/canary"),
    ("server", "$(touch canary)"),
    ("server", "-oProxyCommand=touch canary"),
    ("server", "fe80::1%$(touch canary)"),
    ("sshuser", "$(touch canary)"),
    ("sshuser", "-oProxyCommand=touch canary"),
    ("sshuser", "vpn;touch {root}/canary"),
    ("identity", ["{root}/x;touch {root}/canary"]),
    ("identity", ["$(touch canary)"]),
    ("identity", ["-oProxyCommand=touch canary"]),
    ("ssh_options", "-oProxyCommand=touch canary"),
    ("ssh_options", "$(touch canary)"),
    ("ssh_options", "-c x;touch {root}/canary"),
]


@pytest.mark.parametrize("field,value", HOSTILE, ids=[f"{f}:{v}" for f, v in HOSTILE])
def test_setup_hostile_values_refused(router: Router, keys, field: str, value) -> None:
    """Hostile server/sshuser/identity/ssh_options: action 3 with an INVALID_/MISSING_/NO_
    code, action 4, no action 1, and the canary file was never created."""
    identities, hostkey = keys
    config = json.loads(adapted_vpn_json(identities, hostkey))
    root = str(router.root)
    config[field] = (
        [v.format(root=root) for v in value] if isinstance(value, list)
        else value.format(root=root)
    )
    before = sorted(os.listdir(router.proto))
    result = router.run("pppossh", "setup", "vpn", json.dumps(config, separators=(",", ":")))
    assert result.returncode == 0, result.stderr
    messages = router.messages()
    assert [m["action"] for m in messages] == [3, 4], result.stderr
    assert re.match(r"(INVALID|MISSING|NO)_[A-Z_]+$", messages[0]["error"][0])
    assert not (router.root / "canary").exists()
    assert sorted(os.listdir(router.proto)) == before


# --- teardown ----------------------------------------------------------------------------------


def test_teardown_after_ifdown(router: Router, keys) -> None:
    """No ERROR (ifdown, golden/netifd/03): exactly action 2."""
    identities, hostkey = keys
    result = router.run("pppossh", "teardown", "vpn", adapted_vpn_json(identities, hostkey))
    assert result.returncode == 0, result.stderr
    assert router.messages() == [{"action": 2, "interface": "vpn"}]
    assert router.calls()[0][:-1] == ["call", "network.interface", "notify_proto"]


def test_teardown_after_task_exit(router: Router, keys) -> None:
    """ERROR=7 (the proto task exited by itself, golden/netifd/05): an action 3 error saying
    why, then action 2; no block, so netifd sets up again."""
    identities, hostkey = keys
    result = router.run("pppossh", "teardown", "vpn", adapted_vpn_json(identities, hostkey),
                        ERROR="7")
    assert result.returncode == 0, result.stderr
    messages = router.messages()
    assert [m["action"] for m in messages] == [3, 2]
    assert re.fullmatch(r"[A-Z][A-Z0-9_]+", messages[0]["error"][0])
    assert messages[1] == {"action": 2, "interface": "vpn"}


def test_setup_after_failure_backs_off_in_proto_task(router: Router, keys) -> None:
    """After a failed session the next setup still sends action 1 at once, but the proto task
    waits first (the wait script, then pppd): netifd restarts immediately (golden 05).
    It then repeats the last error (action 3): netifd clears an interface's errors when it
    sets it up again (golden 07's poll timeline), and ifstatus should say why it waits."""
    identities, hostkey = keys
    config = adapted_vpn_json(identities, hostkey)
    router.run("pppossh", "teardown", "vpn", config, ERROR="7")
    router.log.unlink()
    result = router.run("pppossh", "setup", "vpn", config)
    assert result.returncode == 0, result.stderr
    messages = router.messages()
    assert [m["action"] for m in messages] == [6, 1, 3]
    assert messages[2]["error"][0] == "OPEN_FAILED"  # pppd exit status 7
    command = messages[1]["command"]
    assert command[:4] == ["/bin/sh", "-c", WAIT_SCRIPT, "pppossh-wait"]
    assert int(command[4]) >= 1
    assert command[5] == ""  # OPEN_FAILED is no outage: the wait watches no port
    after = command[6:]
    assert after[:6] == ["/usr/sbin/pppd", "nodetach", "ipparam", "vpn", "ifname", "pppossh-vpn"]
    assert len(command) <= 62


# --- the helper cannot run ---------------------------------------------------------------------


def test_helper_missing(router: Router, keys) -> None:
    """PATH without the helper: the hook itself sends action 3 HELPER_FAILED and action 4."""
    identities, hostkey = keys
    result = router.run("pppossh", "setup", "vpn", adapted_vpn_json(identities, hostkey),
                        with_helper=False)
    assert result.returncode == 0
    assert router.messages() == [
        {"action": 3, "error": ["HELPER_FAILED"], "interface": "vpn"},
        {"action": 4, "interface": "vpn"},
    ]
    _assert_json_c_spelling(router.calls())


@pytest.mark.parametrize("task_started", [False, True])
def test_a_helper_killed_after_netifd_took_the_task_blocks_nothing(
        router: Router, keys, task_started: bool) -> None:
    """A helper that dies (SIGKILL: the OOM killer) before netifd has the proto task: the
    hook reports HELPER_FAILED and blocks restarts.  After the real helper handed netifd the
    task it leaves 'task-started', and a death from then on blocks nothing: the task runs,
    and netifd must restart it when it ends.  The hook removes a stale file first."""
    from pppossh.run.netifd import TASK_STARTED

    identities, hostkey = keys
    fake = router.bin / "pppossh"
    state_dir = router.rundir / "vpn"
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / TASK_STARTED).write_text("")  # stale, from an earlier setup
    touch = f': >"{state_dir / TASK_STARTED}"; ' if task_started else ""
    fake.write_text(f"#!/bin/sh\n{touch}kill -9 $$\n")
    fake.chmod(0o755)
    result = router.run("pppossh", "setup", "vpn", adapted_vpn_json(identities, hostkey),
                        with_helper=False)
    assert result.returncode == 0
    assert router.messages() == ([] if task_started else HELPER_FAILED)


# --- a setup that repeats the last one ---------------------------------------------------------

HELPER_FAILED = [{"action": 3, "error": ["HELPER_FAILED"], "interface": "vpn"},
                 {"action": 4, "interface": "vpn"}]


def _setup_then_ifdown(router: Router, config: str) -> list[dict]:
    """A setup by the helper and an ifdown; the messages of the setup."""
    result = router.run("pppossh", "setup", "vpn", config)
    assert result.returncode == 0, result.stderr
    first = router.messages()
    assert [m["action"] for m in first] == [6, 1]
    router.run("pppossh", "teardown", "vpn", config)
    router.log.unlink()
    return first


def test_repeated_setup_is_relayed_without_the_helper(router: Router, keys) -> None:
    """The same configuration again, nothing changed: the hook alone sends what the helper
    sent (host dependency, then the same task), empties the session logs, and the state says
    a new attempt started (no helper on PATH: the hook could not have asked it)."""
    from pppossh.run.state import State

    identities, hostkey = keys
    config = adapted_vpn_json(identities, hostkey)
    first = _setup_then_ifdown(router, config)
    statedir = router.rundir / "vpn"
    (statedir / "ssh.log").write_text("the last session's words\n")
    result = router.run("pppossh", "setup", "vpn", config, with_helper=False)
    assert result.returncode == 0, result.stderr
    assert router.messages() == first
    _assert_json_c_spelling(router.calls())
    assert (statedir / "ssh.log").read_text() == ""
    state = State(str(router.rundir), "vpn").load()
    assert state["phase"] == "connecting" and state["attempt_started"] and state["wait"] == 0


@pytest.mark.parametrize("change", ["config", "newer key", "key gone", "failed session",
                                    "garbage"])
def test_setup_asks_the_helper_when_anything_changed(router: Router, keys, change: str) -> None:
    """A different configuration, a key file newer than the saved plan or gone, a session
    that ended by itself (the helper decides the back-off), or a damaged file: the hook
    does not relay (without the helper on PATH it can only report HELPER_FAILED)."""
    identities, hostkey = keys
    config = adapted_vpn_json(identities, hostkey)
    _setup_then_ifdown(router, config)
    relay = router.rundir / "vpn" / "relay"
    assert relay.exists()
    if change == "config":
        config = config.replace('"port":2222', '"port":2223')
        assert '"port":2223' in config
    elif change == "newer key":
        later = relay.stat().st_mtime + 10
        os.utime(identities[0], (later, later))
    elif change == "key gone":
        os.unlink(identities[1])
    elif change == "failed session":
        router.run("pppossh", "teardown", "vpn", config, ERROR="7")
        assert not relay.exists()
        router.log.unlink()
    else:
        relay.write_text(relay.read_text().replace("\nword ", "\n$(reboot) ", 1))
    result = router.run("pppossh", "setup", "vpn", config, with_helper=False)
    assert result.returncode == 0
    assert router.messages() == HELPER_FAILED


def test_no_relay_is_saved_for_a_back_off_or_a_password(router: Router, keys) -> None:
    """A setup that waits first (after a failure) or must write pppd's password file leaves
    nothing to repeat."""
    identities, hostkey = keys
    config = adapted_vpn_json(identities, hostkey)
    router.run("pppossh", "teardown", "vpn", config, ERROR="7")
    router.run("pppossh", "setup", "vpn", config)
    relay = router.rundir / "vpn" / "relay"
    assert not relay.exists()
    router.run("pppossh", "teardown", "vpn", config)  # ifdown: the count starts again
    with_password = config[:-1] + ',"username":"u","password":"p"}'
    router.run("pppossh", "setup", "vpn", with_password)
    assert (router.rundir / "vpn" / "pppd-secrets").exists()
    assert not relay.exists()


def test_no_relay_while_a_file_it_needs_is_fresh(router: Router, keys) -> None:
    """Shells compare whole seconds: a key written a moment ago could change again unseen in
    the same second, so such a setup saves nothing to repeat."""
    identities, hostkey = keys
    os.utime(identities[0])  # now
    result = router.run("pppossh", "setup", "vpn", adapted_vpn_json(identities, hostkey))
    assert result.returncode == 0, result.stderr
    assert [m["action"] for m in router.messages()] == [6, 1]
    assert not (router.rundir / "vpn" / "relay").exists()
