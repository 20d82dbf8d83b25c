"""HTTP server for the LuCI browser tests: uhttpd, uhttpd-mod-ubus and rpcd, as recorded.

It plays the parts of uhttpd (files), uhttpd-mod-ubus (JSON-RPC on ``/ubus``) and rpcd (the
session ACLs and the exec plugins) for ``tests/test_luci_browser.py``, replaying what the real
programs did in ``tests/golden/rpcd/`` (``NN`` below is a file there):

Files
- ``/luci-static/resources/<path>``: ``luci-app/htdocs/luci-static/resources/<path>`` if it
  exists (our real ``protocol/pppossh.js`` and ``view/pppossh/peers.js``), else the LuCI
  stand-in in ``tests/luci/standin/`` (``luci.js``, ``rpc.js``, ``form.js``, ...);
- ``/pages/<name>.html``: the test pages in ``tests/luci/pages/``;
- ``/luci-env.js``: what LuCI's page header hands luci.js as ``L.env`` (session ids, the
  ubus path ``/ubus/``).

JSON-RPC, as uhttpd-mod-ubus answers it (always HTTP 200, ``Content-Type: application/json``,
compact JSON)
- ``POST /ubus`` and ``/ubus/``, with any query string (LuCI adds ``?<time>``): one call
  object (``10``, ``44``) or a batch, a JSON array answered by an array in the same order,
  each call on its own, run one after the other (``40``, ``43``).  ``/ubus/<anything>``
  (LuCI's old ``/ubus//obj.method;...`` form) gets 404 with an empty body (``45``).
- A body that is not JSON: error -32700 "Parse error" with ``"id":null`` (``42``).
- ``call`` params ``[session, object, method, args]``; without the args element: -32700
  "Parse error" (``13``).  Args already holding ``ubus_rpc_session``: -32602 "Invalid
  parameters", no run (``20``).  An object nobody registered: -32000 "Object not found"
  (``22``).  A session that does not exist (the null session ``000...``, an unknown id) or
  whose ACL does not grant object/method: -32002 "Access denied", no run (``23``, ``50``,
  ``51``).  A granted method the plugin's ``list`` did not name: result ``[3]``, no run
  (``21``).  ``list`` with object names: their signatures as type names (``41``).
- Replies carry the plugin's object re-encoded the way blobmsg prints it (``blobmsg_json``:
  doubles with six decimals, non-ASCII raw, ``/`` unescaped; ``17``, ``19``).

rpcd and its exec plugins
- At start rpcd runs ``<plugin> list`` once, with stdin and stderr on ``/dev/null``, cwd ``/``
  and umask 077 (``00``); the method names and argument types come from it.
- Each call runs ``<plugin> call <method>`` with cwd ``/``, umask 077, descriptors 0-2 only
  and the environment rpcd has (here ``PATH=/usr/sbin:/usr/bin:/sbin:/bin``; ``10``); stdin
  is the ubus message as compact JSON with ``ubus_rpc_session`` appended as the last key,
  even to ``{}`` (``10``, ``11``, ``12``, ``14``, ``19``), written at once and closed.
- The reply: stdout holding one JSON object gives ``[0, object]`` whatever the exit status
  (``30``) and whatever went to stderr (``35``); nothing on stdout gives ``[5]`` (``31``,
  ``33``); output that is not JSON, or a JSON array, gives ``[2]`` (``32``, ``34``).
- rpcd answers once stdout and stderr reach EOF (``37``).  A plugin still running after the
  exec timeout (``-t 30`` on OpenWrt, ``RPCD_EXEC_TIMEOUT``; a test may set it lower) is
  killed with SIGKILL, no SIGTERM first, and what it printed decides the reply: nothing gives
  ``[5]`` after the timeout (``36``), a complete object ``[0, object]`` (``37``).

Deliberate differences, all for the tests' sake
- The plugin runs as ``[sys.executable, files/usr/libexec/rpcd/pppossh]``: the test's Python,
  which finds the ``pppossh`` package through the ``.pth`` file of its (editable) install, as
  the recording's ``/usr/bin/python3`` did; the launcher's ``#!/usr/bin/python3`` may not
  have it.  Optionally inside a network namespace (``ip netns exec``, which execs in place).
- Its environment is rpcd's ``PATH`` plus ``PPPOSSH_CONFDIR``/``_RUNDIR``/``_KEYDIR`` (the
  test's directories instead of /etc/config, /var/run/pppossh, /etc/pppossh/keys),
  ``PPPOSSH_UCI_BACKEND=file`` (no libuci here) and ``PPPOSSH_NO_SYSLOG``.  No ``HOME``, as
  under rpcd.
- Sessions are made up at start (no ``session login``): ``root`` holds the read and write
  grants of luci-app-pppossh's ACL file, ``readonly`` only its read grants.  LuCI's rpc
  interceptor that asks ``session access`` after a -32002 is not played (for a live session
  it changes nothing a page sees).
- UCI is not served through rpcd's ``uci`` object: ``GET /uci?config=NAME`` gives the config
  as LuCI's uci.js holds it, ``POST /uci`` with ``{"config", "set", "unset"}`` applies and
  commits it, both through ``pppossh.uci.open_uci(confdir, backend="file")``.
- HTTP/1.1 with Content-Length instead of chunked encoding.

Every plugin run is recorded in ``LuciServer.calls`` (object, method, client args, exact
stdin, reply, stderr, seconds) and every ``/ubus`` POST in ``LuciServer.posts``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
STANDIN = HERE / "standin"
PAGES = HERE / "pages"
HTDOCS = REPO / "luci-app" / "htdocs" / "luci-static" / "resources"
PLUGIN = REPO / "files" / "usr" / "libexec" / "rpcd" / "pppossh"
FAKE_PLUGIN = HERE / "fake_plugin.py"
ACL_FILE = REPO / "luci-app" / "root" / "usr" / "share" / "rpcd" / "acl.d" / "luci-app-pppossh.json"

UBUS_OK = 0
UBUS_INVALID_ARGUMENT = 2
UBUS_METHOD_NOT_FOUND = 3
UBUS_NO_DATA = 5
RPCD_EXEC_TIMEOUT = 30.0  # rpcd -t 30 (OpenWrt's rpcd.config), golden 36
RPCD_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"  # the environment procd gives rpcd, golden 10
RPCD_UMASK = 0o077  # what rpcd runs its plugins with, golden 00 and 10
NULL_SESSION = "0" * 32
SESSION_KEY = "ubus_rpc_session"

CONTENT_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
}


# -- JSON as blobmsg prints it ----------------------------------------------------------------


def _blobmsg_string(text: str) -> str:
    """libubox's blobmsg_format_string: \\b \\n \\t \\r \\" \\\\ escaped by name, other control
    characters as \\u00xx, everything else (non-ASCII, '/') raw (golden 19)."""
    named = {"\b": "\\b", "\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
    out = []
    for ch in text:
        if ch in named:
            out.append(named[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def blobmsg_json(value: Any) -> str:
    """Compact JSON the way blobmsg_format_json writes it: keys in order, no spaces, doubles
    printed with six decimals (golden 17), integers as they are."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:f}"
    if isinstance(value, str):
        return _blobmsg_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(blobmsg_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_blobmsg_string(str(k))}:{blobmsg_json(v)}"
                              for k, v in value.items()) + "}"
    raise TypeError(f"cannot encode {type(value).__name__}")


