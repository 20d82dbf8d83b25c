"""A small model of libuci's context, shared by the ``uci`` program double and the pyuci double.

It keeps what the golden transcripts in tests/golden/uci/ show of libuci: config files
parsed by pppossh.uci.fileformat, changes staged as delta lines in a save directory, and
``commit`` re-reading the file and replaying every delta it can read.  Like libuci, the default
save directory stays on the delta path when another one is chosen with ``-t``/``savedir=``.
The default is /tmp/.uci, or $UCI_DOUBLE_DEFAULT_SAVEDIR so tests can isolate it.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pppossh.uci import fileformat
from pppossh.uci.base import UciError, UciParseError
from pppossh.uci.fileformat import ConfigSection, Package

ERR_INVAL, ERR_NOTFOUND, ERR_IO, ERR_PARSE, ERR_DUPLICATE = 2, 3, 4, 5, 6
MESSAGES = {
    ERR_INVAL: "Invalid argument",
    ERR_NOTFOUND: "Entry not found",
    ERR_IO: "I/O error",
    ERR_PARSE: "Parse error",
    ERR_DUPLICATE: "Duplicate entry",
}
PREFIX = {"add": "+", "remove": "-", "change": "", "list_add": "|", "list_del": "~"}
_NAME_RE = re.compile(r"[A-Za-z0-9_]+\Z")
_PACKAGE_RE = re.compile(r"[A-Za-z0-9_-]+\Z")
_TYPE_RE = re.compile(r"[\x21-\x7e]+\Z")


class LibUciError(Exception):
    """A libuci error code, printed by the CLI as ``uci: <message><detail>``."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(MESSAGES[code] + detail)
        self.code = code


@dataclass
class Delta:
    """One staged change, as libuci records it in memory and in delta files."""

    cmd: str
    section: str
    option: str | None
    value: str | None

    def line(self, package: str) -> str:
        """The delta file line (libuci's ``uci_delta_save``)."""
        text = PREFIX[self.cmd] + f"{package}.{self.section}"
        if self.option is not None:
            text += f".{self.option}"
        if self.cmd == "remove" and self.value is None:
            return text + "\n"
        return text + "=" + fileformat.quote(self.value or "") + "\n"


@dataclass
class Ptr:
    """A parsed ``config[.section[.option]][=value]`` reference (libuci's ``uci_ptr``)."""

    package: str
    section: str | None = None
    option: str | None = None
    value: str | None = None
    extended: bool = False


def parse_ptr(text: str) -> Ptr:
    """libuci ``uci_parse_ptr``: split and validate; a bad reference is a parse error."""
    ref, sep, value = text.partition("=")
    parts = ref.split(".")
    if len(parts) > 3:
        raise LibUciError(ERR_PARSE)
    ptr = Ptr(parts[0], *parts[1:], value=value if sep else None)  # type: ignore[arg-type]
    if not _PACKAGE_RE.match(ptr.package):
        raise LibUciError(ERR_PARSE)
    if ptr.section is not None and not _NAME_RE.match(ptr.section):
        ptr.extended = True
    if ptr.option is not None and not _NAME_RE.match(ptr.option):
        raise LibUciError(ERR_PARSE)
    if ptr.value is not None and re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", ptr.value):
        raise LibUciError(ERR_PARSE)
    return ptr


@dataclass
class Loaded:
    """A loaded package with the deltas read from files and those made since."""

    package: Package
    saved: list[Delta] = field(default_factory=list)
    pending: list[Delta] = field(default_factory=list)


class Context:
    """libuci's ``uci_context``: config dir, save dir, delta path and loaded packages."""

    def __init__(self, confdir: str = "/etc/config") -> None:
        self.confdir = confdir
        self.savedir = os.environ.get("UCI_DOUBLE_DEFAULT_SAVEDIR", "/tmp/.uci")
        self.delta_path = [self.savedir]
        self.loaded: dict[str, Loaded] = {}

    def set_savedir(self, directory: str) -> None:
        """Like libuci: the new save dir moves to the end of the delta path, nothing leaves."""
        if directory in self.delta_path:
            self.delta_path.remove(directory)
        self.delta_path.append(directory)
        self.savedir = directory

    def add_delta_path(self, directory: str) -> None:
        self.delta_path.insert(len(self.delta_path) - 1, directory)

    def config_path(self, name: str) -> Path:
        return Path(self.confdir) / name

    def list_configs(self) -> list[str]:
        try:
            names = sorted(p.name for p in Path(self.confdir).iterdir() if p.is_file())
        except OSError as exc:
            raise LibUciError(ERR_NOTFOUND) from exc
        return [n for n in names if _PACKAGE_RE.match(n)]

    # loading

    def read_file(self, name: str) -> Package:
        if not _PACKAGE_RE.match(name):
            raise LibUciError(ERR_INVAL)
        path = self.config_path(name)
        if not path.is_file():
            raise LibUciError(ERR_NOTFOUND)
        text = path.read_bytes().decode("utf-8", "surrogateescape")
        try:
            return fileformat.parse(text, name, source=str(path))
        except UciParseError as exc:
            detail = f" ({exc.reason}) at line {exc.line}, byte {exc.byte}"
            raise LibUciError(ERR_PARSE, detail) from exc

    def load(self, name: str) -> Loaded:
        """The package with every readable delta file applied (``uci_load``)."""
        if name not in self.loaded:
            loaded = Loaded(self.read_file(name))
            self.apply_delta_files(loaded)
            self.loaded[name] = loaded
        return self.loaded[name]

    def apply_delta_files(self, loaded: Loaded) -> int:
        """Replay the delta files of the delta path; returns how many lines applied."""
        applied = 0
        for directory in self.delta_path:
            for words in read_delta_file(Path(directory) / loaded.package.name):
                if apply_delta_line(loaded, words):
                    applied += 1
        return applied

    # saving

    def save(self, loaded: Loaded) -> None:
        """Append pending changes to the save dir's delta file (``uci_save``)."""
        if not loaded.pending:
            return
        Path(self.savedir).mkdir(parents=True, exist_ok=True)
        path = Path(self.savedir) / loaded.package.name
        with path.open("a", encoding="utf-8", errors="surrogateescape") as handle:
            for delta in loaded.pending:
                handle.write(delta.line(loaded.package.name))
        loaded.saved.extend(loaded.pending)
        loaded.pending.clear()

    def commit(self, name: str) -> None:
        """``uci_commit``: save, re-read the file, replay all deltas, write, clear our deltas."""
        self.save(self.load(name))
        fresh = Loaded(self.read_file(name))
        if self.apply_delta_files(fresh):
            delta_file = Path(self.savedir) / name
            if delta_file.exists():
                delta_file.write_bytes(b"")
            write_config(self.config_path(name), fresh.package)
        fresh.saved.clear()
        self.loaded[name] = fresh

    def revert(self, name: str, section: str | None, option: str | None) -> None:
        """``uci_revert``: drop matching lines from the save dir's delta file and reload."""
        self.save(self.load(name))
        path = Path(self.savedir) / name
        kept = []
        for words in read_delta_file(path):
            try:
                cmd, ptr = parse_delta(words)
            except (LibUciError, UciError):
                continue
            if (section is None or ptr.section == section) and (
                option is None or ptr.option == option
            ):
                continue
            kept.append(Delta(cmd, ptr.section or "", ptr.option, ptr.value).line(name))
        if path.exists():
            path.write_text("".join(kept), "utf-8", "surrogateescape")
        self.loaded.pop(name, None)
        self.load(name)


def read_delta_file(path: Path) -> list[list[str]]:
    """The words of each entry of a delta file; a quoted value may span lines."""
    try:
        text = path.read_text("utf-8", "surrogateescape")
    except OSError:
        return []
    return fileformat.split_lines(text)


def write_config(path: Path, package: Package) -> None:
    """Write like ``uci commit``: temp file in the config dir, keep the mode, rename."""
    data = fileformat.dump(package).encode("utf-8", "surrogateescape")
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.uci-", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# -- deltas ----------------------------------------------------------------------------------


def parse_delta(words: list[str]) -> tuple[str, Ptr]:
    """One delta file entry: command prefix and pointer (libuci ``uci_parse_delta_tuple``)."""
    if len(words) != 1:
        raise LibUciError(ERR_INVAL)
    word = words[0]
    cmd = next((c for c, p in PREFIX.items() if p and word.startswith(p)), "change")
    ptr = parse_ptr(word[len(PREFIX[cmd]) :])
    if ptr.section is None or ptr.extended or (cmd != "remove" and ptr.value is None):
        raise LibUciError(ERR_INVAL)
    if cmd in ("list_add", "list_del") and ptr.option is None:
        raise LibUciError(ERR_INVAL)
    return cmd, ptr


def apply_delta_line(loaded: Loaded, words: list[str]) -> bool:
    """Apply one delta entry; like libuci, an entry that does not apply is skipped."""
    try:
        cmd, ptr = parse_delta(words)
        if ptr.package != loaded.package.name:
            return False
        loaded.saved.append(Delta(cmd, ptr.section or "", ptr.option, ptr.value))
        apply(loaded.package, cmd, ptr.section or "", ptr.option, ptr.value)
    except (LibUciError, UciError):
        return False
    return True


def apply(
    package: Package, cmd: str, section: str, option: str | None, value: str | None
) -> str | None:
    """Apply a change to ``package``; returns the delta command libuci records, if any."""
    found = package.find(section)
    if cmd == "remove":
        return remove(package, found, option, value)
    if cmd == "add":
        if found is None:
            package.add_section(value or "", section, anonymous=True)
        return "add"
    if cmd in ("list_add", "list_del"):
        if found is None or option is None or value is None:
            raise LibUciError(ERR_INVAL)
        if cmd == "list_add":
            found.add_list(option, value)
            return cmd
        if not isinstance(found.options.get(option), list):
            return None
        found.del_list(option, value)
        return cmd
    return set_value(package, found, section, option, value)


def remove(
    package: Package, found: ConfigSection | None, option: str | None, value: str | None
) -> str:
    """``uci_delete``: a missing target is an error; ``=N`` on a list deletes item N."""
    if found is None or (option is not None and option not in found.options):
        raise LibUciError(ERR_NOTFOUND)
    if option is None:
        package.sections.remove(found)
        return "remove"
    current = found.options[option]
    if value and isinstance(current, list):
        match = re.match(r"\s*[+-]?\d+", value)
        if match is None:
            raise LibUciError(ERR_INVAL)
        index = int(match.group())
        if 0 <= index < len(current):
            del current[index]
        return "remove"
    del found.options[option]
    return "remove"


def set_value(
    package: Package,
    found: ConfigSection | None,
    section: str,
    option: str | None,
    value: str | None,
) -> str | None:
    """``uci_set``: option value or section type; "" deletes, an unchanged value is no change."""
    if value is None or (found is None and option is not None):
        raise LibUciError(ERR_INVAL)
    if option is None and value and not _TYPE_RE.match(value):
        raise LibUciError(ERR_INVAL)
    if value == "":
        exists = found is not None and (option is None or option in found.options)
        return remove(package, found, option, None) if exists else None
    if option is None:
        package.set_section(section, value)
        return "change"
    assert found is not None
    if found.options.get(option) == value:
        return None
    found.set_option(option, value)
    return "change"


def resolve_section(package: Package, name: str) -> ConfigSection | None:
    """libuci's extended ``@type[index]`` lookup (negative counts from the end)."""
    match = re.fullmatch(r"@([^\[\]]*)\[(-?\d+)\]", name)
    if match is None:
        raise LibUciError(ERR_INVAL)
    type, index = match.group(1) or None, int(match.group(2))
    if type is not None and not _TYPE_RE.match(type):
        raise LibUciError(ERR_INVAL)
    candidates = [s for s in package.sections if type is None or s.type == type]
    if index < 0:
        index += len(candidates)
    return candidates[index] if 0 <= index < len(candidates) else None
