"""A stand-in for netifd's side of the protocol-handler contract, for the test bed.

netifd is not packaged for Debian.  This double drives the real hook the way netifd does, as
recorded in ``tests/golden/netifd``:

- ``'' dump`` once, cwd = the proto dir, environment HOME, PATH only (``00-start-autostart``);
- ``pppossh setup <iface> '<config JSON>'`` with 4 arguments (no device: ``no_device=1``), the
  same environment and cwd (``01-ifup-vpn/call-*-setup-vpn.txt``); the config JSON carries
  ints as numbers, booleans as true/false, lists as arrays, drops values it cannot convert
  (``09-wrong-types``, ``10-bool-int-spellings``);
- notify_proto messages arrive through the ``ubus`` command (``ubus-calls.log``): action 6
  pins a host route via the current route, action 1 starts the proto task with HOME and PATH
  only (``proto-task-env.txt``), action 2 kills it, 3 records errors, 4 blocks restarts,
  0 updates the link (the default route is used only with defaultroute 1, as in
  ``02-ifup-vpn2/status-vpn2-up.json``, DNS goes to resolv.conf.auto);
- when the proto task exits by itself: teardown with ``ERROR=<exit status>``, then setup again
  at once unless restart was blocked (``05-task-exit-code7``, ``06-notify-error-block-restart``);
- ifdown: teardown without ERROR (``03-ifdown-vpn``); ``ubus call network.interface down``
  then ``up``, as ``ifup`` sends them (``ubus-calls.log``), tear down and set up again;
- ``ubus call network.interface dump`` answers in the layout of
  ``01-ifup-vpn/network.interface-dump.json``: the uplinks the scenario declares, and the tunnel.

Bridges (``bridges``: interface name -> its bridge device), which no golden recording covers
either, follow netifd's source (``ubus.c`` ``netifd_iface_handle_device``, ``interface.c``
``interface_add_link``, ``bridge.c`` hotplug members) and OpenWrt's gretap handler, the caller
it mirrors: ``ubus call network.interface.<name> add_device '{"name": DEV, "link-ext": false}'``
makes DEV a member of the interface's bridge and brings it up; ``remove_device`` takes it out.
A call for an interface that has no bridge here is recorded and changes nothing.

Uplinks (``uplinks``), which no golden recording covers, follow netifd's source
(``proto-shell.c``, ``interface-ip.c``, ``interface-event.c``): a host dependency that names an
interface is pinned through that interface's route (metric included) and bound to it; one that
names none binds to the interface of the current route.  When the bound uplink goes down, the
tunnel is torn down without ERROR and set up again (``proto_shell_if_down_cb``: link lost, then
netifd's restart).  Each uplink event runs the hotplug scripts as ``hotplug-call iface`` does,
sourced in a subshell with ACTION, INTERFACE and DEVICE.  One simplification: the double removes
a tunnel's pins at teardown, where netifd leaves them on the uplink until it goes down (the
next pin through a better uplink wins over such a stale one by its lower metric alike).

It installs the hook files where OpenWrt keeps them (the guest's root is a throwaway overlay).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PROTO_DIR = Path("/lib/netifd/proto")
SPOOL = Path("/run/fake-netifd/ubus.jsonl")
ENV = {"HOME": "/root", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
DUMP = SPOOL.parent / "dump.json"
HOTPLUG_DIR = Path("/etc/hotplug.d/iface")
SHELL = ["/bin/busybox", "sh"]  # OpenWrt's /bin/sh; Debian's is dash
UBUS_DOUBLE = """#!/bin/sh
# ubus double of the test bed: hands notify_proto and the other calls to fake_netifd.py
# through a spool file, one call per line, its arguments each followed by a tab (JSON text
# holds no raw tab or newline); answers the interface dump from the double's file.  Shell and
# flock only: the real ubus is a small C program, and a Python start per call would weigh on
# every setup the bench times.
[ "$*" = "call network.interface dump" ] && exec cat {dump}
exec flock {spool} sh -c 'for a in "$@"; do printf "%s\\t" "$a"; done >>"$0"; echo >>"$0"' \\
\t{spool} "$@"
"""


def _host_route(host: str) -> str:
    """The /32 or /128 netifd pins for a host dependency."""
    return f"{host}/{128 if ':' in host else 32}"


def install(venv_bin: Path) -> None:
    """Put the hook, the shell library double, the helper and the ubus double in place."""
    PROTO_DIR.mkdir(parents=True, exist_ok=True)
    for hook in ("pppossh.sh", "sshtun.sh"):
        shutil.copy(REPO / "files/lib/netifd/proto" / hook, PROTO_DIR / hook)
    shutil.copy(REPO / "tests/netifd/netifd-proto.sh", PROTO_DIR.parent / "netifd-proto.sh")
    helper = Path("/usr/bin/pppossh")
    helper.write_text(f"#!/bin/sh\nexec {venv_bin / 'pppossh'} \"$@\"\n")
    helper.chmod(0o755)
    SPOOL.parent.mkdir(parents=True, exist_ok=True)
    SPOOL.write_text("")
    ubus = Path("/usr/bin/ubus")
    ubus.write_text(UBUS_DOUBLE.format(spool=SPOOL, dump=DUMP))
    DUMP.write_text('{"interface":[]}')
    HOTPLUG_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "files/etc/hotplug.d/iface/95-pppossh", HOTPLUG_DIR / "95-pppossh")
    ubus.chmod(0o755)


def _c_int(text: str) -> int | None:
    m = re.fullmatch(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", text)
    if not m:
        return None
    value = int(m.group(2), 0) if not re.fullmatch(r"0[0-7]+", m.group(2)) else int(m.group(2), 8)
    value = -value if m.group(1) == "-" else value
    return ((value + 2**31) % 2**32) - 2**31


def config_json(section: dict[str, Any], declared: dict[str, int]) -> str:
    """netifd's conversion of one UCI section to the handler's config JSON."""
    out: dict[str, Any] = {"proto": section.get("proto", "")}
    for name, value in section.items():
        kind = declared.get(name)
        if kind is None or value in ("", []):
            continue
        if kind == 1:
            out[name] = value if isinstance(value, list) else [value]
        elif isinstance(value, list):
            continue  # a list for a scalar option is dropped
        elif kind == 3:
            out[name] = value
        elif kind == 5 and _c_int(value) is not None:
            out[name] = _c_int(value)
        elif kind == 7 and value in ("1", "0", "true", "false"):
            out[name] = value in ("1", "true")
    return json.dumps(out, separators=(",", ":"))


@dataclass
class Uplink:
    """A netifd interface with a default route (``wan``, ``wanb``)."""

    name: str
    device: str
    address: str  # its own address, a /24
    gateway: str
    metric: int
    up: bool = True

    def dump_entry(self) -> dict[str, Any]:
        """As ``01-ifup-vpn/network.interface-dump.json`` shows an interface (the fields the
        helper reads) and ``vpn2``'s entry a default route."""
        return {"interface": self.name, "up": self.up, "proto": "static",
                "l3_device": self.device, "device": self.device, "metric": self.metric,
                "ipv4-address": [{"address": self.address, "mask": 24}] if self.up else [],
                "route": [{"target": "0.0.0.0", "mask": 0, "nexthop": self.gateway,
                           "source": "0.0.0.0/0"}] if self.up else []}


