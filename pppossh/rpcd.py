"""The rpcd exec plugin behind LuCI's pppossh pages (``/usr/libexec/rpcd/pppossh``).

rpcd runs ``pppossh list`` once to learn the methods and their argument types, then
``pppossh call <method>`` with the arguments as JSON on stdin, and relays the JSON printed
on stdout.  Every argument is checked here again, whatever the page already checked: being
logged in to LuCI is no licence to reach a shell or another interface's keys.
"""

from __future__ import annotations

import json
import re
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
    "peer_add": {"name": "branch-1", "key": "ssh-ed25519 AAAA...", "ip": "", "routes": []},
    "peer_del": {"name": "branch-1"},
    "peer_apply": {},
}
REQUIRED = {
    "status": {"interface"}, "keygen": {"interface"}, "pubkey": {"interface"},
    "fetch_hostkey": {"interface"}, "pin_hostkey": {"interface", "fingerprint"},
    "check": {"interface"}, "peer_add": {"name", "key"}, "peer_del": {"name"},
}


class BadArgument(PppsshError):
    def __init__(self, message: str) -> None:
        super().__init__("INVALID_ARGUMENT", message)


def _args(method: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadArgument("the arguments must be a JSON object")
    spec = SIGNATURES[method]
    unknown = set(raw) - set(spec)
    if unknown:
        raise BadArgument(f"{method} takes no argument {sorted(unknown)[0]!r}")
    missing = REQUIRED.get(method, set()) - set(raw)
    if missing:
        raise BadArgument(f"{method} needs {sorted(missing)[0]!r}")
    for name, value in raw.items():
        if type(value) is not type(spec[name]):
            raise BadArgument(f"{name} must be a {type(spec[name]).__name__}")
    if "interface" in raw:
        try:
            interface_name(raw["interface"])
        except ValueError as exc:
            raise BadArgument(str(exc)) from None
    if "fingerprint" in raw and not FINGERPRINT.fullmatch(raw["fingerprint"]):
        raise BadArgument("fingerprint must look like SHA256:<43 characters>")
    if "routes" in raw and not all(isinstance(r, str) for r in raw["routes"]):
        raise BadArgument("routes must be a list of networks")
    return raw


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


# LuCI gives up on an rpc call after 20 s (L.env.rpctimeout): network calls stay below that.
RPC_BUDGET = 15


def fetch_hostkey(a: dict[str, Any]) -> dict[str, Any]:
    from .admin import trust
    from .plan import choose_client
    from .plan.facts import probe
    from .plan.knownhosts import fingerprint
    from .run.standalone import load_config

    config = load_config(_uci(), a["interface"])
    client, program = choose_client(config, probe(config))
    key = trust.fetch_or_fail(client, program, config.server, config.port, config.sshuser,
                              min(config.connect_timeout, RPC_BUDGET))
    pinned = [fingerprint(k) for k in config.hostkey]
    return {"key": key.key, "type": key.kind, "fingerprint": key.fingerprint,
            "description": key.describe(), "pinned": pinned,
            "matches": key.fingerprint in pinned}


def pin_hostkey(a: dict[str, Any]) -> dict[str, Any]:
    from .admin import trust

    result = trust.trust(_uci(), a["interface"], yes=False, expected=a["fingerprint"],
                         timeout=RPC_BUDGET)
    return {"pinned": True, "key": result.offered.key, "fingerprint": result.offered.fingerprint}


def check(a: dict[str, Any]) -> dict[str, Any]:
    """A check takes longer than LuCI waits for one call: ``start`` runs it in the
    background, and every call returns the steps done so far (``running`` until the end)."""
    import os
    import subprocess

    from .admin import check as run
    from .run.standalone import pid_alive
    from .run.state import State, ensure_private_dir

    state = State(_dirs()[0], a["interface"])
    progress = state.path("check.json")
    current = run.read_progress(progress)
    if a.get("start") and not pid_alive(current.get("pid")):
        ensure_private_dir(state.dir)
        run.write_progress(progress, {"interface": a["interface"], "running": True, "steps": []})
        child = subprocess.Popen(
            [sys.executable, "-m", "pppossh", "--confdir",
             os.environ.get("PPPOSSH_CONFDIR", "/etc/config"), "check", a["interface"],
             "--progress", str(progress)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        current = {"interface": a["interface"], "running": True, "steps": [], "pid": child.pid}
        run.write_progress(progress, current)
    return current


def _peer_json(p: Any) -> dict[str, Any]:
    from .plan.knownhosts import fingerprint

    return {"name": p.name, "fingerprint": fingerprint(p.key), "key": p.key,
            "ipaddr": p.ipaddr, "peeraddr": p.peeraddr, "routes": list(p.routes),
            "enabled": p.enabled}


def peer_list(a: dict[str, Any]) -> dict[str, Any]:
    from .server.peers import load_peers

    return {"peers": [_peer_json(p) for p in load_peers(_uci())]}


def peer_add(a: dict[str, Any]) -> dict[str, Any]:
    from .server.peers import add_peer

    peer = add_peer(_uci(), a["name"], a["key"], a.get("ip") or None,
                    tuple(a.get("routes", [])))
    return {"peer": _peer_json(peer)}


def peer_del(a: dict[str, Any]) -> dict[str, Any]:
    from .server.peers import del_peer

    return {"removed": del_peer(_uci(), a["name"]).name}


def peer_apply(a: dict[str, Any]) -> dict[str, Any]:
    from .server.setup import apply

    done = apply(_uci())
    return {"authorized_keys": done.authorized_keys, "changed": done.changed,
            "peers": done.peers}


METHODS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "status": status, "keygen": keygen, "pubkey": pubkey, "fetch_hostkey": fetch_hostkey,
    "pin_hostkey": pin_hostkey, "check": check, "peer_list": peer_list, "peer_add": peer_add,
    "peer_del": peer_del, "peer_apply": peer_apply,
}


def call(method: str, stdin: str) -> dict[str, Any]:
    if method not in METHODS:
        return {"error": "NO_METHOD", "message": f"pppossh has no method {method!r}"}
    try:
        raw = json.loads(stdin) if stdin.strip() else {}
    except ValueError:
        return {"error": "INVALID_ARGUMENT", "message": "the arguments are not valid JSON"}
    try:
        return METHODS[method](_args(method, raw))
    except PppsshError as exc:
        return {"error": exc.code, "message": exc.message}
    except Exception as exc:  # a page must get an answer it can show, not a traceback
        return {"error": "INTERNAL_ERROR", "message": str(exc) or type(exc).__name__}


def main(argv: list[str]) -> int:
    if argv[:1] == ["list"]:
        print(json.dumps(SIGNATURES))
        return 0
    if len(argv) == 2 and argv[0] == "call":
        print(json.dumps(call(argv[1], sys.stdin.read())))
        return 0
    print("usage: pppossh-rpcd list | call <method>", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
