"""The three ways pppossh reaches UCI: pyuci (``euci``), the ``uci`` program, or the files.

All three implement :class:`pppossh.uci.base.Uci` and stage writes until ``commit``.

libuci keeps uncommitted changes ("deltas") in a save directory, /tmp/.uci by default, where
LuCI and ``uci set`` leave them until someone commits.  libuci always reads that directory, even
when given another one with ``uci -t`` (the other directory is only added after it), and
``commit`` writes every delta it read.  So the backends built on libuci would silently commit
an administrator's half-finished changes together with ours; they refuse to commit while the
default save directory holds changes for the same config, and say what to do instead.
Our own changes never go there: both stage them in a private save directory of their own,
removed when the backend object goes away.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pppossh import atomic
from pppossh.uci import fileformat
from pppossh.uci.base import (
    Section,
    UciError,
    Value,
    check_config,
    check_name,
    check_type,
    check_value,
    generated_name,
    looks_generated,
)
from pppossh.uci.fileformat import ConfigSection, Package

if TYPE_CHECKING:  # subprocess and tempfile are imported when used: router start-up time
    import subprocess

DEFAULT_SAVEDIR = "/tmp/.uci"
NEW_FILE_MODE = 0o644  # what an administrator's `touch /etc/config/x` gives


def _to_section(section: ConfigSection, anonymous: bool | None = None) -> Section:
    """Public, read-only form: lists become tuples, emptied lists are left out."""
    options: dict[str, Value] = {}
    for option, value in section.options.items():
        if isinstance(value, str):
            options[option] = value
        elif value:
            options[option] = tuple(value)
    if anonymous is None:
        anonymous = section.anonymous
    return Section(section.name, section.type, anonymous, options)


def _check_target(config: str, section: str, option: str | None = None) -> str:
    """Validate a config.section[.option] address and return it for messages."""
    check_config(config)
    check_name("section", section, config)
    where = f"{config}.{section}"
    if option is not None:
        check_name("option", option, where)
        where = f"{where}.{option}"
    return where


def _missing_section(config: str, section: str) -> UciError:
    return UciError(
        f"{config}.{section}: no such section; create it first "
        "(set_section for a named one, add_section for an anonymous one)"
    )


def _refuse_foreign_changes(savedir: str, config: str) -> None:
    """Stop a commit that would also commit changes someone else staged (see module doc)."""
    path = os.path.join(savedir, config)
    try:
        with open(path, "rb") as handle:
            pending = handle.read().strip()
    except OSError:
        return
    if pending:
        raise UciError(
            f"{config}: someone else has uncommitted changes staged in {path} (LuCI or "
            f"`uci set`), and committing now would write them too. Review them with "
            f"`uci changes {config}`, then `uci commit {config}` or `uci revert {config}`, "
            "and retry"
        )


def _make_private_savedir(owner: object) -> str:
    """A fresh save directory for ``owner``'s staged changes, removed together with it."""
    import shutil
    import tempfile
    import weakref

    path = tempfile.mkdtemp(prefix="pppossh-uci-")
    weakref.finalize(owner, shutil.rmtree, path, True)
    return path


def _ensure_config_file(confdir: str, config: str) -> None:
    """Create an empty config file, since libuci cannot stage changes to a missing one."""
    path = os.path.join(confdir, config)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise UciError(
            f"cannot create {path}: {exc.strerror}; check that {confdir} exists"
        ) from exc
    os.fchmod(fd, NEW_FILE_MODE)
    os.close(fd)


# -- file backend ---------------------------------------------------------------------------

_Change = Callable[[Package], object]