def plugin_stdin(args: dict[str, Any], session: str | None) -> bytes:
    """What an exec plugin reads: the message, plus ``ubus_rpc_session`` as the last key when
    the call came through uhttpd (golden 10-19); ``None`` for a ubus CLI call (80, 81)."""
    message = dict(args)
    if session is not None:
        message[SESSION_KEY] = session
    return blobmsg_json(message).encode()


def ubus_reply(stdout: bytes) -> list[Any]:
    """rpcd's reply for what a plugin printed (golden 30-34)."""
    if not stdout.strip():
        return [UBUS_NO_DATA]
    try:
        data = json.loads(stdout)
    except ValueError:
        return [UBUS_INVALID_ARGUMENT]
    if not isinstance(data, dict):
        return [UBUS_INVALID_ARGUMENT]
    return [UBUS_OK, data]


# -- rpcd: exec plugins ------------------------------------------------------------------------


@dataclass
class Plugin:
    """An exec plugin: how rpcd starts it and what its ``list`` said."""

    name: str
    argv: list[str]
    env: dict[str, str]
    signatures: dict[str, dict[str, Any]] = field(default_factory=dict)

    def list(self) -> dict[str, dict[str, Any]]:
        """``<plugin> list`` as rpcd runs it once at start (golden 00)."""
        out = subprocess.run([*self.argv, "list"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd="/",
                             env=self.env, umask=RPCD_UMASK, timeout=60, check=False)
        self.signatures = json.loads(out.stdout)
        return self.signatures


@dataclass
class Run:
    """One plugin run: what it got and what came back."""

    method: str
    stdin: bytes
    stdout: bytes = b""
    stderr: bytes = b""
    killed: bool = False
    seconds: float = 0.0
    returncode: int | None = None

    @property
    def reply(self) -> list[Any]:
        return ubus_reply(self.stdout)


def run_plugin(plugin: Plugin, method: str, stdin: bytes, timeout: float) -> Run:
    """``<plugin> call <method>``: stdin written at once and closed, stdout and stderr read
    until EOF; past ``timeout`` the plugin gets SIGKILL (golden 36, 37)."""
    run = Run(method, stdin)
    started = time.monotonic()
    proc = subprocess.Popen([*plugin.argv, "call", method], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/",
                            env=plugin.env, umask=RPCD_UMASK)
    assert proc.stdin and proc.stdout and proc.stderr
    chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}

    def drain(stream: Any, into: list[bytes]) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            into.append(chunk)

    readers = [threading.Thread(target=drain, args=(s, chunks[n]), daemon=True)
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for reader in readers:
        reader.start()
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(stdin)
    proc.stdin.close()
    deadline = started + timeout
    for reader in readers:
        reader.join(max(0.0, deadline - time.monotonic()))
    if any(r.is_alive() for r in readers):
        run.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        for reader in readers:  # EOF comes now, unless a child of the plugin holds the pipe
            reader.join(0.5)
    run.returncode = proc.wait()
    run.seconds = time.monotonic() - started
    run.stdout, run.stderr = b"".join(chunks["stdout"]), b"".join(chunks["stderr"])
    return run


# -- sessions and ACLs -------------------------------------------------------------------------


@dataclass
class Acl:
    """What an rpcd ACL file grants: ubus object -> methods, and UCI configs to read/write."""

    ubus: dict[str, set[str]] = field(default_factory=dict)
    uci_read: set[str] = field(default_factory=set)
    uci_write: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path = ACL_FILE, modes: tuple[str, ...] = ("read", "write")) -> Acl:
        acl = cls()
        for grant in json.loads(path.read_text()).values():
            for mode in modes:
                part = grant.get(mode, {})
                for obj, methods in part.get("ubus", {}).items():
                    acl.ubus.setdefault(obj, set()).update(methods)
                configs = set(part.get("uci", []))
                acl.uci_read |= configs
                if mode == "write":
                    acl.uci_write |= configs
        return acl

    def allows(self, obj: str, method: str) -> bool:
        return method in self.ubus.get(obj, set()) or "*" in self.ubus.get(obj, set())


