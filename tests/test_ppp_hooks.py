"""pppossh's ppp hooks run the way every pppd runs them, including through a file descriptor.

pppd up to 2.5.x runs ``ip-up-script`` by its path; ppp's master (commit 6a4944f, 2026-06)
opens the script and executes the descriptor, so the shell sees ``$0 = /dev/fd/N``.  The
launcher here does exactly that (``os.execve`` on an inheritable descriptor, i.e. fexecve),
with pppd's environment: nothing but its own variables and those set with ``set``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, parse_ubus_log

from pppossh.run.ppphook import EVENTS
from pppossh.run.state import State

HOOKS = REPO / "pppossh" / "ppp"
UBUS_DOUBLE = REPO / "tests" / "netifd" / "ubus"
BUSYBOX = "/bin/busybox"

# Runs argv[1] through a file descriptor, as ppp's master does: $0 becomes /dev/fd/N.
FD_LAUNCHER = """
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.set_inheritable(fd, True)  # the kernel reopens /dev/fd/N for the interpreter
os.execve(fd, [sys.argv[1], *sys.argv[2:]], os.environ)
"""

PPP_ARGS = ["pppossh-vpn", "/dev/pts/3", "0", "10.99.0.1", "10.99.0.2", "vpn"]


def _recorder(tmp_path: Path, status: int = 0) -> Path:
    """A stand-in for the Python that runs pppossh: records its argv and its parent's."""
    script = tmp_path / "python-recorder"
    script.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$@\" > {tmp_path}/argv\n"
        f"tr '\\0' '\\n' < /proc/$PPID/cmdline > {tmp_path}/parent\n"
        f"exit {status}\n"
    )
    script.chmod(0o755)
    return script


def _fake_logger(tmp_path: Path) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    logger = bindir / "logger"
    logger.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {tmp_path}/syslog\n")
    logger.chmod(0o755)
    return bindir


