"""The no-injection proof (DESIGN.md: "Nothing from UCI ever reaches a shell unquoted").

Hostile values for server, sshuser, identity, ssh_options, remote_pppd, peer_pppd_options and
pppd_options either make validation or make_plan raise ConfigError with a code, or - when
accepted - the plan's pty string, run for real by ``/bin/sh -c`` (what pppd does) and by
``busybox sh -c`` (OpenWrt's /bin/sh), execs the SSH client with exactly ``plan.ssh_argv[1:]``
and creates no file.  The SSH client is a recorder script that writes its argv, NUL separated.
The remote command, split by a POSIX shell (what the server's login shell does), gives exactly
the intended words.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import ed25519_key
from hypothesis import given, settings
from hypothesis import strategies as st

from pppossh.config import Config, validate
from pppossh.config.pppd_options import REMOTE_LCP_ECHO, TTY_CHOICE
from pppossh.errors import ConfigError
from pppossh.plan import Plan, make_plan
from pppossh.plan.facts import HostFacts

KEY = ed25519_key()
SHELLS = (("/bin/sh", "-c"), ("/bin/busybox", "sh", "-c"))
CLIENT_FORMAT = {"dbclient": "dropbear", "openssh": "openssh"}
# pppd options whose argument pppd runs with /bin/sh -c
PPPD_SCRIPT_OPTIONS = {"init", "connect", "disconnect", "welcome", "pty"}

FRAGMENTS = [
    ";touch canary", "; touch canary;", "$(touch canary)", "`touch canary`",
    "\ntouch canary", "' ; touch canary ; '", '" ; touch canary ; "', "|touch canary",
    "&touch canary", "&& touch canary", ">canary", ">>canary", "<canary",
    "-oProxyCommand=touch canary", "-o ProxyCommand='touch canary'", "$HOME", "${HOME}",
    "*", "?", "~", "\\", "\\;touch canary", "#", " ", "\t", "%", "@", ":", "/", "-", "..",
    "{a,b}", "!", "(touch canary)", "'", '"', "init 'touch canary'", "$((1+1))",
]
hostile = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet="abc.-_/ 0", max_size=5)),
    min_size=1, max_size=4,
).map("".join)


@dataclass(frozen=True)
class Bench:
    root: Path
    work: Path
    recorder: Path
    out: Path
    rundir: Path


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Bench:
    root = tmp_path_factory.mktemp("hostile")
    recorder = root / "recorder"
    out = root / "argv.out"
    recorder.write_text(
        f"#!/bin/sh\nfor a; do printf '%s\\0' \"$a\"; done > {shlex.quote(str(out))}\n"
    )
    recorder.chmod(0o755)
    work = root / "work"
    work.mkdir()
    rundir = root / "run"
    (rundir / "vpn").mkdir(parents=True)
    return Bench(root, work, recorder, out, rundir)


def _facts(bench: Bench, client: str, identities: list[str]) -> HostFacts:
    return HostFacts(
        clients={"dbclient": str(bench.recorder), "openssh": str(bench.recorder)},
        key_formats={path: CLIENT_FORMAT[client] for path in identities},
        rundir=str(bench.rundir),
        hooks_dir="/usr/lib/pppossh/ppp",
        python="/usr/bin/python3",
    )


def _plan_or_error(bench: Bench, client: str, **changes) -> Plan | None:
    """The plan, or None after checking the ConfigError carries a code."""
    accepted = _accepted(bench, client, **changes)
    return accepted[1] if accepted else None


def _accepted(bench: Bench, client: str, **changes) -> tuple[Config, Plan] | None:
    """(config, plan), or None after checking the ConfigError carries a code."""
    raw = {"server": "192.0.2.2", "sshuser": "vpn", "identity": ["/etc/pppossh/keys/id"],
           "hostkey": [KEY], "ssh_client": client, **changes}
    try:
        config = validate("vpn", raw)
        return config, make_plan(config, _facts(bench, client, list(config.identity)))
    except ConfigError as exc:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", exc.code), exc.code
        assert exc.message
        return None


def _recorded(bench: Bench, shell: tuple[str, ...], script: str) -> list[str]:
    if bench.out.exists():
        bench.out.unlink()
    result = subprocess.run(
        [*shell, script], cwd=bench.work, env={"PATH": "/usr/bin:/bin"},
        capture_output=True, timeout=20, check=False, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, (shell, script, result.stderr)
    assert bench.out.exists(), (shell, script, result.stderr)
    words = bench.out.read_bytes().split(b"\0")
    assert words[-1] == b""
    return [w.decode() for w in words[:-1]]


def _assert_nothing_created(bench: Bench) -> None:
    created = sorted(os.listdir(bench.work))
    for name in created:
        (bench.work / name).unlink()
    assert created == [], f"the payload created {created}"


def assert_pty_exact(bench: Bench, plan: Plan) -> None:
    """Both shells exec the client with exactly plan.ssh_argv[1:], and create nothing."""
    assert plan.ssh_argv[0] == str(bench.recorder)
    for shell in SHELLS:
        assert _recorded(bench, shell, plan.pty) == list(plan.ssh_argv[1:]), shell
        _assert_nothing_created(bench)


def assert_remote_exact(bench: Bench, config: Config, plan: Plan) -> None:
    """The server's shell splits the remote command into exactly the intended words."""
    intended = [*shlex.split(config.remote_pppd), "nodetach", "notty", "noauth",
                *REMOTE_LCP_ECHO, *shlex.split(config.peer_pppd_options)]
    # the server's shell runs it with stdin a stream here ('notty'); the recorder goes in
    # front of remote_pppd's words, after the shell words that choose the line
    assert plan.remote_command.startswith(TTY_CHOICE + " ")
    rest = plan.remote_command[len(TTY_CHOICE):]
    for shell in SHELLS:
        script = f"{TTY_CHOICE} {shlex.quote(str(bench.recorder))}{rest}"
        assert _recorded(bench, shell, script) == intended, shell
        _assert_nothing_created(bench)


