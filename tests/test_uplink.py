"""Following a better uplink (issue 13, scenario 7): the choice, the check, the hotplug script.

The interface dump is netifd's (``golden/netifd/01-ifup-vpn/network.interface-dump.json``);
the two-uplink dumps below are made of its entries, with the ``route`` entries in the form the
same file shows for ``vpn2`` (target, mask, nexthop; a metric only when the route has its own).
The end-to-end proof is the test bed's ``uplink_change`` scenario.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import REPO, RecordingBus, parse_ubus_log
from test_hook_contract import adapted_vpn_json, keys  # noqa: F401

from pppossh.run import netifd, uplink
from pppossh.run.standalone import Supervisor
from pppossh.run.state import State

GOLDEN_DUMP = REPO / "tests/golden/netifd/01-ifup-vpn/network.interface-dump.json"
BUSYBOX = "/bin/busybox"
HOTPLUG = REPO / "files/etc/hotplug.d/iface/95-pppossh"
SERVER = "203.0.113.1"

IPROUTE2 = """\
default via 192.0.2.2 dev up0 metric 20
default via 10.200.0.2 dev up1 proto static metric 10 onlink
0.0.0.0/1 dev pppossh-vpn2 scope link
128.0.0.0/1 dev pppossh-vpn2 scope link
10.200.0.0/24 dev up1 proto kernel scope link src 10.200.0.1
192.0.2.0/24 dev up0 proto kernel scope link src 192.0.2.1
203.0.113.1 via 192.0.2.2 dev up0
unreachable 203.0.113.0/24 metric 5
"""
# busybox ip prints the same fields, without iproute2's later additions
BUSYBOX_IP = """\
default via 192.0.2.2 dev up0  metric 20
203.0.113.0/28 via 10.200.0.2 dev up1  metric 30 linkdown
192.0.2.0/24 dev up0 scope link  src 192.0.2.1
"""


def _entry(name: str, device: str, metric: int, gateway: str, address: str,
           proto: str = "static", up: bool = True) -> dict:
    """An uplink as the dump shows one: the golden ``demo`` entry, renamed and routed."""
    entry = copy.deepcopy(json.loads(GOLDEN_DUMP.read_text())["interface"][0])
    entry.update({"interface": name, "l3_device": device, "device": device, "metric": metric,
                  "proto": proto, "up": up,
                  "ipv4-address": [{"address": address, "mask": 24}],
                  "route": [{"target": "0.0.0.0", "mask": 0, "nexthop": gateway,
                             "source": "0.0.0.0/0"}]})
    return entry


def _two_wans(wan_metric: int = 20, wanb_metric: int = 10, wanb_up: bool = True) -> dict:
    golden = json.loads(GOLDEN_DUMP.read_text())["interface"]
    vpn = next(e for e in golden if e["interface"] == "vpn2")
    vpn = {**vpn, "interface": "vpn", "proto": "pppossh"}  # a tunnel's own default route
    return {"interface": [
        _entry("wanb", "up1", wanb_metric, "10.200.0.2", "10.200.0.1", up=wanb_up),
        vpn,
        _entry("wan", "up0", wan_metric, "192.0.2.2", "192.0.2.1"),
    ]}


# --- the choice ---------------------------------------------------------------------------
def test_best_takes_the_longest_prefix_then_the_lowest_metric() -> None:
    def route(net: str, dev: str, metric: int) -> uplink.Route:
        return uplink.Route(ipaddress.ip_network(net), dev, "", metric)

    wide_cheap, narrow_dear = route("0.0.0.0/0", "a", 1), route("203.0.113.0/24", "b", 500)
    assert uplink.best([wide_cheap, narrow_dear], SERVER) == narrow_dear
    first, second = route("0.0.0.0/0", "a", 10), route("0.0.0.0/0", "b", 10)
    assert uplink.best([first, second], SERVER) == first  # ties keep the order given
    assert uplink.best([route("0.0.0.0/0", "a", 20), second], SERVER) == second
    assert uplink.best([route("198.51.100.0/24", "a", 0)], SERVER) is None
    assert uplink.best([route("::/0", "a", 0)], SERVER) is None  # other family


def test_kernel_routes_from_iproute2_and_busybox() -> None:
    routes = uplink.parse_routes(IPROUTE2, 4)
    assert [(str(r.network), r.device, r.gateway, r.metric) for r in routes] == [
        ("0.0.0.0/0", "up0", "192.0.2.2", 20),
        ("0.0.0.0/0", "up1", "10.200.0.2", 10),
        ("10.200.0.0/24", "up1", "", 0),
        ("192.0.2.0/24", "up0", "", 0),
        ("203.0.113.1/32", "up0", "192.0.2.2", 0),
    ]  # pppossh's own devices and the unreachable route are not ways to the server
    busybox = uplink.parse_routes(BUSYBOX_IP, 4)
    assert [(str(r.network), r.device, r.metric) for r in busybox] == [
        ("0.0.0.0/0", "up0", 20), ("192.0.2.0/24", "up0", 0)]  # linkdown carries nothing


def test_standalone_sees_past_its_own_pin() -> None:
    pin = {"address": f"{SERVER}/32", "gateway": "192.0.2.2", "dev": "up0"}
    now = uplink.from_kernel(SERVER, [pin], lambda family: IPROUTE2)
    assert now is not None and now.uplink == ("up1", "10.200.0.2")
    assert uplink.moved(pin, now)
    # with the pin counted, the pin itself would always win: nothing would ever move
    assert uplink.best(uplink.parse_routes(IPROUTE2, 4), SERVER).uplink == ("up0", "192.0.2.2")
    only_wan = "\n".join(line for line in IPROUTE2.splitlines() if "up1" not in line)
    assert not uplink.moved(pin, uplink.from_kernel(SERVER, [pin], lambda family: only_wan))
    assert not uplink.moved(pin, None)  # no route at all: the pin is all there is


def test_netifd_golden_dump_picks_the_on_link_interface() -> None:
    """The golden run pinned 192.0.2.2 through ``demo`` (192.0.2.10/24, on link)."""
    dump = json.loads(GOLDEN_DUMP.read_text())
    chosen = uplink.from_dump(dump, "192.0.2.2", skip=["vpn"])
    assert chosen is not None and chosen.interface == "demo" and chosen.device == "veth0"
    assert uplink.from_dump(dump, SERVER, skip=["vpn"]) is None  # vpn2 is pppossh's own


def test_netifd_dump_prefers_the_lower_metric_not_the_first_name() -> None:
    assert uplink.from_dump(_two_wans(), SERVER, skip=["vpn"]).interface == "wanb"
    assert uplink.from_dump(_two_wans(wanb_metric=30), SERVER).interface == "wan"
    assert uplink.from_dump(_two_wans(wanb_metric=20), SERVER).interface == "wan"  # by name
    assert uplink.from_dump(_two_wans(wanb_up=False), SERVER).interface == "wan"
    routes = uplink.candidates(_two_wans(), SERVER, skip=["vpn"])
    assert [r.interface for r in routes] == ["wan", "wanb"]
    assert routes[1].uplink == ("up1", "10.200.0.2") and routes[1].metric == 10


# --- netifd: setup names the uplink, the hotplug check moves the tunnel ----------------------
def _setup(tmp_path: Path, dump: dict | None, config_json: str) -> tuple[RecordingBus, State]:
    bus = RecordingBus({("network.interface", "dump"): dump})
    rundir = tmp_path / "run"
    assert netifd.setup("vpn", config_json, str(rundir), bus) == 0
    return bus, State(str(rundir), "vpn")


def test_setup_names_the_best_uplink_in_the_host_dependency(
        tmp_path: Path, keys, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("PPPOSSH_NO_SYSLOG", "1")
    monkeypatch.setattr(netifd, "dependencies", lambda addresses: [SERVER])
    text = adapted_vpn_json(*keys)
    bus, state = _setup(tmp_path / "two", _two_wans(), text)
    assert bus.calls[0][:2] == ("network.interface", "dump")
    assert bus.sent[0] == {"action": 6, "host": SERVER, "ifname": "wanb", "interface": "vpn"}
    assert state.load()["uplinks"] == {SERVER: "wanb"}
    # two uplinks lead to the server: the hook may not relay a setup with netifd's choice
    assert not state.path("relay").exists()

    one = {"interface": [e for e in _two_wans()["interface"] if e["interface"] != "wanb"]}
    bus, state = _setup(tmp_path / "one", one, text)
    assert bus.sent[0]["ifname"] == "wan" and state.path("relay").exists()

    bus, state = _setup(tmp_path / "none", None, text)  # no dump: netifd picks, as before
    assert bus.sent[0] == {"action": 6, "host": SERVER, "interface": "vpn"}


def _tunnel(rundir: Path, iface: str, phase: str, uplinks: dict) -> None:
    State(str(rundir), iface).update(mode="netifd", phase=phase, uplinks=uplinks)


def test_check_reconnects_the_tunnels_a_better_uplink_reaches(tmp_path: Path) -> None:
    _tunnel(tmp_path, "vpn", "up", {SERVER: "wan"})
    _tunnel(tmp_path, "office", "up", {SERVER: "wanb"})  # already on the best one
    _tunnel(tmp_path, "lab", "backoff", {SERVER: "wan"})  # not up: its next setup picks
    State(str(tmp_path), "alone").update(mode="standalone", phase="up")
    moved: list[str] = []
    assert uplink.check(str(tmp_path), _two_wans, moved.append, "wanb") == ["vpn"]
    assert moved == ["vpn"]
    # the event of a tunnel of pppossh's own, or a dump that shows nothing better: nothing
    assert uplink.check(str(tmp_path), _two_wans, moved.append, "office") == []
    assert uplink.check(str(tmp_path), lambda: _two_wans(wanb_metric=30), moved.append,
                        "wanb") == ["office"]
    assert uplink.check(str(tmp_path / "absent"), _two_wans, moved.append, "wanb") == []


def test_follow_uplinks_reconnects_the_way_ifup_does(tmp_path: Path) -> None:
    """golden/ubus-calls.log: ifup is ``network.interface down`` then ``up``."""
    _tunnel(tmp_path, "vpn", "up", {SERVER: "wan"})
    bus = RecordingBus({("network.interface", "dump"): _two_wans()})
    assert netifd.follow_uplinks("wanb", str(tmp_path), bus) == 0
    assert bus.calls == [("network.interface", "dump", None),
                         ("network.interface", "down", {"interface": "vpn"}),
                         ("network.interface", "up", {"interface": "vpn"})]


@pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="busybox needed")
def test_hotplug_script_under_busybox(tmp_path: Path) -> None:
    """hotplug-call sources each script in a subshell with netifd's ACTION, INTERFACE and
    DEVICE; the script runs the helper only for another interface coming up."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "ran"
    (bin_dir / "pppossh").write_text(f'#!/bin/sh\necho "$*" >>{record}\n')
    (bin_dir / "pppossh").chmod(0o755)
    rundir = tmp_path / "run"

    def event(action: str, interface: str) -> None:
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "ACTION": action, "INTERFACE": interface,
               "DEVICE": "up1", "PPPOSSH_RUNDIR": str(rundir)}
        subprocess.run([BUSYBOX, "sh", "-c", '( . "$0" )', str(HOTPLUG)], env=env,
                       check=True, timeout=10)

    event("ifup", "wanb")
    assert not record.exists()  # no tunnel yet
    _tunnel(rundir, "vpn", "up", {SERVER: "wan"})
    State(str(rundir), "vpn").path("relay").write_text("saved\n")
    event("ifdown", "wanb")
    event("ifupdate", "wanb")
    event("ifup", "vpn")  # the tunnel's own event
    assert not record.exists() and State(str(rundir), "vpn").path("relay").exists()
    event("ifup", "wanb")
    assert record.read_text() == "uplink -- wanb\n"
    assert not State(str(rundir), "vpn").path("relay").exists()


