"""Our LuCI pages in a real browser: headless Chromium, the LuCI stand-in, the real rpcd plugin.

``luci-app/.../protocol/pppossh.js``, ``view/pppossh/peers.js`` and ``pppossh/messages.js`` run
unchanged on top of a small stand-in for LuCI's client modules (``tests/luci/standin``,
faithful to LuCI's API), served with the test pages by ``tests/luci/server.py``, which plays
uhttpd-mod-ubus and rpcd as ``tests/golden/rpcd/`` recorded them and runs the real rpcd plugin
(``files/usr/libexec/rpcd/pppossh``) for every ``rpc.declare`` call.  The protocol form is
opened the way Network > Interfaces opens it: inside LuCI's one modal dialog, next to LuCI's
own options, so every result must show inside that dialog.

The plugin runs in a network namespace (the router) joined by a veth pair to another one
(the server) where a real dropbear listens on 192.0.2.2:22.  dropbear runs as root in a
private mount namespace whose /root is a directory of the test (so its authorized_keys is
ours, and the machine's /root/.ssh is never touched), with /run and /var/log on tmpfs there.
The kernel here has no PPP, so ``check`` stops at a real failing step after the login.
The failure tests swap the plugin for ``tests/luci/fake_plugin.py``, which misbehaves the way
the recorded plugin failures did.

Needs root, iproute2 (ip netns), util-linux (unshare, mount), dropbear-bin, chromium and the
Python package playwright; the tests fail, saying what to install, when one is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import load_luci_server

from pppossh.config.options import OPTIONS, for_proto
from pppossh.plan.knownhosts import fingerprint
from pppossh.uci import open_uci

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROUTER_IP, SERVER_IP = "192.0.2.1", "192.0.2.2"
DROPPED_IP = "198.51.100.1"  # routed via the server namespace, which drops it (no forwarding)
SCREENSHOTS = REPO / "docs" / "screenshots"
ARTIFACTS = REPO / "tests" / "artifacts"
pytestmark = pytest.mark.browser


luci_server = load_luci_server()


# -- what the machine must have -------------------------------------------------------------


def _require_tools() -> None:
    problems = []
    if os.geteuid() != 0:
        problems.append("run as root (the tests create network namespaces and mount namespaces)")
    for tool, package in (
        ("ip", "iproute2"),
        ("unshare", "util-linux"),
        ("mount", "mount"),
        ("dropbear", "dropbear-bin"),
        ("dropbearkey", "dropbear-bin"),
        ("dbclient", "dropbear-bin"),
        ("bash", "bash"),
    ):
        if not shutil.which(tool):
            problems.append(f"{tool} is missing: apt-get install {package}")
    if not os.access(CHROMIUM, os.X_OK):
        problems.append(f"{CHROMIUM} is missing: apt-get install chromium")
    if importlib.util.find_spec("playwright") is None:
        problems.append(
            "the Python package playwright is missing: .venv/bin/pip install playwright"
        )
    if not problems:
        probe = f"pl-probe-{os.getpid()}"
        made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
        if made.returncode != 0:
            problems.append(
                f"network namespaces are unavailable ({made.stderr.strip()}): run"
                " as root on a kernel with CONFIG_NET_NS, outside a restricted container"
            )
        else:
            subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    if problems:
        pytest.fail(
            "the LuCI browser tests cannot run here:\n  " + "\n  ".join(problems), pytrace=False
        )


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()}")
    return out


def _public_line(private_key: Path) -> str:
    """'type base64' of a dropbear private key."""
    out = _run("dropbearkey", "-y", "-f", str(private_key)).stdout
    line = next(x for x in out.splitlines() if x.startswith("ssh-"))
    return " ".join(line.split()[:2])


# -- the two namespaces, dropbear, the server -------------------------------------------------


class Bed:
    """Router and server namespaces, dropbear in the server one, the HTTP server for the pages."""

    def __init__(self, root: Path) -> None:
        pid = os.getpid()
        self.root = root
        self.rtr, self.srv = f"pl-rtr-{pid}", f"pl-srv-{pid}"
        self.veth_rtr, self.veth_srv = f"plr{pid}", f"pls{pid}"
        self.confdir = root / "config"
        self.rundir = root / "run"
        self.keydir = root / "keys"
        self.router_home = root / "router-home"
        self.server_home = root / "server-root"  # /root of dropbear's mount namespace
        self.authorized_keys = self.server_home / ".ssh" / "authorized_keys"
        # option authorized_keys of the peers page: beside the UCI directory, where a test may
        # put it (pppossh.server.paths)
        self.peer_keys = root / "authorized_keys"
        self.host_key_file = root / "dropbear_ed25519_host_key"
        self.dropbear_log = root / "dropbear.log"
        self.dropbear: subprocess.Popen[bytes] | None = None
        self.server: Any = None
        self.namespaces: list[str] = []
        self.veth_created = False
        self.host_key = ""

    # set-up

    def write_config(self) -> None:
        self.confdir.mkdir()
        (self.confdir / "network").write_text(
            "config interface 'vpn'\n"
            "\toption proto 'pppossh'\n"
            f"\toption server '{SERVER_IP}'\n"
            "\toption sshuser 'root'\n"
            "\toption ssh_client 'dbclient'\n"
            "\toption connect_timeout '10'\n"
            "\n"
            "config interface 'fresh'\n"
            "\toption proto 'pppossh'\n"
            "\n"
            "config interface 'slow'\n"
            "\toption proto 'pppossh'\n"
            f"\toption server '{DROPPED_IP}'\n"
            "\toption sshuser 'root'\n"
            "\toption ssh_client 'dbclient'\n"
            "\toption connect_timeout '5'\n"
            f"\tlist identity '{self.keydir / 'vpn'}'\n"
            "\n"
            "config interface 'edit'\n"
            "\toption proto 'pppossh'\n"
            "\toption server 'vpn.example.org'\n"
            "\toption sshuser 'vpn'\n"
            "\toption keepalive '5 3'\n"
            "\n"
            "config interface 'minimal'\n"  # what a valid interface needs, no more
            "\toption proto 'pppossh'\n"
            "\toption server 'vpn.example.org'\n"
            "\toption sshuser 'vpn'\n"
            "\n"
            "config interface 'tun'\n"  # proto sshtun: its own form from the same table
            "\toption proto 'sshtun'\n"
            "\toption server 'vpn.example.org'\n"
            "\toption sshuser 'pppossh'\n"
            "\toption ipaddr '10.64.0.2'\n"
            "\toption peeraddr '10.64.0.1'\n"
            "\n"
            "config interface 'explicit'\n"  # every default of our form written out
            "\toption proto 'pppossh'\n"
            "\toption server 'vpn.example.org'\n"
            "\toption sshuser 'vpn'\n"
            "\toption ssh_client 'auto'\n"
            "\toption use_hostdep '1'\n"
            "\toption ipv6 '0'\n"
            "\toption persist '0'\n"
            "\toption peerdns '1'\n"
            "\toption port '22'\n"
            "\toption keepalive '0'\n"  # LCP echo off, as the interval field stays empty
        )
        (self.confdir / "pppossh").write_text(
            "config server 'server'\n"
            "\toption pool '10.64.0.0/24'\n"
            "\toption sshd 'dropbear'\n"
            f"\toption authorized_keys '{self.peer_keys}'\n"
            "\tlist dns '192.0.2.53'\n"
        )
        self.rundir.mkdir()
        self.router_home.mkdir(mode=0o700)
        (self.server_home / ".ssh").mkdir(mode=0o700, parents=True)
        os.chmod(self.server_home, 0o700)
        self.authorized_keys.write_text("")
        os.chmod(self.authorized_keys, 0o600)

    def make_network(self) -> None:
        for ns in (self.rtr, self.srv):
            _run("ip", "netns", "add", ns)
            self.namespaces.append(ns)
        _run("ip", "link", "add", self.veth_rtr, "type", "veth", "peer", "name", self.veth_srv)
        self.veth_created = True
        _run("ip", "link", "set", self.veth_rtr, "netns", self.rtr)
        _run("ip", "link", "set", self.veth_srv, "netns", self.srv)
        for ns, dev, addr in (
            (self.rtr, self.veth_rtr, ROUTER_IP),
            (self.srv, self.veth_srv, SERVER_IP),
        ):
            # no IPv6 link-local address: 192.0.2.x/24 is the only address there is
            _run("ip", "-n", ns, "link", "set", "dev", dev, "addrgenmode", "none")
            _run("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _run("ip", "-n", ns, "link", "set", "dev", dev, "up")
        # a destination whose packets vanish: the server namespace does not forward
        _run("ip", "-n", self.rtr, "route", "add", "198.51.100.0/24", "via", SERVER_IP)
        _run("ip", "netns", "exec", self.srv, "sysctl", "-qw", "net.ipv4.ip_forward=0")

    def start_dropbear(self) -> None:
        _run("dropbearkey", "-t", "ed25519", "-f", str(self.host_key_file))
        self.host_key = _public_line(self.host_key_file)
        script = (
            'mount --bind "$1" /root && mount -t tmpfs -o mode=0755 tmpfs /run'
            " && mount -t tmpfs -o mode=0755 tmpfs /var/log"
            ' && exec dropbear -F -E -s -r "$2" -p "$3:22" -P "$4"'
        )
        with open(self.dropbear_log, "wb") as log:
            self.dropbear = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.srv,
                    "unshare",
                    "--mount",
                    "--propagation",
                    "private",
                    "--",
                    "sh",
                    "-c",
                    script,
                    "sh",
                    str(self.server_home),
                    str(self.host_key_file),
                    SERVER_IP,
                    str(self.root / "dropbear.pid"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.dropbear.poll() is not None:
                raise RuntimeError(f"dropbear ended: {self.dropbear_log.read_text()}")
            probe = _run(
                "ip",
                "netns",
                "exec",
                self.rtr,
                "bash",
                "-c",
                f"exec 3<>/dev/tcp/{SERVER_IP}/22",
                check=False,
            )
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"dropbear does not listen on {SERVER_IP}:22: {self.dropbear_log.read_text()}"
        )

    def start(self) -> None:
        self.write_config()
        self.make_network()
        self.start_dropbear()
        backend = luci_server.Backend(self.confdir, self.rundir, self.keydir, netns=self.rtr)
        self.server = luci_server.LuciServer(backend)
        self.server.start()

    # tear-down: every step runs, whatever failed before

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            if self.server is not None:
                self.server.stop()
        if self.dropbear is not None and self.dropbear.poll() is None:
            self.dropbear.terminate()
            try:
                self.dropbear.wait(5)
            except subprocess.TimeoutExpired:
                self.dropbear.kill()
                self.dropbear.wait(5)
        for ns in self.namespaces:
            # whatever still runs in our namespaces was started by these tests (SSH sessions)
            pids = _run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
        if self.veth_created:  # wherever it ended up: still on the host, or in a namespace
            _run("ip", "link", "del", self.veth_rtr, check=False)
            for ns, dev in ((self.rtr, self.veth_rtr), (self.srv, self.veth_srv)):
                if ns in self.namespaces:
                    _run("ip", "-n", ns, "link", "del", dev, check=False)
            self.veth_created = False
        for ns in reversed(self.namespaces):
            _run("ip", "netns", "del", ns, check=False)
        self.namespaces.clear()

    # helpers for the tests

    def url(self, path: str) -> str:
        return self.server.url(path)

    def call(self, method: str, **args: Any) -> dict[str, Any]:
        reply = self.server.call(self.server.session, "pppossh", method, args)
        assert reply[0] == 0, f"{method}: ubus status {reply}"
        return reply[1]

    def network(self, section: str) -> dict[str, Any]:
        found = open_uci(str(self.confdir), backend="file").section("network", section)
        assert found is not None
        return dict(found.options)

    def ensure_key(self) -> str:
        """The vpn interface's key (made through the plugin if a test before did not)."""
        if not (self.keydir / "vpn").exists():
            self.call("keygen", interface="vpn", force=False)
        return self.call("pubkey", interface="vpn")["public"]

    def ensure_pinned(self) -> None:
        if self.network("vpn").get("hostkey") != (self.host_key,):
            self.call("pin_hostkey", interface="vpn", fingerprint=fingerprint(self.host_key))

    def unpin(self) -> None:
        """Forget the pinned server key, so that a page can fetch and pin it again."""
        luci_server.uci_apply(self.confdir, {"config": "network", "unset": {"vpn": ["hostkey"]}})




