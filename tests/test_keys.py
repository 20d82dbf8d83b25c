"""``pppossh keygen`` / ``pubkey``: real dropbearkey and ssh-keygen, a UCI file in tmp_path.

The keys' acceptance by real dropbear and OpenSSH servers is proven in the test bed
(``scenarios.newcomer_*``); here: formats, permissions, overwrite protection, UCI update.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pppossh.admin.keys import keygen, pubkey
from pppossh.errors import PppsshError
from pppossh.plan.identity import key_format
from pppossh.uci import open_uci

NETWORK = """
config interface 'vpn'
\toption proto 'pppossh'
\toption server '192.0.2.2'
\toption sshuser 'vpn'
\toption ssh_client '{client}'

config interface 'vpn2'
\toption proto 'pppossh'
\toption server '192.0.2.2'
\toption sshuser 'vpn'
\toption ssh_client '{client}'
"""


@pytest.fixture(params=["dbclient", "openssh"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path, Path]:
    confdir = tmp_path / "config"
    confdir.mkdir()
    (confdir / "network").write_text(NETWORK.format(client=request.param))
    return request.param, confdir, tmp_path / "keys"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_keygen_makes_a_private_key_in_the_clients_format(setup: tuple[str, Path, Path]) -> None:
    client, confdir, keydir = setup
    uci = open_uci(str(confdir), backend="file")
    info = keygen(uci, "vpn", str(keydir))
    key = Path(info.path)
    assert info.created and key == keydir / "vpn"
    assert key_format(key.read_bytes()) == ("dropbear" if client == "dbclient" else "openssh")
    assert key.stat().st_mode & 0o777 == 0o600
    assert keydir.stat().st_mode & 0o777 == 0o700
    assert Path(f"{key}.pub").read_text().split()[:2] == info.public.split()[:2]
    assert info.public.startswith("ssh-ed25519 AAAA") and info.public.endswith("pppossh-vpn@"
                                                                              + os.uname()[1])
    section = open_uci(str(confdir), backend="file").section("network", "vpn")
    assert section is not None and section.options["identity"] == (str(key),)


def test_keygen_refuses_to_overwrite_and_force_replaces(setup: tuple[str, Path, Path]) -> None:
    _, confdir, keydir = setup
    uci = open_uci(str(confdir), backend="file")
    first = keygen(uci, "vpn", str(keydir))
    before = _digest(Path(first.path))
    with pytest.raises(PppsshError) as err:
        keygen(uci, "vpn", str(keydir))
    assert err.value.code == "KEY_EXISTS" and "--force" in err.value.message
    assert _digest(Path(first.path)) == before
    second = keygen(uci, "vpn", str(keydir), force=True)
    assert _digest(Path(second.path)) != before and second.public != first.public
    assert not [p for p in keydir.iterdir() if p.name.startswith(".keygen-")]
    section = open_uci(str(confdir), backend="file").section("network", "vpn")
    assert section is not None and section.options["identity"] == (first.path,)


def test_shared_key_is_made_once_and_listed_for_each_interface(
    setup: tuple[str, Path, Path],
) -> None:
    _, confdir, keydir = setup
    uci = open_uci(str(confdir), backend="file")
    a = keygen(uci, "vpn", str(keydir), shared=True)
    b = keygen(uci, "vpn2", str(keydir), shared=True)
    assert a.created and not b.created and a.path == b.path == str(keydir / "shared")
    assert a.public.split()[:2] == b.public.split()[:2]
    fresh = open_uci(str(confdir), backend="file")
    for iface in ("vpn", "vpn2"):
        section = fresh.section("network", iface)
        assert section is not None and section.options["identity"] == (a.path,)


def test_pubkey_prints_the_line_for_authorized_keys(setup: tuple[str, Path, Path]) -> None:
    _, confdir, keydir = setup
    uci = open_uci(str(confdir), backend="file")
    with pytest.raises(PppsshError) as err:
        pubkey(uci, "vpn", str(keydir))
    assert err.value.code == "NO_IDENTITY" and "pppossh keygen vpn" in err.value.message
    info = keygen(uci, "vpn", str(keydir))
    line = pubkey(open_uci(str(confdir), backend="file"), "vpn", str(keydir))
    assert line == info.public
    # ssh-keygen agrees that the line is a valid public key with this fingerprint
    pub = keydir / "check.pub"
    pub.write_text(line + "\n")
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True,
                         check=True).stdout
    assert out.split()[0] == "256" and out.strip().endswith("(ED25519)")


def test_cli_keygen_for_unknown_interface_makes_nothing(tmp_path: Path) -> None:
    (tmp_path / "network").write_text(NETWORK.format(client="auto"))
    out = subprocess.run(
        [sys.executable, "-m", "pppossh", "--confdir", str(tmp_path), "--keydir",
         str(tmp_path / "keys"), "keygen", "nope"],
        capture_output=True, text=True, env={**os.environ, "PPPOSSH_UCI_BACKEND": "file",
                                             "PPPOSSH_NO_SYSLOG": "1"}, check=False,
    )
    assert out.returncode != 0 and "NO_INTERFACE" in out.stderr
    assert not (tmp_path / "keys").exists()
