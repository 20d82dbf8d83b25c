"""Flash cost of pppossh on OpenWrt: each package's bytes, and the Python it pulls in.

Upstream's pppossh is one shell script; ours needs Python.  This prints what that costs a
router, per package of the python3 feed and per package of ours with its Python DEPENDS:

- installed: the sum of the file sizes once unpacked (what a RAM-disk/tmpfs install holds);
- compressed: a tar of the tree through gzip -9 (an .ipk's data.tar.gz), the approximate cost
  on the compressed JFFS2/UBIFS overlay that opkg installs into.

The feed's Python is 3.14; this measures the stdlib of the CPython running it, split with
``tests/openwrt_split.py`` and laid out and byte-compiled as OpenWrt does it (``compileall -b
-d /``, every ``.py`` deleted, no ``-O``; ELF files stripped), so the figures are an estimate:
the bytecode, the stdlib's contents and the machine code (x86-64 here, MIPS/ARM there) all
differ a little.  Our packages come from ``build/stage/<package>/`` when ``make stage`` made
it, else from a byte-compiled copy of ``pppossh/`` and ``files/``.

``python bench/footprint.py [--json]``: no root, a few seconds, a temporary directory that is
removed afterwards.  Nothing here asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import platform
import py_compile
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from openwrt_split import (  # noqa: E402
    DROPPED,
    FEED_COMMIT,
    FEED_PYTHON,
    installed_with,
    package_of,
)

FEED_SHOWN = ("libpython3", "python3-base", "python3-light", "python3-logging", "python3-urllib",
              "python3-asyncio", "python3-codecs", "python3-markupsafe", "python3-jinja2")
OURS = ("pppossh", "pppossh-server", "luci-app-pppossh")
RECIPES = {"pppossh": REPO / "Makefile", "pppossh-server": REPO / "Makefile",
           "luci-app-pppossh": REPO / "luci-app" / "Makefile"}
STAGE = REPO / "build" / "stage"
UPSTREAM = "upstream's pppossh (net/pppossh): 1.8 kB, one shell script (quoted, not measured)"

PYDIR = PurePosixPath(f"usr/lib/python{sys.version_info.major}.{sys.version_info.minor}")
SITE = PYDIR / "site-packages"

DROP = "dropped"
UNKNOWN = "unattributed"
# subpackages the feed leaves out (--disable-test-modules, and idlelib's own tests)
TEST_DIRS = {"test", "tests", "idle_test"}
# CPython's own test extensions and frozen-import samples, outside sys.stdlib_module_names:
# --disable-test-modules does not build or install them
TEST_MODULE = re.compile(r"_test|_xxtest|xxlimited|_ctypes_test$|__p?hello__$")
# gone from the stdlib by 3.14 (PEP 594 and PEP 632): the feed cannot ship them
GONE_BY_314 = {"aifc", "asynchat", "asyncore", "audioop", "cgi", "cgitb", "chunk", "crypt",
               "distutils", "imghdr", "imp", "lib2to3", "mailcap", "msilib", "nntplib",
               "ossaudiodev", "pipes", "smtpd", "sndhdr", "spwd", "sunau", "telnetlib", "uu",
               "xdrlib", "_crypt", "nis"}
# 3.11's name of what 3.14 ships in python3-light as _interpreters
RENAMED = {"_xxsubinterpreters": "python3-light"}
# what a distribution adds to its own stdlib directory (Debian), not part of CPython
DISTRIBUTION = {"sitecustomize", "_distutils_system_mod"}

Files = list[tuple[Path, PurePosixPath]]  # (file on this machine, its path on the router)


def owner(module: str) -> str:
    """The feed package that ships top-level stdlib ``module``, DROP, or UNKNOWN (a module
    the table does not place: its bytes would be missing from every figure)."""
    if (module in DROPPED or module in GONE_BY_314 or module in DISTRIBUTION
            or TEST_MODULE.match(module)):
        return DROP
    if module in RENAMED:
        return RENAMED[module]
    return package_of(module) or UNKNOWN


def _walk(top: Path, *, everything: bool = False) -> Iterator[Path]:
    """Files of a package as the feed installs them: no caches, tests or wheels (or, with
    ``everything``, every file: a staged tree is already as installed)."""
    for base, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if everything
                         or (d != "__pycache__" and d not in TEST_DIRS))
        for name in sorted(names):
            if not everything and (name.endswith(".pyc")
                                   or (name.endswith(".whl") and "ensurepip" in base)):
                continue
            yield Path(base, name)


@dataclass
class Split:
    """The stdlib of this CPython cut into the feed's packages."""

    owners: dict[str, str] = field(default_factory=dict)  # top-level module -> package/DROP
    files: dict[str, Files] = field(default_factory=dict)  # package -> files
    notes: list[str] = field(default_factory=list)

    def add(self, package: str, source: Path, dest: PurePosixPath) -> None:
        self.files.setdefault(package, []).append((source, dest))