@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    _require_tools()
    testbed = Bed(tmp_path_factory.mktemp("luci"))
    try:
        testbed.start()
        yield testbed
    finally:
        testbed.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1180, "height": 900},
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()


MODAL = "#modal_overlay > .modal"
MARKS = "\u27e6", "\u27e7"  # what _() wraps every string in with ?i18n=pseudo


class Tab:
    """One browser page on our server, with what it reported as errors."""

    def __init__(self, page: Any, bed: Bed) -> None:
        self.page = page
        self.bed = bed
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text}"),
        )

    def open(self, path: str) -> None:
        self.page.goto(self.bed.url(path))
        self.page.wait_for_selector("body[data-luci-ready]")
        assert self.page.get_attribute("body", "data-luci-ready") == "true", self.luci_errors()

    def open_protocol(self, section: str = "vpn", **query: str) -> None:
        """Network > Interfaces with the edit dialog of ``section`` open."""
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        self.open(f"/pages/protocol.html?section={section}{extra}")
        assert self.in_modal(), "the form is not in LuCI's modal dialog"
        self.page.locator(f"{MODAL} #pppossh-status-{section} > :not(em)").wait_for(
            state="attached")
        self.tab("general")  # LuCI remembers the last tab in the session; start on the first

    def in_modal(self) -> bool:
        return bool(self.page.evaluate(
            "document.body.classList.contains('modal-overlay-active')"
            " && !!document.querySelector('#modal_overlay > .modal .cbi-map')"))

    def behind(self) -> int:
        """Notifications on the page behind the dialog (ui.addNotification)."""
        return self.page.locator("#maincontent > .alert-message").count()

    def luci_errors(self) -> list[str]:
        return list(self.page.evaluate("window.__luciErrors")) + self.errors

    def click_and_wait(self, selector: str, timeout: float = 60_000) -> None:
        """Click a button wired with ui.createHandlerFn and wait until its handler settled
        (LuCI disables the button while the promise runs)."""
        self.page.locator(selector).click()
        # done when the button is enabled again, or gone (the handler redrew its part)
        self.page.wait_for_function(
            "sel => { const b = document.querySelector(sel); return !b || !b.disabled; }",
            arg=selector,
            timeout=timeout,
        )

    def text(self, selector: str) -> str:
        return _norm(self.page.locator(selector).inner_text())

    def message(self, area: str) -> str:
        """The message next to a button: its area's pppossh-msg, inside the dialog."""
        box = self.page.locator(f"#{area} .pppossh-msg").first
        box.wait_for()
        assert box.evaluate("(n, m) => !!n.closest(m)", MODAL), f"{area} is not in the dialog"
        return _norm(box.inner_text())

    def widget(self, section: str, option: str) -> Any:
        return self.page.locator(f'[id="cbid.network.{section}.{option}"]')

    def input(self, section: str, option: str) -> Any:
        return self.page.locator(f'[id="widget.cbid.network.{section}.{option}"]')

    def list_values(self, section: str, option: str) -> list[str]:
        return self.page.eval_on_selector_all(
            f'[id="cbid.network.{section}.{option}"] > .item > input[type="hidden"]',
            "els => els.map(e => e.value)",
        )

    def tab(self, name: str) -> None:
        self.page.click(f'{MODAL} ul.cbi-tabmenu li[data-tab="{name}"] a')

    def save(self) -> None:
        """The dialog's Save: saves the map and closes the dialog, as LuCI does."""
        self.click_and_wait("#luci-save")
        self.page.wait_for_function("!document.body.classList.contains('modal-overlay-active')")

    def reopen(self, section: str) -> None:
        self.click_and_wait("#luci-edit")
        assert self.in_modal()
        self.page.locator(f"{MODAL} #pppossh-status-{section} > :not(em)").wait_for(
            state="attached")