@dataclass
class Backend:
    """Where the real plugin runs, and the directories it is pointed at."""

    confdir: Path
    rundir: Path
    keydir: Path
    netns: str | None = None

    def env(self) -> dict[str, str]:
        return {
            "PATH": RPCD_PATH,
            "PPPOSSH_CONFDIR": str(self.confdir),
            "PPPOSSH_RUNDIR": str(self.rundir),
            "PPPOSSH_KEYDIR": str(self.keydir),
            "PPPOSSH_UCI_BACKEND": "file",
            "PPPOSSH_NO_SYSLOG": "1",
        }

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    def plugin(self) -> Plugin:
        return Plugin("pppossh", [*self.prefix(), sys.executable, str(PLUGIN)], self.env())

    def fake(self, mode: str) -> Plugin:
        """tests/luci/fake_plugin.py in ``mode``: the same ``list``, a misbehaving ``call``."""
        return Plugin("pppossh", [*self.prefix(), sys.executable, str(FAKE_PLUGIN), mode],
                      self.env())


def uci_values(confdir: Path, config: str) -> dict[str, Any]:
    """A config as rpcd's ``uci get`` hands it to LuCI."""
    from pppossh.uci import open_uci

    values: dict[str, Any] = {}
    for index, section in enumerate(open_uci(str(confdir), backend="file").sections(config)):
        entry: dict[str, Any] = {
            ".anonymous": section.anonymous,
            ".type": section.type,
            ".name": section.name,
            ".index": index,
        }
        for option, value in section.options.items():
            entry[option] = list(value) if isinstance(value, tuple) else value
        values[section.name] = entry
    return values


