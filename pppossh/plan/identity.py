"""Which private key files the SSH client gets.

Configured identities are used in order, skipping files that do not exist (OpenWrt's pppossh
does the same).  With none configured, the interface's own key comes first, then the usual
files in the user's ``~/.ssh``.  A key in a format the chosen client cannot read is an error
with the conversion command, because the client would otherwise die with a cryptic message
("String too long") on every reconnect.
"""

from __future__ import annotations

import os

from ..config import Config
from ..errors import ConfigError

# Dropbear 2022.83 dbclient cannot read OpenSSH-format private keys; OpenSSH cannot read
# Dropbear's own format.  PEM (BEGIN RSA/EC PRIVATE KEY) is read by OpenSSH only.
CLIENT_FORMATS = {"dbclient": {"dropbear"}, "openssh": {"openssh", "pem"}}
CONVERT = {
    ("dbclient", "openssh"): "dropbearconvert openssh dropbear {path} {path}.dropbear",
    ("dbclient", "pem"): "dropbearconvert openssh dropbear {path} {path}.dropbear",
    ("openssh", "dropbear"): "dropbearconvert dropbear openssh {path} {path}.openssh",
}


def key_format(head: bytes) -> str:
    """Tell a key file's format from its first bytes."""
    if head.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
        return "openssh"
    if head.startswith(b"-----BEGIN ") and b"PRIVATE KEY-----" in head[:64]:
        return "pem"
    if head[:3] == b"\x00\x00\x00" and head[4:8] in (b"ssh-", b"ecds"):
        return "dropbear"  # SSH wire format: uint32 length, then the key type name
    return "unknown"


def own_key_paths(iface: str, keydir: str) -> list[str]:
    """Where ``pppossh keygen`` puts an interface's key (Dropbear and OpenSSH format)."""
    return [os.path.join(keydir, iface), os.path.join(keydir, f"{iface}.openssh")]


def candidate_identities(config: Config, home: str, keydir: str) -> list[str]:
    if config.identity:
        return list(config.identity)
    return default_identities(config.iface, home, keydir)


def default_identities(iface: str, home: str, keydir: str) -> list[str]:
    """Where an interface without option identity looks for its key, in order."""
    ssh = os.path.join(home, ".ssh")
    return [
        *own_key_paths(iface, keydir),
        os.path.join(keydir, "shared"),
        os.path.join(keydir, "shared.openssh"),
        os.path.join(ssh, "id_ed25519"),
        os.path.join(ssh, "id_dropbear"),
        os.path.join(ssh, "id_rsa"),
    ]


def select_identities(
    config: Config,
    client: str,
    home: str,
    keydir: str,
    formats: dict[str, str],
    unreadable: frozenset[str],
) -> list[str]:
    """The key files to pass with ``-i``, in order; raises ConfigError when there are none."""
    explicit = bool(config.identity)
    chosen: list[str] = []
    for path in candidate_identities(config, home, keydir):
        if path in unreadable:
            if explicit:
                raise ConfigError(
                    "UNREADABLE_IDENTITY",
                    f"identity {path} exists but cannot be read; make it readable by root"
                    f" (chmod 600 {path})",
                )
            continue
        fmt = formats.get(path)
        if fmt is None:
            continue
        if fmt not in CLIENT_FORMATS[client] and fmt != "unknown":
            if explicit:
                hint = CONVERT.get((client, fmt), "")
                raise ConfigError(
                    "INVALID_IDENTITY",
                    f"identity {path} is a {fmt}-format key, which {client} cannot read"
                    + (f"; convert it: {hint.format(path=path)}" if hint else "")
                    + " and list the converted file in option identity",
                )
            continue
        chosen.append(path)
    if not chosen:
        where = (
            "none of the files in option identity exist"
            if explicit
            else "no key found (" + ", ".join(candidate_identities(config, home, keydir)) + ")"
        )
        raise ConfigError(
            "NO_IDENTITY",
            f"{where}; create one with: pppossh keygen {config.iface}"
            f" (or set network.{config.iface}.identity to your key file)",
        )
    return chosen
