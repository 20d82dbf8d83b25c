"""pppossh's ppp hooks run the way every pppd runs them, including through a file descriptor.

pppd up to 2.5.x runs ``ip-up-script`` by its path; ppp's master (commit 6a4944f, 2026-06)
opens the script and executes the descriptor, so the shell sees ``$0 = /dev/fd/N``.  The
launcher here does exactly that (``os.execve`` on an inheritable descriptor, i.e. fexecve),
with pppd's environment: nothing but its own variables and those set with ``set``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import GOLDEN, REPO, parse_ubus_log

from pppossh.log import capture as log_capture
from pppossh.run.ppphook import EVENTS
from pppossh.run.state import State

HOOKS = REPO / "pppossh" / "ppp"
UBUS_DOUBLE = REPO / "tests" / "netifd" / "ubus"
BUSYBOX = "/bin/busybox"

# Runs argv[1] through a file descriptor, as ppp's master does: $0 becomes /dev/fd/N.
FD_LAUNCHER = """
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.set_inheritable(fd, True)  # the kernel reopens /dev/fd/N for the interpreter
os.execve(fd, [sys.argv[1], *sys.argv[2:]], os.environ)
"""

PPP_ARGS = ["pppossh-vpn", "/dev/pts/3", "0", "10.99.0.1", "10.99.0.2", "vpn"]


def _recorder(tmp_path: Path, status: int = 0) -> Path:
    """A stand-in for the Python that runs pppossh: records its argv and its parent's."""
    script = tmp_path / "python-recorder"
    script.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$@\" > {tmp_path}/argv\n"
        f"tr '\\0' '\\n' < /proc/$PPID/cmdline > {tmp_path}/parent\n"
        f"exit {status}\n"
    )
    script.chmod(0o755)
    return script


def _fake_logger(tmp_path: Path) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    logger = bindir / "logger"
    logger.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {tmp_path}/syslog\n")
    logger.chmod(0o755)
    return bindir


