"""``pppossh wait``: the proto task while backing off (netifd kills it on ifdown)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

ENV = {**os.environ, "PPPOSSH_NO_SYSLOG": "1"}


def test_wait_then_becomes_the_command_with_its_arguments_intact() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pppossh", "wait", "0.2", "--", "/bin/sh", "-c",
         'printf "%s|" "$0" "$@"', "pppd", "--", "a b", ";id"],
        capture_output=True, text=True, env=ENV, check=True, timeout=10,
    )
    assert out.stdout == "pppd|--|a b|;id|"


def test_wait_without_a_command_ends_with_the_retry_status() -> None:
    out = subprocess.run([sys.executable, "-m", "pppossh", "wait", "0"], env=ENV, timeout=10,
                         check=False)
    assert out.returncode == 75


def test_sigterm_ends_the_wait_at_once() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "pppossh", "wait", "300", "--", "true"],
                            env=ENV)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(0.5)  # still sleeping: nothing runs before the wait is over
    proc.terminate()
    assert proc.wait(5) == -15
