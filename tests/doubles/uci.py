"""Test double for pyuci's ``uci`` module (the C extension that needs libuci).

It behaves as tests/golden/uci/euci-transcript.txt and euci-transcript-2.txt record:
``get``/``get_all`` return str, tuple (lists: tuples of strings) or dict; anything missing raises
``UciExceptionNotFound`` (a ``UciException``, not a KeyError); ``@type[n]`` section names are not
understood; anonymous sections are reached by their generated name; ``set`` and ``delete``
change memory only until ``save``/``commit``; ``changes`` raises NotImplementedError.
The module exposes exactly the public names listed in euci-transcript-2.txt.

Not in the transcripts, replayed from pyuci 0.10.3's pyuci.c and libuci (the facts issue 9
lists for the real binding on a router):

- ``add(config, type)`` loads the config itself and fails with ``Duplicate entry`` when this
  handle has loaded it already (libuci's ``uci_load`` of a loaded package); otherwise it adds
  the anonymous section, writes the delta (``+config.cfgXXXXXX='type'``, the line format of
  uci-write-transcript.txt) into the save directory at once (``uci_save``) and unloads the
  config again, so the next read on the handle loads file + deltas afresh;
- ``Uci`` is an immutable C type: its attributes cannot be set or deleted (no monkeypatching)
  and its instances take no new attributes; ``EUci``, a Python subclass, can be patched;
- list setting deletes then adds every item (a replaced list moves to the end of its
  section); ``commit`` replays every delta file on the delta path, see _libuci.
"""

# No ``from __future__ import annotations``: it would add a public module attribute.

import _libuci as _lib


class _CType(type):
    """The metaclass that makes ``Uci`` behave like a static C type (``uci.Uci``)."""

    def __setattr__(cls, name: str, value: object) -> None:
        if cls.__module__ == __name__:
            raise TypeError(f"cannot set {name!r} attribute of immutable type 'uci.Uci'")
        super().__setattr__(name, value)

    def __delattr__(cls, name: str) -> None:
        if cls.__module__ == __name__:
            raise TypeError(f"cannot delete {name!r} attribute of immutable type 'uci.Uci'")
        super().__delattr__(name)


class UciException(Exception):  # pyuci's names
    """Base of pyuci's errors."""


class UciExceptionNotFound(UciException):
    """The config, section or option does not exist."""


class UciExceptionInvalidInput(UciException):
    """Declared by pyuci; not raised by anything the transcripts show."""


