"""Config parsing: both doors (netifd's setup JSON and a UCI section) against golden data.

The netifd door reads the real setup JSON of golden/netifd/01-ifup-vpn, 02-ifup-vpn2,
09-wrong-types and 10-bool-int-spellings (4th argv line of each call file).  The UCI door must
convert strings exactly as netifd does (conversion table in golden/netifd/README.md), but say
what to write where netifd would silently drop a value.
"""

from __future__ import annotations

import json

import pytest
from helpers import (
    GOLDEN_PLACEHOLDER_KEY,
    NETIFD,
    ed25519_key,
    read_uci,
    setup_json,
    with_hostkey,
)

from pppossh.config import BY_NAME, OPTIONS, Config, from_netifd_json, from_uci, validate
from pppossh.config.convert import c_strtol_full, convert_uci_value
from pppossh.errors import ConfigError

KEY = ed25519_key()

VPN_EXPECTED = Config(
    iface="vpn",
    server="vpn.example.net",
    sshuser="vpn",
    port=2222,
    identity=("/etc/dropbear/id_vpn", "/etc/dropbear/my key with space"),
    hostkey=(KEY,),
    ipaddr="10.99.0.1",
    peeraddr="10.99.0.2",
    ssh_options='-o "Ciphers aes128-ctr"',
    keepalive="5 3",
    mtu=1400,
    defaultroute=False,
    peerdns=True,
    metric=10,
)


def _insert(config_json: str, extra: str) -> str:
    """Add ``"key":value`` pairs right after the leading proto key of a golden JSON."""
    head = '{"proto":"pppossh"'
    assert config_json.startswith(head)
    return head + "," + extra + config_json[len(head) :]


# --- the netifd door: golden setup JSON ----------------------------------------------------


def test_golden_vpn_placeholder_hostkey_is_invalid() -> None:
    """golden 01 vpn: the capture's placeholder hostkey is not a key -> INVALID_HOSTKEY."""
    text = setup_json("01-ifup-vpn", "vpn")
    assert GOLDEN_PLACEHOLDER_KEY in text
    with pytest.raises(ConfigError) as err:
        from_netifd_json("vpn", text)
    assert err.value.code == "INVALID_HOSTKEY"
    assert "network.vpn.hostkey" in err.value.message


def test_golden_vpn_with_valid_key_parses() -> None:
    """golden 01 vpn with a valid key: duplicated keys (defaultroute, peerdns, metric, mtu),
    ints as numbers, booleans and the two-element identity list give the expected Config."""
    text = with_hostkey(setup_json("01-ifup-vpn", "vpn"), KEY)
    assert text.count('"mtu":1400') == 2 and text.count('"defaultroute":false') == 2
    assert from_netifd_json("vpn", text) == VPN_EXPECTED


def test_golden_vpn2_minimal_section_takes_defaults() -> None:
    """golden 02 vpn2 (server and sshuser only) -> every other option at its default."""
    config = from_netifd_json("vpn2", setup_json("02-ifup-vpn2", "vpn2"))
    assert config == Config(iface="vpn2", server="vpn2.example.net", sshuser="user2")
    assert config.device == "pppossh-vpn2"


def test_golden_wrong_types_vpn_dropped_keys_and_one_element_list() -> None:
    """golden 09 vpn: port 'abc', mtu 'x', defaultroute 'maybe' were dropped by netifd (defaults
    apply) and `option identity` arrived as a one-element array."""
    text = setup_json("09-wrong-types", "vpn")
    with pytest.raises(ConfigError) as err:
        from_netifd_json("vpn", text)
    assert err.value.code == "INVALID_HOSTKEY"
    config = from_netifd_json("vpn", with_hostkey(text, KEY))
    assert config.port == 22
    assert config.mtu is None
    assert config.defaultroute is True
    assert config.identity == ("/etc/dropbear/single_as_option",)
    assert config.peerdns is True and config.metric == 10


