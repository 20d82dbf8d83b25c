"""The option table is the single source of truth (DESIGN.md "Compatibility promise").

Pins: every option OpenWrt's pppossh/ppp/netifd accept keeps its name, the new ones exist,
the typed Config mirrors the table, the CLI prints it, the blobmsg types agree with what the
golden capture declared (golden/netifd/11-manual-dump/dump-output.json), and the files made
from the table are committed up to date.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import MISSING, fields
from pathlib import Path

import pytest
from helpers import NETIFD

from pppossh import gen
from pppossh.config import BY_NAME, OPTIONS, Config
from pppossh.config.checks import Check
from pppossh.config.options import BLOBMSG_TYPE, table_json

UPSTREAM = {
    # OpenWrt's pppossh
    "server": "string", "port": "int", "sshuser": "string", "identity": "list",
    "ipaddr": "string", "peeraddr": "string", "ssh_options": "string",
    "peer_pppd_options": "string", "use_hostdep": "int",
    # OpenWrt's generic ppp
    "keepalive": "string", "mtu": "int", "ipv6": "string", "pppd_options": "string",
    "persist": "bool", "maxfail": "int", "holdoff": "int", "username": "string",
    "password": "string",
    # netifd's own interface options
    "defaultroute": "bool", "peerdns": "bool", "metric": "int",
}
NEW = {
    "ssh_client": "string", "hostkey": "list", "ssh_keepalive": "int",
    "remote_pppd": "string", "connect_timeout": "int", "route": "list",
}
PPPOSSH_BIN = Path(sys.executable).with_name("pppossh")


@pytest.mark.parametrize("name,kind", sorted({**UPSTREAM, **NEW}.items()))
def test_option_present_with_kind(name: str, kind: str) -> None:
    """Each upstream option keeps its name and type; each new one exists with its type."""
    assert name in BY_NAME, f"option {name} missing from the table"
    assert BY_NAME[name].kind == kind


def test_option_names_unique() -> None:
    """One row per option name."""
    names = [o.name for o in OPTIONS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_option_row_complete(option) -> None:
    """Every row has a type, a default, a callable check and a help sentence."""
    assert option.kind in BLOBMSG_TYPE
    assert isinstance(option.check, Check) and callable(option.check.fn)
    assert option.check.name and option.check.datatype
    assert option.help.strip().endswith(".")
    if option.required:
        assert option.default is None
    elif option.default is not None:
        expected = {"string": str, "int": int, "bool": bool, "list": list}[option.kind]
        assert isinstance(option.default, expected)
        if option.kind == "int":
            assert not isinstance(option.default, bool)
        if option.kind in ("int", "string") and option.default != "":
            assert option.check(option.default) == option.default


def test_required_options() -> None:
    """Only server and sshuser are required, as in OpenWrt's pppossh."""
    assert {o.name for o in OPTIONS if o.required} == {"server", "sshuser"}


def test_config_fields_equal_table() -> None:
    """Config's fields (besides iface and proto) are exactly the table's option names."""
    names = {f.name for f in fields(Config)} - {"iface", "proto"}
    assert names == {o.name for o in OPTIONS}


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.name)
def test_config_default_equals_table_default(option) -> None:
    """Config's field defaults are the table's defaults (lists become tuples)."""
    field = {f.name: f for f in fields(Config)}[option.name]
    if option.required:
        assert field.default is MISSING and field.default_factory is MISSING
        return
    default = field.default if field.default is not MISSING else field.default_factory()
    expected = tuple(option.default) if option.kind == "list" else option.default
    assert default == expected


def test_cli_options_json_prints_table() -> None:
    """`pppossh options --json` (the installed console script) prints the table."""
    out = subprocess.run(
        [str(PPPOSSH_BIN), "options", "--json"], capture_output=True, text=True, check=True,
        timeout=60,
    )
    printed = json.loads(out.stdout)
    assert printed == json.loads(json.dumps(table_json()))
    assert [row["name"] for row in printed] == [o.name for o in OPTIONS]
    for row in printed:
        option = BY_NAME[row["name"]]
        assert row["type"] == option.kind
        assert row["blobmsg"] == BLOBMSG_TYPE[option.kind]
        assert row["help"] == option.help


def test_blobmsg_types_constant() -> None:
    """netifd's blobmsg type numbers: array 1, string 3, int 5, bool 7."""
    assert BLOBMSG_TYPE == {"list": 1, "string": 3, "int": 5, "bool": 7}


def _golden_dump() -> dict:
    return json.loads((NETIFD / "11-manual-dump" / "dump-output.json").read_text())


def test_blobmsg_types_agree_with_golden_dump() -> None:
    """For each option the capture handler declared (golden/netifd/11-manual-dump), our
    declaration and blobmsg type are the same - except hostkey, a list here on purpose, and
    ipv6, a string here as in OpenWrt's ppp.sh, so that 'auto' reaches the helper (netifd
    drops a value a boolean cannot hold, golden 09)."""
    declared = {o.declaration: o.blobmsg_type for o in OPTIONS}
    golden = _golden_dump()["config"]
    assert golden, "golden dump has no config list"
    for name, blobmsg in golden:
        base = name.split(":", 1)[0]
        if base == "hostkey":
            assert BY_NAME["hostkey"].kind == "list" and blobmsg == 3
            continue
        if base == "ipv6":
            assert BY_NAME["ipv6"].kind == "string" and blobmsg == 7  # golden: bool
            continue
        assert name in declared, f"golden declares {name}, the table declares it differently"
        assert declared[name] == blobmsg, name


def test_list_declarations_carry_item_type() -> None:
    """List options are declared as 'name:list(string)', as upstream pppossh does."""
    for option in OPTIONS:
        if option.kind == "list":
            assert option.declaration == f"{option.name}:list(string)"
        else:
            assert option.declaration == option.name


def test_generated_files_up_to_date() -> None:
    """gen.outputs() equals the committed files (run `make generate` after editing the table)."""
    outputs = gen.outputs()
    assert outputs
    for path, text in outputs.items():
        assert path.exists(), f"{path} is not committed"
        assert path.read_text() == text, f"{path} is out of date; run make generate"


def test_help_texts_are_safe_as_html() -> None:
    """LuCI inserts option descriptions as HTML: '<word>' would vanish as an unknown tag."""
    for option in OPTIONS:
        assert not set("<>&") & set(option.help + option.title), option.name
