"""Every router-side entry point, run from the installed packages with exactly their DEPENDS.

``make stage`` runs the recipe's own install steps (Makefile) into a staging directory.
Each test installs a package set into the site-packages of a fresh virtual environment, the
way opkg lays the files out on a router, and that interpreter carries an import guard
(tests/router_python/openwrt_guard.py): a module whose OpenWrt package is outside the closure
of the recipe's DEPENDS (tests/openwrt_split.py, python3 feed at 0521bb56) fails to import,
as on the router.  The modules run byte-compiled only, as installed.

Refusals the code handles on purpose are listed in BENIGN with the reason; any other refusal,
a traceback, or a wrong exit status fails.  Doubles on PATH: the uci program
(tests/doubles/uci) and the ubus program (tests/netifd/ubus), both run by the build
machine's own Python, not the guarded one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import pytest
from helpers import REPO, dropbear_on_localhost, free_port, parse_ubus_log
from openwrt_split import installed_with, package_of, recipe_depends

MAKEFILE = REPO / "Makefile"
OWN_PACKAGES = ("pppossh", "pppossh-server")
BUSYBOX = "/bin/busybox"

# module -> why its absence is expected and handled
BENIGN = {
    "euci": "pyuci (python3-pyuci) is optional: without it UCI is read through the uci program",
    "ubus": "the ubus binding (python3-ubus) is optional: without it the ubus program is used",
    "_hashlib": "hashlib falls back to its built-in hashes without python3-openssl",
    "lzma": "shutil imports lzma only if it can (python3-lzma)",
    "apport_python_hook": "Debian's own sitecustomize looks for apport (not on a router)",
}
if sys.version_info < (3, 13):
    BENIGN["org"] = "copy of Python < 3.13 looks for Jython's org.python.core"
# The stdlib of the Python running the tests, where it imports more than the feed's 3.14:
# allowed, and logged as host-allowed.  Only Python < 3.13: its pathlib imports urllib.parse
# at import time (3.13 moved that into Path.as_uri).  pppossh's own imports are checked for
# these modules without any exception by test_no_module_of_ours_imports_a_host_allowed_one.
HOST_ALLOWED = {"urllib"} if sys.version_info < (3, 13) else set()

needs_tools = pytest.mark.skipif(
    not (shutil.which("dropbear") and shutil.which("dropbearkey") and os.access(BUSYBOX, os.X_OK)),
    reason="needs dropbear-bin and busybox-static")


def depends_closure(package: str) -> set[str]:
    """The feed packages a package of ours pulls in, through our own packages too."""
    return installed_with({p: MAKEFILE for p in OWN_PACKAGES}, package)[1]


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The recipe's install steps, run by `make stage`."""
    out = tmp_path_factory.mktemp("stage")
    done = subprocess.run(["make", "-s", "stage", f"STAGE={out}", f"STAGE_PYTHON={sys.executable}"],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return out


@dataclass
class RouterPython:
    """A Python with exactly some OpenWrt packages installed, and a PATH of doubles."""

    root: Path
    python: Path
    site: Path
    bin: Path
    refusals: Path
    allowed: set[str]

    def env(self, **extra: str) -> dict[str, str]:
        return {"PATH": f"{self.bin}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.root),
                "PPPOSSH_NO_SYSLOG": "1", **extra}

    def run(self, *argv: str, stdin: str | None = None, **extra: str
            ) -> subprocess.CompletedProcess[str]:
        before = self.guarded_starts()
        result = subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                                timeout=60, check=False, env=self.env(**extra), cwd="/")
        assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
        assert self.guarded_starts() > before, f"no guarded Python ran for {argv}"
        return result

    def guarded_starts(self) -> int:
        """How many Python processes of this router started with the guard in place."""
        loaded = self.root / "loaded"
        return len(loaded.read_text().splitlines()) if loaded.exists() else 0

    def refused(self) -> dict[str, str]:
        """module -> how (refused/preloaded) for every guarded import so far."""
        if not self.refusals.exists():
            return {}
        return {line.split()[1]: line.split()[0] for line in self.refusals.read_text().splitlines()}

    def unexpected_refusals(self) -> dict[str, str]:
        return {m: how for m, how in self.refused().items()
                if m.partition(".")[0] not in BENIGN and how != "host-allowed"}