def test_golden_wrong_types_vpnt_missing_sshuser() -> None:
    """golden 09 vpnt: sshuser given as a list was dropped by netifd -> MISSING_SSHUSER."""
    with pytest.raises(ConfigError) as err:
        from_netifd_json("vpnt", setup_json("09-wrong-types", "vpnt"))
    assert err.value.code == "MISSING_SSHUSER"
    assert "network.vpnt.sshuser" in err.value.message


def test_golden_wrong_types_vpnt_converted_values() -> None:
    """golden 09 vpnt values netifd converted ('0x10' -> 16, ' 1400' -> 1400, ipv6 'true',
    one-element identity list) arrive typed; 'auto' (undeclared) is ignored.  ipv6 came as a
    boolean (the capture's handler declared one; pppossh's declares a string now) and still
    counts."""
    text = setup_json("09-wrong-types", "vpnt").replace('"metric":-1', '"metric":1')
    config = from_netifd_json("vpnt", _insert(text, f'"sshuser":"t","hostkey":["{KEY}"]'))
    assert (config.port, config.mtu, config.ipv6) == (16, 1400, "1")
    assert config.identity == ("/only/one",)
    assert config.defaultroute is True and config.peerdns is True  # 'yes'/'off' were dropped
    assert config.use_hostdep == 1 and config.keepalive == ""


def test_golden_bool_int_spellings_vb1() -> None:
    """golden 10 vb1: no server -> MISSING_SERVER; with one, port '010' -> 8, metric '+5' -> 5,
    peerdns false; defaultroute 'on', ipv6 'TRUE', mtu '1400 ' were dropped."""
    text = setup_json("10-bool-int-spellings", "vb1")
    with pytest.raises(ConfigError) as err:
        from_netifd_json("vb1", text)
    assert err.value.code == "MISSING_SERVER"
    assert "network.vb1.server" in err.value.message
    config = from_netifd_json("vb1", _insert(text, '"server":"192.0.2.2","sshuser":"u"'))
    assert (config.port, config.metric, config.peerdns) == (8, 5, False)
    assert (config.defaultroute, config.ipv6, config.mtu) == (True, "0", None)


def test_golden_bool_int_spellings_vb2_wrapped_port() -> None:
    """golden 10 vb2: server '' was dropped -> MISSING_SERVER; '99999999999' arrived wrapped
    to 1215752191, which is no TCP port -> INVALID_PORT naming network.vb2.port."""
    text = setup_json("10-bool-int-spellings", "vb2")
    assert '"port":1215752191' in text
    with pytest.raises(ConfigError) as err:
        from_netifd_json("vb2", text)
    assert err.value.code == "MISSING_SERVER"
    with pytest.raises(ConfigError) as err:
        from_netifd_json("vb2", _insert(text, '"server":"192.0.2.2","sshuser":"u"'))
    assert err.value.code == "INVALID_PORT"
    assert "network.vb2.port" in err.value.message


@pytest.mark.parametrize(
    "pair,code",
    [
        ('"port":"2222"', "INVALID_PORT"),
        ('"port":true', "INVALID_PORT"),
        ('"defaultroute":1', "INVALID_DEFAULTROUTE"),
        ('"identity":[1]', "INVALID_IDENTITY"),
        ('"sshuser":["a","b"]', "INVALID_SSHUSER"),
    ],
)
def test_json_wrong_types_rejected(pair: str, code: str) -> None:
    """Values of the wrong JSON type are refused with the option's INVALID_ code."""
    text = '{"proto":"pppossh","server":"192.0.2.2","sshuser":"vpn",' + pair + "}"
    with pytest.raises(ConfigError) as err:
        from_netifd_json("vpn", text)
    assert err.value.code == code
    assert f"network.vpn.{code.removeprefix('INVALID_').lower()}" in err.value.message


@pytest.mark.parametrize("text", ["", "{", "[1]", '"x"'])
def test_json_unreadable(text: str) -> None:
    """JSON that is not an object -> INVALID_CONFIG."""
    with pytest.raises(ConfigError) as err:
        from_netifd_json("vpn", text)
    assert err.value.code == "INVALID_CONFIG"