@pytest.fixture
def tab(browser: Any, bed: Bed) -> Iterator[Tab]:
    page = browser.new_page()
    try:
        yield Tab(page, bed)
    finally:
        page.close()


def _js_ids(option: Any) -> list[str]:
    return (
        ["_keepalive_failure", "_keepalive_interval"]
        if option.name == "keepalive"
        else [option.name]
    )


def _norm(text: str) -> str:
    return " ".join(text.split())


def _is_flag(option: Any) -> bool:
    return option.kind == "bool" or (option.kind == "int" and option.check.datatype == "range(0,1)")


# -- 1. the form: every option of the table, on its tab, in LuCI's dialog -----------------------


LUCIS_OWN = {"defaultroute": "CBI.FlagValue", "dns": "CBI.DynamicList", "metric": "CBI.Value"}


def test_form_shows_every_option_of_the_table_on_its_tab(tab: Tab) -> None:
    tab.open_protocol("fresh")  # only proto set: widgets show defaults and placeholders
    page = tab.page

    for option in for_proto("pppossh"):
        if option.name in LUCIS_OWN:
            # drawn once, by LuCI (interfaces.js), with its own widget and tab
            row = page.locator(f'{MODAL} .cbi-value[data-name="{option.name}"]')
            assert row.count() == 1, option.name
            assert row.get_attribute("data-widget") == LUCIS_OWN[option.name], option.name
            assert row.get_attribute("data-tab") == "advanced"
            continue
        if option.tab == "standalone":  # plain Linux only: netifd does its job here
            row = page.locator(f'{MODAL} .cbi-value[data-name="{option.name}"]')
            assert row.count() == 0, option.name
            continue
        for name in _js_ids(option):
            row = page.locator(f'{MODAL} .cbi-value[data-name="{name}"]')
            assert row.count() == 1, f"{name}: no row in the form"
            # peerdns: drawn by our form, where LuCI draws it for its own protocols
            tab_name = "advanced" if option.origin == "netifd" else option.tab
            assert row.get_attribute("data-tab") == tab_name, name
            pane = row.evaluate("r => r.closest('[data-tab-title]').getAttribute('data-tab')")
            assert pane == tab_name, f"{name} is drawn on the {pane} tab, not {tab_name}"
            label = _norm(row.locator(".cbi-value-title").inner_text())
            if option.name == "keepalive":
                assert label.startswith(option.title), (name, label)
            else:
                assert label == option.title, (name, label)
                if "<" not in option.help:  # LuCI shows descriptions as HTML
                    assert _norm(row.locator(".cbi-value-description").inner_text()) == _norm(
                        option.help
                    )

            expected_widget = "CBI.FlagValue" if _is_flag(option) else {
                "list": "CBI.DynamicList"}.get(
                option.kind, "CBI.ListValue" if option.choices else "CBI.Value"
            )
            assert row.get_attribute("data-widget") == expected_widget, name
            if option.name == "keepalive":
                continue

            field = tab.input("fresh", name)
            datatype = option.check.datatype
            if _is_flag(option):
                assert field.get_attribute("type") == "checkbox", name
                assert field.is_checked() == bool(option.default), name
            elif option.choices:
                assert field.input_value() == option.default, name
                choices = field.locator("option").evaluate_all(
                    "os => os.map(o => [o.value, o.textContent])")
                assert choices == [list(c) for c in option.choices], name
            else:
                if datatype not in ("string", "bool"):
                    assert field.get_attribute("data-type") == datatype, name
                if option.default not in (None, "", []):
                    placeholder = str(option.default)
                else:
                    placeholder = option.placeholder or None
                assert field.get_attribute("placeholder") == placeholder, name
                assert field.input_value() == "", name
            if option.secret:
                assert field.get_attribute("type") == "password", name
            if option.required:  # rmempty false: an empty value is marked invalid
                assert "cbi-input-invalid" in (field.get_attribute("class") or ""), name

    assert tab.input("fresh", "port").get_attribute("placeholder") == "22"
    keepalive = next(o for o in OPTIONS if o.name == "keepalive").placeholder.split()
    assert [tab.input("fresh", f"_keepalive_{f}").get_attribute("placeholder")
            for f in ("failure", "interval")] == keepalive
    assert tab.input("fresh", "_keepalive_failure").get_attribute("data-type") == "uinteger"
    assert tab.input("fresh", "_keepalive_interval").get_attribute("data-type") == "min(1)"

    # the datatypes do their work in the browser
    port = tab.input("fresh", "port")
    port.fill("70000")
    port.blur()
    assert "cbi-input-invalid" in port.get_attribute("class")
    port.fill("2222")
    port.blur()
    assert "cbi-input-invalid" not in port.get_attribute("class")
    server = tab.input("fresh", "server")
    server.fill("bad host!")
    server.blur()
    assert "cbi-input-invalid" in server.get_attribute("class")
    server.fill("vpn.example.net")
    server.blur()
    assert "cbi-input-invalid" not in server.get_attribute("class")

    # the advanced tab is one click away
    tab.tab("advanced")
    assert tab.input("fresh", "connect_timeout").is_visible()
    assert tab.input("fresh", "peerdns").is_visible()
    assert not tab.input("fresh", "server").is_visible()
    assert tab.luci_errors() == []


