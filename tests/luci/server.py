"""HTTP server for the LuCI browser tests: stand-in, pages, our htdocs and the real rpcd plugin.

It plays the parts of uhttpd, uhttpd-mod-ubus and rpcd for ``tests/test_luci_browser.py``:

- ``/luci-static/resources/<path>``: ``luci-app/htdocs/luci-static/resources/<path>`` if it
  exists (our real ``protocol/pppossh.js`` and ``view/pppossh/peers.js``), else the LuCI
  stand-in in ``tests/luci/standin/`` (``luci.js``, ``rpc.js``, ``form.js``, ...);
- ``/pages/<name>.html``: the test pages in ``tests/luci/pages/``;
- ``POST /rpc``: a JSON-RPC 2.0 ``call`` frame ``[session, object, method, args]`` as LuCI's
  rpc.js sends it.  Like uhttpd-mod-ubus it refuses, with error -32002 "Access denied", what
  the ACL file of luci-app-pppossh (``root/usr/share/rpcd/acl.d``) does not grant; like rpcd
  it runs the exec plugin as ``pppossh call <method>`` with the arguments as JSON on stdin
  (here ``[sys.executable, files/usr/libexec/rpcd/pppossh, "call", method]``, optionally in
  a network namespace) and turns its stdout into the ubus reply: a JSON object gives
  ``[0, object]``, no output or ``null`` gives ``[5]`` (no data), anything else ``[2]``
  (invalid argument), a method the plugin's ``list`` does not name ``[3]``, and a plugin
  still running after the exec timeout (rpcd: 120 s) is killed and gives ``[7]``;
- ``GET /uci?config=NAME``: the config as LuCI's uci.js holds it (``{"values": {name:
  {".name", ".type", ".anonymous", ".index", option: string or list}}}``), read with
  ``pppossh.uci.open_uci(confdir, backend="file")``;
- ``POST /uci``: ``{"config": NAME, "set": {section: {option: value}}, "unset": {section:
  [option, ...]}}`` applied with the same backend and committed at once.

Every plugin call is recorded in ``LuciServer.calls`` (method, arguments, reply, stderr).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
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
ACL_FILE = REPO / "luci-app" / "root" / "usr" / "share" / "rpcd" / "acl.d" / "luci-app-pppossh.json"

UBUS_OK = 0
UBUS_INVALID_ARGUMENT = 2
UBUS_METHOD_NOT_FOUND = 3
UBUS_NO_DATA = 5
UBUS_TIMEOUT = 7
RPCD_EXEC_TIMEOUT = 120.0

CONTENT_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
}


@dataclass
class Acl:
    """What an rpcd ACL file grants: ubus object -> methods, and UCI configs to read/write."""

    ubus: dict[str, set[str]] = field(default_factory=dict)
    uci_read: set[str] = field(default_factory=set)
    uci_write: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path = ACL_FILE) -> Acl:
        acl = cls()
        for grant in json.loads(path.read_text()).values():
            for mode in ("read", "write"):
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
    """Where and how the real plugin runs."""

    confdir: Path
    rundir: Path
    keydir: Path
    home: Path
    netns: str | None = None
    timeout: float = RPCD_EXEC_TIMEOUT

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(REPO),
            "PPPOSSH_CONFDIR": str(self.confdir),
            "PPPOSSH_RUNDIR": str(self.rundir),
            "PPPOSSH_KEYDIR": str(self.keydir),
            "PPPOSSH_UCI_BACKEND": "file",
            "PPPOSSH_NO_SYSLOG": "1",
        }

    def argv(self, *args: str) -> list[str]:
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        return [*prefix, sys.executable, str(PLUGIN), *args]

    def run(self, args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=str(self.home),
            timeout=self.timeout,
            check=False,
        )

    def signatures(self) -> dict[str, Any]:
        """What rpcd learns from ``pppossh list`` when it registers the plugin."""
        out = self.run(["list"])
        return json.loads(out.stdout)

    def call(self, method: str, args: dict[str, Any]) -> tuple[list[Any], str]:
        """The ubus reply rpcd would give for ``call method`` (and the plugin's stderr)."""
        try:
            out = self.run(["call", method], json.dumps(args))
        except subprocess.TimeoutExpired as exc:
            return [UBUS_TIMEOUT], str(exc.stderr or "")
        text = out.stdout.strip()
        if not text:
            return [UBUS_NO_DATA], out.stderr
        try:
            reply = json.loads(text)
        except ValueError:
            return [UBUS_INVALID_ARGUMENT], out.stderr
        if reply is None:
            return [UBUS_NO_DATA], out.stderr
        if not isinstance(reply, dict):
            return [UBUS_INVALID_ARGUMENT], out.stderr
        return [UBUS_OK, reply], out.stderr


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


class LuciServer:
    """The server in a thread: ``start()`` returns the base URL, ``stop()`` shuts it down."""

    def __init__(self, backend: Backend, acl: Acl | None = None) -> None:
        self.backend = backend
        self.acl = acl or Acl.load()
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.signatures: dict[str, Any] = {}
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> str:
        self.signatures = self.backend.signatures()
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

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if c["method"] == method]

    # JSON-RPC, as uhttpd-mod-ubus answers it

    def rpc(self, frame: Any) -> dict[str, Any]:
        ident = frame.get("id") if isinstance(frame, dict) else None

        def error(code: int, message: str) -> dict[str, Any]:
            return {"jsonrpc": "2.0", "id": ident, "error": {"code": code, "message": message}}

        if not isinstance(frame, dict) or frame.get("jsonrpc") != "2.0":
            return error(-32600, "Invalid request")
        if frame.get("method") != "call":
            return error(-32601, "Method not found")
        params = frame.get("params")
        if not (isinstance(params, list) and len(params) == 4 and isinstance(params[3], dict)):
            return error(-32602, "Invalid parameters")
        _session, obj, method, args = params
        if obj != "pppossh":
            return error(-32000, "Object not found")
        if not self.acl.allows(obj, method):
            return error(-32002, "Access denied")
        if method not in self.signatures:
            reply, stderr = [UBUS_METHOD_NOT_FOUND], ""
        else:
            reply, stderr = self.backend.call(method, args)
        with self.lock:
            self.calls.append({"method": method, "args": args, "reply": reply, "stderr": stderr})
        return {"jsonrpc": "2.0", "id": ident, "result": reply}


