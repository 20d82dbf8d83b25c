"""Messages to netifd and the decisions behind them.

- pppossh.run.jsonc.dumps and the builders of pppossh.run.ubus reproduce byte for byte the
  notify_proto JSON recorded in golden/ubus-calls.log (actions 1, 2, 3, 4, 6; the link update,
  action 0, is sent by the shell ppp hooks: tests/test_ppp_hooks.py), and the CLI
  sender calls ``ubus [-S] call network.interface notify_proto <json>`` as the real shell
  library did; the binding sender (the ``ubus`` module double, tests/doubles/ubus.py) hands
  netifd the same messages, key for key in the same order, always with a time bound, and
  its failures are UbusErrors like the CLI's;
- backoff: the wait before the n-th retry (netifd itself restarts at once, golden/netifd/05);
- outcome.classify: real SSH client and pppd endings -> error code, and whether to block.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles.bus import Bus, install, ordered
from helpers import GOLDEN, NETIFD, REPO, parse_ubus_log

from pppossh.run import backoff, jsonc, outcome, ubus


def _golden_notify_calls() -> list[list[str]]:
    calls = parse_ubus_log((GOLDEN / "ubus-calls.log").read_text())
    return [argv for argv in calls if "notify_proto" in argv]


NOTIFY = _golden_notify_calls()


def _by_action(action: int) -> list[list[str]]:
    found = [argv for argv in NOTIFY if json.loads(argv[-1])["action"] == action]
    assert found, f"golden/ubus-calls.log has no action {action}"
    return found


def _rebuild(message: dict) -> dict:
    """The same message made by our builder from its parsed fields."""
    iface, action = message["interface"], message["action"]
    if action == ubus.RUN:
        return ubus.run_command(iface, message["command"], message.get("env", ()))
    if action == ubus.KILL:
        return ubus.kill_command(iface, message.get("signal"))
    if action == ubus.ERROR:
        return ubus.notify_error(iface, *message["error"])
    if action == ubus.BLOCK_RESTART:
        return ubus.block_restart(iface)
    if action == ubus.HOST_DEPENDENCY:
        return ubus.host_dependency(iface, message["host"], message.get("ifname", ""))
    raise AssertionError(f"unexpected action {action}")


def test_log_parsed() -> None:
    """The golden log has the verbs the handler library sends."""
    actions = {json.loads(argv[-1])["action"] for argv in NOTIFY}
    assert {0, 1, 2, 3, 4, 6} <= actions


@pytest.mark.parametrize("action", [1, 2, 3, 4, 6])
def test_builders_reproduce_golden_bytes(action: int) -> None:
    """jsonc.dumps(builder(...)) equals every recorded notify_proto JSON of this action."""
    for argv in _by_action(action):
        text = argv[-1]
        assert jsonc.dumps(_rebuild(json.loads(text))) == text


@pytest.mark.parametrize("action", [0, 1, 2, 3, 4, 6])
def test_golden_argv_shape(action: int) -> None:
    """proto_add_host_dependency calls `ubus -S call ...`, every other verb `ubus call ...`."""
    head = ["-S"] if action == 6 else []
    for argv in _by_action(action):
        assert argv[:-1] == [*head, "call", "network.interface", "notify_proto"]


def test_error_without_data_exact() -> None:
    """proto_notify_error vpn SOME_CODE (golden 06/07)."""
    assert jsonc.dumps(ubus.notify_error("vpn", "SOME_CODE")) == (
        '{ "action": 3, "error": [ "SOME_CODE" ], "interface": "vpn" }')
    first = _by_action(3)[0][-1]
    assert first == jsonc.dumps(ubus.notify_error("vpn", "SOME_CODE"))


def test_error_with_data() -> None:
    """proto_notify_error vpn OTHER_CODE "arg one" arg2 (golden 08): the data strings follow
    the code in the same array - the shape of the recorded message without data, and what
    netifd stored (status-vpn-after-error.json: code + data)."""
    without = _by_action(3)[0][-1]
    expected = without.replace('[ "SOME_CODE" ]', '[ "OTHER_CODE", "arg one", "arg2" ]')
    message = ubus.notify_error("vpn", "OTHER_CODE", "arg one", "arg2")
    assert jsonc.dumps(message) == expected
    status = json.loads(
        (NETIFD / "08-notify-error-with-data" / "status-vpn-after-error.json").read_text())
    (error,) = status["errors"]
    assert [error["code"], *error["data"]] == message["error"]


def test_kill_with_signal_and_host_dependency_ifname() -> None:
    """Optional fields sit where netifd-proto.sh puts them: before "interface"."""
    assert jsonc.dumps(ubus.kill_command("vpn", 15)) == (
        '{ "action": 2, "signal": 15, "interface": "vpn" }')
    assert jsonc.dumps(ubus.host_dependency("vpn", "2001:db8::2", "eth0")) == (
        '{ "action": 6, "host": "2001:db8::2", "ifname": "eth0", "interface": "vpn" }')


def test_jsonc_spelling() -> None:
    """json-c's spaced spelling, '/' escaped, control characters as \\uXXXX."""
    assert jsonc.dumps({}) == "{ }"
    assert jsonc.dumps([]) == "[ ]"
    assert jsonc.dumps({"a": [1, True, None, "x/y"]}) == '{ "a": [ 1, true, null, "x\\/y" ] }'
    assert jsonc.dumps('q"b\\n\n\x01') == '"q\\"b\\\\n\\n\\u0001"'
    text = 'it\'s "quoted" \\ /path\n\t\x7f é'
    assert json.loads(jsonc.dumps(text)) == text


