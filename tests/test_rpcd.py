"""The rpcd exec plugin for real: ``list`` and ``call`` as rpcd runs them.

rpcd starts ``/usr/libexec/rpcd/pppossh list`` once, reads the method signatures from the
JSON (argument types from the sample values), then runs ``... call <method>`` with the ubus
message on stdin for every ubus call LuCI makes.  ``tests/golden/rpcd/`` records what the
real rpcd and uhttpd do; here the plugin gets exactly those bytes (the stand-in's encoder is
checked byte for byte against the recordings first), and the stand-in server's JSON-RPC
answers are checked against the recorded ones.
"""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
import time
import types
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import dropbear_on_localhost, free_port, load_luci_server

from pppossh import rpcd
from pppossh.plan.knownhosts import fingerprint

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "files/usr/libexec/rpcd/pppossh"
GOLDEN = REPO / "tests/golden/rpcd"
METHODS = {"keygen", "pubkey", "fetch_hostkey", "pin_hostkey", "check", "status", "peer_list",
           "peer_add", "peer_del", "peer_apply"}
NETWORK = "config interface 'vpn'\n\toption proto 'pppossh'\n\toption server '{server}'\n" \
          "\toption port '{port}'\n\toption sshuser 'vpn'\n\toption ssh_client 'dbclient'\n" \
          "\toption connect_timeout '5'\n"


stand_in = load_luci_server()


def golden(number: int) -> dict[str, Any]:
    return json.loads(next(GOLDEN.glob(f"{number:02d}-*.json")).read_text())


def golden_call(number: int) -> tuple[str, str, str, dict[str, Any]]:
    """(session, object, method, args) of a recorded JSON-RPC call."""
    session, obj, method, args = json.loads(golden(number)["request"]["body"])["params"]
    return session, obj, method, args


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    confdir = tmp_path / "config"
    confdir.mkdir()
    (confdir / "network").write_text(NETWORK.format(server="127.0.0.1", port=free_port()))
    (confdir / "pppossh").write_text(
        f"config server 'server'\n\toption authorized_keys '{tmp_path / 'authorized_keys'}'\n"
        "\tlist dns '192.0.2.53'\n")
    return {"confdir": confdir, "rundir": tmp_path / "run", "keydir": tmp_path / "keys"}


@pytest.fixture
def env(dirs: dict[str, Path]) -> dict[str, str]:
    """rpcd's environment (golden 10: PATH only) and the test's directories."""
    return stand_in.Backend(dirs["confdir"], dirs["rundir"], dirs["keydir"]).env()


def call(env: dict[str, str], method: str, args: object, session: str | None = None) -> dict:
    """Run the plugin as rpcd does: cwd /, stdin the message (plus ubus_rpc_session)."""
    if isinstance(args, dict):
        stdin = stand_in.plugin_stdin(args, session)
    else:
        stdin = args.encode() if isinstance(args, str) else args
    out = subprocess.run([sys.executable, str(PLUGIN), "call", method], input=stdin,
                         capture_output=True, env=env, cwd="/", check=True, timeout=60)
    return json.loads(out.stdout)


# -- list ---------------------------------------------------------------------------------------


def test_list_is_an_rpcd_signature() -> None:
    out = subprocess.run([sys.executable, str(PLUGIN), "list"], capture_output=True, text=True,
                         check=True, stdin=subprocess.DEVNULL, cwd="/")
    sig = json.loads(out.stdout)
    assert set(sig) == METHODS
    for method, args in sig.items():
        assert isinstance(args, dict), method
        for name, sample in args.items():
            # rpcd reads an int sample of 8, 16 or 64 as a width (golden 00): none here
            assert isinstance(sample, str | bool | list), (method, name)
    assert sig["keygen"] == {"interface": "vpn", "force": False, "shared": False}
    assert acl_methods() == METHODS


def acl_methods() -> set[str]:
    acl = json.loads((REPO / "luci-app/root/usr/share/rpcd/acl.d/luci-app-pppossh.json")
                     .read_text())["luci-app-pppossh"]
    return set(acl["read"]["ubus"]["pppossh"]) | set(acl["write"]["ubus"]["pppossh"])


# -- the stand-in hands the plugin the recorded bytes --------------------------------------------


