"""Standalone mode outside the test bed: what `pppossh up` starts, and what `down` cleans.

- The supervisor `up` starts runs Python isolated and from /: a ``pppossh/__main__.py`` in
  the caller's directory is never imported (issue 10, item 2).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_cli import PPPOSSH, network_file

needs_tools = pytest.mark.skipif(
    not (shutil.which("dropbearkey") and shutil.which("dbclient")
         and os.access("/usr/sbin/pppd", os.X_OK) and os.geteuid() == 0),
    reason="needs dropbear-bin, pppd and root",
)


def _env() -> dict[str, str]:
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
            "PPPOSSH_UCI_BACKEND": "file", "PPPOSSH_UBUS": "cli", "PPPOSSH_NO_SYSLOG": "1"}


@needs_tools
def test_supervisor_ignores_a_pppossh_package_in_the_callers_directory(tmp_path: Path) -> None:
    """`pppossh up` run from a directory holding a hostile pppossh/__main__.py: the real
    supervisor runs (pppd fails here for want of kernel PPP, and the supervisor says so in
    the state), and the hostile module never runs."""
    identity = tmp_path / "id_vpn"
    subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(identity)], capture_output=True,
                   check=True, timeout=60)
    confdir, rundir = tmp_path / "config", tmp_path / "run"
    network_file(confdir, str(identity), use_hostdep="0", connect_timeout="5",
                 ssh_client="dbclient")
    cwd = tmp_path / "cwd"
    marker = tmp_path / "marker"
    (cwd / "pppossh").mkdir(parents=True)
    (cwd / "pppossh" / "__init__.py").write_text("")
    (cwd / "pppossh" / "__main__.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n")
    out = subprocess.run(
        [PPPOSSH, "--confdir", str(confdir), "--rundir", str(rundir), "up", "vpn"],
        cwd=cwd, env=_env(), capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert not marker.exists(), "the supervisor imported pppossh from the caller's directory"
    state = json.loads((rundir / "vpn" / "state.json").read_text())
    assert out.returncode == 1 and state["phase"] == "failed", (out.stderr, state)
    assert state.get("last_error"), state