class FileBackend:
    """Reads and writes the config files directly, for machines without libuci.

    Changes are kept as a list of edits; ``commit`` locks the file like ``uci commit`` does,
    re-reads it, replays the edits on what is there now (edits whose section has vanished are
    dropped, as libuci drops such deltas) and replaces the file atomically.
    """

    name = "file"

    def __init__(self, confdir: str = "/etc/config") -> None:
        self.confdir = confdir
        self._staged: dict[str, tuple[Package, list[_Change]]] = {}

    # reading

    def _path(self, config: str) -> str:
        check_config(config)
        return os.path.join(self.confdir, config)

    def _parse(self, config: str, data: bytes) -> Package:
        text = data.decode("utf-8", "surrogateescape")
        return fileformat.parse(text, config, source=self._path(config))

    def _read(self, config: str) -> Package | None:
        path = self._path(config)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UciError(f"cannot read {path}: {exc.strerror}") from exc
        return self._parse(config, data)

    def _view(self, config: str) -> Package | None:
        staged = self._staged.get(config)
        return staged[0] if staged else self._read(config)

    def sections(self, config: str, type: str | None = None) -> list[Section]:
        package = self._view(config)
        if package is None:
            return []
        return [_to_section(s) for s in package.sections if type is None or s.type == type]

    def section(self, config: str, name: str) -> Section | None:
        package = self._view(config)
        found = package.find(name) if package else None
        return _to_section(found) if found else None

    # writing

    def _change(self, config: str, change: _Change) -> None:
        staged = self._staged.get(config)
        if staged is None:
            staged = (self._read(config) or Package(config), [])
        change(staged[0])
        staged[1].append(change)
        self._staged[config] = staged

    def set_section(self, config: str, name: str, type: str) -> None:
        _check_target(config, name)
        check_type(type, f"{config}.{name}")
        self._change(config, lambda p: p.find(name) or p.add_section(type, name))

    def add_section(self, config: str, type: str) -> str:
        check_config(config)
        check_type(type, config)
        package = self._view(config)
        name = generated_name((package.n_section if package else 0) + 1, type)
        self._change(config, lambda p: p.add_section(type, name, anonymous=True))
        return name

    def set(self, config: str, section: str, option: str, value: Value) -> None:
        where = _check_target(config, section, option)
        value = check_value(value, where)
        if not value:
            self.delete(config, section, option)
        elif isinstance(value, str):
            self._change(config, lambda p: p.require(section).set_option(option, value))
        else:
            self._change(config, lambda p: p.require(section).set_list(option, value))

    def delete(self, config: str, section: str, option: str | None = None) -> None:
        _check_target(config, section, option)
        package = self._view(config)
        if package is None or package.find(section) is None:
            return
        if option is None:
            self._change(config, lambda p: p.delete(section))
        else:
            self._change(config, lambda p: _delete_option(p, section, option))

    def commit(self, config: str) -> None:
        staged = self._staged.get(config)
        if not staged:
            return
        path = self._path(config)
        with _locked(path) as (fd, existed):
            current = self._parse(config, _read_fd(fd)) if existed else Package(config)
            for change in staged[1]:
                with contextlib.suppress(UciError):
                    change(current)
            _write_atomic(path, fileformat.dump(current).encode("utf-8", "surrogateescape"))
        del self._staged[config]


def _delete_option(package: Package, section: str, option: str) -> None:
    found = package.find(section)
    if found is not None:
        found.options.pop(option, None)


@contextlib.contextmanager
def _locked(path: str) -> Iterator[tuple[int, bool]]:
    """Open (creating if needed) and exclusively lock ``path``, as ``uci commit`` does."""
    existed = os.path.exists(path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, NEW_FILE_MODE)
    except OSError as exc:
        raise UciError(
            f"cannot open {path} for writing: {exc.strerror}; check that "
            f"{os.path.dirname(path) or '.'} exists and is writable"
        ) from exc
    try:
        if not existed:
            os.fchmod(fd, NEW_FILE_MODE)
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd, existed
    finally:
        os.close(fd)


