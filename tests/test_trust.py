"""Host-key fingerprints and the trust decision, against OpenSSH's own tools.

Fetching a key from a real server (dbclient alone and OpenSSH) is proven in the test bed
(``scenarios.newcomer_*``, ``trust_refusals``); here: the words and numbers a person compares.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pppossh.admin.trust import HostKey, _keys_from_known_hosts, normalize_fingerprint


@pytest.fixture(scope="module")
def host_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hostkeys")
    out = {}
    for kind in ("ed25519", "ecdsa", "rsa"):
        path = d / kind
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
        out[kind] = path
    return out


@pytest.mark.parametrize("kind,name", [("ed25519", "ED25519"), ("ecdsa", "ECDSA"),
                                       ("rsa", "RSA")])
def test_fingerprint_and_type_as_openssh_prints_them(
    host_keys: dict[str, Path], kind: str, name: str
) -> None:
    pub = Path(f"{host_keys[kind]}.pub").read_text()
    key = HostKey(" ".join(pub.split()[:2]))
    listed = subprocess.run(["ssh-keygen", "-lf", f"{host_keys[kind]}.pub"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert key.fingerprint == listed[1]
    assert listed[-1] == f"({name})"
    assert key.describe() == f"{name} key fingerprint is {listed[1]}"


def test_dropbear_fingerprint_matches(tmp_path: Path) -> None:
    subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(tmp_path / "k")],
                   capture_output=True, check=True)
    out = subprocess.run(["dropbearkey", "-y", "-f", str(tmp_path / "k")],
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("ssh-ed25519"))
    printed = next(x for x in out.splitlines() if x.startswith("Fingerprint:"))
    assert HostKey(" ".join(line.split()[:2])).fingerprint in printed


def test_known_hosts_keys_in_client_preference_order(host_keys: dict[str, Path]) -> None:
    lines = [f"192.0.2.2 {Path(f'{host_keys[k]}.pub').read_text().split()[0]} "
             f"{Path(f'{host_keys[k]}.pub').read_text().split()[1]}" for k in
             ("rsa", "ecdsa", "ed25519")]
    keys = _keys_from_known_hosts("\n".join(["# comment", *lines, lines[0]]))
    assert [k.split()[0] for k in keys] == ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"]


def test_fingerprint_may_be_given_without_prefix() -> None:
    assert normalize_fingerprint(" abc ") == "SHA256:abc"
    assert normalize_fingerprint("SHA256:abc") == "SHA256:abc"
