"""pppossh@.service as ``make install`` puts it: the real install into a temporary prefix
(a venv, the command, the unit naming it), then ``systemd-analyze verify`` on an instance,
which also checks that ExecStart names an executable.  Running it under a real systemd is
beyond this machine (no systemd as PID 1); the foreground supervisor it starts is the one
the test bed runs (``pppossh supervise`` without --lock-fd takes the lock itself)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("install")
    out = subprocess.run(
        ["make", "-s", "install", "PYTHON=python3", f"PREFIX={root}/usr",
         f"INSTALL_ROOT={root}/opt/pppossh", f"UNITDIR={root}/units", f"CONFDIR={root}/config"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return root


def test_the_installed_command_runs(installed: Path) -> None:
    out = subprocess.run([installed / "usr/sbin/pppossh", "options"], capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.startswith("server ")


def test_unit_names_the_installed_command(installed: Path) -> None:
    unit = (installed / "units/pppossh@.service").read_text()
    assert f"ExecStart={installed}/usr/sbin/pppossh --confdir {installed}/config supervise %i" \
        in unit.splitlines()
    assert "@" not in unit.split("ExecStart=")[1].split("%i")[0].replace("pppossh@", "")
    for line in ("Restart=on-failure", "RestartPreventExitStatus=2", "KillMode=mixed",
                 "Type=simple"):
        assert line in unit.splitlines()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze missing")
def test_systemd_analyze_verify(installed: Path) -> None:
    for name in ("pppossh@.service", "pppossh@vpn.service"):
        out = subprocess.run(["systemd-analyze", "verify", "--man=no",
                              str(installed / "units" / name)],
                             capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0 and not out.stderr.strip(), out.stderr
    broken = installed / "broken"
    broken.mkdir(exist_ok=True)
    text = (installed / "units/pppossh@.service").read_text()
    (broken / "pppossh@.service").write_text(text.replace("/usr/sbin/pppossh", "/nowhere"))
    out = subprocess.run(["systemd-analyze", "verify", "--man=no",
                          str(broken / "pppossh@vpn.service")],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode != 0 and "not executable" in out.stderr  # the check can fail
