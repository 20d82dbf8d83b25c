"""Hostile values at every client entry point (issue 10, "Also"): nothing runs but pppd and
the SSH client, with exactly the words pppossh meant.

Entry points and what is checked for each accepted value (a refused one must carry an error
code and a sentence):

- **UCI options** (every option of the table; ``from_uci`` then ``make_plan``): pppd's argv,
  read the way pppd reads it (each option with its arity, from the probed option lists of
  2.4.9 and 2.5.x), has no option that runs a program, loads code or reads a file except
  pppossh's own (``pty`` with the plan's command, its hooks, its password file); the pty
  command, run by /bin/sh, execs the SSH client stand-in with exactly ``plan.ssh_argv[1:]``;
  the remote command, split by a shell, is exactly the intended words, and its pppd options
  again hold no program option.
- **netifd config JSON** (the real ``netifd.setup``, typed values and wrong types): the task
  handed to netifd passes the same pppd check; every message is JSON; nothing raises.
- **connect's command line** (``[user@]host[:port]``, routes, ``-i``, ``--dns-server``,
  ``-J``, ``--name``, ``-k``, ``-o NAME=VALUE``): built into a section and checked like UCI
  (``connect.section_options`` then ``connect.validate``); an accepted one gets the same
  pppd and pty checks as a UCI option.
- **CLI arguments** (``cli.main`` in this process: the interface name and the paths of
  --confdir/--rundir/--keydir for plan, status, down, pubkey, keygen and check): a code and
  a sentence, or a normal answer; no traceback.

Hostile values: shell metacharacters, control characters (newline, NUL, ...), unicode
separators, leading dashes, every pppd option name of 2.4.9 and 2.5.x (alone and with a
payload path as its argument), every ssh/dbclient option that runs a command.  Each payload
that would run something touches a canary file; no canary may ever appear.  The number of
cases per entry point is asserted (>= 1,000) and printed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import RecordingBus, ed25519_key

from pppossh import cli
from pppossh.config import OPTIONS, from_netifd_json, from_uci
from pppossh.config.pppd_options import REMOTE_LCP_ECHO, TTY_CHOICE, runs_program
from pppossh.errors import ConfigError, PppsshError
from pppossh.plan import make_plan
from pppossh.plan.facts import HostFacts
from pppossh.plan.ssh_options import ssh_option_words
from pppossh.run import netifd

DATA = Path(__file__).resolve().parent / "data"
KEY = ed25519_key()


def _arities() -> dict[str, bool]:
    out: dict[str, bool] = {}
    for version in ("2.4.9", "2.5.x"):
        for line in (DATA / f"pppd-options-{version}.txt").read_text().splitlines():
            if line and not line.startswith("#"):
                name, arity = line.split("\t")
                out[name] = out.get(name, False) or arity == "arg"
    return out


ARITY = _arities()
PPPD_NAMES = sorted(ARITY)
SHELL = [";touch {c}", "$(touch {c})", "`touch {c}`", "|touch {c}", "&touch {c}",
         "&& touch {c}", "\ntouch {c}", ">{c}", "<{c}", "' ; touch {c} ; '", '" ; touch {c} "',
         "\\;touch {c}", "${{IFS}}touch${{IFS}}{c}", "$((1+1))", "{{a,b}}", "*", "?", "~", "#",
         "!", "%", "@", ":", "\\", "'", '"', " ", "(touch {c})"]
CONTROL = ["\x00", "\n", "\r", "\t", "\x0b", "\x0c", "\x1b", "\x7f"]
UNICODE = ["\u2028", "\u2029", "\u0085", "\u00a0", "\u2000", "\u200b", "\u3000", "\ufeff",
           "\u202e", "\uff1b"]
DASHES = ["-", "--", "-x", "--help", "-oProxyCommand=touch {c}", "-F{c}", "-E{c}",
          "-J-oProxyCommand=touch\\ {c}"]
SSH_COMMANDS = [
    "-oProxyCommand=touch {c}", "-o 'ProxyCommand touch {c}'", "-oLocalCommand=touch {c}",
    "-oPermitLocalCommand=yes", "-oKnownHostsCommand=touch {c}", "-oRemoteCommand=touch {c}",
    "-o 'Match exec \"touch {c}\"'", "-F {c}", "-J -oProxyCommand=x", "-oProxyJump=-oX=y",
    "-J 'h;touch {c}'", "-J 'touch {c}'", "-oProxyUseFdpass=yes", "-W 127.0.0.1:22", "-E {c}",
    "-S {c}", "-M", "-oControlMaster=yes", "-oControlPath={c}", "-oSecurityKeyProvider={c}",
    "-oPKCS11Provider={c}", "-I {c}", "-B 127.0.0.1:22", "-s sftp", "-N", "-f", "-t",
    "-oRequestTTY=yes", "-oStrictHostKeyChecking=no", "-oUserKnownHostsFile=/dev/null",
    "-y", "-yy", "-oEscapeChar=~", "-G", "-V", "-oInclude={c}", "-oIdentityAgent={c}",
]


def hostile_values(canary: str) -> list[str]:
    base = SHELL + CONTROL + UNICODE + DASHES + SSH_COMMANDS
    values = []
    for fragment in base:
        fragment = fragment.format(c=canary)
        values += [fragment, "vpn" + fragment, fragment + "vpn", "/x" + fragment]
    for name in PPPD_NAMES:
        values += [name, f"{name} {canary}"]
    return list(dict.fromkeys(values))


def _pppd_options_ok(words: list[str], allowed: dict[str, str]) -> None:
    """Read ``words`` as pppd reads its arguments; every option that runs a program, loads
    code or reads options must be one of ``allowed`` (option -> its exact argument)."""
    i = 0
    while i < len(words):
        word = words[i]
        takes = ARITY.get(word)
        if takes is None:  # pppd's wild words: a device, a speed or local:remote
            assert ":" in word and "/" not in word, f"pppd would read {word!r} as a device"
            i += 1
            continue
        value = words[i + 1] if takes and i + 1 < len(words) else None
        if runs_program(word) or word in ("file", "call", "plugin", "socket", "record",
                                          "logfile", "+ua", "pap-secrets", "chap-secrets"):
            assert allowed.get(word) == value, f"pppd would get {word} {value!r}"
        i += 2 if takes else 1


def _allowed(plan) -> dict[str, str]:
    """pppossh's own: the pty command, its log, its hooks and its password file."""
    hooks = "/usr/lib/pppossh/ppp/"
    return {"pty": plan.pty, "logfile": plan.pppd_log, "file": plan.secrets,
            **{f"{e}-script": hooks + e for e in ("ip-up", "ip-down", "ipv6-up", "ipv6-down")}}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("entry")
    work = root / "work"
    work.mkdir()
    canary = work / "canary"
    out = root / "argv.out"
    recorder = root / "recorder"
    recorder.write_text(
        f"#!/bin/sh\nfor a; do printf '%s\\0' \"$a\"; done > {shlex.quote(str(out))}\n")
    recorder.chmod(0o755)
    (root / "run" / "vpn").mkdir(parents=True)
    return {"root": root, "work": work, "canary": canary, "out": out, "recorder": recorder}