class FakeNetifd:
    hook_timeout = 60.0  # seconds a hook call may take before the bed calls it hung

    def __init__(self, iface: str, section: dict[str, Any], uplink_ns: str | None = None,
                 proto: str = "pppossh", uplinks: list[Uplink] | None = None,
                 bridges: dict[str, str] | None = None) -> None:
        """``proto``: the handler, ``<proto>.sh`` in the proto dir (the bench adds one);
        ``uplinks``: the interfaces that lead to the server; ``bridges``: interfaces whose
        device is a bridge, and that bridge (see the module's text)."""
        self.iface = iface
        self.proto = proto
        self.section = section
        self.log: list[dict[str, Any]] = []
        self.calls: list[list[str]] = []
        self.outputs: list[str] = []
        self.task: subprocess.Popen[bytes] | None = None
        self.blocked = False
        self.errors: list[list[str]] = []
        self.up = False
        self.update: dict[str, Any] = {}
        self.setups = 0
        self.teardowns: list[str | None] = []
        self.host_routes: list[str] = []
        self.dynamic: list[dict[str, Any]] = []  # interfaces added with network add_dynamic
        self.bridges = dict(bridges or {})
        self.device_calls: list[tuple[str, str, dict[str, Any]]] = []  # (iface, verb, message)
        self.wanted = False
        self.uplinks = {u.name: u for u in uplinks or []}
        self.bound = ""  # the uplink the host dependency is bound to
        self.relinks = 0  # teardowns for a lost uplink
        self.setup_times: list[float] = []  # when each setup started (wall clock)
        self._pending: list[str] = []  # verbs for the watcher: down, up, relink
        self._offset = 0
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self.declared = self._dump()
        self._write_dump()

    def _run_hook(self, *args: str, error: int | None = None) -> None:
        env = dict(ENV)
        if error is not None:
            env["ERROR"] = str(error)
        self.calls.append(list(args) + ([f"ERROR={error}"] if error is not None else []))
        out = subprocess.run([*SHELL, f"./{self.proto}.sh", *args], cwd=PROTO_DIR, env=env,
                             timeout=self.hook_timeout, check=False, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True)
        self.outputs.append(f"{args[:2]} rc={out.returncode}\n{out.stdout}{out.stderr}")
        self._drain()

    def _dump(self) -> dict[str, int]:
        out = subprocess.run([*SHELL, f"./{self.proto}.sh", "", "dump"], cwd=PROTO_DIR, env=ENV,
                             capture_output=True, text=True, timeout=30, check=True).stdout
        dump = json.loads(out)
        self.dump = dump
        return {name.split(":")[0]: kind for name, kind in dump["config"]}

    # --- messages ------------------------------------------------------------------------
    def _drain(self) -> None:
        with self._lock:
            data = SPOOL.read_text()
            # whole lines only: the ubus double appends a line word by word, under its flock
            # but not under this reader's, so the last line may be half written
            end = data.rfind("\n") + 1
            lines = data[self._offset:end].splitlines() if end > self._offset else []
            self._offset = max(self._offset, end)
            for line in lines:
                argv = line.split("\t")[:-1]
                message = json.loads(argv[-1])
                verb = argv[2] if len(argv) > 3 else ""
                if argv[0] == "call" and verb in ("add_device", "remove_device") \
                        and argv[1].startswith("network.interface."):
                    self._bridge_member(argv[1].removeprefix("network.interface."), verb,
                                        message)
                    continue
                if argv[:3] == ["call", "network", "add_dynamic"]:
                    # what OpenWrt's ppp6-up asks for with ipv6 auto (no golden recording)
                    if message.get("ifname") == f"@{self.iface}":
                        self.dynamic.append(message)
                    continue
                if message.get("interface") != self.iface:
                    continue
                if argv[:3] in (["call", "network.interface", "down"],
                                ["call", "network.interface", "up"]):
                    self._pending.append(argv[2])  # done by the watcher, as netifd's loop
                    continue
                self.log.append({"argv": argv[:-1], **message})
                self._handle(message)

    def _handle(self, m: dict[str, Any]) -> None:
        action = m["action"]
        if action == 6:
            self._pin(m["host"], m.get("ifname", ""))
        elif action == 1:
            self._start_task(m["command"], m.get("env", []))
        elif action == 2:
            self._kill_task()
        elif action == 3:
            self.errors.append(m["error"])
        elif action == 4:
            self.blocked = True
        elif action == 0:
            self._apply_update(m)

    def _bridge_member(self, iface: str, verb: str, m: dict[str, Any]) -> None:
        """add_device/remove_device on interface ``iface``: a member of its bridge."""
        self.device_calls.append((iface, verb, m))
        bridge, dev = self.bridges.get(iface), m.get("name")
        if not bridge or not isinstance(dev, str):
            return  # netifd: NOT_FOUND (no such object) or INVALID_ARGUMENT (no name)
        if verb == "add_device":
            subprocess.run(["ip", "link", "set", dev, "master", bridge], check=False)
            subprocess.run(["ip", "link", "set", dev, "up"], check=False)
        else:
            subprocess.run(["ip", "link", "set", dev, "nomaster"], check=False)

    def _pin(self, host: str, ifname: str = "") -> None:
        if ifname:
            uplink = self.uplinks.get(ifname)
            if uplink is None or not uplink.up:
                return  # netifd: NOT_FOUND, nothing pinned
            cmd = ["ip", "route", "replace", _host_route(host), "via", uplink.gateway, "dev",
                   uplink.device, "metric", str(uplink.metric)]
            self.bound = ifname
        else:
            route = subprocess.run(["ip", "-j", "route", "get", host], capture_output=True,
                                   text=True, check=False).stdout
            info = json.loads(route or "[{}]")[0]
            if "dev" not in info:
                return
            cmd = ["ip", "route", "replace", _host_route(host), "dev", info["dev"]]
            if info.get("gateway"):
                cmd[4:4] = ["via", info["gateway"]]
            self.bound = next((u.name for u in self.uplinks.values()
                               if u.device == info["dev"]), "")
        subprocess.run(cmd, check=False)
        self.host_routes.append(host)

    def _start_task(self, argv: list[str], env: list[str]) -> None:
        task_env = dict(ENV)
        task_env.update(e.split("=", 1) for e in env)
        self.task = subprocess.Popen(argv, cwd=PROTO_DIR, env=task_env,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def _kill_task(self) -> None:
        task = self.task
        if task and task.poll() is None:
            task.send_signal(signal.SIGTERM)
            try:
                task.wait(15)
            except subprocess.TimeoutExpired:
                task.kill()
                task.wait()
        self.task = None

    def _apply_update(self, m: dict[str, Any]) -> None:
        self.update = m
        self.up = bool(m.get("link-up"))
        self._write_dump()
        if not self.up:
            return
        dev = m["ifname"]
        # the addresses, as netifd sets them (system_add_address) and the device up
        for entry in m.get("ipaddr", []):
            cmd = ["ip", "addr", "replace", f"{entry['ipaddr']}/{entry.get('mask', '32')}"]
            if entry.get("ptp"):
                cmd += ["peer", entry["ptp"]]
            subprocess.run([*cmd, "dev", dev], check=False)
        for entry in m.get("ip6addr", []):
            subprocess.run(["ip", "-6", "addr", "replace",
                            f"{entry['ipaddr']}/{entry.get('mask', '128')}", "dev", dev],
                           check=False)
        subprocess.run(["ip", "link", "set", dev, "up"], check=False)
        for route in m.get("routes6", []):
            via = ["via", route["gateway"]] if route.get("gateway") else []
            subprocess.run(["ip", "-6", "route", "replace",
                            f"{route['target']}/{route['netmask']}", *via, "dev", dev],
                           check=False)
        defaultroute = self.section.get("defaultroute", "1") in ("1", "true")
        for route in m.get("routes", []):
            target = f"{route['target']}/{route['netmask']}"
            if target == "0.0.0.0/0" and not defaultroute:
                continue  # netifd keeps it under "inactive"
            subprocess.run(["ip", "route", "replace", target, "dev", dev], check=False)
        if m.get("dns"):
            Path("/tmp/resolv.conf.auto").write_text(
                "".join(f"nameserver {d}\n" for d in m["dns"]))

    # --- interface verbs -------------------------------------------------------------------
    def _setup(self) -> None:
        self.setups += 1
        self.setup_times.append(time.time())
        self.errors = []
        self._run_hook(self.proto, "setup", self.iface, config_json(self.section, self.declared))

    def _teardown(self, error: int | None) -> None:
        self.up = False
        self.teardowns.append(None if error is None else str(error))
        self._run_hook(self.proto, "teardown", self.iface,
                       config_json(self.section, self.declared), error=error)
        for host in self.host_routes:
            subprocess.run(["ip", "route", "del", _host_route(host)], check=False)
        self.host_routes = []
        self.bound = ""
        self.up = False
        self._write_dump()

    def ifup(self) -> None:
        self.wanted = True
        self.blocked = False
        self._setup()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def ifdown(self) -> None:
        self.wanted = False
        if self._thread:
            self._thread.join(10)
        self._teardown(None)
        self._kill_task()

    def _watch(self) -> None:
        try:
            self._watch_loop()
        except BaseException as exc:
            self.outputs.append(f"watcher died: {exc!r}")
            raise

    def _watch_loop(self) -> None:
        while self.wanted:
            self._drain()
            while self._pending and self.wanted:
                verb = self._pending.pop(0)
                if verb in ("down", "relink"):
                    self.relinks += verb == "relink"
                    self._teardown(None)
                    self._kill_task()
                if verb in ("up", "relink"):
                    self.blocked = False
                    self._setup()
            task = self.task
            if task is not None and task.poll() is not None and self.wanted:
                self.task = None
                # netifd passes WEXITSTATUS: 0 for a task killed by a signal (golden 04)
                self._teardown(max(task.returncode, 0))  # the task ended by itself
                if not self.blocked and self.wanted:
                    self._setup()  # netifd restarts at once (golden 05)
            time.sleep(0.05)

    # --- uplinks ----------------------------------------------------------------------------
    def uplink_event(self, name: str, up: bool) -> None:
        """Uplink ``name`` came up or went down (the scenario changed the routes already)."""
        self.uplinks[name].up = up
        self._write_dump()
        if not up and self.bound == name:
            self._pending.append("relink")
        env = {**ENV, "ACTION": "ifup" if up else "ifdown", "INTERFACE": name,
               "DEVICE": self.uplinks[name].device}
        for script in sorted(HOTPLUG_DIR.glob("*")):
            out = subprocess.run([*SHELL, "-c", '( . "$0" )', str(script)], env=env,
                                 capture_output=True, text=True, timeout=60, check=False)
            self.outputs.append(f"hotplug {env['ACTION']} {name} rc={out.returncode}\n"
                                f"{out.stdout}{out.stderr}")

    def _write_dump(self) -> None:
        entries = [u.dump_entry() for u in self.uplinks.values()]
        entries.append({"interface": self.iface, "up": self.up, "proto": self.proto,
                        "l3_device": f"{self.proto}-{self.iface}", "metric": 0,
                        "ipv4-address": [], "route": []})
        tmp = DUMP.with_suffix(".tmp")
        tmp.write_text(json.dumps({"interface": entries}))
        tmp.replace(DUMP)

    def status(self) -> dict[str, Any]:
        self._drain()
        return {"up": self.up, "pending": self.wanted and not self.up, "errors": self.errors,
                "blocked": self.blocked, "setups": self.setups, "teardowns": self.teardowns,
                "task_running": bool(self.task and self.task.poll() is None)}
