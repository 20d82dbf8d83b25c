"""Facts about the machine the plan depends on, gathered in one place.

:func:`pppossh.plan.make_plan` is a pure function of a :class:`~pppossh.config.Config` and a
:class:`HostFacts`; :func:`probe` is the only part that looks at the file system, so tests can
state the facts instead of arranging them.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from .identity import candidate_identities, key_format
from .knownhosts import matching_keys

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_RUNDIR = "/var/run/pppossh"
DEFAULT_KEYDIR = "/etc/pppossh/keys"


@dataclass(frozen=True)
class HostFacts:
    """What the plan needs to know about this machine."""

    clients: dict[str, str] = field(default_factory=dict)  # "dbclient"/"openssh" -> path
    pppd: str = "/usr/sbin/pppd"
    # known only when it matters (ipv6): asking pppd costs a process start at every setup
    pppd_version: tuple[int, ...] = (2, 4)
    key_formats: dict[str, str] = field(default_factory=dict)  # path -> format, if readable
    unreadable: frozenset[str] = frozenset()
    home: str = "/root"
    keydir: str = DEFAULT_KEYDIR
    rundir: str = DEFAULT_RUNDIR
    python: str = sys.executable
    hooks_dir: str = str(PACKAGE_DIR / "ppp")
    known_host_keys: tuple[str, ...] = ()  # keys the user's known_hosts has for the server
    known_jump_keys: tuple[tuple[str, ...], ...] = ()  # the same for each jump host
    dbclient_multihop: bool = True  # asked only with jump hosts: a build may leave it out
    terminal_refused: bool = False  # the server ended a login that asked for a terminal
    net_devices: frozenset[str] = frozenset()  # sshtun: the devices there are (a free unit)


# In the interface's state directory: "<server> <port>" of a server that refused a terminal
# (OpenSSH's client then ends the login); the next plans for that server ask for none.
TERMINAL_REFUSED = "terminal-refused"
TERMINAL_REFUSED_FOR = 86400.0  # then one login asks again: the server may allow one now


def rundir_from_env() -> str:
    return os.environ.get("PPPOSSH_RUNDIR", DEFAULT_RUNDIR)


def keydir_from_env() -> str:
    return os.environ.get("PPPOSSH_KEYDIR", DEFAULT_KEYDIR)


def pppd_version(pppd: str) -> tuple[int, ...]:
    """``pppd --version`` prints e.g. 'pppd version 2.4.9'; unknown versions count as 2.4."""
    try:
        out = subprocess.run(
            [pppd, "--version"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return (2, 4)
    match = re.search(r"version (\d+)\.(\d+)(?:\.(\d+))?", out.stdout + out.stderr)
    return tuple(int(g) for g in match.groups() if g is not None) if match else (2, 4)


def dbclient_multihop(dbclient: str) -> bool:
    """Whether this dbclient was built with multi-hop (DROPBEAR_CLI_MULTIHOP, which needs
    its proxy command and netcat mode): its usage line then offers 'host/port,...'."""
    try:
        out = subprocess.run([dbclient, "-h"], capture_output=True, text=True, timeout=5,
                             check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "host/port]," in out.stdout + out.stderr


def search_path() -> str:
    """$PATH and the system directories: netifd and pppd give their children a short PATH."""
    return os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin"


def probe(config: Config, rundir: str | None = None, keydir: str | None = None) -> HostFacts:
    """Look at the machine: installed clients, pppd version, key files, known_hosts."""
    path = search_path()
    clients = {}
    for name, program in (("dbclient", "dbclient"), ("openssh", "ssh")):
        found = which(program, path)
        if found and not (name == "openssh" and _is_dropbear(found)):
            clients[name] = found
    pppd = which("pppd", path) or "/usr/sbin/pppd"
    home = os.path.expanduser("~")
    keydir = keydir or keydir_from_env()
    formats: dict[str, str] = {}
    unreadable: set[str] = set()
    for candidate in candidate_identities(config, home, keydir):
        if not os.path.exists(candidate):
            continue
        try:
            with open(candidate, "rb") as fh:
                formats[candidate] = key_format(fh.read(4096))
        except OSError:
            unreadable.add(candidate)
    texts = []
    for kh in known_hosts_files(home):
        with contextlib.suppress(OSError):
            texts.append(Path(kh).read_text(errors="replace"))

    def known_for(server: str, port: int) -> tuple[str, ...]:
        keys: list[str] = []
        for text in texts:
            keys += [k for k in matching_keys(text, server, port) if k not in keys]
        return tuple(keys)

    rundir = rundir or rundir_from_env()
    try:
        note = Path(rundir, config.iface, TERMINAL_REFUSED)
        fresh = time.time() - note.stat().st_mtime < TERMINAL_REFUSED_FOR
        refused = note.read_text().split() if fresh else []
    except OSError:
        refused = []
    devices: frozenset[str] = frozenset()
    if config.proto == "sshtun" and config.unit is None:
        with contextlib.suppress(OSError):
            devices = frozenset(os.listdir("/sys/class/net"))
    return HostFacts(
        net_devices=devices,
        clients=clients,
        pppd=pppd,
        pppd_version=pppd_version(pppd) if config.ipv6_on else (2, 4),
        key_formats=formats,
        unreadable=frozenset(unreadable),
        home=home,
        keydir=keydir,
        rundir=rundir,
        known_host_keys=known_for(config.server, config.port),
        known_jump_keys=tuple(known_for(host, port) for _, host, port in config.hops),
        dbclient_multihop=dbclient_multihop(clients["dbclient"])
        if config.jump and "dbclient" in clients else True,
        terminal_refused=refused == [config.server, str(config.port)],
    )


def known_hosts_files(home: str) -> tuple[str, ...]:
    """The known_hosts files whose keys a plan carries over (the user's, the system's)."""
    return (os.path.join(home, ".ssh", "known_hosts"), "/etc/ssh/ssh_known_hosts")


def which(program: str, path: str | None = None) -> str | None:
    """The first executable ``program`` on ``path`` (default $PATH): shutil.which, without
    importing shutil (and with it bz2, lzma, fnmatch) on the way of every setup."""
    for directory in (os.environ.get("PATH", "") if path is None else path).split(":"):
        candidate = os.path.join(directory or ".", program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _is_dropbear(path: str) -> bool:
    """On OpenWrt /usr/bin/ssh may be a link to the dropbear multi-call binary."""
    return "dropbear" in os.path.realpath(path).rsplit("/", 1)[-1]
