"""The server's pppd on a terminal (option remote_pty): what each side's shell really runs.

The remote command and the login shell are run here by dash, bash and busybox sh (the
shells of Debian and OpenWrt servers) with stdin a real pty or a plain pipe, and a recorder
in place of pppd; the pty string pppd runs is run with a client that exits with a chosen
status.  The test bed runs the same strings with the real clients, servers and pppd
(``scenarios.remote_terminal``).
"""

from __future__ import annotations

import dataclasses
import os
import pty
import shlex
import subprocess
import time
from pathlib import Path

import pytest
from test_plan import facts, golden_config

from pppossh.config.pppd_options import REMOTE_LCP_ECHO
from pppossh.plan import make_plan
from pppossh.plan.facts import TERMINAL_REFUSED, probe
from pppossh.plan.ssh import EXIT_NOTE, pty_command
from pppossh.run import outcome
from pppossh.run.leftovers import end_clients
from pppossh.run.state import State
from pppossh.server import peers, render, setup
from pppossh.uci import open_uci

SHELLS = [["dash", "-c"], ["bash", "-c"], ["busybox", "sh", "-c"]]
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArewmMS5CsREYdKI4UPpFsPUFxea2kgxEjj5YSyYuuU"


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    """A stand-in pppd that writes its arguments, one per line, and whether stdin is a tty."""
    path = tmp_path / "pppd"
    out = tmp_path / "args"
    path.write_text(f'#!/bin/sh\n{{ [ -t 0 ] && echo TTY || echo PIPE; printf "%s\\n" "$@"; }}'
                    f" >{out}\n")
    path.chmod(0o755)
    return path


def _run(argv: list[str], on_tty: bool) -> None:
    """Run ``argv`` with stdin a fresh pty (as sshd gives a terminal) or a pipe."""
    if on_tty:
        master, slave = pty.openpty()
        try:
            subprocess.run(argv, stdin=slave, check=True, timeout=20)
        finally:
            os.close(master)
            os.close(slave)
    else:
        subprocess.run(argv, stdin=subprocess.PIPE, check=True, timeout=20)


@pytest.mark.parametrize("shell", SHELLS, ids=lambda s: s[0])
@pytest.mark.parametrize("on_tty", [True, False], ids=["terminal", "stream"])
def test_the_remote_pppd_takes_its_line_from_stdin(shell: list[str], on_tty: bool,
                                                   recorder: Path) -> None:
    """On a terminal the server's pppd runs on it ('local'); on a stream with 'notty'."""
    config = golden_config(remote_pppd=str(recorder),
                           peer_pppd_options="10.99.0.2:10.99.0.1 ms-dns 192.0.2.53")
    command = make_plan(config, facts()).remote_command
    _run([*shell, command], on_tty)
    said = (recorder.parent / "args").read_text().split()
    assert said == ["TTY" if on_tty else "PIPE", "nodetach", "local" if on_tty else "notty",
                    "noauth", *REMOTE_LCP_ECHO, "10.99.0.2:10.99.0.1", "ms-dns", "192.0.2.53"]


def test_remote_pty_0_is_upstreams_command_line() -> None:
    plan = make_plan(golden_config(remote_pty=False), facts())
    assert shlex.split(plan.remote_command) == [
        "pppd", "nodetach", "notty", "noauth", *REMOTE_LCP_ECHO]
    assert plan.ssh_argv[1] == "-T"


@pytest.mark.parametrize(("client", "words"), [("dbclient", ["-t"]),
                                               ("openssh", ["-t", "-e", "none"])])
def test_the_client_asks_for_a_terminal_and_check_does_not(client: str,
                                                           words: list[str]) -> None:
    """The tunnel asks for a terminal (OpenSSH without an escape character); 'pppossh check'
    probes without one, so that the server's messages arrive apart from the stream."""
    plan = make_plan(golden_config(ssh_client=client), facts(client))
    assert list(plan.ssh_argv[1:1 + len(words)]) == words
    assert plan.probe_argv[1] == "-T" and not {"-t", "-tt", "-e"} & set(plan.probe_argv)
    assert list(plan.probe_argv) == [plan.probe_argv[0], "-T",
                                     *plan.ssh_argv[1 + len(words):-1]]