GOLDEN_SEQUENCE = [6, 1, 3, 4, 2, 0]


@pytest.fixture
def ubus_binding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    yield from install(tmp_path, monkeypatch)


@pytest.fixture
def cli_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ubus CLI double on PATH, logging to the returned file."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    double = REPO / "tests" / "netifd" / "ubus"
    (bindir / "ubus").write_bytes(double.read_bytes())
    (bindir / "ubus").chmod(0o755)
    log = tmp_path / "ubus.log"
    monkeypatch.setenv("UBUS_LOG", str(log))
    monkeypatch.setenv("PPPOSSH_UBUS", "cli")
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    return log


def test_cli_sender_matches_golden(cli_bus: Path) -> None:
    """Ubus (CLI backend) runs `ubus [-S] call network.interface notify_proto <json>`; with the
    ubus double on PATH the logged argv equals the golden calls."""
    bus = ubus.Ubus()
    assert bus.backend == "cli"
    golden = [_by_action(action)[0] for action in GOLDEN_SEQUENCE]
    for argv in golden:
        bus.notify(json.loads(argv[-1]))
    assert parse_ubus_log(cli_bus.read_text()) == golden


def test_binding_sender_matches_golden(ubus_binding: Bus) -> None:
    """Ubus (binding) calls network.interface notify_proto with the golden messages: the same
    keys in the same order with the same JSON types, so netifd gets the same blobmsg as from
    the CLI (`-S` only changes how the CLI prints answers); each call has a time bound."""
    bus = ubus.Ubus()
    assert bus.backend == "binding"
    golden = [_by_action(action)[0] for action in GOLDEN_SEQUENCE]
    for argv in golden:
        bus.notify(json.loads(argv[-1]))
    calls = ubus_binding.calls()
    assert [argv[:-1] for argv in calls] == [["call", "network.interface", "notify_proto"]] * 6
    assert [ordered(argv[-1]) for argv in calls] == [ordered(argv[-1]) for argv in golden]
    assert all(h.endswith(", timeout 30000 ms)") for h in ubus_binding.headers())


