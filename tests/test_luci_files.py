"""The LuCI package's files agree with the option table and with rpcd/LuCI's formats.

The protocol form is generated from the table; this test reads the generated JavaScript
independently (each ``s.taboption(...)`` and the settings after it) so that a change to the
table, the template or the file alone fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pppossh.config.options import OPTIONS

LUCI = Path(__file__).resolve().parents[1] / "luci-app"
PROTOCOL = LUCI / "htdocs/luci-static/resources/protocol/pppossh.js"
WIDGET = {"string": "form.Value", "int": "form.Value", "bool": "form.Flag",
          "list": "form.DynamicList"}


def _options_in_js() -> dict[str, dict[str, str]]:
    """option name -> {tab, widget, title, datatype, placeholder, default} from the JS."""
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
        entry["required"] = "o.rmempty = false;" in block
        entry["password"] = "o.password = true;" in block
        found[m.group(3)] = entry
    return found


def test_protocol_form_has_every_option_of_the_table() -> None:
    js = _options_in_js()
    for o in OPTIONS:
        if o.origin == "netifd":
            # LuCI's interface dialog has defaultroute/peerdns/metric for every protocol
            assert o.name not in js, o.name
            continue
        if o.name == "keepalive":
            assert js["_keepalive_failure"]["tab"] == js["_keepalive_interval"]["tab"] == o.tab
            continue
        entry = js[o.name]
        assert entry["tab"] == o.tab, o.name
        assert entry["title"] == o.title, o.name
        expected = "form.ListValue" if o.name == "ssh_client" else WIDGET[o.kind]
        assert entry["widget"] == expected, o.name
        if o.check.datatype not in ("string", "bool"):
            assert entry.get("datatype") == o.check.datatype, o.name
        if o.kind == "bool":
            assert entry["default"] == ("1" if o.default else "0"), o.name
        elif o.name == "ssh_client":
            assert entry["default"] == o.default
        elif o.default not in (None, "", []):
            assert entry["placeholder"] == str(o.default), o.name
        assert entry["required"] == o.required, o.name
        assert entry["password"] == o.secret, o.name


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
    for method in ("keygen", "pubkey", "fetch_hostkey", "pin_hostkey", "check", "status"):
        assert f"method: '{method}'" in text


def test_acl_menu_and_makefile() -> None:
    acl = json.loads((LUCI / "root/usr/share/rpcd/acl.d/luci-app-pppossh.json").read_text())
    grant = acl["luci-app-pppossh"]
    assert set(grant["read"]["uci"]) == set(grant["write"]["uci"]) == {"network", "pppossh"}
    assert set(grant) == {"description", "read", "write"}
    menu = json.loads((LUCI / "root/usr/share/luci/menu.d/luci-app-pppossh.json").read_text())
    entry = menu["admin/network/pppossh"]
    assert entry["action"] == {"type": "view", "path": "pppossh/peers"}
    assert (LUCI / "htdocs/luci-static/resources/view/pppossh/peers.js").exists()
    makefile = (LUCI / "Makefile").read_text()
    for needle in ("LUCI_TITLE:=", "LUCI_DEPENDS:=+pppossh", "LUCI_PKGARCH:=all",
                   "include ../../luci.mk", "luci-proto-pppossh"):
        assert needle in makefile