def _facts(bench: dict, client: str, identities) -> HostFacts:
    fmt = {"dbclient": "dropbear", "openssh": "openssh"}[client]
    return HostFacts(clients={"dbclient": str(bench["recorder"]),
                              "openssh": str(bench["recorder"])},
                     key_formats={p: fmt for p in identities}, rundir=str(bench["root"] / "run"),
                     hooks_dir="/usr/lib/pppossh/ppp", python="/usr/bin/python3")


BASE = {"proto": "pppossh", "server": "192.0.2.2", "sshuser": "vpn",
        "identity": ("/etc/pppossh/keys/vpn",), "hostkey": (KEY,), "use_hostdep": "0",
        "username": "router1", "password": "pw"}
PTY_OPTIONS = {"server", "port", "sshuser", "identity", "ssh_options", "ssh_client",
               "ssh_keepalive", "connect_timeout", "remote_pppd", "peer_pppd_options", "hostkey"}


def _run_pty(bench: dict, plan) -> list[str]:
    """Run the pty command as pppd would; dbclient's password-prompt guard polls once a
    second while the client lives, which here only slows the test: it polls faster."""
    if bench["out"].exists():
        bench["out"].unlink()
    script = plan.pty
    if plan.client == "dbclient":
        assert script.count("; sleep 1; ") == 1
        script = script.replace("; sleep 1; ", "; sleep 0.01; ")
    done = subprocess.run(["/bin/sh", "-c", script], cwd=bench["work"],
                          env={"PATH": "/usr/bin:/bin"}, capture_output=True, timeout=20,
                          check=False)
    assert bench["out"].exists(), done.stderr
    return [w.decode() for w in bench["out"].read_bytes().split(b"\0")[:-1]]


