"""The saved plan that lets the netifd hook repeat a setup without starting Python.

Most setups repeat the last one: same section, nothing failed since, the same programs and
keys.  After such a setup the helper writes ``relay`` in the interface's state directory;
the next setup whose configuration JSON is byte for byte the same is relayed by the hook
itself (``templates/pppossh.sh.j2``): it checks that no file the plan was made from is newer
than the plan, that the server name still resolves to the same addresses, then pins the
hosts and starts the same command.  Anything else (a change, a failure, a back-off, a
password file to write) goes through the helper, which removes the file first.

One fact per line, read by the shell with ``read``, never run as code::

    <the configuration JSON, as netifd passed it>
    need <path>                 the plan is stale once this file is newer (or gone)
    resolve <name> <address>... the addresses the name had, sorted (absent for a literal)
    host <address>              a host dependency to pin
    empty <path>                a session log to empty before the new session
    word <word>                 the proto task's argv, one word per line
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence

from .state import State, write_atomic

RELAY_FILE = "relay"


def relay_text(
    config_json: str,
    *,
    needs: Sequence[str],
    server: str,
    addresses: Sequence[str],
    hosts: Sequence[str],
    empty: Sequence[str],
    argv: Sequence[str],
) -> str | None:
    """The file's text, or None when a value cannot be kept one per line (then every setup
    goes through the helper)."""
    literal = list(addresses) == [server]
    lines = [config_json]
    lines += [f"need {path}" for path in needs]
    if not literal:
        lines.append(" ".join(["resolve", server, *sorted(set(addresses))]))
    lines += [f"host {address}" for address in hosts]
    lines += [f"empty {path}" for path in empty]
    lines += [f"word {word}" for word in argv]
    single = [server, *addresses, *empty]  # the hook splits these at spaces
    if any("\n" in line or "\r" in line for line in lines) or any(
            not value or any(c.isspace() for c in value) for value in single):
        return None
    return "".join(f"{line}\n" for line in lines)


def save(state: State, text: str | None, newest: float = 0.0) -> None:
    """Write the plan, dated a second back: shells compare whole seconds (busybox's ``-nt``),
    so a file changed later in the same second must still count as newer.  When a file the
    plan needs (``newest``: the latest of their modification times) changed in the last
    seconds, that cannot be told apart: nothing is saved.
    """
    stamp = int(time.time()) - 1
    if text is None or int(newest) >= stamp:
        discard(state)
        return
    write_atomic(state.path(RELAY_FILE), text)
    os.utime(state.path(RELAY_FILE), (stamp, stamp))


def discard(state: State) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(state.path(RELAY_FILE))
