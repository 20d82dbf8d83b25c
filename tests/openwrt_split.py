"""Which OpenWrt package ships which Python module, and what each package depends on.

Facts of the python3 feed at openwrt/packages 0521bb56 (Python 3.14.5), as recorded in
``../shared/golden/openwrt-python3/README.md`` (copied to ``tests/golden/openwrt-python3/``):
the feed's ``lang/python/python3/files/python3-package-*.mk``, the python3 Makefile's
python3-light filespec, and the jinja2 and markupsafe recipes.  The import guard of
``tests/test_packaging.py`` and the footprint figures of ``bench/footprint.py`` both read
this table, so a router without a package looks the same to both.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the import guard loads this module: only python3-base and builtins here
    from pathlib import Path

FEED = "openwrt/packages"
FEED_COMMIT = "0521bb56"
FEED_PYTHON = "3.14.5"

# DEPENDS between the Python packages of the feed (other libraries left out: they carry no
# Python module).  python3-light's own libraries (libbz2, zlib, libzstd) are C libraries.
FEED_DEPENDS: dict[str, tuple[str, ...]] = {
    "libpython3": (),
    "python3-base": ("libpython3",),
    "python3-light": ("python3-base",),
    "python3-logging": ("python3-light",),
    "python3-urllib": ("python3-light",),
    "python3-codecs": ("python3-light",),
    "python3-openssl": ("python3-light",),
    "python3-ctypes": ("python3-light",),
    "python3-decimal": ("python3-light",),
    "python3-multiprocessing": ("python3-light",),
    "python3-asyncio": ("python3-light",),
    "python3-xml": ("python3-light", "python3-urllib"),
    "python3-unittest": ("python3-light",),
    "python3-pydoc": ("python3-light",),
    "python3-sqlite3": ("python3-light",),
    "python3-lzma": ("python3-light",),
    "python3-readline": ("python3-light",),
    "python3-ncurses": ("python3-light",),
    "python3-dbm": ("python3-light",),
    "python3-uuid": ("python3-light",),
    "python3-markupsafe": ("python3-light",),
    "python3-jinja2": ("python3-light", "python3-asyncio", "python3-logging", "python3-urllib",
                       "python3-markupsafe"),
}

# top-level module -> package, for everything that is not in python3-light
BASE = {"encodings", "codecs", "io", "os", "posixpath", "genericpath", "stat", "abc", "site",
        "sysconfig", "_collections_abc", "_weakrefset", "_sitebuiltins"}
SPLIT: dict[str, str] = {
    "logging": "python3-logging",
    "email": "python3-urllib", "urllib": "python3-urllib",
    "unicodedata": "python3-codecs",
    **{f"_codecs_{x}": "python3-codecs" for x in ("cn", "hk", "iso2022", "jp", "kr", "tw")},
    "_hashlib": "python3-openssl", "_ssl": "python3-openssl",
    "ctypes": "python3-ctypes", "_ctypes": "python3-ctypes",
    "decimal": "python3-decimal", "_decimal": "python3-decimal",
    "multiprocessing": "python3-multiprocessing", "_multiprocessing": "python3-multiprocessing",
    "asyncio": "python3-asyncio",
    "xml": "python3-xml", "xmlrpc": "python3-xml", "_elementtree": "python3-xml",
    "pyexpat": "python3-xml",
    "unittest": "python3-unittest",
    "pydoc": "python3-pydoc", "doctest": "python3-pydoc", "pydoc_data": "python3-pydoc",
    "sqlite3": "python3-sqlite3", "_sqlite3": "python3-sqlite3",
    "lzma": "python3-lzma", "_lzma": "python3-lzma",
    "readline": "python3-readline",
    "curses": "python3-ncurses", "_curses": "python3-ncurses",
    "_curses_panel": "python3-ncurses",
    "dbm": "python3-dbm", "_dbm": "python3-dbm", "_gdbm": "python3-dbm",
    "uuid": "python3-uuid", "_uuid": "python3-uuid",
    "venv": "python3-venv", "ensurepip": "python3-venv",
    "jinja2": "python3-jinja2",
    "markupsafe": "python3-markupsafe",
}
# not shipped by any package of the feed
DROPPED = {"idlelib", "tkinter", "turtledemo", "webbrowser", "_osx_support", "_tkinter", "nis",
           "test"}


def package_of(module: str) -> str | None:
    """The OpenWrt package that ships ``module`` (dotted name), or None when none does.

    Modules outside the standard library and the table (a binding such as ``euci``, which no
    DEPENDS of ours names) ship in no package we know of: None.
    """
    top = module.partition(".")[0]
    # the table first: a distribution may build a module into its interpreter that the feed
    # ships apart (Debian's python3.11 has unicodedata and pyexpat built in)
    if top in SPLIT:
        return SPLIT[top]
    if top in DROPPED:
        return None
    if top in BASE or top.startswith("_sysconfigdata_"):
        return "python3-base"
    if top in sys.builtin_module_names:
        return "libpython3"
    if top in sys.stdlib_module_names:
        return "python3-light"
    return None


def closure(depends: Iterable[str]) -> set[str]:
    """Every feed package that ``depends`` pulls in (names outside the feed's Python
    packages, like ``ppp`` or ``@CONDITION``, carry no Python module and are dropped)."""
    todo = [d.lstrip("+") for d in depends]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in FEED_DEPENDS and name not in seen:
            seen.add(name)
            todo.extend(FEED_DEPENDS[name])
    return seen


def installed_with(recipes: dict[str, Path], package: str
                   ) -> tuple[set[str], set[str], list[str]]:
    """What installing one of our packages brings along: our packages (it included, through
    ``+pppossh``-style DEPENDS between them), the feed's Python packages, and the other
    DEPENDS words (C programs and libraries, no Python in them).  ``recipes``: package name ->
    the Makefile that defines it."""
    ours, words, todo = {package}, [], [package]
    while todo:
        name = todo.pop()
        depends = recipe_depends(recipes[name], name)
        words += depends
        for word in (w.lstrip("+") for w in depends):
            if word in recipes and word not in ours:
                ours.add(word)
                todo.append(word)
    other = sorted({w.lstrip("+") for w in words if not w.startswith("@")}
                   - set(FEED_DEPENDS) - set(recipes))
    return ours, closure(words), other


def recipe_depends(makefile: Path, package: str) -> list[str]:
    """The DEPENDS (or LUCI_DEPENDS) words of ``package`` in an OpenWrt recipe, with the
    package names of the project's own packages kept as they are (``+pppossh``)."""
    text = makefile.read_text().replace("\\\n", " ")
    block = re.search(rf"define Package/{re.escape(package)}\n(.*?)\nendef", text, re.S)
    source = block.group(1) if block else text
    found = re.search(r"^\s*(?:LUCI_)?DEPENDS:=(.*)$", source, re.M)
    assert found, f"no DEPENDS for {package} in {makefile}"
    return found.group(1).split()