def make_router_python(root: Path, stage: Path, packages: tuple[str, ...]) -> RouterPython:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True,
                   timeout=120)
    python = root / "bin" / "python3"
    site = Path(subprocess.run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60).stdout.strip())
    bindir = root / "router-bin"
    bindir.mkdir()
    allowed: set[str] = set()
    for package in packages:
        tree = stage / package
        shutil.copytree(tree / "usr/lib/python3/site-packages", site, dirs_exist_ok=True)
        for program in ("usr/bin/pppossh", "usr/libexec/rpcd/pppossh"):
            if (tree / program).exists():
                # the feed's FixShebang points scripts at /usr/bin/python3: here, at this one
                text = (tree / program).read_text().split("\n", 1)[1]
                target = bindir / ("rpcd-pppossh" if "rpcd" in program else "pppossh")
                target.write_text(f"#!{python}\n{text}")
                target.chmod(0o755)
        allowed |= depends_closure(package)
    if "python3-jinja2" in allowed:  # as opkg would install them
        for name in ("jinja2", "markupsafe"):
            spec = find_spec(name)
            assert spec and spec.submodule_search_locations
            (site / name).symlink_to(next(iter(spec.submodule_search_locations)))
    shutil.copy(REPO / "tests/router_python/openwrt_guard.py", site / "openwrt_guard.py")
    (site / "zz_openwrt_guard.pth").write_text("import openwrt_guard\n")
    shutil.copy(REPO / "tests/openwrt_split.py", site / "openwrt_split.py")
    refusals = root / "refusals.txt"
    (site / "guard.json").write_text(json.dumps({
        "allowed": sorted(allowed), "refusals": str(refusals), "loaded": str(root / "loaded"),
        "host_allowed": sorted(HOST_ALLOWED)}))
    (bindir / "uci").write_text(f'#!/bin/sh\nexec {sys.executable} {REPO}/tests/doubles/uci "$@"\n')
    (bindir / "uci").chmod(0o755)
    shutil.copy(REPO / "tests/netifd/ubus", bindir / "ubus")
    (bindir / "ubus.log-path").write_text(f"{root / 'ubus.log'}\n")
    return RouterPython(root, python, site, bindir, refusals, allowed)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """A dropbear on 127.0.0.1: (port, host key line)."""
    with dropbear_on_localhost(tmp_path_factory.mktemp("dropbear")) as found:
        yield found


NETWORK = """config interface 'loopback'
\toption device 'lo'
\toption proto 'static'

config interface 'vpn'
\toption proto 'pppossh'
\toption server '127.0.0.1'
\toption port '{port}'
\toption sshuser 'vpn'
\toption ssh_client 'dbclient'
\toption connect_timeout '5'

config interface 'byname'
\toption proto 'pppossh'
\toption server 'localhost'
\toption port '{closed}'
\toption sshuser 'vpn'
\toption connect_timeout '5'
\tlist hostkey '{hostkey}'

config interface 'rpcd'
\toption proto 'pppossh'
\toption server '127.0.0.1'
\toption sshuser 'vpn'
"""