@pytest.mark.parametrize("status", [0, 1, 127, 255])
@pytest.mark.parametrize("guard", [0, 5], ids=["openssh", "dbclient-guard"])
def test_the_client_log_ends_with_its_exit_status(tmp_path: Path, status: int,
                                                  guard: int) -> None:
    client = tmp_path / "client"
    client.write_text(f"#!/bin/sh\necho 'said on stderr' >&2\nexit {status}\n")
    client.chmod(0o755)
    log = tmp_path / "ssh.log"
    command = pty_command([str(client)], str(tmp_path / "home"), str(log), guard)
    for shell in SHELLS:
        log.unlink(missing_ok=True)
        _run([*shell, command], on_tty=True)
        assert log.read_text() == f"said on stderr\n{EXIT_NOTE} {status}\n", shell


def _classify(log: str, session: float | None = None) -> outcome.Outcome:
    return outcome.classify(16, log, iface="vpn", server="192.0.2.2", port=22, user="root",
                            session_seconds=session)


@pytest.mark.parametrize(("status", "code"), [(127, "REMOTE_PPPD_MISSING"),
                                              (126, "REMOTE_PPPD_MISSING"),
                                              (4, "REMOTE_NO_PPP"), (1, "REMOTE_EXIT"),
                                              (2, "REMOTE_EXIT")])
def test_the_server_commands_status_names_the_failure(status: int, code: str) -> None:
    """On a terminal the server's message went into the stream; its status is left."""
    result = _classify(f"{EXIT_NOTE} {status}\n")
    assert result.code == code, result
    if code == "REMOTE_EXIT":
        assert f"status {status}" in result.message and "pppossh check vpn" in result.message
    else:
        assert f"exit {status}" in result.message, result
    assert result.as_dict()["values"] == {"status": status}


@pytest.mark.parametrize("log", [
    f"ssh: connect to host 192.0.2.2 port 22: Connection refused\n{EXIT_NOTE} 255\n",
    "dbclient: Connection to root@192.0.2.2:22 exited: Connection refused\n"
    f"{EXIT_NOTE} 1\n",
    f"dbclient: Connection to root@192.0.2.2:22 exited: something new\n{EXIT_NOTE} 1\n",
    f"{EXIT_NOTE} 143\n",
])
def test_the_clients_own_failures_are_not_the_servers(log: str) -> None:
    assert _classify(log).code not in ("REMOTE_EXIT", "REMOTE_PPPD_MISSING", "REMOTE_NO_PPP")


def test_a_session_that_was_up_is_a_lost_connection() -> None:
    assert _classify(f"{EXIT_NOTE} 1\n", session=120.0).code == "CONNECTION_LOST"


@pytest.fixture
def server_uci(tmp_path: Path, recorder: Path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "pppossh").write_text(
        f"config server 'server'\n\toption authorized_keys '{tmp_path / 'authorized_keys'}'\n"
        f"\toption remote_pppd '{recorder}'\n")
    return open_uci(str(tmp_path / "config"), backend="file")


@pytest.mark.parametrize("on_tty", [True, False], ids=["terminal", "stream"])
def test_roots_forced_command_chooses_the_line(server_uci, recorder: Path,
                                               on_tty: bool) -> None:
    """peer apply: root's own shell runs the forced command from authorized_keys."""
    peer = peers.add_peer(server_uci, "a", KEY)
    server = peers.load_server(server_uci)
    line = render.managed_block("dropbear", server, [peer]).splitlines()[1]
    assert line.startswith("no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command=")
    command = line.split('command="', 1)[1].rsplit('" ', 1)[0].replace('\\"', '"')
    for shell in SHELLS:
        _run([*shell, command], on_tty)
        said = (recorder.parent / "args").read_text().split()
        assert said[0] == ("TTY" if on_tty else "PIPE") and said[-1] == (
            "local" if on_tty else "notty"), (shell, said)
        assert "notty" not in said[1:-1] and "local" not in said[1:-1]