def test_uci_options(bench: dict, capsys: pytest.CaptureFixture) -> None:
    """Every option of the table x every hostile value x both clients."""
    values = hostile_values(str(bench["canary"]))
    counts = {"cases": 0, "accepted": 0, "shell_runs": 0}
    baseline = {}
    for client in ("dbclient", "openssh"):
        config = from_uci("vpn", {**BASE, "ssh_client": client})
        baseline[client] = make_plan(config, _facts(bench, client, config.identity)).pty
    for option in OPTIONS:
        for value in values:
            for client in ("dbclient", "openssh"):
                counts["cases"] += 1
                raw = {**BASE, "ssh_client": client,
                       option.name: (value,) if option.kind == "list" else value}
                try:
                    config = from_uci("vpn", raw)
                    plan = make_plan(config, _facts(bench, config.ssh_client, config.identity))
                except ConfigError as exc:
                    assert exc.code and exc.message
                    continue
                counts["accepted"] += 1
                argv = list(plan.pppd_argv)
                _pppd_options_ok(argv[1:], _allowed(plan))
                # the server's shell chooses the line's word behind TTY_CHOICE ("$t")
                command, line = plan.remote_command, "notty"
                if config.remote_pty:
                    assert command.startswith(TTY_CHOICE + " ")
                    command, line = command[len(TTY_CHOICE):], "$t"
                remote = shlex.split(command)
                intended = [*shlex.split(config.remote_pppd), "nodetach", line, "noauth",
                            *REMOTE_LCP_ECHO,
                            *shlex.split(config.peer_pppd_options)]
                assert remote == intended
                _pppd_options_ok([w for w in remote[len(shlex.split(config.remote_pppd)):]
                                  if w != "$t"], {})
                if option.name in PTY_OPTIONS and plan.pty != baseline[config.ssh_client]:
                    counts["shell_runs"] += 1
                    assert _run_pty(bench, plan) == list(plan.ssh_argv[1:])
                assert not bench["canary"].exists(), (option.name, value)
    assert sorted(os.listdir(bench["work"])) == []
    with capsys.disabled():
        print(f"\nUCI options: {counts}")
    assert counts["cases"] >= 1000


def test_netifd_json(bench: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture) -> None:
    """The real setup with hostile typed values (and wrong types) for every option."""
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    monkeypatch.setattr(netifd, "probe", lambda config, rundir: _facts(
        bench, "dbclient" if config.ssh_client == "auto" else config.ssh_client,
        config.identity))
    # names are not looked up: no DNS from the tests, and getaddrinfo runs nothing
    monkeypatch.setattr(netifd, "resolve", lambda server, timeout: ["192.0.2.2"])
    values: list[object] = [*hostile_values(str(bench["canary"]))[::3], -1, 0, 2**31, 1.5,
                            True, None, [], {}, ["a", 1], {"a": "b"}]
    counts = {"cases": 0, "tasks": 0, "refused": 0}
    base = {k: (list(v) if isinstance(v, tuple) else v) for k, v in BASE.items()}
    base["use_hostdep"] = 0
    for option, value, command in _setups(base, OPTIONS, values, tmp_path, counts):
        assert "pty" in command, command
        pppd = command[command.index("--") + 1:] if "--" in command else command
        statedir = bench["root"] / "run" / "vpn"  # the facts' rundir
        allowed = {"pty": pppd[pppd.index("pty") + 1],
                   "file": str(statedir / "pppd-secrets"),
                   "logfile": str(statedir / "pppd.log"),
                   "ip-up-script": "/usr/lib/pppossh/ppp/ip-up",
                   "ip-down-script": "/usr/lib/pppossh/ppp/ip-down",
                   "ipv6-up-script": "/usr/lib/pppossh/ppp/ipv6-up",
                   "ipv6-down-script": "/usr/lib/pppossh/ppp/ipv6-down"}
        _pppd_options_ok(pppd[1:], allowed)
        assert not bench["canary"].exists(), (option.name, value)
    with capsys.disabled():
        print(f"\nnetifd config JSON: {counts}")
    assert counts["cases"] >= 1000