def test_the_sshtun_form_has_its_own_options(tab: Tab, bed: Bed) -> None:
    """proto sshtun: protocol/sshtun.js from the same table draws its options and none that
    only pppossh has, offers the connection check (sshtun's own steps), and saves what is
    edited."""
    tab.open_protocol("tun")
    page = tab.page
    own = {o.name for o in for_proto("sshtun")}
    for option in OPTIONS:
        if option.name in LUCIS_OWN:
            continue
        for name in _js_ids(option):
            rows = page.locator(f'{MODAL} .cbi-value[data-name="{name}"]').count()
            shown = option.name in own and option.tab != "standalone"
            assert rows == (1 if shown else 0), name
    assert tab.input("tun", "remote_unit").get_attribute("placeholder") == "0"
    assert page.locator("#pppossh-checkbtn-tun").count() == 1
    choices = tab.input("tun", "proto").locator("option").evaluate_all(
        "os => os.map(o => [o.value, o.textContent])")
    assert ["sshtun", "Tunnel device over OpenSSH (sshtun)"] in choices, choices
    assert ["pppossh", "VPN over SSH (pppossh)"] in choices, choices
    tab.input("tun", "remote_unit").fill("2")
    tab.save()
    assert "option remote_unit '2'" in (bed.confdir / "network").read_text()
    assert tab.luci_errors() == []


def test_keepalive_description_is_shown_as_written(tab: Tab) -> None:
    tab.open_protocol("fresh")
    help_text = next(o.help for o in OPTIONS if o.name == "keepalive")
    shown = tab.page.locator('.cbi-value[data-name="_keepalive_failure"] .cbi-value-description')
    assert _norm(shown.inner_text()) == _norm(help_text)


def test_select_choices_are_not_cut(tab: Tab) -> None:
    """The SSH client dropdown shows its choices whole in the theme's 210 px select (the old
    first choice, "auto (dbclient when installed)", was cut)."""
    tab.open_protocol("fresh")
    tab.tab("advanced")
    widths = tab.input("fresh", "ssh_client").evaluate("""sel => {
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = getComputedStyle(sel).font;
        const width = t => ctx.measureText(t).width;
        return { room: sel.clientWidth - 28,  // padding and the arrow
                 choices: Array.from(sel.options).map(o => width(o.textContent)),
                 old: width('auto (dbclient when installed)') };
    }""")
    assert widths["old"] > widths["room"], widths  # the measure sees the old cut
    assert max(widths["choices"]) <= widths["room"], widths


def test_saving_an_untouched_dialog_writes_nothing(tab: Tab, bed: Bed) -> None:
    """Save without an edit: no uci change at all, for a minimal section, one with values
    and one with every default of the form written out (LuCI drops a flag equal to its default,
    and writes a list value's default: the form keeps both from happening)."""
    before = (bed.confdir / "network").read_bytes()
    writes = len(bed.server.uci_writes)
    for section in ("minimal", "edit", "explicit"):
        tab.open_protocol(section)
        tab.save()
        assert bed.server.uci_writes[writes:] == [], (section, bed.server.uci_writes)
        assert (bed.confdir / "network").read_bytes() == before, section
    assert tab.luci_errors() == []


def test_save_writes_the_keepalive_pair_and_changed_values(tab: Tab, bed: Bed) -> None:
    tab.open_protocol("edit")
    assert tab.input("edit", "_keepalive_failure").input_value() == "5"
    assert tab.input("edit", "_keepalive_interval").input_value() == "3"

    tab.input("edit", "port").fill("2222")
    tab.tab("advanced")
    tab.input("edit", "_keepalive_failure").fill("4")
    tab.input("edit", "use_hostdep").uncheck()
    tab.input("edit", "ssh_client").select_option("openssh")
    tab.input("edit", "peerdns").uncheck()
    tab.save()
    saved = bed.network("edit")
    assert saved["keepalive"] == "4 3"
    assert saved["port"] == "2222"
    assert saved["use_hostdep"] == "0" and saved["peerdns"] == "0"
    assert saved["ssh_client"] == "openssh"
    assert "_keepalive_failure" not in saved and "_keepalive_interval" not in saved
    assert saved["server"] == "vpn.example.org" and saved["sshuser"] == "vpn"

    # opened again, the dialog shows what was saved; back to the defaults
    tab.reopen("edit")
    tab.tab("advanced")
    assert tab.input("edit", "_keepalive_failure").input_value() == "4"
    assert not tab.input("edit", "use_hostdep").is_checked()
    tab.input("edit", "_keepalive_failure").fill("")
    tab.input("edit", "_keepalive_interval").fill("")
    tab.input("edit", "use_hostdep").check()
    tab.input("edit", "peerdns").check()
    tab.input("edit", "ssh_client").select_option("auto")
    tab.save()
    saved = bed.network("edit")
    assert "keepalive" not in saved  # both fields empty: the default, '5 1'
    assert "use_hostdep" not in saved and "peerdns" not in saved  # LuCI: a default is dropped
    assert saved["ssh_client"] == "auto"  # an explicit choice over another one is kept

    # a failure threshold of 0 turns LCP echo off; only an interval keeps the threshold
    for failure, interval, keepalive in (("0", "", "0"), ("", "3", "5 3"), ("2", "", "2 1")):
        tab.reopen("edit")
        tab.tab("advanced")
        tab.input("edit", "_keepalive_failure").fill(failure)
        tab.input("edit", "_keepalive_interval").fill(interval)
        tab.save()
        assert bed.network("edit")["keepalive"] == keepalive, (failure, interval)
    luci_server.uci_apply(bed.confdir, {"config": "network", "set": {"edit": {
        "keepalive": "5 3"}}})
    luci_server.uci_apply(bed.confdir, {"config": "network", "unset": {"edit": ["ssh_client",
                                                                               "port"]}})
    assert tab.luci_errors() == []


# -- 2. Generate key ----------------------------------------------------------------------------


