"""Exponential back-off between connection attempts.

netifd restarts a proto task the moment it exits (``golden/netifd/05``: about 20 ms later),
and upstream pppossh then retries about once a second for as long as the server is away.
Here the n-th failure in a row waits about 2·2^(n-1) seconds, capped at five minutes, with
±20 % jitter so that many routers behind one outage do not return in step.  A session that
stayed up for a minute counts as success: the count starts again.

A long step must not keep the tunnel down once the server is back.  After a failure that
may mean the server's port was closed or unreachable (:data:`WATCH_AFTER`), the wait watches
that port with a bare TCP connection once a second and ends as soon as the port answers
after it did not: no login, so no failed login for a ban tool to count, and one connection
in the server's log per outage.  While the port stays down the wait goes on past its step,
up to the longest step: an attempt could only fail the same way.  After a failure that
itself found the port closed or out of reach (:data:`PORT_DOWN`) the first answer ends the
wait; after one that may have had other causes (a session lost), the port must be seen down
first.  A port that answers at once then means the failure was not an outage: the step is
slept out as usual, so a session that keeps failing cannot turn the watch into a fast retry
loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random

FIRST = 2.0
CAP = 300.0
JITTER = 0.2
STABLE = 60.0  # seconds a session must stay up to reset the failure count


def delay(failures: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before the next attempt after ``failures`` failures in a row."""
    if failures <= 0:
        return 0.0
    if rng is None:
        import random as rng  # only after a failure: not on the way of every setup
    base = min(FIRST * 2 ** min(failures - 1, 16), CAP)
    spread = rng.uniform(1 - JITTER, 1 + JITTER)
    return round(min(base * spread, CAP), 1)


def failures_after(previous: int, session_seconds: float | None) -> int:
    """The failure count after an attempt ended; ``session_seconds`` None = never came up."""
    if session_seconds is not None and session_seconds >= STABLE:
        return 1
    return previous + 1


# Failures after which the server's port may be closed or out of reach: the next wait watches
# it.  After any other failure the server answered, and a probe would only add to its log.
WATCH_AFTER = frozenset({"CONNECT_REFUSED", "CONNECT_TIMEOUT", "NO_ROUTE", "CONNECTION_LOST",
                         "NO_PPP_ANSWER"})
# Of those, the failures where the client found the port closed or out of reach itself.
PORT_DOWN = frozenset({"CONNECT_REFUSED", "CONNECT_TIMEOUT", "NO_ROUTE"})
PROBE_EVERY = 1.0  # seconds between probes while the port does not answer
PROBE_TIMEOUT = 2  # seconds a probe may take (the shell's watchdog ends busybox nc then)


def watch_target(code: str | None, addresses: list[str]) -> tuple[str, bool] | None:
    """What the wait after a failure with ``code`` watches: (the server address to probe,
    whether the port was found down already), or None when it only sleeps."""
    if code not in WATCH_AFTER or not addresses:
        return None
    return addresses[0], code in PORT_DOWN


def port_answers(address: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """A bare TCP connection to the server's SSH port, closed at once."""
    import socket

    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def watch(
    seconds: float,
    answers: Callable[[], bool] | None,
    nap: Callable[[float], bool],
    clock: Callable[[], float],
    down: bool = False,
    longest: float = CAP,
) -> bool:
    """Wait ``seconds``, probing with ``answers`` (None: just wait); True when the wait ended
    early because the port answered after it had not (``down``: it was down already, see
    :data:`PORT_DOWN`).  While the port stays down the wait goes on past ``seconds``, up to
    ``longest``: an attempt then could only fail the same way.  ``nap(s)`` sleeps up to ``s``
    seconds and returns True when the wait must stop (the tunnel is being taken down)."""
    start = clock()
    watching, seen_down = answers is not None, down
    while True:
        if watching and answers is not None:
            if answers():
                if seen_down:
                    return True
                watching = False  # it answers: not an outage; sleep the step out
            else:
                seen_down = True
        limit = start + (max(seconds, longest) if watching else seconds)
        left = limit - clock()
        if left <= 0 or nap(min(PROBE_EVERY, left) if watching else left):
            return False