def _run_through_fd(hook: Path, env: dict[str, str], *, shell: str | None = None,
                    args: list[str] = PPP_ARGS) -> subprocess.CompletedProcess[str]:
    """fexecve the hook (its #! line picks the shell), or ``shell /dev/fd/N`` if given."""
    if shell:
        fd = os.open(hook, os.O_RDONLY)
        try:
            return subprocess.run([shell, "sh", f"/dev/fd/{fd}", *args], env=env,
                                  pass_fds=(fd,), capture_output=True, text=True, timeout=60,
                                  check=False)
        finally:
            os.close(fd)
    return subprocess.run([sys.executable, "-c", FD_LAUNCHER, str(hook), *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("event", EVENTS)
def test_hook_names_its_event_when_run_through_a_descriptor(event: str, tmp_path: Path) -> None:
    """$0 is /dev/fd/N, yet the helper is told the right event and gets pppd's arguments."""
    env = {"PPPOSSH_PYTHON": str(_recorder(tmp_path)), "IFNAME": "pppossh-vpn"}
    result = _run_through_fd(HOOKS / event, env)
    assert result.returncode == 0, result.stderr
    parent = (tmp_path / "parent").read_text().splitlines()
    assert any(word.startswith("/dev/fd/") for word in parent), parent
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv == ["-P", "-m", "pppossh", "ppp-hook", event, *PPP_ARGS]


@pytest.mark.skipif(not os.access(BUSYBOX, os.X_OK), reason="needs busybox-static")
@pytest.mark.parametrize("event", EVENTS)
def test_hook_under_busybox_ash_through_a_descriptor(event: str, tmp_path: Path) -> None:
    """OpenWrt's /bin/sh is busybox ash."""
    env = {"PPPOSSH_PYTHON": str(_recorder(tmp_path))}
    result = _run_through_fd(HOOKS / event, env, shell=BUSYBOX)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "argv").read_text().splitlines()[3:5] == ["ppp-hook", event]


def test_hook_failure_reaches_syslog(tmp_path: Path) -> None:
    """pppd drops a hook's stderr: a helper that cannot run at all is reported to syslog.

    (Under busybox ash ``logger`` is always the applet, which writes to /dev/log itself; the
    busybox test above covers the hook's flow there, this one what it tells syslog.)"""
    bindir = _fake_logger(tmp_path)
    env = {"PPPOSSH_PYTHON": str(_recorder(tmp_path, status=3)), "PATH": f"{bindir}:/usr/bin:/bin"}
    result = _run_through_fd(HOOKS / "ip-up", env)
    assert result.returncode == 3
    logged = (tmp_path / "syslog").read_text()
    assert "-t\npppossh\n" in logged and "daemon.err" in logged
    assert "ppp hook ip-up for pppossh-vpn (vpn) failed with status 3" in logged


# --- netifd mode: the hooks are shell alone -----------------------------------------------------

NETIFD_DOUBLE = REPO / "tests" / "netifd"
NETIFD_ROUTES = ("10.20.0.0/16", "2001:db8:20::/48")


def _netifd_session(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A state dir as netifd setup leaves it, and pppd's script environment under netifd.

    PPPOSSH_PYTHON names a recorder: had a hook started Python, its argv file would exist.
    NETIFD_MAIN_DIR points the hook at the double of netifd-proto.sh (pppd passes no such
    variable: on a router the hook reads /lib/netifd/netifd-proto.sh).
    """
    import dataclasses

    from helpers import ed25519_key, setup_json, with_hostkey

    from pppossh.config import from_netifd_json
    from pppossh.run.ppphook import NETIFD_UPDATE, netifd_update_text

    config = from_netifd_json("vpn", with_hostkey(setup_json("01-ifup-vpn", "vpn"),
                                                  ed25519_key()))
    config = dataclasses.replace(config, route=NETIFD_ROUTES)
    rundir = tmp_path / "run"
    state = State(str(rundir), "vpn")
    state.update(mode="netifd", phase="connecting", up_since=None)
    state.path(NETIFD_UPDATE).write_text(netifd_update_text(config, "dbclient"))
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    shutil.copy(UBUS_DOUBLE, bindir / "ubus")
    (bindir / "ubus.log-path").write_text(str(tmp_path / "ubus.log"))
    _fake_logger(tmp_path)
    ppp = tmp_path / "ppp"
    for event in EVENTS:
        (ppp / f"{event}.d").mkdir(parents=True)
        script = ppp / f"{event}.d" / "50-record"
        script.write_text(f"#!/bin/sh\necho \"{event} $*\" >> {tmp_path}/scripts\n")
        script.chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "PPPOSSH_MODE": "netifd",
           "PPPOSSH_PYTHON": str(_recorder(tmp_path, status=9)),
           "PPPOSSH_RUNDIR": str(rundir), "NETIFD_MAIN_DIR": str(NETIFD_DOUBLE),
           "PPPOSSH_PPP_DIR": str(ppp), "IFNAME": "pppossh-vpn", "IPLOCAL": "10.99.0.1",
           "IPREMOTE": "10.99.0.2", "DNS1": "192.0.2.53", "DNS2": "192.0.2.53",
           "LLLOCAL": "fe80::1", "LLREMOTE": "fe80::2", "CONNECT_TIME": "12"}
    return rundir, env


def _last_update(tmp_path: Path) -> str:
    return parse_ubus_log((tmp_path / "ubus.log").read_text())[-1][-1]


SHELLS = ["fd", pytest.param(BUSYBOX, marks=pytest.mark.skipif(
    not os.access(BUSYBOX, os.X_OK), reason="needs busybox-static"))]


@pytest.mark.parametrize("shell", SHELLS)
def test_netifd_hooks_tell_netifd_without_python(shell: str, tmp_path: Path) -> None:
    """ip-up, ipv6-up and ip-down under netifd: the link update that OpenWrt's ppp-up sends,
    plus pppossh's data and routes, spelled as json_dump spells it; the state follows, the
    /etc/ppp/<event>.d scripts run, and no Python starts."""
    rundir, env = _netifd_session(tmp_path)
    run = (lambda event: _run_through_fd(HOOKS / event, env, shell=BUSYBOX)) \
        if shell == BUSYBOX else (lambda event: _run_through_fd(HOOKS / event, env))

    up = run("ip-up")
    assert up.returncode == 0, up.stderr
    assert _last_update(tmp_path) == (
        '{ "action": 0, "ifname": "pppossh-vpn", "link-up": true, "address-external": true,'
        ' "data": { "transport": "dbclient", "server": "vpn.example.net" }, "keep": true,'
        ' "ipaddr": [ { "ipaddr": "10.99.0.1", "mask": "32", "ptp": "10.99.0.2" } ],'
        ' "routes": [ { "target": "0.0.0.0", "netmask": "0", "gateway": "10.99.0.2" },'
        ' { "target": "10.20.0.0", "netmask": "16", "gateway": "10.99.0.2" } ],'
        ' "routes6": [ { "target": "2001:db8:20::", "netmask": "48" } ],'
        ' "dns": [ "192.0.2.53" ], "interface": "vpn" }')
    state = State(str(rundir), "vpn").load()
    assert state["phase"] == "up" and isinstance(state["up_since"], int)
    assert abs(state["up_since"] - time.time()) < 60
    assert (state["local"], state["remote"], state["dns"]) == ("10.99.0.1", "10.99.0.2",
                                                               ["192.0.2.53"])

    v6 = run("ipv6-up")
    assert v6.returncode == 0, v6.stderr
    assert _last_update(tmp_path) == (
        '{ "action": 0, "ifname": "pppossh-vpn", "link-up": true, "address-external": true,'
        ' "keep": true, "ip6addr": [ { "ipaddr": "fe80::1", "mask": "128" } ],'
        ' "interface": "vpn" }')
    assert State(str(rundir), "vpn").load()["local6"] == "fe80::1"

    down = run("ip-down")
    assert down.returncode == 0, down.stderr
    assert _last_update(tmp_path) == (
        '{ "action": 0, "ifname": "pppossh-vpn", "link-up": false, "keep": false,'
        ' "interface": "vpn" }')
    state = State(str(rundir), "vpn").load()
    assert state["phase"] == "connecting" and state["down_at"] >= state["up_since"]
    args = " ".join(PPP_ARGS)
    assert (tmp_path / "scripts").read_text().splitlines() == [
        f"ip-up {args}", f"ipv6-up {args}", f"ip-down {args}"]
    assert not (tmp_path / "argv").exists(), "a netifd-mode hook started Python"
    if shell != BUSYBOX:  # busybox's logger is its applet, which writes to /dev/log itself
        logged = (tmp_path / "syslog").read_text()
        assert "vpn: up, 10.99.0.1 -> 10.99.0.2 over pppossh-vpn" in logged
        assert "vpn: link down after 12 s" in logged


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("auto,body", [
    ("1", '{ "name": "vpn_6", "ifname": "@vpn", "proto": "dhcpv6" }'),
    ("nodns", '{ "name": "vpn_6", "ifname": "@vpn", "proto": "dhcpv6", "peerdns": false }'),
])
def test_ipv6_auto_adds_a_dhcpv6_interface_as_ppp6_up_does(shell: str, auto: str, body: str,
                                                           tmp_path: Path) -> None:
    """ipv6 'auto' (PPPOSSH_AUTOIPV6, set by pppd): after the link update, the hook asks
    netifd for <iface>_6 on the link with 'ubus call network add_dynamic', the call and the
    fields of OpenWrt's ppp6-up; without it, no such call."""
    _, env = _netifd_session(tmp_path)
    run = (lambda: _run_through_fd(HOOKS / "ipv6-up", env, shell=BUSYBOX)) \
        if shell == BUSYBOX else (lambda: _run_through_fd(HOOKS / "ipv6-up", env))
    assert run().returncode == 0
    assert not [c for c in parse_ubus_log((tmp_path / "ubus.log").read_text())
                if "add_dynamic" in c]
    env["PPPOSSH_AUTOIPV6"] = auto
    assert run().returncode == 0
    calls = parse_ubus_log((tmp_path / "ubus.log").read_text())
    assert calls[-1] == ["call", "network", "add_dynamic", body]
    assert json.loads(calls[-1][-1])["name"] == "vpn_6"


@pytest.mark.parametrize("shell", SHELLS)
def test_sshtun_ipv6_ends_reach_netifd(shell: str, tmp_path: Path) -> None:
    """sshtun with ip6addr: ip-up adds the router's IPv6 address with the link's prefix, and
    the IPv6 routes go via the server's address."""
    import dataclasses

    from helpers import ed25519_key, setup_json, with_hostkey

    from pppossh.config import from_netifd_json
    from pppossh.run.ppphook import NETIFD_UPDATE, netifd_update_text

    rundir, env = _netifd_session(tmp_path)
    config = from_netifd_json("vpn", with_hostkey(setup_json("01-ifup-vpn", "vpn"),
                                                  ed25519_key()))
    config = dataclasses.replace(config, proto="sshtun", route=NETIFD_ROUTES,
                                 ip6addr="2001:db8:64::2/64", peer6addr="2001:db8:64::1")
    State(str(rundir), "vpn").path(NETIFD_UPDATE).write_text(
        netifd_update_text(config, "openssh"))
    env.update(IFNAME="tun2", PPPOSSH_TUN="1")
    args = ["tun2", "", "0", "10.99.0.1", "10.99.0.2", "vpn"]
    up = (_run_through_fd(HOOKS / "ip-up", env, shell=BUSYBOX, args=args) if shell == BUSYBOX
          else _run_through_fd(HOOKS / "ip-up", env, args=args))
    assert up.returncode == 0, up.stderr
    update = json.loads(_last_update(tmp_path))
    assert update["ip6addr"] == [{"ipaddr": "2001:db8:64::2", "mask": "64"}]
    assert update["routes6"] == [{"target": "2001:db8:20::", "netmask": "48",
                                  "gateway": "2001:db8:64::1"}]


@pytest.mark.parametrize("shell", SHELLS)
def test_a_bridged_tap_joins_its_bridge_through_netifd(shell: str, tmp_path: Path) -> None:
    """sshtun, mode tap, bridge lan: ip-up reports the device with no address and no route,
    then asks netifd to add it to lan's bridge with the call and fields of OpenWrt's gretap
    ('network' option); ip-down takes it out again.  No /etc/ppp script runs (no PPP link)."""
    import dataclasses

    from helpers import ed25519_key, setup_json, with_hostkey

    from pppossh.config import from_netifd_json
    from pppossh.run.ppphook import NETIFD_UPDATE, netifd_update_text

    rundir, env = _netifd_session(tmp_path)
    config = from_netifd_json("vpn", with_hostkey(setup_json("01-ifup-vpn", "vpn"),
                                                  ed25519_key()))
    config = dataclasses.replace(config, proto="sshtun", mode="tap", bridge="lan")
    State(str(rundir), "vpn").path(NETIFD_UPDATE).write_text(
        netifd_update_text(config, "openssh"))
    for name in ("IPLOCAL", "IPREMOTE", "DNS1", "DNS2"):
        del env[name]
    env.update(IFNAME="tap2", PPPOSSH_TUN="1")
    args = ["tap2", "", "0", "", "", "vpn"]
    run = (lambda event: _run_through_fd(HOOKS / event, env, shell=BUSYBOX, args=args)) \
        if shell == BUSYBOX else (lambda event: _run_through_fd(HOOKS / event, env, args=args))
    up = run("ip-up")
    assert up.returncode == 0, up.stderr
    calls = parse_ubus_log((tmp_path / "ubus.log").read_text())
    assert calls[-2][-1] == (
        '{ "action": 0, "ifname": "tap2", "link-up": true, "address-external": true,'
        ' "data": { "transport": "openssh", "server": "vpn.example.net" }, "keep": true,'
        ' "interface": "vpn" }')
    assert calls[-1] == ["call", "network.interface.lan", "add_device",
                         '{ "name": "tap2", "link-ext": false }']
    down = run("ip-down")
    assert down.returncode == 0, down.stderr
    calls = parse_ubus_log((tmp_path / "ubus.log").read_text())
    assert calls[-1] == ["call", "network.interface.lan", "remove_device",
                         '{ "name": "tap2", "link-ext": false }']
    assert not (tmp_path / "scripts").exists()


def test_netifd_hook_reports_a_refused_update_and_goes_on(tmp_path: Path) -> None:
    """netifd refusing the update (an interface being torn down) is logged; the state and
    the scripts still follow the link."""
    rundir, env = _netifd_session(tmp_path)
    result = _run_through_fd(HOOKS / "ip-up", {**env, "UBUS_EXIT": "4"})
    assert result.returncode == 0, result.stderr
    assert "vpn: ip-up: netifd did not take the link update" in (tmp_path / "syslog").read_text()
    assert State(str(rundir), "vpn").load()["phase"] == "up"
    assert (tmp_path / "scripts").read_text().startswith("ip-up ")


@pytest.mark.parametrize("ipparam", ["", "../etc", "-x", ".hidden"])
def test_netifd_hook_refuses_a_bad_ipparam(ipparam: str, tmp_path: Path) -> None:
    """Without a plain interface name in ipparam the hook writes nothing and tells syslog."""
    rundir, env = _netifd_session(tmp_path)
    result = _run_through_fd(HOOKS / "ip-up", env, args=[*PPP_ARGS[:5], ipparam])
    assert result.returncode == 1
    assert "no interface name in ipparam" in (tmp_path / "syslog").read_text()
    assert not (tmp_path / "ubus.log").exists()
    assert State(str(rundir), "vpn").load()["phase"] == "connecting"


def _golden_updates() -> list[str]:
    calls = parse_ubus_log((GOLDEN / "ubus-calls.log").read_text())
    return [argv[-1] for argv in calls
            if "notify_proto" in argv and json.loads(argv[-1])["action"] == 0]


def _verbs(message: dict) -> str:
    """The netifd-proto.sh calls that make ``message``, as a shell script."""
    q = shlex.quote
    lines = [f"proto_init_update {q(message['ifname'])} {int(message['link-up'])}"
             + (f" {int(message['address-external'])}" if "address-external" in message else "")]
    if "data" in message:
        lines.append("proto_add_data")
        lines += [f"json_add_string {q(k)} {q(v)}" for k, v in message["data"].items()]
        lines.append("proto_close_data")
    lines.append(f"proto_set_keep {int(message['keep'])}")
    for a in message.get("ipaddr", []):
        lines.append(f"proto_add_ipv4_address {a['ipaddr']} {a.get('mask', '')} ''"
                     f" {a.get('ptp', '')}")
    for r in message.get("routes", []):
        lines.append(f"proto_add_ipv4_route {r['target']} {r['netmask']} {r.get('gateway', '')}")
    lines += [f"proto_add_dns_server {d}" for d in message.get("dns", [])]
    lines.append(f"proto_send_update {q(message['interface'])}")
    return "\n".join(lines)


@pytest.mark.skipif(not os.access(BUSYBOX, os.X_OK), reason="needs busybox-static")
def test_netifd_proto_double_spells_updates_as_the_real_library(tmp_path: Path) -> None:
    """The double of netifd-proto.sh gives, byte for byte, every link update recorded from the
    real library in golden/ubus-calls.log, so the hooks' messages above are the real ones."""
    golden = _golden_updates()
    assert golden, "golden/ubus-calls.log has no link update"
    for text in golden:
        script = f". {NETIFD_DOUBLE}/netifd-proto.sh\n{_verbs(json.loads(text))}\n"
        log = tmp_path / "ubus.log"
        log.unlink(missing_ok=True)
        env = {"PATH": f"{NETIFD_DOUBLE}:/usr/bin:/bin", "UBUS_LOG": str(log)}
        result = subprocess.run([BUSYBOX, "sh", "-c", script], env=env, capture_output=True,
                                text=True, timeout=30, check=False)
        assert result.returncode == 0, result.stderr
        assert parse_ubus_log(log.read_text())[-1][-1] == text


# --- the state the hooks leave -------------------------------------------------------------------


def test_state_reads_the_hooks_events_and_folds_them_once(tmp_path: Path) -> None:
    """Every load sees the events; an edit moves them into the JSON, and an event appended
    after that is read on top."""
    from pppossh.run.state import EVENTS_FILE

    state = State(str(tmp_path), "vpn")
    state.update(phase="connecting", failures=2)
    events = state.path(EVENTS_FILE)
    events.write_text("ip-up time=1700000000 local=10.99.0.1 remote=10.99.0.2 dns1= dns2=\n")
    assert state.load()["phase"] == "up" and state.load()["up_since"] == 1700000000
    state.update(failures=0)
    assert not events.exists()
    assert json.loads(state.file.read_text())["phase"] == "up"
    events.write_text("ip-down time=1700000100\n")
    loaded = state.load()
    assert (loaded["phase"], loaded["down_at"], loaded["failures"]) == ("connecting",
                                                                      1700000100, 0)


def test_state_keeps_the_events_of_an_edit_that_died(tmp_path: Path) -> None:
    """An edit that took the events aside and died before writing: the next edit folds
    them, then the new ones, in order."""
    from pppossh.run.state import EVENTS_FILE

    state = State(str(tmp_path), "vpn")
    state.update(phase="connecting")
    state.path(EVENTS_FILE + ".folding").write_text(
        "ip-up time=1700000000 local=10.99.0.1 remote=10.99.0.2 dns1= dns2=\n")
    state.path(EVENTS_FILE).write_text("ipv6-up local6=fe80::1 remote6=fe80::2\n")
    data = state.update(failures=0)
    assert (data["phase"], data["up_since"], data["local6"]) == ("up", 1700000000, "fe80::1")
    assert not state.path(EVENTS_FILE + ".folding").exists()
    assert not state.path(EVENTS_FILE).exists()


@pytest.mark.parametrize("line", [
    "ip-up time=$(reboot) local=;reboot remote=10.99.0.2/8 dns1=x",
    "garbage", "", "ip-up", "\x00\x01", "ip-down time=99999999999999999999",
])
def test_state_ignores_malformed_event_values(line: str, tmp_path: Path) -> None:
    """Only well-formed values from the events file reach the state."""
    from pppossh.run.state import EVENTS_FILE, link_event

    fields = link_event(line)
    assert fields.get("local", "") == "" and fields.get("remote", "") == ""
    assert fields.get("up_since") is None and fields.get("down_at") is None
    assert fields.get("dns", []) == []
    state = State(str(tmp_path), "vpn")
    state.update(phase="connecting")
    state.path(EVENTS_FILE).write_bytes(line.encode() + b"\n\xff\n")
    assert state.load()["phase"] in ("connecting", "up")


def test_python_hook_refuses_a_netifd_session(tmp_path: Path) -> None:
    """The Python hook is standalone's: pointed at a netifd session it changes nothing."""
    from pppossh.run import ppphook

    state = State(str(tmp_path), "vpn")
    state.update(mode="netifd", phase="connecting")
    with log_capture() as records:
        assert ppphook.handle("ip-up", PPP_ARGS, str(tmp_path)) == 1
    assert any("not a standalone session" in m for _, m in records)
    assert state.load()["phase"] == "connecting"


def test_helper_logs_the_reason_of_a_crash(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error inside the helper is logged (syslog on a router) with its reason."""
    from pppossh import cli, log

    rundir = tmp_path / "run"
    State(str(rundir), "vpn").update(mode="standalone", phase="connecting", routes=[])
    # the resolv file's place is taken by a directory: writing it fails
    (rundir / "resolv.conf.vpn").mkdir()
    monkeypatch.setenv("PPPOSSH_RUNDIR", str(rundir))
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    monkeypatch.setenv("DNS1", "192.0.2.53")
    with log.capture() as records:
        assert cli.main(["ppp-hook", "ip-up", *PPP_ARGS]) == 1
    failed = [message for level, message in records if level == log.ERROR]
    assert any("ppp hook ip-up for pppossh-vpn failed: IsADirectoryError" in m for m in failed)


def test_resolv_file_text_is_what_the_template_wrote() -> None:
    """Byte for byte what pppossh/templates/resolv.conf.j2 rendered before the client package
    dropped jinja2."""
    from pppossh.run.ppphook import resolv_text

    head = ("# DNS servers announced by the peer of pppossh interface vpn.\n"
            "# Point your resolver here (e.g. resolvconf or a symlink); pppossh rewrites it on"
            " every link-up.\n")
    assert resolv_text("vpn", ["192.0.2.53", "2001:db8::53"]) == (
        head + "nameserver 192.0.2.53\nnameserver 2001:db8::53\n")
    assert resolv_text("vpn", []) == head


STANDALONE_IP_UP = """
import sys
from pppossh.run import ppphook
assert ppphook.handle("ip-up", sys.argv[2:], sys.argv[1]) == 0
loaded = [name for name in ("jinja2", "logging") if name in sys.modules]
assert not loaded, loaded
"""


def test_standalone_ip_up_writes_resolv_without_jinja2_or_logging(tmp_path: Path) -> None:
    """The client package ships neither jinja2 nor python3-logging: the standalone ip-up,
    which writes the resolv file, must not import them."""
    rundir = tmp_path / "run"
    State(str(rundir), "vpn").update(mode="standalone", phase="connecting", routes=[],
                                     peerdns=True, dns_config=["192.0.2.54", "192.0.2.53"])
    (tmp_path / "ppp").mkdir()
    env = {"PATH": "/usr/bin:/bin", "PPPOSSH_NO_SYSLOG": "1", "PPPOSSH_PPP_DIR":
           str(tmp_path / "ppp"), "IPLOCAL": "10.99.0.1", "IPREMOTE": "10.99.0.2",
           "DNS1": "192.0.2.53"}
    result = subprocess.run([sys.executable, "-I", "-c", STANDALONE_IP_UP, str(rundir),
                             *PPP_ARGS], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    resolv = rundir / "resolv.conf.vpn"
    assert resolv.read_text().endswith("\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n")
    assert resolv.stat().st_mode & 0o777 == 0o644
    assert State(str(rundir), "vpn").load()["resolv"] == str(resolv)


def test_hooks_are_generated_one_per_event() -> None:
    """Real files, not links to one script: nothing depends on the name the hook runs under."""
    for event in EVENTS:
        path = HOOKS / event
        assert path.is_file() and not path.is_symlink()
        assert os.access(path, os.X_OK)
        assert f"ppp-hook {event} " in path.read_text()
