"""Small pieces the runners rely on: route lookups, the supervisor lock, pid checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pppossh.run.routes import parse_route_get
from pppossh.run.standalone import is_ours, take_lock
from pppossh.run.state import State


@pytest.mark.parametrize(
    "text,expected",
    [
        # iproute2
        ("203.0.113.1 via 192.0.2.2 dev up0 src 192.0.2.1 uid 0 \n    cache \n",
         {"gateway": "192.0.2.2", "dev": "up0", "src": "192.0.2.1"}),
        # busybox ip (no -j, no uid/cache)
        ("192.0.2.2 dev eth0  src 192.0.2.1 \n", {"dev": "eth0", "src": "192.0.2.1"}),
        ("unreachable 203.0.113.99 \n", {}),
        ("", {}),
    ],
)
def test_route_get_output_of_both_ips(text: str, expected: dict[str, str]) -> None:
    assert parse_route_get(text) == expected


def test_only_one_holder_of_the_supervisor_lock(tmp_path: Path) -> None:
    state = State(str(tmp_path), "vpn")
    first = take_lock(state)
    assert first is not None
    assert take_lock(state) is None, "a second 'up' got the lock"
    # the lock lives as long as the process it was handed to
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                             pass_fds=(first,))
    try:
        os.close(first)
        assert take_lock(state) is None, "the supervisor's inherited lock was lost"
    finally:
        child.kill()
        child.wait()
    again = take_lock(state)
    assert again is not None
    os.close(again)


def test_is_ours_checks_the_command_line() -> None:
    assert is_ours(os.getpid(), "python")
    assert not is_ours(os.getpid(), "pppd", "ipparam vpn")
    assert not is_ours(None, "pppd")
    assert not is_ours(2**22 + 12345, "pppd")


def test_busybox_ip_output_parses() -> None:
    """OpenWrt's busybox ip, for real: no -j there, and the plain output reads the same."""
    out = subprocess.run(["busybox", "ip", "-4", "route", "get", "127.0.0.1"],
                         capture_output=True, text=True, check=True).stdout
    assert parse_route_get(out)["dev"] == "lo"
    refused = subprocess.run(["busybox", "ip", "-j", "-4", "route", "get", "127.0.0.1"],
                             capture_output=True, text=True, check=False)
    assert refused.returncode != 0


def test_a_route_through_a_tap_goes_via_the_gateway(monkeypatch) -> None:
    """sshtun's tap is Ethernet: routes via the server's address of the same family; a tun's
    (no gateway) through the device alone."""
    from pppossh.run import routes

    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(routes, "_ip", lambda *a: calls.append(a) or
                        subprocess.CompletedProcess(a, 0, "", ""))
    routes.add_device_route("198.51.100.0/24", "tap0", 0, "10.64.0.1")
    routes.add_device_route("2001:db8:9::/48", "tap0", 0, "10.64.0.1")  # not its family
    routes.add_device_route("198.51.100.0/24", "tun0", 0)
    assert calls == [
        ("-4", "route", "replace", "198.51.100.0/24", "via", "10.64.0.1", "dev", "tap0",
         "metric", "0"),
        ("-6", "route", "replace", "2001:db8:9::/48", "dev", "tap0", "metric", "0"),
        ("-4", "route", "replace", "198.51.100.0/24", "dev", "tun0", "metric", "0")]