@dataclass
class Router:
    py: RouterPython
    confdir: Path
    rundir: Path
    keydir: Path

    def dirs(self) -> dict[str, str]:
        return {"PPPOSSH_CONFDIR": str(self.confdir), "PPPOSSH_RUNDIR": str(self.rundir),
                "PPPOSSH_KEYDIR": str(self.keydir)}

    def pppossh(self, *argv: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return self.py.run(str(self.py.bin / "pppossh"), *argv, **self.dirs(), **extra)

    def key(self, iface: str) -> Path:
        """The interface's own key, made by `pppossh keygen` the first time."""
        path = self.keydir / iface
        if not path.exists():
            out = self.pppossh("keygen", iface)
            assert out.returncode == 0, out.stderr
        return path

    def rpcd(self, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.py.run(str(self.py.bin / "rpcd-pppossh"), *argv, stdin=stdin, **self.dirs())


def make_router(tmp: Path, stage: Path, packages: tuple[str, ...], port: int, hostkey: str
                ) -> Router:
    py = make_router_python(tmp / "python", stage, packages)
    confdir = tmp / "config"
    confdir.mkdir()
    (confdir / "network").write_text(NETWORK.format(port=port, closed=free_port(),
                                                    hostkey=hostkey))
    if (stage / "pppossh-server").exists() and "pppossh-server" in packages:
        shutil.copy(stage / "pppossh-server/etc/config/pppossh", confdir / "pppossh")
        with (confdir / "pppossh").open("a") as out:
            out.write(f"\toption authorized_keys '{tmp / 'authorized_keys'}'\n")
    return Router(py, confdir, tmp / "run", tmp / "keys")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, stage: Path, server: tuple[int, str]
           ) -> Router:
    """A router with the client package `pppossh` only."""
    return make_router(tmp_path_factory.mktemp("client"), stage, ("pppossh",), *server)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, stage: Path, server: tuple[int, str]
         ) -> Router:
    """A server with `pppossh` and `pppossh-server`."""
    return make_router(tmp_path_factory.mktemp("server"), stage, OWN_PACKAGES, *server)


# --- the recipe and the table --------------------------------------------------------------


def test_recipe_follows_the_feed_rules() -> None:
    """PYTHON3_PKG_BUILD:=0 before python3-package.mk (or it installs a wheel that was never
    built), PKGARCH all, conffiles, and the client's DEPENDS without jinja2 or logging."""
    text = MAKEFILE.read_text()
    assert text.index("PYTHON3_PKG_BUILD:=0") < text.index("python3-package.mk\n")
    assert text.count("PKGARCH:=all") >= 1 and "$(call Package/pppossh/Default)" in text
    assert "define Package/pppossh/conffiles" in text
    assert "define Package/pppossh-server/conffiles\n/etc/config/pppossh" in text
    client = depends_closure("pppossh")
    assert client == {"libpython3", "python3-base", "python3-light"}, client
    assert "+resolveip" in recipe_depends(MAKEFILE, "pppossh")
    assert {"python3-jinja2", "python3-markupsafe"} <= depends_closure("pppossh-server")
    luci = recipe_depends(REPO / "luci-app/Makefile", "luci-app-pppossh")
    assert "+pppossh" in luci and "+pppossh-server" not in luci


def test_table_places_the_modules_the_issue_named() -> None:
    assert package_of("unicodedata") == "python3-codecs"
    assert package_of("encodings.idna") == "python3-base"
    assert package_of("stringprep") == "python3-light"
    assert package_of("logging.handlers") == "python3-logging"
    assert package_of("jinja2.ext") == "python3-jinja2"
    assert package_of("socket") == "python3-light" and package_of("sys") == "libpython3"
    assert package_of("euci") is None


def test_stage_installs_bytecode_only_and_every_module_once(stage: Path) -> None:
    """Each source module of pppossh/ is installed as .pyc by exactly one package (gen.py and
    the templates of generated files are for developers), and no .py is installed."""
    installed: dict[str, str] = {}
    for package in OWN_PACKAGES:
        site = stage / package / "usr/lib/python3/site-packages"
        assert not list(site.rglob("*.py")), package
        assert not list(site.rglob("__pycache__")), package
        for pyc in site.rglob("*.pyc"):
            name = str(pyc.relative_to(site).with_suffix(".py"))
            assert name not in installed, (name, installed.get(name), package)
            installed[name] = package
    sources = {str(p.relative_to(REPO)) for p in (REPO / "pppossh").rglob("*.py")}
    assert sources - set(installed) == {"pppossh/gen.py"}
    assert {n for n, p in installed.items() if p == "pppossh-server"} == {
        n for n in sources if n.startswith(("pppossh/server/", "pppossh/templates/"))}
    keys = stage / "pppossh/etc/pppossh/keys"
    assert keys.is_dir() and keys.stat().st_mode & 0o777 == 0o700


