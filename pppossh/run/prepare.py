"""Files a session needs before pppd starts: the private HOME and its known_hosts."""

from __future__ import annotations

import contextlib
from typing import Any

from ..config import Config
from ..plan import SECRETS_FILE, Plan
from ..plan.knownhosts import fingerprint
from .state import State, ensure_private_dir, write_atomic


def write_known_hosts(state: State, plan: Plan) -> None:
    """The per-interface HOME and its known_hosts: only the pinned keys."""
    ensure_private_dir(state.dir)
    ensure_private_dir(f"{plan.home}/.ssh")
    write_atomic(plan.known_hosts, plan.known_hosts_text, mode=0o600)
    if plan.ssh_config:
        write_atomic(plan.ssh_config, plan.ssh_config_text, mode=0o600)


def prepare_state_dir(state: State, plan: Plan) -> None:
    """Before a session: known_hosts written, the session's logs emptied, the password file
    pppd reads (option ``file``) written for root alone, or removed when there is none."""
    write_known_hosts(state, plan)
    for log in (plan.ssh_log, plan.pppd_log):  # sshtun has no pppd log
        if log:
            write_atomic(log, "", mode=0o600)
    if plan.secrets:
        write_atomic(plan.secrets, plan.secrets_text, mode=0o600)
    else:
        remove_secrets(state)


def remove_secrets(state: State) -> None:
    """The password file goes when the session does (it is written again at every setup)."""
    with contextlib.suppress(FileNotFoundError):
        state.path(SECRETS_FILE).unlink()


def session_info(config: Config, plan: Plan) -> dict[str, Any]:
    """What the ppp hooks need to know about the session (they run with an empty env)."""
    return {
        "proto": config.proto,
        "device": plan.device,
        "transport": plan.client,
        "server": config.server,
        "port": config.port,
        "jump": list(config.jump),
        "tcp_port": config.first_hop[1],  # what the back-off watches: where TCP goes
        "defaultroute": config.defaultroute,
        "peerdns": config.peerdns,
        "metric": config.metric,
        "routes": list(config.route),
        "dns_config": list(config.dns),
        "system_dns": config.system_dns,
        "pinned": _fingerprints(plan.host_keys),
    }


def _fingerprints(keys: tuple[str, ...]) -> list[str]:
    out = []
    for key in keys:
        with contextlib.suppress(ValueError, IndexError):  # a bad line in ~/.ssh/known_hosts
            out.append(fingerprint(key))
    return out
