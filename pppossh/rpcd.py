"""The rpcd exec plugin behind LuCI's pppossh pages (``/usr/libexec/rpcd/pppossh``).

rpcd runs ``pppossh list`` once to learn the methods and their argument types, then
``pppossh call <method>`` with the ubus message on stdin, and relays the JSON object printed
on stdout (the facts below are recorded in ``tests/golden/rpcd/``, see its README).

What arrives on stdin
  The whole ubus message as compact JSON.  Through uhttpd (every LuCI call) uhttpd appends
  ``ubus_rpc_session`` as the last key, even to ``{}`` (golden 11, 60-70); through the
  ``ubus`` CLI it is absent (80), and a CLI call without a message gives ``{}`` (81).  rpcd
  checks nothing against the signature: undeclared keys and wrong types pass through (14,
  15, 16).

How the arguments are read (the decision of issue 9)
  - ``ubus_rpc_session`` is dropped: the session was checked by rpcd against the ACL before
    the plugin ran, and no method needs it.
  - Keys a method does not declare are ignored, the way every C ubus method ignores the
    attributes outside its policy (``blobmsg_parse``): LuCI or a newer page may send more
    than this version knows, and a call must not fail for it.  They are never read.
  - A declared key whose value is ``null`` counts as not given.
  - A declared key of the wrong type (a string for a boolean, an int for a string, ...) is
    refused with ``INVALID_ARGUMENT`` naming the key and the type it needs: rpcd does not
    check types, so this is the only place that does.  Every value is checked again whatever
    the page checked: being logged in to LuCI is no licence to reach a shell or another
    interface's keys.

What goes to stdout
  Exactly one JSON object, whatever happens: a bad stdin, a refused argument, an unexpected
  exception or a method that ran out of time all give ``{"error": CODE, "message": ...}``
  (rpcd turns no output into ``[5]`` and anything else into ``[2]``, golden 31-34, which a
  page can only report as "no answer").  ``error`` is a code and ``values`` (when present)
  holds the facts behind it; ``message`` is an English sentence for people at the CLI.  The
  LuCI pages word the codes themselves, through ``_()``.

Time
  rpcd kills a plugin with SIGKILL after 30 s and the page then gets ``[5]`` (golden 36), and
  LuCI gives up on a call after 20 s (``L.env.rpctimeout``).  Network work is bounded by
  ``RPC_BUDGET``; every call is cut at ``DEADLINE`` and answers ``TIMEOUT``.  ``check`` takes
  longer, so it runs in the background: an isolated child Python (``-I``, cwd ``/``) whose
  stdin, stdout and stderr are ``/dev/null`` — rpcd answers only once stdout and stderr reach
  EOF (golden 37), so nothing may keep them open.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from collections.abc import Callable
from typing import Any

from .config.checks import interface_name
from .errors import PppsshError

FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")

# method -> argument name -> sample value: rpcd reads the types from the samples.
SIGNATURES: dict[str, dict[str, Any]] = {
    "status": {"interface": "vpn"},
    "keygen": {"interface": "vpn", "force": False, "shared": False},
    "pubkey": {"interface": "vpn"},
    "fetch_hostkey": {"interface": "vpn"},
    "pin_hostkey": {"interface": "vpn", "fingerprint": "SHA256:..."},
    "check": {"interface": "vpn", "start": False},
    "peer_list": {},
    "peer_add": {"name": "branch-1", "key": "ssh-ed25519 AAAA...", "ip": "", "routes": [],
                 "mode": "ppp", "unit": "", "bridge": ""},
    "peer_del": {"name": "branch-1"},
    "peer_apply": {},
}
REQUIRED = {
    "status": {"interface"}, "keygen": {"interface"}, "pubkey": {"interface"},
    "fetch_hostkey": {"interface"}, "pin_hostkey": {"interface", "fingerprint"},
    "check": {"interface"}, "peer_add": {"name", "key"}, "peer_del": {"name"},
}
TYPE_NAMES = {str: "string", bool: "boolean", int: "integer", list: "array", dict: "object"}

# LuCI gives up on an rpc call after 20 s (L.env.rpctimeout), rpcd kills the plugin at 30 s:
# network work stays within RPC_BUDGET, and every call answers by DEADLINE.
RPC_BUDGET = 15
DEADLINE = 18.0


class BadArgument(PppsshError):
    def __init__(self, message: str, **values: Any) -> None:
        super().__init__("INVALID_ARGUMENT", message)
        self.values = values


class Deadline(BaseException):
    """Raised by the alarm at DEADLINE; a BaseException so that no ``except Exception`` on
    the way swallows it (subprocess.run kills its child on the way out)."""


def _args(method: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadArgument("the arguments must be a JSON object", argument="",
                          expected="object")
    spec = SIGNATURES[method]
    args = {k: v for k, v in raw.items() if k in spec and v is not None}
    missing = REQUIRED.get(method, set()) - set(args)
    if missing:
        name = sorted(missing)[0]
        raise BadArgument(f"{method} needs {name!r}", argument=name, expected=TYPE_NAMES[
            type(spec[name])])
    for name, value in args.items():
        wanted = type(spec[name])
        if type(value) is not wanted:
            raise BadArgument(
                f"{name} must be a {TYPE_NAMES[wanted]}, not {json.dumps(value)[:40]}",
                argument=name, expected=TYPE_NAMES[wanted])
    if "interface" in args:
        try:
            interface_name(args["interface"])
        except ValueError as exc:
            raise BadArgument(str(exc), argument="interface", expected="interface") from None
    if "fingerprint" in args and not FINGERPRINT.fullmatch(args["fingerprint"]):
        raise BadArgument("fingerprint must look like SHA256:<43 characters>",
                          argument="fingerprint", expected="fingerprint")
    if "routes" in args and not all(isinstance(r, str) for r in args["routes"]):
        raise BadArgument("routes must be a list of networks", argument="routes",
                          expected="array")
    return args


def _uci() -> Any:
    import os

    from .uci import open_uci

    return open_uci(os.environ.get("PPPOSSH_CONFDIR", "/etc/config"))


def _dirs() -> tuple[str, str]:
    from .plan.facts import keydir_from_env, rundir_from_env

    return rundir_from_env(), keydir_from_env()


def status(a: dict[str, Any]) -> dict[str, Any]:
    from .run.status import interface_status

    return interface_status(_dirs()[0], a["interface"])


def keygen(a: dict[str, Any]) -> dict[str, Any]:
    from .admin.keys import keygen as make

    info = make(_uci(), a["interface"], _dirs()[1], force=a.get("force", False),
                shared=a.get("shared", False))
    return {"path": info.path, "public": info.public, "created": info.created}


def pubkey(a: dict[str, Any]) -> dict[str, Any]:
    from .admin.keys import pubkey as show

    return {"public": show(_uci(), a["interface"], _dirs()[1])}


def fetch_hostkey(a: dict[str, Any]) -> dict[str, Any]:
    from .admin import trust
    from .plan import choose_client, make_plan
    from .plan.facts import probe
    from .plan.knownhosts import fingerprint
    from .run.standalone import load_config

    config = load_config(_uci(), a["interface"])
    facts = probe(config)
    client, program = choose_client(config, facts)
    identities = list(make_plan(config, facts, require_hostkey=False).identities) \
        if config.hops else []
    wait = min(config.connect_timeout, RPC_BUDGET)
    key = trust.first_or_fail(trust.server_keys(config, client, program, identities, wait),
                              config.server, config.port, wait)
    pinned = [fingerprint(k) for k in config.hostkey]
    return {"key": key.key, "type": key.kind, "fingerprint": key.fingerprint,
            "description": key.describe(), "pinned": pinned,
            "matches": key.fingerprint in pinned, "server": config.server,
            "port": config.port}


def pin_hostkey(a: dict[str, Any]) -> dict[str, Any]:
    from .admin import trust

    result = trust.trust(_uci(), a["interface"], yes=False, expected=a["fingerprint"],
                         timeout=RPC_BUDGET)
    return {"pinned": True, "key": result.offered.key, "type": result.offered.kind,
            "fingerprint": result.offered.fingerprint}


def _python_child(*args: str) -> list[str]:
    """The command line of a child Python running pppossh: isolated (``-I``: no PYTHON*
    variables, no user site, neither the script's nor the current directory on sys.path),
    so that it imports the installed package and nothing a directory offers."""
    return [sys.executable, "-I", "-m", "pppossh", *args]


def check(a: dict[str, Any]) -> dict[str, Any]:
    """A check takes longer than LuCI waits for one call: ``start`` runs it in the
    background, and every call returns the steps done so far (``running`` until the end)."""
    import os
    import subprocess

    from .admin import check as run
    from .admin.section import pppossh_section
    from .run.standalone import pid_alive
    from .run.state import State, ensure_private_dir

    state = State(_dirs()[0], a["interface"])
    progress = state.path("check.json")
    current = run.read_progress(progress)
    if a.get("start") and not pid_alive(current.get("pid")):
        pppossh_section(_uci(), a["interface"])  # nothing starts for another interface
        ensure_private_dir(state.dir)
        run.write_progress(progress, {"interface": a["interface"], "running": True, "steps": []})
        child = subprocess.Popen(
            _python_child("--confdir", os.environ.get("PPPOSSH_CONFDIR", "/etc/config"),
                          "check", a["interface"], "--progress", str(progress)),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd="/", close_fds=True, start_new_session=True,
        )
        current = {"interface": a["interface"], "running": True, "steps": [], "pid": child.pid}
        run.write_progress(progress, current)
    return current


def _peer_json(p: Any) -> dict[str, Any]:
    from .plan.knownhosts import fingerprint

    return {"name": p.name, "fingerprint": fingerprint(p.key), "key": p.key,
            "ipaddr": p.ipaddr, "peeraddr": p.peeraddr, "routes": list(p.routes),
            "enabled": p.enabled, "mode": p.mode, "device": p.device, "bridge": p.bridge,
            "ip6addr": p.ip6addr, "peer6addr": p.peer6addr}


def peer_list(a: dict[str, Any]) -> dict[str, Any]:
    from .admin.role import server

    return {"peers": [_peer_json(p) for p in server("peers").load_peers(_uci())]}


def peer_add(a: dict[str, Any]) -> dict[str, Any]:
    from .admin.role import server

    peer = server("peers").add_peer(_uci(), a["name"], a["key"], a.get("ip") or None,
                    tuple(a.get("routes", [])), mode=a.get("mode", "ppp"),
                    unit=a.get("unit") or None, bridge=a.get("bridge") or "")
    return {"peer": _peer_json(peer)}


def peer_del(a: dict[str, Any]) -> dict[str, Any]:
    from .admin.role import server

    return {"removed": server("peers").del_peer(_uci(), a["name"]).name}


def peer_apply(a: dict[str, Any]) -> dict[str, Any]:
    from .admin.role import server

    done = server("setup").apply(_uci())
    return {"authorized_keys": done.authorized_keys, "changed": done.changed,
            "peers": done.peers, "notes": done.notes}


METHODS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "status": status, "keygen": keygen, "pubkey": pubkey, "fetch_hostkey": fetch_hostkey,
    "pin_hostkey": pin_hostkey, "check": check, "peer_list": peer_list, "peer_add": peer_add,
    "peer_del": peer_del, "peer_apply": peer_apply,
}


def _error(code: str, message: str, **values: Any) -> dict[str, Any]:
    reply: dict[str, Any] = {"error": code, "message": message}
    if values:
        reply["values"] = values
    return reply


def _on_alarm(signum: int, frame: Any) -> None:
    raise Deadline


def call(method: str, stdin: bytes | str, deadline: float = DEADLINE) -> dict[str, Any]:
    """The reply to ``call <method>`` with ``stdin``: always a JSON-able dict."""
    if method not in METHODS:
        return _error("NO_METHOD", f"pppossh has no method {method!r}", method=method)
    try:
        text = stdin.decode() if isinstance(stdin, bytes) else stdin
        raw = json.loads(text) if text.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return _error("INVALID_ARGUMENT", "the arguments are not valid JSON", argument="",
                      expected="object")
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        return METHODS[method](_args(method, raw))
    except Deadline:
        return _error("TIMEOUT", f"{method} did not finish within {deadline:.0f} s",
                      seconds=round(deadline))
    except BadArgument as exc:
        return _error(exc.code, exc.message, **exc.values)
    except PppsshError as exc:
        return _error(exc.code, exc.message)
    except Exception as exc:  # a page must get an answer it can show, not a traceback
        return _error("INTERNAL_ERROR", str(exc) or type(exc).__name__,
                      exception=type(exc).__name__)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def encode(reply: Any) -> str:
    """One line of JSON for rpcd; a reply that cannot be encoded becomes an error object."""
    try:
        if not isinstance(reply, dict):
            raise TypeError(f"the reply is a {type(reply).__name__}, not an object")
        return json.dumps(reply, allow_nan=False, default=str)
    except (TypeError, ValueError) as exc:
        return json.dumps(_error("INTERNAL_ERROR", f"cannot encode the reply: {exc}",
                                 exception=type(exc).__name__))


def _write(text: str) -> None:
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, OSError):  # rpcd went away: nobody is left to tell
        pass


def main(argv: list[str]) -> int:
    if argv[:1] == ["list"]:
        _write(json.dumps(SIGNATURES))
        return 0
    if len(argv) == 2 and argv[0] == "call":
        try:
            reply = call(argv[1], sys.stdin.buffer.read())
        except BaseException as exc:  # even then: one JSON object
            reply = _error("INTERNAL_ERROR", str(exc) or type(exc).__name__,
                           exception=type(exc).__name__)
        _write(encode(reply))
        return 0
    print("usage: pppossh-rpcd list | call <method>", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
