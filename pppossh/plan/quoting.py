"""Quoting for the two shells our words pass through.

pppd runs its ``pty`` value with ``/bin/sh -c``; the SSH server runs the remote command with
the login shell of the SSH user.  Both strings are built here from word lists, each word quoted
so that the shell gives back exactly that word and never runs anything else.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable


def sh_join(words: Iterable[str]) -> str:
    """Join words into one POSIX shell command line (busybox ash, dash and bash agree)."""
    return " ".join(shlex.quote(w) for w in words)


def sh_split(text: str) -> list[str]:
    """The inverse of :func:`sh_join`, used by tests to prove the round trip."""
    return shlex.split(text, posix=True)
