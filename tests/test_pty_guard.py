"""dbclient's password-prompt guard in the pty string, run for real by the shells pppd uses.

pppd runs the pty string with ``/bin/sh -c`` (dash on Debian, busybox ash on OpenWrt) with
the pty master as stdin and stdout.  A stand-in dbclient plays the three cases that matter:
a login that ends at a password prompt (glibc's getpass() waiting on stdin), a server banner
that mentions a password (must not be taken for a prompt), and pppd ending the session.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pppossh.plan.ssh import EXIT_NOTE, PASSWORD_PROMPT_NOTE, pty_command
from pppossh.run.outcome import classify

SHELLS = [s for s in ("/bin/sh", "/bin/busybox") if os.access(s, os.X_OK)]

PROMPT_CLIENT = """#!/bin/sh
echo "dbclient: warning: key refused" >&2
printf "root@192.0.2.2's password: " >&2
read -r answer
echo "read [$answer]" > {out}
"""

BANNER_CLIENT = """#!/bin/sh
echo "Authorized use only. Your password: is never asked here" >&2
printf "ppp data\\n"
sleep 3
echo done > {out}
"""

SLEEPY_CLIENT = """#!/bin/sh
echo $$ > {out}
exec sleep 30
"""


def _client(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "dbclient"
    path.write_text(body.format(out=tmp_path / "out"))
    path.chmod(0o755)
    return path


def _start(shell: str, command: str) -> tuple[subprocess.Popen[bytes], int]:
    """Run the pty string as pppd does: ``sh -c`` with a pty master on stdin and stdout."""
    master, slave = pty.openpty()
    argv = [shell, "-c", command] if shell == "/bin/sh" else [shell, "sh", "-c", command]
    proc = subprocess.Popen(argv, stdin=master, stdout=master, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    os.close(master)
    return proc, slave


def _command(tmp_path: Path, client: Path, guard: int = 10) -> str:
    return pty_command([str(client), "-T", "user@server"], str(tmp_path / "home"),
                       str(tmp_path / "ssh.log"), prompt_guard=guard)


@pytest.mark.parametrize("shell", SHELLS)
def test_password_prompt_ends_the_login(shell: str, tmp_path: Path) -> None:
    """The client is ended within about a second of its prompt; nothing is typed into it,
    the log says why, and the outcome is AUTH_FAILED."""
    proc, slave = _start(shell, _command(tmp_path, _client(tmp_path, PROMPT_CLIENT)))
    started = time.monotonic()
    try:
        proc.wait(timeout=10)
    finally:
        os.close(slave)
    assert time.monotonic() - started < 4
    log = (tmp_path / "ssh.log").read_text()
    assert PASSWORD_PROMPT_NOTE in log
    assert not (tmp_path / "out").exists(), "the client must be killed, not answered"
    ending = classify(16, log, iface="vpn", server="192.0.2.2", port=22, user="root",
                      session_seconds=None)
    assert ending.code == "AUTH_FAILED" and "authorized_keys" in ending.message


@pytest.mark.parametrize("shell", SHELLS)
def test_banner_mentioning_a_password_is_not_a_prompt(shell: str, tmp_path: Path) -> None:
    """A complete line (a banner) is left alone; the data path still reaches pppd."""
    proc, slave = _start(shell, _command(tmp_path, _client(tmp_path, BANNER_CLIENT)))
    try:
        data = os.read(slave, 100)
        assert proc.wait(timeout=15) == 0
    finally:
        os.close(slave)
    assert b"ppp data" in data
    assert (tmp_path / "out").read_text() == "done\n"
    assert PASSWORD_PROMPT_NOTE not in (tmp_path / "ssh.log").read_text()


@pytest.mark.parametrize("shell", SHELLS)
def test_term_from_pppd_reaches_the_client(shell: str, tmp_path: Path) -> None:
    """pppd ends the session with TERM to the pty process: the client goes with it."""
    proc, slave = _start(shell, _command(tmp_path, _client(tmp_path, SLEEPY_CLIENT)))
    try:
        deadline = time.monotonic() + 5
        while not (tmp_path / "out").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        client = int((tmp_path / "out").read_text())
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
        deadline = time.monotonic() + 5
        while _alive(client) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(client), "the client outlived the pty process"
    finally:
        os.close(slave)


@pytest.mark.parametrize("shell", SHELLS)
def test_shell_lets_go_of_the_pty(shell: str, tmp_path: Path) -> None:
    """Only the client holds pppd's pty master, so pppd sees the hangup when it ends."""
    proc, slave = _start(shell, _command(tmp_path, _client(tmp_path, SLEEPY_CLIENT)))
    try:
        time.sleep(0.5)
        held = {os.path.realpath(f"/proc/{proc.pid}/fd/{fd}")
                for fd in os.listdir(f"/proc/{proc.pid}/fd")}
        assert not any(path.startswith("/dev/pts/") or path == "/dev/ptmx" for path in held), held
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
        os.close(slave)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_without_guard_the_client_is_not_watched(tmp_path: Path) -> None:
    """OpenSSH (BatchMode=yes never prompts): no prompt watch, only its exit status kept."""
    command = pty_command(["/usr/bin/ssh", "-T", "server"], "/h", "/l")
    assert "while" not in command and "tail" not in command and "sleep" not in command
    assert command.endswith(f'wait $c; echo "{EXIT_NOTE} $?" >>/l')


def test_musl_getpass_failure_is_auth_failed() -> None:
    """On OpenWrt (musl) getpass() fails without a terminal and dbclient ends by itself."""
    log = ("/usr/bin/dbclient: Connection to root@192.0.2.2:22 exited: Interrupted.\n")
    ending = classify(16, log, iface="vpn", server="192.0.2.2", port=22, user="root",
                      session_seconds=None)
    assert ending.code == "AUTH_FAILED" and not ending.block