def _setups(base: dict, options, values: list[object], tmp_path: Path,
            counts: dict[str, int]) -> Iterator[tuple[Any, object, list[str]]]:
    """Each option with each value through the real netifd setup.  A refused one must end in
    an error and block_restart; yields (option, the value as typed, the task) for the others."""
    for option in options:
        for value in values:
            counts["cases"] += 1
            typed = [value] if option.kind == "list" and isinstance(value, str) else value
            bus = RecordingBus()
            assert netifd.setup("vpn", json.dumps({**base, option.name: typed}),
                                str(tmp_path), bus) == 0
            tasks = [m["command"] for m in bus.sent if m["action"] == 1]
            if not tasks:
                counts["refused"] += 1
                assert [m["action"] for m in bus.sent][-2:] == [3, 4], bus.sent
                continue
            counts["tasks"] += 1
            yield option, typed, tasks[0]


# what no OpenSSH option from a value may be: a program to run, a config to read, a hop
_SSH_FORBIDDEN = re.compile(r"(?i)^(proxycommand|localcommand|permitlocalcommand|"
                            r"knownhostscommand|remotecommand|match|include|proxyjump|"
                            r"controlpath|controlmaster|securitykeyprovider|pkcs11provider|"
                            r"stricthostkeychecking=no|userknownhostsfile=/dev/null)")


def test_netifd_json_sshtun(bench: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture) -> None:
    """proto sshtun's setup with hostile values for every option it declares: refused, or a
    task whose shell hands the client exactly the planned words (run here, with a recorder as
    the client), none of them an option that runs or reads anything."""
    from pppossh.config.options import for_proto
    from pppossh.plan import sshtun

    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    monkeypatch.setattr(netifd, "probe", lambda config, rundir: _facts(
        bench, "openssh", config.identity))
    monkeypatch.setattr(netifd, "resolve", lambda server, timeout: ["192.0.2.2"])
    values: list[object] = [*hostile_values(str(bench["canary"]))[::5], -1, 0, 256, 2**31,
                            True, None, [], {}, ["a", 1]]
    base = {"proto": "sshtun", "server": "192.0.2.2", "sshuser": "vpn",
            "identity": ["/etc/pppossh/keys/vpn"], "hostkey": [KEY], "use_hostdep": 0,
            "ipaddr": "10.9.0.1", "peeraddr": "10.9.0.2", "remote_unit": 3, "unit": 4}
    counts = {"cases": 0, "tasks": 0, "refused": 0}
    for option, typed, task in _setups(base, for_proto("sshtun"), values, tmp_path, counts):
        if task[0] != "/bin/sh":  # behind the back-off wait: the task follows its words
            task = task[task.index("/bin/sh", 1):]
        assert task[1:4] == ["-c", task[2], "sshtun"] and sshtun.READY in task[2]
        ssh = task[15:]  # after the task script's eight values, the bridge, the IPv6 ends
        assert ssh[0] == str(bench["recorder"])
        for i, word in enumerate(ssh[:-2]):
            if word == "-o":
                assert not _SSH_FORBIDDEN.match(ssh[i + 1]), (option.name, ssh[i + 1])
        assert ssh[-1] == sshtun.remote_command(
            from_netifd_json("vpn", json.dumps({**base, option.name: typed})))
        if bench["out"].exists():
            bench["out"].unlink()
        subprocess.run(task, cwd=bench["work"], env={"PATH": "/usr/bin:/bin"},
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=20, check=False)
        assert bench["out"].read_bytes().split(b"\0")[:-1] == [
            w.encode() for w in ssh[1:]], option.name
        assert not bench["canary"].exists(), (option.name, typed)
    with capsys.disabled():
        print(f"\nnetifd config JSON, sshtun: {counts}")
    assert counts["cases"] >= 500 and counts["tasks"] and counts["refused"]