@pytest.mark.parametrize("number", [10, 11, 12, 14, 15, 16, 17, 18, 19, 44])
def test_stdin_is_the_recorded_bytes(number: int) -> None:
    """uhttpd's args plus ubus_rpc_session, as blobmsg prints them, byte for byte."""
    session, _obj, _method, args = golden_call(number)
    (received,) = golden(number)["plugin_received"]
    assert stand_in.plugin_stdin(args, session) == received["stdin_text"].encode()
    assert len(stand_in.plugin_stdin(args, session)) == received["stdin_len"]


@pytest.mark.parametrize("number", [40, 43])
def test_batch_stdin_is_the_recorded_bytes(number: int) -> None:
    frames = json.loads(golden(number)["request"]["body"])
    recorder = [f["params"] for f in frames if f["params"][1] == "recorder"
                and f["params"][2] != "denied"]
    received = golden(number)["plugin_received"]
    assert [stand_in.plugin_stdin(p[3], p[0]) for p in recorder] == [
        r["stdin_text"].encode() for r in received]


def test_cli_stdin_has_no_session_key() -> None:
    """Through the ubus CLI no session is added, and no message gives {} (golden 81)."""
    (received,) = golden(81)["plugin_received"]
    assert stand_in.plugin_stdin({}, None) == received["stdin_text"].encode() == b"{}"


def test_recorded_plugin_environment_is_what_the_stand_in_gives() -> None:
    (received,) = golden(10)["plugin_received"]
    assert received["cwd"] == "/"
    assert received["env"] == {"PATH": stand_in.RPCD_PATH}
    assert received["argv"][1:] == ["call", "echo"]
    assert int(received["umask"], 8) == stand_in.RPCD_UMASK
    assert set(received["fds_at_start"]) == {"0", "1", "2"}


# -- the stand-in's rpcd turns plugin output into the recorded replies --------------------------


def fake(mode: str) -> Any:
    return stand_in.Plugin("pppossh", [sys.executable, str(stand_in.FAKE_PLUGIN), mode],
                           {"PATH": stand_in.RPCD_PATH})


@pytest.mark.parametrize("mode,number,reply", [
    ("silent", 31, [5]), ("garbage", 32, [2]), ("array", 34, [2])])
def test_plugin_failures_give_the_recorded_status(mode: str, number: int,
                                                  reply: list[Any]) -> None:
    assert golden(number)["response"]["json"]["result"] == reply
    run = stand_in.run_plugin(fake(mode), "status", b"{}", timeout=30)
    assert run.reply == reply


def test_exit_status_and_stderr_are_ignored() -> None:
    """golden 30, 35: one JSON object wins whatever the exit status and stderr."""
    assert stand_in.ubus_reply(b'{"printed":"x"}\n') == [0, {"printed": "x"}]
    assert golden(30)["response"]["json"]["result"][0] == 0
    assert golden(35)["response"]["json"]["result"][0] == 0


def test_a_slow_plugin_is_killed_at_the_timeout() -> None:
    """golden 36: SIGKILL at rpcd's -t, and [5] (here a 2 s timeout for a 40 s plugin)."""
    assert golden(36)["response"]["json"]["result"] == [5]
    run = stand_in.run_plugin(fake("slow"), "status", b"{}", timeout=2)
    assert run.killed and run.returncode == -signal.SIGKILL
    assert 2 <= run.seconds < 4
    assert run.reply == [5]


def test_the_plugin_receives_exactly_the_bytes() -> None:
    session, _obj, _method, args = golden_call(19)
    run = stand_in.run_plugin(fake("stdin"), "status", stand_in.plugin_stdin(args, session),
                              timeout=30)
    (received,) = golden(19)["plugin_received"]
    assert run.reply == [0, {"stdin": received["stdin_text"]}]


# -- the stand-in's uhttpd answers as recorded --------------------------------------------------


@pytest.fixture
def server(dirs: dict[str, Path]) -> Iterator[Any]:
    backend = stand_in.Backend(dirs["confdir"], dirs["rundir"], dirs["keydir"])
    luci = stand_in.LuciServer(backend)
    luci.start()
    try:
        yield luci
    finally:
        luci.stop()