def _read_fd(fd: int) -> bytes:
    chunks = []
    os.lseek(fd, 0, os.SEEK_SET)
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` (through symlinks, like libuci) without a window of partial content."""
    try:
        atomic.write_atomic(path, data, 0o644)
    except OSError as exc:
        raise UciError(f"cannot write {path}: {exc.strerror}") from exc


# -- uci command line backend --------------------------------------------------------------


class CliBackend:
    """Runs the ``uci`` program (argv lists, never a shell).

    Our changes are staged in a private save directory (``uci -t``) so that an administrator's
    ``uci commit`` or LuCI never commits them half-done.  Reads use ``uci -n export``: export,
    unlike show, tells options from lists, and ``-n`` prints the generated names uci itself
    uses for anonymous sections (counting sections deleted by staged changes too).
    """

    name = "cli"

    def __init__(
        self,
        confdir: str = "/etc/config",
        uci_path: str = "uci",
        default_savedir: str | None = None,
    ) -> None:
        self.confdir = confdir
        self.uci_path = uci_path
        # the uci program cannot tell its save directory: libuci's built-in default
        self.default_savedir = default_savedir or DEFAULT_SAVEDIR
        self._savedir: str | None = None
        self._dirty: set[str] = set()

    def _private_savedir(self) -> str:
        if self._savedir is None:
            self._savedir = _make_private_savedir(self)
        return self._savedir

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        import subprocess

        argv = [self.uci_path, "-c", self.confdir]
        if self._savedir is not None:
            argv += ["-t", self._savedir]
        argv += args
        try:
            return subprocess.run(
                argv,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="surrogateescape",
                check=False,
            )
        except OSError as exc:
            raise UciError(
                f"cannot run {self.uci_path!r}: {exc.strerror}; install OpenWrt's uci package "
                "or choose another backend with PPPOSSH_UCI_BACKEND=file"
            ) from exc

    @staticmethod
    def _message(proc: subprocess.CompletedProcess[str]) -> str:
        """uci's error text without its ``<argv0>: `` prefix."""
        lines = proc.stderr.strip().splitlines()
        if not lines:
            return f"exit status {proc.returncode}"
        return lines[-1].split(": ", 1)[-1]

    def _fail(self, proc: subprocess.CompletedProcess[str], *args: str) -> UciError:
        return UciError(f"`uci {' '.join(args)}` failed: {self._message(proc)}")

    def _write(self, config: str, section: str, *args: str) -> None:
        """Stage one change; a refused change means the section does not exist."""
        self._private_savedir()
        proc = self._run(*args)
        if proc.returncode != 0:
            if self._message(proc) in ("Invalid argument", "Entry not found"):
                raise _missing_section(config, section)
            raise self._fail(proc, *args)
        self._dirty.add(config)

    # reading

    def _export(self, config: str) -> Package | None:
        check_config(config)
        proc = self._run("-n", "export", config)
        if proc.returncode != 0:
            if self._message(proc) == "Entry not found":
                return None
            raise self._fail(proc, "export", config)
        return fileformat.parse(proc.stdout, config, source=f"`uci export {config}`")

    def sections(self, config: str, type: str | None = None) -> list[Section]:
        package = self._export(config)
        if package is None:
            return []
        return [
            _to_section(s, looks_generated(s.name, s.type))
            for s in package.sections
            if type is None or s.type == type
        ]

    def section(self, config: str, name: str) -> Section | None:
        package = self._export(config)
        found = package.find(name) if package else None
        return _to_section(found, looks_generated(found.name, found.type)) if found else None

    # writing

    def set_section(self, config: str, name: str, type: str) -> None:
        _check_target(config, name)
        check_type(type, f"{config}.{name}")
        if self._run("-q", "get", f"{config}.{name}").returncode == 0:
            return
        _ensure_config_file(self.confdir, config)
        self._write(config, name, "set", f"{config}.{name}={type}")

    def add_section(self, config: str, type: str) -> str:
        check_config(config)
        check_type(type, config)
        _ensure_config_file(self.confdir, config)
        self._private_savedir()
        proc = self._run("add", config, type)
        if proc.returncode != 0:
            raise self._fail(proc, "add", config, type)
        self._dirty.add(config)
        return proc.stdout.strip()

    def set(self, config: str, section: str, option: str, value: Value) -> None:
        where = _check_target(config, section, option)
        value = check_value(value, where)
        if not value:
            self.delete(config, section, option)
        elif isinstance(value, str):
            self._write(config, section, "set", f"{where}={value}")
        else:
            self._set_list(config, section, where, value)

    def _set_list(self, config: str, section: str, where: str, items: tuple[str, ...]) -> None:
        """Replace a list in place.

        ``delete`` + ``add_list`` would move the list to the end of its section, so set a
        placeholder string first (libuci replaces options in place), turn it into a list in
        place with ``add_list`` and drop the placeholder again.
        """
        placeholder = "pppossh-list-placeholder"
        while placeholder in items:
            placeholder += "-"
        self._write(config, section, "set", f"{where}={placeholder}")
        for item in items:
            self._write(config, section, "add_list", f"{where}={item}")
        self._write(config, section, "del_list", f"{where}={placeholder}")

    def delete(self, config: str, section: str, option: str | None = None) -> None:
        where = _check_target(config, section, option)
        self._private_savedir()
        proc = self._run("delete", where)
        if proc.returncode == 0:
            self._dirty.add(config)
        elif self._message(proc) != "Entry not found":
            raise self._fail(proc, "delete", where)

    def commit(self, config: str) -> None:
        check_config(config)
        if config not in self._dirty:
            return
        _refuse_foreign_changes(self.default_savedir, config)
        proc = self._run("commit", config)
        if proc.returncode != 0:
            raise self._fail(proc, "commit", config)
        self._dirty.discard(config)


# -- pyuci backend --------------------------------------------------------------------------


class EUciBackend:
    """Uses pyuci's ``euci.EUci`` (python3-pyuci on OpenWrt): no process per call.

    What pyuci 0.10.3 does, and how this backend lives with it:

    - every change is staged in a private save directory (``EUci(savedir=...)``), like the CLI
      backend's ``uci -t``: pyuci's ``add`` writes its delta into the handle's save directory
      at once, and in the default one (/tmp/.uci) it would sit among the administrator's
      changes, be refused by our own staged-changes check and be committed by the next
      ``uci commit``;
    - every call uses a fresh handle, and every change is saved to the private directory right
      away: ``add`` refuses a config its handle has loaded already ("Duplicate entry"), and a
      fresh handle also sees what others committed meanwhile;
    - pyuci cannot tell anonymous sections apart, so they are recognised by their generated
      name; its list setter deletes and re-adds the list, which moves a replaced list to the
      end of its section.
    """

    name = "euci"

    def __init__(
        self, confdir: str = "/etc/config", default_savedir: str | None = None
    ) -> None:
        try:
            import uci as pyuci
            from euci import EUci
        except ImportError as exc:
            raise UciError(
                "the euci backend needs pyuci (python3-pyuci on OpenWrt); install it or choose "
                "another backend with PPPOSSH_UCI_BACKEND=cli or =file"
            ) from exc
        self.confdir = confdir
        self._euci_class: Callable[..., Any] = EUci
        # where LuCI and `uci set` stage: what libuci's default is, as pyuci reports it
        self.default_savedir = default_savedir or str(EUci(confdir=confdir).savedir())
        self._not_found: type[Exception] = pyuci.UciExceptionNotFound
        self._uci_error: type[Exception] = pyuci.UciException
        self._savedir: str | None = None
        self._dirty: set[str] = set()

    def _private_savedir(self) -> str:
        if self._savedir is None:
            self._savedir = _make_private_savedir(self)
        return self._savedir

    def _euci(self, write: bool = False) -> Any:
        """A new handle: on the private save directory once anything is (to be) staged."""
        savedir = self._private_savedir() if write else self._savedir
        if savedir is None:
            return self._euci_class(confdir=self.confdir)
        return self._euci_class(savedir=savedir, confdir=self.confdir)

    # reading

    def _section(self, handle: Any, config: str, name: str) -> Section | None:
        try:
            options = handle.get_all(config, name)
            type = handle.get(config, name)
        except self._not_found:
            return None
        return Section(name, type, looks_generated(name, type), dict(options))

    def sections(self, config: str, type: str | None = None) -> list[Section]:
        check_config(config)
        handle = self._euci()
        try:
            names = list(handle.get_all(config))
        except self._not_found:
            return []
        found = (self._section(handle, config, name) for name in names)
        return [s for s in found if s is not None and (type is None or s.type == type)]

    def section(self, config: str, name: str) -> Section | None:
        _check_target(config, name)
        return self._section(self._euci(), config, name)

    # writing

    def _call(self, what: str, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except self._uci_error as exc:
            raise UciError(f"pyuci {what} {'.'.join(map(str, args[:3]))} failed: {exc!r}") from exc

    def _save(self, handle: Any, config: str) -> None:
        """Write the handle's changes to the private save directory (``uci_save``)."""
        self._call("save", handle.save, config)
        self._dirty.add(config)

    def set_section(self, config: str, name: str, type: str) -> None:
        _check_target(config, name)
        check_type(type, f"{config}.{name}")
        handle = self._euci(write=True)
        if self._section(handle, config, name) is not None:
            return
        _ensure_config_file(self.confdir, config)
        self._call("set", handle.set, config, name, type)
        self._save(handle, config)

    def add_section(self, config: str, type: str) -> str:
        check_config(config)
        check_type(type, config)
        _ensure_config_file(self.confdir, config)
        handle = self._euci(write=True)  # add loads the config itself: not loaded before
        try:
            name = self._call("add", handle.add, config, type)
        except NotImplementedError as exc:
            raise UciError(
                "this pyuci cannot create anonymous sections (Uci.add is not implemented); "
                "use a named section, or PPPOSSH_UCI_BACKEND=cli"
            ) from exc
        self._dirty.add(config)  # add has saved its delta and unloaded the config
        return str(name)

    def set(self, config: str, section: str, option: str, value: Value) -> None:
        where = _check_target(config, section, option)
        value = check_value(value, where)
        if not value:
            self.delete(config, section, option)
            return
        handle = self._euci(write=True)
        if self._section(handle, config, section) is None:
            raise _missing_section(config, section)
        self._call("set", handle.set, config, section, option, value)
        self._save(handle, config)

    def delete(self, config: str, section: str, option: str | None = None) -> None:
        _check_target(config, section, option)
        handle = self._euci(write=True)
        if self._section(handle, config, section) is None:
            return
        if option is not None and option not in handle.get_all(config, section):
            return
        args = (config, section) if option is None else (config, section, option)
        self._call("delete", handle.delete, *args)
        self._save(handle, config)

    def commit(self, config: str) -> None:
        check_config(config)
        if config not in self._dirty:
            return
        _refuse_foreign_changes(self.default_savedir, config)
        self._call("commit", self._euci(write=True).commit, config)
        self._dirty.discard(config)
