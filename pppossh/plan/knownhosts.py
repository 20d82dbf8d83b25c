"""known_hosts files: reading the user's, writing the per-interface one.

The per-interface file holds exactly the pinned keys (option ``hostkey``), so the client
accepts the pinned server and nothing else.  Without a pin, keys the user already trusts in
``~/.ssh/known_hosts`` are carried over (what OpenWrt's pppossh relied on).  Dropbear matches
a line only when it starts with the host exactly as given on its command line (no port, no
patterns, no hashing), OpenSSH writes ``[host]:port`` for ports other than 22; the file is
written in the form the chosen client reads.
"""

from __future__ import annotations

import base64
import re

from ..config.checks import known_host, known_host_token


def host_token(server: str, port: int, client: str) -> str:
    return known_host_token(server, port) if client == "openssh" else server


def fingerprint(key: str) -> str:
    """``SHA256:...`` of a ``type base64`` public key, exactly as OpenSSH prints it."""
    import hashlib  # here, not at the top: the setup path imports this module, rarely hashes

    blob = base64.b64decode(key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _pattern_matches(pattern: str, token: str) -> bool:
    if pattern.startswith("|1|"):
        import hashlib
        import hmac

        try:
            _, _, salt, digest = pattern.split("|")
            mac = hmac.new(base64.b64decode(salt), token.encode(), hashlib.sha1).digest()
            return hmac.compare_digest(base64.b64encode(mac).decode(), digest)
        except ValueError:
            return False
    # OpenSSH's patterns know only '*' and '?': '[' is literal, as in "[host]:2222"
    regex = "".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in pattern)
    return re.fullmatch(regex, token) is not None


def matching_keys(text: str, server: str, port: int) -> list[str]:
    """Keys (``type base64``) that a known_hosts text trusts for ``server``/``port``."""
    token = known_host_token(server, port)
    keys: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[0].startswith(("#", "@")):
            continue
        patterns = fields[0].split(",")
        if any(p.startswith("!") and _pattern_matches(p[1:], token) for p in patterns):
            continue
        if any(not p.startswith("!") and _pattern_matches(p, token) for p in patterns):
            key = f"{fields[1]} {fields[2]}"
            if key not in keys:
                keys.append(key)
    return keys


def render(server: str, port: int, client: str, keys: list[str] | tuple[str, ...]) -> str:
    """The per-interface known_hosts file: one line per pinned key.  Plain text, not a
    template: this runs on every netifd setup, and the client package has no jinja2."""
    host = host_token(server, port, client)
    return "".join(f"{host} {key}\n" for key in keys)


def hop_keys(pins: tuple[str, ...], server: str, port: int) -> tuple[str, ...]:
    """The keys option ``jump_hostkey`` pins for the jump host ``server``/``port``."""
    keys = []
    for pin in pins:
        token, _, key = pin.partition(" ")
        if known_host(token) == (server, port) and key not in keys:
            keys.append(key)
    return tuple(keys)


def pin_line(server: str, port: int, key: str) -> str:
    """A ``jump_hostkey`` entry: ``HOST[:PORT] TYPE BASE64`` in its normal form."""
    return f"{known_host_token(server, port)} {key}"