def post(server: Any, body: bytes | str, path: str = "/ubus") -> tuple[int, bytes]:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(server.url(path), data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def frame(server: Any, method: str, args: dict[str, Any], session: str | None = None,
          obj: str = "pppossh", ident: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": ident, "method": "call",
            "params": [session or server.session, obj, method, args]}


def test_rpc_answers_like_uhttpd(server: Any) -> None:
    status, body = post(server, json.dumps(frame(server, "peer_list", {})))
    assert status == 200
    assert body == b'{"jsonrpc":"2.0","id":1,"result":[0,{"peers":[]}]}'
    (run,) = server.calls
    assert run["stdin"] == f'{{"ubus_rpc_session":"{server.session}"}}'  # golden 11

    # golden 13: params without the args element
    bad = frame(server, "peer_list", {})
    bad["params"] = bad["params"][:3]
    assert json.loads(post(server, json.dumps(bad))[1]) == golden(13)["response"]["json"]
    # golden 20: the client may not send ubus_rpc_session
    own = frame(server, "peer_list", {"ubus_rpc_session": server.session})
    assert json.loads(post(server, json.dumps(own))[1]) == golden(20)["response"]["json"]
    # golden 22: an unknown object
    assert json.loads(post(server, json.dumps(frame(server, "x", {}, obj="nosuchobject")))[1]) \
        == golden(22)["response"]["json"]
    # golden 23, 50, 51: not granted, the null session, an unknown session
    denied = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32002, "message": "Access denied"}}
    assert golden(23)["response"]["json"] == denied
    readonly = server.session_names["readonly"]
    for session in (readonly, "0" * 32, "f" * 32):
        reply = json.loads(post(server, json.dumps(frame(server, "keygen", {"interface": "vpn"},
                                                         session=session)))[1])
        assert reply == denied, session
    # golden 42: not JSON
    assert json.loads(post(server, "{not json")[1]) == golden(42)["response"]["json"]
    # golden 45: the suffixed batch URL
    assert post(server, "[]", "/ubus//pppossh.peer_list")[0] == 404
    # refused calls ran nothing
    assert len(server.calls) == 1


def test_a_method_the_plugin_does_not_list(server: Any) -> None:
    """golden 21: granted but not in the plugin's list gives [3] and no run."""
    server.sessions[server.session].ubus["pppossh"].add("nosuchmethod")
    reply = json.loads(post(server, json.dumps(frame(server, "nosuchmethod", {})))[1])
    assert reply["result"] == golden(21)["response"]["json"]["result"] == [3]
    assert server.calls == []


def test_batches_like_luci_queue(server: Any) -> None:
    """golden 43: LuCI posts queued calls as one array to /ubus/, answered in order."""
    frames = [frame(server, "peer_list", {}, ident=7),
              frame(server, "keygen", {"interface": "vpn"}, session="0" * 32, ident=8),
              frame(server, "status", {"interface": "vpn"}, ident=9)]
    status, body = post(server, json.dumps(frames), "/ubus/?1712345678")
    replies = json.loads(body)
    assert status == 200 and [r["id"] for r in replies] == [7, 8, 9]
    assert replies[0]["result"] == [0, {"peers": []}]
    assert replies[1]["error"]["code"] == -32002
    assert replies[2]["result"][1]["interface"] == "vpn"


def test_replies_are_printed_like_blobmsg() -> None:
    """golden 17, 19: six-decimal doubles, raw UTF-8, escaped control characters."""
    printed = stand_in.blobmsg_json({"dbl": 1.5, "s": "é/\u0001"})
    assert printed == '{"dbl":1.500000,"s":"é/\\u0001"}'
    assert golden(17)["response"]["body"].find('"dbl":1.500000') > 0


# -- the real plugin takes what the real rpcd gives it ------------------------------------------


@pytest.fixture
def dropbear(tmp_path: Path, dirs: dict[str, Path]) -> Iterator[str]:
    """A dropbear on 127.0.0.1 for the network methods, named in network.vpn; its key."""
    if not shutil.which("dropbear") or not shutil.which("dropbearkey"):
        pytest.skip("dropbear-bin is not installed")
    with dropbear_on_localhost(tmp_path) as (port, line):
        (dirs["confdir"] / "network").write_text(NETWORK.format(server="127.0.0.1", port=port))
        yield line


