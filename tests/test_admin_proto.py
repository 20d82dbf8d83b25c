"""keygen, pubkey, trust and check work only on pppossh interfaces (issue 10, item 9).

`keygen lan` used to add `list identity` to a static interface.  Each command now refuses an
interface whose proto is not pppossh (and a section that is not an interface) with
WRONG_PROTO / NO_INTERFACE before it changes anything: the network file stays byte for byte,
no key directory appears, no server is contacted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pppossh.admin import check, trust
from pppossh.admin.keys import keygen, pubkey
from pppossh.errors import ConfigError
from pppossh.uci import open_uci

PPPOSSH = str(Path(sys.executable).with_name("pppossh"))
NETWORK = """
config interface 'lan'
\toption proto 'static'
\toption ipaddr '192.0.2.1'
\toption netmask '255.255.255.0'

config interface 'wan'
\toption device 'eth1'

config device 'dev'
\toption name 'br-lan'
\toption proto 'pppossh'

config interface 'vpn'
\toption proto 'pppossh'
\toption server '192.0.2.2'
\toption sshuser 'vpn'
"""


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    confdir = tmp_path / "config"
    confdir.mkdir()
    (confdir / "network").write_text(NETWORK)
    return confdir


CASES = [("lan", "WRONG_PROTO"), ("wan", "WRONG_PROTO"), ("dev", "NO_INTERFACE"),
         ("nope", "NO_INTERFACE")]


@pytest.mark.parametrize("iface,code", CASES)
def test_library_calls_refuse(confdir: Path, tmp_path: Path, iface: str, code: str) -> None:
    uci = open_uci(str(confdir), backend="file")
    keydir = tmp_path / "keys"
    calls = [
        lambda: keygen(uci, iface, str(keydir)),
        lambda: keygen(uci, iface, str(keydir), shared=True, force=True),
        lambda: pubkey(uci, iface, str(keydir)),
        lambda: trust.trust(uci, iface, yes=True, expected=None),
    ]
    for call in calls:
        with pytest.raises(ConfigError) as err:
            call()
        assert err.value.code == code
        assert f"network.{iface}" in err.value.message or repr(iface) in err.value.message
    steps = check.run(uci, iface, str(tmp_path / "run"), str(keydir), lambda step: None)
    failed = [s for s in steps if s.ok is False]
    assert failed and failed[0].code == code, steps
    assert (confdir / "network").read_text() == NETWORK
    assert not keydir.exists()


@pytest.mark.parametrize("command", [["keygen"], ["keygen", "--shared"], ["pubkey"],
                                     ["trust", "--yes"], ["check"]])
def test_cli_refuses_a_static_interface(confdir: Path, tmp_path: Path,
                                        command: list[str]) -> None:
    """`pppossh keygen lan` and friends: exit 2 (or 1 for check), WRONG_PROTO named, the
    network file unchanged, no key made."""
    keydir = tmp_path / "keys"
    out = subprocess.run(
        [PPPOSSH, "--confdir", str(confdir), "--keydir", str(keydir), "--rundir",
         str(tmp_path / "run"), command[0], "lan", *command[1:]],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path),
             "PPPOSSH_UCI_BACKEND": "file", "PPPOSSH_NO_SYSLOG": "1"},
    )
    assert out.returncode in (1, 2), out
    assert "WRONG_PROTO" in out.stdout + out.stderr
    assert (confdir / "network").read_text() == NETWORK
    assert not keydir.exists()


def test_pppossh_interface_still_works(confdir: Path, tmp_path: Path) -> None:
    """The same file's pppossh interface gets its key as before."""
    uci = open_uci(str(confdir), backend="file")
    try:
        info = keygen(uci, "vpn", str(tmp_path / "keys"))
    except Exception as exc:  # no dropbearkey / ssh-keygen on this machine
        pytest.skip(str(exc))
    assert info.created
    assert open_uci(str(confdir), backend="file").section("network", "vpn").options[
        "identity"] == (info.path,)
