"""Boot the user-mode-linux test bed and run one command in it.

The build machines' own kernel has no PPP, so everything that needs a real PPP link runs in a
user-mode-linux guest (Debian package ``user-mode-linux``) whose root is the host's root
read-only with a tmpfs overlay (``init.sh``).  Each call boots a fresh guest (about 2 s),
runs a shell command as root there, and powers off; the exchange directory holds the command,
its exit status and any files the command leaves for the host.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LINUX = shutil.which("linux.uml") or "/usr/bin/linux.uml"


@dataclass
class GuestResult:
    rc: int
    output: str
    xfer: Path

    def file(self, name: str) -> str:
        path = self.xfer / name
        return path.read_text() if path.exists() else ""


def available() -> str | None:
    """None when the test bed can run here, else the reason it cannot."""
    if not os.path.exists(LINUX):
        return "linux.uml not found (apt-get install user-mode-linux)"
    if os.geteuid() != 0:
        return "the test bed needs root (network namespaces inside the guest are fine, but"\
               " hostfs must read the whole root file system)"
    return None


def run(command: str, *, timeout: float = 300, mem: str = "768M",
        xfer: Path | None = None) -> GuestResult:
    """Run ``command`` with /bin/sh inside a fresh guest; rc 255 if the guest died."""
    xfer = xfer or Path(tempfile.mkdtemp(prefix="pppossh-uml-"))
    xfer.mkdir(parents=True, exist_ok=True)
    (xfer / "cmd.sh").write_text(command + "\n")
    (xfer / "rc").unlink(missing_ok=True)
    argv = [
        LINUX, f"mem={mem}", "rootfstype=hostfs", "rootflags=/", "ro",
        f"init={HERE / 'init.sh'}", f"XFER={xfer}", "con0=fd:0,fd:1", "con=null", "quiet",
    ]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=timeout, check=False)
        output = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) \
            else (exc.stdout or "")
        output += f"\n[testbed: guest killed after {timeout:.0f} s]"
        _kill_leftover_guests(xfer)
    rc_file = xfer / "rc"
    rc = int(rc_file.read_text().strip()) if rc_file.exists() else 255
    return GuestResult(rc, _strip_kernel_noise(output), xfer)


def run_streaming(command: str, *, timeout: float = 300, mem: str = "768M") -> int:
    """Like :func:`run`, but the guest's console goes straight to our stdout (the demo)."""
    xfer = Path(tempfile.mkdtemp(prefix="pppossh-uml-"))
    (xfer / "cmd.sh").write_text(command + "\n")
    argv = [
        LINUX, f"mem={mem}", "rootfstype=hostfs", "rootflags=/", "ro",
        f"init={HERE / 'init.sh'}", f"XFER={xfer}", "con0=fd:0,fd:1", "con=null", "quiet",
    ]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if not line.startswith(NOISE):
                print(line, end="", flush=True)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _kill_leftover_guests(xfer)
    rc_file = xfer / "rc"
    rc = int(rc_file.read_text().strip()) if rc_file.exists() else 255
    shutil.rmtree(xfer, ignore_errors=True)
    return rc


NOISE = ("SELinux:", "mmapper_init", "Failed to initialize ubd", "reboot: System halted",
         "uml-init: modprobe")


def _strip_kernel_noise(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(NOISE))


def _kill_leftover_guests(xfer: Path) -> None:
    """A guest outlives a killed parent; find its processes by the exchange dir and end them."""
    subprocess.run(["pkill", "-KILL", "-f", f"XFER={xfer}"], check=False)