def test_every_luci_call_as_recorded_gets_an_answer(env: dict[str, str], dirs: dict[str, Path],
                                                    dropbear: str) -> None:
    """golden 60-70: LuCI's exact calls, ubus_rpc_session and all, each answered within a
    second or two (check starts in the background and comes back at once)."""
    replies: dict[int, dict[str, Any]] = {}
    for number in range(60, 71):
        session, _obj, method, args = golden_call(number)
        if method == "pin_hostkey":
            args = {**args, "fingerprint": fingerprint(dropbear)}  # the recording's is made up
        started = time.monotonic()
        replies[number] = call(env, method, args, session)
        took = time.monotonic() - started
        assert "error" not in replies[number], (number, replies[number])
        assert took < (8 if method in ("fetch_hostkey", "pin_hostkey") else 3), (number, took)
    assert replies[60]["interface"] == "vpn" and replies[60]["up"] is False
    assert replies[61]["public"].startswith("ssh-ed25519 ") and replies[61]["created"]
    assert replies[62]["public"] == replies[61]["public"]
    assert replies[63]["fingerprint"] == fingerprint(dropbear)
    assert replies[63]["matches"] is False and replies[63]["type"] == "ssh-ed25519"
    assert replies[64] == {"pinned": True, "key": dropbear, "type": "ssh-ed25519",
                           "fingerprint": fingerprint(dropbear)}
    assert replies[65]["running"] is True and replies[65]["pid"] > 0
    assert "steps" in replies[66]
    assert replies[67] == {"peers": []}
    assert replies[68]["peer"]["name"] == "branch-1"
    assert replies[69] == {"removed": "branch-1"}
    assert set(replies[70]) == {"authorized_keys", "changed", "peers", "notes"}
    # the golden pin (a made-up fingerprint) is refused for what it is, not for the session
    session, _obj, _method, args = golden_call(64)
    refused = call(env, "pin_hostkey", args, session)
    assert refused["error"] != "INVALID_ARGUMENT", refused
    _wait_for_check(env, session)