def test_json_undeclared_keys_ignored() -> None:
    """Keys that are not options (proto, auto, bogus) are ignored."""
    text = '{"proto":"pppossh","auto":false,"bogus":"x","server":"192.0.2.2","sshuser":"vpn"}'
    assert from_netifd_json("vpn", text) == Config(iface="vpn", server="192.0.2.2", sshuser="vpn")


# --- the UCI door ----------------------------------------------------------------------------

BASE = {"proto": "pppossh", "server": "vpn.example.net", "sshuser": "vpn"}


def _uci(**options: str | tuple[str, ...]) -> Config:
    return from_uci("vpn", {**BASE, **options})


def _uci_error(**options: str | tuple[str, ...]) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        _uci(**options)
    return err.value


def test_uci_golden_network_file_matches_netifd_door() -> None:
    """golden/netifd/network.uci section vpn read by from_uci gives the same Config as the
    setup JSON netifd made from it (placeholder key replaced in both)."""
    section = read_uci((NETIFD / "network.uci").read_text())["vpn"]
    with pytest.raises(ConfigError) as err:
        from_uci("vpn", section)
    assert err.value.code == "INVALID_HOSTKEY"
    assert from_uci("vpn", {**section, "hostkey": KEY}) == VPN_EXPECTED


@pytest.mark.parametrize(
    "option,text,value",
    [
        ("port", "0x10", 16),
        ("port", "010", 8),
        ("metric", "+5", 5),
        ("mtu", " 1400", 1400),
        ("port", "2222", 2222),
        ("metric", "0", 0),
    ],
)
def test_uci_int_conversion_like_netifd(option: str, text: str, value: int) -> None:
    """UCI ints are read with strtol(…, 0) as netifd does (golden/netifd/README.md)."""
    assert getattr(_uci(**{option: text}), option) == value


@pytest.mark.parametrize(
    "text,value",
    [("0x10", 16), ("010", 8), ("+5", 5), ("-1", -1), (" 1400", 1400),
     ("99999999999", 1215752191)],
)
def test_convert_int_table(text: str, value: int) -> None:
    """The conversion itself, including the values no option's range accepts afterwards."""
    assert convert_uci_value(BY_NAME["metric"], text) == value
    assert c_strtol_full(text) == value


def test_uci_negative_metric_converted_then_out_of_range() -> None:
    """metric '-1' converts to -1 (as netifd), then the range check names the option."""
    err = _uci_error(metric="-1")
    assert err.code == "INVALID_METRIC"
    assert "network.vpn.metric" in err.message and "-1" in err.message


def test_uci_huge_port_wraps_like_netifd() -> None:
    """port '99999999999' wraps to 1215752191 as in golden 10 vb2, then fails the port range."""
    err = _uci_error(port="99999999999")
    assert err.code == "INVALID_PORT"
    assert "network.vpn.port" in err.message and "1215752191" in err.message


@pytest.mark.parametrize(
    "option,text",
    [("port", "abc"), ("mtu", "x"), ("mtu", "1400 "), ("mtu", "1e3"),
     ("use_hostdep", "12abc"), ("port", "0x")],
)
def test_uci_bad_int_says_what_to_write(option: str, text: str) -> None:
    """Strings netifd drops as ints are errors naming the option and saying what to write."""
    err = _uci_error(**{option: text})
    assert err.code == f"INVALID_{option.upper()}"
    assert f"network.vpn.{option}" in err.message
    assert "write" in err.message and "digits" in err.message


@pytest.mark.parametrize("text", ["yes", "on", "off", "no", "enabled", "TRUE", "maybe", "True"])
def test_uci_bad_bool_says_what_to_write(text: str) -> None:
    """netifd accepts only 1/0/true/false; other spellings name the option and say 1 or 0."""
    err = _uci_error(defaultroute=text)
    assert err.code == "INVALID_DEFAULTROUTE"
    assert "network.vpn.defaultroute" in err.message
    assert "write 1 or 0" in err.message