def test_generate_key(tab: Tab, bed: Bed) -> None:
    # start without a key, whatever ran before
    for name in ("vpn", "vpn.pub"):
        (bed.keydir / name).unlink(missing_ok=True)
    luci_server.uci_apply(bed.confdir, {"config": "network", "unset": {"vpn": ["identity"]}})
    tab.open_protocol("vpn")
    page = tab.page
    assert tab.text("#pppossh-pubkey-vpn em") == "No key yet: generate one."
    assert page.locator("#pppossh-keygen-out-vpn").inner_text() == ""  # NO_IDENTITY is no error

    tab.click_and_wait("#pppossh-keygen-vpn")
    assert tab.message("pppossh-keygen-out-vpn") == (
        "New key made: add the public key to the server.")
    text = page.locator("#pppossh-pubkey-vpn textarea").input_value()
    assert text.startswith("ssh-ed25519 ")
    assert text.endswith(f"pppossh-vpn@{socket.gethostname()}")
    copy = page.locator("#pppossh-pubkey-vpn button")
    assert copy.inner_text() == "Copy"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=bed.url(""))
    copy.click()
    page.wait_for_function(
        "() => document.querySelector('#pppossh-pubkey-vpn button').textContent == 'Copied'"
    )
    assert page.evaluate("navigator.clipboard.readText()") == text

    key = bed.keydir / "vpn"
    assert tab.list_values("vpn", "identity") == [str(key)]
    assert key.is_file()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert bed.network("vpn")["identity"] == (str(key),)
    assert text.split()[:2] == (bed.keydir / "vpn.pub").read_text().split()[:2]

    # again: the backend says KEY_EXISTS, the page asks in place, in the dialog
    tab.click_and_wait("#pppossh-keygen-vpn")
    question = page.locator("#pppossh-keygen-out-vpn .pppossh-question")
    assert "Replace the key?" in question.inner_text()
    assert "already has a key" in question.inner_text()
    assert tab.in_modal()
    question.locator("button:has-text('Cancel')").click()
    assert page.locator("#pppossh-keygen-out-vpn").inner_text() == ""
    assert page.locator("#pppossh-pubkey-vpn textarea").input_value() == text

    # and replaces it when asked to
    tab.click_and_wait("#pppossh-keygen-vpn")
    tab.click_and_wait("#pppossh-keygen-force")
    assert tab.message("pppossh-keygen-out-vpn").startswith("New key made")
    replaced = page.locator("#pppossh-pubkey-vpn textarea").input_value()
    assert replaced != text and replaced.split()[:2] == (
        bed.keydir / "vpn.pub").read_text().split()[:2]
    assert tab.in_modal() and tab.behind() == 0
    assert tab.luci_errors() == []


# -- 3. Fetch server key --------------------------------------------------------------------------


def test_fetch_and_pin_server_key(tab: Tab, bed: Bed) -> None:
    """In the dialog: the fingerprint, the question, the pin; the dialog stays open."""
    bed.ensure_key()
    bed.unpin()
    expected = fingerprint(bed.host_key)
    tab.open_protocol("vpn")
    page = tab.page
    assert tab.widget("vpn", "hostkey").is_visible()

    tab.click_and_wait("#pppossh-fetch-vpn")
    assert tab.text("#pppossh-fingerprint") == f"ssh-ed25519 key, fingerprint {expected}"
    assert "192.0.2.2 port 22 offers:" in tab.text("#pppossh-fetch-out-vpn")
    assert tab.in_modal()

    tab.click_and_wait("#pppossh-pin")
    assert tab.message("pppossh-fetch-out-vpn") == f"Pinned {expected}"
    assert bed.network("vpn")["hostkey"] == (bed.host_key,)
    assert tab.list_values("vpn", "hostkey") == [bed.host_key]
    assert tab.widget("vpn", "hostkey").is_visible()
    assert page.locator("#pppossh-checkbtn-vpn").is_visible()

    # fetched again: already pinned, said in place
    tab.click_and_wait("#pppossh-fetch-vpn")
    assert tab.message("pppossh-fetch-out-vpn") == "This key is already pinned."
    assert tab.in_modal() and tab.behind() == 0
    assert tab.luci_errors() == []


# -- 4. Check connection --------------------------------------------------------------------------


STEP_TITLES = {"config": "Settings", "resolve": "Server name", "tcp": "TCP connection",
               "hostkey": "Server key", "auth": "SSH login", "remote_pppd": "pppd on the server",
               "local_ppp": "pppd and PPP on the router", "route": "Route to the server"}


def _steps(tab: Tab, section: str = "vpn") -> dict[str, dict[str, str]]:
    return {
        s["name"]: s
        for s in tab.page.eval_on_selector_all(
            f"#pppossh-check-{section} li.pppossh-step",
            """els => els.map(e => ({
                name: e.getAttribute('data-step'), code: e.getAttribute('data-code'),
                cls: e.className, color: getComputedStyle(e).color,
                title: e.querySelector('strong').textContent,
                fix: (e.querySelector('.pppossh-fix') || {}).textContent || '',
                text: e.textContent }))""",
        )
    }


def test_check_connection(tab: Tab, bed: Bed) -> None:
    public = bed.ensure_key()
    bed.ensure_pinned()
    bed.authorized_keys.write_text("")
    tab.open_protocol("vpn")
    green, red = "rgb(0, 128, 0)", "rgb(255, 0, 0)"

    tab.click_and_wait("#pppossh-checkbtn-vpn")
    steps = _steps(tab)
    assert list(steps)[:5] == ["config", "resolve", "tcp", "hostkey", "auth"], steps
    for name, step in steps.items():  # titles, not identifiers
        assert step["title"].endswith(" " + STEP_TITLES[name]), step
    for name in ("config", "resolve", "tcp", "hostkey"):
        assert "pppossh-step-ok" in steps[name]["cls"] and steps[name]["color"] == green, steps[
            name
        ]
    assert "192.0.2.2 port 22 answered in" in steps["tcp"]["text"]
    assert f"ssh-ed25519 key {fingerprint(bed.host_key)} is pinned" in steps["hostkey"]["text"]
    assert "pppossh-step-fail" in steps["auth"]["cls"] and steps["auth"]["color"] == red
    assert steps["auth"]["code"] == "AUTH_FAILED"
    assert "The server refused the key of user root." in steps["auth"]["text"]
    assert "authorized_keys" in steps["auth"]["fix"], steps["auth"]
    assert all("pppossh-step-skipped" in s["cls"] for s in list(steps.values())[5:])
    assert "Stopped at the first failing step" in tab.text("#pppossh-check-vpn p")

    # the server now knows the key: the login works, PPP (absent from this kernel) does not
    bed.authorized_keys.write_text(public + "\n")
    tab.click_and_wait("#pppossh-checkbtn-vpn")
    steps = _steps(tab)
    assert "pppossh-step-ok" in steps["auth"]["cls"] and steps["auth"]["color"] == green, steps[
        "auth"
    ]
    assert "root logged in" in steps["auth"]["text"]
    failed = [name for name, s in steps.items() if "pppossh-step-fail" in s["cls"]]
    assert failed and failed[0] in ("remote_pppd", "local_ppp"), steps
    assert steps[failed[0]]["color"] == red and steps[failed[0]]["fix"].startswith("Fix: ")
    assert len(steps[failed[0]]["fix"]) > len("Fix: ") + 10
    assert "_" not in steps[failed[0]]["title"]
    _save_screenshot(tab, "luci-check.png", docs=False)
    assert tab.in_modal() and tab.behind() == 0
    assert tab.luci_errors() == []


