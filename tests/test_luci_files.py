"""The LuCI package's files agree with the option table and with rpcd/LuCI's formats.

The protocol form is generated from the table; this test reads the generated JavaScript
independently (each ``s.taboption(...)`` and the settings after it) so that a change to the
table, the template or the file alone fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pppossh.config.options import for_proto

LUCI = Path(__file__).resolve().parents[1] / "luci-app"
PROTOCOL = LUCI / "htdocs/luci-static/resources/protocol/pppossh.js"
SSHTUN = LUCI / "htdocs/luci-static/resources/protocol/sshtun.js"
FORM = LUCI / "htdocs/luci-static/resources/pppossh/form.js"  # what both forms share
PEERS = LUCI / "htdocs/luci-static/resources/view/pppossh/peers.js"
MESSAGES = LUCI / "htdocs/luci-static/resources/pppossh/messages.js"
WIDGET = {"string": "form.Value", "int": "form.Value", "bool": "form.Flag",
          "list": "form.DynamicList"}


def _options_in_js() -> dict[str, dict[str, str]]:
    """option name -> {tab, widget, title, datatype, placeholder, default, write, remove}
    from the JS."""
    text = PROTOCOL.read_text()
    found: dict[str, dict[str, str]] = {}
    blocks = re.split(r"\n\t\to = ", text)
    for block in blocks[1:]:
        m = re.match(r"s\.taboption\('(\w+)', (form\.\w+), '(\w+)', _\((\"[^\"]*\"|'[^']*')\)",
                     block)
        if not m:
            continue
        entry = {"tab": m.group(1), "widget": m.group(2), "title": json.loads(
            m.group(4)) if m.group(4).startswith('"') else m.group(4)[1:-1]}
        for key in ("datatype", "placeholder", "default"):
            v = re.search(r"\n\t\to\." + key + r""" = ("(?:[^"\\]|\\.)*"|'[^']*');""", block)
            if v:
                raw = v.group(1)
                entry[key] = json.loads(raw) if raw.startswith('"') else raw[1:-1]
        for key in ("write", "remove"):
            v = re.search(r"\n\t\to\." + key + r" = ([\w.]+);", block)
            if v:
                entry[key] = v.group(1)
        entry["required"] = "o.rmempty = false;" in block
        entry["password"] = "o.password = true;" in block
        found[m.group(3)] = entry
    return found


def _is_flag(o: object) -> bool:
    """A bool, or an int of 0/1 (use_hostdep): a checkbox writing '1'/'0'."""
    return o.kind == "bool" or (o.kind == "int" and o.check.datatype == "range(0,1)")


def test_protocol_form_has_every_option_of_the_table() -> None:
    js = _options_in_js()
    for o in for_proto("pppossh"):  # the sshtun form is its own file
        if o.origin == "netifd" and o.name != "peerdns":
            # LuCI's interface dialog draws defaultroute, dns and metric for every protocol
            assert o.name not in js, o.name
            continue
        if o.tab == "standalone":  # plain Linux only: netifd does its job on OpenWrt
            assert o.name not in js, o.name
            continue
        if o.name == "keepalive":
            assert js["_keepalive_failure"]["tab"] == js["_keepalive_interval"]["tab"] == o.tab
            continue
        entry = js[o.name]
        # peerdns: LuCI draws it only for its own protocols, on its advanced tab
        assert entry["tab"] == ("advanced" if o.origin == "netifd" else o.tab), o.name
        assert entry["title"] == o.title, o.name
        expected = WIDGET[o.kind]
        if _is_flag(o):
            expected = "form.Flag"
        elif o.choices:
            expected = "form.ListValue"
        assert entry["widget"] == expected, o.name
        if o.check.datatype not in ("string", "bool") and not _is_flag(o):
            assert entry.get("datatype") == o.check.datatype, o.name
        if _is_flag(o):
            assert entry["default"] == ("1" if o.default else "0"), o.name
            assert entry["remove"] == "pf.removeUnlessDefault", o.name
        elif o.choices:
            assert entry["default"] == o.default
            assert entry["write"] == "pf.writeUnlessDefault"
        elif o.default not in (None, "", []):
            assert entry["placeholder"] == str(o.default), o.name
        assert entry["required"] == o.required, o.name
        assert entry["password"] == o.secret, o.name


def test_nothing_in_the_form_writes_a_default_on_its_own() -> None:
    """Every option with a default either has a placeholder (an empty field writes
    nothing) or a write/remove that leaves an untouched default alone."""
    for name, entry in _options_in_js().items():
        if "default" in entry:
            assert entry.get("remove") == "pf.removeUnlessDefault" or entry.get(
                "write") == "pf.writeUnlessDefault", name


def test_pages_report_inside_the_page_and_word_codes_themselves() -> None:
    """No ui.addNotification (in LuCI's modal it lands behind the dialog); every message
    comes from pppossh/messages.js, which words codes; no backend 'message' is shown."""
    for source in (PROTOCOL, SSHTUN, FORM, PEERS, MESSAGES):
        text = source.read_text()
        assert "ui.addNotification(" not in text, source
        shown = re.findall(r"\b(\w+)\.message\b", text)
        assert set(shown) <= {"err"}, (source, shown)  # LuCI's RPCError text, parsed for codes
    for source in (PROTOCOL, SSHTUN, FORM):
        assert "'require pppossh.messages as msgs';" in source.read_text(), source
    assert "'require pppossh.messages as msgs';" in PEERS.read_text()
    assert "N_(res.peers, " in PEERS.read_text()  # a proper plural