@pytest.mark.parametrize("text,value", [("1", True), ("0", False), ("true", True),
                                        ("false", False)])
def test_uci_good_bool(text: str, value: bool) -> None:
    """The four spellings netifd accepts; ipv6 (a string, as ppp's) takes them too."""
    assert _uci(peerdns=text).peerdns is value
    assert _uci(ipv6=text).ipv6 == str(int(value))
    assert _uci(ipv6=text).ipv6_on is value


@pytest.mark.parametrize("text", ["auto", "1", "0"])
def test_uci_ipv6_takes_openwrts_values(text: str) -> None:
    """OpenWrt's ppp ipv6: 0, 1, or auto (IPv6CP and a DHCPv6 interface NAME_6)."""
    config = _uci(ipv6=text)
    assert config.ipv6 == text and config.ipv6_on is (text != "0")


@pytest.mark.parametrize("text", ["yes", "2", "AUTO", "auto ", "on", "-1"])
def test_uci_ipv6_refuses_the_rest(text: str) -> None:
    err = _uci_error(ipv6=text)
    assert err.code == "INVALID_IPV6" and "0, 1, auto" in err.message


def test_uci_list_for_string_option_is_error() -> None:
    """A list for a string option (netifd drops it, golden 09 vpnt sshuser) is an error."""
    err = _uci_error(sshuser=("a", "b"))
    assert err.code == "INVALID_SSHUSER"
    assert "network.vpn.sshuser" in err.message and "option" in err.message


def test_uci_single_option_for_list() -> None:
    """`option identity '/x'` for a list option gives a one-element list (golden 09 vpn)."""
    assert _uci(identity="/etc/dropbear/id").identity == ("/etc/dropbear/id",)
    assert _uci(identity=("/a", "/b")).identity == ("/a", "/b")


def test_uci_empty_string_option_takes_default() -> None:
    """An empty string option is left out, as netifd does (golden 09 vpnt keepalive '',
    golden 10 vb2 server '')."""
    assert _uci(keepalive="").keepalive == ""
    err = _uci_error(server="")
    assert err.code == "MISSING_SERVER"


@pytest.mark.parametrize("option", ["port", "mtu", "maxfail", "metric", "defaultroute", "ipv6"])
def test_uci_empty_int_or_bool_takes_default(option: str) -> None:
    """An empty int/bool option is left out too (golden/netifd/README.md: "Empty string option
    -> dropped"); the table's help even documents "mtu ... empty: pppd's default"."""
    assert getattr(_uci(**{option: ""}), option) == BY_NAME[option].default


@pytest.mark.parametrize("missing", ["server", "sshuser"])
def test_missing_required(missing: str) -> None:
    """Missing server -> MISSING_SERVER, missing sshuser -> MISSING_SSHUSER, with the uci
    command that sets it."""
    section = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError) as err:
        from_uci("vpn", section)
    assert err.value.code == f"MISSING_{missing.upper()}"
    assert f"network.vpn.{missing}" in err.value.message
    assert f"uci set network.vpn.{missing}=" in err.value.message


# One bad (typed) value per option: every error must name network.<iface>.<option>.
BAD = {
    "ip6addr": "2001:db8::2",  # no prefix
    "peer6addr": "ff02::1",
    "mode": "tunnel",
    "bridge": "-lan",
    "remote_unit": 256,
    "unit": -1,
    "server": "a b",
    "port": 0,
    "sshuser": "-x",
    "identity": ["relative/key"],
    "hostkey": ["not a key"],
    "jump": ["-oProxyCommand=sh"],
    "jump_hostkey": ["bastion not-a-key"],
    "system_dns": "x",
    "ipaddr": "10.0.0",
    "peeraddr": "peer",
    "ssh_client": "putty",
    "ssh_options": "-c a;b",
    "ssh_keepalive": -1,
    "connect_timeout": 1,
    "remote_pppd": "-x",
    "peer_pppd_options": "$(reboot)",
    "use_hostdep": 2,
    "keepalive": "often",
    "mtu": 10,
    "ipv6": "yes",
    "remote_pty": "on",
    "pppd_options": "pty x",
    "persist": 1,
    "maxfail": -1,
    "holdoff": 999999,
    "username": "a\nb",
    "password": "a\x00b",
    "defaultroute": "x",
    "peerdns": 2,
    "metric": -5,
    "route": ["x"],
    "dns": ["dns.example.net"],
}


