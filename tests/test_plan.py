"""make_plan(Config, HostFacts): the SSH client argv, the remote command, the pppd argv and the
per-interface known_hosts, for dbclient and OpenSSH, from the golden vpn section
(golden/netifd/01-ifup-vpn setup JSON with a valid host key in place of the placeholder).
"""

from __future__ import annotations

import dataclasses
import shlex

import pytest
from helpers import ed25519_key, setup_json, with_hostkey

from pppossh.config import Config, checks, from_netifd_json
from pppossh.config.pppd_options import REMOTE_LCP_ECHO, TTY_CHOICE
from pppossh.errors import ConfigError
from pppossh.plan import make_plan
from pppossh.plan.facts import HostFacts

KEY = ed25519_key()
K1, K2 = "/etc/dropbear/id_vpn", "/etc/dropbear/my key with space"
DBCLIENT, SSH = "/usr/bin/dbclient", "/usr/bin/ssh"
HOOKS = "/usr/lib/pppossh/ppp"


def golden_config(**changes) -> Config:
    config = from_netifd_json("vpn", with_hostkey(setup_json("01-ifup-vpn", "vpn"), KEY))
    return dataclasses.replace(config, **changes)


def facts(client: str = "dbclient", fmt: str | None = None, **changes) -> HostFacts:
    fmt = fmt or ("dropbear" if client == "dbclient" else "openssh")
    base = HostFacts(
        clients={"dbclient": DBCLIENT} if client == "dbclient" else {"openssh": SSH},
        pppd="/usr/sbin/pppd",
        pppd_version=(2, 4, 9),
        key_formats={K1: fmt, K2: fmt},
        home="/root",
        keydir="/etc/pppossh/keys",
        rundir="/var/run/pppossh",
        python="/usr/bin/python3",
        hooks_dir=HOOKS,
    )
    return dataclasses.replace(base, **changes)


def value_after(argv, option: str) -> str:
    """The word after the first ``option`` in ``argv``."""
    return argv[list(argv).index(option) + 1]


def o_options(argv) -> list[str]:
    """The values of every ``-o`` in an argv."""
    return [argv[i + 1] for i, word in enumerate(argv) if word == "-o"]


# --- the SSH client ----------------------------------------------------------------------------


def test_dbclient_argv_exact() -> None:
    """dbclient: -t (a terminal for the server's pppd), one -i per identity, -p, -l,
    -K <ssh_keepalive>, -W <a 1 MiB receive window>, ssh_options translated
    (-o "Ciphers aes128-ctr" -> -c aes128-ctr), server, remote command as one word."""
    plan = make_plan(golden_config(), facts())
    assert plan.client == "dbclient"
    assert list(plan.ssh_argv) == [
        DBCLIENT, "-t", "-i", K1, "-i", K2, "-p", "2222", "-l", "vpn", "-K", "15",
        "-W", "1048576", "-c", "aes128-ctr", "vpn.example.net",
        TTY_CHOICE + " pppd nodetach $t noauth lcp-echo-interval 4 lcp-echo-failure 4",
    ]


def test_dbclient_window_can_be_set_in_ssh_options() -> None:
    """A router short of memory sets a smaller window: dbclient takes the last -W."""
    plan = make_plan(golden_config(ssh_options="-W 262144"), facts())
    windows = [plan.ssh_argv[i + 1] for i, w in enumerate(plan.ssh_argv) if w == "-W"]
    assert windows == ["1048576", "262144"]


def test_dbclient_never_accepts_unknown_keys() -> None:
    """dbclient waits forever or trusts blindly with -y/-yy: never passed."""
    plan = make_plan(golden_config(ssh_keepalive=0), facts())
    assert not [w for w in plan.ssh_argv if w.startswith("-y")]
    assert "-K" not in plan.ssh_argv  # ssh_keepalive 0 turns keepalives off


def test_dbclient_only_existing_identities() -> None:
    """Identities that do not exist (not in key_formats) are skipped: one -i per existing."""
    plan = make_plan(golden_config(), facts(key_formats={K2: "dropbear"}))
    assert [w for w in plan.ssh_argv if w == "-i"] == ["-i"]
    assert value_after(plan.ssh_argv, "-i") == K2
    assert plan.identities == (K2,)