def test_check_that_outlasts_the_rpc_timeout_says_so(tab: Tab, bed: Bed) -> None:
    """A check takes longer than LuCI waits for one rpc call (L.env.rpctimeout, scaled down
    to 2 s here against a silent server and connect_timeout 5): it runs in the background
    and the page polls it, so the steps arrive and the failing one shows its fix."""
    bed.ensure_key()  # so that the check gets past its config step, to the silent server
    tab.open_protocol("slow", rpctimeout="2")
    tab.click_and_wait("#pppossh-checkbtn-slow", timeout=90_000)
    out = tab.text("#pppossh-check-slow")
    assert "Stopped at the first failing step" in out, out
    assert "Checking" not in out, out
    failed = tab.page.locator("#pppossh-check-slow li.pppossh-step-fail")
    assert failed.get_attribute("data-step") == "tcp"
    assert failed.get_attribute("data-code") == "TCP_TIMEOUT"
    assert f"{DROPPED_IP} did not answer on port 22 within 5 seconds." in _norm(
        failed.inner_text()), failed.inner_text()
    assert len(bed.server.calls_of("check")) >= 3, "the page did not poll the running check"
    assert tab.behind() == 0


# -- 5. Status ------------------------------------------------------------------------------------


def test_status_block(tab: Tab, bed: Bed) -> None:
    tab.open_protocol("vpn")
    status = tab.page.locator("#pppossh-status-vpn table.pppossh-status")
    status.wait_for()
    rows = status.locator("tr").evaluate_all(
        "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent.trim()))"
    )
    assert rows[0] == ["State", "down"], rows
    assert ["Addresses", "-"] in rows
    # the block refreshes itself: it is in LuCI's poll loop, which is running
    assert tab.page.evaluate("L.Poll.active() && L.Poll.queue.some(e => e.every == 5)")
    assert bed.server.calls_of("status")
    assert tab.behind() == 0
    assert tab.luci_errors() == []


def test_status_words_the_last_error(tab: Tab, bed: Bed) -> None:
    state = bed.rundir / "edit" / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"phase": "backoff", "wait": 40, "last_error": {
        "code": "AUTH_FAILED", "message": "English for the CLI"}}))
    try:
        tab.open_protocol("edit")
        rows = dict(tab.page.locator("#pppossh-status-edit tr").evaluate_all(
            "rs => rs.map(r => Array.from(r.cells).map(c => c.textContent.trim()))"))
    finally:
        state.unlink()
    assert rows["State"] == "waiting to try again, next attempt in 40 s", rows
    assert rows["Last error"] == "The server refused the key of user vpn. AUTH_FAILED", rows
    assert "English" not in tab.text(MODAL)


# -- 6. Peers -------------------------------------------------------------------------------------


def _peer_key(bed: Bed, name: str) -> str:
    private = bed.root / f"peer-{name}"
    if not private.exists():
        _run("dropbearkey", "-t", "ed25519", "-f", str(private))
    return _public_line(private) + f" root@{name}"


def _add_peer(tab: Tab, name: str, key: str) -> None:
    tab.page.fill("#pppossh-new-name", name)
    tab.page.fill("#pppossh-new-key", key)
    tab.click_and_wait("#pppossh-add")


def _open_peers(tab: Tab, **query: str) -> None:
    extra = "&".join(f"{k}={v}" for k, v in query.items())
    tab.open("/pages/peers.html" + (f"?{extra}" if extra else ""))
    tab.page.wait_for_selector("#view > *:not(.spinning)")


def test_peers_page(tab: Tab, bed: Bed) -> None:
    key = _peer_key(bed, "branch-1")
    _open_peers(tab)
    page = tab.page
    page.wait_for_selector("#pppossh-peers")
    assert page.locator("#pppossh-peers tr.placeholder").count() == 1

    _add_peer(tab, "branch-1", key)
    row = page.locator('#pppossh-peers tr[data-peer="branch-1"]')
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "branch-1"
    assert cells[1] == fingerprint(key)
    assert cells[2] == "10.64.0.1 → 10.64.0.2"
    assert tab.text("#pppossh-add-out") == "Added peer branch-1 (10.64.0.2); apply to let it in."
    assert page.input_value("#pppossh-new-name") == ""

    hostile = [
        ("x;reboot", key, "INVALID_PEER_NAME", "A peer name is letters, digits"),
        ("branch-2", "ssh-ed25519 AAAA$(reboot)", "INVALID_PEER_KEY", "not an SSH public key"),
        ("branch-1", _peer_key(bed, "branch-3"), "PEER_EXISTS",
         "A peer named branch-1 exists already."),
    ]
    for name, bad_key, code, words in hostile:
        _add_peer(tab, name, bad_key)
        shown = tab.text("#pppossh-add-out .pppossh-msg.danger")
        assert words in shown and shown.endswith(code), (name, shown)
        assert page.locator("#pppossh-peers tr[data-peer]").count() == 1
    config = (bed.confdir / "pppossh").read_text()
    assert "reboot" not in config and "branch-2" not in config

    tab.click_and_wait("#pppossh-apply")
    assert tab.text("#pppossh-add-out") == f"1 enabled peer in {bed.peer_keys}: updated"
    assert key.split()[1] in bed.peer_keys.read_text()
    _add_peer(tab, "branch-3", _peer_key(bed, "branch-3"))
    tab.click_and_wait("#pppossh-apply")
    assert tab.text("#pppossh-add-out") == f"2 enabled peers in {bed.peer_keys}: updated"

    for name in ("branch-3", "branch-1"):
        tab.click_and_wait(f'button[data-delete="{name}"]')
        assert tab.text("#pppossh-table-out") == f"Removed peer {name}; apply to shut its key out."
    assert page.locator("#pppossh-peers tr[data-peer]").count() == 0
    assert page.locator("#pppossh-peers tr.placeholder").count() == 1
    assert "branch-1" not in (bed.confdir / "pppossh").read_text()
    tab.click_and_wait("#pppossh-apply")
    assert tab.text("#pppossh-add-out").startswith("0 enabled peers in ")
    assert tab.behind() == 0
    assert tab.luci_errors() == []


def test_peers_page_adds_a_tun_peer(tab: Tab, bed: Bed) -> None:
    """A tun peer from the page: a hostile unit is refused with its words, a good one gets
    the first free device and says what the router sets; apply on this dropbear server says
    that tun devices need OpenSSH's sshd, and nothing is written."""
    _open_peers(tab)
    page = tab.page
    page.wait_for_selector("#pppossh-peers")
    key = _peer_key(bed, "branch-t")
    page.select_option("#pppossh-new-mode", "tun")
    page.fill("#pppossh-new-unit", "1;reboot")
    _add_peer(tab, "branch-t", key)
    shown = tab.text("#pppossh-add-out .pppossh-msg.danger")
    assert "number of its device on the server" in shown, shown
    assert shown.endswith("INVALID_PEER_UNIT"), shown
    assert "branch-t" not in (bed.confdir / "pppossh").read_text()

    page.fill("#pppossh-new-unit", "")
    _add_peer(tab, "branch-t", key)
    said = tab.text("#pppossh-add-out")
    device = re.search(r"the server's (tun\d+)", said)
    assert device and said.startswith("Added peer branch-t (10.64.0.2 on the server's"), said
    assert f"remote_unit {device[1][3:]}" in said, said
    cells = page.locator('#pppossh-peers tr[data-peer="branch-t"] td').all_inner_texts()
    assert cells[3] == f"{device[1]} (sshtun)", cells
    config = (bed.confdir / "pppossh").read_text()
    assert "option mode 'tun'" in config and f"option unit '{device[1][3:]}'" in config

    before = bed.peer_keys.read_text() if bed.peer_keys.exists() else None
    tab.click_and_wait("#pppossh-apply")
    shown = tab.text("#pppossh-add-out .pppossh-msg.danger")
    assert "need OpenSSH's sshd" in shown and shown.endswith("TUN_NEEDS_OPENSSH"), shown
    assert (bed.peer_keys.read_text() if bed.peer_keys.exists() else None) == before
    tab.click_and_wait('button[data-delete="branch-t"]')
    assert "branch-t" not in (bed.confdir / "pppossh").read_text()
    assert tab.luci_errors() == []