def test_bad_table_covers_every_option() -> None:
    """The table of bad values below has a row for every option."""
    assert set(BAD) == {o.name for o in OPTIONS}


@pytest.mark.parametrize("name", sorted(BAD))
def test_every_error_names_the_option(name: str) -> None:
    """validate() raises INVALID_<OPTION> whose message names network.<iface>.<option>."""
    proto = BY_NAME[name].protos[0]
    raw = {"server": "192.0.2.2", "sshuser": "vpn", "ipaddr": "10.0.0.1",
           "peeraddr": "10.0.0.2", name: BAD[name]}
    with pytest.raises(ConfigError) as err:
        validate("myvpn", raw, proto)
    assert err.value.code == f"INVALID_{name.upper()}"
    assert f"network.myvpn.{name}" in err.value.message
    assert err.value.config_error


def test_interface_name_too_long() -> None:
    """pppossh-<iface> must fit IFNAMSIZ: longer interface names are refused."""
    with pytest.raises(ConfigError) as err:
        validate("toolongname", {"server": "192.0.2.2", "sshuser": "vpn"})
    assert err.value.code == "INVALID_INTERFACE"


def test_each_protocol_takes_its_own_options() -> None:
    """sshtun declares the SSH and routing options and its own, not pppd's; what a protocol
    does not declare is left out, as netifd leaves it out of the JSON."""
    from pppossh.config.options import for_proto

    ppp, tun = {o.name for o in for_proto("pppossh")}, {o.name for o in for_proto("sshtun")}
    assert {"remote_pppd", "keepalive", "password", "ssh_client"} <= ppp - tun
    assert {"remote_unit", "unit"} <= tun - ppp
    assert {"server", "hostkey", "identity", "ssh_keepalive", "route", "ipaddr"} <= ppp & tun
    text = ('{"proto":"sshtun","server":"192.0.2.2","sshuser":"vpn","ipaddr":"10.9.0.1",'
            '"peeraddr":"10.9.0.2","remote_unit":3,"remote_pppd":"-x"}')
    config = from_netifd_json("lan2", text)
    assert (config.proto, config.remote_unit, config.remote_pppd) == ("sshtun", 3, "pppd")
    assert config.device == "" and validate("lan2", {**json.loads(text), "unit": 7},
                                            "sshtun").device == "tun7"
    assert from_uci("vpn", {"proto": "pppossh", "server": "h", "sshuser": "u",
                            "remote_unit": "x"}).remote_unit == 0


@pytest.mark.parametrize("missing", ["ipaddr", "peeraddr"])
def test_sshtun_needs_both_addresses(missing: str) -> None:
    raw = {"server": "192.0.2.2", "sshuser": "vpn", "ipaddr": "10.9.0.1", "peeraddr": "10.9.0.2"}
    del raw[missing]
    with pytest.raises(ConfigError) as err:
        validate("lan2", raw, "sshtun")
    assert err.value.code == f"MISSING_{missing.upper()}"
    assert f"uci set network.lan2.{missing}=" in err.value.message


TUN_BASE = {"server": "192.0.2.2", "sshuser": "vpn"}


