"""The PAP/CHAP password never appears in an argv or in printed output (issue 10, item 3).

pppd gets it from an options file only root can read (``file <rundir>/<iface>/pppd-secrets``,
0600 in the 0700 state directory), written at setup and removed at teardown.  Checked here:
the plan (argv, JSON, repr), the escaping against the real pppd's reader, the netifd path
through the real hook (the proto task and the ubus calls that hand it over, also after a
failure when the back-off wait runs in front of pppd), and the ``plan`` command.  The test bed
scenario ``password_not_in_argv`` checks ``ps`` as another user while a tunnel is up.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from helpers import RecordingBus
from test_cli import network_file, pppossh
from test_hook_contract import Router, adapted_vpn_json, keys, router  # noqa: F401
from test_plan import facts, golden_config

from pppossh.plan import make_plan
from pppossh.plan.pppd import _escape, secrets_text

PASSWORD = "s3cret pa$$ \"quoted\" 'single' \\back # not a comment é"
HOSTILE = [PASSWORD, "", " ", "#", "\\", "\\x41\\101", '"', "'", "-file /etc/shadow",
           "a" * 255, "ünïcødé ✓", "\\n\\t\\s\\a"]


def _plan(password: str = PASSWORD, username: str = "router1"):
    return make_plan(golden_config(username=username, password=password), facts())


def test_password_not_in_argv_nor_plan_json() -> None:
    """pppd's argv names the file (after 'user <name>'); the password is in no argv, not in
    the JSON 'plan --json' prints (it says "(set)"), not in the plan's repr."""
    plan = _plan()
    argv = list(plan.pppd_argv)
    assert "password" not in argv and not any(PASSWORD in word for word in argv)
    assert argv[argv.index("user") + 1] == "router1"
    assert argv[argv.index("file") + 1] == plan.secrets == "/var/run/pppossh/vpn/pppd-secrets"
    text = json.dumps(plan.to_json())
    assert PASSWORD not in text and _escape(PASSWORD) not in text
    assert plan.to_json()["password"] == "(set)"
    assert PASSWORD not in repr(plan) and "s3cret" not in repr(plan)
    assert "password " in plan.secrets_text


def test_no_username_no_file() -> None:
    """Without username pppd gets neither user nor file, and the plan no secrets file."""
    plan = _plan(username="", password="")
    assert "file" not in plan.pppd_argv and "user" not in plan.pppd_argv
    assert plan.secrets == "" and plan.secrets_text == "" and plan.to_json()["password"] == ""


@pytest.mark.skipif(not os.access("/usr/sbin/pppd", os.X_OK) or os.geteuid() != 0,
                    reason="needs pppd and root")
@pytest.mark.parametrize("value", HOSTILE)
def test_real_pppd_reads_the_escaped_word_back(tmp_path: Path, value: str) -> None:
    """The word pppossh writes is the word pppd's options-file reader gives back.  The
    password option hides its value, so the same word goes to kdebug, whose error message
    quotes what pppd read (it stops before opening anything: no kernel PPP here)."""
    opts = tmp_path / "opts"
    opts.write_text("kdebug x" + _escape(value) + "\n")
    out = subprocess.run(["/usr/sbin/pppd", "file", str(opts)], capture_output=True,
                         stdin=subprocess.DEVNULL, timeout=10, check=False)
    said = out.stderr.decode()
    assert f"invalid numeric parameter 'x{value}' for kdebug" in said, said


@pytest.mark.skipif(not os.access("/usr/sbin/pppd", os.X_OK) or os.geteuid() != 0,
                    reason="needs pppd and root")
def test_real_pppd_takes_password_from_the_file(tmp_path: Path) -> None:
    """pppd accepts 'password' from the options file pppossh names (no 'unrecognized' or
    'privileged' complaint: it goes on until it needs kernel PPP)."""
    plan = dataclasses.replace(_plan(), secrets=str(tmp_path / "pppd-secrets"))
    Path(plan.secrets).write_text(plan.secrets_text)
    out = subprocess.run(["/usr/sbin/pppd", "file", plan.secrets, "user", "router1"],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=10,
                         check=False)
    assert "option" not in out.stderr and "privileged" not in out.stderr, out.stderr
    assert "/dev/ppp" in out.stdout + out.stderr or "tty" in out.stderr


def test_secrets_text_shape() -> None:
    text = secrets_text(golden_config(username="u", password="a b"))
    assert text.splitlines()[-1] == "password a\\040b"
    assert secrets_text(golden_config(username="u", password="")).endswith('password ""\n')


def _find_password(texts: list[str], password: str) -> list[str]:
    return [t for t in texts if password in t or _escape(password) in t]


