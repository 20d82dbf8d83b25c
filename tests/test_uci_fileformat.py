"""The UCI file format against what the real uci/libuci printed and wrote (golden data)."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
from doubles.golden import CONFIG, UCI_GOLDEN, command_output, golden_bytes, golden_text
from hypothesis import given, settings
from hypothesis import strategies as st

from pppossh.uci import FileBackend, fileformat
from pppossh.uci.base import UciParseError, djbhash, generated_name, looks_generated

INPUT = "pppossh_golden.input.uci"
AFTER_COMMIT = "pppossh_golden.after-commit.uci"


def parse_golden() -> fileformat.Package:
    return fileformat.parse(golden_text(INPUT), CONFIG)


def shown(transcript: str, line: str) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """``uci show`` output as {section: (type, {option: [items]})}."""
    result: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for text in command_output(transcript, line).stdout.splitlines():
        ref, _, value = text.partition("=")
        parts = ref.split(".")
        if len(parts) == 2:
            result[parts[1]] = (value, {})
        else:
            result[parts[1]][1][parts[2]] = shlex.split(value)
    return result


def items(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# -- reading the golden file -------------------------------------------------------------


def test_parse_matches_uci_export_byte_for_byte() -> None:
    expected = command_output("uci-read-transcript.txt", f"uci export {CONFIG}").stdout
    assert fileformat.dump(parse_golden(), header=True) == expected


def test_parse_matches_uci_show_with_generated_names() -> None:
    expected = shown("uci-write-transcript.txt", f"uci -X show {CONFIG}")
    package = parse_golden()
    got = {
        s.name: (s.type, {name: items(value) for name, value in s.options.items()})
        for s in package.sections
    }
    assert got == expected
    assert [s.name for s in package.sections] == list(expected)


def test_anonymous_sections_are_the_ones_uci_show_numbers() -> None:
    refs = shown("uci-read-transcript.txt", f"uci show {CONFIG}")
    anonymous = [s.anonymous for s in parse_golden().sections]
    assert anonymous == [ref.startswith("@") for ref in refs]


def test_values_as_uci_get_prints_them() -> None:
    main = parse_golden().find("main")
    assert main is not None
    for option in ("server", "single", "dq", "spaces", "unquoted"):
        printed = command_output("uci-read-transcript.txt", f"uci get {CONFIG}.main.{option}")
        assert printed.stdout == f"{main.options[option]}\n"


def test_empty_option_is_dropped_and_semicolon_line_is_a_section() -> None:
    package = parse_golden()
    assert "empty" not in package.require("main").options
    assert command_output("uci-read-transcript.txt", f"uci get {CONFIG}.main.empty").exit == 1
    semi = package.require("semi")
    assert (semi.type, semi.options) == ("peer", {"a": "one", "b": "two"})


def test_generated_names() -> None:
    assert djbhash("pppossh") % 65536 == 0x8732
    assert [generated_name(n, "pppossh") for n in (2, 3, 5)] == [
        "cfg028732",
        "cfg038732",
        "cfg058732",
    ]
    assert generated_name(0x123, "pppossh") == "cfg1238732"
    assert looks_generated("cfg058732", "pppossh")
    assert not looks_generated("cfg058732", "peer")
    assert not looks_generated("main", "pppossh")


# -- writing -----------------------------------------------------------------------------


def test_write_sequence_through_file_backend_gives_the_committed_file(tmp_path: Path) -> None:
    shutil.copyfile(UCI_GOLDEN / INPUT, tmp_path / CONFIG)
    uci = FileBackend(str(tmp_path))
    uci.set(CONFIG, "main", "port", "2200")
    uci.set(CONFIG, "main", "newopt", "it's new")
    uci.set(CONFIG, "main", "withdq", 'say "hi"')
    uci.set(CONFIG, "main", "identity", ("/etc/dropbear/key with space", "/etc/dropbear/id_c"))
    uci.set(CONFIG, "main", "newlist", ("first", "second"))
    uci.set(CONFIG, "cfg028732", "name", "renamed-anon")
    uci.delete(CONFIG, "main", "flag_off")
    uci.set(
        CONFIG,
        "main",
        "identity",
        ("/etc/dropbear/key with space", "/etc/dropbear/id_c", "/etc/dropbear/added key"),
    )
    assert uci.add_section(CONFIG, "pppossh") == "cfg058732"
    uci.set_section(CONFIG, "newsec", "peer")
    uci.set(CONFIG, "newsec", "addr", "192.0.2.9")
    uci.set(CONFIG, "main", "empty2", "")
    assert (tmp_path / CONFIG).read_bytes() == golden_bytes(INPUT)
    uci.commit(CONFIG)
    assert (tmp_path / CONFIG).read_bytes() == golden_bytes(AFTER_COMMIT)


def test_committed_file_is_a_fixed_point() -> None:
    text = golden_text(AFTER_COMMIT)
    assert fileformat.dump(fileformat.parse(text, CONFIG)) == text


def test_round_trip_is_stable() -> None:
    once = fileformat.dump(parse_golden())
    twice = fileformat.dump(fileformat.parse(once, CONFIG))
    assert once == twice
    assert fileformat.parse(once, CONFIG) == parse_golden()


def test_anonymous_names_only_with_name_anonymous() -> None:
    text = fileformat.dump(parse_golden(), name_anonymous=True)
    assert "config pppossh 'cfg028732'\n" in text
    assert "config pppossh\n" not in text


def test_empty_package_is_a_single_newline() -> None:
    assert fileformat.dump(fileformat.Package("x")) == "\n"
    assert fileformat.parse("\n", "x").sections == []


_VALUE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n\r"),
    min_size=1,
)


@settings(max_examples=300, deadline=None)
@given(value=_VALUE_TEXT, item=st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_any_value_survives_write_then_parse(value: str, item: str) -> None:
    package = fileformat.Package("x")
    section = package.add_section("t", "s")
    section.set_option("opt", value)
    section.set_list("lst", [item, value, "'\\\";#$ "])
    parsed = fileformat.parse(fileformat.dump(package), "x")
    assert parsed.require("s").options == {"opt": value, "lst": [item, value, "'\\\";#$ "]}


@given(st.lists(st.sampled_from(["'a'", '"b\\"c"', "d\\ e", "'f'g", "\"h\"'i'"]), min_size=1))
def test_concatenated_segments(parts: list[str]) -> None:
    word = "".join(parts)
    expected = "".join(shlex.split(part)[0] for part in parts)
    package = fileformat.parse(f"config t s\n\toption o {word}\n", "x")
    assert package.require("s").options["o"] == expected


# -- libuci's parser, statement by statement -----------------------------------------------


def options_of(text: str, section: str = "s") -> dict[str, str | list[str]]:
    return fileformat.parse(text, "x").require(section).options


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config t s\n\toption a b\n", {"a": "b"}),
        ("c t s\n o a b\n l c d\n", {"a": "b", "c": ["d"]}),
        ("config t s # comment\n\toption a b # trailing\n", {"a": "b"}),
        ("config t s\n\toption a foo#bar\n", {"a": "foo"}),
        ("config t s; option a 'x'; option b \"y\"\n", {"a": "x", "b": "y"}),
        ('config t s\n\toption a "t\\t \\\\ \\" \\$ \\x"\n', {"a": 'tt \\ " $ x'}),
        ("config t s\n\toption a b\\ c\\'d\n", {"a": "b c'd"}),
        ("config t s\n\toption a 'x'\"y\"z\n", {"a": "xyz"}),
        ("config t s\n\toption a 'one\ntwo'\n", {"a": "one\ntwo"}),
        ('config t s\n\toption a "one\ntwo"\n', {"a": "one\ntwo"}),
        ("config t s\n\toption a b\\\nc\n", {"a": "bc"}),
        ("config t s\n\toption a ''\n\toption b ''\n", {}),
        ("config t s\n\toption a x\n\toption a ''\n", {}),
        ("config t s\n\toption a\n", {}),
        ("config t s\n\tlist a ''\n", {"a": [""]}),
        ("config t s\n\toption a x\n\toption b y\n\tlist a z\n", {"a": ["x", "z"], "b": "y"}),
        ("config t s\n\tlist a x\n\toption b y\n\toption a z\n", {"a": "z", "b": "y"}),
        ("config t s\n\toption a x\nconfig t s\n\toption b y\n", {"a": "x", "b": "y"}),
        ("config t s\r\n\toption a 'b'\r\n", {"a": "b"}),
        ("package x\n\nconfig t 's'\n\toption a 'b'\n", {"a": "b"}),
    ],
)
def test_statements(text: str, expected: dict[str, str | list[str]]) -> None:
    assert options_of(text) == expected


def test_sections_counted_by_every_config_line() -> None:
    package = fileformat.parse("config a\nconfig b 'n'\nconfig a\nconfig b 'n'\nconfig b\n", "x")
    assert [(s.name, s.anonymous) for s in package.sections] == [
        (generated_name(1, "a"), True),
        ("n", False),
        (generated_name(3, "a"), True),
        (generated_name(4, "b"), True),
    ]


def test_package_line_names_an_export() -> None:
    export = command_output("uci-read-transcript.txt", f"uci export {CONFIG}").stdout
    package = fileformat.parse(export)
    assert package.name == CONFIG
    assert package == parse_golden()


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("bogus x\n", 1, "invalid command"),
        ("config t s\n\n\toptions a b\n", 3, "invalid command"),
        ("option a b\n", 1, "option/list command found before the first section"),
        ("config t s\n\toption bad-name b\n", 2, "invalid character in name field"),
        ("config t bad-name\n", 1, "invalid character in name field"),
        ("config t s\n\toption a b c\n", 2, "too many arguments"),
        ("config t s\n\toption a 'open\n", 2, "EOF with unterminated '"),
        ('config t s\n\toption a "open\n\n', 2, 'EOF with unterminated "'),
        ("config\n", 1, "invalid command"),
        ("config", 1, "config without name"),
        ("config t s\n\toption\n", 2, "invalid command"),
        ("config t s\n\toption ''\n", 2, "insufficient arguments"),
        ("config t s\nconfig u s\n", 2, "section of different type overwrites prior section"),
        ("config t\xe9 s\n", 1, "invalid character in type field"),
        ("config t s\n", None, None),
    ],
)
def test_syntax_errors_name_the_line(text: str, line: int | None, reason: str | None) -> None:
    if line is None:
        fileformat.parse(text, "x")
        return
    with pytest.raises(UciParseError) as info:
        fileformat.parse(text, "x", source="/etc/config/x")
    assert info.value.line == line
    assert info.value.reason.startswith(reason or "")
    assert f"/etc/config/x, line {line}: " in str(info.value)


def test_split_lines_uses_the_same_quoting() -> None:
    text = "a 'b c' \"d\\\"e\" f\\ g # h\n\nx.y.z='it'\\''s\ntwo'\n"
    assert fileformat.split_lines(text) == [["a", "b c", 'd"e', "f g"], ["x.y.z=it's\ntwo"]]
