"""``pppossh peer add/del/list/apply``, ``keygen`` and ``trust`` on the three UCI backends.

Each scenario runs the real command line (``python -m pppossh``-style, one process per
command, as an admin types them) once per backend in the same directory: pyuci through the
euci/uci doubles (tests/doubles, pyuci 0.10.3's behaviour: ``add`` stages at once), the ``uci``
program through its double (golden uci transcripts), and the file backend.  The files they
leave must be byte-identical, and nothing may be left staged in the default save directory
(/tmp/.uci on OpenWrt, where LuCI and ``uci commit`` would pick it up) nor in a private one.

``trust`` needs a server's host key: the fetch is replaced by a fixed key (fetching from real
servers is proven in the test bed); everything after it is the real command.  The doubles'
default save directory is $UCI_DOUBLE_DEFAULT_SAVEDIR instead of /tmp/.uci: the CLI backend
is told so (the uci program cannot say), the euci backend asks pyuci's double.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, ed25519_key

DOUBLES = REPO / "tests" / "doubles"
KINDS = ("euci", "cli", "file")
KEY_A, KEY_B, KEY_C = ed25519_key(1), ed25519_key(2), ed25519_key(3)
HOSTKEY = ed25519_key(9)
BOOT = """\
import os, sys
from pppossh.admin import trust
from pppossh.uci import backends
# libuci's default save directory, for the uci program's double (pyuci's double reports it)
backends.DEFAULT_SAVEDIR = os.environ["UCI_DOUBLE_DEFAULT_SAVEDIR"]
if sys.argv[1]:
    trust.fetch = lambda *args, **kwargs: [trust.HostKey(sys.argv[1])]
from pppossh.cli import main
sys.exit(main(sys.argv[2:]))
"""
NETWORK = """
config interface 'lan'
\toption proto 'static'
\toption ipaddr '192.168.1.1'

