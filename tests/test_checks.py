"""Value checks (pppossh/config/checks.py): good values pass (normalised), bad ones raise
ValueError with a sentence, and - the security part, as DESIGN.md asks ("reject what cannot be
valid ... before any process starts") - nothing a shell gives meaning to gets through the checks
for server names, user names and word lists.
"""

from __future__ import annotations

import ipaddress
import re
import shlex

import pytest
from helpers import GOLDEN_PLACEHOLDER_KEY, ed25519_key
from hypothesis import given, settings
from hypothesis import strategies as st

from pppossh.config import checks

# --- examples ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,normal",
    [
        ("vpn.example.net", "vpn.example.net"),
        ("vpn.example.net.", "vpn.example.net."),
        ("router-1", "router-1"),
        ("192.0.2.2", "192.0.2.2"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0::1", "2001:db8::1"),
        (" 192.0.2.2 ", "192.0.2.2"),
    ],
)
def test_host_good(value: str, normal: str) -> None:
    """Host names and IP literals are accepted in normal form."""
    assert checks.host(value) == normal


@pytest.mark.parametrize(
    "value",
    ["", "  ", "vpn@example.net", "example.net:22", "[2001:db8::1]", "-oProxyCommand=x",
     "a b", "a;b", "$(touch x)", "`x`", "a/b", "a..b", "-a.example", "a-.example",
     "x" * 64 + ".net", "a\nb", "ex'ample", 'ex"ample', "fe80::1%$(touch x)", "fe80::1%a b",
     "fe80::1%;x"],
)
def test_host_bad(value: str) -> None:
    """User names, ports, brackets, shell syntax and options are not host names."""
    with pytest.raises(ValueError):
        checks.host(value)


def test_host_bad_messages_say_what_to_do() -> None:
    """The errors for the common mistakes point at the right option or spelling."""
    with pytest.raises(ValueError, match="without brackets"):
        checks.host("[2001:db8::1]")
    with pytest.raises(ValueError, match="sshuser and port"):
        checks.host("vpn@example.net")


@pytest.mark.parametrize("value", [1, 22, 65535])
def test_port_good(value: int) -> None:
    assert checks.port(value) == value


@pytest.mark.parametrize("value", [0, -1, 65536, 1215752191])
def test_port_bad(value: int) -> None:
    with pytest.raises(ValueError, match="1 to 65535"):
        checks.port(value)


@pytest.mark.parametrize("value", ["vpn", "user2", "a.b", "_svc", "a-b", "x" * 32])
def test_username_good(value: str) -> None:
    assert checks.username(value) == value


@pytest.mark.parametrize(
    "value",
    ["", "-oProxyCommand=x", "-l", "a b", "a@b", "a;b", "$(id)", "x" * 33, "a/b", "vpn\n",
     "ä"],
)
def test_username_bad(value: str) -> None:
    with pytest.raises(ValueError):
        checks.username(value)


@pytest.mark.parametrize("value", ["/etc/dropbear/id_vpn", "/etc/dropbear/my key with space"])
def test_abspath_good(value: str) -> None:
    assert checks.abspath(value) == value


@pytest.mark.parametrize("value", ["id_vpn", "~/.ssh/id", "/a/../b", "/a/..", "/a/", "/a\nb", ""])
def test_abspath_bad(value: str) -> None:
    with pytest.raises(ValueError):
        checks.abspath(value)


def test_ip_checks() -> None:
    """ipv4 only IPv4, ipaddr either family, cidr normalises to the network."""
    assert checks.ipv4("10.99.0.1") == "10.99.0.1"
    assert checks.ipaddr("2001:db8::1") == "2001:db8::1"
    assert checks.cidr("10.1.2.3/8") == "10.0.0.0/8"
    assert checks.cidr("2001:db8::/32") == "2001:db8::/32"
    for bad in ("::1", "10.0.0", "x", "10.0.0.1/32"):
        with pytest.raises(ValueError):
            checks.ipv4(bad)
    with pytest.raises(ValueError):
        checks.ipaddr("vpn.example.net")
    for bad in ("x", "10.0.0.0/33", "10.0.0.0/"):
        with pytest.raises(ValueError, match="address/prefix"):
            checks.cidr(bad)


def test_hostkey_good() -> None:
    """A 'type base64' key is accepted; a trailing comment is dropped."""
    key = ed25519_key()
    assert checks.hostkey(key) == key
    assert checks.hostkey(f"{key} root@server") == key
    assert checks.hostkey(f"  {key}  ") == key


def test_hostkey_bad() -> None:
    """Placeholder data, a known_hosts line, a type mismatch and junk are refused."""
    key = ed25519_key()
    with pytest.raises(ValueError, match="base64"):
        checks.hostkey(GOLDEN_PLACEHOLDER_KEY)
    with pytest.raises(ValueError, match="without the host name"):
        checks.hostkey(f"vpn.example.net {key}")
    with pytest.raises(ValueError, match="ssh-ed25519"):
        checks.hostkey("ssh-rsa " + key.split()[1])
    for bad in ("", "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5", "ssh-dss AAAA", f"{key}\nx y"):
        with pytest.raises(ValueError):
            checks.hostkey(bad)