def split_stdlib() -> Split:
    """Every top-level module of ``stdlib`` and ``lib-dynload`` (and libpython) to its package."""
    split = Split()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    dynload = Path(sysconfig.get_config_var("DESTSHARED") or stdlib / "lib-dynload")
    for entry in sorted(stdlib.iterdir()):
        if entry.suffix == ".py":
            module = entry.stem
        elif entry.is_dir() and (entry / "__init__.py").exists():
            module = entry.name
        else:  # site-packages, config-3.x (python3-dev), lib-dynload, LICENSE.txt: no module
            continue
        split.owners[module] = package = owner(module)
        sources = [entry] if entry.is_file() else _walk(entry)
        for source in sources:
            split.add(package, source, PYDIR / source.relative_to(stdlib))
    for entry in sorted(dynload.iterdir()):
        module = entry.name.partition(".")[0]
        if entry.name.endswith(".so") and module not in split.owners:
            split.owners[module] = package = owner(module)
            split.add(package, entry, PYDIR / "lib-dynload" / entry.name)
    libdir = Path(sysconfig.get_config_var("LIBDIR") or "")
    library = libdir / (sysconfig.get_config_var("LDLIBRARY") or "")
    executable = Path(sys.executable).resolve()
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and library.is_file():
        library = library.resolve()
        split.add("libpython3", library, PurePosixPath("usr/lib") / library.name)
        split.add("python3-base", executable, PurePosixPath("usr/bin") / executable.name)
    else:
        split.notes.append("this Python is linked statically: libpython3 is the size of the "
                           "whole executable, and python3-base has no executable of its own")
        split.add("libpython3", executable, PurePosixPath("usr/bin") / executable.name)
    built_in = sorted(m for m in sys.builtin_module_names
                      if package_of(m) not in ("libpython3", None))
    if built_in:
        split.notes.append(f"this Python has {', '.join(built_in)} built in, which the feed ships"
                           " in other packages: their bytes count in libpython3 here")
    for name, package in (("markupsafe", "python3-markupsafe"), ("jinja2", "python3-jinja2")):
        spec = find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            split.notes.append(f"{name} is not installed here: {package} is left empty")
            continue
        top = Path(next(iter(spec.submodule_search_locations)))
        for source in _walk(top):
            split.add(package, source, SITE / name / source.relative_to(top))
    return split


@dataclass
class Size:
    """One package's tree: bytes unpacked, bytes as data.tar.gz, and what it holds."""

    installed: int
    compressed: int
    files: int
    py: int = 0  # .py sources left in the tree
    pyc: int = 0
    jffs2: int = 0  # as JFFS2 stores it: each 4 KiB page compressed alone, plus its node

    def __add__(self, other: Size) -> Size:
        return Size(self.installed + other.installed, self.compressed + other.compressed,
                    self.files + other.files, self.py + other.py, self.pyc + other.pyc,
                    self.jffs2 + other.jffs2)


JFFS2_PAGE = 4096
JFFS2_NODE = 68  # struct jffs2_raw_inode, written before each page's data
JFFS2_DIRENT = 40  # struct jffs2_raw_dirent, plus the name