# --- standalone: the supervisor ends the session for the new uplink --------------------------
def test_supervisor_ends_the_session_when_the_uplink_moves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"text": "\n".join(line for line in IPROUTE2.splitlines() if "up1" not in line)}
    monkeypatch.setattr(uplink, "CHECK_EVERY", 0.05)
    monkeypatch.setattr("pppossh.run.routes.show", lambda family: table["text"])
    supervisor = Supervisor(uci=None, iface="vpn2", rundir=str(tmp_path))  # type: ignore[arg-type]
    supervisor.pins = [{"address": f"{SERVER}/32", "gateway": "192.0.2.2", "dev": "up0"}]
    pppd = subprocess.Popen(["sleep", "30"])
    try:
        started = time.monotonic()
        timer = threading.Timer(0.5, lambda: table.update(text=IPROUTE2))
        timer.start()
        status = supervisor._wait_watching_uplink(pppd)
        assert supervisor.moving and status != 0
        assert 0.4 < time.monotonic() - started < 5
    finally:
        pppd.kill()
        pppd.wait()


def test_the_command_line_through_the_ubus_tool(tmp_path: Path) -> None:
    """``pppossh uplink -- IFACE`` as the hotplug script runs it, with the ubus command line
    double (tests/netifd/ubus) answering the dump: ifup's two calls for the tunnel."""
    rundir, log, dump = tmp_path / "run", tmp_path / "ubus.log", tmp_path / "dump.json"
    _tunnel(rundir, "vpn", "up", {SERVER: "wan"})
    dump.write_text(json.dumps(_two_wans()))
    env = {**os.environ, "PATH": f"{REPO / 'tests/netifd'}:{os.environ['PATH']}",
           "UBUS_LOG": str(log), "UBUS_DUMP": str(dump), "PPPOSSH_UBUS": "cli",
           "PPPOSSH_NO_SYSLOG": "1"}
    cli = [str(Path(sys.executable).parent / "pppossh"), "--rundir", str(rundir), "uplink"]
    out = subprocess.run([*cli, "--", "wanb"], env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    calls = [argv[:4] for argv in parse_ubus_log(log.read_text())]
    assert calls == [["call", "network.interface", "dump"],
                     ["call", "network.interface", "down", '{ "interface": "vpn" }'],
                     ["call", "network.interface", "up", '{ "interface": "vpn" }']], calls
    log.unlink()
    out = subprocess.run([*cli, "--", "vpn"], env=env, capture_output=True, text=True,
                         timeout=60, check=False)  # the tunnel's own event: nothing asked
    assert out.returncode == 0 and not log.exists(), out.stderr
