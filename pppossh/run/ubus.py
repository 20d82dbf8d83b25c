"""``notify_proto`` messages to netifd, one small verb per message.

The builders mirror the verbs of OpenWrt's ``netifd-proto.sh`` (``proto_run_command``,
``proto_notify_error``, ...) key for key and in the same order, so the JSON equals what
``golden/ubus-calls.log`` recorded from the real shell library.  The link update (action 0)
is not here: under netifd the ppp hooks send it with the shell library itself, as OpenWrt's
``ppp-up`` does (``templates/ppp-hook.sh.j2``).  :class:`Ubus` sends them with
the Python ``ubus`` binding when it is installed, else with the ``ubus`` command line tool.

Both ways give up after ``CALL_TIMEOUT`` seconds, and both leave a TERM from the hook able to
end the helper at once (see :func:`_signals_kept` for what the binding needs for that).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

from . import jsonc

Message = dict[str, Any]

RUN, KILL, ERROR, BLOCK_RESTART, AVAILABLE, HOST_DEPENDENCY, SETUP_FAILED = 1, 2, 3, 4, 5, 6, 7
CALL_TIMEOUT = 30.0
"""Seconds to wait for netifd's answer: what ``ubus call`` waits by default (``-t 30``)."""


def run_command(iface: str, argv: Sequence[str], env: Sequence[str] = ()) -> Message:
    message: Message = {"action": RUN, "command": list(argv)}
    if env:
        message["env"] = list(env)
    message["interface"] = iface
    return message


def kill_command(iface: str, signal: int | None = None) -> Message:
    message: Message = {"action": KILL}
    if signal is not None:
        message["signal"] = signal
    message["interface"] = iface
    return message


def notify_error(iface: str, code: str, *data: str) -> Message:
    return {"action": ERROR, "error": [code, *data], "interface": iface}


def block_restart(iface: str) -> Message:
    return {"action": BLOCK_RESTART, "interface": iface}


def host_dependency(iface: str, host: str, ifname: str = "") -> Message:
    message: Message = {"action": HOST_DEPENDENCY, "host": host}
    if ifname:
        message["ifname"] = ifname
    message["interface"] = iface
    return message


def setup_failed(iface: str) -> Message:
    return {"action": SETUP_FAILED, "interface": iface}


class UbusError(RuntimeError):
    pass


class Ubus:
    """Sends notify_proto; ``backend`` says which way ("binding" or "cli").

    ``timeout`` bounds every call, in seconds.  The binding's own default is to wait for ever.
    """

    def __init__(self, timeout: float = CALL_TIMEOUT) -> None:
        self.backend = "cli"
        self.timeout = timeout
        self._binding: Any = None
        if os.environ.get("PPPOSSH_UBUS", "") != "cli":
            try:
                import ubus  # type: ignore[import-not-found]

                self._binding = ubus
                self.backend = "binding"
            except ImportError:
                pass

    def notify(self, message: Message) -> None:
        # proto_add_host_dependency calls ubus with -S, every other verb without it.
        self.call("network.interface", "notify_proto", message,
                  simple=message["action"] == HOST_DEPENDENCY)

    def call(self, path: str, method: str, message: Message | None = None,
             simple: bool = False) -> Any:
        """``ubus call PATH METHOD [MESSAGE]``: the answer's JSON (None when it gave none).

        ``simple``: the command line tool's ``-S`` (one-line output), as the shell library
        uses it for some verbs.
        """
        if self._binding is not None:
            return self._call_binding(path, method, message or {})
        argv = ["ubus", *(["-S"] if simple else []), "call", path, method]
        if message is not None:
            argv.append(jsonc.dumps(message))
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout,
                                    check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UbusError(f"cannot run ubus: {exc}") from exc
        if result.returncode != 0:
            raise UbusError(
                f"ubus call {path} {method} failed ({result.returncode}):"
                f" {result.stderr.strip()}"
            )
        if not result.stdout.strip():
            return None
        try:
            return json.loads(result.stdout)
        except ValueError as exc:
            raise UbusError(f"ubus call {path} {method}: no JSON in its answer") from exc

    def _call_binding(self, path: str, method: str, message: Message) -> Any:
        """One connection per call: the binding allows one per process, kept in C."""
        ubus = self._binding
        connected = False
        try:
            with _signals_kept():
                ubus.connect()
            connected = True
            # milliseconds; the binding's default, 0, waits for ever
            answers = ubus.call(path, method, message,
                                timeout=max(1, round(self.timeout * 1000)))
        except Exception as exc:  # the binding raises plain RuntimeError/OSError/TypeError
            raise UbusError(f"ubus {path} {method} failed: {exc}") from exc
        finally:
            if connected:
                with _signals_kept(), contextlib.suppress(Exception):
                    ubus.disconnect()
        return answers[0] if answers else None


_KEPT_SIGNALS = ("SIGTERM", "SIGINT")


@contextlib.contextmanager
def _signals_kept() -> Iterator[None]:
    """Undo what libubus does to signal handlers while connecting (and disconnecting).

    libubus installs uloop's SIGTERM/SIGINT handlers, which only set a flag for a uloop this
    process never runs: the hook's ``kill`` would no longer end the helper.  The handlers that
    were there before come back (in the helper SIGTERM's default action: a TERM ends it at once,
    even while the binding waits for netifd inside C, where no Python handler could run; a
    process with a Python handler gets it called once the bounded call returns).  The signals
    are held back meanwhile, so that one arriving in between reaches the restored handler
    instead of uloop's.  Python sets handlers only in the main thread: elsewhere, nothing to do.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kept = {sig: signal.getsignal(sig) for sig in (getattr(signal, n) for n in _KEPT_SIGNALS)}
    held = signal.pthread_sigmask(signal.SIG_BLOCK, set(kept))
    try:
        yield
    finally:
        for sig, handler in kept.items():
            # None: a handler set outside Python, which cannot be put back; default then
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
