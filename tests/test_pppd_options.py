"""pppd_options and peer_pppd_options take pppd options from an allow list (issue 10, item 1).

The option lists of the real pppd binaries (tests/data/pppd-options-2.4.9.txt and -2.5.x.txt,
made by tests/data/probe_pppd_options.py) are the test data:

- every option name of either version is allowed or refused, never crashes the check;
- every option of either version that runs a program, loads code or reads options from a
  file is refused, in both option strings, with a sentence saying so;
- every allowed option exists in both versions with the arity the allow list gives it, so an
  accepted value never makes pppd 2.4.9 or 2.5 exit with "unrecognized option";
- no allowed option names a file, and the values allowed options take are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pppossh.config import checks, validate
from pppossh.config.pppd_options import LOCAL, PEER
from pppossh.errors import ConfigError

DATA = Path(__file__).resolve().parent / "data"
VERSIONS = ("2.4.9", "2.5.x")


def _options(version: str) -> dict[str, bool]:
    """name -> takes an argument, from the probed list of one pppd version."""
    out = {}
    for line in (DATA / f"pppd-options-{version}.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, arity = line.split("\t")
            out[name] = arity == "arg"
    return out


OPTIONS = {v: _options(v) for v in VERSIONS}
ALL_NAMES = sorted(set(OPTIONS["2.4.9"]) | set(OPTIONS["2.5.x"]))
# Named here, independently of the code: options whose argument pppd runs or loads
RUN_A_PROGRAM = {"pty", "connect", "disconnect", "init", "welcome", "plugin"}
# and options that read options (and so any of the above) from a file
READ_OPTIONS = {"file", "call"}
# options whose argument is a file pppd opens as root, or that write one
TOUCH_FILES = {"logfile", "record", "lcp-rtt-file", "pap-secrets", "chap-secrets", "+ua", "ca",
               "capath", "crl", "crl-dir", "cert", "key", "pkcs12", "linkname", "logfd",
               "socket", "privgroup", "set", "unset"}


def _runs_program(name: str) -> bool:
    return name in RUN_A_PROGRAM or name.endswith("-script")


def test_data_files_are_the_real_lists() -> None:
    """The lists hold what the versions are known for: 2.4.9 lacks the IPv6 hooks OpenWrt's
    handler passes, 2.5 adds net-*/ip-pre-up scripts (2.5.1) and auth-up/down (2.5.3)."""
    assert len(OPTIONS["2.4.9"]) > 200 and len(OPTIONS["2.5.x"]) > 200
    assert "ipv6-up-script" not in OPTIONS["2.4.9"]
    for name in ("net-init-script", "net-pre-up-script", "net-down-script", "ip-pre-up-script",
                 "auth-up-script", "auth-down-script", "ipv6-up-script"):
        assert OPTIONS["2.5.x"][name] is True, name
    program_options = [n for n in ALL_NAMES if _runs_program(n)]
    assert len(program_options) >= 16


def _value_for(name: str, table: dict) -> list[str]:
    """The option with a value its check accepts, or with a plain word when not allowed."""
    arg = table.get(name)
    if arg is None:
        return [name, "x"] if any(OPTIONS[v].get(name) for v in VERSIONS) else [name]
    for sample in ("1", "0x0", "15", "1400", "::1,::2", "192.0.2.53", "9,9", "vpn"):
        try:
            arg.check(sample)
        except ValueError:
            continue
        return [name, sample]
    raise AssertionError(f"no sample value fits {name}")


@pytest.mark.parametrize("peer", [False, True], ids=["pppd_options", "peer_pppd_options"])
@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_pppd_option_is_allowed_or_refused(name: str, peer: bool) -> None:
    """Each option of 2.4.9 and 2.5.x: accepted exactly when on the allow list, else refused
    with a sentence naming it; those that run a program are refused as such."""
    table = PEER if peer else LOCAL
    what = "peer_pppd_options" if peer else "pppd_options"
    check = checks.peer_pppd_words if peer else checks.pppd_words
    value = " ".join(_value_for(name, table))
    if name in table:
        assert check(value) == value
        return
    with pytest.raises(ValueError) as err:
        check(value)
    message = str(err.value)
    assert message.startswith(what) and repr(name) in message
    if _runs_program(name):
        assert "run a program" in message
    elif name in READ_OPTIONS:
        assert "options from a file" in message


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("peer", [False, True], ids=["pppd_options", "peer_pppd_options"])
def test_every_program_option_refused(version: str, peer: bool) -> None:
    """The done-criterion of item 1, for each version's complete list: every option that runs
    a program, loads code or reads an options file is refused with a clear sentence."""
    check = checks.peer_pppd_words if peer else checks.pppd_words
    names = [n for n in OPTIONS[version] if _runs_program(n) or n in READ_OPTIONS]
    assert {"connect", "pty", "plugin", "file", "call", "ip-up-script"} <= set(names)
    for name in names:
        with pytest.raises(ValueError, match=r"must not contain .*(run a program|from a file)"):
            check(f"{name} /tmp/x")


@pytest.mark.parametrize("table", [LOCAL, PEER], ids=["pppd_options", "peer_pppd_options"])
def test_allowed_options_exist_in_both_versions_with_their_arity(table: dict) -> None:
    """An allowed option is one 2.4.9 and 2.5 both know, taking an argument exactly when the
    allow list checks one: pppd never exits 2 on a value pppossh accepted."""
    for name, arg in table.items():
        for version in VERSIONS:
            assert name in OPTIONS[version], f"{name} is not a pppd {version} option"
            assert OPTIONS[version][name] == (arg is not None), f"{name} arity ({version})"


@pytest.mark.parametrize("table", [LOCAL, PEER], ids=["pppd_options", "peer_pppd_options"])
def test_allowed_options_are_harmless(table: dict) -> None:
    """None of the allowed options runs a program, reads options or touches a file."""
    for name in table:
        assert not _runs_program(name) and name not in READ_OPTIONS | TOUCH_FILES, name


def test_pppossh_options_point_to_their_uci_option() -> None:
    """What pppossh sets itself is refused with the option that does the job."""
    cases = {
        "mtu 1400": "use option mtu", "lcp-echo-interval 3": "use option keepalive",
        "defaultroute": "use options defaultroute", "usepeerdns": "use option peerdns",
        "persist": "use option persist", "maxfail 3": "use option maxfail",
        "holdoff 3": "use option holdoff", "+ipv6": "use option ipv6",
        "user x": "use options username and password", "password x": "username and password",
        "10.0.0.1:10.0.0.2": "use options ipaddr and peeraddr",
        "ifname ppp0": "pppossh-<interface>", "nodetach": "foreground",
        "lcp-restart 5": "connect_timeout", "ipparam x": "interface name",
        "show-password": "password into the log", "dryrun": "exit",
    }
    for value, hint in cases.items():
        with pytest.raises(ValueError, match=re.escape(hint)):
            checks.pppd_words(value)


@pytest.mark.parametrize("value", ["frobnicate", "net-frob-script /x", "debug frobnicate",
                                   "/dev/ttyS0", "115200", "ttyS0", "crtscts", "multilink"])
def test_unknown_words_refused_by_default(value: str) -> None:
    """A word not on the list - a future pppd's new option, a device, a speed - is refused,
    and the message lists what is allowed."""
    with pytest.raises(ValueError, match=r"(is not an option pppossh passes to pppd; allowed: "
                                         r".*noccp|run a program)"):
        checks.pppd_words(value)


@pytest.mark.parametrize("value", [
    "kdebug /etc/shadow", "kdebug 8", "asyncmap zz", "asyncmap 0x123456789", "idle -1",
    "idle 1e3", "bsdcomp 16", "deflate 7", "deflate 9,9,9", "ipv6 ::1,::2,::3", "ipv6 x",
    "ipv6 ,", "vj-max-slots 1", "lcp-max-failure", "ipcp-restart 0x10", "chap-interval ''",
])
def test_values_of_allowed_options_are_checked(value: str) -> None:
    """Numbers where pppd expects numbers, a hex map, compression sizes, IPv6 identifiers;
    never a path or a word pppd would read as the next option."""
    with pytest.raises(ValueError, match=r"(the value must be|needs)"):
        checks.pppd_words(value)


@pytest.mark.parametrize("value", [
    "debug noccp novj nobsdcomp nodeflate nopcomp noaccomp",
    "kdebug 7 asyncmap 0x000a0000 default-asyncmap receive-all",
    "lcp-max-failure 5 lcp-max-terminate 2 ipcp-restart 3 ipcp-max-configure 10",
    "ipv6 ::1,::2 ipv6cp-accept-local ipv6cp-use-ipaddr",
    "bsdcomp 15,15 deflate 15 idle 600 maxconnect 86400",
    "refuse-pap refuse-eap chap-timeout 5 pap-timeout 5 noipdefault",
])
def test_typical_tuning_accepted(value: str) -> None:
    assert checks.pppd_words(value) == value


@pytest.mark.parametrize("value", [
    "ms-dns 192.0.2.53", "10.99.0.2:10.99.0.1 ms-dns 192.0.2.53 ms-dns 192.0.2.54",
    "auth require-pap name 'vpn server'", "mtu 1400 mru 1400 proxyarp netmask 255.255.255.255",
    "lcp-echo-interval 5 lcp-echo-failure 3 noccp +ipv6 debug", ":10.99.0.1",
])
def test_peer_options_for_a_server(value: str) -> None:
    assert checks.peer_pppd_words(value) == value


@pytest.mark.parametrize("value", [
    "plugin /tmp/x.so", "net-init-script /tmp/x", "call evil", "file /tmp/opts",
    "ms-dns dns.example.net", "10.0.0.1:evil", "name -x", "logfile /etc/passwd",
    "nodetach", "pty 'sh -c id'", "connect /bin/sh", "frobnicate",
])
def test_peer_options_refused(value: str) -> None:
    """What the server's pppd would run, load or write as root is refused on the router
    already (a pppossh server ignores the words anyway; a plain 'sudo pppd' one would not)."""
    with pytest.raises(ValueError, match="peer_pppd_options"):
        checks.peer_pppd_words(value)


def test_net_init_script_refused_before_anything_starts() -> None:
    """The issue's reproduction: validation refuses it with INVALID_PPPD_OPTIONS, a config
    error that blocks restarts, naming the option."""
    with pytest.raises(ConfigError) as err:
        validate("vpn", {"server": "192.0.2.2", "sshuser": "vpn",
                         "pppd_options": "net-init-script /tmp/x"})
    assert err.value.code == "INVALID_PPPD_OPTIONS" and err.value.config_error
    assert "network.vpn.pppd_options" in err.value.message
    assert "run a program" in err.value.message


@given(st.lists(st.sampled_from([*ALL_NAMES, "1", "/tmp/x", "0x1", "::1", "192.0.2.1"]),
                max_size=6))
def test_accepted_words_never_include_a_program_option(words: list[str]) -> None:
    """Any sequence of pppd words that passes has no program/file option among its options."""
    value = " ".join(words)
    for check, table in ((checks.pppd_words, LOCAL), (checks.peer_pppd_words, PEER)):
        try:
            check(value)
        except ValueError:
            continue
        i = 0
        while i < len(words):
            name = words[i]
            assert not _runs_program(name) and name not in READ_OPTIONS | TOUCH_FILES
            i += 2 if table.get(name) is not None else 1
