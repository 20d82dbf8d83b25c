"""Which files the server role may write as root, and the program its forced command starts.

A LuCI user holding this app's ACL may write ``/etc/config/pppossh``: nothing read from it may
pick a file to write or a program to run.  So

- ``remote_pppd`` is an absolute path to a program named ``pppd``, optionally behind exactly
  ``sudo -n`` (``/usr/bin/sudo -n``);
- ``authorized_keys`` is one of the files an SSH server reads login keys from: dropbear's, root's,
  the caller's own, or that of an account ``pppossh server-setup`` made;
- before anything is written, every directory on the way is one only root (or the caller) can
  change, so no one else can swap in a symbolic link to ``/etc/shadow`` between check and write.

The account ``server-setup`` makes is recognised by its comment (GECOS) :data:`ACCOUNT_MARK`
and its home ``/var/lib/<user>``; :func:`own_account` and the generated script check the same.
"""

from __future__ import annotations

import os
import re
import stat

from ..errors import ConfigError

DROPBEAR_KEYS = "/etc/dropbear/authorized_keys"
ACCOUNT_MARK = "pppossh VPN peers"
SYSTEM_CONFDIR = "/etc/config"
USER = re.compile(r"[a-z_][a-z0-9_-]{0,30}")

_COMPONENT = r"[A-Za-z0-9_][A-Za-z0-9_.+-]*"
_REMOTE_PPPD = re.compile(
    rf"(?:(?P<sudo>sudo|/usr/bin/sudo)[ \t]+-n[ \t]+)?(?P<pppd>(?:/{_COMPONENT})*/pppd)"
)
_ACCOUNT_KEYS = re.compile(rf"/var/lib/(?P<user>{USER.pattern})/\.ssh/authorized_keys")

REMOTE_PPPD_HELP = (
    "use the absolute path of pppd (e.g. /usr/sbin/pppd or /usr/local/sbin/pppd), optionally"
    " behind 'sudo -n' or '/usr/bin/sudo -n' (e.g. 'sudo -n /usr/sbin/pppd'); every peer's key"
    " starts exactly this program"
)


def remote_pppd_argv(value: str) -> tuple[str, ...]:
    """The words of an allowed ``remote_pppd``: ``(pppd,)`` or ``(sudo, '-n', pppd)``."""
    match = _REMOTE_PPPD.fullmatch(value.strip(" \t")) if isinstance(value, str) else None
    if not match:
        raise ConfigError("INVALID_REMOTE_PPPD", f"pppossh.server.remote_pppd {value!r} is not"
                          f" allowed: {REMOTE_PPPD_HELP}")
    pppd = match["pppd"]
    return (match["sudo"], "-n", pppd) if match["sudo"] else (pppd,)


def home_of(uid: int) -> str | None:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_dir or None
    except KeyError:
        return None


def own_account(user: str):  # -> pwd.struct_passwd | None
    """The passwd entry of ``user`` if ``pppossh server-setup`` made it, else None."""
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except (KeyError, ValueError):
        return None
    if (entry.pw_uid != 0 and entry.pw_gecos.split(",")[0] == ACCOUNT_MARK
            and entry.pw_dir == account_home(user)):
        return entry
    return None


def account_exists(user: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(user)
    except (KeyError, ValueError):
        return False
    return True


def account_home(user: str) -> str:
    return f"/var/lib/{user}"


def is_system_confdir(confdir: str) -> bool:
    path = os.path.normpath(os.path.abspath(confdir))
    return path == SYSTEM_CONFDIR or os.path.realpath(path) == os.path.realpath(SYSTEM_CONFDIR)


def allowed_authorized_keys(path: str, confdir: str = SYSTEM_CONFDIR) -> str:
    """``path`` if the server role may keep its peers' keys there, else a ConfigError.

    Allowed: dropbear's file, root's ``~/.ssh/authorized_keys``, the caller's own, and
    ``/var/lib/<user>/.ssh/authorized_keys`` of an account ``pppossh server-setup`` made.  With a
    UCI directory other than ``/etc/config`` (a staging tree, the tests: chosen by whoever runs
    pppossh, never by the configuration) a file named ``authorized_keys`` beside it, too.
    """
    allowed = {DROPBEAR_KEYS, "/root/.ssh/authorized_keys"}
    for uid in (0, os.geteuid()):
        home = home_of(uid)
        if home and home.startswith("/"):
            allowed.add(os.path.join(os.path.normpath(home), ".ssh", "authorized_keys"))
    if not is_system_confdir(confdir):
        tree = os.path.dirname(os.path.normpath(os.path.abspath(confdir)))
        allowed.add(os.path.join(tree, "authorized_keys"))
    if path in allowed:
        return path
    match = _ACCOUNT_KEYS.fullmatch(path)
    if match and own_account(match["user"]):
        return path
    where = ("the home of an account 'pppossh server-setup' made" if match
             else "not a login key file pppossh may write")
    raise ConfigError(
        "INVALID_AUTHORIZED_KEYS",
        f"pppossh.server.authorized_keys {path!r} is {where}: use {DROPBEAR_KEYS} (dropbear),"
        " /root/.ssh/authorized_keys (root logs in), /var/lib/<user>/.ssh/authorized_keys of the"
        " account 'pppossh server-setup' made, or leave it empty for the default",
    )


def is_account_keys(path: str) -> bool:
    match = _ACCOUNT_KEYS.fullmatch(path)
    return bool(match and own_account(match["user"]))


def check_safe(path: str, what: str) -> None:
    """Refuse ``path`` unless only root (or we) can change it or any directory on its way.

    Every existing part of ``path`` and of the path it resolves to must be owned by root or by
    us; a directory others may write must have the sticky bit (like /tmp), which keeps them from
    renaming what is ours.  A symbolic link on the way is followed only when root (or we) made it
    in such a directory.  Parts that do not exist yet are made by us.
    """
    me = os.geteuid()
    for candidate in dict.fromkeys((path, os.path.realpath(path))):
        current = "/"
        for name in [p for p in candidate.split("/") if p]:
            parent = os.stat(current)
            if parent.st_mode & 0o022 and not parent.st_mode & stat.S_ISVTX:
                raise ConfigError(
                    "UNSAFE_PATH",
                    f"{what} {path}: {current} may be written by other users;"
                    f" make it root's alone (chmod go-w {current})")
            current = os.path.join(current, name)
            try:
                st = os.lstat(current)
            except FileNotFoundError:
                if parent.st_mode & 0o022:  # sticky: another user may make it first
                    raise ConfigError("UNSAFE_PATH", f"{what} {path}: {current} does not"
                                      " exist and others may create it first; make it as root"
                                      ) from None
                break
            if st.st_uid not in (0, me):
                raise ConfigError("UNSAFE_PATH", f"{what} {path}: {current} belongs to uid"
                                  f" {st.st_uid}; it must be root's (chown root:root {current})")
            if stat.S_ISLNK(st.st_mode):
                continue  # root (or we) made it where no one else could: check its target
            if current != candidate and not stat.S_ISDIR(st.st_mode):
                raise ConfigError("UNSAFE_PATH", f"{what} {path}: {current} is not a directory")
        else:
            st = os.stat(candidate)
            if not stat.S_ISREG(st.st_mode):
                raise ConfigError("UNSAFE_PATH", f"{what} {path} is not a regular file")