def test_a_bridged_tap_has_no_addresses_of_its_own() -> None:
    """mode tap + bridge: no ipaddr/peeraddr needed; the device is tapN."""
    config = validate("lan2", {**TUN_BASE, "mode": "tap", "bridge": "lan", "unit": 2}, "sshtun")
    assert (config.device, config.bridge, config.ipaddr) == ("tap2", "lan", "")
    routed = validate("lan2", {**TUN_BASE, "mode": "tap", "ipaddr": "10.9.0.1",
                               "peeraddr": "10.9.0.2", "unit": 0}, "sshtun")
    assert routed.device == "tap0" and not routed.bridge


def test_ipv6_on_the_link() -> None:
    config = validate("lan2", {**TUN_BASE, "ipaddr": "10.9.0.1", "peeraddr": "10.9.0.2",
                               "ip6addr": "2001:DB8:64::2/64", "peer6addr": "2001:db8:64::1"},
                      "sshtun")
    assert (config.ip6addr, config.peer6addr) == ("2001:db8:64::2/64", "2001:db8:64::1")


@pytest.mark.parametrize("value", ["2001:db8::2", "::/0", "::1/128", "2001:db8::2/129",
                                   "2001:db8::2/64;reboot", "$(x)/64", "10.0.0.1/24"])
def test_hostile_or_wrong_ipv6_prefixes_are_refused(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate("lan2", {**TUN_BASE, "ipaddr": "10.9.0.1", "peeraddr": "10.9.0.2",
                          "ip6addr": value, "peer6addr": "2001:db8::1"}, "sshtun")
    assert err.value.code == "INVALID_IP6ADDR"


@pytest.mark.parametrize(("raw", "code"), [
    ({"bridge": "lan"}, "BRIDGE_NEEDS_TAP"),
    ({"mode": "tap", "bridge": "lan", "ipaddr": "10.9.0.1"}, "ADDRESS_WITH_BRIDGE"),
    ({"mode": "tap", "bridge": "lan", "peeraddr": "10.9.0.2"}, "ADDRESS_WITH_BRIDGE"),
    ({"mode": "tap", "ipaddr": "10.9.0.1"}, "MISSING_PEERADDR"),
    ({"mode": "tap", "bridge": "lan", "route": ["192.168.9.0/24"]}, "ROUTE_WITH_BRIDGE"),
    ({"mode": "tap", "bridge": "lan", "ip6addr": "2001:db8:64::2/64"}, "ADDRESS_WITH_BRIDGE"),
    ({"ipaddr": "10.9.0.1", "peeraddr": "10.9.0.2", "ip6addr": "2001:db8:64::2/64"},
     "MISSING_PEER6ADDR"),
    ({"ipaddr": "10.9.0.1", "peeraddr": "10.9.0.2", "peer6addr": "2001:db8:64::1"},
     "MISSING_IP6ADDR"),
    ({"ipaddr": "10.9.0.1", "peeraddr": "10.9.0.2", "ip6addr": "2001:db8:64::2/64",
      "peer6addr": "2001:db8:65::1"}, "INVALID_PEER6ADDR"),
    ({"ipaddr": "10.9.0.1", "peeraddr": "10.9.0.2", "ip6addr": "2001:db8:64::2/64",
      "peer6addr": "2001:db8:64::2"}, "INVALID_PEER6ADDR"),
])
def test_link_mismatches_say_what_to_change(raw: dict[str, str], code: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate("lan2", {**TUN_BASE, **raw}, "sshtun")
    assert err.value.code == code
    assert "uci " in err.value.message


@pytest.mark.parametrize("value", ["br-lan;reboot", "lan$(x)", "a/b", "..", "-x", "a b",
                                   "x" * 16, "lan\n", "lan'"])
def test_hostile_bridge_names_are_refused(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate("lan2", {**TUN_BASE, "mode": "tap", "bridge": value}, "sshtun")
    assert err.value.code == "INVALID_BRIDGE"


def test_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        from_uci("lan2", {"proto": "sshvpn", "server": "h", "sshuser": "u"})
    assert err.value.code == "WRONG_PROTO" and "pppossh and sshtun" in err.value.message
