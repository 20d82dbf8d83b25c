"""Types and checks shared by every UCI backend.

Names are checked here, before any backend runs, so that the three backends reject the same
input with the same message instead of each failing in its own way (or not at all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from pppossh.errors import ConfigError

Value = str | tuple[str, ...]
"""An option value: ``str`` for ``option``, ``tuple`` for ``list`` (even with one item)."""

_NAME_RE = re.compile(r"[A-Za-z0-9_]+\Z")
_CONFIG_RE = re.compile(r"[A-Za-z0-9_-]+\Z")
_TYPE_RE = re.compile(r"[\x21-\x7e]+\Z")
_BAD_VALUE_CHAR_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class UciError(ConfigError):
    """Reading or writing UCI configuration failed; the message names the entry and the fix.

    A :class:`~pppossh.errors.ConfigError` (code ``UCI_ERROR``): whoever reports pppossh's
    errors reports this one the same way.
    """

    def __init__(self, message: str) -> None:
        super().__init__("UCI_ERROR", message)

    def __str__(self) -> str:
        return self.message


class UciParseError(UciError):
    """A config file is not valid UCI syntax.

    ``line`` is 1-based, ``byte`` the 0-based offset in that line, ``reason`` libuci's wording.
    """

    def __init__(self, source: str, reason: str, line: int, byte: int) -> None:
        super().__init__(f"{source}, line {line}: {reason}; fix that line of the file")
        self.source = source
        self.reason = reason
        self.line = line
        self.byte = byte


@dataclass
class Section:
    """One UCI section as read from a config.

    ``name`` is the real name, or libuci's generated ``cfgXXXXXX`` for an anonymous section;
    ``options`` keeps file order and maps to ``str`` (option) or ``tuple`` (list).
    """

    name: str
    type: str
    anonymous: bool
    options: dict[str, Value] = field(default_factory=dict)


class Uci(Protocol):
    """What pppossh needs from UCI; every backend implements exactly this.

    Writes are staged until ``commit(config)``; reads see the staged state.
    """

    name: str
    confdir: str

    def sections(self, config: str, type: str | None = None) -> list[Section]:
        """All sections (of ``type`` if given) in file order; [] if the config does not exist."""
        ...

    def section(self, config: str, name: str) -> Section | None:
        """The section called ``name`` (real or generated name), or None."""
        ...

    def set_section(self, config: str, name: str, type: str) -> None:
        """Create the named section if it is missing; an existing one keeps its type."""
        ...

    def add_section(self, config: str, type: str) -> str:
        """Append an anonymous section and return its generated name."""
        ...

    def set(self, config: str, section: str, option: str, value: Value) -> None:
        """Set an option (str) or replace a whole list (tuple); "" or () deletes the option."""
        ...

    def delete(self, config: str, section: str, option: str | None = None) -> None:
        """Delete an option, or the whole section when ``option`` is None; missing is fine."""
        ...

    def commit(self, config: str) -> None:
        """Write the staged changes of ``config`` to its file."""
        ...


def djbhash(text: str) -> int:
    """libuci's hash for generated section names (D. J. Bernstein's, 31-bit result)."""
    value = 5381
    for byte in text.encode("utf-8", "surrogateescape"):
        value = (value * 33 + byte) & 0xFFFFFFFF
    return value & 0x7FFFFFFF


def generated_name(counter: int, type: str) -> str:
    """The name libuci gives the ``counter``-th section of a package if it is anonymous."""
    return f"cfg{counter:02x}{djbhash(type) % 65536:04x}"


def looks_generated(name: str, type: str) -> bool:
    """Whether ``name`` has the shape libuci generates for an anonymous section of ``type``.

    Used where the backend cannot tell anonymous sections apart (pyuci, ``uci -n export``);
    a user would have to name a section exactly like this to be misreported.
    """
    digits = name[3:]
    return (
        name.startswith("cfg")
        and len(digits) >= 6
        and all(c in "0123456789abcdef" for c in digits)
        and digits[-4:] == f"{djbhash(type) % 65536:04x}"
    )


def check_config(config: str) -> None:
    """Reject config names that are not plain file names in the config directory."""
    if not isinstance(config, str) or not _CONFIG_RE.match(config):
        raise UciError(f"invalid UCI config name {config!r}: use only letters, digits, '_' and '-'")


def check_name(kind: str, name: str, where: str) -> None:
    """Reject section/option names libuci would refuse (only letters, digits and '_')."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise UciError(
            f"invalid UCI {kind} name {name!r} in {where}: use only letters, digits and '_'"
        )


def check_type(type: str, where: str) -> None:
    """Reject section types libuci would refuse (printable ASCII without spaces)."""
    if not isinstance(type, str) or not _TYPE_RE.match(type):
        raise UciError(
            f"invalid UCI section type {type!r} in {where}: "
            "use printable ASCII characters without spaces"
        )


def check_value(value: object, where: str) -> Value:
    """Normalise a value to ``str`` or ``tuple`` and reject what uci cannot store.

    libuci refuses control characters other than tab, newline and carriage return.
    """
    items: tuple[object, ...]
    if isinstance(value, str):
        items = (value,)
    elif isinstance(value, (tuple, list)):
        items = tuple(value)
    else:
        raise UciError(
            f"invalid value for {where}: expected a string or a tuple of strings, "
            f"got {type(value).__name__}"
        )
    for item in items:
        if not isinstance(item, str):
            raise UciError(f"invalid list item {item!r} for {where}: list items must be strings")
        if _BAD_VALUE_CHAR_RE.search(item):
            raise UciError(
                f"invalid value {item!r} for {where}: control characters other than tab, "
                "newline and carriage return cannot be stored in UCI"
            )
    return value if isinstance(value, str) else tuple(items)  # type: ignore[return-value]