def test_no_module_of_ours_imports_a_host_allowed_one() -> None:
    """What HOST_ALLOWED lets through for the host's stdlib is never imported by pppossh's
    client modules themselves (checked in the source, every import statement)."""
    import ast

    for path in (REPO / "pppossh").rglob("*.py"):
        if path.parts[-2] in ("server", "templates") or path.name == "gen.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            for name in names:
                assert package_of(name) in (None, "libpython3", "python3-base",
                                            "python3-light") or name in BENIGN, (path, name)


@needs_tools
def test_guard_refuses_what_the_router_lacks(client: Router) -> None:
    """The guard does its job (or every other test here proves nothing): without
    python3-codecs a text host name cannot go through the idna codec, and jinja2 is absent."""
    code = ("import socket\ntry:\n socket.getaddrinfo('localhost', None)\n"
            "except LookupError as e:\n print('lookup', e)\n"
            "try:\n import jinja2\nexcept ImportError as e:\n print('import', e.name)\n")
    out = subprocess.run([str(client.py.python), "-I", "-c", code], capture_output=True,
                         text=True, timeout=60, check=False, env=client.py.env())
    assert "lookup unknown encoding: idna" in out.stdout, out.stdout + out.stderr
    assert "import jinja2" in out.stdout
    refused = client.py.refused()
    assert {"unicodedata", "jinja2"} <= set(refused), refused
    client.py.refusals.unlink()


# --- the client package alone --------------------------------------------------------------


