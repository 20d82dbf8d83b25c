"""Import guard of a router-like Python (tests/test_packaging.py), loaded at start-up by
``zz_openwrt_guard.pth`` in its site-packages (a ``.pth`` line runs even where the
distribution ships its own ``sitecustomize``, as Debian does).

This interpreter stands for a router with exactly the OpenWrt packages named in guard.json:
every module whose package (tests/openwrt_split.py) is not among them fails to import, as it
does there, and is written to the refusals file so that the test sees a refusal that the
code under test swallowed.  pppossh's own modules are not guarded: the installed trees hold
only what each package ships, so a module of a package that is not installed is missing.
"""

from __future__ import annotations

import json
import os
import sys

import openwrt_split

with open(os.path.join(os.path.dirname(__file__), "guard.json")) as _file:
    _CONF = json.load(_file)
ALLOWED = frozenset(_CONF["allowed"])
# what this (older) Python's own stdlib imports where the feed's 3.14 does not
HOST_ALLOWED = frozenset(_CONF.get("host_allowed", ()))
UNGUARDED = frozenset({"__main__", "sitecustomize", "openwrt_split", "openwrt_guard",
                       "pppossh"})


def _refuse(name: str, package: str | None, how: str) -> None:
    with open(_CONF["refusals"], "a") as out:
        out.write(f"{how} {name} {package or '-'}\n")


class Guard:
    """First finder on sys.meta_path: refuses, or lets the normal finders look."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        package = openwrt_split.package_of(name)
        top = name.partition(".")[0]
        if top in UNGUARDED or package in ALLOWED:
            return None
        if top in HOST_ALLOWED:
            _refuse(name, package, "host-allowed")
            return None
        _refuse(name, package, "refused")
        raise ModuleNotFoundError(
            f"No module named {name!r} (OpenWrt package {package or '(none)'} not installed)",
            name=name)


for _name in list(sys.modules):
    if (_name.partition(".")[0] not in UNGUARDED
            and openwrt_split.package_of(_name) not in ALLOWED):
        _refuse(_name, openwrt_split.package_of(_name), "preloaded")
sys.meta_path.insert(0, Guard)
# proof for the test that this process ran guarded
with open(_CONF["loaded"], "a") as _out:
    _out.write(f"{os.getpid()}\n")
