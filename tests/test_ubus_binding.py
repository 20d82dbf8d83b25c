"""The Python ``ubus`` binding path: its double, and the helper on it under the real hook.

The double (tests/doubles/ubus.py) replays the binding's C source (ubus_python.c) and the
field facts of issue 9: one connection per process, OSError when ubusd is not there, no
timeout unless one is passed (milliseconds), a SIGTERM handler that only sets a flag from
``connect`` on, and a wait inside C during which no Python signal handler runs.

On it, the real hook files/lib/netifd/proto/pppossh.sh (busybox ash, netifd's argv and
environment as in tests/test_hook_contract.py) and the helper send netifd the same messages
as through the ``ubus`` CLI double, and a helper waiting on a netifd that never answers ends
at once when the hook (or netifd) sends TERM.  Deviation from netifd's environment: PYTHONPATH
points at tests/doubles, where ``import ubus`` finds the double.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles.bus import Bus, install, ordered
from helpers import NETIFD, REPO, parse_ubus_log, setup_json

DOUBLES = REPO / "tests" / "doubles"
BUSYBOX = "/bin/busybox"
VENV_BIN = Path(sys.executable).parent
GOLDEN_ENV = dict(
    line.split("=", 1)
    for line in (NETIFD / "01-ifup-vpn" / "proto-task-env.txt").read_text().splitlines()
    if "=" in line
)


@pytest.fixture
def ubus_binding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    yield from install(tmp_path, monkeypatch)


def binding_env(tmp_path: Path, netifd: str = "answer") -> dict[str, str]:
    socket = tmp_path / "ubus.sock"
    socket.touch()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{DOUBLES}:{REPO}",
        "UBUS_DOUBLE_SOCKET": str(socket),
        "UBUS_DOUBLE_NETIFD": netifd,
        "UBUS_LOG": str(tmp_path / "ubus.log"),
    }


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def gone(pid: int) -> bool:
    """No such process, or a zombie nobody has reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def blocked_pids(log: Path) -> list[int]:
    """The processes whose call the double logged (the header names them)."""
    text = log.read_text() if log.exists() else ""
    return [int(p) for p in re.findall(r"python binding, pid (\d+),", text)]


# --- the double -------------------------------------------------------------------------------


def test_one_connection_per_process(ubus_binding: Bus) -> None:
    """ubus_python.c keeps the connection in module state."""
    import ubus

    assert ubus.connect() is True and ubus.get_connected() is True
    with pytest.raises(RuntimeError, match=r"^You are already connected to ubus\.$"):
        ubus.connect()
    assert ubus.call("network.interface", "notify_proto",
                     {"action": 4, "interface": "vpn"}) == []
    ubus.disconnect()
    with pytest.raises(RuntimeError, match=r"^You are not connected to ubus\.$"):
        ubus.disconnect()
    with pytest.raises(RuntimeError, match="not connected"):
        ubus.call("network.interface", "notify_proto", {})


def test_failed_connect_is_an_oserror(ubus_binding: Bus) -> None:
    import ubus

    ubus_binding.socket.unlink()
    with pytest.raises(OSError, match="Failed to connect to the ubus socket"):
        ubus.connect()
    assert ubus.get_connected() is False
    with pytest.raises(OSError):
        ubus.connect(socket_path=str(ubus_binding.socket.parent / "elsewhere"))


def test_call_arguments_as_the_binding_parses_them(ubus_binding: Bus) -> None:
    """``ssO|i``: object, method, arguments, timeout in ms (default 0: for ever)."""
    import ubus

    ubus.connect()
    message = {"action": 3, "error": ["X"], "interface": "vpn"}
    assert ubus.call(object="network.interface", method="notify_proto", arguments=message,
                     timeout=1000) == []
    with pytest.raises(TypeError, match="lower than 0"):
        ubus.call("network.interface", "notify_proto", message, timeout=-1)
    with pytest.raises(TypeError, match="interpreted as an integer"):
        ubus.call("network.interface", "notify_proto", message, timeout=1.5)
    with pytest.raises(RuntimeError, match=r"^Object 'network\.nope' was not found\.$"):
        ubus.call("network.nope", "notify_proto", message)
    ubus.disconnect()
    assert [ordered(argv[-1]) for argv in ubus_binding.calls()] == [ordered(json.dumps(message))]
    assert ubus_binding.headers()[0].endswith(", timeout 1000 ms)")


def test_connect_takes_over_sigterm(ubus_binding: Bus) -> None:
    """libubus/uloop's handler: a TERM after connect only sets a flag."""
    import ubus

    before = signal.getsignal(signal.SIGTERM)
    ubus.connect()
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler) and handler is not before
    os.kill(os.getpid(), signal.SIGTERM)
    wait_for(lambda: ubus._state["term_requested"], 5)
    ubus.disconnect()