@pytest.mark.skipif(not (os.access("/bin/busybox", os.X_OK) and shutil.which("dropbearkey")),
                    reason="needs busybox-static and dropbear-bin")
def test_netifd_setup_hands_over_no_password(router: Router, keys) -> None:  # noqa: F811
    """Through the real hook: the ubus calls (the ubus CLI double logs every argv) carry the
    proto task without the password, before and after a failure (then 'sh -c <wait> ... pppd'
    runs for the back-off); the file is 0600 in a 0700 directory and holds it; teardown
    removes it."""
    identities, hostkey = keys
    config = json.loads(adapted_vpn_json(identities, hostkey))
    config.update(username="router1", password=PASSWORD)
    text = json.dumps(config, separators=(",", ":"))
    result = router.run("pppossh", "setup", "vpn", text)
    assert result.returncode == 0, result.stderr
    router.run("pppossh", "teardown", "vpn", text, ERROR="7")
    assert not (router.rundir / "vpn" / "pppd-secrets").exists()
    result = router.run("pppossh", "setup", "vpn", text)
    assert result.returncode == 0, result.stderr
    commands = [m["command"] for m in router.messages() if m["action"] == 1]
    assert len(commands) == 2 and commands[1][3] == "pppossh-wait"
    for command in commands:
        secrets = command[command.index("file") + 1]
        assert secrets == str(router.rundir / "vpn" / "pppd-secrets")
    logged = router.log.read_text()
    assert "user" in logged and not _find_password([logged], PASSWORD)
    path = Path(secrets)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "password " in path.read_text() and "s3cret" in path.read_text()
    # nothing the helper says (stderr of the hook) names the password either
    assert "s3cret" not in result.stderr + result.stdout
    router.run("pppossh", "teardown", "vpn", text)
    assert not path.exists()


def test_plan_command_prints_no_password(tmp_path: Path) -> None:
    """`pppossh plan` (text and --json) and `pppossh status --json` never show it."""
    identity = tmp_path / "id"
    identity.write_bytes(b"\x00\x00\x00\x0bssh-ed25519")
    confdir, rundir = tmp_path / "config", tmp_path / "run"
    network_file(confdir, str(identity), username="router1", password="s3cretpw")
    common = ["--confdir", str(confdir), "--rundir", str(rundir)]
    as_json = pppossh(*common, "plan", "vpn", "--json")
    as_text = pppossh(*common, "plan", "vpn")
    status = pppossh(*common, "status", "--json")
    for out in (as_json, as_text, status):
        assert out.returncode == 0, out.stderr
        assert "s3cretpw" not in out.stdout + out.stderr
    assert json.loads(as_json.stdout)["password"] == "(set)"
    assert " file " in as_text.stdout and " user router1 " in as_text.stdout


def test_nothing_secret_in_logs_state_or_messages(tmp_path: Path, keys,  # noqa: F811
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Setup (ok, refused, failed with a bug), teardown after a failure and `status --json`:
    neither the password nor a private key's content is in a log record, a message to
    netifd, the state directory (but the password file) or the status."""
    from pppossh import log
    from pppossh.run import netifd
    from pppossh.run.status import interface_status

    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    identities, hostkey = keys
    secrets = [PASSWORD, _escape(PASSWORD), "s3cret"]
    secrets += [line for path in identities for line in Path(path).read_bytes()
                .decode(errors="replace").splitlines() if len(line) > 20]
    config = json.loads(adapted_vpn_json(identities, hostkey))
    config.update(username="router1", password=PASSWORD)
    good = json.dumps(config)
    bad = json.dumps({**config, "port": 0})
    bus = RecordingBus()
    rundir = tmp_path / "run"
    with log.capture() as records:  # every level, debug too
        netifd.setup("vpn", good, str(rundir), bus)
        monkeypatch.setenv("ERROR", "7")
        netifd.teardown("vpn", good, str(rundir), bus)
        monkeypatch.delenv("ERROR")
        netifd.setup("vpn", bad, str(rundir), bus)
        monkeypatch.setattr(netifd, "resolve", lambda *a: (_ for _ in ()).throw(
            ValueError(f"bug near {config['server']}")))
        netifd.setup("vpn", good, str(rundir), bus)
    status = json.dumps(interface_status(str(rundir), "vpn"))
    texts = ["\n".join(message for _, message in records), json.dumps(bus.sent), status]
    texts += [p.read_text(errors="replace") for p in rundir.rglob("*")
              if p.is_file() and p.name != "pppd-secrets"]
    for secret in secrets:
        assert not [t for t in texts if secret in t], secret[:12]
    assert len(bus.sent) >= 5 and records
