"""netifd setup when something other than the configuration fails (issue 10, item 7).

Once netifd has the proto task, nothing that fails afterwards may end in HELPER_FAILED plus
block_restart (a running pppd on an interface marked failed and never restarted).  Before
the task, an unexpected failure is told to netifd as HELPER_FAILED with what happened, and
block_restart; when even that cannot be told, the helper exits 1 and the hook tries itself.

The ubus calls fail through the CLI double (tests/netifd/ubus, UBUS_EXIT) behind a wrapper
that fails only chosen actions, through the binding double (tests/doubles/ubus.py) with a
netifd that never answers, and through an in-process sender that fails chosen actions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles.bus import Bus, install
from helpers import REPO, RecordingBus, parse_ubus_log
from test_hook_contract import Router, adapted_vpn_json, keys, router  # noqa: F401

from pppossh.run import netifd, ubus
from pppossh.run.state import State


class FlakyBus(RecordingBus):
    """A notify_proto sender that records every message and fails the chosen actions."""

    def __init__(self, fail: set[int]) -> None:
        super().__init__()
        self.fail = fail

    def notify(self, message: dict) -> None:
        super().notify(message)
        if message["action"] in self.fail:
            raise ubus.UbusError(f"ubus call failed for action {message['action']}")

    def actions(self) -> list[int]:
        return [m["action"] for m in self.sent]


def _after_a_failure(rundir: Path) -> None:
    """State as the teardown after a failed session leaves it: setup repeats the error."""
    State(str(rundir), "vpn").update(
        mode="netifd", phase="backoff", failures=1,
        last_error={"code": "OPEN_FAILED", "message": "pppd could not open", "time": 1.0})


@pytest.fixture
def config(keys, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    identities, hostkey = keys
    return adapted_vpn_json(identities, hostkey)


def test_failure_after_the_task_started_blocks_nothing(tmp_path: Path, config: str) -> None:
    """The repeated error (action 3, sent after action 1) fails: setup still ends 0, and sent
    no block_restart and no HELPER_FAILED; the state still says connecting."""
    _after_a_failure(tmp_path)
    bus = FlakyBus(fail={ubus.ERROR})
    assert netifd.setup("vpn", config, str(tmp_path), bus) == 0
    assert bus.actions()[-2:] == [ubus.RUN, ubus.ERROR]
    assert ubus.BLOCK_RESTART not in bus.actions()
    assert all("HELPER_FAILED" not in json.dumps(m) for m in bus.sent)
    assert State(str(tmp_path), "vpn").load()["phase"] == "connecting"
    assert State(str(tmp_path), "vpn").path(netifd.TASK_STARTED).exists()  # for the hook


def test_unexpected_error_before_the_task(tmp_path: Path, config: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug (any exception) before the task: HELPER_FAILED naming it, block_restart, exit 0,
    no task; the state says failed with the same message."""
    def boom(*args: object) -> list[str]:
        raise KeyError("boom")

    monkeypatch.setattr(netifd, "resolve", boom)
    bus = FlakyBus(fail=set())
    assert netifd.setup("vpn", config, str(tmp_path), bus) == 0
    assert bus.actions() == [ubus.ERROR, ubus.BLOCK_RESTART]
    code, message = bus.sent[0]["error"]
    assert code == "HELPER_FAILED" and "KeyError: 'boom'" in message and "ifup vpn" in message
    state = State(str(tmp_path), "vpn").load()
    assert state["phase"] == "failed" and state["last_error"]["code"] == "HELPER_FAILED"
    assert not State(str(tmp_path), "vpn").path(netifd.TASK_STARTED).exists()