config interface 'vpn'
\toption proto 'pppossh'
\toption server '192.0.2.2'
\toption sshuser 'vpn'
\toption ssh_client 'dbclient'
"""

pytestmark = pytest.mark.skipif(not shutil.which("dropbearkey"), reason="needs dropbear-bin")


class Router:
    """One directory tree, used in turn by each backend."""

    def __init__(self, root: Path, bindir: Path) -> None:
        self.root = root
        self.bindir = bindir
        self.config = root / "config"
        self.default_savedir = root / "tmp-.uci"
        self.tmp = root / "tmp"
        self.admin_staged: dict[str, str] = {}

    def reset(self, files: dict[str, str]) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        for directory in (self.config, self.tmp, self.root / "home"):
            directory.mkdir(parents=True)
        for name, text in files.items():
            (self.config / name).write_text(text)

    def run(self, kind: str, *argv: str, hostkey: str = "") -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": f"{self.bindir}:{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.root / "home"),
            "TMPDIR": str(self.tmp),
            "PPPOSSH_UCI_BACKEND": kind,
            "PPPOSSH_NO_SYSLOG": "1",
            "UCI_DOUBLE_DEFAULT_SAVEDIR": str(self.default_savedir),
            "PYTHONPATH": f"{DOUBLES}:{REPO}" if kind == "euci" else str(REPO),
        }
        common = ["--confdir", str(self.config), "--keydir", str(self.root / "keys"),
                  "--rundir", str(self.root / "run")]
        result = subprocess.run(
            [sys.executable, "-c", BOOT, hostkey, *common, *argv],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        # after every command: nothing (of ours) staged for LuCI / `uci commit`, no private
        # save directory left over
        assert staged(self.default_savedir) == self.admin_staged, (kind, argv)
        assert sorted(p.name for p in self.tmp.iterdir()) == [], (kind, argv)
        return result

    def snapshot(self) -> dict[str, bytes]:
        """Every file the commands may write (key files excepted: they are random)."""
        files = {f"config/{p.name}": p.read_bytes() for p in sorted(self.config.iterdir())}
        keys = self.root / "authorized_keys"
        if keys.exists():
            files["authorized_keys"] = keys.read_bytes()
        return files


def staged(savedir: Path) -> dict[str, str]:
    if not savedir.exists():
        return {}
    return {p.name: p.read_text() for p in savedir.iterdir() if p.read_text().strip()}


@pytest.fixture
def router(tmp_path: Path) -> Router:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    uci = bindir / "uci"
    uci.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} "
                   f"{shlex.quote(str(DOUBLES / 'uci'))} \"$@\"\n")
    uci.chmod(0o755)
    return Router(tmp_path / "router", bindir)


def server_section(router: Router) -> str:
    return (f"config server 'server'\n\toption authorized_keys '{router.root}/authorized_keys'\n"
            "\toption sshd 'dropbear'\n\tlist dns '192.0.2.53'\n")


def peer_commands(kind: str, router: Router) -> list[str]:
    """add (with a route), add, del, add (reusing the freed address), list, apply."""
    outputs = []
    for argv in (
        ["peer", "add", "branch-1", "--key", KEY_A + " alice@laptop", "--route",
         "192.168.10.0/24"],
        ["peer", "add", "branch-2", "--key", KEY_B],
        ["peer", "del", "branch-1"],
        ["peer", "add", "branch-3", "--key", KEY_C, "--disabled"],
        ["peer", "list", "--json"],
    ):
        result = router.run(kind, *argv)
        assert result.returncode == 0, (kind, argv, result.stderr)
        outputs.append(result.stdout)
    return outputs


@pytest.mark.parametrize("with_server", [True, False], ids=["server-section", "no-config"])
def test_peer_commands_give_the_same_files_on_every_backend(
    router: Router, with_server: bool
) -> None:
    """With a server section, and with no pppossh config at all (pyuci's ``add`` once failed
    there with 'Duplicate entry' after the backend had created the server section)."""
    results = {}
    for kind in KINDS:
        router.reset({"pppossh": server_section(router)} if with_server else {})
        outputs = peer_commands(kind, router)
        if with_server:
            applied = router.run(kind, "peer", "apply")
            assert applied.returncode == 0, (kind, applied.stderr)
            outputs.append(applied.stdout)
        results[kind] = (outputs, router.snapshot())
    assert results["euci"] == results["file"]
    assert results["cli"] == results["file"]
    outputs, files = results["file"]
    listed = json.loads(outputs[4])["peers"]
    assert [(p["name"], p["peeraddr"], p["enabled"]) for p in listed] == [
        ("branch-2", "10.64.0.3", True), ("branch-3", "10.64.0.2", False)]
    text = files["config/pppossh"].decode()
    assert text.count("config peer\n") == 2 and "branch-1" not in text
    assert text.startswith("\nconfig server 'server'\n")
    if with_server:
        assert KEY_B in files["authorized_keys"].decode()


def test_keygen_and_trust_give_the_same_files_on_every_backend(router: Router) -> None:
    results = {}
    for kind in KINDS:
        router.reset({"network": NETWORK})
        keygen = router.run(kind, "keygen", "vpn")
        assert keygen.returncode == 0, (kind, keygen.stderr)
        trust = router.run(kind, "trust", "vpn", "--yes", hostkey=HOSTKEY)
        assert trust.returncode == 0, (kind, trust.stderr)
        again = router.run(kind, "trust", "vpn", "--yes", hostkey=HOSTKEY)  # already pinned
        assert again.returncode == 0, (kind, again.stderr)
        results[kind] = ([trust.stdout, again.stdout], router.snapshot())
    assert results["euci"] == results["file"]
    assert results["cli"] == results["file"]
    network = results["file"][1]["config/network"].decode()
    assert network.endswith(f"\tlist identity '{router.root}/keys/vpn'\n"
                            f"\tlist hostkey '{HOSTKEY}'\n\n")


@pytest.mark.parametrize("kind", ["euci", "cli"])
def test_the_admins_staged_changes_are_left_alone(router: Router, kind: str) -> None:
    """Someone staged a change with `uci set` (or LuCI): the commands refuse to commit it
    along with theirs, say what to do, and leave both the file and the change as they were."""
    router.reset({"pppossh": server_section(router)})
    subprocess.run([router.bindir / "uci", "-c", str(router.config), "set",
                    "pppossh.server.pool=10.99.0.0/24"], check=True,
                   env={"UCI_DOUBLE_DEFAULT_SAVEDIR": str(router.default_savedir)})
    router.admin_staged = staged(router.default_savedir)
    assert router.admin_staged == {"pppossh": "pppossh.server.pool='10.99.0.0/24'\n"}
    original = (router.config / "pppossh").read_bytes()
    result = router.run(kind, "peer", "add", "branch-1", "--key", KEY_A)
    assert result.returncode == 2  # a configuration error: nothing was changed
    for words in ("UCI_ERROR", "uncommitted changes", "`uci changes pppossh`"):
        assert words in result.stderr
    assert (router.config / "pppossh").read_bytes() == original
    subprocess.run([router.bindir / "uci", "-c", str(router.config), "revert", "pppossh"],
                   check=True, env={"UCI_DOUBLE_DEFAULT_SAVEDIR": str(router.default_savedir)})
    router.admin_staged = {}
    result = router.run(kind, "peer", "add", "branch-1", "--key", KEY_A)
    assert result.returncode == 0, result.stderr
    assert "10.64.0.2" in result.stdout  # the pool the admin staged and then reverted
