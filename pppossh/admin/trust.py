"""``pppossh trust``: fetch the server's host key, show its fingerprint, pin it on consent.

The key is fetched with the client the router has: with dbclient alone, dbclient runs against
an empty, throw-away HOME, is told "y" when it asks whether to accept the unknown key, so it
writes the key it was offered into that HOME's known_hosts, and then fails to log in (it has
no key there); nothing is trusted until the admin confirms the fingerprint.  With OpenSSH,
``ssh-keyscan`` does the same job.  The key fetched by the interface's own client is the type
that client negotiates, so the pinned key is the one it will check on every connection.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import PppsshError
from ..plan.knownhosts import fingerprint
from ..uci import Uci

# OpenSSH's names for key types in "ED25519 key fingerprint is SHA256:..."
TYPE_NAMES = {
    "ssh-ed25519": "ED25519",
    "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA",
    "ecdsa-sha2-nistp521": "ECDSA",
    "ssh-rsa": "RSA",
    "sk-ssh-ed25519@openssh.com": "ED25519-SK",
    "sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK",
}
PREFERENCE = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
              "ecdsa-sha2-nistp521", "ssh-rsa"]


@dataclass(frozen=True)
class HostKey:
    key: str  # "type base64"

    @property
    def kind(self) -> str:
        return self.key.split()[0]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)

    def describe(self) -> str:
        """As OpenSSH words it when it asks: 'ED25519 key fingerprint is SHA256:...'."""
        return f"{TYPE_NAMES.get(self.kind, self.kind)} key fingerprint is {self.fingerprint}"


def _keys_from_known_hosts(text: str) -> list[str]:
    keys = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and not fields[0].startswith("#"):
            key = f"{fields[1]} {fields[2]}"
            if key not in keys:
                keys.append(key)
    return sorted(keys, key=lambda k: PREFERENCE.index(k.split()[0])
                  if k.split()[0] in PREFERENCE else len(PREFERENCE))


def fetch_with_dbclient(program: str, server: str, port: int, user: str,
                        timeout: float) -> list[str]:
    """dbclient answers its own "continue connecting? (y/n)" from stdin when it has no
    terminal (it never writes a key it accepted with -y), so it gets "y" there."""
    with tempfile.TemporaryDirectory(prefix="pppossh-trust-") as home:
        os.makedirs(f"{home}/.ssh", mode=0o700)
        argv = [program, "-T", "-p", str(port), "-l", user, server, "true"]
        # a timeout may come after the key was written; reading the file tells
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(argv, env={"HOME": home, "PATH": os.environ.get("PATH", "")},
                           input=b"y\n", capture_output=True, timeout=timeout,
                           start_new_session=True, check=False)
        try:
            return _keys_from_known_hosts(Path(home, ".ssh", "known_hosts").read_text())
        except OSError:
            return []


def fetch_with_keyscan(server: str, port: int, timeout: float) -> list[str]:
    keyscan = shutil.which("ssh-keyscan")
    if not keyscan:
        return []
    argv = [keyscan, "-T", str(max(1, int(timeout))), "-p", str(port),
            "-t", "ed25519,ecdsa,rsa", server]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 5,
                             check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return []
    return _keys_from_known_hosts(out.stdout)


def fetch(client: str, program: str, server: str, port: int, user: str,
          timeout: float) -> list[HostKey]:
    """The server's host keys, the one the client will check first; [] if none came."""
    if client == "dbclient":
        keys = fetch_with_dbclient(program, server, port, user, timeout)
    else:
        keys = fetch_with_keyscan(server, port, timeout)
    return [HostKey(k) for k in keys]


Hop = tuple[str, str, int]  # (user or "", host, port)
Chain = list[tuple[str, str, int, tuple[str, ...]]]  # hops with their pinned keys


def fetch_through(client: str, program: str, chain: Chain, target: Hop,
                  identities: list[str], timeout: float) -> list[str]:
    """The key ``target`` offers, reached through the jump hosts of ``chain``, which must
    log us in: a throw-away HOME whose known_hosts holds the chain's keys, so that only the
    target's is new.  The client's words are the session's own (:mod:`..plan.ssh`)."""
    from ..config.checks import hop_text
    from ..plan.knownhosts import host_token, render
    from ..plan.ssh import dbclient_chain, ssh_config_body

    with tempfile.TemporaryDirectory(prefix="pppossh-trust-") as home:
        os.makedirs(f"{home}/.ssh", mode=0o700)
        known = Path(home, ".ssh", "known_hosts")
        known.write_text("".join(render(h, p, client, keys) for _, h, p, keys in chain))
        user, host, port = target
        hops = [(u, h, p) for u, h, p, _ in chain]
        if client == "dbclient":
            ids = [w for path in identities for w in ("-i", path)]
            argv = [program, "-T", *ids, dbclient_chain([*hops, target]), "true"]
            answer = b"y\n"
        else:
            config = Path(home, ".ssh", "config")
            config.write_text(ssh_config_body(identities, str(known), max(1, int(timeout)),
                                              host_keys="accept-new"))
            jump = ",".join(hop_text(*hop) for hop in hops)
            argv = [program, "-T", "-F", str(config), *(["-J", jump] if jump else []),
                    "-p", str(port), *(["-l", user] if user else []), host, "true"]
            answer = b""
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(argv, env={"HOME": home, "PATH": os.environ.get("PATH", "")},
                           input=answer, capture_output=True, timeout=timeout,
                           start_new_session=True, check=False)
        token = host_token(host, port, client)
        try:
            lines = [line for line in known.read_text().splitlines()
                     if line.split(" ", 1)[0] == token]
        except OSError:
            return []
        return _keys_from_known_hosts("\n".join(lines))


