"""``pppossh connect``'s transient section, built from the command line alone: routes,
addresses, DNS, keys, options, and refusals before anything is written or started.  The
tunnel itself (up, ping, iperf3, disconnect restoring routes and resolver, -t tun, a jump
host) is proven in the test bed: ``tests/uml/connect_scenarios.py``."""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import pytest

from pppossh.admin import connect
from pppossh.cli import main
from pppossh.config import from_uci
from pppossh.errors import ConfigError

USED = [ipaddress.IPv4Network("10.0.0.0/9")]


def options(**kw) -> dict:
    request = connect.Request(**{"target": "root@203.0.113.1", **kw})
    return connect.section_options(request, USED, random.Random(7))


def test_pvpn_line_default_route_and_random_addresses() -> None:
    opts = options(routes=["default", "198.51.100.0/24"])
    assert opts["proto"] == "pppossh" and opts["server"] == "203.0.113.1"
    assert (opts["sshuser"], opts["port"], opts["defaultroute"]) == ("root", "22", "1")
    assert opts["route"] == ("198.51.100.0/24",)
    local, remote = (ipaddress.IPv4Address(opts[k]) for k in ("ipaddr", "peeraddr"))
    net = ipaddress.IPv4Network(f"{local}/30", strict=False)
    assert remote in net and local != remote and not net.overlaps(USED[0])
    assert net.subnet_of(ipaddress.IPv4Network("10.0.0.0/8"))
    # the server's own addresses win over the random ones (a pppossh peer assigns them)
    assert opts["pppd_options"] == "ipcp-accept-local ipcp-accept-remote"
    config = from_uci("vpn0", opts)
    assert config.defaultroute and config.ipaddr == str(local)


def test_no_route_means_the_link_alone() -> None:
    assert options()["defaultroute"] == "0" and "route" not in options()


def test_tun_with_given_addresses_dns_and_key(tmp_path: Path) -> None:
    opts = options(kind="tun", addresses="10.64.0.2:10.64.0.1", dns=True,
                   dns_servers=["10.64.0.1"], key="id_ed25519", target="ops@vpn.example:2222")
    assert (opts["proto"], opts["ipaddr"], opts["peeraddr"]) == ("sshtun", "10.64.0.2",
                                                                 "10.64.0.1")
    assert (opts["sshuser"], opts["port"], opts["system_dns"]) == ("ops", "2222", "1")
    assert opts["identity"][0].startswith("/") and "pppd_options" not in opts
    assert from_uci("vpn1", opts).dns == ("10.64.0.1",)


def test_dns_on_tun_needs_a_server() -> None:
    with pytest.raises(ConfigError) as err:
        options(kind="tun", dns=True)
    assert err.value.code == "DNS_NEEDS_SERVER"


def test_free_pair_avoids_every_used_network() -> None:
    used = [ipaddress.IPv4Network("10.0.0.0/8")]
    with pytest.raises(Exception, match="give -i"):
        connect.free_pair(used, random.Random(1))
    used = [ipaddress.IPv4Network("10.0.0.0/9"), ipaddress.IPv4Network("10.128.0.0/10")]
    for seed in range(50):
        local, _ = connect.free_pair(used, random.Random(seed))
        assert ipaddress.IPv4Address(local) in ipaddress.IPv4Network("10.192.0.0/10")


@pytest.mark.parametrize("kw, code", [
    ({"target": "root@-oProxyCommand=sh"}, "INVALID_SERVER"),
    ({"target": "root@h;reboot"}, "INVALID_SERVER"),
    ({"options": ["server=evil"]}, "INVALID_OPTION"),
    ({"options": ["nosuch=1"]}, "INVALID_OPTION"),
    ({"options": ["ssh_options=-oProxyCommand=sh"]}, "INVALID_SSH_OPTIONS"),
    ({"options": ["pppd_options=connect /bin/sh"]}, "INVALID_PPPD_OPTIONS"),
    ({"jump": ["-oProxyCommand=sh"]}, "INVALID_JUMP"),
    ({"routes": ["everything"]}, "INVALID_ROUTE"),
    ({"addresses": "10.0.0.1"}, "INVALID_ADDRESSES"),
    ({"addresses": "10.0.0.1:$(id)"}, "INVALID_PEERADDR"),
    ({"dns_servers": ["1.1.1.1; id"]}, "INVALID_DNS"),
    ({"kind": "gre"}, "INVALID_TYPE"),
])
def test_hostile_command_lines_are_refused(kw: dict, code: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        connect.validate("vpn0", options(**kw), str(tmp_path))
    assert err.value.code == code


def test_cli_refuses_before_writing_anything(tmp_path: Path, capsys) -> None:
    rc = main(["--rundir", str(tmp_path), "connect", "root@203.0.113.1", "default",
               "-o", "ssh_options=-oProxyCommand=touch /tmp/x"])
    assert rc == 2 and "INVALID_SSH_OPTIONS" in capsys.readouterr().err
    assert (tmp_path / "connect" / "network").read_text() == ""
    assert not list(tmp_path.glob("vpn*"))
    rc = main(["--rundir", str(tmp_path), "connect", "--name", "a-b", "root@h"])
    assert rc == 2 and "INVALID_INTERFACE" in capsys.readouterr().err


def test_disconnect_names_what_is_there(tmp_path: Path, capsys) -> None:
    assert main(["--rundir", str(tmp_path), "disconnect", "vpn3"]) == 2
    assert "NO_CONNECTION" in capsys.readouterr().err
    assert main(["--rundir", str(tmp_path), "disconnect"]) == 2
    assert "WHICH_CONNECTION" in capsys.readouterr().err
    assert main(["--rundir", str(tmp_path), "disconnect", "--all"]) == 0


def test_save_copies_the_section(tmp_path: Path, capsys) -> None:
    uci = connect.transient(str(tmp_path / "run"))
    opts = options(routes=["default"])
    uci.set_section("network", "vpn0", "interface")
    for key, value in opts.items():
        uci.set("network", "vpn0", key, value)
    uci.commit("network")
    confdir = tmp_path / "config"  # not there yet, as on plain Linux
    assert main(["--confdir", str(confdir), "--rundir", str(tmp_path / "run"), "save", "vpn0",
                 "--as", "office"]) == 0
    text = (confdir / "network").read_text()
    assert "config interface 'office'" in text and "option server '203.0.113.1'" in text
    assert main(["--confdir", str(confdir), "--rundir", str(tmp_path / "run"), "save", "vpn0",
                 "--as", "office"]) == 2
    assert "INTERFACE_EXISTS" in capsys.readouterr().err


def test_an_unconfirmed_key_starts_nothing(tmp_path: Path, monkeypatch) -> None:
    """No terminal to ask and no --yes: the fingerprint was shown, nothing is pinned, the
    section is gone again and no supervisor started."""
    from pppossh.errors import PppsshError

    def refuse(*args, **kw):
        raise PppsshError("NOT_PINNED", "nothing pinned")

    started = []
    monkeypatch.setattr(connect, "used_networks", lambda: [])
    monkeypatch.setattr(connect, "validate", lambda *a: True)
    monkeypatch.setattr(connect.trust, "trust", refuse)
    monkeypatch.setattr(connect.standalone, "up", lambda *a: started.append(a))
    with pytest.raises(PppsshError) as err:
        connect.connect(connect.Request("root@203.0.113.1"), str(tmp_path), yes=False,
                        confirm=None, show=None)
    assert err.value.code == "NOT_PINNED" and "--yes" in err.value.message
    assert started == [] and connect.connections(str(tmp_path)) == []