clients = st.sampled_from(["dbclient", "openssh"])
SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(value=hostile, client=clients)
def test_hostile_server(bench: Bench, value: str, client: str) -> None:
    """server: refused, or quoted so that the client sees exactly one server word."""
    plan = _plan_or_error(bench, client, server=value)
    if plan is not None:
        assert plan.ssh_argv[-2] == plan.server
        assert_pty_exact(bench, plan)


@SETTINGS
@given(value=hostile, client=clients)
def test_hostile_sshuser(bench: Bench, value: str, client: str) -> None:
    """sshuser: refused, or passed as the single word after -l."""
    plan = _plan_or_error(bench, client, sshuser=value)
    if plan is not None:
        argv = list(plan.ssh_argv)
        assert argv[argv.index("-l") + 1] == value
        assert_pty_exact(bench, plan)


@SETTINGS
@given(values=st.lists(st.one_of(hostile, hostile.map(lambda v: "/" + v)), min_size=1,
                       max_size=2, unique=True),
       client=clients)
def test_hostile_identity(bench: Bench, values: list[str], client: str) -> None:
    """identity: refused, or each path is the single word after its own -i."""
    plan = _plan_or_error(bench, client, identity=values)
    if plan is not None:
        argv = list(plan.ssh_argv)
        assert [argv[i + 1] for i, w in enumerate(argv) if w == "-i"] == values
        assert_pty_exact(bench, plan)


ssh_option_values = st.one_of(
    hostile,
    hostile.map(lambda v: "-c " + v),
    hostile.map(lambda v: "-c" + v),
    hostile.map(lambda v: "-o Ciphers=" + v),
    hostile.map(lambda v: "-o 'Ciphers " + v + "'"),
    hostile.map(lambda v: "-b " + v),
    hostile.map(lambda v: "-J " + v),
)


@SETTINGS
@given(value=ssh_option_values, client=clients)
def test_hostile_ssh_options(bench: Bench, value: str, client: str) -> None:
    """ssh_options: refused, or checked words that the shell hands over unchanged."""
    plan = _plan_or_error(bench, client, ssh_options=value)
    if plan is not None:
        assert_pty_exact(bench, plan)