def test_openssh_argv() -> None:
    """OpenSSH: a terminal without escape character, BatchMode, strict host key checking
    against the per-interface known_hosts, ServerAliveInterval and ConnectTimeout from the
    table; ssh_options kept as given."""
    plan = make_plan(golden_config(), facts("openssh"))
    argv = list(plan.ssh_argv)
    assert plan.client == "openssh"
    assert argv[:12] == [SSH, "-t", "-e", "none", "-i", K1, "-i", K2, "-p", "2222", "-l", "vpn"]
    options = o_options(argv)
    for wanted in ("BatchMode=yes", "StrictHostKeyChecking=yes",
                   f"UserKnownHostsFile={plan.known_hosts}", "ServerAliveInterval=15",
                   "ConnectTimeout=30", "Ciphers aes128-ctr"):
        assert wanted in options, wanted
    assert argv[-2:] == ["vpn.example.net",
                         TTY_CHOICE + " pppd nodetach $t noauth"
                         " lcp-echo-interval 4 lcp-echo-failure 4"]
    assert "-K" not in argv


def test_known_hosts_file_is_per_interface() -> None:
    """The known_hosts file lives in the interface's own state dir, under rundir."""
    one = make_plan(golden_config(), facts("openssh"))
    other = make_plan(golden_config(iface="vpn2"), facts("openssh"))
    assert one.known_hosts.startswith("/var/run/pppossh/vpn/")
    assert other.known_hosts.startswith("/var/run/pppossh/vpn2/")
    assert one.known_hosts != other.known_hosts
    assert one.known_hosts.startswith(one.home + "/")


def test_known_hosts_text_dbclient() -> None:
    """dbclient matches 'host key' lines (no port, no brackets)."""
    plan = make_plan(golden_config(), facts())
    assert plan.known_hosts_text.splitlines() == [f"vpn.example.net {KEY}"]


def test_known_hosts_text_openssh() -> None:
    """OpenSSH writes '[host]:port key' for a port other than 22, 'host key' for 22."""
    plan = make_plan(golden_config(), facts("openssh"))
    assert plan.known_hosts_text.splitlines() == [f"[vpn.example.net]:2222 {KEY}"]
    plan22 = make_plan(golden_config(port=22), facts("openssh"))
    assert plan22.known_hosts_text.splitlines() == [f"vpn.example.net {KEY}"]


def test_known_hosts_from_user_file_when_not_pinned() -> None:
    """Without hostkey, keys the user's known_hosts trusts for the server are used."""
    other = ed25519_key(7)
    plan = make_plan(golden_config(hostkey=()), facts(known_host_keys=(other,)))
    assert plan.host_keys == (other,)
    assert plan.known_hosts_text.splitlines() == [f"vpn.example.net {other}"]


def _contains(words: list[str], part: list[str]) -> bool:
    return any(words[i : i + len(part)] == part for i in range(len(words)))


@pytest.mark.parametrize("client", ["dbclient", "openssh"])
def test_pty_runs_the_client_with_private_home(client: str) -> None:
    """The pty string sets HOME to the interface's home and runs exactly the ssh argv;
    dbclient runs behind the password-prompt guard for connect_timeout."""
    plan = make_plan(golden_config(ssh_client=client), facts(client))
    words = shlex.split(plan.pty)
    assert words[0] == f"HOME={plan.home};"
    assert _contains(words, list(plan.ssh_argv))
    assert plan.ssh_log in plan.pty
    if client == "openssh":
        assert "while" not in plan.pty
        assert "BatchMode=yes" in plan.ssh_argv  # OpenSSH never asks for a password
    else:
        assert "[ $i -lt 30 ]" in plan.pty  # connect_timeout of the golden section


# --- the remote command ------------------------------------------------------------------------


def test_remote_command_default() -> None:
    """<remote_pppd> nodetach local|notty noauth: the server's shell picks the line's word."""
    plan = make_plan(golden_config(), facts())
    assert plan.remote_command == TTY_CHOICE + (
        " pppd nodetach $t noauth lcp-echo-interval 4 lcp-echo-failure 4")
    assert plan.ssh_argv[-1] == plan.remote_command


def test_remote_command_with_options() -> None:
    """remote_pppd and peer_pppd_options are split into words and appended in order."""
    config = golden_config(
        remote_pppd="sudo -n /usr/sbin/pppd",
        peer_pppd_options="10.99.0.2:10.99.0.1 ms-dns 192.0.2.53 'name x y'",
    )
    plan = make_plan(config, facts())
    assert plan.remote_command.startswith(TTY_CHOICE + " ")
    assert shlex.split(plan.remote_command[len(TTY_CHOICE):]) == [
        "sudo", "-n", "/usr/sbin/pppd", "nodetach", "$t", "noauth", *REMOTE_LCP_ECHO,
        "10.99.0.2:10.99.0.1", "ms-dns", "192.0.2.53", "name x y",
    ]


