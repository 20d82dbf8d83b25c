"""The back-off wait: the proto task while backing off (netifd kills it on ifdown).

A constant shell script (``WAIT_SCRIPT``), run by busybox ash as on OpenWrt and by dash as
on Debian: no Python stays resident for the minutes a back-off may last.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pppossh.run.netifd import MAX_ARGV, WAIT_SCRIPT, wait_argv
from pppossh.run.outcome import RETRY_EXIT

SHELLS = [s for s in ("/bin/busybox", "/bin/dash") if os.access(s, os.X_OK)]


def _argv(shell: str, wait: float, *command: str) -> list[str]:
    argv = [*wait_argv(wait), *command]
    assert argv[:2] == ["/bin/sh", "-c"]
    return ([shell, "sh"] if shell.endswith("busybox") else [shell]) + argv[1:]


def test_the_wait_is_a_constant_script_with_whole_seconds() -> None:
    assert wait_argv(0.2) == ["/bin/sh", "-c", WAIT_SCRIPT, "pppossh-wait", "1"]
    assert wait_argv(7.01)[-1] == "8"
    assert len(wait_argv(300)) + 57 <= MAX_ARGV


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
