"""pppossh@.service as ``make install`` puts it: the real install into a temporary prefix
(a venv, the command, the unit naming it), ``systemd-analyze verify`` on an instance (which
also checks that ExecStart names an executable), and the unit's life under a real systemd
booted in a systemd-nspawn container.  The data path of the supervisor it starts is proven
in the test bed (``connect_scenarios``: ``pppossh supervise`` in the foreground)."""

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


# In the container: sshd on 127.0.0.1 with PermitTunnel, then the unit's life under systemd.
CONTAINER_SCRIPT = r"""
exec >/out/log 2>&1
set -x
ip link set lo up
mkdir -p /run/sshd
/usr/sbin/sshd -f {root}/sshd_config -E {root}/sshd.log
say() {{ echo "$*" >>/out/result; }}
status() {{ {pppossh} --confdir {root}/config status "$1" --json; }}
up() {{ for i in $(seq 60); do status "$1" | grep -q '"up": true' && return 0; sleep 0.5; done
       return 1; }}
main() {{ systemctl show -p MainPID --value "$1"; }}
systemctl enable --now pppossh@vpn && say enabled "$(systemctl is-enabled pppossh@vpn)"
up vpn && say up "$(status vpn | grep -o '"device": "[a-z0-9]*"')"
first=$(main pppossh@vpn)
kill -9 "$first"
for i in $(seq 60); do [ "$(systemctl show -p NRestarts --value pppossh@vpn)" -ge 1 ] && break
    sleep 0.5; done
up vpn && say restarted "$(systemctl show -p NRestarts --value pppossh@vpn)" \
    "$([ "$(main pppossh@vpn)" != "$first" ] && echo new-pid)"
systemctl stop pppossh@vpn
say stopped "$(systemctl is-active pppossh@vpn)" \
    "$(ip -o link show | grep -c ' tun[0-9]*:')" "$(pgrep -c -f 'ssh .*-w' || true)"
systemctl start pppossh@later
sleep 6
say later "$(systemctl is-active pppossh@later)" "$(systemctl show -p NRestarts --value \
    pppossh@later)" "$(status later | grep -o '"failures": [0-9]*' | grep -o '[0-9]*$')"
systemctl stop pppossh@later
systemctl start pppossh@broken
sleep 3
say broken "$(systemctl show -p ExecMainStatus --value pppossh@broken)" \
    "$(systemctl show -p NRestarts --value pppossh@broken)" \
    "$(systemctl is-failed pppossh@broken)"
"""


@pytest.mark.skipif(not shutil.which("systemd-nspawn"), reason="systemd-nspawn missing")
def test_under_a_real_systemd(installed: Path, tmp_path: Path) -> None:
    """systemd 252 as PID 1 in a systemd-nspawn container (its own network, the host's /usr),
    with the unit ``make install`` wrote: enable --now brings the sshtun link up, a killed
    supervisor is restarted, stop removes the link and the SSH client, a server that does
    not answer leaves the unit retrying, a broken section exits 2 and is not restarted."""
    import os
    import sys

    from helpers import ed25519_key  # noqa: F401  (the tests' path is set up)

    if os.geteuid() != 0:
        pytest.skip("systemd-nspawn needs root")
    root = tmp_path / "root"
    for sub in ("usr", "root", "var", "tmp", "proc", "sys", "dev", "run", "out"):
        (root / sub).mkdir(parents=True)
    subprocess.run(["cp", "-a", "/etc", str(root / "etc")], check=True)
    (root / "etc/os-release").unlink()
    shutil.copy("/usr/lib/os-release", root / "etc/os-release")
    for link in ("bin", "sbin", "lib", "lib64"):
        if os.path.islink(f"/{link}"):
            os.symlink(os.readlink(f"/{link}"), root / link)
    keys = installed / "keys"
    keys.mkdir(exist_ok=True)
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)],
                       check=True)
    host_pub = " ".join((keys / "host.pub").read_text().split()[:2])
    (installed / "authorized_keys").write_text((keys / "client.pub").read_text())
    (installed / "sshd_config").write_text(
        f"Port 2222\nListenAddress 127.0.0.1\nHostKey {keys / 'host'}\nPermitRootLogin"
        f" prohibit-password\nPermitTunnel yes\nAuthorizedKeysFile {installed}/authorized_keys\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\n")
    (installed / "config/network").write_text(
        "config interface 'vpn'\n\toption proto 'sshtun'\n\toption server '127.0.0.1'\n"
        "\toption port '2222'\n\toption sshuser 'root'\n"
        f"\tlist identity '{keys / 'client'}'\n\tlist hostkey '{host_pub}'\n"
        "\toption ipaddr '10.5.0.1'\n\toption peeraddr '10.5.0.2'\n\toption unit '0'\n"
        "\toption remote_unit '1'\n\toption defaultroute '0'\n\toption use_hostdep '0'\n\n"
        "config interface 'later'\n\toption proto 'sshtun'\n\toption server '127.0.0.1'\n"
        "\toption port '2299'\n\toption sshuser 'root'\n\toption ipaddr '10.6.0.1'\n"
        "\toption peeraddr '10.6.0.2'\n\toption unit '2'\n\toption use_hostdep '0'\n"
        f"\tlist identity '{keys / 'client'}'\n\tlist hostkey '{host_pub}'\n\n"
        "config interface 'broken'\n\toption proto 'pppossh'\n\toption server '-x'\n"
        "\toption sshuser 'root'\n")
    units = root / "etc/systemd/system"
    shutil.copy(installed / "units/pppossh@.service", units)
    script = CONTAINER_SCRIPT.format(root=installed, pppossh=installed / "usr/sbin/pppossh")
    (installed / "container.sh").write_text(script)
    (units / "pppossh-test.service").write_text(
        "[Unit]\nDescription=pppossh under systemd\nSuccessAction=poweroff-force\n"
        "FailureAction=poweroff-force\n[Service]\nType=oneshot\n"
        f"ExecStart=/bin/sh {installed}/container.sh\n")
    base = os.path.realpath(sys.base_prefix)
    binds = [f"--bind={installed}", f"--bind={tmp_path / 'root/out'}:/out",
             "--bind-ro=/usr"]
    if not base.startswith("/usr"):
        binds.append(f"--bind-ro={base}")
    out = subprocess.run(
        ["systemd-nspawn", "-q", "-D", str(root), "--register=no", "--keep-unit",
         "--private-network", *binds, "-b", "systemd.unit=pppossh-test.service"],
        capture_output=True, text=True, timeout=240, check=False)
    result = (root / "out/result").read_text() if (root / "out/result").exists() else ""
    log = (root / "out/log").read_text() if (root / "out/log").exists() else out.stdout[-3000:]
    lines = dict(line.split(" ", 1) for line in result.splitlines())
    assert lines.get("enabled") == "enabled", f"{result}\n{log}"
    assert lines.get("up") == '"device": "tun0"', f"{result}\n{log}"
    assert lines.get("restarted", "").split() == ["1", "new-pid"], f"{result}\n{log}"
    assert lines.get("stopped", "").split() == ["inactive", "0", "0"], f"{result}\n{log}"
    later = lines.get("later", "").split()  # nothing listens on its port: it keeps trying
    assert later[:2] == ["active", "0"] and int(later[2]) >= 1, f"{result}\n{log}"
    assert lines.get("broken", "").split() == ["2", "0", "failed"], f"{result}\n{log}"
