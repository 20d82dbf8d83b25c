"""Jump hosts (option ``jump``): the values allowed, the client's words for each client, the
known_hosts of every hop, the first hop as where TCP goes.  The data path through a real jump
host is proven in the test bed (``tests/uml/connect_scenarios.py``)."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from helpers import ed25519_key
from test_plan import SSH, facts, golden_config, value_after

from pppossh.config import checks, from_uci
from pppossh.errors import ConfigError
from pppossh.plan import make_plan

HOP_KEY, HOP2_KEY = ed25519_key(), ed25519_key()


def jumped(**changes):
    pins = (f"[bastion.example.net]:2022 {HOP_KEY}", f"2001:db8::7 {HOP2_KEY}")
    return golden_config(**{"jump": ("admin@bastion.example.net:2022", "[2001:db8::7]:22"),
                            "jump_hostkey": pins, **changes})


@pytest.mark.parametrize("value, normal", [
    ("bastion", "bastion:22"),
    ("ops@bastion.example.net:2022", "ops@bastion.example.net:2022"),
    ("192.0.2.9", "192.0.2.9:22"),
    ("[2001:db8::1]:2222", "[2001:db8::1]:2222"),
    ("u@2001:db8::1", "u@[2001:db8::1]:22"),
])
def test_jump_normal_form(value: str, normal: str) -> None:
    assert checks.jump(value) == normal


@pytest.mark.parametrize("value", [
    "-oProxyCommand=sh", "u@-oProxyCommand=sh", "a,b", "a/22", "h:0", "h:99999", "@h",
    "h:22:33", "[bastion]:22", "fe80::1%eth0", "u@h;reboot", "h $(id)", "-J x", "h\nx",
    "[2001:db8::1", "root@h:", "h:2x",
])
def test_hostile_jump_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        checks.jump(value)
    with pytest.raises(ConfigError) as err:
        from_uci("vpn", {"proto": "pppossh", "server": "s", "sshuser": "u", "jump": (value,)})
    assert err.value.code == "INVALID_JUMP"


def test_jump_hostkey_normal_form_and_refusals() -> None:
    assert checks.jump_hostkey(f"[b.example]:2022 {HOP_KEY} comment") == \
        f"[b.example]:2022 {HOP_KEY}"
    for bad in (HOP_KEY, f"-oX {HOP_KEY}", "b.example ssh-ed25519 AAAA", "b.example"):
        with pytest.raises(ValueError):
            checks.jump_hostkey(bad)


def test_openssh_argv_takes_jump_and_a_config_file() -> None:
    plan = make_plan(jumped(ssh_client="openssh"), facts("openssh"))
    argv = list(plan.ssh_argv)
    assert value_after(argv, "-J") == "admin@bastion.example.net:2022,[2001:db8::7]:22"
    assert value_after(argv, "-F") == plan.ssh_config == "/var/run/pppossh/vpn/home/.ssh/config"
    assert argv[-2] == jumped().server
    text = plan.ssh_config_text
    for line in ("BatchMode yes", "StrictHostKeyChecking yes", "IdentitiesOnly yes",
                 f'UserKnownHostsFile "{plan.known_hosts}"'):
        assert line in text.splitlines(), text
    assert "ProxyCommand" not in text and "ProxyCommand" not in " ".join(argv)


def test_identity_paths_in_the_config_file_keep_their_percent() -> None:
    config = jumped(ssh_client="openssh", identity=("/keys/100%key",))
    plan = make_plan(config, facts("openssh", key_formats={"/keys/100%key": "openssh"}))
    assert 'IdentityFile "/keys/100%%key"' in plan.ssh_config_text.splitlines()


def test_dbclient_multihop_target() -> None:
    config = jumped()
    plan = make_plan(config, facts("dbclient"))
    assert "-J" not in plan.ssh_argv and not plan.ssh_config
    assert plan.ssh_argv[-2] == (f"admin@bastion.example.net/2022,2001:db8::7/22,"
                                 f"{config.sshuser}@{config.server}/{config.port}")


@pytest.mark.parametrize("client", ["dbclient", "openssh"])
def test_known_hosts_has_every_hop(client: str) -> None:
    plan = make_plan(jumped(ssh_client=client), facts(client))
    lines = plan.known_hosts_text.splitlines()
    bastion = "bastion.example.net" if client == "dbclient" else "[bastion.example.net]:2022"
    assert f"{bastion} {HOP_KEY}" in lines
    assert f"2001:db8::7 {HOP2_KEY}" in lines
    assert len(lines) == 3


def test_a_hop_without_a_pinned_key_is_refused() -> None:
    config = jumped(jump_hostkey=(f"[bastion.example.net]:2022 {HOP_KEY}",))
    with pytest.raises(ConfigError) as err:
        make_plan(config, facts())
    assert err.value.code == "HOSTKEY_UNKNOWN" and "2001:db8::7" in err.value.message
    # the user's known_hosts counts for a hop as it does for the server
    plan = make_plan(config, facts(known_jump_keys=((), (HOP2_KEY,))))
    assert f"2001:db8::7 {HOP2_KEY}" in plan.known_hosts_text


def test_first_hop_is_where_tcp_goes() -> None:
    assert jumped().first_hop == ("bastion.example.net", 2022)
    plain = golden_config()
    assert plain.first_hop == (plain.server, plain.port)


def test_sshtun_goes_through_jump_hosts_too() -> None:
    config = dataclasses.replace(jumped(), proto="sshtun", ipaddr="10.0.0.1",
                                 peeraddr="10.0.0.2")
    plan = make_plan(config, facts("openssh"))
    assert value_after(plan.ssh_argv, "-J").startswith("admin@bastion")
    assert plan.ssh_config and plan.ssh_argv[0] == SSH


def test_the_local_dbclient_offers_multi_hop() -> None:
    """Debian's dbclient (the bed's) is built with it: its usage line says so."""
    from pppossh.plan.facts import dbclient_multihop

    assert dbclient_multihop(shutil.which("dbclient"))
    assert not dbclient_multihop("/bin/true")  # a usage line without it


def test_a_dbclient_without_multi_hop_hands_over_to_openssh() -> None:
    # keys OpenSSH reads (a dropbear-format key would be refused, INVALID_IDENTITY)
    both = facts("openssh", clients={"dbclient": "/usr/bin/dbclient", "openssh": SSH},
                 dbclient_multihop=False)
    plan = make_plan(jumped(ssh_client="auto"), both)
    assert plan.client == "openssh" and "-J" in plan.ssh_argv
    for config, found in ((jumped(ssh_client="dbclient"), both),
                          (jumped(ssh_client="auto"),
                           facts("dbclient", dbclient_multihop=False))):
        with pytest.raises(ConfigError) as err:
            make_plan(config, found)
        assert err.value.code == "NO_MULTIHOP"