# --- pppd --------------------------------------------------------------------------------------


def test_pppd_argv_shape() -> None:
    """pppd argv: OpenWrt's ppp head, LCP echo from keepalive '5 3' (failure 5, interval 3),
    nodefaultroute usepeerdns, mtu/mru, our hooks, then noauth pty <pty> ipaddr:peeraddr."""
    plan = make_plan(golden_config(), facts())
    argv = list(plan.pppd_argv)
    assert argv[:6] == ["/usr/sbin/pppd", "nodetach", "ipparam", "vpn", "ifname", "pppossh-vpn"]
    assert value_after(argv, "lcp-echo-interval") == "3"
    assert value_after(argv, "lcp-echo-failure") == "5"
    assert "nodefaultroute" in argv and "usepeerdns" in argv and "noccp" in argv
    assert "defaultroute" not in argv
    assert value_after(argv, "mtu") == "1400" and value_after(argv, "mru") == "1400"
    assert value_after(argv, "ip-up-script") == f"{HOOKS}/ip-up"
    assert value_after(argv, "ip-down-script") == f"{HOOKS}/ip-down"
    assert "+ipv6" not in argv and "ipv6-up-script" not in argv
    assert argv[-4:] == ["noauth", "pty", plan.pty, "10.99.0.1:10.99.0.2"]


def test_pppd_tells_the_hooks_their_mode() -> None:
    """Under netifd the hooks are shell alone and need no Python; standalone they run the
    helper with the Python that planned the session."""
    netifd = list(make_plan(golden_config(), facts(), mode="netifd").pppd_argv)
    standalone = list(make_plan(golden_config(), facts(), mode="standalone").pppd_argv)
    assert "PPPOSSH_MODE=netifd" in netifd and not any("PPPOSSH_PYTHON" in w for w in netifd)
    assert "PPPOSSH_PYTHON=/usr/bin/python3" in standalone
    assert not any("PPPOSSH_MODE" in w for w in standalone)
    assert len(netifd) == len(standalone) - ("usepeerdns" not in standalone)


@pytest.mark.parametrize("ipv6,peerdns,word", [
    ("auto", True, "PPPOSSH_AUTOIPV6=1"), ("auto", False, "PPPOSSH_AUTOIPV6=nodns"),
    ("1", True, None), ("0", True, None)])
def test_ipv6_auto_asks_the_hook_for_dhcpv6_under_netifd(ipv6: str, peerdns: bool,
                                                         word: str | None) -> None:
    """ipv6 auto and 1 both negotiate IPv6CP; auto under netifd also tells the ipv6-up hook
    to add the DHCPv6 interface (with the interface's peerdns), as OpenWrt's ppp does."""
    config = golden_config(ipv6=ipv6, peerdns=peerdns)
    netifd = list(make_plan(config, facts(), mode="netifd").pppd_argv)
    standalone = list(make_plan(config, facts(), mode="standalone").pppd_argv)
    assert ("+ipv6" in netifd) is (ipv6 != "0") and ("noipv6" in netifd) is (ipv6 == "0")
    auto = [w for w in netifd if w.startswith("PPPOSSH_AUTOIPV6")]
    assert auto == ([word] if word else [])
    if word:
        assert netifd[netifd.index(word) - 1] == "set"
    assert not any(w.startswith("PPPOSSH_AUTOIPV6") for w in standalone)


def test_pppd_empty_keepalive_is_openwrts_default() -> None:
    """An empty keepalive gives OpenWrt's ppp default: '5 1', adaptive."""
    plan = make_plan(golden_config(keepalive=""), facts())
    argv = list(plan.pppd_argv)
    start = argv.index("lcp-echo-interval")
    assert argv[start:start + 5] == [
        "lcp-echo-interval", "1", "lcp-echo-failure", "5", "lcp-echo-adaptive"]


@pytest.mark.parametrize("keepalive", ["0", "0 0", "0 5"])
def test_pppd_keepalive_zero_turns_lcp_echo_off(keepalive: str) -> None:
    plan = make_plan(golden_config(keepalive=checks.keepalive(keepalive)), facts())
    assert not any(w.startswith("lcp-echo") for w in plan.pppd_argv)


def test_pppd_keepalive_interval_defaults_to_5() -> None:
    """'3' alone: failure 3, OpenWrt's interval 5."""
    argv = list(make_plan(golden_config(keepalive="3"), facts()).pppd_argv)
    assert value_after(argv, "lcp-echo-interval") == "5"
    assert value_after(argv, "lcp-echo-failure") == "3"


