"""``bench/footprint.py`` on the real stdlib: its figures are only worth printing if every
module lands in one package, the split follows the feed's table, and the sums add up."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from openwrt_split import FEED_DEPENDS, SPLIT

REPO = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    """bench/ is no package: load footprint.py by its path."""
    spec = importlib.util.spec_from_file_location("bench_footprint", REPO / "bench/footprint.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fp = _load()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):  # -> fp.Report
    return fp.footprint(tmp_path_factory.mktemp("footprint"))


def _stdlib_modules() -> set[str]:
    """Top-level modules found on disk, listed here without the bench's own walk."""
    import sysconfig

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    names = {p.stem for p in stdlib.glob("*.py")}
    names |= {p.parent.name for p in stdlib.glob("*/__init__.py")}
    dynload = Path(sysconfig.get_config_var("DESTSHARED"))
    names |= {p.name.partition(".")[0] for p in dynload.glob("*.so")}
    return names


def test_every_stdlib_module_has_one_package_or_is_dropped(report) -> None:
    owners = report.split.owners
    assert set(owners) == _stdlib_modules()
    packages = {*FEED_DEPENDS, *SPLIT.values(), fp.DROP}
    wrong = {m: p for m, p in owners.items() if p not in packages}
    assert not wrong
    sources = [src for files in report.split.files.values() for src, _ in files]
    assert len(sources) == len(set(sources)), "a file counted in two packages"


def test_the_split_follows_the_table(report) -> None:
    def names(package: str) -> set[str]:
        """Top-level modules of the package's files under the stdlib directory."""
        tops = set()
        for _, dest in report.split.files[package]:
            if dest.is_relative_to(fp.PYDIR):
                parts = dest.relative_to(fp.PYDIR).parts
                tops.add((parts[1] if parts[0] == "lib-dynload" else parts[0]).partition(".")[0])
        return tops

    if "unicodedata" not in sys.builtin_module_names:  # Debian builds it into python3.11
        assert "unicodedata" in names("python3-codecs")
    else:
        assert any("unicodedata" in note for note in report.split.notes)
    light = names("python3-light")
    assert "logging" not in light and "email" not in light and "asyncio" not in light
    assert not any(dest.is_relative_to(fp.PYDIR / "logging")
                   for _, dest in report.split.files["python3-light"])
    assert {"json", "subprocess", "socket"} <= light
    assert "encodings" in names("python3-base")


def test_each_package_is_bytecode_only_and_compresses(report) -> None:
    for name, size in {**report.feed, **report.ours}.items():
        assert size.installed >= size.compressed > 0, name
    for name in fp.FEED_SHOWN:
        assert name in report.feed and report.feed[name].py == 0, name
    for name in ("python3-base", "python3-light", "python3-jinja2"):
        assert report.feed[name].pyc > 0, name


def test_the_server_pulls_in_more_than_the_client(report) -> None:
    assert {"pppossh", "pppossh-server"} <= report.totals.keys()
    client, server = report.totals["pppossh"], report.totals["pppossh-server"]
    assert server.installed > client.installed
    assert server.compressed > client.compressed
    assert "pppossh" in report.pulls["pppossh-server"]
    assert {"libpython3", "python3-base", "python3-light"} <= set(report.pulls["pppossh"])

