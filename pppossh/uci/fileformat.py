"""The UCI text format, read and written the way libuci (the library behind ``uci``) does.

Reading follows libuci's parser statement by statement, so a file means here what it means to
``uci``: same quoting, same ``;`` and ``#`` handling, same dropped empty options, same generated
names for anonymous sections.  Writing produces exactly the bytes ``uci commit`` writes, so a
file we commit looks as if ``uci`` had written it.

The in-memory :class:`Package` applies changes with libuci's position rules (a changed option
keeps its place, a new one goes to the end of its section, a new section to the end of file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NoReturn

from pppossh.uci.base import UciError, UciParseError, generated_name

_SPACE = " \t\n\v\f\r"  # C isspace() in the "C" locale, which libuci uses
_INLINE_SPACE = " \t\v\f\r"  # the same without newline, which ends a statement here
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@dataclass
class ConfigSection:
    """A section while it is being edited; lists are Python lists."""

    name: str
    type: str
    anonymous: bool
    options: dict[str, str | list[str]] = field(default_factory=dict)

    def set_option(self, option: str, value: str) -> None:
        """libuci ``uci_set`` on an option: replace in place or append; "" deletes it."""
        if value == "":
            self.options.pop(option, None)
        else:
            self.options[option] = value

    def set_list(self, option: str, items: list[str] | tuple[str, ...]) -> None:
        """Replace a whole list in place (or append it); an empty list deletes the option."""
        if items:
            self.options[option] = list(items)
        else:
            self.options.pop(option, None)

    def add_list(self, option: str, value: str) -> None:
        """libuci ``uci_add_list``: an existing string option becomes a list in place."""
        current = self.options.get(option)
        if current is None:
            self.options[option] = [value]
        elif isinstance(current, str):
            self.options[option] = [current, value]
        else:
            current.append(value)

    def del_list(self, option: str, value: str) -> None:
        """libuci ``uci_del_list``: remove every equal item; plain options are left alone."""
        current = self.options.get(option)
        if isinstance(current, list):
            current[:] = [item for item in current if item != value]


@dataclass
class Package:
    """One config file: its sections in order plus libuci's section counter."""

    name: str
    sections: list[ConfigSection] = field(default_factory=list)
    n_section: int = 0

    def find(self, name: str) -> ConfigSection | None:
        """First section called ``name`` (libuci allows duplicates and finds the first)."""
        for section in self.sections:
            if section.name == name:
                return section
        return None

    def require(self, name: str) -> ConfigSection:
        """The section called ``name``, or an error that says how to create it."""
        section = self.find(name)
        if section is None:
            raise UciError(
                f"{self.name}.{name}: no such section; create it first "
                f"(set_section for a named one, add_section for an anonymous one)"
            )
        return section

    def add_section(
        self, type: str, name: str | None = None, anonymous: bool | None = None
    ) -> ConfigSection:
        """Append a section; without ``name`` it is anonymous and gets libuci's name."""
        self.n_section += 1
        if anonymous is None:
            anonymous = name is None
        if name is None:
            name = generated_name(self.n_section, type)
        section = ConfigSection(name, type, anonymous)
        self.sections.append(section)
        return section

    def set_section(self, name: str, type: str) -> ConfigSection:
        """libuci ``uci_set`` on a section: change the type of an existing one or append it."""
        section = self.find(name)
        if section is None:
            return self.add_section(type, name)
        section.type = type
        return section

    def delete(self, name: str) -> None:
        """Remove the first section called ``name`` if there is one."""
        section = self.find(name)
        if section is not None:
            self.sections.remove(section)


def escape(text: str) -> str:
    """libuci's ``uci_escape``: ``'`` becomes ``'\\''`` (the caller adds the quotes)."""
    return text.replace("'", "'\\''")


def quote(value: str) -> str:
    """Single-quote a value the way libuci writes it."""
    return "'" + escape(value) + "'"


def dump(package: Package, header: bool = False, name_anonymous: bool = False) -> str:
    """Render ``package`` byte for byte like ``uci commit`` (``header``: like ``uci export``).

    ``name_anonymous`` also prints generated names, like ``uci -n export``.
    """
    out = [f"package {escape(package.name)}\n"] if header else []
    for section in package.sections:
        out.append(f"\nconfig {escape(section.type)}")
        if not section.anonymous or name_anonymous:
            out.append(f" {quote(section.name)}")
        out.append("\n")
        for option, value in section.options.items():
            if isinstance(value, str):
                out.append(f"\toption {escape(option)} {quote(value)}\n")
            else:
                out.extend(f"\tlist {escape(option)} {quote(item)}\n" for item in value)
    out.append("\n")
    return "".join(out)


def parse(text: str, name: str | None = None, source: str | None = None) -> Package:
    """Parse a config file (or ``uci export`` output) into a :class:`Package`.

    ``name`` is the config name; when None, a ``package`` line provides it (else "").  Raises
    :class:`UciParseError` naming ``source`` and the line for anything libuci would reject.
    """
    return _Parser(text, name, source or name or "<uci text>").run()


def split_lines(text: str) -> list[list[str]]:
    """The words of each line, with libuci's quoting (a quoted newline stays in its word).

    This is how libuci reads its delta files; blank lines give no entry.
    """
    parser = _Parser(text, "", "<delta>")
    lines: list[list[str]] = []
    while parser.pos < len(parser.text):
        words = []
        while True:
            word = parser.next_arg()
            if word == "" and parser.at_eol():
                break
            words.append(word)
        if words:
            lines.append(words)
        if parser.cur() == "\n":
            parser.advance()
    return lines