def test_pppd_options_last() -> None:
    """pppd_options come last, split into words."""
    plan = make_plan(golden_config(pppd_options="debug lcp-echo-adaptive"), facts())
    assert list(plan.pppd_argv[-6:]) == [
        "noauth", "pty", plan.pty, "10.99.0.1:10.99.0.2", "debug", "lcp-echo-adaptive"]


def test_pppd_ipv6_on_249() -> None:
    """ipv6 1 with pppd 2.4.9 (Debian): +ipv6, but no ipv6-up/down-script (2.4.9 exits 2)."""
    plan = make_plan(golden_config(ipv6=True), facts(pppd_version=(2, 4, 9)))
    assert "+ipv6" in plan.pppd_argv
    assert "ipv6-up-script" not in plan.pppd_argv
    assert "ipv6-down-script" not in plan.pppd_argv


def test_pppd_ipv6_on_25() -> None:
    """ipv6 1 with pppd 2.5 (OpenWrt): +ipv6 and the IPv6 hooks. The hook script tells the
    event by its own name (${0##*/}), so the IPv6 events must run ipv6-up/ipv6-down."""
    plan = make_plan(golden_config(ipv6=True), facts(pppd_version=(2, 5, 1)))
    argv = list(plan.pppd_argv)
    assert "+ipv6" in argv
    assert value_after(argv, "ipv6-up-script") == f"{HOOKS}/ipv6-up"
    assert value_after(argv, "ipv6-down-script") == f"{HOOKS}/ipv6-down"


def test_pppd_no_ipv6_scripts_without_ipv6() -> None:
    plan = make_plan(golden_config(), facts(pppd_version=(2, 5, 1)))
    assert "ipv6-up-script" not in plan.pppd_argv and "+ipv6" not in plan.pppd_argv


def test_pppd_without_addresses() -> None:
    """No ipaddr/peeraddr: no 'a:b' word, and noipdefault."""
    plan = make_plan(golden_config(ipaddr="", peeraddr=""), facts())
    assert plan.pppd_argv[-1] == plan.pty
    assert "noipdefault" in plan.pppd_argv


def test_plan_is_pure() -> None:
    """Same Config and HostFacts, same plan."""
    assert make_plan(golden_config(), facts()) == make_plan(golden_config(), facts())


# --- identities --------------------------------------------------------------------------------


def _default_key_facts(client: str) -> HostFacts:
    keys = "/etc/pppossh/keys"
    formats = {
        f"{keys}/vpn": "dropbear", f"{keys}/vpn.openssh": "openssh",
        f"{keys}/shared": "dropbear", f"{keys}/shared.openssh": "openssh",
        "/root/.ssh/id_ed25519": "openssh", "/root/.ssh/id_dropbear": "dropbear",
        "/root/.ssh/id_rsa": "pem",
    }
    return facts(client, key_formats=formats)


def test_default_identity_order_dbclient() -> None:
    """No identity configured: the interface's own key first, then the usual files; only the
    formats dbclient reads."""
    plan = make_plan(golden_config(identity=()), _default_key_facts("dbclient"))
    assert plan.identities == (
        "/etc/pppossh/keys/vpn", "/etc/pppossh/keys/shared", "/root/.ssh/id_dropbear")


def test_default_identity_order_openssh() -> None:
    plan = make_plan(golden_config(identity=()), _default_key_facts("openssh"))
    assert plan.identities == (
        "/etc/pppossh/keys/vpn.openssh", "/etc/pppossh/keys/shared.openssh",
        "/root/.ssh/id_ed25519", "/root/.ssh/id_rsa")


def test_no_identity() -> None:
    """None of the configured files exist -> NO_IDENTITY with the keygen command."""
    with pytest.raises(ConfigError) as err:
        make_plan(golden_config(), facts(key_formats={}))
    assert err.value.code == "NO_IDENTITY"
    assert "pppossh keygen vpn" in err.value.message


def test_no_default_identity() -> None:
    with pytest.raises(ConfigError) as err:
        make_plan(golden_config(identity=()), facts(key_formats={}))
    assert err.value.code == "NO_IDENTITY"


def test_openssh_key_with_dbclient_is_invalid_identity() -> None:
    """An OpenSSH-format key listed for dbclient -> INVALID_IDENTITY with the conversion."""
    with pytest.raises(ConfigError) as err:
        make_plan(golden_config(), facts(key_formats={K1: "openssh", K2: "dropbear"}))
    assert err.value.code == "INVALID_IDENTITY"
    assert "dropbearconvert" in err.value.message and K1 in err.value.message