class Uci(metaclass=_CType):
    """One libuci context; packages are loaded on first use and cached."""

    __slots__ = ("_ctx", "_tainted")

    def __init__(self, savedir: str | None = None, confdir: str | None = None) -> None:
        self._ctx = _lib.Context(confdir or "/etc/config")
        if savedir:
            self._ctx.set_savedir(savedir)
        self._tainted = False

    def __enter__(self) -> "Uci":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tainted:
            self.commit()

    # lookups

    def _lookup(self, args: tuple[str, ...]) -> "tuple[_lib.Loaded | None, object]":
        """(loaded package, element) like pyuci's lookup_ptr; element None if missing."""
        if len(args) == 1 and "." in args[0]:
            ptr = _lib.parse_ptr(args[0])
            args = tuple(a for a in (ptr.package, ptr.section, ptr.option) if a is not None)
        try:
            loaded = self._ctx.load(args[0])
        except _lib.LibUciError:
            return None, None
        if len(args) == 1:
            return loaded, loaded.package
        section = loaded.package.find(args[1])
        if len(args) == 2 or section is None:
            return loaded, section
        return loaded, (section, args[2]) if args[2] in section.options else None

    def _get(self, args: tuple[str, ...], everything: bool) -> object:
        _loaded, element = self._lookup(args)
        if element is None:
            raise UciExceptionNotFound()
        if isinstance(element, _lib.Package):
            return {s.name: self._options(s) for s in element.sections}
        if isinstance(element, _lib.ConfigSection):
            return self._options(element) if everything else element.type
        section, option = element
        return self._value(section.options[option])

    @staticmethod
    def _value(value: "str | list[str]") -> "str | tuple[str, ...]":
        return value if isinstance(value, str) else tuple(value)

    def _options(self, section: "_lib.ConfigSection") -> dict:
        return {name: self._value(value) for name, value in section.options.items()}

    def get(self, *args: str) -> object:
        return self._get(args, everything=False)

    def get_all(self, *args: str) -> object:
        return self._get(args, everything=True)

    # changes

    def _change(self, loaded: "_lib.Loaded", cmd: str, section: str, option, value) -> None:
        try:
            recorded = _lib.apply(loaded.package, cmd, section, option, value)
        except _lib.LibUciError as exc:
            raise UciException(str(exc)) from None
        if recorded is not None:
            kept = None if recorded == "remove" and cmd != "remove" else value
            loaded.pending.append(_lib.Delta(recorded, section, option, kept))
        self._tainted = True

    def set(self, *args: object) -> None:
        if len(args) not in (3, 4):
            raise UciException("Invalid number of arguments passed to Uci.set()")
        config, section, *rest = args
        option = rest[0] if len(rest) == 2 else None
        data = rest[-1]
        loaded, _element = self._lookup((config,))
        if loaded is None:
            raise UciException("Invalid argument")
        if isinstance(data, (tuple, list)):
            found = loaded.package.find(section)
            if found is not None and option in found.options:  # pyuci ignores a failed delete
                self._change(loaded, "remove", section, option, None)
            for item in data:
                if not isinstance(item, str):  # PyUnicode_AsUTF8 of a list item
                    raise TypeError("bad argument type for built-in operation")
                self._change(loaded, "list_add", section, option, item)
        elif isinstance(data, str):
            self._change(loaded, "change", section, option, data)
        else:
            raise UciException("Unsupported value passed to uci.set()")

    def delete(self, *args: str) -> None:
        loaded, element = self._lookup(args)
        if loaded is None or element is None or len(args) < 2:
            return
        option = args[2] if len(args) > 2 else None
        self._change(loaded, "remove", args[1], option, None)

    def add(self, config: str, type: str) -> str:
        """pyuci_add: uci_load (a loaded config is a duplicate), add, uci_save, uci_unload."""
        if not isinstance(config, str) or not isinstance(type, str):
            raise TypeError("argument 1 must be str")
        if config in self._ctx.loaded:
            raise UciException(_lib.MESSAGES[_lib.ERR_DUPLICATE])
        try:
            loaded = self._ctx.load(config)
        except _lib.LibUciError as exc:
            raise UciException(str(exc)) from None
        section = loaded.package.add_section(type)
        loaded.pending.append(_lib.Delta("add", section.name, None, type))
        self._ctx.save(loaded)
        del self._ctx.loaded[config]
        self._tainted = True
        return section.name

    # packages

    def _packages(self, config: "str | None") -> list:
        if config is not None:
            self._lookup((config,))
            return [config] if config in self._ctx.loaded else []
        return list(self._ctx.loaded)

    def save(self, config: "str | None" = None) -> None:
        for name in self._packages(config):
            self._ctx.save(self._ctx.loaded[name])
        self._tainted = False

    def commit(self, config: "str | None" = None) -> None:
        for name in self._packages(config):
            self._ctx.commit(name)
        self._tainted = False

    def revert(self, config: "str | None" = None) -> None:
        for name in self._packages(config):
            self._ctx.revert(name, None, None)
        self._tainted = False

    def changes(self, *args: object) -> None:
        raise NotImplementedError()

    def load(self, *args: object) -> None:
        raise NotImplementedError()

    def unload(self, *args: object) -> None:
        raise NotImplementedError()

    def rename(self, *args: object) -> None:
        raise NotImplementedError("not modelled by the test double")

    def reorder(self, *args: object) -> None:
        raise NotImplementedError("not modelled by the test double")

    def list_configs(self) -> list[str]:
        return self._ctx.list_configs()

    def confdir(self) -> str:
        return self._ctx.confdir

    def set_confdir(self, directory: str) -> None:
        self._ctx.confdir = directory

    def savedir(self) -> str:
        return self._ctx.savedir

    def set_savedir(self, directory: str) -> None:
        self._ctx.set_savedir(directory)