def uci_apply(confdir: Path, change: dict[str, Any]) -> None:
    """Apply ``{"config", "set", "unset"}`` and commit, as save plus apply would."""
    from pppossh.uci import open_uci

    uci = open_uci(str(confdir), backend="file")
    config = change["config"]
    for section, options in (change.get("set") or {}).items():
        for option, value in options.items():
            uci.set(
                config,
                section,
                option,
                tuple(str(v) for v in value) if isinstance(value, list) else str(value),
            )
    for section, options in (change.get("unset") or {}).items():
        for option in options:
            uci.delete(config, section, option)
    uci.commit(config)


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class LuciServer:
    """The server in a thread: ``start()`` returns the base URL, ``stop()`` shuts it down."""

    def __init__(self, backend: Backend, timeout: float = RPCD_EXEC_TIMEOUT) -> None:
        self.backend = backend
        self.timeout = timeout
        self.plugins: dict[str, Plugin] = {}
        self.sessions: dict[str, Acl] = {
            secrets.token_hex(16): Acl.load(),
        }
        self.session_names = {"root": next(iter(self.sessions))}
        readonly = secrets.token_hex(16)
        self.sessions[readonly] = Acl.load(modes=("read",))
        self.session_names["readonly"] = readonly
        self.calls: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self.uci_writes: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def session(self) -> str:
        return self.session_names["root"]

    @property
    def signatures(self) -> dict[str, Any]:
        return self.plugins["pppossh"].signatures

    @property
    def base_url(self) -> str:
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> str:
        plugin = self.backend.plugin()
        plugin.list()
        self.plugins[plugin.name] = plugin
        server = self

        class Handler(_Handler):
            owner = server

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="luci-server", daemon=True
        )
        self.thread.start()
        return self.base_url

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        if self.thread is not None:
            self.thread.join(timeout=10)
            self.thread = None

    @contextlib.contextmanager
    def replaced(self, mode: str, timeout: float | None = None) -> Any:
        """The pppossh object served by fake_plugin.py in ``mode`` (rpcd keeps the method
        list it read at start), and optionally another exec timeout, for the ``with``."""
        real, old_timeout = self.plugins["pppossh"], self.timeout
        fake = self.backend.fake(mode)
        fake.signatures = real.signatures
        self.plugins["pppossh"] = fake
        if timeout is not None:
            self.timeout = timeout
        try:
            yield fake
        finally:
            self.plugins["pppossh"], self.timeout = real, old_timeout

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if c["method"] == method]

    # JSON-RPC, as uhttpd-mod-ubus answers it

    def call(self, session: str, obj: str, method: str, args: dict[str, Any]) -> list[Any]:
        if SESSION_KEY in args:
            raise RpcError(-32602, "Invalid parameters")  # golden 20
        plugin = self.plugins.get(obj)
        if plugin is None:
            raise RpcError(-32000, "Object not found")  # golden 22
        acl = self.sessions.get(session)
        if acl is None or not acl.allows(obj, method):
            raise RpcError(-32002, "Access denied")  # golden 23, 50, 51
        if method not in plugin.signatures:
            return [UBUS_METHOD_NOT_FOUND]  # golden 21
        run = run_plugin(plugin, method, plugin_stdin(args, session), self.timeout)
        reply = run.reply
        with self.lock:
            self.calls.append({
                "object": obj, "method": method, "args": args,
                "stdin": run.stdin.decode(errors="replace"), "reply": reply,
                "stderr": run.stderr.decode(errors="replace"), "seconds": run.seconds,
                "killed": run.killed, "session": session,
            })
        return reply

    def list_objects(self, names: list[Any]) -> dict[str, Any]:
        """JSON-RPC ``list`` (golden 41): argument types named from the samples."""
        def kind(sample: Any) -> str:
            if isinstance(sample, bool):
                return "boolean"
            if isinstance(sample, int):
                return {8: "boolean", 16: "unknown", 64: "unknown"}.get(sample, "number")
            return {str: "string", dict: "object", list: "array"}.get(type(sample), "unknown")

        return {name: {m: {a: kind(s) for a, s in sig.items()}
                       for m, sig in self.plugins[name].signatures.items()}
                for name in names if name in self.plugins}

    def rpc(self, frame: Any) -> dict[str, Any]:
        ident = frame.get("id") if isinstance(frame, dict) else None

        def answer(**part: Any) -> dict[str, Any]:
            return {"jsonrpc": "2.0", "id": ident, **part}

        if not isinstance(frame, dict) or frame.get("jsonrpc") != "2.0":
            return answer(error={"code": -32600, "message": "Invalid request"})
        params = frame.get("params")
        try:
            if frame.get("method") == "list":
                return answer(result=self.list_objects(params if isinstance(params, list) else
                                                       list(self.plugins)))
            if frame.get("method") != "call":
                raise RpcError(-32601, "Method not found")
            if isinstance(params, list) and len(params) == 3:
                raise RpcError(-32700, "Parse error")  # golden 13
            if not (isinstance(params, list) and len(params) == 4
                    and all(isinstance(p, str) for p in params[:3])
                    and isinstance(params[3], dict)):
                raise RpcError(-32602, "Invalid parameters")
            return answer(result=self.call(*params))
        except RpcError as exc:
            return answer(error={"code": exc.code, "message": exc.message})


