"""The SSH client command line that carries the PPP stream, and the remote pppd command."""

from __future__ import annotations

import shlex

from ..config import Config
from .quoting import sh_join


def remote_command(config: Config) -> str:
    """What the server's shell runs: ``<remote_pppd> nodetach notty noauth <peer options>``.

    The SSH client joins its arguments with spaces and the server's shell splits them again,
    so the words are quoted for that shell here and passed to the client as one argument.
    """
    words = [
        *shlex.split(config.remote_pppd),
        "nodetach",
        "notty",
        "noauth",
        *shlex.split(config.peer_pppd_options),
    ]
    return sh_join(words)


def ssh_argv(
    config: Config,
    client: str,
    program: str,
    identities: list[str],
    known_hosts: str,
    extra: list[str],
) -> list[str]:
    """argv of the SSH client; ``extra`` are the checked words of ``ssh_options``."""
    argv = [program, "-T"]
    for path in identities:
        argv += ["-i", path]
    argv += ["-p", str(config.port), "-l", config.sshuser]
    if client == "dbclient":
        # dbclient reads $HOME/.ssh/known_hosts (HOME is set per interface) and has no
        # connect timeout; pppd's LCP configure limit bounds a stalled login instead.
        if config.ssh_keepalive:
            argv += ["-K", str(config.ssh_keepalive)]
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
    argv += extra
    argv += [config.server, remote_command(config)]
    return argv


def pty_command(argv: list[str], home: str, ssh_log: str) -> str:
    """The string pppd hands to ``/bin/sh -c``: a private HOME, then exec the client.

    The client's messages go to ``ssh_log`` so that teardown can say why a session ended.
    """
    return f"HOME={shlex.quote(home)}; export HOME; exec {sh_join(argv)} 2>{shlex.quote(ssh_log)}"