def jffs2_bytes(path: Path) -> int:
    """What a file takes in a JFFS2 overlay, estimated with zlib (level 6, the kernel's
    default) page by page; a page that does not shrink is stored as it is."""
    data = path.read_bytes()
    total = JFFS2_DIRENT + len(path.name) + JFFS2_NODE  # the name, and the inode's own node
    for start in range(0, len(data), JFFS2_PAGE):
        page = data[start:start + JFFS2_PAGE]
        total += JFFS2_NODE + min(len(zlib.compress(page, 6)), len(page))
    return total


def _normalized(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owner and time as ipkg-build writes them, so only the contents weigh."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = 0
    return info


def measure(root: Path) -> Size:
    """Installed and compressed bytes of a package tree (a data.tar.gz made with gzip -9)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.add(root, arcname=".", filter=_normalized)
    files = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]
    return Size(installed=sum(p.stat().st_size for p in files),
                compressed=len(buffer.getvalue()), files=len(files),
                py=sum(p.suffix == ".py" for p in files),
                pyc=sum(p.suffix == ".pyc" for p in files),
                jffs2=sum(jffs2_bytes(p) for p in files))


def build(root: Path, files: Files, *, compiled: bool = True) -> bool:
    """Lay ``files`` out under ``root`` as installed on the router: each ``.py`` byte-compiled
    to a ``.pyc`` beside it and gone (a file that does not compile stays a source), ELF files
    stripped as OpenWrt's RSTRIP does.  True when the ELF files could be stripped."""
    elves: list[Path] = []
    for source, dest in files:
        target = root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if compiled and source.suffix == ".py":
            try:
                py_compile.compile(str(source), cfile=f"{target}c", dfile=f"/{dest}",
                                   doraise=True, optimize=0)
                continue
            except py_compile.PyCompileError:
                pass
        shutil.copyfile(source, target)
        with source.open("rb") as f:
            if f.read(4) == b"\x7fELF":
                elves.append(target)
    if not elves:
        return True
    strip = shutil.which("strip")
    return bool(strip) and subprocess.run([strip, "--strip-all", *map(str, elves)],
                                          capture_output=True).returncode == 0


def our_files() -> dict[str, Files]:
    """Our packages' trees: ``build/stage/<package>/`` as ``make stage`` left it, or else the
    recipe's install steps done roughly by hand (server/ and templates/ to pppossh-server,
    gen.py to nobody, the rest and ``files/`` to pppossh)."""
    staged = {p: [(f, PurePosixPath(f.relative_to(STAGE / p).as_posix()))
                  for f in _walk(STAGE / p, everything=True)] for p in OURS if (STAGE / p).is_dir()}
    if "pppossh" in staged:
        return staged
    pppossh: Files = []
    server: Files = []
    files = REPO / "files"
    pppossh += [(p, PurePosixPath(p.relative_to(files).as_posix())) for p in _walk(files)]
    top = REPO / "pppossh"
    for source in _walk(top):
        relative = source.relative_to(top)
        dest = SITE / "pppossh" / relative
        if relative.parts[0] in ("server", "templates"):
            server.append((source, dest))
        elif relative.as_posix() != "gen.py":  # developer-only: generates the checked-in files
            pppossh.append((source, dest))
    return {"pppossh": pppossh, "pppossh-server": server}


def as_sources(files: Files) -> Files:
    """The same tree with our modules' sources in place of their bytecode."""
    out: Files = []
    for source, dest in files:
        if source.suffix == ".pyc" and "pppossh" in dest.parts:
            inner = dest.parts[dest.parts.index("pppossh"):]
            py = REPO.joinpath(*inner).with_suffix(".py")
            if py.is_file():
                out.append((py, dest.with_suffix(".py")))
                continue
        out.append((source, dest))
    return out


def _stage_notes(staged: dict[str, Files]) -> list[str]:
    """Notes when the stage does not match pppossh/: modules in no staged package, or
    sources changed after ``make stage`` ran.  Its figures are then off."""
    if not (STAGE / "pppossh").is_dir():
        return []
    shipped = {parts[parts.index("pppossh"):] for files in staged.values() for _, dest in files
               if "pppossh" in (parts := dest.with_suffix(".py").parts)}
    sources = [p for p in (REPO / "pppossh").rglob("*.py")
               if "__pycache__" not in p.parts and p.name != "gen.py"]
    notes = []
    missing = [p for p in sources if p.relative_to(REPO).parts not in shipped]
    if missing:
        notes.append(f"in no staged package: {', '.join(str(p.relative_to(REPO)) for p in missing)}"
                     " (`make stage` is older than them, or the recipe leaves them out)")
    # when the stage was made: its bytecode is written then (cp -p keeps the sources' times)
    built = min(pyc.stat().st_mtime for p in staged for pyc in (STAGE / p).rglob("*.pyc"))
    newer = [p for p in sources if p.stat().st_mtime > built]
    if newer:
        notes.append(f"{len(newer)} module(s) of pppossh/ changed after `make stage` "
                     f"(e.g. {newer[0].relative_to(REPO)}): rerun it for current figures")
    return notes


@dataclass
class Report:
    """Every figure this bench prints."""

    python: str
    feed: dict[str, Size]
    ours: dict[str, Size]
    origin: dict[str, str]  # our package -> "stage" or "copy"
    pulls: dict[str, list[str]]  # our package -> our and feed packages it installs
    totals: dict[str, Size]
    not_counted: dict[str, list[str]]
    sources: dict[str, Size]  # our package with .py sources instead of bytecode
    split: Split
    stripped: bool
    notes: list[str]


def footprint(work: Path, *, every_package: bool = False) -> Report:
    """Build the trees under ``work`` and measure them: the feed packages shown and those our
    packages pull in (``every_package``: all of the feed's), ours as bytecode and as sources."""
    split = split_stdlib()
    notes = list(split.notes)
    copies = our_files()
    origin = {p: "stage" if (STAGE / p).is_dir() else "copy" for p in copies}
    deps = {p: installed_with(RECIPES, p) for p in copies}
    wanted = {p for p in split.files if p not in (DROP, UNKNOWN)} if every_package \
        else set(FEED_SHOWN).union(*(python for _, python, _ in deps.values()))

    trees: dict[str, Path] = {}
    stripped = True
    for package in sorted(wanted & split.files.keys()):
        stripped &= build(work / "feed" / package, split.files[package])
        trees[f"feed:{package}"] = work / "feed" / package
    for package, files in copies.items():
        if origin[package] == "stage":
            trees[f"ours:{package}"] = STAGE / package
        else:
            build(work / "ours" / package, files)
            trees[f"ours:{package}"] = work / "ours" / package
        build(work / "sources" / package, as_sources(files), compiled=False)
        trees[f"sources:{package}"] = work / "sources" / package
    # zlib lets go of the GIL: compress the trees side by side
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        sizes = dict(zip(trees, pool.map(measure, trees.values()), strict=True))
    feed = {k.partition(":")[2]: v for k, v in sizes.items() if k.startswith("feed:")}
    ours = {k.partition(":")[2]: v for k, v in sizes.items() if k.startswith("ours:")}
    sources = {k.partition(":")[2]: v for k, v in sizes.items() if k.startswith("sources:")}

    if not stripped:
        notes.append("could not strip the ELF files: the .so sizes include symbols")
    unknown = sorted(m for m, p in split.owners.items() if p == UNKNOWN)
    if unknown:
        notes.append(f"not in any package of the table, left out: {', '.join(unknown)}")
    notes += _stage_notes({p: f for p, f in copies.items() if origin[p] == "stage"})
    pulls: dict[str, list[str]] = {}
    totals: dict[str, Size] = {}
    not_counted: dict[str, list[str]] = {}
    for package, (mine, python, other) in deps.items():
        pulls[package] = sorted(mine - {package}) + sorted(python)
        not_counted[package] = other
        missing = sorted(mine - ours.keys())
        if missing:
            notes.append(f"{package}: {', '.join(missing)} not measured, left out of its total")
        total = Size(0, 0, 0)
        for size in [ours[n] for n in sorted(mine & ours.keys())] + \
                [feed[n] for n in sorted(python & feed.keys())]:
            total += size
        totals[package] = total
    version = f"{platform.python_implementation()} {platform.python_version()}"
    return Report(version, feed, ours, origin, pulls, totals, not_counted, sources, split,
                  stripped, notes)


def _kb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def show(report: Report) -> None:
    """The tables, for a person."""
    print(f"pppossh on OpenWrt: flash footprint estimated with {report.python} "
          f"({platform.machine()}); the feed ({FEED_COMMIT}) ships Python {FEED_PYTHON}")
    print("byte-compiled as OpenWrt does (compileall -b -d /, sources deleted, no -O), ELF files "
          f"{'stripped' if report.stripped else 'NOT stripped'}; compressed = tar | gzip -9")
    print()
    print(f"{'feed package':<20} {'installed':>10} {'compressed':>11} {'files':>6}")
    for package in FEED_SHOWN:
        s = report.feed.get(package, Size(0, 0, 0))
        print(f"{package:<20} {_kb(s.installed):>10} {_kb(s.compressed):>11} {s.files:>6}")
    dropped = sorted(m for m, p in report.split.owners.items() if p == DROP)
    print(f"(left out as the feed does, or gone by {FEED_PYTHON}: {len(dropped)} modules, "
          f"e.g. {', '.join(dropped[:6])}, ...)")
    print()
    print(f"{'our package':<18} {'from':<6} {'own inst.':>10} {'own compr.':>11} "
          f"{'+deps inst.':>12} {'+deps compr.':>13}  pulls in")
    for package in OURS:
        if package not in report.ours:
            print(f"{package:<18} not staged (`make stage` builds build/stage/{package}/)")
            continue
        s, t = report.ours[package], report.totals[package]
        print(f"{package:<18} {report.origin[package]:<6} {_kb(s.installed):>10} "
              f"{_kb(s.compressed):>11} {_kb(t.installed):>12} {_kb(t.compressed):>13}  "
              f"{' '.join(report.pulls[package])}")
    for package, s in report.sources.items():
        own = report.ours[package]
        if not own.pyc:
            continue
        print(f"{package} with .py sources instead of its {own.pyc} .pyc: {_kb(s.installed)} "
              f"installed, {_kb(s.compressed)} compressed (the bytecode weighs "
              f"{own.installed / s.installed:.1f}x / {own.compressed / s.compressed:.1f}x that)")
    print(UPSTREAM)
    for package, names in report.not_counted.items():
        if names:
            print(f"not counted for {package} (no Python in them): {', '.join(names)}")
    print()
    print("flash needed: opkg unpacks into the overlay. JFFS2 (NOR flash) compresses each 4 KiB "
          "page on its own: the jffs2 figure (zlib per page, node headers) is the free overlay "
          "(`df /overlay`) to plan for; the gzip figure of a whole tar is only the download. "
          "UBIFS (NAND) with lzo needs somewhat more. In tmpfs it takes the installed figure.")
    for package, t in report.totals.items():
        print(f"  {package:<18} about {_kb(t.jffs2)} free overlay (jffs2 estimate), "
              f"{_kb(t.compressed)} to download, {_kb(t.installed)} unpacked")
    for note in report.notes:
        print(f"note: {note}")


def as_json(report: Report) -> dict[str, object]:
    """The same figures, for a machine: bytes, not kB."""
    def size(s: Size) -> dict[str, int]:
        return {"installed": s.installed, "compressed": s.compressed, "jffs2": s.jffs2,
                "files": s.files, "py": s.py, "pyc": s.pyc}
    return {
        "python": report.python, "feed_python": FEED_PYTHON, "machine": platform.machine(),
        "stripped": report.stripped,
        "feed": {p: size(s) for p, s in sorted(report.feed.items())},
        "ours": {p: {**size(s), "from": report.origin[p], "pulls_in": report.pulls[p],
                     "total": size(report.totals[p]), "not_counted": report.not_counted[p]}
                 for p, s in report.ours.items()},
        "ours_as_sources": {p: size(s) for p, s in report.sources.items()},
        "upstream_pppossh_bytes_quoted": 1800,
        "dropped": sorted(m for m, p in report.split.owners.items() if p == DROP),
        "notes": report.notes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pppossh-footprint-") as work:
        report = footprint(Path(work))
    show(report)
    if args.json:
        print(json.dumps(as_json(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
