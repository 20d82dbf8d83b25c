"""The plan: everything that will run for one interface, computed before anything runs.

:func:`make_plan` is a pure function of the configuration and the machine's facts.  Every
config error surfaces here, before a single process starts.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..config import Config
from ..errors import ConfigError
from . import knownhosts, sshtun
from .facts import HostFacts
from .identity import select_identities
from .pppd import pppd_argv, secrets_text
from .ssh import EXIT_NOTE, pty_command, remote_command, ssh_argv, ssh_config_text
from .ssh_options import ssh_option_words

SECRETS_FILE = "pppd-secrets"  # in the state directory: the options file with the password


@dataclass(frozen=True)
class Plan:
    iface: str
    device: str
    client: str
    server: str
    port: int
    identities: tuple[str, ...]
    host_keys: tuple[str, ...]
    home: str
    known_hosts: str
    known_hosts_text: str
    ssh_log: str
    pppd_log: str
    ssh_argv: tuple[str, ...]
    probe_argv: tuple[str, ...]  # the client without a terminal nor a command: pppossh check
    remote_command: str
    pty: str
    pppd_argv: tuple[str, ...]  # empty for sshtun
    notes: tuple[str, ...]
    secrets: str = ""  # the options file with the PAP/CHAP password ("" without username)
    password: str = ""  # "(set)" when there is a password: what may be shown of it
    secrets_text: str = field(default="", repr=False)  # the file's content: never shown
    proto: str = "pppossh"
    tun_argv: tuple[str, ...] = ()  # sshtun: the proto task (plan.sshtun.TASK_SCRIPT)
    ssh_config: str = ""  # OpenSSH through jump hosts: the client's -F file
    ssh_config_text: str = ""

    @property
    def task_argv(self) -> tuple[str, ...]:
        """What carries the link, the process netifd or the supervisor runs and watches."""
        return self.tun_argv if self.proto == "sshtun" else self.pppd_argv

    def to_json(self) -> dict[str, Any]:
        """The plan as ``pppossh plan --json`` prints it, without the password."""
        data = asdict(self)
        del data["secrets_text"]
        return data


def choose_client(config: Config, facts: HostFacts) -> tuple[str, str]:
    """(client, program path) for option ssh_client."""
    wanted = config.ssh_client
    order = ["dbclient", "openssh"] if wanted == "auto" else [wanted]
    if config.jump and not facts.dbclient_multihop:  # no multi-hop in this dropbear build
        if wanted == "dbclient" or "openssh" not in facts.clients:
            raise ConfigError(
                "NO_MULTIHOP",
                f"network.{config.iface}.jump is set, but this dbclient was built without"
                " multi-hop; install openssh-client (and set ssh_client to openssh or auto)",
            )
        order = ["openssh"]
    for client in order:
        if client in facts.clients:
            return client, facts.clients[client]
    package = {"dbclient": "dropbear (dbclient)", "openssh": "openssh-client"}
    if wanted == "auto":
        raise ConfigError(
            "NO_SSH_CLIENT",
            "no SSH client found; install dropbear (dbclient) or openssh-client",
        )
    other = "openssh" if wanted == "dbclient" else "dbclient"
    raise ConfigError(
        "NO_SSH_CLIENT",
        f"ssh_client is {wanted} but it is not installed; install {package[wanted]} or set"
        f" network.{config.iface}.ssh_client={other}",
    )


def make_plan(
    config: Config, facts: HostFacts, mode: str = "netifd", require_hostkey: bool = True
) -> Plan:
    """Build the plan, or raise ConfigError saying what to change.

    ``require_hostkey=False`` lets ``pppossh check`` look at the rest of the configuration
    of an interface whose server key is not pinned yet (it reports that as its own step).
    """
    if config.proto == "sshtun":
        if "openssh" not in facts.clients:
            raise ConfigError(
                "NO_SSH_CLIENT",
                f"proto sshtun needs OpenSSH's client (dbclient has no tun forwarding);"
                f" install openssh-client, or use proto pppossh for network.{config.iface}",
            )
        client, program = "openssh", facts.clients["openssh"]
    else:
        client, program = choose_client(config, facts)
    try:
        extra, notes = ssh_option_words(config.ssh_options, client)
    except ValueError as exc:
        raise ConfigError("INVALID_SSH_OPTIONS", f"network.{config.iface}.{exc}") from None
    identities = select_identities(
        config, client, facts.home, facts.keydir, facts.key_formats, facts.unreadable
    )
    host_keys = config.hostkey or facts.known_host_keys
    if not host_keys and require_hostkey:
        raise ConfigError(
            "HOSTKEY_UNKNOWN",
            f"the host key of {config.server} is not pinned, and the SSH client would wait"
            f" forever for someone to accept it; pin it with: pppossh trust {config.iface}"
            f" (or set network.{config.iface}.hostkey to the server's 'ssh-ed25519 AAAA...' key)",
        )
    statedir, home, known_hosts, ssh_log = _session_paths(facts, config.iface)
    known_text = _known_hosts_text(config, facts, client, host_keys, require_hostkey)
    ssh_config = os.path.join(home, ".ssh", "config") if config.jump and client == "openssh" \
        else ""
    try:
        config_text = ssh_config_text(config, identities, known_hosts) if ssh_config else ""
    except ValueError as exc:
        raise ConfigError("INVALID_IDENTITY", f"network.{config.iface}.identity: {exc}") \
            from None
    pppd_log = os.path.join(statedir, "pppd.log")
    secrets = os.path.join(statedir, SECRETS_FILE) if config.username else ""
    if config.remote_pty and facts.terminal_refused:
        config = replace(config, remote_pty=False)
        notes = [*notes, f"{config.server} refused a terminal: its pppd runs with 'notty'"
                 f" (set network.{config.iface}.remote_pty=0 to say so)"]
    jump = {"ssh_config": ssh_config, "ssh_config_text": config_text}
    if config.proto == "sshtun":
        return _tun_plan(config, facts, mode, program, identities, host_keys, extra, notes,
                         known_text, jump)
    argv = ssh_argv(config, client, program, identities, known_hosts, extra,
                    pty=config.remote_pty, ssh_config=ssh_config)
    probe = ssh_argv(config, client, program, identities, known_hosts, extra,
                     ssh_config=ssh_config)[:-1]
    pty = pty_command(argv, home, ssh_log,
                      prompt_guard=config.connect_timeout if client == "dbclient" else 0)
    pppd = pppd_argv(
        config,
        pppd=facts.pppd,
        version=facts.pppd_version,
        pty=pty,
        hooks_dir=facts.hooks_dir,
        python=facts.python,
        rundir=facts.rundir,
        mode=mode,
        logfile=pppd_log,
        secrets=secrets,
    )
    return Plan(
        iface=config.iface,
        device=config.device,
        client=client,
        server=config.server,
        port=config.port,
        identities=tuple(identities),
        host_keys=tuple(host_keys),
        home=home,
        known_hosts=known_hosts,
        known_hosts_text=known_text,
        ssh_log=ssh_log,
        pppd_log=pppd_log,
        ssh_argv=tuple(argv),
        probe_argv=tuple(probe),
        remote_command=remote_command(config),
        pty=pty,
        pppd_argv=tuple(pppd),
        notes=tuple(notes),
        secrets=secrets,
        password="(set)" if config.password else "",
        secrets_text=secrets_text(config),
        **jump,
    )


def _known_hosts_text(config: Config, facts: HostFacts, client: str,
                      host_keys: tuple[str, ...], require_hostkey: bool) -> str:
    """The session's known_hosts: the server's keys, then each jump host's (option
    jump_hostkey, else the user's known_hosts); a hop without one is refused like the
    server."""
    text = knownhosts.render(config.server, config.port, client, host_keys)
    for index, (_, host, port) in enumerate(config.hops):
        keys = knownhosts.hop_keys(config.jump_hostkey, host, port) or (
            facts.known_jump_keys[index] if index < len(facts.known_jump_keys) else ())
        if not keys and require_hostkey:
            raise ConfigError(
                "HOSTKEY_UNKNOWN",
                f"the host key of jump host {host} (port {port}) is not pinned; pin every"
                f" hop with: pppossh trust {config.iface} (or add"
                f" '{knownhosts.pin_line(host, port, 'ssh-ed25519 AAAA...')}' to"
                f" network.{config.iface}.jump_hostkey)",
            )
        text += knownhosts.render(host, port, client, keys)
    return text


def _session_paths(facts: HostFacts, iface: str) -> tuple[str, str, str, str]:
    """The interface's state directory, its private HOME, known_hosts and the client's log."""
    statedir = os.path.join(facts.rundir, iface)
    home = os.path.join(statedir, "home")
    return statedir, home, os.path.join(home, ".ssh", "known_hosts"), \
        os.path.join(statedir, "ssh.log")


def _tun_plan(config: Config, facts: HostFacts, mode: str, program: str,
              identities: list[str], host_keys: tuple[str, ...] | list[str],
              extra: list[str], notes: list[str], known_text: str,
              jump: dict[str, str]) -> Plan:
    """proto sshtun: the OpenSSH client asks for the tunnel; no pppd (:mod:`.sshtun`)."""
    statedir, home, known_hosts, ssh_log = _session_paths(facts, config.iface)
    unit = sshtun.local_unit(config, facts.net_devices)
    device = f"{config.mode}{unit}"
    command = sshtun.remote_command(config)
    base = ssh_argv(config, "openssh", program, identities, known_hosts, extra,
                    command=command, ssh_config=jump["ssh_config"])
    argv = [base[0], *sshtun.tunnel_words(unit, config.remote_unit, config.ssh_keepalive,
                                          config.mode), *base[1:]]
    return Plan(
        iface=config.iface, device=device, client="openssh", server=config.server,
        port=config.port, identities=tuple(identities), host_keys=tuple(host_keys),
        home=home, known_hosts=known_hosts,
        known_hosts_text=known_text, ssh_log=ssh_log, pppd_log="",
        ssh_argv=tuple(argv), probe_argv=tuple(base[:-1]), remote_command=command, pty="",
        pppd_argv=(), notes=tuple(notes), proto="sshtun",
        tun_argv=tuple(sshtun.task_argv(statedir, facts.hooks_dir, config, device, mode,
                                        facts.python, argv, EXIT_NOTE)),
        **jump,
    )