def test_cli_arguments(bench: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture) -> None:
    """Hostile interface names and directory paths for the commands that read them."""
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    monkeypatch.setenv("PPPOSSH_UCI_BACKEND", "file")
    monkeypatch.setenv("PPPOSSH_UBUS", "cli")
    monkeypatch.chdir(bench["work"])
    confdir = tmp_path / "config"
    confdir.mkdir()
    (confdir / "network").write_text(
        "config interface 'vpn'\n\toption proto 'pppossh'\n\toption server '192.0.2.2'\n"
        "\toption sshuser 'vpn'\n")
    values = [v for v in hostile_values(str(bench["canary"])) if "\x00" not in v]
    counts = {"cases": 0, "refused": 0, "answered": 0}
    commands = [["plan"], ["plan", "--json"], ["status"], ["down"], ["pubkey"]]
    runs = [[*c, "--", v] for c in commands for v in values]
    runs += [["--rundir", v, "status", "vpn"] for v in values]
    runs += [["--rundir", v, "down", "vpn"] for v in values[::4]]
    runs += [["--confdir", v, "plan", "vpn"] for v in values]
    runs += [["--keydir", v, "pubkey", "vpn"] for v in values[::4]]
    for argv in runs:
        if argv[0] in ("--rundir", "--keydir", "--confdir"):
            argv = argv if argv[0] == "--confdir" else ["--confdir", str(confdir), *argv]
        else:
            argv = ["--confdir", str(confdir), "--rundir", str(tmp_path / "run"), *argv]
        counts["cases"] += 1
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(argv)
            except SystemExit as exc:  # argparse refusing a word
                status = exc.code
            except PppsshError:
                raise
        assert "Traceback" not in err.getvalue(), (argv, err.getvalue())
        if status == 0 or (status == 3 and "status" in argv):
            counts["answered"] += 1
        else:
            counts["refused"] += 1
            assert err.getvalue().strip(), argv
        assert not bench["canary"].exists(), argv
    assert sorted(os.listdir(bench["work"])) == []
    with capsys.disabled():
        print(f"\nCLI arguments: {counts}")
    assert counts["cases"] >= 1000


def test_connect_arguments(bench: dict, capsys: pytest.CaptureFixture) -> None:
    """Every slot of ``pppossh connect`` x every hostile value."""
    from pppossh.admin import connect

    values = hostile_values(str(bench["canary"]))
    slots = {
        "target": lambda v: {"target": v}, "user": lambda v: {"target": f"{v}@192.0.2.2"},
        "route": lambda v: {"routes": ["default", v]}, "ip": lambda v: {"addresses": v},
        "ip_remote": lambda v: {"addresses": f"10.1.0.1:{v}"},
        "dns_server": lambda v: {"dns_servers": [v], "dns": True},
        "jump": lambda v: {"jump": [v]}, "key": lambda v: {"key": v},
        **{f"-o {name}": (lambda v, n=name: {"options": [f"{n}={v}"]})
           for name in ("ssh_options", "pppd_options", "peer_pppd_options", "remote_pppd",
                        "identity", "jump_hostkey", "hostkey", "mtu")},
    }
    counts = {"cases": 0, "refused": 0, "accepted": 0}
    rng = __import__("random").Random(1)
    for slot, make in slots.items():
        for value in values:
            counts["cases"] += 1
            request = connect.Request(**{"target": "root@192.0.2.2", **make(value)})
            try:
                options = connect.section_options(request, [], rng)
                config = from_uci("vpn", {**options, "hostkey": (KEY,)}
                                  if slot != "-o hostkey" else options)
                plan = make_plan(config, _facts(bench, "dbclient", config.identity))
            except ConfigError as exc:
                assert exc.code and exc.message, (slot, value)
                counts["refused"] += 1
                continue
            except PppsshError as exc:  # NO_FREE_ADDRESSES and the like: still a sentence
                assert exc.code and exc.message, (slot, value)
                counts["refused"] += 1
                continue
            counts["accepted"] += 1
            _pppd_options_ok(list(plan.pppd_argv)[1:], _allowed(plan))
            assert _run_pty(bench, plan) == list(plan.ssh_argv[1:]), (slot, value)
            assert not bench["canary"].exists(), (slot, value)
    assert sorted(os.listdir(bench["work"])) == []
    with capsys.disabled():
        print(f"\nconnect arguments: {counts}")
    assert counts["cases"] >= 1000 and counts["accepted"] > 0


@pytest.mark.parametrize("value", [
    "-J -oProxyCommand=touch\\ x", "-J-oProxyCommand=x", "-o ProxyJump=-oProxyCommand=x",
    "-o 'ProxyJump -oProxyCommand=x'", "-J 'a b'", "-b -x", "-o LogLevel=-x", "-L -x",
])
def test_ssh_values_that_would_be_read_as_options(value: str) -> None:
    """A value the client passes on (ProxyJump becomes a second ssh's command line) never
    starts with '-', and a jump host is [user@]host[:port]."""
    with pytest.raises(ValueError, match="ssh_options"):
        ssh_option_words(value, "openssh")


@pytest.mark.parametrize("value", ["-c -aes128-cbc", "-o Ciphers=-3des-cbc",
                                   "-J user@jump.example.net:2222,192.0.2.9", "-o ProxyJump=none",
                                   "-J [2001:db8::1]:22"])
def test_ssh_values_still_accepted(value: str) -> None:
    assert ssh_option_words(value, "openssh")[0]
