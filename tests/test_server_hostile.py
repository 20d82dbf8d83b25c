"""Hostile values at every entry point of the server role (issue 10, "Also").

For ``peer add`` (name, key, ip, routes), the server options of ``/etc/config/pppossh``
(``remote_pppd``, ``pool``, ``dns``, ``authorized_keys``, ``sshd``), ``peer del`` and
``server-setup --user``: shell metacharacters, newlines, NUL, unicode separators, leading dashes,
pppd option names (the program-running ones of 2.4.9 and 2.5.x among them), SSH key options.
Each value is either refused with a ConfigError (or ValueError) that says what to give instead,
or what it renders is parsed back: every ``authorized_keys`` line is
``<restrictions>,command="[sudo -n] /abs/pppd nodetach noauth ipparam pppossh-<name>
A:B [ms-dns D]... [ip-up-script /etc/pppossh/peer-up]" <type> <base64> pppossh-peer-<name>``
(without sudo: root's shell runs it behind TTY_CHOICE, with ``$t`` last)
with nothing else in it.

Every test counts its cases (at least 1,000 each); ``pytest -s`` prints the counts.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pppossh.config.pppd_options import REMOTE_LCP_ECHO, TTY_CHOICE
from pppossh.errors import ConfigError
from pppossh.server import paths, peers, render, setup
from pppossh.uci import open_uci
from pppossh.uci.base import Section

EXAMPLES = 1100
MINIMUM = 1000
KEYS = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArewmMS5CsREYdKI4UPpFsPUFxea2kgxEjj5YSyYuuU",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGz+/hMemoN2+jdTwbfe9+GLeVzlHap36RhZgpT8ZWYk",
]
OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9Wn0ThvTBAwAAFuJpSr0Hx5ViFvYnQvxxQXsfFRGEk"

SHELL = [
    *";&|$`<>\\'\"(){}[]*?!#~=,:%^", " ",
    "\t", "\n", "\r", "\x00", "\x0b", "\x0c", "\x1b", "\x7f", "$(id)", "`id`", "${IFS}",
    "; touch /tmp/pwned", "&& sh", "| sh", "\nsh", "' '", '" "', "\\\n",
]
UNICODE = ["\u2028", "\u2029", "\u0085", "\u00a0", "\u200b", "\u200e", "\u202e", "\ufeff",
           "\u3000", "\u1680", "\uff1b", "\uff0f", "\u2215", "\u0661", "\uff11", "\u00e9",
           "\U0001f600"]
DASHES = ["-", "--", "-o", "-c", "-s", "-n", "-E", "-u", "--help", "-oProxyCommand=sh"]
PPPD = [  # options of pppd 2.4.9 and 2.5.x; the first ones run programs
    "plugin", "pty", "connect", "disconnect", "init", "welcome", "socket", "file", "call",
    "ip-up-script", "ip-down-script", "ipv6-up-script", "ipv6-down-script", "net-init-script",
    "net-pre-up-script", "net-down-script", "ip-pre-up-script", "auth-up-script",
    "auth-down-script", "precompiled-active-filter", "active-filter", "pass-filter", "notty",
    "nodetach", "noauth", "ipparam", "ms-dns", "ms-wins", "record", "logfile", "linkname",
    "updetach", "persist", "demand", "defaultroute", "proxyarp", "replacedefaultroute",
    "sync", "lock", "debug", "dump", "dryrun", "remotename", "user", "password", "noccp",
]
SSH = ["command=", 'command="sh"', "restrict", "no-pty", "permitopen=\"*:*\"", "environment=",
       "from=", "tunnel=", "principals=", "cert-authority", "ProxyCommand", "LocalCommand",
       "PermitLocalCommand=yes", "Match exec", "KnownHostsCommand"]
PROGRAMS = ["/bin/sh", "/bin/sh -s", "sh", "sudo", "sudo -n", "/usr/bin/sudo -n", "/usr/sbin/pppd",
            "/usr/local/sbin/pppd", "pppd", "/tmp/pppd", "/usr/sbin/../../bin/sh", "..", ".",
            "/", "//", "/etc/passwd", "/etc/shadow", "/root/.ssh/authorized_keys",
            "/etc/dropbear/authorized_keys", "/var/lib/pppossh/.ssh/authorized_keys", "~root"]
ATOMS = SHELL + UNICODE + DASHES + PPPD + SSH + PROGRAMS


def hostile(*valid: str) -> st.SearchStrategy[str]:
    """Valid values, valid values with hostile pieces around or inside, and plain junk."""
    atom = st.sampled_from(ATOMS)
    base = st.sampled_from(valid) if valid else st.just("")

    def inside(value: str, at: int, piece: str) -> str:
        at = at % (len(value) + 1)
        return value[:at] + piece + value[at:]

    return st.one_of(
        base,
        st.builds(lambda a, v, b: a + v + b, st.sampled_from([*ATOMS, ""]), base,
                  st.sampled_from([*ATOMS, ""])),
        st.builds(inside, base, st.integers(0, 200), atom),
        st.lists(st.one_of(atom, base), min_size=1, max_size=5).map("".join),
        st.lists(st.one_of(atom, base), min_size=1, max_size=5).map(" ".join),
        st.text(max_size=40),
        st.text(alphabet=st.sampled_from("".join(SHELL + UNICODE) + "ab-/."), max_size=20),
    )


NAMES = ["branch-1", "a", "x.y_z", "B9", "r" * 32]
IPS = ["10.64.0.1:10.64.0.7", "10.64.0.1:10.64.0.2", "192.168.100.1:192.168.100.2",
       "10.64.0.5:10.64.0.5", "10.64.0.1:10.64.0.255", " 10.64.0.1: 10.64.0.9"]
ROUTES = ["192.168.10.0/24", "10.0.0.0/8", "0.0.0.0/0", "2001:db8::/32", "198.51.100.7/32",
          "10.64.0.0/24", "192.168.10.5/24"]
LINE = re.compile(
    r'(?P<opts>restrict,pty|no-port-forwarding,no-agent-forwarding,no-X11-forwarding),'
    r'command="(?P<cmd>[^"\\]*)" (?P<type>[a-z0-9@.-]+) (?P<blob>[A-Za-z0-9+/]+={0,2})'
    r' pppossh-peer-(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]{0,31})'
)
PPPD_PATH = re.compile(r"(?:/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*/pppd")


@dataclass
class Tally:
    """Cases per entry point: refused (with which code) or accepted and parsed back."""

    counts: Counter[str] = field(default_factory=Counter)

    def refused(self, exc: Exception) -> None:
        message = exc.message if isinstance(exc, ConfigError) else str(exc)
        assert message and len(message) > 20, f"an unclear refusal: {exc!r}"
        self.counts["refused"] += 1
        self.counts[f"refused {getattr(exc, 'code', 'ValueError')}"] += 1

    def accepted(self) -> None:
        self.counts["accepted"] += 1

    def check(self, name: str) -> None:
        total = self.counts["refused"] + self.counts["accepted"]
        print(f"\n{name}: {total} cases, {dict(sorted(self.counts.items()))}")
        assert total >= MINIMUM, f"{name}: only {total} cases"


def parse_line(line: str, *, sudo: bool | None = None,
               peer_up: str = render.PEER_UP) -> dict[str, Any]:
    """An authorized_keys line back into its parts; fails on anything unexpected."""
    m = LINE.fullmatch(line)
    assert m, f"unexpected authorized_keys line: {line!r}"
    words = m["cmd"].split(" ")
    assert all(words), f"empty word in {m['cmd']!r}"
    chooses = m["cmd"].startswith(TTY_CHOICE + " ")
    if chooses:  # root's own shell picks pppd's line word
        words = words[len(TTY_CHOICE.split(" ")):]
        assert words.pop() == "$t", line
    prefix = []
    if words[0] in ("sudo", "/usr/bin/sudo"):
        prefix, words = words[:2], words[2:]
        assert prefix[1] == "-n", line
    assert sudo is None or bool(prefix) == sudo, line
    pppd = words[0]
    assert PPPD_PATH.fullmatch(pppd), f"not an absolute pppd: {pppd!r}"
    assert words[1:3] == ["nodetach", "noauth"], line
    assert tuple(words[3:7]) == REMOTE_LCP_ECHO and words[7] == "ipparam", line
    words = words[:3] + words[7:]
    assert words[4] == f"pppossh-{m['name']}", line
    local, remote = words[5].split(":")
    for addr in (local, remote):
        assert str(ipaddress.IPv4Address(addr)) == addr, line
    assert local != remote, line
    rest = words[6:]
    dns = []
    while rest[:1] == ["ms-dns"]:
        assert str(ipaddress.IPv4Address(rest[1])) == rest[1], line
        dns.append(rest[1])
        rest = rest[2:]
    assert rest in ([], ["ip-up-script", peer_up]), f"unexpected words {rest} in {line}"
    assert shlex.split(m["cmd"]) == m["cmd"].split(" "), "a shell would split it otherwise"
    return {"name": m["name"], "pppd": pppd, "prefix": prefix, "local": local,
            "remote": remote, "dns": dns, "key": f"{m['type']} {m['blob']}",
            "opts": m["opts"]}


def parse_file(text: str, peer_up: str = render.PEER_UP) -> list[dict[str, Any]]:
    lines = text.splitlines()
    begin, end = lines.index(render.BEGIN), lines.index(render.END)
    assert begin < end and lines.count(render.BEGIN) == 1 and lines.count(render.END) == 1
    return [parse_line(line, peer_up=peer_up) for line in lines[begin + 1:end]]


def fresh_tree(base: str, existing: bool) -> Any:
    confdir = Path(base) / "config"
    confdir.mkdir()
    (confdir / "pppossh").write_text(
        f"config server 'server'\n\toption authorized_keys '{base}/authorized_keys'\n"
        "\tlist dns '192.0.2.53'\n")
    uci = open_uci(str(confdir), backend="file")
    if existing:  # one peer already there: 10.64.0.1:10.64.0.2, for collisions
        peers.add_peer(uci, "branch-1", OTHER_KEY)
    return uci


ADD_TALLY = Tally()


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(focus=st.sampled_from(["name", "key", "ip", "routes", "all"]), data=st.data(),
       existing=st.booleans())
def _add_peer_cases(focus: str, data: st.DataObject, existing: bool) -> None:
    """One argument hostile, the others valid (or all of them hostile at once)."""
    def draw(what: str, bad: st.SearchStrategy[Any], good: st.SearchStrategy[Any]) -> Any:
        return data.draw(bad if focus in (what, "all") else good, label=what)

    name = draw("name", hostile(*NAMES), st.sampled_from(NAMES[1:]))
    key = draw("key", hostile(*KEYS, *(k + " alice@laptop" for k in KEYS)),
               st.sampled_from(KEYS))
    ip = draw("ip", st.one_of(st.none(), hostile(*IPS)), st.sampled_from([None, IPS[0]]))
    routes = draw("routes", st.lists(hostile(*ROUTES), max_size=3),
                  st.lists(st.sampled_from(ROUTES[:2]), max_size=2, unique=True))
    ADD_TALLY.counts[f"hostile {focus}"] += 1
    with tempfile.TemporaryDirectory() as base:
        uci = fresh_tree(base, existing)
        before = (Path(base) / "config" / "pppossh").read_text()
        try:
            peer = peers.add_peer(uci, name, key, ip, tuple(routes))
        except (ConfigError, ValueError) as exc:
            ADD_TALLY.refused(exc)
            assert (Path(base) / "config" / "pppossh").read_text() == before
            return
        ADD_TALLY.accepted()
        # the key as the peer's line holds it: its type and base64, spelled with one space
        assert peer.name == name and peer.key == " ".join(key.split()[:2])
        setup.apply(uci, peer_up=f"{base}/peer-up")
        parsed = parse_file((Path(base) / "authorized_keys").read_text(), f"{base}/peer-up")
        mine = [p for p in parsed if p["name"] == name]
        assert len(mine) == 1 and len(parsed) == 1 + existing
        line = mine[0]
        assert (line["pppd"], line["prefix"], line["dns"]) == ("/usr/sbin/pppd", [],
                                                                ["192.0.2.53"])
        assert (line["local"], line["remote"], line["key"]) == (peer.ipaddr, peer.peeraddr,
                                                                peer.key)
        assert line["remote"] not in [p["remote"] for p in parsed if p["name"] != name]
        if peer.routes:
            script = Path(f"{base}/peer-up").read_text()
            for route in peer.routes:
                assert str(ipaddress.ip_network(route)) == route
                assert f"\tip route replace {route} dev \"$1\"\n" in script
            assert f"\npppossh-{name})\n" in script


def test_hostile_peer_add() -> None:
    _add_peer_cases()
    ADD_TALLY.check("peer add (name, key, ip, routes)")


class FakeUci:
    """Only what load_server reads: the server section, exactly as a hostile writer left it."""

    confdir = paths.SYSTEM_CONFDIR

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def sections(self, config: str, type: str | None = None) -> list[Section]:
        return [Section("server", "server", False, self.options)] if type == "server" else []


SERVER_TALLY = Tally()
OPTION_VALUES = {
    "remote_pppd": hostile("/usr/sbin/pppd", "sudo -n /usr/sbin/pppd",
                           "/usr/bin/sudo -n /usr/local/sbin/pppd", "/bin/sh -s"),
    "pool": hostile("10.64.0.0/24", "192.168.100.0/30", "10.0.0.0/8", "10.64.0.7/24"),
    "dns": st.one_of(hostile("192.0.2.53", "198.51.100.1"),
                     st.lists(hostile("192.0.2.53", "203.0.113.9"), max_size=3).map(tuple)),
    "authorized_keys": hostile("/etc/dropbear/authorized_keys", "/root/.ssh/authorized_keys",
                               "/etc/passwd", "/var/lib/pppossh/.ssh/authorized_keys"),
    "sshd": hostile("auto", "dropbear", "openssh"),
}
GOOD_VALUES = {
    "remote_pppd": ["/usr/sbin/pppd", "sudo -n /usr/sbin/pppd", "/usr/local/sbin/pppd"],
    "pool": ["10.64.0.0/24", "192.168.100.0/30", "10.0.0.0/8"],
    "dns": ["192.0.2.53", ("192.0.2.53", "203.0.113.9")],
    "authorized_keys": ["/etc/dropbear/authorized_keys", "/root/.ssh/authorized_keys"],
    "sshd": ["auto", "dropbear", "openssh"],
}
ALLOWED_KEYS = {"/etc/dropbear/authorized_keys", "/root/.ssh/authorized_keys",
                f"{paths.home_of(0)}/.ssh/authorized_keys"}


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(focus=st.sampled_from([*OPTION_VALUES, "all"]), data=st.data(), sudo=st.booleans())
def _server_option_cases(focus: str, data: st.DataObject, sudo: bool) -> None:
    """One option hostile (the others left out or valid), or all of them at once."""
    options = {}
    for option, bad in OPTION_VALUES.items():
        if focus in (option, "all"):
            options[option] = data.draw(bad, label=option)
        elif data.draw(st.booleans(), label=f"set {option}"):
            options[option] = data.draw(st.sampled_from(GOOD_VALUES[option]), label=option)
    SERVER_TALLY.counts[f"hostile {focus}"] += 1
    try:
        server = peers.load_server(FakeUci(options))
        hosts = server.network.hosts()
        next(hosts)
        peer = peers.Peer("branch-1", KEYS[0], server.server_address, str(next(hosts)),
                          ("192.168.10.0/24",))
        peers.check_addresses(server, [peer])
        block = render.managed_block(peers.sshd_kind(server), server, [peer], sudo=sudo)
    except (ConfigError, ValueError) as exc:
        SERVER_TALLY.refused(exc)
        return
    SERVER_TALLY.accepted()
    assert server.authorized_keys in ALLOWED_KEYS, server.authorized_keys
    assert server.sshd in ("auto", "dropbear", "openssh")
    (line,) = parse_file(block)
    assert line["pppd"] == server.pppd_path
    assert line["prefix"] == (["sudo", "-n"] if sudo else list(server.pppd_argv[:-1]))
    assert (line["local"], line["remote"]) == (peer.ipaddr, peer.peeraddr)
    assert line["dns"] == list(server.dns)


def test_hostile_server_options() -> None:
    _server_option_cases()
    SERVER_TALLY.check("server options (remote_pppd, pool, dns, authorized_keys, sshd)")


USER_TALLY = Tally()


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(user=hostile("pppossh", "vpnpeers", "root", "daemon", "nobody", ".", "..", "_vpn-1"))
def _setup_user_cases(user: str) -> None:
    with tempfile.TemporaryDirectory() as base:
        uci = fresh_tree(base, existing=True)
        try:
            script = setup.setup_script(uci, user)
        except (ConfigError, ValueError) as exc:
            USER_TALLY.refused(exc)
            return
    USER_TALLY.accepted()
    assert paths.USER.fullmatch(user) and user != "root"
    assert not paths.account_exists(user) or paths.own_account(user)
    assert f"\nuser={user}\nhome=/var/lib/{user}\n" in script
    for line_word in ("local", "notty"):
        assert f"\n{user} ALL=(root) NOPASSWD: /usr/sbin/pppd nodetach noauth" \
               f" lcp-echo-interval 4 lcp-echo-failure 4 ipparam" \
               f" pppossh-branch-1 10.64.0.1\\:10.64.0.2 ms-dns 192.0.2.53 {line_word}\n" \
               in script
    lines = script.split("<<'PPPOSSH_END_OF_FILE'\n")[2].split("PPPOSSH_END_OF_FILE")[0]
    (line,) = parse_file(lines)
    assert line["prefix"] == ["sudo", "-n"] and line["opts"] == "restrict,pty"


def test_hostile_server_setup_user() -> None:
    _setup_user_cases()
    USER_TALLY.check("server-setup --user")


DEL_TALLY = Tally()


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(name=hostile("branch-1", "branch-2", "cfg01"))
def _del_peer_cases(name: str) -> None:
    with tempfile.TemporaryDirectory() as base:
        uci = fresh_tree(base, existing=True)
        try:
            removed = peers.del_peer(uci, name)
        except (ConfigError, ValueError) as exc:
            DEL_TALLY.refused(exc)
            assert [p.name for p in peers.load_peers(uci)] == ["branch-1"]
            return
        DEL_TALLY.accepted()
        assert removed.name == name == "branch-1" and peers.load_peers(uci) == []


def test_hostile_peer_del() -> None:
    _del_peer_cases()
    DEL_TALLY.check("peer del")