@needs_tools
def test_client_entry_points(client: Router, server: tuple[int, str]) -> None:
    """options, keygen, pubkey, trust, plan, check (address and host name) and status, each
    from the installed client package alone (the back-off wait is a shell script)."""
    _port, hostkey = server
    out = client.pppossh("options")
    assert out.returncode == 0 and "server" in out.stdout
    client.key("vpn")
    out = client.pppossh("pubkey", "vpn")
    assert out.returncode == 0 and out.stdout.startswith("ssh-ed25519 "), out.stderr
    out = client.pppossh("trust", "vpn", "--yes")
    assert out.returncode == 0, out.stderr
    assert hostkey.split()[1] in (client.confdir / "network").read_text()
    out = client.pppossh("plan", "vpn", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["host_keys"] == [hostkey]
    # the router's key is not authorized on this dropbear: check gets as far as the login
    out = client.pppossh("check", "vpn", "--json")
    steps = {s["name"]: s for s in json.loads(out.stdout)["steps"]}
    assert out.returncode == 1 and steps["tcp"]["ok"] and steps["hostkey"]["ok"], out.stdout
    assert not steps["auth"]["ok"], out.stdout
    # a host name, resolved without python3-codecs; nothing listens on its port
    client.key("byname")
    out = client.pppossh("check", "byname", "--json")
    steps = {s["name"]: s for s in json.loads(out.stdout)["steps"]}
    assert steps["resolve"]["ok"], out.stdout
    assert steps["tcp"]["code"] == "TCP_REFUSED", out.stdout
    out = client.pppossh("status")
    assert out.returncode == 0 and "backends: uci=cli ubus=cli" in out.stdout, out.stdout
    assert client.py.unexpected_refusals() == {}


@needs_tools
def test_client_has_no_server_role(client: Router) -> None:
    """peer and server-setup say which package to install, and nothing runs."""
    for argv in (("peer", "list"), ("peer", "add", "r1", "--key", "ssh-ed25519 AAAA"),
                 ("server-setup", "--print")):
        out = client.pppossh(*argv)
        assert out.returncode == 2, (argv, out.stderr)
        assert "SERVER_NOT_INSTALLED" in out.stderr and "pppossh-server" in out.stderr
    assert not (client.confdir / "pppossh").exists()
    assert client.py.unexpected_refusals() == {}


@needs_tools
def test_netifd_setup_and_teardown_through_the_hook(client: Router, stage: Path,
                                                    tmp_path: Path) -> None:
    """The installed hook under busybox, as netifd calls it (tests/test_hook_contract.py):
    an address and a host name as server; host dependency then the pppd command."""
    lib = tmp_path / "lib/netifd"
    (lib / "proto").mkdir(parents=True)
    shutil.copy(REPO / "tests/netifd/netifd-proto.sh", lib / "netifd-proto.sh")
    shutil.copy(stage / "pppossh/lib/netifd/proto/pppossh.sh", lib / "proto")
    log = client.py.root / "ubus.log"
    keys = [str(client.key("vpn"))]
    hostkey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7fQ0Il6YEGz5nMpnZpB1wq2JwqHmSjw8sj7rIUJyuh"
    for server, address in (("127.0.0.1", "127.0.0.1"), ("localhost", None)):
        log.unlink(missing_ok=True)
        config = json.dumps({"server": server, "port": 2222, "sshuser": "vpn",
                             "identity": keys, "hostkey": [hostkey],
                             "ssh_client": "dbclient"}, separators=(",", ":"))
        for action in ("setup", "teardown"):
            before = client.py.guarded_starts()
            out = subprocess.run([BUSYBOX, "sh", "./pppossh.sh", "pppossh", action, "vpn",
                                  config], cwd=lib / "proto", capture_output=True, text=True,
                                 timeout=60, check=False,
                                 env=client.py.env(PPPOSSH_RUNDIR=str(client.rundir)))
            assert out.returncode == 0, out.stderr
            assert "Traceback" not in out.stdout + out.stderr
            assert client.py.guarded_starts() > before
        messages = [json.loads(argv[-1]) for argv in parse_ubus_log(log.read_text())
                    if "notify_proto" in argv]
        actions = [m["action"] for m in messages]
        assert actions[:2] == [6, 1], messages
        assert messages[0]["host"] in ((address,) if address else ("127.0.0.1", "::1"))
        assert "HELPER_FAILED" not in json.dumps(messages)
    assert client.py.unexpected_refusals() == {}


@needs_tools
def test_ppp_hooks(client: Router, tmp_path: Path) -> None:
    """ip-up and ip-down as pppd runs them, with the installed helper behind them."""
    hooks = client.py.site / "pppossh" / "ppp"
    state = client.rundir / "hooked"
    (tmp_path / "ppp").mkdir()  # no /etc/ppp/<event>.d scripts of the build machine
    env = {"PPPOSSH_PYTHON": str(client.py.python), "PPPOSSH_RUNDIR": str(state),
           "PPPOSSH_UBUS": "cli", "PPPOSSH_PPP_DIR": str(tmp_path / "ppp"),
           "IFNAME": "pppossh-vpn", "IPLOCAL": "10.99.0.1", "IPREMOTE": "10.99.0.2",
           "DNS1": "192.0.2.53"}
    args = ["pppossh-vpn", "/dev/pts/3", "0", "10.99.0.1", "10.99.0.2", "vpn"]
    for mode in ("netifd", "standalone"):
        seed = (f"import sys; sys.path[:0] = [{str(client.py.site)!r}]\n"
                "from pppossh.run.state import State\n"
                f"State({str(state)!r}, 'vpn').update(mode={mode!r}, phase='connecting',"
                " transport='dbclient', server='192.0.2.2', routes=[])\n")
        client.py.run(str(client.py.python), "-I", "-c", seed)
        # under netifd the hooks are shell alone: what setup wrote, and netifd-proto.sh
        (state / "vpn" / "netifd-update").write_text("transport dbclient\nserver 192.0.2.2\n")
        mode_env = ({"PPPOSSH_MODE": "netifd", "NETIFD_MAIN_DIR": str(REPO / "tests/netifd")}
                    if mode == "netifd" else {})
        for event, link_up in (("ip-up", True), ("ip-down", False)):
            if mode == "netifd":  # and no Python starts
                before = client.py.guarded_starts()
                out = subprocess.run([str(hooks / event), *args], capture_output=True,
                                     text=True, timeout=60, check=False,
                                     env=client.py.env(**env, **mode_env), cwd="/")
                assert client.py.guarded_starts() == before
            else:
                out = client.py.run(str(hooks / event), *args, **env)
            assert out.returncode == 0, out.stderr
            if mode == "netifd":
                message = json.loads(
                    parse_ubus_log((client.py.root / "ubus.log").read_text())[-1][-1])
                assert message["link-up"] is link_up, message
                events = (state / "vpn" / "link-events").read_text().splitlines()
                assert events[-1].startswith(event + " "), events
            elif event == "ip-up":  # standalone: the peer's DNS in pppossh's resolv file
                assert "nameserver 192.0.2.53" in (state / "resolv.conf.vpn").read_text()
    assert client.py.unexpected_refusals() == {}


@needs_tools
def test_rpcd_plugin_on_a_client(client: Router) -> None:
    """list, then calls as rpcd makes them; the peers calls answer SERVER_NOT_INSTALLED."""
    out = client.rpcd("list")
    assert out.returncode == 0 and "peer_list" in json.loads(out.stdout)
    for method, args, key in (("status", {"interface": "vpn"}, "up"),
                              ("keygen", {"interface": "rpcd"}, "public"),
                              ("pubkey", {"interface": "rpcd"}, "public"),
                              ("fetch_hostkey", {"interface": "vpn"}, "fingerprint"),
                              ("check", {"interface": "vpn", "start": True}, "running")):
        out = client.rpcd("call", method, stdin=json.dumps(args))
        reply = json.loads(out.stdout)
        assert key in reply, (method, reply)
    out = client.rpcd("call", "peer_list", stdin="{}")
    assert json.loads(out.stdout)["error"] == "SERVER_NOT_INSTALLED"
    # the background check runs with the same Python, under the same guard, to its end
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = json.loads(client.rpcd("call", "check", stdin='{"interface": "vpn"}').stdout)
        if not reply.get("running"):
            break
        time.sleep(0.3)
    assert reply.get("running") is False, reply
    assert [s["name"] for s in reply["steps"]][:3] == ["config", "resolve", "tcp"], reply
    assert client.py.unexpected_refusals() == {}


# --- the server package --------------------------------------------------------------------


@needs_tools
def test_server_entry_points(both: Router) -> None:
    """peer add/list/apply/del and server-setup --print with pppossh-server installed, and the
    rpcd plugin's peers calls."""
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7fQ0Il6YEGz5nMpnZpB1wq2JwqHmSjw8sj7rIUJyuh"
    out = both.pppossh("peer", "add", "r1", "--key", key)
    assert out.returncode == 0, out.stderr
    out = both.pppossh("peer", "list", "--json")
    assert [p["name"] for p in json.loads(out.stdout)["peers"]] == ["r1"], out.stdout
    out = both.pppossh("peer", "apply")
    assert out.returncode == 0, out.stderr
    assert key in (both.confdir.parent / "authorized_keys").read_text()
    out = both.pppossh("server-setup", "--print")
    assert out.returncode == 0 and out.stdout.startswith("#!/bin/sh"), out.stderr
    reply = json.loads(both.rpcd("call", "peer_list", stdin="{}").stdout)
    assert [p["name"] for p in reply["peers"]] == ["r1"], reply
    out = both.pppossh("peer", "del", "r1")
    assert out.returncode == 0, out.stderr
    assert both.py.unexpected_refusals() == {}
    assert "jinja2" not in both.py.refused()
