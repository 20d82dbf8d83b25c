"""Check ``ssh_options`` against what each SSH client accepts and what keeps the tunnel safe.

The words are split like a shell would (:func:`pppossh.config.checks.shell_words`), then read
like the client's own option parser.  Flags that would run local commands, skip host key
checks or fight options pppossh sets itself are refused with the option to use instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..config.checks import shell_words


@dataclass(frozen=True)
class ClientFlags:
    """What one client's command line accepts: flags without and with an argument."""

    plain: frozenset[str]
    with_arg: frozenset[str]
    refused: dict[str, str]
    o_allowed: frozenset[str]  # lower-case -o keywords accepted
    o_refused: dict[str, str]


_USE = {
    "p": "use option port",
    "l": "use option sshuser",
    "i": "use option identity",
    "T": "use option remote_pty",
    "t": "use option remote_pty",
    "N": "the tunnel needs the remote pppd command",
    "f": "pppd must supervise the SSH client in the foreground",
    "s": "the tunnel needs the remote pppd command",
    "V": "prints the version and exits",
}

DBCLIENT = ClientFlags(
    plain=frozenset("Agqz"),
    with_arg=frozenset("cmWIbLRo"),
    refused={
        **_USE,
        "y": "pin the server's key instead: pppossh trust <interface> (or option hostkey)",
        "K": "use option ssh_keepalive",
        "J": "a proxy program runs through a shell; not allowed in ssh_options",
        "B": "netcat-style forwarding replaces the remote pppd",
    },
    o_allowed=frozenset({"exitonforwardfailure", "disabletrivialauth", "usesyslog"}),
    o_refused={"port": "use option port"},
)

OPENSSH = ClientFlags(
    plain=frozenset("46ACaqvgkxXY"),
    with_arg=frozenset("cmbBJLRDo"),
    refused={
        **_USE,
        "F": "a config file can run commands (ProxyCommand, Match exec); use single -o options",
        "E": "the client's messages go to pppossh's log, where setup reads why a session ended",
        "W": "stdio forwarding replaces the remote pppd",
        "w": "tun forwarding is a different kind of tunnel",
        "M": "connection sharing is not supported for the tunnel",
        "S": "connection sharing is not supported for the tunnel",
        "O": "connection sharing is not supported for the tunnel",
        "e": "pppossh turns the escape character off: PPP data must not end the session",
        "n": "pppd talks to ssh on stdin",
        "G": "prints the configuration and exits",
        "Q": "prints a query result and exits",
    },
    o_allowed=frozenset(
        k.lower()
        for k in (
            "AddressFamily", "BindAddress", "BindInterface", "CASignatureAlgorithms",
            "CertificateFile", "Ciphers", "Compression", "ConnectionAttempts",
            "DynamicForward", "ExitOnForwardFailure", "FingerprintHash", "ForwardAgent",
            "GatewayPorts", "HostKeyAlgorithms", "HostKeyAlias", "IPQoS", "KexAlgorithms",
            "LocalForward", "LogLevel", "MACs", "PubkeyAcceptedAlgorithms",
            "PubkeyAcceptedKeyTypes", "ProxyJump", "RekeyLimit", "RemoteForward",
            "RequiredRSASize", "ServerAliveCountMax", "TCPKeepAlive", "IdentitiesOnly",
        )
    ),
    o_refused={
        "port": "use option port",
        "user": "use option sshuser",
        "identityfile": "use option identity",
        "serveraliveinterval": "use option ssh_keepalive",
        "connecttimeout": "use option connect_timeout",
        "stricthostkeychecking": "pppossh always checks the pinned host key",
        "userknownhostsfile": "pin keys with option hostkey (pppossh trust <interface>)",
        "globalknownhostsfile": "pin keys with option hostkey (pppossh trust <interface>)",
        "batchmode": "pppossh always runs ssh in batch mode",
        "proxycommand": "a proxy command runs through a shell; use -J host for a jump host",
        "localcommand": "runs a local command through a shell",
        "permitlocalcommand": "runs a local command through a shell",
        "knownhostscommand": "runs a local command through a shell",
        "remotecommand": "the remote command is the remote pppd (option remote_pppd)",
        "requesttty": "use option remote_pty",
        "escapechar": "pppossh turns it off: PPP data must not end the session",
        "controlmaster": "connection sharing is not supported for the tunnel",
        "controlpath": "connection sharing is not supported for the tunnel",
        "updatehostkeys": "pin keys with option hostkey (pppossh trust <interface>)",
        "verifyhostkeydns": "pin keys with option hostkey (pppossh trust <interface>)",
    },
)