def _run_through_fd(hook: Path, env: dict[str, str], *, shell: str | None = None,
                    args: list[str] = PPP_ARGS) -> subprocess.CompletedProcess[str]:
    """fexecve the hook (its #! line picks the shell), or ``shell /dev/fd/N`` if given."""
    if shell:
        fd = os.open(hook, os.O_RDONLY)
        try:
            return subprocess.run([shell, "sh", f"/dev/fd/{fd}", *args], env=env,
                                  pass_fds=(fd,), capture_output=True, text=True, timeout=60,
                                  check=False)
        finally:
            os.close(fd)
    return subprocess.run([sys.executable, "-c", FD_LAUNCHER, str(hook), *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("event", EVENTS)
def test_hook_names_its_event_when_run_through_a_descriptor(event: str, tmp_path: Path) -> None:
    """$0 is /dev/fd/N, yet the helper is told the right event and gets pppd's arguments."""
    env = {"PPPOSSH_PYTHON": str(_recorder(tmp_path)), "IFNAME": "pppossh-vpn"}
    result = _run_through_fd(HOOKS / event, env)
    assert result.returncode == 0, result.stderr
    parent = (tmp_path / "parent").read_text().splitlines()
    assert any(word.startswith("/dev/fd/") for word in parent), parent
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv == ["-P", "-m", "pppossh", "ppp-hook", event, *PPP_ARGS]


@pytest.mark.skipif(not os.access(BUSYBOX, os.X_OK), reason="needs busybox-static")
@pytest.mark.parametrize("event", EVENTS)
def test_hook_under_busybox_ash_through_a_descriptor(event: str, tmp_path: Path) -> None:
    """OpenWrt's /bin/sh is busybox ash."""
    env = {"PPPOSSH_PYTHON": str(_recorder(tmp_path))}
    result = _run_through_fd(HOOKS / event, env, shell=BUSYBOX)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "argv").read_text().splitlines()[3:5] == ["ppp-hook", event]


def test_hook_failure_reaches_syslog(tmp_path: Path) -> None:
    """pppd drops a hook's stderr: a helper that cannot run at all is reported to syslog.

    (Under busybox ash ``logger`` is always the applet, which writes to /dev/log itself; the
    busybox test above covers the hook's flow there, this one what it tells syslog.)"""
    bindir = _fake_logger(tmp_path)
    env = {"PPPOSSH_PYTHON": str(_recorder(tmp_path, status=3)), "PATH": f"{bindir}:/usr/bin:/bin"}
    result = _run_through_fd(HOOKS / "ip-up", env)
    assert result.returncode == 3
    logged = (tmp_path / "syslog").read_text()
    assert "-t\npppossh\n" in logged and "daemon.err" in logged
    assert "ppp hook ip-up for pppossh-vpn (vpn) failed with status 3" in logged


def _netifd_state(rundir: Path) -> None:
    State(str(rundir), "vpn").update(mode="netifd", phase="connecting", transport="dbclient",
                                     server="192.0.2.2", routes=[])


def _hook_env(tmp_path: Path, rundir: Path) -> dict[str, str]:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    shutil.copy(UBUS_DOUBLE, bindir / "ubus")
    (bindir / "ubus.log-path").write_text(str(tmp_path / "ubus.log"))
    _fake_logger(tmp_path)
    # pppd's script environment: its own variables and what pppossh passes with "set"
    return {"PATH": f"{bindir}:/usr/bin:/bin", "PPPOSSH_PYTHON": sys.executable,
            "PPPOSSH_RUNDIR": str(rundir), "PPPOSSH_UBUS": "cli", "PPPOSSH_NO_SYSLOG": "1",
            "PYTHONPATH": str(REPO), "IFNAME": "pppossh-vpn", "IPLOCAL": "10.99.0.1",
            "IPREMOTE": "10.99.0.2", "DNS1": "192.0.2.53"}


def test_real_helper_brings_the_link_up_through_a_descriptor(tmp_path: Path) -> None:
    """The real helper behind the hook, run as pppd's master runs it: netifd hears link-up
    with the addresses, and ip-down takes it back."""
    rundir = tmp_path / "run"
    _netifd_state(rundir)
    env = _hook_env(tmp_path, rundir)
    up = _run_through_fd(HOOKS / "ip-up", env)
    assert up.returncode == 0, up.stderr
    calls = parse_ubus_log((tmp_path / "ubus.log").read_text())
    message = json.loads(calls[-1][-1])
    assert message["action"] == 0 and message["link-up"] is True
    assert message["ipaddr"] == [{"ipaddr": "10.99.0.1", "mask": "32", "ptp": "10.99.0.2"}]
    assert message["dns"] == ["192.0.2.53"]
    assert State(str(rundir), "vpn").load()["phase"] == "up"
    down = _run_through_fd(HOOKS / "ip-down", env)
    assert down.returncode == 0, down.stderr
    message = json.loads(parse_ubus_log((tmp_path / "ubus.log").read_text())[-1][-1])
    assert message["action"] == 0 and message["link-up"] is False
    assert State(str(rundir), "vpn").load()["phase"] == "connecting"


def test_helper_without_ipparam_fails_visibly(tmp_path: Path) -> None:
    """A hook the helper refuses (no ipparam) ends non-zero, and the hook tells syslog."""
    rundir = tmp_path / "run"
    _netifd_state(rundir)
    env = _hook_env(tmp_path, rundir)
    result = _run_through_fd(HOOKS / "ip-up", env, args=PPP_ARGS[:5])
    assert result.returncode == 1
    logged = (tmp_path / "syslog").read_text()
    assert "ppp hook ip-up for pppossh-vpn (no ipparam) failed with status 1" in logged


def test_helper_logs_the_reason_of_a_crash(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error inside the helper is logged (syslog on a router) with its reason."""
    from pppossh import cli, log

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("PPPOSSH_RUNDIR", str(blocker / "run"))
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    monkeypatch.setenv("PATH", str(tmp_path))  # no ubus: that failure alone is only a warning
    with log.capture() as records:
        assert cli.main(["ppp-hook", "ip-up", *PPP_ARGS]) == 1
    failed = [message for level, message in records if level == log.ERROR]
    assert any("ppp hook ip-up for pppossh-vpn failed: NotADirectoryError" in m for m in failed)


def test_resolv_file_text_is_what_the_template_wrote() -> None:
    """Byte for byte what pppossh/templates/resolv.conf.j2 rendered before the client package
    dropped jinja2."""
    from pppossh.run.ppphook import resolv_text

    head = ("# DNS servers announced by the peer of pppossh interface vpn.\n"
            "# Point your resolver here (e.g. resolvconf or a symlink); pppossh rewrites it on"
            " every link-up.\n")
    assert resolv_text("vpn", ["192.0.2.53", "2001:db8::53"]) == (
        head + "nameserver 192.0.2.53\nnameserver 2001:db8::53\n")
    assert resolv_text("vpn", []) == head


STANDALONE_IP_UP = """
import sys
from pppossh.run import ppphook
assert ppphook.handle("ip-up", sys.argv[2:], sys.argv[1]) == 0
loaded = [name for name in ("jinja2", "logging") if name in sys.modules]
assert not loaded, loaded
"""


def test_standalone_ip_up_writes_resolv_without_jinja2_or_logging(tmp_path: Path) -> None:
    """The client package ships neither jinja2 nor python3-logging: the standalone ip-up,
    which writes the resolv file, must not import them."""
    rundir = tmp_path / "run"
    State(str(rundir), "vpn").update(mode="standalone", phase="connecting", routes=[],
                                     peerdns=True, dns_config=["192.0.2.54", "192.0.2.53"])
    (tmp_path / "ppp").mkdir()
    env = {"PATH": "/usr/bin:/bin", "PPPOSSH_NO_SYSLOG": "1", "PPPOSSH_PPP_DIR":
           str(tmp_path / "ppp"), "IPLOCAL": "10.99.0.1", "IPREMOTE": "10.99.0.2",
           "DNS1": "192.0.2.53"}
    result = subprocess.run([sys.executable, "-I", "-c", STANDALONE_IP_UP, str(rundir),
                             *PPP_ARGS], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    resolv = rundir / "resolv.conf.vpn"
    assert resolv.read_text().endswith("\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n")
    assert resolv.stat().st_mode & 0o777 == 0o644
    assert State(str(rundir), "vpn").load()["resolv"] == str(resolv)


def test_hooks_are_generated_one_per_event() -> None:
    """Real files, not links to one script: nothing depends on the name the hook runs under."""
    for event in EVENTS:
        path = HOOKS / event
        assert path.is_file() and not path.is_symlink()
        assert os.access(path, os.X_OK)
        assert f"ppp-hook {event} " in path.read_text()
