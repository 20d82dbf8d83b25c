"""The SSH client command line that carries the PPP stream, and the remote pppd command."""

from __future__ import annotations

import shlex

from ..config import Config
from ..config.pppd_options import REMOTE_LCP_ECHO, TTY_CHOICE
from .quoting import sh_join


def remote_command(config: Config) -> str:
    """What the server's shell runs: ``<remote_pppd> nodetach notty noauth <LCP echo>
    <peer options>``, with ``remote_pty`` ``local`` in place of ``notty`` when the server
    granted a terminal; the peer options come last, so that their LCP echo wins.

    The SSH client joins its arguments with spaces and the server's shell splits them again,
    so the words are quoted for that shell here and passed to the client as one argument.
    """
    peer = [*REMOTE_LCP_ECHO, *shlex.split(config.peer_pppd_options)]
    pppd = shlex.split(config.remote_pppd)
    if not config.remote_pty:
        return sh_join([*pppd, "nodetach", "notty", "noauth", *peer])
    return f"{TTY_CHOICE} {sh_join(pppd)} nodetach $t noauth {sh_join(peer)}".rstrip()


# dbclient's receive window: what it may buffer for the tunnel before the server must wait.
# 1 MiB carries about 160 Mbit/s over a 50 ms path, and costs at most that much memory.
DBCLIENT_WINDOW = 1 << 20


def ssh_argv(
    config: Config,
    client: str,
    program: str,
    identities: list[str],
    known_hosts: str,
    extra: list[str],
    pty: bool = False,
    command: str | None = None,
    ssh_config: str = "",
) -> list[str]:
    """argv of the SSH client; ``extra`` are the checked words of ``ssh_options``.

    With ``pty`` (option remote_pty) the client asks the server for a terminal, so that the
    server's pppd needs no helper process to copy the stream (see :data:`TTY_CHOICE`).  A
    PPP stream never starts dbclient's escapes (it reads '~.' or '~^Z' only as three
    single-byte reads of CR, '~', then '.' or ^Z; in PPP a raw '~' is a frame's flag, and
    no frame starts with '.' or ^Z); OpenSSH's escape character is turned off.

    ``command``: the remote command, when it is not the remote pppd (sshtun's).
    ``ssh_config``: OpenSSH with jump hosts: the file (:func:`ssh_config_text`) the client
    and each jump host's client read, as ``-J`` hands those nothing but ``-F``.
    """
    if not pty:
        argv = [program, "-T"]
    elif client == "dbclient":
        argv = [program, "-t"]
    else:  # -t, not -tt: with -tt a server that refuses terminals ends the login
        argv = [program, "-t", "-e", "none"]
    for path in identities:
        argv += ["-i", path]
    argv += ["-p", str(config.port), "-l", config.sshuser]
    if client == "dbclient":
        # dbclient reads $HOME/.ssh/known_hosts (HOME is set per interface) and has no
        # connect timeout; pppd's LCP configure limit bounds a stalled login instead.
        if config.ssh_keepalive:
            argv += ["-K", str(config.ssh_keepalive)]
        # its default receive window (24 KiB) caps a 50 ms path at about 3 Mbit/s; a later
        # -W in ssh_options wins
        argv += ["-W", str(DBCLIENT_WINDOW)]
    else:
        argv += [
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "UpdateHostKeys=no",
            "-o", "IdentitiesOnly=yes",
            "-o", f"ConnectTimeout={config.connect_timeout}",
        ]
        if config.ssh_keepalive:
            argv += [
                "-o", f"ServerAliveInterval={config.ssh_keepalive}",
                "-o", "ServerAliveCountMax=3",
            ]
    if config.jump and client != "dbclient":
        argv += ["-F", ssh_config, "-J", ",".join(config.jump)]
    argv += extra
    argv += [target(config, client), remote_command(config) if command is None else command]
    return argv


def target(config: Config, client: str) -> str:
    """The server as the client's last word; with jump hosts and dbclient, its multi-hop
    chain ``[user@]hop/port,...,user@server/port`` (OpenSSH takes them with ``-J``)."""
    if not config.jump or client != "dbclient":
        return config.server
    return dbclient_chain([*config.hops, (config.sshuser, config.server, config.port)])