@pytest.mark.parametrize("on_tty", [True, False], ids=["terminal", "stream"])
def test_the_accounts_login_shell_adds_the_word_sudo_allows(server_uci, tmp_path: Path,
                                                           recorder: Path,
                                                           on_tty: bool) -> None:
    """server-setup: the login shell appends 'local' or 'notty'; sudo allows both lines."""
    peer = peers.add_peer(server_uci, "a", KEY)
    server = peers.load_server(server_uci)
    words, command = render.forced_command(server, peer, sudo=True)
    script = setup.setup_script(server_uci, "vpnpeers")
    for tty in ("local", "notty"):
        assert "vpnpeers ALL=(root) NOPASSWD: " + setup._sudoers_args([*words, tty]) in script
    assert 'restrict,pty,command="sudo -n ' in script
    # the login shell itself, with the recorder in place of sudo's target
    opening = "\"$login_shell\" <<'PPPOSSH_END_OF_FILE'\n"
    shell_text = script.split(opening, 1)[1].split("PPPOSSH_END_OF_FILE\n", 1)[0]
    unsudo = command.replace("sudo -n ", "")
    login = tmp_path / "login-shell"
    login.write_text(shell_text.replace(shlex.quote(command), shlex.quote(unsudo)))
    login.chmod(0o755)
    for shell in (["dash"], ["bash"], ["busybox", "sh"]):
        _run([*shell, str(login), "-c", unsudo], on_tty)
        said = (recorder.parent / "args").read_text().split()
        assert said[-1] == ("local" if on_tty else "notty"), (shell, said)
        refused = subprocess.run([*shell, str(login), "-c", "id"], capture_output=True,
                                 text=True, stdin=subprocess.DEVNULL, check=False)
        assert refused.returncode == 1 and "uid=" not in refused.stdout


def test_a_session_whose_pppd_died_is_ended(tmp_path: Path) -> None:
    """pppd killed: the shell of its pty command and the client under it are ended, and
    nothing of another interface's session is touched."""
    client = tmp_path / "client"
    client.write_text("#!/bin/sh\nexec sleep 300\n")
    client.chmod(0o755)
    started = []
    for iface in ("vpn", "other"):
        state = State(str(tmp_path / "run"), iface)
        state.dir.mkdir(parents=True)
        command = pty_command([str(client)], str(state.path("home")), str(state.path("log")))
        master, slave = pty.openpty()
        started.append(subprocess.Popen(["/bin/sh", "-c", command], stdin=slave,
                                        stdout=slave, start_new_session=True))
        os.close(slave)
        os.close(master)
    vpn = State(str(tmp_path / "run"), "vpn")
    deadline = time.monotonic() + 10
    while not vpn.path("log").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the shell has started the client
    try:
        ended = end_clients(vpn)
        assert sorted(p.name for p in ended) == ["sh", "sleep"], ended
        assert started[0].wait(5) is not None
        assert started[1].poll() is None, "another interface's session was ended"
    finally:
        for proc in started:
            proc.kill()
            proc.wait()


def test_a_refused_terminal_is_remembered_for_that_server(tmp_path: Path) -> None:
    """OpenSSH ends a login whose terminal the server refused: that ending is written down
    without counting as a failure, and the next plans for that server ask for none."""
    config = golden_config(ssh_client="openssh")
    state = State(str(tmp_path), "vpn")
    state.dir.mkdir(parents=True)
    state.path("ssh.log").write_text(
        f"PTY allocation request failed on channel 0\n{EXIT_NOTE} 255\n")
    ending = outcome.record_end(state, 16, iface="vpn", server=config.server,
                                port=config.port, user=config.sshuser)
    assert ending.outcome.code == "TERMINAL_REFUSED" and ending.failures == 0
    assert state.path(TERMINAL_REFUSED).read_text() == f"{config.server} {config.port}\n"
    seen = probe(config, rundir=str(tmp_path))
    assert seen.terminal_refused
    plan = make_plan(config, dataclasses.replace(facts("openssh"), terminal_refused=True))
    assert plan.ssh_argv[1] == "-T" and "notty" in plan.remote_command.split()
    assert any("refused a terminal" in note for note in plan.notes)
    # another server, or a day later: ask again
    assert not probe(dataclasses.replace(config, port=2200), rundir=str(tmp_path)).terminal_refused
    os.utime(state.path(TERMINAL_REFUSED), (0, 0))
    assert not probe(config, rundir=str(tmp_path)).terminal_refused