RAW_CALL = """\
import signal, sys, ubus
ubus.connect()
if sys.argv[1] == "python-handler":
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(15))
print("connected", flush=True)
try:
    ubus.call("network.interface", "notify_proto", {"action": 4, "interface": "vpn"},
              **({"timeout": int(sys.argv[2])} if len(sys.argv) > 2 else {}))
except RuntimeError as exc:
    print(exc, flush=True)
    sys.exit(3)
"""


def test_a_raw_binding_call_outlives_term(tmp_path: Path) -> None:
    """What the field saw: connect, then call without a timeout, and netifd never answers:
    the process ignores TERM (uloop's flag) and waits for ever, until SIGKILL."""
    proc = subprocess.Popen([sys.executable, "-c", RAW_CALL, "as-is"], text=True,
                            env=binding_env(tmp_path, "silent"), stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "connected\n"
        wait_for(lambda: blocked_pids(tmp_path / "ubus.log"))
        proc.send_signal(signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=1.5)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_a_python_handler_runs_only_after_the_call(tmp_path: Path) -> None:
    """A Python TERM handler cannot interrupt the wait inside C: it runs when the call has
    timed out (here after 1.5 s), not when the TERM came."""
    proc = subprocess.Popen([sys.executable, "-c", RAW_CALL, "python-handler", "1500"],
                            text=True, env=binding_env(tmp_path, "silent"),
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == "connected\n"
    wait_for(lambda: blocked_pids(tmp_path / "ubus.log"))
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 15
    assert 0.8 < time.monotonic() - started < 5


# --- the helper on the binding ------------------------------------------------------------------

HELPER_CALL = """\
import sys, time
from pppossh.run import ubus
bus = ubus.Ubus(**({"timeout": float(sys.argv[1])} if sys.argv[1] else {}))
print(bus.backend, flush=True)
started = time.monotonic()
try:
    bus.notify(ubus.block_restart("vpn"))
except ubus.UbusError as exc:
    print(f"{time.monotonic() - started:.1f} {exc}", flush=True)
    sys.exit(1)
"""


def test_the_helper_ends_on_term_while_netifd_is_silent(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HELPER_CALL, ""], text=True,
                            env=binding_env(tmp_path, "silent"), stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "binding\n"
        wait_for(lambda: blocked_pids(tmp_path / "ubus.log") == [proc.pid])
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=2) == -signal.SIGTERM
        assert time.monotonic() - started < 2
    finally:
        proc.kill()
        proc.wait()
    header = (tmp_path / "ubus.log").read_text().splitlines()[0]
    assert header.endswith(", timeout 30000 ms)")  # the default bound: ubus call's 30 s


def test_the_helper_ends_by_itself_within_its_bound(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", HELPER_CALL, "1"], text=True, timeout=20,
                          env=binding_env(tmp_path, "silent"), capture_output=True, check=False)
    assert proc.returncode == 1, proc.stderr
    backend, result = proc.stdout.splitlines()
    seconds, _, message = result.partition(" ")
    assert backend == "binding" and 0.9 <= float(seconds) < 3
    assert "Request timed out" in message


# --- under the real hook ------------------------------------------------------------------------

needs_tools = pytest.mark.skipif(
    not (os.access(BUSYBOX, os.X_OK) and shutil.which("dropbearkey")),
    reason="needs busybox-static and dropbear-bin",
)


class Hook:
    """OpenWrt's layout in a directory, as tests/test_hook_contract.py builds it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.proto = root / "lib" / "netifd" / "proto"
        self.bin = root / "bin"
        self.log = root / "ubus.log"

    def reset(self) -> None:
        for name in ("lib", "bin", "run", "ubus.log", "ubus.sock"):
            path = self.root / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        self.proto.mkdir(parents=True)
        shutil.copy(REPO / "tests" / "netifd" / "netifd-proto.sh", self.proto.parent)
        shutil.copy(REPO / "files" / "lib" / "netifd" / "proto" / "pppossh.sh", self.proto)
        self.bin.mkdir()
        shutil.copy(REPO / "tests" / "netifd" / "ubus", self.bin / "ubus")
        (self.bin / "ubus").chmod(0o755)
        (self.bin / "ubus.log-path").write_text(f"{self.log}\n")
        (self.root / "ubus.sock").touch()

    def env(self, path: str, netifd: str = "answer", **extra: str) -> dict[str, str]:
        env = {
            "HOME": GOLDEN_ENV["HOME"],
            "PATH": ":".join([str(self.bin), str(VENV_BIN), GOLDEN_ENV["PATH"]]),
            "PPPOSSH_RUNDIR": str(self.root / "run"),
            "PPPOSSH_NO_SYSLOG": "1",
            "UBUS_LOG": str(self.log),
            **extra,
        }
        if path == "binding":
            env.update(PYTHONPATH=str(DOUBLES), UBUS_DOUBLE_SOCKET=str(self.root / "ubus.sock"),
                       UBUS_DOUBLE_NETIFD=netifd)
        return env

    def argv(self, *args: str) -> list[str]:
        return [BUSYBOX, "sh", "./pppossh.sh", *args]

    def run(self, path: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*args), cwd=self.proto, env=self.env(path, **extra),
                              capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def vpn_json(tmp_path_factory: pytest.TempPathFactory) -> str:
    """golden 01's vpn setup JSON with server 192.0.2.2, real identities and host key."""
    keydir = tmp_path_factory.mktemp("keys")
    identities = [str(keydir / "id_vpn"), str(keydir / "my key with space")]
    for path in [*identities, str(keydir / "host")]:
        subprocess.run(["dropbearkey", "-t", "ed25519", "-f", path], capture_output=True,
                       check=True, timeout=60)
    out = subprocess.run(["dropbearkey", "-y", "-f", str(keydir / "host")], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    hostkey = next(line for line in out.splitlines() if line.startswith("ssh-ed25519 "))
    golden = setup_json("01-ifup-vpn", "vpn")
    text = golden.replace('"server":"vpn.example.net"', '"server":"192.0.2.2"')
    text = text.replace('["/etc/dropbear/id_vpn","/etc/dropbear/my key with space"]',
                        json.dumps(identities, separators=(",", ":")))
    return text.replace(json.dumps(json.loads(golden)["hostkey"]), json.dumps(hostkey))


def comparable(argv: list[str]) -> object:
    """A logged message, keys in order; the random back-off wait of a proto task set aside."""
    message = json.loads(argv[-1])
    command = message.get("command", [])
    if command[3:4] == ["pppossh-wait"]:
        command[4] = "<wait>"
    return ordered(json.dumps(message))


@needs_tools
def test_the_hook_sends_the_same_messages_on_both_paths(tmp_path: Path, vpn_json: str) -> None:
    """setup, teardown after the task failed (ERROR=7), setup again (backing off, repeating
    the error), teardown after ifdown: actions 6 1 | 3 2 | 6 1 3 | 2 on either path."""
    hook = Hook(tmp_path / "router")
    results = {}
    for path in ("cli", "binding"):
        hook.reset()
        for args, extra in (
            (("pppossh", "setup", "vpn", vpn_json), {}),
            (("pppossh", "teardown", "vpn", vpn_json), {"ERROR": "7"}),
            (("pppossh", "setup", "vpn", vpn_json), {}),
            (("pppossh", "teardown", "vpn", vpn_json), {}),
        ):
            result = hook.run(path, *args, **extra)
            assert result.returncode == 0, (path, args, result.stderr)
        every = parse_ubus_log(hook.log.read_text())
        binding_calls = blocked_pids(hook.log)
        assert len(binding_calls) == (len(every) if path == "binding" else 0)
        # each setup asks for the interface dump first (its uplink choice): the same call on
        # both paths, but the binding must hand over an (empty) message where the CLI has none
        dumps = [argv[:3] for argv in every if "notify_proto" not in argv]
        assert dumps == [["call", "network.interface", "dump"]] * 2, (path, dumps)
        results[path] = [comparable(argv) for argv in every if "notify_proto" in argv]
    assert results["binding"] == results["cli"]
    actions = [dict((k, v) for k, v in m)["action"] for m in results["cli"]]  # type: ignore[misc]
    assert actions == [6, 1, 3, 2, 6, 1, 3, 2]


@needs_tools
@pytest.mark.parametrize("target", ["hook", "helper"])
def test_term_ends_a_setup_waiting_on_a_silent_netifd(
    tmp_path: Path, vpn_json: str, target: str
) -> None:
    """netifd aborts a setup by killing the hook's shell, which kills its helper; the helper
    waits inside the binding for an answer that never comes.  Both are gone at once."""
    hook = Hook(tmp_path / "router")
    hook.reset()
    proc = subprocess.Popen(hook.argv("pppossh", "setup", "vpn", vpn_json), cwd=hook.proto,
                            env=hook.env("binding", netifd="silent"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(blocked_pids(hook.log)) == 1)
        (helper,) = blocked_pids(hook.log)
        assert not gone(helper)
        time.sleep(0.2)  # well inside the call
        started = time.monotonic()
        os.kill(proc.pid if target == "hook" else helper, signal.SIGTERM)
        wait_for(lambda: gone(helper), timeout=2)
        assert proc.wait(timeout=2) == 0  # the hook's trap (hook) / its `wait` failing
        assert time.monotonic() - started < 2
    finally:
        proc.kill()
        proc.wait()
    calls = parse_ubus_log(hook.log.read_text())
    # the first call, the one that waited: the interface dump before the host dependency
    assert calls[0][:3] == ["call", "network.interface", "dump"], calls