CLIENTS = {"dbclient": DBCLIENT, "openssh": OPENSSH}

# dbclient ignores OpenSSH -o keywords; the two that matter map to its own flags.
_DBCLIENT_EQUIVALENT = {"ciphers": "-c", "macs": "-m"}


def ssh_option_words(text: str, client: str) -> tuple[list[str], list[str]]:
    """Words to pass to ``client`` for ``ssh_options``, and notes about what was changed.

    Raises ValueError naming the offending word and the option to use instead.  For dbclient,
    OpenSSH-style ``-o Ciphers=...``/``-o MACs=...`` become ``-c``/``-m`` and other OpenSSH
    keywords are dropped with a note (dbclient would ignore them anyway), so configurations
    written for either client keep working.
    """
    flags = CLIENTS[client]
    words = shell_words(text, "ssh_options")
    out: list[str] = []
    notes: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("-") or word in ("-", "--"):
            raise ValueError(
                f"ssh_options: {word!r} is not an option; the server and the remote command are"
                " set by options server and remote_pppd"
            )
        j = 1
        while j < len(word):
            letter = word[j]
            if letter in flags.refused:
                raise ValueError(f"ssh_options: -{letter} is not allowed: {flags.refused[letter]}")
            if letter in flags.plain:
                out.append("-" + letter)
                j += 1
                continue
            if letter not in flags.with_arg:
                raise ValueError(f"ssh_options: -{letter} is not an option {client} knows")
            arg = word[j + 1 :]
            if not arg:
                i += 1
                if i >= len(words):
                    raise ValueError(f"ssh_options: -{letter} needs a value")
                arg = words[i]
            _value_check(f"-{letter}", arg)
            if letter == "J":
                _jump_check(arg)
            if letter == "o":
                out += _option_words(arg, client, notes)
            else:
                out += ["-" + letter, arg]
            break
        i += 1
    return out, notes


# algorithm lists, where OpenSSH reads "-name" as "the default list without name"
_ALGORITHM_LISTS = frozenset({"-c", "-m", "-o ciphers", "-o macs", "-o kexalgorithms",
                              "-o hostkeyalgorithms", "-o pubkeyacceptedalgorithms",
                              "-o pubkeyacceptedkeytypes", "-o casignaturealgorithms"})


def _value_check(flag: str, value: str) -> None:
    """A value that starts with '-' would be read as an option wherever the client passes it
    on (ProxyJump becomes the command line of a second ssh); algorithm lists excepted."""
    if value.startswith("-") and flag not in _ALGORITHM_LISTS:
        raise ValueError(f"ssh_options: the value of {flag} must not start with '-': {value!r}")


_JUMP = re.compile(r"(?:[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}@)?"
                   r"(?:[A-Za-z0-9_][A-Za-z0-9_.-]*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def _jump_check(value: str) -> None:
    """Jump hosts as OpenSSH reads them: [user@]host[:port], comma separated, or none."""
    if value.lower() == "none":
        return
    for hop in value.split(","):
        if not _JUMP.fullmatch(hop):
            raise ValueError(
                f"ssh_options: {hop!r} is not a jump host; write [user@]host[:port]"
            )


def _option_words(arg: str, client: str, notes: list[str]) -> list[str]:
    key, _, value = arg.replace("=", " ", 1).partition(" ")
    key, value = key.strip().lower(), value.strip()
    _value_check(f"-o {key}", value)
    if key == "proxyjump":
        _jump_check(value)
    for flags in (CLIENTS[client], OPENSSH):
        if key in flags.o_refused:
            raise ValueError(f"ssh_options: -o {key} is not allowed: {flags.o_refused[key]}")
    if key in CLIENTS[client].o_allowed:
        return ["-o", arg]
    if client == "dbclient" and key in OPENSSH.o_allowed:
        if key in _DBCLIENT_EQUIVALENT and value:
            return [_DBCLIENT_EQUIVALENT[key], value.replace(" ", "")]
        notes.append(f"dbclient has no equivalent of -o {key}; it is left out")
        return []
    raise ValueError(
        f"ssh_options: -o {key} is not an option pppossh passes to {client}"
        f" (accepted: {', '.join(sorted(CLIENTS[client].o_allowed))})"
    )
