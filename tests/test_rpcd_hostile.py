"""Hostile values at the rpcd plugin, method by method (issue 10, "Also").

Every method of ``pppossh.rpcd`` gets at least 1,000 generated argument objects as rpcd would
hand them over (undeclared keys and wrong types pass through rpcd unchecked, golden/rpcd 14-16):
shell metacharacters, control characters, unicode separators, leading dashes, pppd option
names with a payload, ssh options that run commands, and values of every JSON type.  Each
payload that would run something touches a canary file.  For every call:

- the reply is one JSON object; a refusal carries an error code and a sentence;
- the only programs started are the ones pppossh means to start (recorded at
  ``subprocess.Popen``, where every program start of the plugin passes);
- no canary appears.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_entry_points import hostile_values

from pppossh import rpcd

EXAMPLES = 1100
ALLOWED_PROGRAMS = {sys.executable, "dropbearkey", "ssh-keygen", "dbclient", "ssh", "ip",
                    "pppd", "resolveip", "ubus", "uci", "dropbear", "sshd", "logger"}
CASES: dict[str, int] = {}

NETWORK = """config interface 'lan'
\toption proto 'static'
\toption ipaddr '192.168.1.1'

config interface 'vpn'
\toption proto 'pppossh'
\toption server '127.0.0.1'
\toption port '9'
\toption sshuser 'vpn'
\toption connect_timeout '5'
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rpcd-hostile")
    (root / "config").mkdir()
    (root / "config" / "network").write_text(NETWORK)
    (root / "config" / "pppossh").write_text(
        f"config server 'server'\n\toption authorized_keys '{root / 'authorized_keys'}'\n")
    return root


@pytest.fixture(scope="module")
def started(world: Path) -> list[list[str]]:
    """Every program the plugin starts, recorded at Popen (subprocess.run goes through it)."""
    record: list[list[str]] = []
    real = subprocess.Popen.__init__

    def recording(self: subprocess.Popen[Any], args: Any, *a: Any, **k: Any) -> None:
        record.append([str(w) for w in args] if isinstance(args, list | tuple) else [str(args)])
        real(self, args, *a, **k)

    saved = {k: os.environ.get(k) for k in ("PPPOSSH_CONFDIR", "PPPOSSH_RUNDIR",
                                            "PPPOSSH_KEYDIR", "PPPOSSH_UCI_BACKEND",
                                            "PPPOSSH_NO_SYSLOG")}
    os.environ.update(PPPOSSH_CONFDIR=str(world / "config"), PPPOSSH_RUNDIR=str(world / "run"),
                      PPPOSSH_KEYDIR=str(world / "keys"), PPPOSSH_UCI_BACKEND="file",
                      PPPOSSH_NO_SYSLOG="1")
    subprocess.Popen.__init__ = recording  # type: ignore[method-assign]
    try:
        yield record
    finally:
        subprocess.Popen.__init__ = real  # type: ignore[method-assign]
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


CANARY_NAME = "canary"


def _text(world: Path) -> st.SearchStrategy[str]:
    """The hostile values of the other entry points (test_hostile_entry_points), alone or
    glued to a plausible name, and arbitrary text."""
    known = st.sampled_from(hostile_values(str(world / CANARY_NAME)))
    plausible = st.sampled_from(["vpn", "lan", "branch-1", "SHA256:" + "A" * 43, ""])
    return st.one_of(known, plausible, st.tuples(plausible, known).map("".join),
                     st.text(max_size=40))


def _value(world: Path) -> st.SearchStrategy[Any]:
    scalar = st.one_of(_text(world), st.integers(), st.booleans(), st.none(),
                       st.floats(allow_nan=False))
    return st.one_of(scalar, st.lists(scalar, max_size=3),
                     st.dictionaries(st.text(max_size=5), scalar, max_size=2))


def _arguments(world: Path, method: str) -> st.SearchStrategy[dict[str, Any]]:
    """The method's own arguments, each hostile text or any JSON value, plus stray keys."""
    names = list(rpcd.SIGNATURES[method])
    fields = {name: st.one_of(_text(world), _value(world)) for name in names}
    base = st.fixed_dictionaries({}, optional=fields) if fields else st.just({})
    extra = st.dictionaries(_text(world), _value(world), max_size=2)
    return st.tuples(base, extra).map(lambda pair: {**pair[1], **pair[0]})


@pytest.mark.parametrize("method", sorted(rpcd.SIGNATURES))
def test_every_method_takes_hostile_arguments(method: str, world: Path,
                                              started: list[list[str]]) -> None:
    count = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(args=_arguments(world, method))
    def one(args: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        stdin = json.dumps(args, default=str)
        reply = rpcd.call(method, stdin, deadline=20)
        text = rpcd.encode(reply)
        back = json.loads(text)
        assert isinstance(back, dict)
        if "error" in back:
            assert back["error"] != "INTERNAL_ERROR", (args, back)
            assert isinstance(back["message"], str) and back["message"], back
        assert not (world / CANARY_NAME).exists(), f"{method} {args!r} ran a payload"

    one()
    CASES[method] = count
    print(f"rpcd {method}: {count} hostile cases")
    assert count >= 1000
    programs = {Path(argv[0]).name if argv else "" for argv in started} | {
        argv[0] for argv in started if argv}
    strangers = [argv for argv in started
                 if argv and argv[0] not in ALLOWED_PROGRAMS
                 and Path(argv[0]).name not in ALLOWED_PROGRAMS]
    assert not strangers, f"unexpected programs: {strangers[:5]} (all: {sorted(programs)})"
    # the background check is the plugin's only Python child, and only for pppossh's own
    checks = [argv for argv in started if argv and argv[0] == sys.executable]
    assert all(argv[-3:-1] == ["vpn", "--progress"] for argv in checks), checks[:3]


@pytest.mark.parametrize("method,args", [
    ("check", {"interface": "lan", "start": True}),
    ("keygen", {"interface": "lan"}),
    ("pin_hostkey", {"interface": "lan", "fingerprint": "SHA256:" + "A" * 43}),
    ("fetch_hostkey", {"interface": "lan"}),
])
def test_nothing_starts_for_an_interface_that_is_not_pppossh(
        method: str, args: dict[str, Any], world: Path, started: list[list[str]]) -> None:
    """A static interface is refused before any program starts or any file changes."""
    before, network = len(started), (world / "config" / "network").read_text()
    reply = rpcd.call(method, json.dumps(args))
    assert reply["error"] == "WRONG_PROTO", reply
    assert started[before:] == []
    assert (world / "config" / "network").read_text() == network
