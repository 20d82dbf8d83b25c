"""pppossh's logger: lines on stderr for a person, syslog (``logread``) on a router.

Not the ``logging`` package: on OpenWrt that is python3-logging, a package the client would
need for nothing else, and ``import logging.handlers`` costs ~14 ms on every netifd setup,
ppp hook and command.  The ``syslog`` module is in python3-light.

Until :func:`setup` runs (a test, a library caller), warnings and errors go to stderr, as
``logging`` did with no handler.  Logging never raises: a router without logd, a closed
stderr or an unencodable path must not stop an interface from coming up.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

# syslog's priorities (syslog.LOG_*): a smaller number is more severe
ERROR = 3
WARNING = 4
INFO = 6
DEBUG = 7

PREFIX = "pppossh: "
SYSLOG_SOCKETS = ("/dev/log", "/var/run/log")

Sink = Callable[[int, str], None]
# Called with (level, message) for every record, whatever the levels set up: how tests see
# what was logged (see capture).  A sink that raises is ignored.
SINKS: list[Sink] = []

_stderr_level: int | None = WARNING  # None: nothing on stderr
_syslog_level: int | None = None  # None: no syslog
_syslog: ModuleType | None = None


def _syslog_socket() -> bool:
    """A syslog daemon listens: syslog(3) stays silent without one, but then there is no
    point in formatting for it (and the stat is cheaper than its connect attempts)."""
    for path in SYSLOG_SOCKETS:
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                return True
        except OSError:
            continue
    return False


def setup(verbose: bool, quiet_stderr: bool = False) -> None:
    """Log to syslog (ident ``pppossh``, with the pid, facility daemon) when there is one and
    ``PPPOSSH_NO_SYSLOG`` is not set: info and up, debug too when ``verbose``.  Log to stderr,
    prefixed ``pppossh: ``, warnings and up (debug and up when ``verbose``).

    ``quiet_stderr``: under netifd and pppd stderr ends up in the same log as syslog, so
    say it once; but only when syslog really takes the lines, else stderr is all there is.
    Calling it again replaces what an earlier call set up.
    """
    global _stderr_level, _syslog_level, _syslog
    _syslog_level = None
    if not os.environ.get("PPPOSSH_NO_SYSLOG") and _syslog_socket():
        try:
            import syslog

            syslog.openlog("pppossh", syslog.LOG_PID, syslog.LOG_DAEMON)
            _syslog, _syslog_level = syslog, DEBUG if verbose else INFO
        except Exception:  # no syslog module (not a Unix), a bad ident: stderr still works
            _syslog = None
    _stderr_level = None if quiet_stderr and _syslog_level is not None else (
        DEBUG if verbose else WARNING)


def _format(msg: object, args: tuple[object, ...]) -> str:
    text = str(msg)
    if not args:
        return text
    try:
        return text % args
    except (TypeError, ValueError, KeyError):  # a wrong format is a bug; its record still counts
        return f"{text} {args!r}"


def log(level: int, msg: object, *args: object) -> None:
    """Log ``msg % args`` at ``level`` (one of the constants here)."""
    to_stderr = _stderr_level is not None and level <= _stderr_level
    to_syslog = _syslog_level is not None and level <= _syslog_level
    if to_stderr or to_syslog or SINKS:
        _emit(level, _format(msg, args), to_stderr, to_syslog)


def _emit(level: int, text: str, to_stderr: bool, to_syslog: bool) -> None:
    for sink in list(SINKS):
        with contextlib.suppress(Exception):
            sink(level, text)
    if to_syslog and _syslog is not None:
        # e.g. UnicodeEncodeError for a path with undecodable bytes
        with contextlib.suppress(Exception):
            _syslog.syslog(level, text)
    stream = sys.stderr
    if to_stderr and stream is not None:
        line = f"{PREFIX}{text}\n"
        with contextlib.suppress(Exception):  # closed, a broken pipe
            try:
                stream.write(line)
            except UnicodeEncodeError:  # a stream stricter than sys.stderr's backslashreplace
                stream.write(line.encode("ascii", "backslashreplace").decode("ascii"))
            stream.flush()


def debug(msg: object, *args: object) -> None:
    log(DEBUG, msg, *args)


def info(msg: object, *args: object) -> None:
    log(INFO, msg, *args)


def warning(msg: object, *args: object) -> None:
    log(WARNING, msg, *args)


def error(msg: object, *args: object) -> None:
    log(ERROR, msg, *args)


def exception(msg: object, *args: object) -> None:
    """An error with the traceback of the exception being handled, on the following lines."""
    if sys.exc_info()[0] is None:
        log(ERROR, msg, *args)
        return
    import traceback

    log(ERROR, "%s\n%s", _format(msg, args), traceback.format_exc().rstrip("\n"))


@contextlib.contextmanager
def capture() -> Iterator[list[tuple[int, str]]]:
    """Collect every record logged inside the ``with``, as (level, message) pairs, whatever
    :func:`setup` chose for stderr and syslog::

        with log.capture() as records:
            ...
        assert (log.ERROR, "vpn: stopped") in records
    """
    records: list[tuple[int, str]] = []

    def sink(level: int, message: str) -> None:
        records.append((level, message))

    SINKS.append(sink)
    try:
        yield records
    finally:
        SINKS.remove(sink)