def test_unreadable_identity() -> None:
    with pytest.raises(ConfigError) as err:
        make_plan(golden_config(), facts(unreadable=frozenset({K1})))
    assert err.value.code == "UNREADABLE_IDENTITY"


# --- other errors ------------------------------------------------------------------------------


def test_hostkey_unknown() -> None:
    """No pinned key and none in the user's known_hosts -> HOSTKEY_UNKNOWN (dbclient would
    wait forever), naming pppossh trust and the option."""
    with pytest.raises(ConfigError) as err:
        make_plan(golden_config(hostkey=()), facts())
    assert err.value.code == "HOSTKEY_UNKNOWN"
    assert "pppossh trust vpn" in err.value.message
    assert "network.vpn.hostkey" in err.value.message


def test_no_ssh_client() -> None:
    with pytest.raises(ConfigError) as err:
        make_plan(golden_config(), facts(clients={}))
    assert err.value.code == "NO_SSH_CLIENT"


def test_chosen_client_missing() -> None:
    """ssh_client openssh with only dbclient installed -> NO_SSH_CLIENT naming the option."""
    with pytest.raises(ConfigError) as err:
        make_plan(golden_config(ssh_client="openssh"), facts())
    assert err.value.code == "NO_SSH_CLIENT"
    assert "network.vpn.ssh_client" in err.value.message


def test_auto_prefers_dbclient() -> None:
    both = facts(clients={"dbclient": DBCLIENT, "openssh": SSH})
    assert make_plan(golden_config(), both).client == "dbclient"
    formats = {K1: "openssh", K2: "openssh"}
    chosen = make_plan(golden_config(ssh_client="openssh"), dataclasses.replace(
        both, key_formats=formats))
    assert chosen.client == "openssh"


@pytest.mark.parametrize(
    "client,options",
    [
        ("dbclient", "-y"),
        ("dbclient", "-K 5"),
        ("dbclient", "-J 'nc x 22'"),
        ("dbclient", "-oProxyCommand=touch canary"),
        ("openssh", "-oProxyCommand=touch canary"),
        ("openssh", "-o StrictHostKeyChecking=no"),
        ("openssh", "-o UserKnownHostsFile=/dev/null"),
        ("openssh", "-o LocalCommand=x"),
        ("openssh", "-p 22"),
        ("openssh", "evil.example.net"),
        ("openssh", "-c"),
    ],
)
def test_invalid_ssh_options(client: str, options: str) -> None:
    """Options that would skip host key checks, run commands or fight pppossh's own ->
    INVALID_SSH_OPTIONS naming network.<iface>.ssh_options."""
    with pytest.raises(ConfigError) as err:
        make_plan(golden_config(ssh_options=options), facts(client))
    assert err.value.code == "INVALID_SSH_OPTIONS"
    assert "network.vpn.ssh_options" in err.value.message


@pytest.mark.parametrize(
    "options,words",
    [
        ('-o "Ciphers aes128-ctr"', ["-c", "aes128-ctr"]),
        ("-o Ciphers=aes128-ctr,aes256-ctr", ["-c", "aes128-ctr,aes256-ctr"]),
        ("-o MACs=hmac-sha2-256", ["-m", "hmac-sha2-256"]),
        ("-c aes256-ctr", ["-c", "aes256-ctr"]),
        ("-o Compression=yes", []),
    ],
)
def test_dbclient_translates_openssh_options(options: str, words: list[str]) -> None:
    """OpenSSH -o spellings become dbclient flags; keywords dbclient lacks are dropped."""
    plan = make_plan(golden_config(ssh_options=options), facts())
    assert list(plan.ssh_argv[14:-2]) == words


def test_openssh_keeps_options() -> None:
    plan = make_plan(golden_config(ssh_options="-o Compression=yes -4"), facts("openssh"))
    assert list(plan.ssh_argv[-5:-2]) == ["-o", "Compression=yes", "-4"]


@pytest.mark.parametrize("words", ["-F /tmp/evil_config", "-E /tmp/log", "-Fx"])
def test_openssh_config_file_and_log_file_are_refused(words: str) -> None:
    from pppossh.plan.ssh_options import ssh_option_words

    with pytest.raises(ValueError) as err:
        ssh_option_words(words, "openssh")
    assert "not allowed" in str(err.value)