def dbclient_chain(hops: list[tuple[str, str, int]]) -> str:
    """dbclient's multi-hop word for (user or "", host, port) hops, the last one the
    server it logs in to: ``[user@]host/port,...``."""
    return ",".join(f"{user + '@' if user else ''}{host}/{port}" for user, host, port in hops)


def ssh_config_text(config: Config, identities: list[str], known_hosts: str) -> str:
    """The OpenSSH client configuration for a session through jump hosts: the same checks
    as on the command line, for the clients ``-J`` starts as well."""
    text = (f"# pppossh: the SSH client of interface {config.iface} and its jump hosts' (-F)\n"
            + ssh_config_body(identities, known_hosts, config.connect_timeout))
    if config.ssh_keepalive:
        text += f"ServerAliveInterval {config.ssh_keepalive}\nServerAliveCountMax 3\n"
    return text


def ssh_config_body(identities: list[str], known_hosts: str, timeout: int,
                    host_keys: str = "yes") -> str:
    """What every client of a jump chain must do: no prompts, only ``known_hosts``
    (``host_keys``: StrictHostKeyChecking; ``accept-new`` while fetching a key), only the
    given keys.  Paths are quoted and their '%' doubled, as ssh_config expands tokens in
    them; a path with '"' cannot be written (ValueError)."""
    def path(value: str) -> str:
        if '"' in value:
            raise ValueError(f"{value!r}: a path with '\"' cannot go into ssh_config")
        return '"' + value.replace("%", "%%") + '"'

    lines = [
        "BatchMode yes", f"StrictHostKeyChecking {host_keys}",
        f"UserKnownHostsFile {path(known_hosts)}", "GlobalKnownHostsFile /dev/null",
        "UpdateHostKeys no", "IdentitiesOnly yes",
        *(f"IdentityFile {path(identity)}" for identity in identities),
        f"ConnectTimeout {timeout}",
    ]
    return "".join(f"{line}\n" for line in lines)


# What pppossh adds to the client's log when it ends a login at a password prompt; the
# outcome classifier reads it as AUTH_FAILED.
PASSWORD_PROMPT_NOTE = "pppossh: the server asked for a password: it refused every key"
# The last line of the client's log: its exit status.  On a remote terminal the server's
# messages travel in the PPP stream, not to the log, so the status is what tells a missing
# pppd (127) from a refused login (255, and the client's own message).
EXIT_NOTE = "pppossh: the SSH client exited with status"


def pty_command(argv: list[str], home: str, ssh_log: str, prompt_guard: int = 0) -> str:
    """The string pppd hands to ``/bin/sh -c``: a private HOME, then the client as a child.

    The client's messages go to ``ssh_log``, then its exit status (:data:`EXIT_NOTE`), so
    that teardown can say why a session ended.  The shell lets go of the pty at once, so
    that pppd sees the hangup when the client ends, and passes a TERM or HUP from pppd on.

    ``prompt_guard`` (seconds, dbclient only): dbclient has no BatchMode.  When the server
    refuses the key and offers passwords, it asks for one: with musl (OpenWrt) and no
    terminal getpass() fails and dbclient exits, but glibc's getpass() reads the password
    from stdin, which is pppd's PPP stream, and waits until pppd gives up.  So the shell
    watches for the first ``prompt_guard`` seconds and ends the client as soon as its log
    ends in a password prompt (the prompt has no newline; a banner line has one; an empty
    log, the usual case, is passed over without starting ``tail``); no password is ever sent.
    """
    log = shlex.quote(ssh_log)
    guard = ""
    if prompt_guard:
        note = shlex.quote(PASSWORD_PROMPT_NOTE)
        guard = (
            f"i=0; while [ $i -lt {int(prompt_guard)} ] && kill -0 $c 2>/dev/null; do "
            f"[ -s {log} ] && case \"$(tail -c 10 {log} 2>/dev/null; echo .)\" in"
            f" *'assword: .') echo {note} >>{log}; kill $c; break;; esac;"
            " sleep 1; i=$((i+1)); done; "
        )
    return (
        f"HOME={shlex.quote(home)}; export HOME; "
        f"exec 3<&0; {sh_join(argv)} <&3 3<&- 2>{log} & c=$!; "
        "exec 3<&- </dev/null >/dev/null; trap 'kill $c 2>/dev/null' HUP INT TERM; "
        f"{guard}wait $c; echo \"{EXIT_NOTE} $?\" >>{log}"
    )