def test_a_full_run_directory_has_its_own_code(tmp_path: Path, config: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """/var/run full (ENOSPC on the first file the setup writes): RUNDIR_UNWRITABLE, naming
    the file, the reason and what to do, and block_restart; no task."""
    import errno

    def full(state: State, plan: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(state.dir / "home"))

    monkeypatch.setattr(netifd, "prepare_state_dir", full)
    bus = FlakyBus(fail=set())
    assert netifd.setup("vpn", config, str(tmp_path / "run"), bus) == 0
    assert bus.actions()[-2:] == [ubus.ERROR, ubus.BLOCK_RESTART]
    assert ubus.RUN not in bus.actions()
    code, message = next(m for m in bus.sent if m["action"] == ubus.ERROR)["error"]
    assert code == "RUNDIR_UNWRITABLE"
    assert f"cannot write {tmp_path / 'run' / 'vpn' / 'home'} (No space left on device)" \
        in message
    assert f"df -h {tmp_path}" in message and message.endswith("then: ifup vpn")


def test_garbage_in_the_state_file_is_said_and_set_aside(tmp_path: Path, config: str,
                                                        capfd: pytest.CaptureFixture) -> None:
    """A state file that is not pppossh's JSON (a torn write, garbage): the setup says so once
    in the log, starts afresh and starts the task."""
    state = State(str(tmp_path), "vpn")
    state.dir.mkdir(parents=True)
    state.file.write_bytes(b"\x00\xffnot json{")
    bus = FlakyBus(fail=set())
    assert netifd.setup("vpn", config, str(tmp_path), bus) == 0
    assert ubus.RUN in bus.actions()
    assert capfd.readouterr().err.count("held no state pppossh wrote (garbage)") == 1
    assert state.load()["phase"] == "connecting"
    assert isinstance(json.loads(state.file.read_text()), dict)  # the garbage is gone
    fresh = State(str(tmp_path), "vpn")
    fresh.load()
    assert not fresh.garbage


def test_run_command_refused(tmp_path: Path, config: str) -> None:
    """netifd refuses the task itself: not started, so HELPER_FAILED and block_restart."""
    bus = FlakyBus(fail={ubus.RUN})
    assert netifd.setup("vpn", config, str(tmp_path), bus) == 0
    assert bus.actions()[-3:] == [ubus.RUN, ubus.ERROR, ubus.BLOCK_RESTART]
    assert "UbusError" in bus.sent[-2]["error"][1]


def test_nothing_reaches_netifd_exits_1(tmp_path: Path, config: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ubus call fails (the CLI double with UBUS_EXIT=1): no exception escapes, exit 1,
    so the hook reports HELPER_FAILED itself."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy(REPO / "tests" / "netifd" / "ubus", bindir / "ubus")
    (bindir / "ubus").chmod(0o755)
    monkeypatch.setenv("UBUS_LOG", str(tmp_path / "ubus.log"))
    monkeypatch.setenv("UBUS_EXIT", "1")
    monkeypatch.setenv("PPPOSSH_UBUS", "cli")
    monkeypatch.setenv("PATH", f"{bindir}:/usr/sbin:/usr/bin:/sbin:/bin")
    bus = ubus.Ubus()
    assert bus.backend == "cli"
    assert netifd.setup("vpn", config, str(tmp_path / "run"), bus) == 1
    calls = parse_ubus_log((tmp_path / "ubus.log").read_text())
    assert calls, "the CLI double was not called"


@pytest.fixture
def ubus_binding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    yield from install(tmp_path, monkeypatch)


def test_binding_netifd_silent(tmp_path: Path, config: str, ubus_binding: Bus) -> None:
    """The binding double with a netifd that never answers: bounded calls, no exception,
    exit 1."""
    ubus_binding.netifd("silent")
    bus = ubus.Ubus(timeout=0.3)
    assert bus.backend == "binding"
    assert netifd.setup("vpn", config, str(tmp_path / "run"), bus) == 1


def test_hook_after_start_failure_sends_no_block(router: Router, keys) -> None:  # noqa: F811
    """Through the real hook under busybox: ubus fails only for action 3 (the repeated error
    after action 1).  The hook must not send HELPER_FAILED and block_restart."""
    real = router.bin / "ubus.real"
    (router.bin / "ubus").rename(real)
    wrapper = router.bin / "ubus"
    wrapper.write_text(
        "#!/bin/sh\n"
        'eval "last=\\${$#}"\n'
        "case \"$last\" in *'\"action\": 3,'*) UBUS_EXIT=1; export UBUS_EXIT;; esac\n"
        f'exec {real} "$@"\n')
    wrapper.chmod(0o755)
    identities, hostkey = keys
    text = adapted_vpn_json(identities, hostkey)
    _after_a_failure(router.rundir)
    result = router.run("pppossh", "setup", "vpn", text)
    assert result.returncode == 0, result.stderr
    actions = [m["action"] for m in router.messages()]
    assert actions == [6, 1, 3], (actions, result.stderr)
    assert "HELPER_FAILED" not in router.log.read_text()


def test_setup_path_imports_stay_lean() -> None:
    """Every setup starts Python on the router: modules that only some setups need (names to
    resolve, a failure to back off from, fingerprints to show) are imported where used."""
    code = ("import sys, pppossh.cli, pppossh.run.netifd; print(' '.join(sorted("
            "{'shutil', 'tempfile', 'random', 'hashlib', 'socket', 'lzma'}"
            " & set(sys.modules))))")
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                         check=True, timeout=60, cwd=REPO)
    assert out.stdout.split() == []
