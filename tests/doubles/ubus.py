"""Test double for the Python ``ubus`` binding (python3-ubus 0.1.3: CZ.NIC's ubus_python.c).

What it follows:

- the binding's C source, ubus_python.c: one connection per process, kept in module state
  (``connect()`` while connected raises ``RuntimeError("You are already connected to
  ubus.")``); a failed ``connect(socket_path='/var/run/ubus/ubus.sock')`` raises ``OSError``
  ("Failed to connect to the ubus socket '<path>'"); ``call(object, method, arguments,
  timeout=0)`` takes the timeout in milliseconds, and 0, the default, waits for ever; a negative
  one is a TypeError and so is a float (the ``i`` argument format); an unknown object raises
  ``RuntimeError("Object '<name>' was not found.")``, a request that times out
  ``RuntimeError("ubus error occured: Request timed out")``; the arguments go through
  ``json.dumps`` (a value JSON cannot take raises json's TypeError); the answer is the list of
  the replies' data, [] for ``notify_proto``; ``disconnect()`` when not connected raises
  ``RuntimeError("You are not connected to ubus.")``;
- issue 9's field facts of the binding on a router (libubus, ubusd, netifd e97e36f9): connect
  installs a SIGTERM handler that only sets a flag (libubus/uloop), so a ``kill`` no longer
  ends the process; ``call`` waits inside C: a Python signal handler runs only once it
  returns, while a signal whose action is the default one still ends the process at once.
  Modelled by holding back, for the time of the wait, the signals that have a Python handler
  (the double's uloop stand-in included); this needs the waiting thread to be the only one, as
  in the helper;
- golden/ubus-calls.log: each call that reaches the bus is appended to ``$UBUS_LOG`` in that
  layout, as the CLI double tests/netifd/ubus does (argv ``call <object> <method> <JSON>``,
  then the payload: here the ``json.dumps`` text the binding hands to libubus); the header
  line names the binding, the process and the timeout.

The bus it pretends to reach is set by the environment:

- ``UBUS_DOUBLE_SOCKET``: stands for /var/run/ubus/ubus.sock; ``connect`` fails unless it
  exists (default: the real path, absent on a build machine);
- ``UBUS_DOUBLE_NETIFD``: ``answer`` (default: netifd answers at once, without data),
  ``silent`` (netifd never answers), ``absent`` (no ``network.interface`` object).
"""

import json
import os
import signal
import threading
import time

DEFAULT_SOCKET = "/var/run/ubus/ubus.sock"
BLOBMSG_TYPE_UNSPEC, BLOBMSG_TYPE_ARRAY, BLOBMSG_TYPE_TABLE, BLOBMSG_TYPE_STRING = 0, 1, 2, 3
BLOBMSG_TYPE_INT64, BLOBMSG_TYPE_INT32, BLOBMSG_TYPE_INT16, BLOBMSG_TYPE_INT8 = 4, 5, 6, 7
BLOBMSG_TYPE_DOUBLE, BLOBMSG_TYPE_BOOL = 8, 7

_NOT_CONNECTED = "You are not connected to ubus."
_state = {"socket_path": None, "connected": False, "term_requested": False}


def _uloop_sigterm(signum, frame):
    """uloop's handler: it notes the request for a loop this process never runs."""
    _state["term_requested"] = True


def _require_connection():
    if not _state["connected"]:
        raise RuntimeError(_NOT_CONNECTED)


def connect(socket_path=None):
    if _state["connected"]:
        raise RuntimeError("You are already connected to ubus.")
    path = socket_path or os.environ.get("UBUS_DOUBLE_SOCKET", DEFAULT_SOCKET)
    if not isinstance(path, str):
        raise TypeError("connect() argument 1 must be str")
    if not os.path.exists(path):
        raise OSError(f"Failed to connect to the ubus socket '{path}'\n")
    _state.update(socket_path=path, connected=True)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _uloop_sigterm)
    return True


def disconnect(deregister=True):
    _require_connection()
    if not isinstance(deregister, bool):
        raise TypeError("disconnect() argument 1 must be bool")
    _state.update(socket_path=None, connected=False)


def get_connected():
    return _state["connected"]


def get_socket_path():
    return _state["socket_path"]


def call(object, method, arguments, timeout=0):
    _require_connection()
    if not isinstance(object, str) or not isinstance(method, str):
        raise TypeError("call() argument 1 must be str")
    if not isinstance(timeout, int):
        raise TypeError(f"'{type(timeout).__name__}' object cannot be interpreted as an integer")
    if timeout < 0:
        raise TypeError("timeout can't be lower than 0")
    netifd = os.environ.get("UBUS_DOUBLE_NETIFD", "answer")
    if object != "network.interface" or netifd == "absent":
        raise RuntimeError(f"Object '{object}' was not found.")
    payload = json.dumps(arguments)
    _log(object, method, payload, timeout)
    if netifd == "silent":
        _wait_in_c(timeout)
        raise RuntimeError("ubus error occured: Request timed out")
    return []


def _log(object, method, payload, timeout):
    path = os.environ.get("UBUS_LOG")
    if not path:
        return
    argv = ["call", object, method, payload]
    lines = [
        f"=== ubus invocation (python binding, pid {os.getpid()}, timeout {timeout} ms)",
        f"--- argv ($# = {len(argv)}), one per line:",
        *argv,
        "--- json payload:",
        payload,
    ]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(f"{line}\n" for line in lines))


def _wait_in_c(timeout):
    """libubus waiting for a reply: no Python code runs until the wait is over."""
    held = {
        sig for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        if callable(signal.getsignal(sig))
    }
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        deadline = None if timeout == 0 else time.monotonic() + timeout / 1000
        while deadline is None or time.monotonic() < deadline:
            left = 0.02 if deadline is None else deadline - time.monotonic()
            time.sleep(max(0.0, min(0.02, left)))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _not_modelled(*args, **kwargs):
    raise NotImplementedError("not modelled by the test double")


send = listen = loop = add = objects = _not_modelled
