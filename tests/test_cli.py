"""The `pppossh` command line (the installed console script, run as a subprocess) against a
UCI network file written by the test, read with the file backend (PPPOSSH_UCI_BACKEND=file).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ed25519_key

from pppossh.config.pppd_options import TTY_CHOICE

PPPOSSH = str(Path(sys.executable).with_name("pppossh"))
KEY = ed25519_key()


def network_file(confdir: Path, identity: str, **extra: str) -> None:
    options = {
        "proto": "pppossh", "server": "192.0.2.2", "port": "2222", "sshuser": "vpn",
        "hostkey": KEY, "keepalive": "5 3", "mtu": "1400", **extra,
    }
    lines = ["config interface 'loopback'", "\toption device 'lo'", "\toption proto 'static'",
             "", "config interface 'vpn'"]
    lines += [f"\toption {name} '{value}'" for name, value in options.items()]
    lines += [f"\tlist identity '{identity}'", ""]
    confdir.mkdir(exist_ok=True)
    (confdir / "network").write_text("\n".join(lines))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, str]:
    """(confdir, rundir, identity): a network file with interface vpn and a key file."""
    identity = tmp_path / "id_vpn"
    if shutil.which("dropbearkey"):
        subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(identity)],
                       capture_output=True, check=True, timeout=60)
    else:
        identity.write_bytes(b"\x00\x00\x00\x0bssh-ed25519")
    confdir = tmp_path / "config"
    network_file(confdir, str(identity))
    return confdir, tmp_path / "run", str(identity)


def pppossh(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PPPOSSH, *argv], capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root",
             "PPPOSSH_UCI_BACKEND": "file", "PPPOSSH_UBUS": "cli", "PPPOSSH_NO_SYSLOG": "1",
             **env},
    )


def _check_plan(result: subprocess.CompletedProcess[str], identity: str, rundir: Path) -> None:
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["iface"] == "vpn" and plan["device"] == "pppossh-vpn"
    assert plan["server"] == "192.0.2.2" and plan["port"] == 2222
    assert plan["identities"] == [identity]
    assert plan["host_keys"] == [KEY]
    assert plan["known_hosts"].startswith(str(rundir / "vpn") + "/")
    assert plan["pppd_argv"][1:6] == ["nodetach", "ipparam", "vpn", "ifname", "pppossh-vpn"]
    argv = plan["ssh_argv"]
    assert argv[argv.index("-i") + 1] == identity
    assert argv[argv.index("-p") + 1] == "2222"
    assert argv[-2:] == ["192.0.2.2",
                         TTY_CHOICE + " pppd nodetach $t noauth"
                         " lcp-echo-interval 4 lcp-echo-failure 4"]
    assert not (rundir / "vpn").exists()  # planning starts nothing and writes nothing


def test_plan_json(setup) -> None:
    """`pppossh plan vpn --json --confdir <dir>` prints the plan of the UCI section; the
    global options work after the command too, as people type them."""
    confdir, rundir, identity = setup
    result = pppossh("plan", "vpn", "--json", "--confdir", str(confdir), "--rundir", str(rundir))
    _check_plan(result, identity, rundir)


def test_plan_json_global_options_first(setup) -> None:
    """The same with the global options before the command."""
    confdir, rundir, identity = setup
    result = pppossh("--confdir", str(confdir), "--rundir", str(rundir), "plan", "vpn", "--json")
    _check_plan(result, identity, rundir)


def test_plan_text_is_pppd_command(setup) -> None:
    """Without --json: the pppd command line, quoted for a shell."""
    confdir, rundir, _ = setup
    result = pppossh("--confdir", str(confdir), "--rundir", str(rundir), "plan", "vpn")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("/usr/sbin/pppd nodetach ipparam vpn ifname pppossh-vpn ")


@pytest.mark.parametrize(
    "option,value,code",
    [("port", "abc", "INVALID_PORT"), ("defaultroute", "yes", "INVALID_DEFAULTROUTE"),
     ("server", "x;reboot", "INVALID_SERVER"), ("hostkey", "ssh-ed25519 AAAA",
                                                  "INVALID_HOSTKEY")],
)
def test_plan_bad_value(setup, option: str, value: str, code: str) -> None:
    """A bad value: exit 2, nothing on stdout, a message with the code naming the option."""
    confdir, rundir, identity = setup
    network_file(confdir, identity, **{option: value})
    result = pppossh("--confdir", str(confdir), "--rundir", str(rundir), "plan", "vpn", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage:" not in result.stderr
    assert code in result.stderr
    assert f"network.vpn.{option}" in result.stderr


def test_plan_unknown_interface(setup) -> None:
    confdir, rundir, _ = setup
    result = pppossh("--confdir", str(confdir), "--rundir", str(rundir), "plan", "nope")
    assert result.returncode == 2
    assert "NO_INTERFACE" in result.stderr


def test_plan_wrong_proto(setup) -> None:
    confdir, rundir, _ = setup
    result = pppossh("--confdir", str(confdir), "--rundir", str(rundir), "plan", "loopback")
    assert result.returncode == 2
    assert "WRONG_PROTO" in result.stderr and "network.loopback" in result.stderr


def test_status_json_shows_backends(setup) -> None:
    """`pppossh status --json` says which UCI and ubus backends are active."""
    confdir, rundir, _ = setup
    result = pppossh("--confdir", str(confdir), "--rundir", str(rundir), "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["backends"] == {"uci": "file", "ubus": "cli"}
    assert status["interfaces"] == []


def test_status_text_shows_backends(setup) -> None:
    confdir, rundir, _ = setup
    result = pppossh("--confdir", str(confdir), "--rundir", str(rundir), "status")
    assert result.returncode == 0, result.stderr
    assert "backends: uci=file ubus=cli" in result.stdout


def test_status_of_down_interface(setup) -> None:
    """Asking for one interface that is not up: its status (with backends), exit 3."""
    confdir, rundir, _ = setup
    result = pppossh("--confdir", str(confdir), "--rundir", str(rundir), "status", "vpn",
                     "--json")
    assert result.returncode == 3
    status = json.loads(result.stdout)
    assert status["interface"] == "vpn" and status["up"] is False
    assert status["backends"]["uci"] == "file"