@pytest.mark.parametrize(
    "value,normal", [("5 3", "5 3"), ("5,3", "5 3"), (" 5  3 ", "5 3"), ("5", "5"), ("0", "0"),
                    ("0 0", "0 0")]
)
def test_keepalive_good(value: str, normal: str) -> None:
    """'failure interval', space or comma separated, as OpenWrt's ppp reads it."""
    assert checks.keepalive(value) == normal


@pytest.mark.parametrize("value", ["often", "5 0", "1 2 3", "-1 3", "5 x", "", "²", "5²"])
def test_keepalive_bad(value: str) -> None:
    """Anything but one or two numbers (interval not 0) is refused; '²' passes str.isdigit()
    but int() cannot read it, so the pppd argv could not be built from it."""
    with pytest.raises(ValueError):
        checks.keepalive(value)


def test_shell_words_good() -> None:
    """Golden vpn's ssh_options split like a shell: quotes group, and are gone."""
    assert checks.shell_words('-o "Ciphers aes128-ctr"', "ssh_options") == [
        "-o", "Ciphers aes128-ctr"]
    assert checks.shell_words("", "x") == []


@pytest.mark.parametrize(
    "value",
    ["a;b", "$(touch x)", "`touch x`", "a|b", "a&b", "a>b", "a<b", "'a;b'", '"$HOME"', "\\;",
     "'unterminated", "a\nb", "a\tb"],
)
def test_shell_words_bad(value: str) -> None:
    """Metacharacters (even quoted), unbalanced quotes and control characters are refused."""
    with pytest.raises(ValueError):
        checks.shell_words(value, "ssh_options")


def test_shell_words_error_names_option() -> None:
    with pytest.raises(ValueError, match="peer_pppd_options"):
        checks.shell_words("a;b", "peer_pppd_options")


@pytest.mark.parametrize(
    "value",
    ["pty x", "nodetach", "+ipv6 ifname ppp0", "file /etc/ppp/x", "call x", "plugin x.so",
     "ip-up-script /x", "defaultroute", "mtu 1400", "connect x"],
)
def test_pppd_words_reserved(value: str) -> None:
    """Options pppossh sets itself (or that would override them) are refused in pppd_options."""
    with pytest.raises(ValueError, match="pppd_options must not contain"):
        checks.pppd_words(value)


def test_pppd_words_good() -> None:
    assert checks.pppd_words("debug lcp-echo-adaptive") == "debug lcp-echo-adaptive"


@pytest.mark.parametrize(
    "value", ["init 'touch canary'", "disconnect 'touch canary'", "welcome 'touch canary'"]
)
def test_pppd_words_refuse_script_options(value: str) -> None:
    """pppd runs the argument of init/connect/disconnect/welcome with /bin/sh -c: text from
    UCI must not reach a shell that way (DESIGN.md). `connect` is refused, its siblings too."""
    with pytest.raises(ValueError):
        checks.pppd_words(value)


@pytest.mark.parametrize("value", ["pppd", "sudo -n /usr/sbin/pppd", "/usr/sbin/pppd"])
def test_remote_command_good(value: str) -> None:
    assert checks.remote_command(value) == value


@pytest.mark.parametrize("value", ["", "-x", "pppd; reboot", "$(reboot)", "pppd `id`"])
def test_remote_command_bad(value: str) -> None:
    with pytest.raises(ValueError, match="remote_pppd"):
        checks.remote_command(value)


def test_ssh_client_choice() -> None:
    for good in ("auto", "dbclient", "openssh"):
        assert checks.SSH_CLIENT(good) == good
    with pytest.raises(ValueError, match="auto, dbclient, openssh"):
        checks.SSH_CLIENT("ssh")


def test_uint_range() -> None:
    check = checks.uint(5, 600)
    assert check(5) == 5 and check(600) == 600
    for bad in (4, 601, -1):
        with pytest.raises(ValueError, match="5 to 600"):
            check(bad)


def test_secret_text() -> None:
    """Free text (username/password) only refuses control characters."""
    assert checks.TEXT("pass word;$x") == "pass word;$x"
    with pytest.raises(ValueError, match="control character"):
        checks.TEXT("a\nb")


@pytest.mark.parametrize("value", ["vpn", "wan_1", "a" * 7])
def test_interface_name_good(value: str) -> None:
    assert checks.interface_name(value) == value


@pytest.mark.parametrize("value", ["", "a" * 8, "a-b", "a b", "vpn\n", "a;b", "vpn/x"])
def test_interface_name_bad(value: str) -> None:
    """pppossh-<name> must fit 15 characters and be a plain word."""
    with pytest.raises(ValueError):
        checks.interface_name(value)


