"""Exponential back-off between connection attempts.

netifd restarts a proto task the moment it exits (``golden/netifd/05``: about 20 ms later),
and upstream pppossh then retries about once a second for as long as the server is away.
Here the n-th failure in a row waits about 2·2^(n-1) seconds, capped at five minutes, with
±20 % jitter so that many routers behind one outage do not return in step.  A session that
stayed up for a minute counts as success: the count starts again.
"""

from __future__ import annotations

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