class _Handler(BaseHTTPRequestHandler):
    owner: LuciServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_body(self, status: int, body: bytes, content_type: str | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        # the test may close a page while a poll is on its way
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def send_json(self, status: int, data: Any) -> None:
        self.send_body(status, json.dumps(data).encode(), "application/json")

    def send_rpc(self, data: Any) -> None:
        self.send_body(200, blobmsg_json(data).encode(), "application/json")

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length)

    def serve_file(self, roots: list[Path], relative: str) -> None:
        for root in roots:
            candidate = (root / relative).resolve()
            if candidate.is_relative_to(root.resolve()) and candidate.is_file():
                self.send_body(
                    200,
                    candidate.read_bytes(),
                    CONTENT_TYPES.get(candidate.suffix, "application/octet-stream"),
                )
                return
        self.send_body(404, b"not found", "text/plain")

    def env_script(self) -> bytes:
        """L.env from the page header: the session of ?session=NAME (default root)."""
        owner = self.owner
        return (
            "/* what LuCI's page header hands luci.js as L.env (tests/luci/server.py) */\n"
            "(function() {\n"
            f"\tvar sessions = {json.dumps(owner.session_names)},\n"
            "\t    q = new URLSearchParams(location.search);\n"
            "\twindow.LUCI_ENV = Object.assign({\n"
            "\t\tsessionid: sessions[q.get('session') || 'root'] || q.get('session'),\n"
            "\t\tubuspath: '/ubus/',\n"
            "\t\trpctimeout: q.get('rpctimeout') ? +q.get('rpctimeout') : 20,\n"
            "\t\tpseudo_i18n: q.get('i18n') == 'pseudo'\n"
            "\t}, window.LUCI_ENV || {});\n"
            "})();\n"
        ).encode()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/luci-static/resources/"):
            self.serve_file([HTDOCS, STANDIN], url.path[len("/luci-static/resources/") :])
        elif url.path.startswith("/pages/"):
            self.serve_file([PAGES], url.path[len("/pages/") :])
        elif url.path == "/luci-env.js":
            self.send_body(200, self.env_script(), CONTENT_TYPES[".js"])
        elif url.path == "/favicon.ico":
            self.send_body(204, b"", "image/x-icon")
        elif url.path == "/uci":
            config = parse_qs(url.query).get("config", [""])[0]
            if config not in self.owner.sessions[self.owner.session].uci_read:
                self.send_json(403, {"error": "Access denied"})
                return
            try:
                values = uci_values(self.owner.backend.confdir, config)
            except Exception as exc:  # the page shows what went wrong
                self.send_json(500, {"error": str(exc)})
                return
            self.send_json(200, {"values": values})
        else:
            self.send_body(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self.read_body()
        if url.path in ("/ubus", "/ubus/"):
            with self.owner.lock:
                self.owner.posts.append({"path": self.path, "body": body.decode(errors="replace")})
            try:
                request = json.loads(body)
            except ValueError:
                self.send_rpc({"jsonrpc": "2.0", "id": None,
                               "error": {"code": -32700, "message": "Parse error"}})  # 42
                return
            if isinstance(request, list):  # golden 40, 43: one after the other, in order
                self.send_rpc([self.owner.rpc(frame) for frame in request])
            else:
                self.send_rpc(self.owner.rpc(request))
        elif url.path.startswith("/ubus/"):
            self.send_body(404, b"", None)  # golden 45
        elif url.path == "/uci":
            try:
                change = json.loads(body)
            except ValueError:
                change = None
            acl = self.owner.sessions[self.owner.session]
            if not isinstance(change, dict) or change.get("config") not in acl.uci_write:
                self.send_json(403, {"error": "Access denied"})
                return
            try:
                uci_apply(self.owner.backend.confdir, change)
            except Exception as exc:
                self.send_json(400, {"error": str(exc)})
                return
            with self.owner.lock:
                self.owner.uci_writes.append(change)
            self.send_json(200, {"ok": True})
        else:
            self.send_body(404, b"not found", "text/plain")
