"""Resolve the SSH server to every address, bounded in time.

The host dependencies (netifd) and the host routes (standalone) must cover each address the
SSH client might connect to, IPv4 and IPv6.  OpenWrt's ``resolveip`` takes a timeout;
elsewhere ``getaddrinfo`` runs in a thread we stop waiting for.

Host names go to ``getaddrinfo`` as ASCII bytes: given text, Python encodes it with the
``idna`` codec, which needs ``unicodedata``, and OpenWrt ships that module in python3-codecs,
a package pppossh does not depend on (the option table allows only ASCII host names).
"""

from __future__ import annotations

import ipaddress
import subprocess
from typing import TYPE_CHECKING

from ..errors import TransientError
from ..plan.facts import which

if TYPE_CHECKING:
    import socket


def resolve(server: str, timeout: float) -> list[str]:
    try:
        return [str(ipaddress.ip_address(server))]
    except ValueError:
        pass
    addresses = _resolveip(server, timeout) if which("resolveip") else None
    if addresses is None:
        addresses = _getaddrinfo(server, timeout)
    if not addresses:
        raise TransientError(
            "RESOLVE_FAILED",
            f"cannot resolve {server} within {timeout:.0f} s; check the name and the router's"
            " DNS (pppossh will retry)",
        )
    return addresses


def _resolveip(server: str, timeout: float) -> list[str] | None:
    try:
        out = subprocess.run(
            ["resolveip", "-t", str(max(1, int(timeout))), server],
            capture_output=True, text=True, timeout=timeout + 2, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return _ordered(line.strip() for line in out.stdout.splitlines() if line.strip())


def _getaddrinfo(server: str, timeout: float) -> list[str]:
    import socket  # only for names: a setup to an address literal needs neither
    import threading

    result: list[str] = []

    def worker() -> None:
        # any failure (a name that is not ASCII, a module missing on the router) is an
        # unresolved name, never a traceback from a thread nobody waits for
        try:
            infos = socket.getaddrinfo(server.encode("ascii"), None, type=socket.SOCK_STREAM)
        except Exception:
            return
        result.extend(str(info[4][0]) for info in infos)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    thread.join(timeout)
    return _ordered(result)


def _ordered(addresses: object) -> list[str]:
    """Unique valid addresses, IPv4 first (what the clients try first on a router)."""
    seen: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for text in addresses:  # type: ignore[attr-defined]
        try:
            addr = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            continue
        if addr not in seen:
            seen.append(addr)
    return [str(a) for a in sorted(seen, key=lambda a: a.version)]


def tcp_connect(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP socket connected to an address literal (``socket.create_connection`` would pass
    the address through the idna codec, see the module docstring).  Raises OSError."""
    import socket

    family, kind, proto, _, sockaddr = socket.getaddrinfo(
        address.encode("ascii"), port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock
