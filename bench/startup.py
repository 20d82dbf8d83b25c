"""Start-up time of ``pppossh netifd``'s imports: shipped as sources or as bytecode.

OpenWrt's Python never writes bytecode (the feed's patch turns it off), so modules shipped
as ``.py`` are compiled again on every start, and netifd starts ``pppossh netifd`` on every
interface setup and teardown.  This times, side by side:

- a: ``import pppossh.cli, pppossh.run.netifd`` from a copy holding only ``.py`` files, with
  bytecode writing off (``-B``);
- b: the same from bytecode only (``build/stage/pppossh``'s site-packages when ``make stage``
  made it, else a copy byte-compiled as OpenWrt does: ``compileall -b``, sources deleted);
- c: ``python -I -S -c pass``, the floor of any Python start.

The machine is shared and noisy: the variants run interleaved, ``-n`` rounds (15), and each is
reported as median (min-max).  ``python bench/startup.py [-n N] [--json]``; no root, a
temporary directory removed afterwards.  Nothing here asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import compileall
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
STAGE = REPO / "build" / "stage" / "pppossh"
IMPORTS = "import pppossh.cli, pppossh.run.netifd"
# what the netifd command's imports load, printed as JSON by the child
COUNT = ("import json, sys; ours = sorted(n for n in sys.modules if n.split('.')[0] == 'pppossh');"
         " print(json.dumps({'ours': ours, 'all': len(sys.modules),"
         " 'files': [sys.modules[n].__file__ for n in ours]}))")


def command(path: Path | None, code: str = IMPORTS) -> list[str]:
    """``python -I -S -B -c`` importing from ``path``, or the floor when ``path`` is None.

    -I ignores PYTHONPATH, so the path goes into the code.  -S as in the floor: the venv's
    site-packages hold an editable install of pppossh whose import finder would serve any
    module missing from ``path`` from the repo (and costs ~20 ms a start that a router's
    site.py does not have)."""
    if path is None:
        return [sys.executable, "-I", "-S", "-c", "pass"]
    return [sys.executable, "-I", "-S", "-B", "-c",
            f"import sys; sys.path.insert(0, {str(path)!r}); {code}"]


def sources_copy(work: Path) -> Path:
    """pppossh/ with its sources only."""
    root = work / "sources"
    shutil.copytree(REPO / "pppossh", root / "pppossh",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root


def bytecode_copy(work: Path) -> Path:
    """pppossh/ as OpenWrt installs it: ``compileall -b -d /``, then every ``.py`` deleted."""
    root = work / "bytecode"
    shutil.copytree(REPO / "pppossh", root / "pppossh",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compileall.compile_dir(root, ddir="/", legacy=True, quiet=1, optimize=0)
    for source in root.rglob("*.py"):
        source.unlink()
    return root


def staged() -> Path | None:
    """site-packages of ``make stage``'s pppossh tree, if there is one."""
    found = sorted(STAGE.glob("usr/lib/python3*/site-packages"))
    return found[0] if found else None


def probe(path: Path) -> dict[str, Any]:
    """The modules the import set loads from ``path``; a failure or a module from elsewhere is
    told in "error"."""
    run = subprocess.run(command(path, f"{IMPORTS}; {COUNT}"), capture_output=True, text=True)
    if run.returncode != 0:
        return {"error": (run.stderr.strip().splitlines() or ["failed"])[-1]}
    found = json.loads(run.stdout)
    strays = [f for f in found["files"] if not Path(f).is_relative_to(path)]
    if strays:
        found["error"] = f"modules from outside {path}: {', '.join(strays)}"
    return found


def timed(argv: list[str]) -> float:
    """Wall-clock seconds of one run, which must succeed."""
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="rounds (default 15)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pppossh-startup-") as tmp:
        work = Path(tmp)
        a = sources_copy(work)
        b, b_from = staged(), "make stage"
        if b is not None and "error" in (found := probe(b)):
            notes.append(f"build/stage/pppossh does not import ({found['error']}): "
                         "used a byte-compiled copy of pppossh/ instead")
            b = None
        if b is None:
            b, b_from = bytecode_copy(work), "byte-compiled copy"
        variants = {"a": command(a), "b": command(b), "c": command(None)}
        labels = {"a": "a  .py only (compiled on every start)",
                  "b": f"b  .pyc only ({b_from})",
                  "c": "c  python -I -S -c pass (floor)"}
        counted, compiled = probe(a), probe(b)
        for found in (counted, compiled):
            if "error" in found:
                raise SystemExit(f"startup: {found['error']}")
        if len(compiled["ours"]) != len(counted["ours"]):
            notes.append(f"b loads {len(compiled['ours'])} pppossh modules, "
                         f"a {len(counted['ours'])}")
        source_bytes = sum(Path(f).stat().st_size for f in counted["files"])
        for argv_ in variants.values():  # warm the page cache; not counted
            timed(argv_)
        times: dict[str, list[float]] = {name: [] for name in variants}
        order = list(variants)
        for round_ in range(args.n):
            for name in order[round_ % 3:] + order[:round_ % 3]:  # rotate: no fixed position
                times[name].append(timed(variants[name]))

    ms = {name: [t * 1000 for t in ts] for name, ts in times.items()}
    median = {name: statistics.median(ts) for name, ts in ms.items()}
    print(f"start-up of `pppossh netifd`'s imports ({IMPORTS}), {platform.python_implementation()}"
          f" {platform.python_version()} ({sys.executable}), {args.n} interleaved rounds")
    print(f"import set: {len(counted['ours'])} pppossh modules ({source_bytes / 1e3:.1f} kB of "
          f"source), {counted['all']} modules in all")
    for name, label in labels.items():
        ts = ms[name]
        print(f"{label:<45} {median[name]:7.1f} ms ({min(ts):.1f}-{max(ts):.1f})")
    ratio = median["a"] / median["b"]
    above = (median["a"] - median["c"]) / max(median["b"] - median["c"], 1e-9)
    print(f"a/b: {ratio:.2f}x the wall time; above the floor, {above:.2f}x "
          f"({median['a'] - median['b']:.1f} ms saved per start by shipping bytecode)")
    for note in notes:
        print(f"note: {note}")
    if args.json:
        print(json.dumps({
            "python": platform.python_version(), "rounds": args.n, "b_from": b_from,
            "modules": counted["ours"], "modules_all": counted["all"],
            "source_bytes": source_bytes, "ms": ms,
            "median_ms": median, "a_over_b": ratio, "a_over_b_above_floor": above,
            "notes": notes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