def test_peers_page_reports_a_broken_config(tab: Tab, bed: Bed) -> None:
    """A config the backend cannot read is reported, in words, not shown as 'no peers'."""
    config = bed.confdir / "pppossh"
    good = config.read_text()
    config.write_text("config server 'server\n")  # unterminated quote
    try:
        _open_peers(tab)
        shown = tab.text("#maincontent")
    finally:
        config.write_text(good)
    reply = bed.server.calls_of("peer_list")[-1]["reply"]
    assert reply[0] == 0 and reply[1]["error"] == "UCI_ERROR", reply
    assert "No peers yet" not in shown, shown
    assert "A configuration file on the router cannot be read" in shown, shown
    assert shown.endswith("UCI_ERROR"), shown
    assert reply[1]["message"] not in shown  # the backend's English stays out


# -- 7. what the real rpcd and uhttpd do to a call, and how the pages say it -------------------


def test_calls_reach_the_plugin_as_through_uhttpd(tab: Tab, bed: Bed) -> None:
    """golden 43/44: LuCI's queue posts JSON arrays to /ubus/; the plugin reads the args
    with ubus_rpc_session appended last (golden 10-12), in cwd / with rpcd's PATH only."""
    posts = len(bed.server.posts)
    calls = len(bed.server.calls)
    tab.open_protocol("vpn")
    tab.click_and_wait("#pppossh-fetch-vpn")
    new_posts = bed.server.posts[posts:]
    assert new_posts and all(p["path"].startswith("/ubus/?") for p in new_posts), new_posts
    frames = [f for p in new_posts for f in json.loads(p["body"])]
    assert all(isinstance(json.loads(p["body"]), list) for p in new_posts)
    session = bed.server.session
    for frame in frames:
        assert frame["jsonrpc"] == "2.0" and frame["method"] == "call"
        assert frame["params"][0] == session and frame["params"][1] == "pppossh"
        assert "ubus_rpc_session" not in frame["params"][3]
    for run in bed.server.calls[calls:]:
        message = json.loads(run["stdin"])
        assert list(message)[-1] == "ubus_rpc_session" and message["ubus_rpc_session"] == session
        assert run["stdin"] == luci_server.blobmsg_json(message)  # compact, as blobmsg prints
        assert run["reply"][0] == 0 and "error" not in run["reply"][1], run
    assert {r["method"] for r in bed.server.calls[calls:]} >= {"pubkey", "status",
                                                                "fetch_hostkey"}


def _fail_every_action(tab: Tab, section: str) -> dict[str, str]:
    """Click each button of the dialog; what each showed next to it."""
    shown = {}
    for button, area in (("keygen", "keygen-out"), ("fetch", "fetch-out"),
                         ("checkbtn", "check")):
        tab.click_and_wait(f"#pppossh-{button}-{section}", timeout=60_000)
        shown[button] = tab.message(f"pppossh-{area}-{section}")
    shown["status"] = tab.text(f"#pppossh-status-{section}")
    return shown


def test_a_silent_plugin_is_reported(tab: Tab, bed: Bed) -> None:
    """golden 31/33: no output gives [5]; every action says the backend gave no answer."""
    with bed.server.replaced("silent"):
        runs = len(bed.server.calls)
        tab.open_protocol("vpn")
        shown = _fail_every_action(tab, "vpn")
        assert {c["reply"][0] for c in bed.server.calls[runs:]} == {5}
    for action, text in shown.items():
        assert text.startswith("The pppossh backend gave no answer"), (action, text)
    assert tab.message("pppossh-keygen-out-vpn").endswith("(logread) says more.")
    assert tab.in_modal() and tab.behind() == 0


def test_a_plugin_printing_garbage_is_reported(tab: Tab, bed: Bed) -> None:
    """golden 32/34: output that is not a JSON object gives [2]."""
    for mode in ("garbage", "array"):
        with bed.server.replaced(mode):
            tab.open_protocol("vpn")
            shown = _fail_every_action(tab, "vpn")
        for action, text in shown.items():
            assert text.startswith("The pppossh backend gave an answer that is not JSON"), (
                mode, action, text)
        assert tab.behind() == 0


def test_a_plugin_killed_at_rpcds_timeout_is_reported(tab: Tab, bed: Bed) -> None:
    """golden 36: rpcd kills a plugin at its -t (30 s; 2 s here) and the page gets [5]."""
    with bed.server.replaced("slow", timeout=2):
        tab.open_protocol("vpn")
        started = time.monotonic()
        tab.click_and_wait("#pppossh-checkbtn-vpn")
        took = time.monotonic() - started
        shown = tab.message("pppossh-check-vpn")
    assert 2 <= took < 15, took
    assert shown.startswith("The pppossh backend gave no answer"), shown
    assert "30 seconds" in shown
    killed = [c for c in bed.server.calls_of("check") if c["killed"]]
    assert killed and killed[-1]["reply"] == [5]
    assert tab.behind() == 0


def test_a_call_luci_gives_up_on_is_reported(tab: Tab, bed: Bed) -> None:
    """LuCI's own rpc timeout (L.env.rpctimeout, 2 s here) fires before rpcd's kill."""
    with bed.server.replaced("slow", timeout=6):
        tab.open("/pages/protocol.html?section=vpn&rpctimeout=2")
        tab.click_and_wait("#pppossh-keygen-vpn")
        shown = tab.message("pppossh-keygen-out-vpn")
    assert shown == "The router did not answer within 2 seconds.", shown
    assert tab.behind() == 0


def test_access_denied_is_reported(tab: Tab, bed: Bed) -> None:
    """golden 23: a login whose ACL lacks the write grants gets -32002 Access denied for
    keygen, fetch_hostkey and check (not run), while status and pubkey (read) work."""
    runs = len(bed.server.calls)
    tab.open_protocol("vpn", session="readonly")
    shown = _fail_every_action(tab, "vpn")
    for action in ("keygen", "fetch", "checkbtn"):
        assert shown[action].startswith("Access denied: this login may not use pppossh"), (
            action, shown[action])
    assert shown["status"].startswith("State down"), shown["status"]
    assert {c["method"] for c in bed.server.calls[runs:]} <= {"status", "pubkey"}
    assert tab.in_modal() and tab.behind() == 0


