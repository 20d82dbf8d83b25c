"""``pppossh keygen`` and ``pppossh pubkey``: a login key per interface, made for its client.

Keys live in ``/etc/pppossh/keys/`` (mode 0700): ``<iface>`` (or ``shared`` for a key several
interfaces use) in the format the interface's SSH client reads — Dropbear's for dbclient
(``dropbearkey``), OpenSSH's for ssh (``ssh-keygen``) — with ``<name>.pub`` beside it.  A new
key is made in a temporary file and linked into place, so a reader never sees half a key and
an existing key is never replaced unless ``--force`` says so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import PppsshError
from ..plan.identity import key_format
from ..uci import Uci
from .section import pppossh_section, raw_option

TOOLS = {"dbclient": "dropbearkey", "openssh": "ssh-keygen"}


@dataclass(frozen=True)
class KeyInfo:
    path: str
    public: str  # "ssh-ed25519 AAAA... comment"
    created: bool


def comment_for(iface: str) -> str:
    return f"pppossh-{iface}@{socket.gethostname()}"


def client_for(uci: Uci, iface: str) -> str:
    """The client the interface will use, from its ssh_client option and what is installed."""
    wanted = str(raw_option(uci, iface, "ssh_client") or "auto")
    have = {name for name, tool in TOOLS.items() if shutil.which(tool)}
    if wanted in TOOLS:
        if wanted not in have:
            raise PppsshError(
                "NO_KEYGEN",
                f"{TOOLS[wanted]} is not installed; install it or change network.{iface}."
                "ssh_client",
            )
        return wanted
    for name in ("dbclient", "openssh"):
        if name in have and shutil.which("dbclient" if name == "dbclient" else "ssh"):
            return name
    raise PppsshError("NO_KEYGEN", "neither dropbearkey nor ssh-keygen is installed")


def _generate(tool: str, path: Path, comment: str) -> None:
    if tool == "dropbearkey":
        argv = ["dropbearkey", "-t", "ed25519", "-f", str(path)]
    else:
        argv = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if out.returncode != 0:
        raise PppsshError("KEYGEN_FAILED", f"{tool} failed: {out.stderr.strip()}")


def public_line(path: str, comment: str) -> str:
    """The OpenSSH public key line of a private key file, whatever its format."""
    try:
        with open(path, "rb") as fh:
            fmt = key_format(fh.read(4096))
    except OSError as exc:
        raise PppsshError("NO_IDENTITY", f"cannot read {path}: {exc.strerror}") from None
    if fmt == "dropbear":
        argv = ["dropbearkey", "-y", "-f", path]
    else:
        argv = ["ssh-keygen", "-y", "-f", path]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                             stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise PppsshError("NO_KEYGEN", f"{argv[0]} is needed to read {path}") from None
    for line in out.stdout.splitlines():
        if line.startswith(("ssh-", "ecdsa-", "sk-")):
            kind, b64 = line.split()[:2]
            return f"{kind} {b64} {comment}"
    raise PppsshError("INVALID_IDENTITY", f"{path} is not a private key {argv[0]} can read")


def keygen(uci: Uci, iface: str, keydir: str, *, force: bool = False,
           shared: bool = False) -> KeyInfo:
    """Create the key (unless it exists and is reused), then list it in ``identity``."""
    pppossh_section(uci, iface)  # fail before making a key for a typo or another proto
    client = client_for(uci, iface)
    name = "shared" if shared else iface
    directory = Path(keydir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    final = directory / name
    comment = comment_for("shared" if shared else iface)
    created = False
    if final.exists() and not force:
        if not shared:
            raise PppsshError(
                "KEY_EXISTS",
                f"{final} already exists; use it as it is, or replace it with"
                f" 'pppossh keygen {iface} --force' (servers then need the new public key)",
            )
    else:
        with tempfile.TemporaryDirectory(dir=directory, prefix=".keygen-") as tmp:
            fresh = Path(tmp) / "key"
            _generate(TOOLS[client], fresh, comment)
            os.chmod(fresh, 0o600)
            pub = public_line(str(fresh), comment)
            (Path(tmp) / "key.pub").write_text(pub + "\n")
            os.chmod(Path(tmp) / "key.pub", 0o644)
            if force:
                os.replace(Path(tmp) / "key.pub", f"{final}.pub")
                os.replace(fresh, final)
            else:
                try:
                    os.link(fresh, final)  # fails if someone made the key meanwhile
                except FileExistsError:
                    raise PppsshError("KEY_EXISTS", f"{final} appeared meanwhile") from None
                os.replace(Path(tmp) / "key.pub", f"{final}.pub")
        created = True
    identity = list(_as_list(raw_option(uci, iface, "identity")))
    if str(final) not in identity:
        uci.set("network", iface, "identity", (*identity, str(final)))
        uci.commit("network")
    return KeyInfo(str(final), public_line(str(final), comment), created)


def _as_list(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)  # type: ignore[arg-type]


def pubkey(uci: Uci, iface: str, keydir: str) -> str:
    """The public key line of the first existing key the interface logs in with."""
    from ..plan.identity import default_identities

    configured = _as_list(raw_option(uci, iface, "identity"))
    candidates = list(configured) or default_identities(iface, os.path.expanduser("~"), keydir)
    path = next((p for p in candidates if os.path.isfile(p)), None)
    if path is None:
        raise PppsshError(
            "NO_IDENTITY",
            f"{iface} has no key yet ({', '.join(candidates)}); create one with:"
            f" pppossh keygen {iface}",
        )
    comment = comment_for("shared" if Path(path).name.startswith("shared") else iface)
    try:
        return public_line(path, comment)
    except PppsshError:
        with contextlib.suppress(OSError, IndexError):
            kind, b64 = Path(f"{path}.pub").read_text().split()[:2]
            return f"{kind} {b64} {comment}"
        raise