def test_every_string_literal_shown_goes_through_translation() -> None:
    """Static check behind the browser's pseudo-translation test: a string literal put into
    E() children or returned as a message is an argument of _() or N_()."""
    untranslated = re.compile(r"(?:\[\s*|,\s*)'([A-Z][a-z]+ [a-z][^']*)'")
    for source in (PROTOCOL, SSHTUN, FORM, PEERS, MESSAGES):
        for line in source.read_text().splitlines():
            for found in untranslated.finditer(line):
                before = line[: found.start(1) - 1]
                assert before.rstrip().endswith(("_(", "N_(", ",")) and "_(" in before, (
                    source.name, line)


def test_datatypes_the_issue_names() -> None:
    js = _options_in_js()
    assert js["server"]["datatype"] == "host(0)"
    assert js["port"]["datatype"] == "port"
    assert js["ipaddr"]["datatype"] == 'ip4addr("nomask")'
    assert js["identity"]["datatype"] == "file"
    assert js["connect_timeout"]["datatype"].startswith("range(")


def test_protocol_registration_and_device_pattern() -> None:
    text = PROTOCOL.read_text()
    assert "network.registerProtocol('pppossh'," in text
    assert "'pppossh-%s'.format(this.sid)" in text
    assert "'require pppossh.form as pf';" in text
    for method in ("keygen", "pubkey", "fetch_hostkey", "pin_hostkey", "check", "status"):
        assert f"method: '{method}'" in FORM.read_text()
    tun = SSHTUN.read_text()
    assert "network.registerProtocol('sshtun'," in tun and "'require pppossh.form as pf';" in tun


def test_acl_menu_and_makefile() -> None:
    acl = json.loads((LUCI / "root/usr/share/rpcd/acl.d/luci-app-pppossh.json").read_text())
    grant = acl["luci-app-pppossh"]
    assert set(grant["read"]["uci"]) == set(grant["write"]["uci"]) == {"network", "pppossh"}
    assert set(grant) == {"description", "read", "write"}
    menu = json.loads((LUCI / "root/usr/share/luci/menu.d/luci-app-pppossh.json").read_text())
    entry = menu["admin/network/pppossh"]
    assert entry["action"] == {"type": "view", "path": "pppossh/peers"}
    # shown only where pppossh-server is installed: it ships /etc/config/pppossh with the
    # 'server' section (LuCI's dispatcher: a section of that type must exist)
    assert entry["depends"]["uci"] == {"pppossh": {"@server": True}}
    assert "config server 'server'" in (LUCI.parent / "files/etc/config/pppossh").read_text()
    assert (LUCI / "htdocs/luci-static/resources/view/pppossh/peers.js").exists()
    makefile = (LUCI / "Makefile").read_text()
    for needle in ("LUCI_TITLE:=", "LUCI_DEPENDS:=+pppossh", "LUCI_PKGARCH:=all",
                   "include $(TOPDIR)/feeds/luci/luci.mk", "luci-proto-pppossh"):
        assert needle in makefile


def test_every_server_refusal_has_words_on_the_peers_page() -> None:
    """The peers page shows no backend English: each code the server role can refuse with
    (peer_add, peer_del, peer_apply reach it) needs its sentence in messages.js."""
    package = Path(__file__).resolve().parents[1] / "pppossh"
    # admin/role.py: the answer of a router without the pppossh-server package
    codes = {code for path in [*package.glob("server/*.py"), package / "admin/role.py"]
             for code in re.findall(r'(?:ConfigError|PppsshError)\(\s*"([A-Z_]+)"',
                                    path.read_text())}
    assert "SERVER_NOT_INSTALLED" in codes
    # server-setup's own codes reach the command line only (there is no LuCI call for it)
    codes -= {"ACCOUNT_NOT_OURS", "INVALID_USER", "NOT_ROOT"}
    worded = set(re.findall(r"^\t([A-Z_]+): function", MESSAGES.read_text(), re.M))
    assert codes and not codes - worded, sorted(codes - worded)


def test_every_check_step_and_tunnel_code_has_words() -> None:
    """Both protocols' check steps have a title and a 'passed' sentence, and every code a
    tun or tap link can end with (outcome) or a check of one can fail with has its sentence
    and its fix: the status and the check show no backend English."""
    from pppossh.admin.check import STEPS, TUN_STEPS

    text = MESSAGES.read_text()
    for table in ("STEPS", "PASSED"):
        body = text.split(f"var {table} = {{", 1)[1].split("\n};", 1)[0]
        named = set(re.findall(r"^\t([a-z_]+): function", body, re.M))
        assert set(STEPS) | set(TUN_STEPS) <= named, (table, set(TUN_STEPS) - named)
    package = Path(__file__).resolve().parents[1] / "pppossh"
    source = (package / "run/outcome.py").read_text() + (package / "admin/check.py").read_text()
    codes = set(re.findall(r'"(TUNNEL_[A-Z_]+|NO_LOCAL_TUN|TUN_DEVICE_DENIED|'
                           r'REMOTE_NOT_PPPOSSH)"', source))
    assert {"TUNNEL_BUSY", "TUNNEL_NO_DEVICE", "TUNNEL_UNIT", "REMOTE_NOT_PPPOSSH"} <= codes
    errors = text.split("var ERRORS = {", 1)[1].split("\n};", 1)[0]
    fixes = text.split("var FIXES = {", 1)[1].split("\n};", 1)[0]
    for table, body in (("ERRORS", errors), ("FIXES", fixes)):
        worded = set(re.findall(r"^\t([A-Z_]+): function", body, re.M))
        missing = codes - worded - ({"TUNNEL_REFUSED", "TUNNEL_NOT_READY"}
                                    if table == "FIXES" else set())
        assert not missing, (table, sorted(missing))