def test_peers_page_failures_are_reported(tab: Tab, bed: Bed) -> None:
    _open_peers(tab, session="readonly")
    _add_peer(tab, "branch-9", _peer_key(bed, "branch-9"))
    assert tab.text("#pppossh-add-out").startswith("Access denied: this login may not use")
    tab.click_and_wait("#pppossh-apply")
    assert tab.text("#pppossh-add-out").startswith("Access denied")
    with bed.server.replaced("silent"):
        _open_peers(tab)
        assert tab.text("#pppossh-load-error").startswith("The pppossh backend gave no answer")
    with bed.server.replaced("garbage"):
        _open_peers(tab)
        assert "not JSON" in tab.text("#pppossh-load-error")
    assert "branch-9" not in (bed.confdir / "pppossh").read_text()


# -- 8. every string through _() ------------------------------------------------------------------


VALUE = r"^[\s✔✘–∗\-/:,.→+0-9]*$"  # marks, numbers, separators: no words


def _unmarked(tab: Tab, root: str) -> list[str]:
    """Text nodes under ``root`` that did not come through _() (with ?i18n=pseudo), other
    than values: <code>, text areas, list items the admin entered, marks and numbers."""
    return tab.page.evaluate(
        """([root, value]) => {
            const bad = [], re = new RegExp(value);
            document.querySelectorAll(root).forEach(top => {
                const walk = document.createTreeWalker(top, NodeFilter.SHOW_TEXT);
                for (let n; (n = walk.nextNode()); ) {
                    const t = n.textContent.trim(), p = n.parentElement;
                    if (!t || t.includes('\\u27e6') || re.test(t)) continue;
                    if (p.closest('code, textarea, .cbi-dynlist > .item')
                        || p.closest('#pppossh-peers td:not(:nth-child(5))'))
                        continue;
                    if (p.closest('h4') && /» \\w+$/.test(t)) continue;  // the dialog title
                    bad.push(t);
                }
            });
            return bad;
        }""",
        [root, VALUE],
    )


def test_every_visible_string_goes_through_translation(tab: Tab, bed: Bed) -> None:
    bed.ensure_key()
    bed.ensure_pinned()
    tab.open_protocol("vpn", i18n="pseudo")
    tab.click_and_wait("#pppossh-fetch-vpn")
    tab.click_and_wait("#pppossh-checkbtn-vpn")
    tab.click_and_wait("#pppossh-keygen-vpn")  # KEY_EXISTS: the question
    tab.tab("advanced")
    assert _unmarked(tab, MODAL) == []
    tab.tab("general")
    with bed.server.replaced("silent"):
        tab.click_and_wait("#pppossh-fetch-vpn")
        assert _unmarked(tab, MODAL) == []
    tab.open_protocol("vpn", i18n="pseudo", session="readonly")
    tab.click_and_wait("#pppossh-checkbtn-vpn")
    assert _unmarked(tab, MODAL) == []

    _open_peers(tab, i18n="pseudo")
    _add_peer(tab, "x;y", "nonsense")
    _add_peer(tab, "branch-7", _peer_key(bed, "branch-7"))
    tab.click_and_wait("#pppossh-apply")
    tab.click_and_wait('button[data-delete="branch-7"]')
    assert _unmarked(tab, "#view") == []
    assert tab.luci_errors() == []


# -- 9. Screenshots -------------------------------------------------------------------------------


def _save_screenshot(tab: Tab, name: str, *, docs: bool = True) -> Path:
    """docs/screenshots/NAME with a copy in tests/artifacts/ (docs=False: the artifact only).
    With the dialog open the window is made as tall as the dialog, as on a tall screen."""
    page = tab.page
    if tab.in_modal():
        height = page.evaluate(
            "Math.ceil(document.querySelector('#modal_overlay > .modal').getBoundingClientRect()"
            ".bottom + document.querySelector('#modal_overlay').scrollTop + 40)")
        page.set_viewport_size({"width": 1180, "height": max(900, height)})
        page.evaluate("document.querySelector('#modal_overlay').scrollTop = 0")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = (SCREENSHOTS if docs else ARTIFACTS) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=not tab.in_modal())
    if docs:
        shutil.copyfile(target, ARTIFACTS / name)
    page.set_viewport_size({"width": 1180, "height": 900})
    return target


def test_screenshots(tab: Tab, bed: Bed) -> None:
    bed.ensure_key()
    bed.unpin()
    tab.open_protocol("vpn")
    page = tab.page
    page.locator("#pppossh-pubkey-vpn textarea").wait_for()

    # fetch and pin the server key in the dialog, so its fingerprint is on screen
    tab.click_and_wait("#pppossh-fetch-vpn")
    _save_screenshot(tab, "luci-fetch-hostkey.png", docs=False)
    tab.click_and_wait("#pppossh-pin")
    assert tab.list_values("vpn", "hostkey") == [bed.host_key]
    general = page.locator(f'{MODAL} ul.cbi-tabmenu li[data-tab="general"]')
    assert general.get_attribute("class") == "cbi-tab"
    shot = _save_screenshot(tab, "luci-protocol.png")
    assert shot.stat().st_size > 10_000

    _open_peers(tab)
    page.wait_for_selector("#pppossh-peers")
    if page.locator('tr[data-peer="branch-1"]').count() == 0:
        _add_peer(tab, "branch-1", _peer_key(bed, "branch-1"))
    page.locator('tr[data-peer="branch-1"]').wait_for()
    tab.click_and_wait("#pppossh-apply")
    shot = _save_screenshot(tab, "luci-peers.png")
    assert shot.stat().st_size > 10_000
    assert tab.luci_errors() == []


# -- the ACL -----------------------------------------------------------------------------------


def test_plugin_refuses_what_the_acl_does_not_grant(bed: Bed) -> None:
    """The server enforces luci-app-pppossh's ACL: every method our pages call is granted;
    an unknown method or the null session is refused before the plugin runs."""
    acl = luci_server.Acl.load()
    called = set()
    for source in ("protocol/pppossh.js", "view/pppossh/peers.js"):
        text = (luci_server.HTDOCS / source).read_text()
        for chunk in text.split("rpc.declare(")[1:]:
            called.add(chunk.split("method: '")[1].split("'")[0])
    assert called <= acl.ubus["pppossh"], called - acl.ubus["pppossh"]
    assert called <= set(bed.server.signatures), called - set(bed.server.signatures)
    runs = len(bed.server.calls)
    for session, method in ((bed.server.session, "no_such_method"), ("0" * 32, "peer_list")):
        reply = bed.server.rpc({"jsonrpc": "2.0", "id": 1, "method": "call",
                                "params": [session, "pppossh", method, {}]})
        assert reply["error"] == {"code": -32002, "message": "Access denied"}
    assert len(bed.server.calls) == runs
    reply = bed.server.rpc({"jsonrpc": "2.0", "id": 2, "method": "call",
                            "params": [bed.server.session, "pppossh", "peer_list", {}]})
    assert reply["result"][0] == 0
