"""The back-off wait: the proto task while backing off (netifd kills it on ifdown).

A constant shell script (``WAIT_SCRIPT``), run by busybox ash as on OpenWrt and by dash as
on Debian: no Python stays resident for the minutes a back-off may last.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pppossh.run.netifd import MAX_ARGV, WAIT_SCRIPT, wait_argv
from pppossh.run.outcome import RETRY_EXIT

SHELLS = [s for s in ("/bin/busybox", "/bin/dash") if os.access(s, os.X_OK)]


def _argv(shell: str, wait: float, *command: str) -> list[str]:
    return _watching(shell, wait, None, *command)


def _watching(shell: str, wait: float, watch: tuple[str, str, int, bool] | None,
              *command: str) -> list[str]:
    argv = [*wait_argv(wait, watch), *command]
    assert argv[:2] == ["/bin/sh", "-c"]
    return ([shell, "sh"] if shell.endswith("busybox") else [shell]) + argv[1:]


def test_the_wait_is_a_constant_script_with_whole_seconds() -> None:
    assert wait_argv(0.2) == ["/bin/sh", "-c", WAIT_SCRIPT, "pppossh-wait", "1", ""]
    assert wait_argv(7.01)[-2] == "8"
    watch = ("/bin/busybox", "192.0.2.9", 2222, True)
    assert wait_argv(4, watch)[-1] == "/bin/busybox 192.0.2.9 2222 1"
    assert len(wait_argv(300, ("/bin/busybox", "2001:db8::1", 65535, False))) + 56 <= MAX_ARGV


@pytest.mark.parametrize("shell", SHELLS)
def test_wait_then_becomes_the_command_with_its_arguments_intact(shell: str) -> None:
    started = time.monotonic()
    out = subprocess.run(_argv(shell, 1, "/bin/sh", "-c", 'printf "%s|" "$0" "$@"', "pppd",
                               "--", "a b", ";id", "$(id)"),
                         capture_output=True, text=True, check=True, timeout=10)
    assert out.stdout == "pppd|--|a b|;id|$(id)|"
    assert time.monotonic() - started >= 0.9


@pytest.mark.parametrize("shell", SHELLS)
def test_wait_without_a_command_ends_with_the_retry_status(shell: str) -> None:
    out = subprocess.run(_argv(shell, 0), timeout=10, check=False)
    assert out.returncode == RETRY_EXIT


@pytest.mark.parametrize("shell", SHELLS)
def test_sigterm_ends_the_wait_and_its_sleep_at_once(shell: str, tmp_path: Path) -> None:
    """netifd's SIGTERM on ifdown: the task ends by that signal, nothing runs after it, and
    no sleep is left behind."""
    marker = tmp_path / "ran"
    proc = subprocess.Popen(_argv(shell, 300, "/bin/touch", str(marker)))
    time.sleep(0.5)
    children = _children(proc.pid)
    assert any("sleep" in c for c in children.values()), children
    proc.terminate()
    assert proc.wait(5) == -15
    time.sleep(0.2)
    assert not marker.exists()
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)


def _children(pid: int) -> dict[int, str]:
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(
                    b"\0", b" ").decode()
    return found


def test_no_python_in_the_wait() -> None:
    assert not any("python" in word for word in wait_argv(5))
    assert shutil.which("sleep")


# --- watching the server's port (backoff.watch, the same in the shell) ----------------------

BUSYBOX = shutil.which("busybox")
needs_busybox = pytest.mark.skipif(not BUSYBOX, reason="busybox (its nc applet) not installed")


class Port:
    """A TCP port on 127.0.0.1 that can be closed and opened, counting the connections it
    accepted; each is closed at once, as an SSH server closes one that sends nothing."""

    def __init__(self) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.accepted = 0
        self.tarpit = False
        self.held: list[socket.socket] = []
        self._server: socket.socket | None = None

    def open(self) -> None:
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", self.port))
        self._server.listen(8)
        threading.Thread(target=self._serve, args=(self._server,), daemon=True).start()

    def _serve(self, server: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                self.accepted += 1
                if self.tarpit:
                    self.held.append(conn)  # a server that never closes
                else:
                    conn.close()

    def close(self) -> None:
        if self._server:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None


@pytest.fixture
def port() -> Iterator[Port]:
    p = Port()
    yield p
    p.close()


@needs_busybox
@pytest.mark.parametrize("shell", SHELLS)
def test_wait_ends_once_the_closed_port_answers_again(shell: str, port: Port) -> None:
    """A server outage: the port refuses, then answers; pppd starts about a second later,
    not at the end of the 30 s step, after one connection to the port."""
    proc = subprocess.Popen(_watching(shell, 30, (BUSYBOX, "127.0.0.1", port.port, False),
                                      "/bin/echo", "started"), stdout=subprocess.PIPE, text=True)
    time.sleep(2.5)
    assert proc.poll() is None
    port.open()
    opened = time.monotonic()
    out, _ = proc.communicate(timeout=10)
    assert out == "started\n" and proc.returncode == 0
    assert time.monotonic() - opened < 8  # a probe a second, not the 30 s step (loaded CI)
    assert port.accepted == 1


@needs_busybox
@pytest.mark.parametrize("shell", SHELLS)
def test_a_port_that_answers_at_once_gets_one_probe_and_the_whole_step(
        shell: str, port: Port) -> None:
    """Not an outage (the server answered): the step is slept out, and the server sees one
    bare connection, not one a second."""
    port.open()
    started = time.monotonic()
    out = subprocess.run(_watching(shell, 3, (BUSYBOX, "127.0.0.1", port.port, False), "/bin/true"),
                         timeout=30, check=False)
    assert out.returncode == 0
    assert time.monotonic() - started >= 2.9
    assert port.accepted == 1


@needs_busybox
@pytest.mark.parametrize("shell", SHELLS)
def test_a_port_that_stays_down_holds_the_attempt_back(shell: str, port: Port) -> None:
    """Past its 2 s step the wait goes on while nc says the port is down: pppd would only be
    refused.  It ends once the port answers."""
    _starts_once_the_port_opens(shell, 2, BUSYBOX, port, after=4)


@pytest.mark.parametrize("shell", SHELLS)
def test_a_probe_that_cannot_run_leaves_the_plain_wait(shell: str, tmp_path: Path) -> None:
    """A busybox without the nc applet (status 127, not nc's 1): the step is slept out and
    pppd starts, as without a probe."""
    fake = tmp_path / "busybox"
    fake.write_text("#!/bin/sh\necho \"$1: applet not found\" >&2\nexit 127\n")
    fake.chmod(0o755)
    started = time.monotonic()
    out = subprocess.run(_watching(shell, 2, (str(fake), "127.0.0.1", 9, True), "/bin/true"),
                         timeout=30, check=False)
    assert out.returncode == 0
    assert 1.9 <= time.monotonic() - started < 4


@needs_busybox
@pytest.mark.parametrize("shell", SHELLS)
def test_sigterm_ends_a_watching_wait_and_its_probes(shell: str, tmp_path: Path,
                                                      port: Port) -> None:
    marker = tmp_path / "ran"
    proc = subprocess.Popen(_watching(shell, 300, (BUSYBOX, "127.0.0.1", port.port, False),
                                      "/bin/touch", str(marker)))
    time.sleep(1.5)
    children = _children(proc.pid)
    assert children, "the wait runs its sleep and probes as children"
    proc.terminate()
    assert proc.wait(5) == -15
    time.sleep(0.3)
    assert not marker.exists()
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)


@needs_busybox
@pytest.mark.parametrize("shell", SHELLS)
def test_a_port_found_down_already_ends_the_wait_at_its_first_answer(shell: str,
                                                                     port: Port) -> None:
    """After a refused connection the port was down: answering at once means it is back."""
    port.open()
    started = time.monotonic()
    # a long step, far from the bound below: on a loaded machine (make check runs the test
    # bed beside these tests) a probe can miss its 2 s watchdog and the next one answers
    out = subprocess.run(_watching(shell, 120, (BUSYBOX, "127.0.0.1", port.port, True),
                                   "/bin/true"), timeout=150, check=False)
    assert out.returncode == 0
    assert time.monotonic() - started < 30  # an answer, not the 120 s step
    assert port.accepted >= 1


def test_a_busybox_path_with_spaces_stays_one_word() -> None:
    """The script splits the watch word from its end: a path may hold spaces, no value is
    ever split by the shell or globbed."""
    out = subprocess.run(["/bin/sh", "-c", WAIT_SCRIPT.split('sleep "$n"')[0] +
                          'printf "%s|" "$b" "$a" "$o" "$x"', "pppossh-wait", "1",
                          "/opt/my box/busybox * 192.0.2.9 22 1"],
                         capture_output=True, text=True, check=True, timeout=5)
    assert out.stdout == "/opt/my box/busybox *|192.0.2.9|22|1|"


@needs_busybox
@pytest.mark.parametrize("shell", SHELLS)
def test_the_probe_is_the_one_form_openwrts_nc_knows(shell: str, tmp_path: Path,
                                                     port: Port) -> None:
    """OpenWrt builds busybox's nc without NC_EXTRA and NC_SERVER: 'nc HOST PORT' and
    nothing else (no -w, no -z, no -e).  A busybox that refuses anything else, as that build
    does (usage, status 1), still ends the wait once the port answers."""
    fake = tmp_path / "busybox"
    fake.write_text(f'#!/bin/sh\n[ "$1" = nc ] && [ "$#" = 3 ] || exit 1\n'
                    f'exec {BUSYBOX} "$@"\n')
    fake.chmod(0o755)
    _starts_once_the_port_opens(shell, 30, str(fake), port, after=2)


def _starts_once_the_port_opens(shell: str, step: float, busybox: str, port: Port,
                                after: float) -> None:
    """The wait, its port found down, still waits ``after`` s; once the port opens, pppd (an
    echo here) starts, after one connection to it."""
    proc = subprocess.Popen(_watching(shell, step, (busybox, "127.0.0.1", port.port, True),
                                      "/bin/echo", "started"), stdout=subprocess.PIPE, text=True)
    time.sleep(after)
    assert proc.poll() is None
    port.open()
    out, _ = proc.communicate(timeout=10)
    assert out == "started\n" and port.accepted == 1


@needs_busybox
@pytest.mark.parametrize("shell", SHELLS)
def test_a_probe_that_hangs_is_ended_and_counts_as_down(shell: str, port: Port) -> None:
    """A connection the far end never closes (a tarpit; a black hole hangs the connect the
    same way): the watchdog ends each probe after PROBE_TIMEOUT s and the port counts as
    down, so the wait goes on past its step; SIGTERM then leaves no probe behind."""
    port.tarpit = True
    port.open()
    proc = subprocess.Popen(_watching(shell, 2, (BUSYBOX, "127.0.0.1", port.port, False),
                                      "/bin/true"))
    time.sleep(7)
    assert proc.poll() is None  # past the 2 s step: each probe ended as 'down'
    assert port.accepted >= 2
    children = _children(proc.pid)
    proc.terminate()
    assert proc.wait(5) == -15
    time.sleep(0.5)
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    assert not [c for c in _all_commands() if f"nc 127.0.0.1 {port.port}" in c]


def _all_commands() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
    return found


def test_what_gets_killed_is_forked_without_a_trap() -> None:
    """A child forked while the shell traps TERM drops a kill sent before it has reset that
    trap (ash and dash): the sleeps that end the wait early, the probe and its watchdog are
    forked while no trap is set."""
    head, loop = WAIT_SCRIPT.split('trap "$k" TERM; ', 1)
    assert 'sleep "$n" & d=$!' in head and "& e=$!" in head
    assert "trap" not in head.split("k='")[0]  # none set before the handler's text
    probe = loop.split("while [ -n \"$b\" ]; do trap - TERM; ", 1)[1]
    forks, rest = probe.split('trap "$k" TERM; ', 1)
    assert "& p=$!" in forks and ") & t=$!" in forks and "kill $t" in rest
