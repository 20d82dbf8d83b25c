"""The rpcd exec plugin for real: ``list`` and ``call`` as rpcd runs them.

rpcd starts ``/usr/libexec/rpcd/pppossh list`` once, reads the method signatures from the
JSON (argument types from the sample values), then runs ``... call <method>`` with the
arguments as JSON on stdin for every ubus call LuCI makes.  Network-facing methods
(fetch_hostkey, pin_hostkey, check) run against real servers in the browser tests and the
test bed; here: signatures, the local methods, and refusals.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "files/usr/libexec/rpcd/pppossh"
METHODS = {"keygen", "pubkey", "fetch_hostkey", "pin_hostkey", "check", "status", "peer_list",
           "peer_add", "peer_del", "peer_apply"}
NETWORK = "config interface 'vpn'\n\toption proto 'pppossh'\n\toption server '192.0.2.2'\n" \
          "\toption sshuser 'vpn'\n\toption ssh_client 'dbclient'\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    confdir = tmp_path / "config"
    confdir.mkdir()
    (confdir / "network").write_text(NETWORK)
    (confdir / "pppossh").write_text(
        f"config server 'server'\n\toption authorized_keys '{tmp_path / 'authorized_keys'}'\n"
        "\tlist dns '192.0.2.53'\n")
    return {**os.environ, "PPPOSSH_CONFDIR": str(confdir), "PPPOSSH_RUNDIR": str(tmp_path / "run"),
            "PPPOSSH_KEYDIR": str(tmp_path / "keys"), "PPPOSSH_UCI_BACKEND": "file",
            "PPPOSSH_NO_SYSLOG": "1"}


def call(env: dict[str, str], method: str, args: object) -> dict:
    out = subprocess.run([sys.executable, str(PLUGIN), "call", method],
                         input=args if isinstance(args, str) else json.dumps(args),
                         capture_output=True, text=True, env=env, check=True, timeout=60)
    return json.loads(out.stdout)


def test_list_is_an_rpcd_signature() -> None:
    out = subprocess.run([sys.executable, str(PLUGIN), "list"], capture_output=True, text=True,
                         check=True)
    sig = json.loads(out.stdout)
    assert set(sig) == METHODS
    for method, args in sig.items():
        assert isinstance(args, dict), method
        for name, sample in args.items():
            assert isinstance(sample, str | bool | list | int), (method, name)
    assert sig["keygen"] == {"interface": "vpn", "force": False, "shared": False}
    assert acl_methods() == METHODS


def acl_methods() -> set[str]:
    acl = json.loads((REPO / "luci-app/root/usr/share/rpcd/acl.d/luci-app-pppossh.json")
                     .read_text())["luci-app-pppossh"]
    return set(acl["read"]["ubus"]["pppossh"]) | set(acl["write"]["ubus"]["pppossh"])


def test_keygen_pubkey_status(env: dict[str, str], tmp_path: Path) -> None:
    made = call(env, "keygen", {"interface": "vpn"})
    assert made["created"] and made["path"] == str(tmp_path / "keys" / "vpn")
    assert made["public"].startswith("ssh-ed25519 ")
    again = call(env, "keygen", {"interface": "vpn"})
    assert again["error"] == "KEY_EXISTS"
    assert call(env, "pubkey", {"interface": "vpn"})["public"] == made["public"]
    status = call(env, "status", {"interface": "vpn"})
    assert status["interface"] == "vpn" and status["up"] is False
    assert made["path"] in (tmp_path / "config" / "network").read_text()


def test_peers(env: dict[str, str], tmp_path: Path) -> None:
    key = call(env, "keygen", {"interface": "vpn"})["public"]
    added = call(env, "peer_add", {"name": "branch-1", "key": key, "routes": ["192.168.10.0/24"]})
    assert added["peer"]["peeraddr"] == "10.64.0.2"
    listed = call(env, "peer_list", {})["peers"]
    assert [p["name"] for p in listed] == ["branch-1"]
    assert listed[0]["fingerprint"].startswith("SHA256:")
    applied = call(env, "peer_apply", {})
    assert applied["changed"] and "pppossh-peer-branch-1" in (tmp_path / "authorized_keys"
                                                              ).read_text()
    assert call(env, "peer_del", {"name": "branch-1"}) == {"removed": "branch-1"}
    assert call(env, "peer_list", {}) == {"peers": []}


HOSTILE = [
    ("keygen", {"interface": "vpn;touch /tmp/pwned"}, "INVALID_ARGUMENT"),
    ("keygen", {"interface": "$(reboot)"}, "INVALID_ARGUMENT"),
    ("keygen", {"interface": "../../etc"}, "INVALID_ARGUMENT"),
    ("keygen", {"interface": "vpn", "force": "yes"}, "INVALID_ARGUMENT"),
    ("keygen", {"interface": "vpn", "path": "/etc/shadow"}, "INVALID_ARGUMENT"),
    ("keygen", {}, "INVALID_ARGUMENT"),
    ("keygen", "not json", "INVALID_ARGUMENT"),
    ("keygen", "[1, 2]", "INVALID_ARGUMENT"),
    ("pin_hostkey", {"interface": "vpn", "fingerprint": "SHA256:x; reboot"}, "INVALID_ARGUMENT"),
    ("pubkey", {"interface": "nope"}, "NO_INTERFACE"),
    ("peer_add", {"name": "x;reboot", "key": "ssh-ed25519 AAAA"}, "INVALID_PEER_NAME"),
    ("peer_add", {"name": "ok", "key": "ssh-ed25519 AAAA$(reboot)"}, "INVALID_PEER_KEY"),
    ("peer_add", {"name": "ok", "key": "ssh-ed25519 AAAA", "routes": [1]}, "INVALID_ARGUMENT"),
    ("peer_add", {"name": "ok", "key": "x", "ip": "1.2.3.4:5.6.7.8;id"}, "INVALID_PEER_KEY"),
    ("peer_del", {"name": "-rf"}, "NO_PEER"),
    ("no_such_method", {}, "NO_METHOD"),
]


@pytest.mark.parametrize("method,args,code", HOSTILE)
def test_hostile_arguments_are_refused(env: dict[str, str], tmp_path: Path, method: str,
                                       args: object, code: str) -> None:
    before = (tmp_path / "config" / "network").read_text()
    assert call(env, method, args)["error"] == code
    assert not (tmp_path / "keys").exists(), "a refused call made a key"
    assert (tmp_path / "config" / "network").read_text() == before
    assert "peer" not in (tmp_path / "config" / "pppossh").read_text()