def keys_of(client: str, program: str, chain: Chain, target: Hop, identities: list[str],
            timeout: float) -> list[HostKey]:
    """The keys ``target`` offers: straight without a chain, else through it."""
    user, host, port = target
    if not chain:
        return fetch(client, program, host, port, user, timeout)
    return [HostKey(k) for k in fetch_through(client, program, chain, target, identities,
                                              timeout)]


def server_keys(config: Config, client: str, program: str, identities: list[str],
                timeout: float) -> list[HostKey]:
    """The keys the server offers, straight or through its jump hosts, whose keys must be
    pinned already (each hop is checked against them on the way)."""
    from ..plan.knownhosts import hop_keys

    chain = [(user, host, port, hop_keys(config.jump_hostkey, host, port))
             for user, host, port in config.hops]
    unpinned = [host for _, host, _, keys in chain if not keys]
    if unpinned:
        raise PppsshError("JUMP_HOST_NOT_PINNED", f"the key of jump host {unpinned[0]} is not"
                          f" pinned; pin every hop first: pppossh trust {config.iface} (or add"
                          f" its known_hosts line to network.{config.iface}.jump_hostkey)")
    return keys_of(client, program, chain, (config.sshuser, config.server, config.port),
                   identities, timeout)


def first_or_fail(keys: list[HostKey], server: str, port: int, timeout: float,
                  chain: Chain | None = None) -> HostKey:
    """The key the client will check first, or the error that says none came."""
    if not keys:
        via = f" through {', '.join(h for _, h, _, _ in chain)}" if chain else ""
        raise PppsshError(
            "HOSTKEY_FETCH_FAILED",
            f"{server} port {port} offered no host key{via} within {timeout:.0f} s; check"
            " that it is reachable ('pppossh check' says where it stops)",
        )
    return keys[0]


def normalize_fingerprint(text: str) -> str:
    text = text.strip()
    return text if text.startswith("SHA256:") else f"SHA256:{text}"


@dataclass(frozen=True)
class TrustResult:
    offered: HostKey
    pinned_before: tuple[str, ...]
    pinned: bool
    message: str


def trust(uci: Uci, iface: str, *, yes: bool, expected: str | None,
          confirm: Callable[[str], bool] | None = None,
          show: Callable[[HostKey, str], None] | None = None,
          timeout: float | None = None) -> TrustResult:
    """Fetch the key of the interface's server and pin it when allowed.

    ``confirm(question) -> bool`` asks a person; without it, only ``yes`` or a matching
    ``expected`` fingerprint pin the key.  With jump hosts, each hop's key is fetched
    through the hops before it and pinned in ``jump_hostkey`` first (``expected`` is the
    server's); ``show(key, whose)`` names the hop.
    """
    from ..plan import choose_client, make_plan
    from ..plan.facts import probe
    from ..plan.knownhosts import hop_keys, pin_line
    from ..run.standalone import load_config

    config = load_config(uci, iface)
    facts = probe(config)
    client, program = choose_client(config, facts)
    wait = min(config.connect_timeout, timeout or config.connect_timeout)
    chain: Chain = []
    identities = list(make_plan(config, facts, require_hostkey=False).identities) \
        if config.hops else []
    pins = list(config.jump_hostkey)
    for user, host, port in config.hops:  # each hop through the ones before it
        key = first_or_fail(keys_of(client, program, chain, (user, host, port), identities,
                                    wait), host, port, wait, chain)
        pinned = hop_keys(tuple(pins), host, port)
        if show:
            show(key, f"jump host {host} port {port}")
        if key.key not in pinned:
            if not yes and (confirm is None or not confirm(_question(
                    f"jump host {host} of {iface}", pinned))):
                raise PppsshError("NOT_PINNED", f"nothing pinned for jump host {host};"
                                  " check its fingerprint, then run 'pppossh trust"
                                  f" {iface}' again (or with --yes)")
            pins = [p for p in pins if not hop_keys((p,), host, port)]
            pins.append(pin_line(host, port, key.key))
            uci.set("network", iface, "jump_hostkey", tuple(pins))
            uci.commit("network")
        chain.append((user, host, port, (key.key,)))
    server = (config.sshuser, config.server, config.port)
    offered = first_or_fail(keys_of(client, program, chain, server, identities, wait),
                            config.server, config.port, wait, chain)
    before = config.hostkey
    if show:
        show(offered, f"server {config.server}" if config.hops else "")
    # a fingerprint that does not match is refused, even when the offered key is pinned
    if expected is not None and normalize_fingerprint(expected) != offered.fingerprint:
        raise PppsshError(
            "HOSTKEY_FINGERPRINT_MISMATCH",
            f"{config.server} offers {offered.fingerprint}, not {expected}; nothing pinned."
            " Check the fingerprint on the server: ssh-keygen -lf <host key file>",
        )
    if offered.key in before:
        return TrustResult(offered, before, True, f"{iface}: this key is already pinned")
    if expected is None and not yes and (
            confirm is None or not confirm(_question(iface, before))):
        raise PppsshError(
            "NOT_PINNED",
            "nothing pinned; confirm the fingerprint with the server's admin, then run"
            f" 'pppossh trust {iface} --fingerprint {offered.fingerprint}'",
        )
    uci.set("network", iface, "hostkey", (offered.key,))  # after every hop's
    uci.commit("network")
    return TrustResult(offered, before, True,
                       f"{iface}: pinned {offered.describe().replace(' key fingerprint is', '')}")


def _question(what: str, before: tuple[str, ...]) -> str:
    if before:
        return (f"The key of {what} CHANGED (pinned: "
                f"{', '.join(fingerprint(k) for k in before)}). Replace the pin?")
    return f"Pin this key for {what}?"