class _Parser:
    """libuci's statement parser, over the whole text instead of a line buffer.

    libuci reads a line at a time and extends the buffer when a quoted value goes on; here
    newline is simply the end of a statement outside quotes and an ordinary character inside.
    """

    def __init__(self, text: str, name: str | None, source: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.source = source
        self.package = Package(name or "")
        self.need_name = name is None
        self.section: ConfigSection | None = None

    # -- characters -------------------------------------------------------------------

    def cur(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_eol(self) -> bool:
        return self.cur() in ("", "\n")

    def advance(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        if char == "\n":
            self.line += 1
            self.line_start = self.pos
        return char

    def skip_inline_space(self) -> None:
        while self.cur() and self.cur() in _INLINE_SPACE:
            self.pos += 1

    def skip_to_eol(self) -> None:
        while not self.at_eol():
            self.pos += 1

    def error(self, reason: str, where: tuple[int, int] | None = None) -> NoReturn:
        line, byte = where or (self.line, self.pos - self.line_start)
        raise UciParseError(self.source, reason, line, byte)

    def here(self) -> tuple[int, int]:
        return self.line, self.pos - self.line_start

    # -- arguments ----------------------------------------------------------------------

    def backslash(self) -> bool:
        """Skip a backslash; False if it continued the line (nothing to add)."""
        self.pos += 1
        rest = self.text[self.pos : self.pos + 2]
        if rest == "" or rest[0] == "\n" or rest == "\r\n":
            if rest == "\r\n":
                self.pos += 1
            if self.cur():
                self.advance()
            return False
        return True

    def single_quoted(self, out: list[str]) -> None:
        opened = self.here()  # reported there: more useful than libuci's end of file
        self.pos += 1
        while True:
            char = self.cur()
            if char == "'":
                self.pos += 1
                return
            if char == "":
                self.error("EOF with unterminated '", opened)
            out.append(self.advance())

    def double_quoted(self, out: list[str]) -> None:
        opened = self.here()
        self.pos += 1
        while True:
            char = self.cur()
            if char == '"':
                self.pos += 1
                return
            if char == "":
                self.error('EOF with unterminated "', opened)
            if char == "\\" and not self.backslash():
                continue
            out.append(self.advance())

    def word(self) -> str:
        """One argument: quoted and bare pieces glued together up to unquoted space."""
        out: list[str] = []
        stop_after = True
        while True:
            char = self.cur()
            if char == "'":
                self.single_quoted(out)
            elif char == '"':
                self.double_quoted(out)
            elif char == "#":
                self.skip_to_eol()
                break
            elif char in ("", "\n"):
                break
            elif char == ";":
                stop_after = False
                break
            elif char == "\\":
                if self.backslash() and self.cur():
                    out.append(self.advance())
            else:
                out.append(char)
                self.pos += 1
            if self.cur() == "" or self.cur() in _SPACE:
                break
        if stop_after and self.cur() and self.cur() in _INLINE_SPACE:
            self.pos += 1
        return "".join(out)

    def next_arg(self, required: bool = False, kind: str | None = None) -> str:
        self.skip_inline_space()
        if self.cur() == ";":
            self.pos += 1
            value = ""
        else:
            value = self.word()
        if value == "":
            if required:
                self.error("insufficient arguments")
            return value
        if kind == "name" and not set(value) <= _NAME_CHARS:
            self.error("invalid character in name field")
        if kind == "package" and not set(value) <= _NAME_CHARS | {"-"}:
            self.error("invalid character in name field")
        return value

    def assert_eol(self) -> None:
        self.skip_inline_space()
        if self.next_arg():
            self.error("too many arguments")

    # -- statements ---------------------------------------------------------------------

    def run(self) -> Package:
        while self.pos < len(self.text):
            self.statements()
            if self.cur() == "\n":
                self.advance()
        return self.package

    def statements(self) -> None:
        """All ``;``-separated statements of one line (libuci's ``uci_parse_line``)."""
        while True:
            self.skip_inline_space()
            if self.at_eol():
                return
            start = self.pos
            while self.cur() and self.cur() not in " \t\n":
                self.pos += 1
            command = self.text[start : self.pos]
            if command.startswith("#"):
                self.skip_to_eol()
                return
            self.statement(command, (self.line, start - self.line_start))

    def statement(self, command: str, where: tuple[int, int]) -> None:
        handlers = {
            "p": self.package_statement,
            "package": self.package_statement,
            "c": self.config_statement,
            "config": self.config_statement,
            "o": self.option_statement,
            "option": self.option_statement,
            "l": self.list_statement,
            "list": self.list_statement,
        }
        handler = handlers.get(command)
        if handler is None or self.cur() == "\n":
            self.error("invalid command", where)
        if self.cur() == "":
            self.error(f"{'option' if command[0] in 'ol' else command} without name")
        self.pos += 1  # the space or tab after the command word
        handler()

    def package_statement(self) -> None:
        name = self.next_arg(required=True, kind="package")
        self.assert_eol()
        if self.need_name and not self.package.name:
            self.package.name = name

    def config_statement(self) -> None:
        type = self.next_arg(required=True)
        if any(c in _SPACE or not (0x21 <= ord(c) <= 0x7E) for c in type):
            self.error("invalid character in type field")
        name = self.next_arg(kind="name")
        self.assert_eol()
        if not name:
            self.section = self.package.add_section(type)
            return
        existing = self.package.find(name)
        if existing is not None and existing.type != type:
            self.error("section of different type overwrites prior section with same name")
        self.section = self.package.set_section(name, type)

    def option_statement(self, is_list: bool = False) -> None:
        if self.section is None:
            self.error("option/list command found before the first section")
        name = self.next_arg(required=True, kind="name")
        value = self.next_arg()
        self.assert_eol()
        if is_list:
            self.section.add_list(name, value)
        else:
            self.section.set_option(name, value)

    def list_statement(self) -> None:
        self.option_statement(is_list=True)