@SETTINGS
@given(value=st.one_of(hostile, hostile.map(lambda v: "pppd " + v),
                       hostile.map(lambda v: "sudo -n " + v)),
       client=clients)
def test_hostile_remote_pppd(bench: Bench, value: str, client: str) -> None:
    """remote_pppd: refused, or the remote shell runs exactly its words."""
    accepted = _accepted(bench, client, remote_pppd=value)
    if accepted is not None:
        config, plan = accepted
        assert config.remote_pppd == (value or "pppd")
        assert_pty_exact(bench, plan)
        assert_remote_exact(bench, config, plan)


@SETTINGS
@given(value=hostile, client=clients)
def test_hostile_peer_pppd_options(bench: Bench, value: str, client: str) -> None:
    """peer_pppd_options: refused, or appended as exactly its words on the server."""
    accepted = _accepted(bench, client, peer_pppd_options=value)
    if accepted is not None:
        config, plan = accepted
        assert config.peer_pppd_options == value
        assert_pty_exact(bench, plan)
        assert_remote_exact(bench, config, plan)


@SETTINGS
@given(value=hostile, client=clients)
def test_hostile_pppd_options(bench: Bench, value: str, client: str) -> None:
    """pppd_options: refused, or exactly its words at the end of pppd's argv (no shell on
    the way), the pty untouched, and no option whose argument pppd would run with sh -c."""
    plan = _plan_or_error(bench, client, pppd_options=value)
    if plan is not None:
        words = shlex.split(value)
        assert list(plan.pppd_argv[len(plan.pppd_argv) - len(words):]) == words
        pty_at = plan.pppd_argv.index("pty") + 1
        assert plan.pppd_argv[pty_at] == plan.pty
        assert not PPPD_SCRIPT_OPTIONS & {w.lstrip("+") for w in words}, value
        assert_pty_exact(bench, plan)


@pytest.mark.parametrize(
    "field,value",
    [
        ("identity", ["/keys/$(touch canary)", "/keys/a;touch canary", "/keys/`touch canary`"]),
        ("identity", ["/keys/x' ; touch canary ; '", '/keys/x" ; touch canary ; "']),
        ("identity", ["/keys/-oProxyCommand=touch canary", "/keys/a b >canary"]),
        ("remote_pppd", "sudo -n /usr/sbin/pppd"),
        ("peer_pppd_options", "name 'with space ~ * #' ms-dns 192.0.2.53 10.0.0.1:"),
        ("ssh_options", "-c 'aes128-ctr' -o 'Ciphers aes256-ctr'"),
    ],
)
@pytest.mark.parametrize("client", ["dbclient", "openssh"])
def test_accepted_hostile_examples(bench: Bench, field: str, value, client: str) -> None:
    """Fixed examples that validation accepts (paths may contain anything but control
    characters) still reach the client, and the server, as exactly the intended words."""
    accepted = _accepted(bench, client, **{field: value})
    assert accepted is not None
    config, plan = accepted
    assert_pty_exact(bench, plan)
    assert_remote_exact(bench, config, plan)


@pytest.mark.parametrize(
    "field,value",
    [
        ("server", "x;touch canary"),
        ("server", "$(touch canary)"),
        ("server", "-oProxyCommand=touch canary"),
        ("sshuser", "-oProxyCommand=touch canary"),
        ("sshuser", "vpn@evil"),
        ("ssh_options", "-oProxyCommand=touch canary"),
        ("ssh_options", "-o 'ProxyCommand touch canary'"),
        ("ssh_options", "$(touch canary)"),
        ("remote_pppd", "pppd; touch canary"),
        ("peer_pppd_options", "`touch canary`"),
        ("pppd_options", "pty 'touch canary'"),
        ("identity", ["-oProxyCommand=touch canary"]),
    ],
)
def test_refused_hostile_examples(bench: Bench, field: str, value) -> None:
    """Fixed hostile examples are refused with a code before any process starts."""
    assert _plan_or_error(bench, "openssh", **{field: value}) is None
    assert _plan_or_error(bench, "dbclient", **{field: value}) is None