class _Handler(BaseHTTPRequestHandler):
    owner: LuciServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_body(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        # the test may close a page while a poll is on its way
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def send_json(self, status: int, data: Any) -> None:
        self.send_body(status, json.dumps(data).encode(), "application/json")

    def read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

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

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/luci-static/resources/"):
            self.serve_file([HTDOCS, STANDIN], url.path[len("/luci-static/resources/") :])
        elif url.path.startswith("/pages/"):
            self.serve_file([PAGES], url.path[len("/pages/") :])
        elif url.path == "/favicon.ico":
            self.send_body(204, b"", "image/x-icon")
        elif url.path == "/uci":
            config = parse_qs(url.query).get("config", [""])[0]
            if config not in self.owner.acl.uci_read:
                self.send_json(403, {"error": "Access denied"})
                return
            try:
                self.send_json(200, {"values": uci_values(self.owner.backend.confdir, config)})
            except Exception as exc:  # the page shows what went wrong
                self.send_json(500, {"error": str(exc)})
        else:
            self.send_body(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        try:
            body = self.read_json()
        except ValueError:
            self.send_json(
                200,
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}},
            )
            return
        if url.path == "/rpc":
            if isinstance(body, list):
                self.send_json(200, [self.owner.rpc(frame) for frame in body])
            else:
                self.send_json(200, self.owner.rpc(body))
        elif url.path == "/uci":
            if not isinstance(body, dict) or body.get("config") not in self.owner.acl.uci_write:
                self.send_json(403, {"error": "Access denied"})
                return
            try:
                uci_apply(self.owner.backend.confdir, body)
            except Exception as exc:
                self.send_json(400, {"error": str(exc)})
                return
            self.send_json(200, {"ok": True})
        else:
            self.send_body(404, b"not found", "text/plain")