# --- properties --------------------------------------------------------------------------------

HOSTILE = list(";$`'\"@/ \t\n|&<>()*\\%[]:,!#~")
_NAME_CHARS = "abcxyzAZ019-._"
_RFC1123ISH = re.compile(
    r"\A(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?\Z"
)
_WHITESPACE = re.compile(r"\s")


@st.composite
def host_candidates(draw: st.DrawFn) -> str:
    """Random text from name and hostile characters, or a valid name/IP with hostile text
    inserted or appended (the near misses a lax check lets through)."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.text(alphabet=list(_NAME_CHARS) + HOSTILE, max_size=30))
    base = draw(
        st.sampled_from(["vpn.example.net", "192.0.2.2", "2001:db8::2", "fe80::1", "-x", "a"])
    )
    junk = draw(st.text(alphabet=list(_NAME_CHARS) + HOSTILE, min_size=1, max_size=12))
    if kind == 1:
        return base + draw(st.sampled_from(["", "%", "%eth0", ":", "@"])) + junk
    cut = draw(st.integers(0, len(base)))
    return base[:cut] + junk + base[cut:]


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(host_candidates())
def test_host_accepts_only_names_and_ip_literals(value: str) -> None:
    """host() accepts only IP literals or RFC-1123-ish names, and never a value that contains
    whitespace (around it is trimmed), ; $ ` quotes @ / , ':' outside an IPv6 literal, or
    starts with '-' - not even hidden in an IPv6 scope ('fe80::1%...')."""
    try:
        result = checks.host(value)
    except ValueError:
        return
    core = value.strip()
    assert _is_ip(result) or _RFC1123ISH.match(result), result
    assert not _WHITESPACE.search(core), value
    assert not set(core) & set(";$`'\"@/|&<>()\\"), value
    assert not core.startswith("-"), value
    if ":" in core:
        assert isinstance(ipaddress.ip_address(result), ipaddress.IPv6Address)
    assert not _WHITESPACE.search(result) and result == result.strip()


@st.composite
def user_candidates(draw: st.DrawFn) -> str:
    """Random text, or a valid user name with hostile text before, inside or after it."""
    alphabet = list(_NAME_CHARS + "@") + HOSTILE + ["\r", "\x00", "\x0b", "ä"]
    if draw(st.booleans()):
        return draw(st.text(alphabet=alphabet, max_size=34))
    base = draw(st.sampled_from(["vpn", "user2", "a.b", "_svc"]))
    junk = draw(st.text(alphabet=alphabet, min_size=1, max_size=6))
    cut = draw(st.sampled_from([0, 1, len(base)]))
    return base[:cut] + junk + base[cut:]


@settings(max_examples=300, deadline=None)
@given(user_candidates())
def test_username_never_accepts_hostile(value: str) -> None:
    """username() never accepts a leading '-', '@', whitespace (anywhere, a trailing newline
    included) or a shell metacharacter; what it accepts is returned unchanged."""
    try:
        result = checks.username(value)
    except ValueError:
        return
    assert result == value
    assert not value.startswith("-")
    assert "@" not in value
    assert not _WHITESPACE.search(value), repr(value)
    assert not set(value) & (checks.SHELL_META | set("()*?[]~#!{}/%\x00"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list("ab -=\"'") + HOSTILE, max_size=30))
def test_shell_words_refuses_metacharacters(value: str) -> None:
    """shell_words() refuses any text with ; & | $ ` < > or a control character - quoting
    does not hide them - and the words it returns carry no shell metacharacter and are what
    a POSIX shell split would give."""
    try:
        words = checks.shell_words(value, "ssh_options")
    except ValueError:
        return
    assert not set(value) & set(";&|$`<>"), value
    assert not re.search(r"[\x00-\x1f\x7f]", value)
    for word in words:
        assert not set(word) & checks.SHELL_META, word
    assert words == shlex.split(value)


@pytest.mark.parametrize("words", ["set PPPOSSH_PYTHON=/tmp/x", "unset PATH", "record /etc/x",
                                   "logfile /etc/shadow", "logfd 2"])
def test_pppd_options_that_would_redirect_our_hooks_or_files(words: str) -> None:
    with pytest.raises(ValueError):
        checks.pppd_words(words)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u00a0", "\u3000", "\x85"])
def test_hostkey_fields_are_separated_by_ascii_spaces_only(separator: str) -> None:
    """A key pasted with a Unicode separator is refused, not quietly normalised."""
    from helpers import ed25519_key

    kind, blob = ed25519_key().split()[:2]
    assert checks.hostkey(f"{kind} {blob}") == f"{kind} {blob}"
    for text in (f"{kind}{separator} {blob}", f"{kind}{separator}{blob}",
                 f"{kind} {blob}{separator}comment"):
        with pytest.raises(ValueError):
            checks.hostkey(text)