@pytest.mark.parametrize("action", [0, 1, 2, 3, 4, 6])
def test_both_senders_hand_netifd_the_same_messages(
    action: int, cli_bus: Path, ubus_binding: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every recorded message of this action, once through each path."""
    golden = [json.loads(argv[-1]) for argv in _by_action(action)]
    monkeypatch.setenv("UBUS_LOG", str(cli_bus))
    monkeypatch.setenv("PPPOSSH_UBUS", "cli")
    for message in golden:
        ubus.Ubus().notify(message)
    monkeypatch.setenv("UBUS_LOG", str(ubus_binding.log))
    monkeypatch.delenv("PPPOSSH_UBUS")
    for message in golden:
        ubus.Ubus().notify(message)
    via_cli = [ordered(argv[-1]) for argv in parse_ubus_log(cli_bus.read_text())]
    via_binding = [ordered(argv[-1]) for argv in ubus_binding.calls()]
    assert via_binding == via_cli and len(via_cli) == len(golden)


def test_cli_sender_failure_raises(tmp_path, monkeypatch) -> None:
    """A failing ubus call raises UbusError instead of passing silently."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "ubus").write_text("#!/bin/sh\necho 'Command failed: Not found' >&2\nexit 4\n")
    (bindir / "ubus").chmod(0o755)
    monkeypatch.setenv("PPPOSSH_UBUS", "cli")
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    with pytest.raises(ubus.UbusError, match="Not found"):
        ubus.Ubus().notify(ubus.block_restart("vpn"))


def test_cli_sender_is_bounded(tmp_path, monkeypatch) -> None:
    """A ubus that never returns is given up after the bound."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "ubus").write_text("#!/bin/sh\nexec sleep 30\n")
    (bindir / "ubus").chmod(0o755)
    monkeypatch.setenv("PPPOSSH_UBUS", "cli")
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    started = time.monotonic()
    with pytest.raises(ubus.UbusError, match="timed out"):
        ubus.Ubus(timeout=0.5).notify(ubus.block_restart("vpn"))
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("netifd", "socket", "match"),
    [
        ("answer", False, r"Failed to connect to the ubus socket"),
        ("absent", True, r"Object 'network.interface' was not found"),
        ("silent", True, r"Request timed out"),
    ],
)
def test_binding_sender_failure_raises(
    ubus_binding: Bus, netifd: str, socket: bool, match: str
) -> None:
    """No ubusd (OSError), no netifd object, no answer within the bound (RuntimeError): all
    UbusError, and the binding is disconnected again, ready for the next message."""
    ubus_binding.netifd(netifd)
    if not socket:
        ubus_binding.socket.unlink()
    bus = ubus.Ubus(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ubus.UbusError, match=match):
        bus.notify(ubus.block_restart("vpn"))
    assert time.monotonic() - started < 3
    import ubus as binding  # the double

    assert binding.get_connected() is False


# --- backoff -----------------------------------------------------------------------------------


class _Middle(random.Random):
    """An rng whose jitter is always zero."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


def test_backoff_first_attempt_immediate() -> None:
    assert backoff.delay(0) == 0
    assert backoff.delay(-1) == 0


def test_backoff_doubles_then_caps() -> None:
    """Without jitter: 2, 4, 8, 16 ... seconds, never more than 300."""
    rng = _Middle()
    assert [backoff.delay(n, rng) for n in range(1, 10)] == [
        2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert backoff.delay(50, rng) == 300
    assert backoff.delay(10_000, rng) == 300


@pytest.mark.parametrize("failures", [1, 2, 3, 5, 8, 9, 30])
def test_backoff_jitter_within_20_percent(failures: int) -> None:
    """Each wait is within ±20 % of its base (base capped at 300) and never above 300."""
    base = min(2.0 * 2 ** (failures - 1), 300.0)
    waits = {backoff.delay(failures, random.Random(seed)) for seed in range(200)}
    assert len(waits) > 1 or (base == 300 and waits == {300})
    for wait in waits:
        assert base * 0.8 - 0.05 <= wait <= min(base * 1.2, 300) + 0.05
        assert wait <= 300


def test_failures_after() -> None:
    """A failure counts up; a session that stayed up >= 60 s starts the count again (the
    next wait is that of a first failure)."""
    assert backoff.failures_after(0, None) == 1
    assert backoff.failures_after(4, None) == 5
    assert backoff.failures_after(4, 59.9) == 5
    assert backoff.failures_after(4, 60.0) == backoff.failures_after(0, None)
    assert backoff.failures_after(4, 3600.0) == backoff.failures_after(0, None)


class _Clock:
    """Time that passes only when the watch naps or probes."""

    def __init__(self, probe_cost: float = 0.0) -> None:
        self.now, self.naps, self.probe_cost = 100.0, [], probe_cost

    def __call__(self) -> float:
        return self.now

    def nap(self, seconds: float) -> bool:
        self.naps.append(seconds)
        self.now += seconds
        return False


def _port(clock: _Clock, up_from: float | None) -> tuple[list[float], object]:
    probes: list[float] = []

    def answers() -> bool:
        probes.append(clock.now - 100)
        clock.now += clock.probe_cost
        return up_from is not None and clock.now - 100 >= up_from
    return probes, answers


def test_watch_ends_the_wait_when_the_port_answers_again() -> None:
    """Closed, then open 7 s into a 16 s step: the wait ends within a probe interval."""
    clock = _Clock()
    probes, answers = _port(clock, up_from=7.0)
    assert backoff.watch(16, answers, clock.nap, clock) is True
    assert 7.0 <= clock.now - 100 <= 7.0 + backoff.PROBE_EVERY
    assert len(probes) == 8


def test_watch_sleeps_the_step_out_when_the_port_answers_at_once() -> None:
    """Not an outage: one probe, then one nap for the rest of the step, and no early end."""
    clock = _Clock()
    probes, answers = _port(clock, up_from=0.0)
    assert backoff.watch(16, answers, clock.nap, clock) is False
    assert probes == [0.0] and clock.naps == [16] and clock.now - 100 == 16


def test_watch_of_a_port_that_stays_down_goes_on_to_the_longest_step() -> None:
    """An attempt could only be refused: the watch goes on past the 10 s step while the port
    stays down, to the longest wait (late by at most one probe, here a 2 s timeout)."""
    clock = _Clock(probe_cost=backoff.PROBE_TIMEOUT)
    probes, answers = _port(clock, up_from=None)
    assert backoff.watch(10, answers, clock.nap, clock, longest=30) is False
    assert 30 <= clock.now - 100 <= 30 + backoff.PROBE_TIMEOUT
    assert len(probes) == 11  # at 0, 3, ... 30 s: each probe 2 s, then a 1 s nap


def test_watch_past_the_step_ends_when_the_port_answers() -> None:
    clock = _Clock()
    probes, answers = _port(clock, up_from=25.0)
    assert backoff.watch(10, answers, clock.nap, clock) is True
    assert 25 <= clock.now - 100 <= 25 + backoff.PROBE_EVERY
    assert len(probes) == 26  # one a second: a bare TCP connection, no login


def test_watch_after_a_refused_connection_ends_at_the_first_answer() -> None:
    """The attempt found the port closed: a port that answers at once is back already."""
    clock = _Clock()
    probes, answers = _port(clock, up_from=0.0)
    assert backoff.watch(16, answers, clock.nap, clock, down=True) is True
    assert probes == [0.0] and clock.now == 100


def test_watch_without_a_probe_only_naps_and_stops_when_told() -> None:
    clock = _Clock()
    assert backoff.watch(8, None, clock.nap, clock) is False
    assert clock.naps == [8]
    stops: list[float] = []
    assert backoff.watch(8, lambda: False, lambda s: stops.append(s) or True, clock) is False
    assert stops == [backoff.PROBE_EVERY]


def test_port_answers_is_a_bare_connection(tmp_path: Path) -> None:
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    assert backoff.port_answers("127.0.0.1", port) is True
    server.close()
    assert backoff.port_answers("127.0.0.1", port) is False


@pytest.mark.parametrize("code", sorted(backoff.WATCH_AFTER))
def test_the_netifd_wait_watches_after_an_outage_like_failure(code: str) -> None:
    from pppossh.run.netifd import _watch, probe_tool

    previous = {"last_error": {"code": code}}
    watch = _watch(previous, ["192.0.2.9"], 2222, 4.0)
    tool = probe_tool()
    down = code in ("CONNECT_REFUSED", "CONNECT_TIMEOUT", "NO_ROUTE")
    assert watch == ((tool, "192.0.2.9", 2222, down) if tool else None)


@pytest.mark.parametrize("previous,addresses,wait", [
    ({"last_error": {"code": "AUTH_FAILED"}}, ["192.0.2.9"], 4.0),  # the server answered
    ({"last_error": {"code": "HOSTKEY_MISMATCH"}}, ["192.0.2.9"], 4.0),
    ({}, ["192.0.2.9"], 4.0),
    ({"last_error": {"code": "CONNECT_REFUSED"}}, [], 4.0),  # nothing to probe
    ({"last_error": {"code": "CONNECT_REFUSED"}}, ["192.0.2.9"], 0.0),  # no wait at all
])
def test_the_netifd_wait_does_not_watch_otherwise(previous: dict, addresses: list[str],
                                                  wait: float) -> None:
    from pppossh.run.netifd import _watch

    assert _watch(previous, addresses, 22, wait) is None


# --- outcome -----------------------------------------------------------------------------------

WHO = {"iface": "vpn", "server": "192.0.2.2", "port": 2222, "user": "vpn"}

DBCLIENT_MISMATCH = (
    "/usr/bin/dbclient: Connection to vpn@192.0.2.2:2222 exited: \n\n"
    "ssh-ed25519 host key mismatch for 192.0.2.2 !\n"
    "Fingerprint is SHA256:5Qb0pLr7wB3xQ7wM1vL3Ih8yC3y1D5hF0v1kC8lS2aQ\n"
    "Expected SHA256:Jq8Yj3mH2a0Rk3c7n4e1b7Wl0oP2s9UuQ5rT6y8Z1xE\n"
    "If you know that the host key is correct you can\n"
    "remove the bad entry from ~/.ssh/known_hosts\n"
)


def classify(status, log, session=None):
    return outcome.classify(status, log, session_seconds=session, **WHO)


def test_dbclient_host_key_mismatch_blocks() -> None:
    """dbclient 'host key mismatch for ... !' -> HOSTKEY_MISMATCH, restart blocked, the
    fingerprints and the fix (pppossh trust) in the message."""
    result = classify(16, DBCLIENT_MISMATCH)
    assert result.code == "HOSTKEY_MISMATCH" and result.block
    assert "SHA256:5Qb0pLr7wB3xQ7wM1vL3Ih8yC3y1D5hF0v1kC8lS2aQ" in result.message
    assert "pppossh trust vpn" in result.message


def test_openssh_host_key_changed_blocks() -> None:
    log = ("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
           "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
           "Host key verification failed.\n")
    result = classify(16, log)
    assert result.code == "HOSTKEY_MISMATCH" and result.block


@pytest.mark.parametrize(
    "log",
    [
        "vpn@192.0.2.2: Permission denied (publickey).\n",
        "/usr/bin/dbclient: Connection to vpn@192.0.2.2:2222 exited: No auth methods could be"
        " used.\n",
    ],
)
def test_auth_failed_does_not_block(log: str) -> None:
    """OpenSSH 'Permission denied (publickey)' and dbclient 'No auth methods could be used.'
    -> AUTH_FAILED, retried (the key may be added on the server any time)."""
    result = classify(16, log)
    assert result.code == "AUTH_FAILED" and not result.block
    assert "vpn" in result.message


@pytest.mark.parametrize(
    "log",
    [
        "ssh: connect to host 192.0.2.2 port 2222: Connection refused\n",
        "/usr/bin/dbclient: Connection to vpn@192.0.2.2:2222 exited: Connect failed:"
        " Connection refused\n",
    ],
)
def test_connection_refused(log: str) -> None:
    result = classify(16, log)
    assert result.code == "CONNECT_REFUSED" and not result.block
    assert "2222" in result.message


def test_pppd_invalid_options_blocks() -> None:
    """pppd exit 2 (e.g. 2.4.9 refusing ipv6-up-script) -> INVALID_OPTIONS, blocked."""
    result = classify(2, "pppd: unrecognized option 'ipv6-up-script'\n")
    assert result.code == "INVALID_OPTIONS" and result.block
    assert "ipv6-up-script" in result.message


def test_retry_exit() -> None:
    """The back-off wait without a command exits 75 -> RETRY."""
    assert outcome.RETRY_EXIT == 75
    assert classify(75, "").code == "RETRY"


def test_stopped_on_request() -> None:
    assert classify(None, "").code == "STOPPED"


def test_lost_connection_after_session() -> None:
    """A link that was up and dropped without a known message -> CONNECTION_LOST, retried."""
    result = classify(16, "", session=120.0)
    assert result.code == "CONNECTION_LOST" and not result.block


def test_unknown_exit_named_after_pppd() -> None:
    """Other statuses are named after pppd's exit codes (pppd(8))."""
    result = classify(8, "")
    assert result.code == "CONNECT_FAILED" and not result.block