def _wait_for_check(env: dict[str, str], session: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        progress = call(env, "check", {"interface": "vpn", "start": False}, session)
        if not progress.get("running"):
            return progress
        time.sleep(0.3)
    raise AssertionError("the background check did not end")


def test_the_recording_of_the_old_plugin_is_what_this_fixes() -> None:
    for number in range(60, 71):
        result = golden(number)["response"]["json"]["result"]
        assert result[1]["message"].endswith("takes no argument 'ubus_rpc_session'")


def test_check_runs_in_the_background_without_holding_rpcd(env: dict[str, str],
                                                          dirs: dict[str, Path]) -> None:
    """golden 37: rpcd answers at EOF of stdout and stderr; the check's child must not hold
    them, so the stand-in's rpcd answers at once although the check goes on."""
    plugin = stand_in.Backend(dirs["confdir"], dirs["rundir"], dirs["keydir"]).plugin()
    session, _obj, method, args = golden_call(65)
    run = stand_in.run_plugin(plugin, method, stand_in.plugin_stdin(args, session), timeout=30)
    assert not run.killed and run.seconds < 3, run
    assert run.reply[0] == 0 and run.reply[1]["running"] is True
    _wait_for_check(env, session)


def test_cli_calls_without_session(env: dict[str, str]) -> None:
    """golden 83, 84: the ubus CLI sends no session key, or no message at all."""
    assert call(env, "peer_list", b"{}") == {"peers": []}
    assert call(env, "status", {"interface": "vpn"})["phase"] == "down"


def test_keygen_pubkey_status(env: dict[str, str], dirs: dict[str, Path]) -> None:
    made = call(env, "keygen", {"interface": "vpn"}, "1" * 32)
    assert made["created"] and made["path"] == str(dirs["keydir"] / "vpn")
    assert made["public"].startswith("ssh-ed25519 ")
    again = call(env, "keygen", {"interface": "vpn"}, "1" * 32)
    assert again["error"] == "KEY_EXISTS"
    assert call(env, "pubkey", {"interface": "vpn"})["public"] == made["public"]
    status = call(env, "status", {"interface": "vpn"})
    assert status["interface"] == "vpn" and status["up"] is False
    assert made["path"] in (dirs["confdir"] / "network").read_text()


def test_peers(env: dict[str, str], dirs: dict[str, Path]) -> None:
    key = call(env, "keygen", {"interface": "vpn"})["public"]
    added = call(env, "peer_add", {"name": "branch-1", "key": key, "routes": ["192.168.10.0/24"]},
                 "1" * 32)
    assert added["peer"]["peeraddr"] == "10.64.0.2"
    listed = call(env, "peer_list", {}, "1" * 32)["peers"]
    assert [p["name"] for p in listed] == ["branch-1"]
    assert listed[0]["fingerprint"].startswith("SHA256:")
    applied = call(env, "peer_apply", {}, "1" * 32)
    authorized = dirs["confdir"].parent / "authorized_keys"
    assert applied["changed"] and "pppossh-peer-branch-1" in authorized.read_text()
    assert call(env, "peer_del", {"name": "branch-1"}, "1" * 32) == {"removed": "branch-1"}
    assert call(env, "peer_list", {}) == {"peers": []}


# -- arguments: the decision on unknown keys, wrong types, null ---------------------------------


def test_undeclared_keys_are_ignored_and_never_used(env: dict[str, str],
                                                    dirs: dict[str, Path]) -> None:
    """rpcd passes undeclared keys through (golden 14, 82): the plugin ignores them, the
    way a C ubus method ignores attributes outside its policy."""
    made = call(env, "keygen", {"interface": "vpn", "path": "/etc/shadow", "extra": {"x": [1]},
                                "force": False}, "1" * 32)
    assert made["created"] and made["path"] == str(dirs["keydir"] / "vpn")
    listed = call(env, "peer_list", {"name": "ignored", "verbose": True}, "1" * 32)
    assert listed == {"peers": []}


def test_null_counts_as_not_given(env: dict[str, str]) -> None:
    assert call(env, "keygen", {"interface": "vpn", "force": None})["created"]
    refused = call(env, "status", {"interface": None})
    assert refused["error"] == "INVALID_ARGUMENT"
    assert refused["values"] == {"argument": "interface", "expected": "string"}


@pytest.mark.parametrize("method,args,argument,expected", [
    # golden 15, 16: rpcd passes wrong types through
    ("keygen", {"interface": "vpn", "force": "yes"}, "force", "boolean"),
    ("keygen", {"interface": "vpn", "force": 1}, "force", "boolean"),
    ("status", {"interface": 123}, "interface", "string"),
    ("status", {"interface": ["vpn"]}, "interface", "string"),
    ("check", {"interface": "vpn", "start": "true"}, "start", "boolean"),
    ("peer_add", {"name": "x", "key": "ssh-ed25519 AAAA", "routes": "10.0.0.0/8"}, "routes",
     "array"),
    ("peer_add", {"name": "x", "key": {"k": 1}}, "key", "string"),
    ("peer_del", {"name": 1.5}, "name", "string"),
])
def test_wrong_types_are_refused_clearly(env: dict[str, str], dirs: dict[str, Path], method: str,
                                         args: dict[str, Any], argument: str,
                                         expected: str) -> None:
    reply = call(env, method, args, "1" * 32)
    assert reply["error"] == "INVALID_ARGUMENT"
    assert reply["values"] == {"argument": argument, "expected": expected}
    assert argument in reply["message"] and expected in reply["message"]
    assert not dirs["keydir"].exists()


HOSTILE = [
    ("keygen", {"interface": "vpn;touch /tmp/pwned"}, "INVALID_ARGUMENT"),
    ("keygen", {"interface": "$(reboot)"}, "INVALID_ARGUMENT"),
    ("keygen", {"interface": "../../etc"}, "INVALID_ARGUMENT"),
    ("keygen", {"interface": "vpn", "force": "yes"}, "INVALID_ARGUMENT"),
    ("keygen", {}, "INVALID_ARGUMENT"),
    ("keygen", "not json", "INVALID_ARGUMENT"),
    ("keygen", "[1, 2]", "INVALID_ARGUMENT"),
    ("keygen", b"\xff\xfe", "INVALID_ARGUMENT"),
    ("keygen", "", "INVALID_ARGUMENT"),
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
def test_hostile_arguments_are_refused(env: dict[str, str], dirs: dict[str, Path], method: str,
                                       args: object, code: str) -> None:
    before = (dirs["confdir"] / "network").read_text()
    assert call(env, method, args, "1" * 32)["error"] == code
    assert not dirs["keydir"].exists(), "a refused call made a key"
    assert (dirs["confdir"] / "network").read_text() == before
    assert "peer" not in (dirs["confdir"] / "pppossh").read_text()


# -- always one JSON object, always in time ------------------------------------------------------


def test_an_unexpected_exception_is_one_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(a: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(rpcd.METHODS, "status", broken)
    reply = rpcd.call("status", b'{"interface":"vpn","ubus_rpc_session":"x"}')
    assert reply == {"error": "INTERNAL_ERROR", "message": "disk on fire",
                     "values": {"exception": "RuntimeError"}}


def test_a_reply_that_cannot_be_encoded_is_still_an_object() -> None:
    assert json.loads(rpcd.encode({"x": float("nan")}))["error"] == "INTERNAL_ERROR"
    assert json.loads(rpcd.encode(["not", "an", "object"]))["error"] == "INTERNAL_ERROR"
    assert json.loads(rpcd.encode({"path": Path("/x")})) == {"path": "/x"}


def test_a_method_that_overruns_answers_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    def stuck(a: dict[str, Any]) -> dict[str, Any]:
        # a child that would outlive the deadline is killed on the way out
        subprocess.run(["sleep", "30"], check=False)
        return {}

    monkeypatch.setitem(rpcd.METHODS, "status", stuck)
    started = time.monotonic()
    reply = rpcd.call("status", '{"interface":"vpn"}', deadline=0.5)
    assert time.monotonic() - started < 3
    assert reply["error"] == "TIMEOUT" and reply["values"] == {"seconds": 0}
    assert rpcd.DEADLINE < 20 and rpcd.RPC_BUDGET < rpcd.DEADLINE  # LuCI waits 20 s, rpcd 30


def test_a_broken_stdin_is_one_json_object(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    class Broken(io.TextIOWrapper):
        @property
        def buffer(self) -> Any:
            raise OSError("stdin is gone")

    monkeypatch.setattr(sys, "stdin", Broken(io.BytesIO()))
    assert rpcd.main(["call", "status"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out)["error"] == "INTERNAL_ERROR"


def test_a_broken_install_still_answers(env: dict[str, str]) -> None:
    """Without the package (python -S: no site-packages, no .pth) the launcher prints one
    JSON object for a call."""
    out = subprocess.run([sys.executable, "-S", str(PLUGIN), "call", "status"], input=b"{}",
                         capture_output=True, env=env, cwd="/", timeout=30, check=False)
    assert json.loads(out.stdout)["error"] == "NOT_INSTALLED"


def test_the_check_child_is_an_isolated_python(monkeypatch: pytest.MonkeyPatch,
                                               dirs: dict[str, Path]) -> None:
    """issue 10: -I (no PYTHONPATH, no cwd or script directory on sys.path), cwd /, and no
    descriptor of rpcd's kept."""
    seen: dict[str, Any] = {}
    real = subprocess.Popen

    def spy(argv: list[str], **kwargs: Any) -> Any:
        if argv[:2] != [sys.executable, "-I"]:
            return real(argv, **kwargs)
        seen.update(argv=argv, **kwargs)
        return types.SimpleNamespace(pid=4242)

    for name, value in stand_in.Backend(dirs["confdir"], dirs["rundir"],
                                        dirs["keydir"]).env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(subprocess, "Popen", spy)
    reply = rpcd.check({"interface": "vpn", "start": True})
    assert reply["pid"] == 4242
    assert seen["argv"][:4] == [sys.executable, "-I", "-m", "pppossh"]
    assert seen["cwd"] == "/" and seen["start_new_session"] is True
    for stream in ("stdin", "stdout", "stderr"):
        assert seen[stream] == subprocess.DEVNULL
    # and that Python finds the package from /, isolated
    monkeypatch.undo()
    out = subprocess.run([sys.executable, "-I", "-c", "import pppossh.rpcd"], cwd="/",
                         env={"PATH": stand_in.RPCD_PATH}, check=False)
    assert out.returncode == 0
