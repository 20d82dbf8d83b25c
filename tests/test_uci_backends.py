"""The three UCI backends, the test doubles they run against, and backend selection.

There is no OpenWrt here, so the ``uci`` program and pyuci are test doubles (tests/doubles);
the first tests prove them faithful to the golden transcripts recorded from the real ones and
to the facts issue 9 lists for pyuci 0.10.3 on a router.  Every test of the shared behaviour
runs on the three backends and ends with nothing left staged in the default save directory.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles.golden import (
    CONFIG,
    GOLDEN,
    UCI_GOLDEN,
    Block,
    Command,
    cli_transcript,
    golden_bytes,
    golden_text,
)

from pppossh.uci import (
    CliBackend,
    EUciBackend,
    FileBackend,
    Section,
    Uci,
    UciError,
    fileformat,
    open_uci,
)

DOUBLES = Path(__file__).resolve().parent / "doubles"
UCI_DOUBLE = DOUBLES / "uci"
DOUBLE_MODULES = ("uci", "euci", "_libuci")
INPUT = "pppossh_golden.input.uci"
AFTER_COMMIT = "pppossh_golden.after-commit.uci"


# -- fixtures --


@pytest.fixture
def confdir(tmp_path: Path) -> Path:
    """A config dir holding a fresh copy of the golden input file."""
    directory = tmp_path / "config"
    directory.mkdir()
    shutil.copyfile(UCI_GOLDEN / INPUT, directory / CONFIG)
    return directory


@pytest.fixture
def default_savedir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stands in for /tmp/.uci, where LuCI and plain ``uci set`` stage changes."""
    directory = tmp_path / "default-savedir"
    monkeypatch.setenv("UCI_DOUBLE_DEFAULT_SAVEDIR", str(directory))
    return directory


@pytest.fixture
def euci_double(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``import euci`` / ``import uci`` find the pyuci doubles, for this test only."""
    monkeypatch.syspath_prepend(str(DOUBLES))
    for name in DOUBLE_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield
    for name in DOUBLE_MODULES:
        sys.modules.pop(name, None)


@pytest.fixture(scope="session")
def uci_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An executable ``uci`` that runs the double with this Python (no PATH lookup needed)."""
    path = tmp_path_factory.mktemp("bin") / "uci"
    command = f'exec {shlex.quote(sys.executable)} {shlex.quote(str(UCI_DOUBLE))} "$@"'
    path.write_text(f"#!/bin/sh\n{command}\n")
    path.chmod(0o755)
    return path


def run_double(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the ``uci`` double the way a shell would run ``uci``."""
    return subprocess.run(
        [sys.executable, str(UCI_DOUBLE), *args], capture_output=True, text=True, check=check
    )


def make_backend(
    kind: str, confdir: Path, default_savedir: Path, uci_program: Path | None = None
) -> Uci:
    if kind == "file":
        return FileBackend(str(confdir))
    if kind == "cli":
        return CliBackend(
            str(confdir),
            uci_path=str(uci_program or UCI_DOUBLE),
            default_savedir=str(default_savedir),
        )
    return EUciBackend(str(confdir), default_savedir=str(default_savedir))


def staged(savedir: Path) -> dict[str, str]:
    """The non-empty delta files in a save directory (what ``uci changes`` would list)."""
    if not savedir.exists():
        return {}
    return {p.name: p.read_text() for p in savedir.iterdir() if p.read_text().strip()}


@pytest.fixture(params=["file", "cli", "euci"])
def kind(request: pytest.FixtureRequest, default_savedir: Path) -> Iterator[str]:
    if request.param == "euci":
        request.getfixturevalue("euci_double")
    yield str(request.param)
    assert staged(default_savedir) == {}, "left staged where LuCI and `uci commit` see it"


@pytest.fixture
def fresh(kind: str, confdir: Path, default_savedir: Path, uci_program: Path) -> Callable[[], Uci]:
    """A factory: each call is a new backend instance, as a new process would have."""
    return lambda: make_backend(kind, confdir, default_savedir, uci_program)


# -- the uci program double against the transcripts --


def replay(transcript: str, confdir: Path, savedir: Path) -> None:
    """Run every command of a CLI transcript through the double and compare everything."""
    for step in cli_transcript(transcript):
        if isinstance(step, Command):
            proc = run_double("-c", str(confdir), "-t", str(savedir), *step.argv)
            assert (proc.stdout, proc.stderr, proc.returncode) == (
                step.stdout,
                step.stderr,
                step.exit,
            ), step.line
        elif step.title.startswith("delta file"):
            assert (savedir / CONFIG).read_text() == step.content, step.title
        else:
            assert (confdir / CONFIG).read_text() == step.content, step.title


@pytest.mark.parametrize("transcript", ["uci-read-transcript.txt", "uci-write-transcript.txt"])
def test_uci_double_replays_transcript(
    transcript: str, confdir: Path, tmp_path: Path, default_savedir: Path
) -> None:
    replay(transcript, confdir, tmp_path / "savedir")
    if transcript == "uci-write-transcript.txt":
        assert (confdir / CONFIG).read_bytes() == golden_bytes(AFTER_COMMIT)
    assert not default_savedir.exists()


NETIFD_BATCH = GOLDEN / "netifd" / "09-wrong-types"


def test_uci_double_replays_the_netifd_batch(tmp_path: Path, default_savedir: Path) -> None:
    """Another recorded commit: netifd's golden ``uci batch`` run, one command at a time."""
    shutil.copyfile(GOLDEN / "netifd" / "network.uci", tmp_path / "network")
    lines = fileformat.split_lines((NETIFD_BATCH / "uci-batch-input.txt").read_text())
    for words in lines:  # uci batch splits its input with the same quoting rules
        run_double("-c", str(tmp_path), "-t", str(tmp_path / "save"), *words, check=True)
    after = (NETIFD_BATCH / "network.uci-after-batch").read_bytes()
    assert (tmp_path / "network").read_bytes() == after


def test_transcripts_cover_every_command() -> None:
    steps = cli_transcript("uci-read-transcript.txt") + cli_transcript("uci-write-transcript.txt")
    used = {step.command for step in steps if isinstance(step, Command)}
    assert used == {
        "show",
        "export",
        "get",
        "set",
        "add_list",
        "del_list",
        "delete",
        "add",
        "commit",
        "changes",
        "revert",
    }
    assert sum(isinstance(step, Block) for step in steps) == 3


def test_uci_double_keeps_the_default_savedir_on_the_delta_path(
    confdir: Path, tmp_path: Path, default_savedir: Path
) -> None:
    """libuci's ``-t DIR`` adds DIR after the default save dir instead of replacing it.

    Not in the transcripts: libuci's source says so (delta.c, ``uci_set_savedir`` keeps the
    default directory on ``ctx->delta_path``; ``uci_load_delta`` replays the whole path).

    Why CliBackend checks the default save dir before committing: a ``-t`` commit writes
    what someone else staged there too (and leaves it staged).
    """
    run_double("-c", str(confdir), "set", f"{CONFIG}.main.port=1111", check=True)
    private = ["-c", str(confdir), "-t", str(tmp_path / "private")]
    assert run_double(*private, "get", f"{CONFIG}.main.port").stdout == "1111\n"
    run_double(*private, "set", f"{CONFIG}.main.server=other", check=True)
    run_double(*private, "commit", CONFIG, check=True)
    committed = fileformat.parse((confdir / CONFIG).read_text(), CONFIG).require("main")
    assert (committed.options["port"], committed.options["server"]) == ("1111", "other")
    assert (default_savedir / CONFIG).read_text() == f"{CONFIG}.main.port='1111'\n"


def test_uci_double_parse_error_message(tmp_path: Path, default_savedir: Path) -> None:
    (tmp_path / "broken").write_text("config t s\n\tbogus x\n")
    proc = run_double("-c", str(tmp_path), "show", "broken")
    assert (proc.stderr, proc.returncode) == (
        "uci: Parse error (invalid command) at line 2, byte 1\n",
        1,
    )


# -- the pyuci doubles against the transcripts --


def evaluate(node: ast.AST, env: dict[str, Any]) -> Any:
    """Evaluate the few Python forms the euci transcripts use, and nothing else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.Tuple):
        return tuple(evaluate(e, env) for e in node.elts)
    if isinstance(node, ast.List):
        return [evaluate(e, env) for e in node.elts]
    if isinstance(node, ast.Attribute):
        return getattr(evaluate(node.value, env), node.attr)
    if isinstance(node, ast.Call):
        args = [evaluate(a, env) for a in node.args]
        kwargs = {k.arg: evaluate(k.value, env) for k in node.keywords if k.arg}
        return evaluate(node.func, env)(*args, **kwargs)
    raise ValueError(f"unsupported expression {ast.dump(node)}")


def call(source: str, env: dict[str, Any]) -> tuple[str, Any]:
    """('ok', result) or ('raise', exception) for one transcript expression."""
    try:
        return "ok", evaluate(ast.parse(source, mode="eval").body, env)
    except Exception as exc:
        return "raise", exc


def expected_matches(outcome: tuple[str, Any], expected: str) -> bool:
    """Compare with a ``-> type: repr`` or ``-> RAISES module.Class: repr`` line."""
    kind, value = outcome
    raised = re.match(r"RAISES ([\w.]+): (\w+\(\))", expected)
    if raised:
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        not_a = [c for c in (KeyError, ValueError) if f"isinstance {c.__name__}: False" in expected]
        return (
            kind == "raise"
            and (name, repr(value)) == raised.groups()
            and not isinstance(value, tuple(not_a))
        )
    type_name, _, text = expected.partition(": ")
    return kind == "ok" and (type(value).__name__, repr(value)) == (type_name, text)


def euci_cases(name: str) -> Iterator[tuple[str, str]]:
    """(call line, expected line) pairs of an euci transcript."""
    lines = golden_text(name).splitlines()
    for index, line in enumerate(lines[:-1]):
        following = lines[index + 1].strip()
        if not line.startswith(" ") and following.startswith("-> "):
            yield line, following[3:]


def check_euci_case(line: str, expected: str, env: dict[str, Any], module: Any) -> bool | None:
    """True/False for a case this test implements, None for one it skips."""
    handle = env["handle"]
    if line.startswith("list(foreach("):
        return expected == "str: 'no foreach'" and not hasattr(handle, "foreach")
    if line.startswith("EUci.boolean_value("):
        return expected == "str: 'no boolean_value'" and not hasattr(module.EUci, "boolean_value")
    with_value = re.fullmatch(
        r"(get\(.*\)) with btest='(.*)' \(set in memory, not committed\)", line
    )
    if with_value:
        handle.set(CONFIG, "main", "btest", with_value.group(2))
        return expected_matches(call(with_value.group(1), env), expected)
    source = re.sub(r"\)\s+#.*$", ")", line)
    if "; " in source:
        setter, getter = source.split("; ")
        target = ast.parse(setter, mode="eval").body
        assert isinstance(target, ast.Call)
        first = ", ".join(ast.unparse(a) for a in target.args[:3])
        getter = getter.replace("(...", f"({first}", 1)
        stored, result = call(setter, env), call(getter, env)
        return expected_matches((stored[0], (stored[1], result[1])), expected)
    if not re.match(r"(get|get_all|set|changes|pyuci_mod\.Uci\(\)\.get)\(", source):
        return None
    return expected_matches(call(source, env), expected)


@pytest.mark.parametrize("transcript", ["euci-transcript.txt", "euci-transcript-2.txt"])
def test_euci_double_matches_transcript(
    transcript: str, confdir: Path, default_savedir: Path, euci_double: None
) -> None:
    import euci
    import uci

    handle = euci.EUci(confdir=str(confdir))
    env = {
        "C": CONFIG,
        "handle": handle,
        "get": handle.get,
        "get_all": handle.get_all,
        "set": handle.set,
        "changes": handle.changes,
        "int": int,
        "str": str,
        "bool": bool,
        "float": float,
        "pyuci_mod": type("pyuci", (), {"Uci": lambda: uci.Uci(confdir=str(confdir))}),
    }
    cases = euci_cases(transcript)
    results = [(line, check_euci_case(line, want, env, euci)) for line, want in cases]
    assert len(results) >= {"euci-transcript.txt": 49, "euci-transcript-2.txt": 24}[transcript]
    assert [line for line, ok in results if ok is False] == []
    assert [line for line, ok in results if ok is None] == []  # every recorded case is checked
    text = golden_text(transcript)
    if "pyuci exception classes:" in text:
        assert f"{uci.UciException!r} {uci.UciException.__mro__!r}" in text
    mro = [c.__name__ for c in uci.UciExceptionNotFound.__mro__]
    public = sorted(n for n in dir(uci) if not n.startswith("_"))
    methods = sorted(n for n in dir(euci.EUci) if not n.startswith("_"))
    lists = {"UciExceptionNotFound mro": mro, "uci module attrs": public, "EUci attrs": methods}
    recorded = dict(re.findall(r"^([\w ]+): (\[.*\])$", text, re.M))
    assert set(recorded) == (set(lists) if transcript == "euci-transcript-2.txt" else set())
    for label, text_list in recorded.items():
        assert lists[label] == ast.literal_eval(text_list), label
    handle.revert(CONFIG)
    assert (confdir / CONFIG).read_bytes() == golden_bytes(INPUT)


def test_pyuci_double_add_stages_at_once_and_unloads(
    confdir: Path, tmp_path: Path, default_savedir: Path, euci_double: None
) -> None:
    """pyuci 0.10.3's add (pyuci.c): uci_load, uci_add_section, uci_save, uci_unload.  The
    delta line is the one uci-write-transcript.txt shows for ``uci add`` (``+...``)."""
    import euci
    import uci

    savedir = tmp_path / "save"
    handle = euci.EUci(savedir=str(savedir), confdir=str(confdir))
    name = handle.add(CONFIG, "pppossh")
    assert name == "cfg058732"
    assert staged(savedir) == {CONFIG: f"+{CONFIG}.cfg058732='pppossh'\n"}  # at once
    assert handle.get(CONFIG, name) == "pppossh"  # reloaded: file + deltas
    with pytest.raises(uci.UciException, match=r"^Duplicate entry$"):
        handle.add(CONFIG, "pppossh")  # the config is loaded on this handle now
    handle.set(CONFIG, name, "x", "1")
    with pytest.raises(uci.UciException, match=r"^Duplicate entry$"):
        handle.add(CONFIG, "peer")
    fresh = uci.Uci(savedir=str(savedir), confdir=str(confdir))
    assert fresh.add(CONFIG, "peer") == "cfg063511"  # sees the first add: 6th section
    assert staged(default_savedir) == {}
    assert (confdir / CONFIG).read_bytes() == golden_bytes(INPUT)
    plain = uci.Uci(confdir=str(confdir))  # no savedir: the default one, like LuCI's
    plain.add(CONFIG, "peer")
    assert staged(default_savedir) == {CONFIG: f"+{CONFIG}.cfg053511='peer'\n"}


def test_pyuci_double_types_and_values(
    confdir: Path, default_savedir: Path, euci_double: None
) -> None:
    """``uci.Uci`` is an immutable C type (its instances take no new attributes), ``EUci`` a
    Python subclass; lists come back as tuples of strings; EUci.set makes strings of 5 and
    True (euci-transcript.txt), plain Uci.set refuses what is not a string or a sequence."""
    import euci
    import uci

    with pytest.raises(TypeError, match=r"immutable type 'uci\.Uci'"):
        uci.Uci.add = lambda *args: None  # type: ignore[method-assign]
    with pytest.raises(TypeError, match=r"immutable type 'uci\.Uci'"):
        del uci.Uci.get
    handle = uci.Uci(confdir=str(confdir))
    with pytest.raises(AttributeError):
        handle.add = lambda *args: None  # type: ignore[method-assign]
    extended = euci.EUci(confdir=str(confdir))
    extended.set(CONFIG, "main", "ints", (5, 6))
    extended.set(CONFIG, "main", "flag", True)
    assert extended.get(CONFIG, "main", "ints", list=True) == ("5", "6")
    assert extended.get(CONFIG, "main", "flag") == "1"
    assert extended.get_all(CONFIG, "main")["identity"] == (
        "/etc/dropbear/id_a", "/etc/dropbear/key with space", "/etc/dropbear/id_c")
    with pytest.raises(uci.UciException, match="Unsupported value"):
        handle.set(CONFIG, "main", "port", 5)
    with pytest.raises(TypeError):
        handle.set(CONFIG, "main", "items", ("a", 5))


# -- the behaviour every backend shares --


GOLDEN_SECTIONS = [
    Section(
        "main",
        "pppossh",
        False,
        {
            "server": "vpn.example.net",
            "single": "it's a 'quoted' word",
            "dq": 'double "quoted" with back\\slash and $dollar and tabtend',
            "spaces": "hello   world  with spaces",
            "unquoted": "plainword",
            "port": "2222",
            "enabled": "1",
            "flag_yes": "yes",
            "flag_off": "off",
            "identity": (
                "/etc/dropbear/id_a",
                "/etc/dropbear/key with space",
                "/etc/dropbear/id_c",
            ),
        },
    ),
    Section("cfg028732", "pppossh", True, {"name": "anonymous-one", "port": "abc"}),
    Section("cfg038732", "pppossh", True, {"name": "anonymous-two"}),
    Section("semi", "peer", False, {"a": "one", "b": "two"}),
]


def test_reads_the_golden_file(fresh: Callable[[], Uci], kind: str, confdir: Path) -> None:
    uci = fresh()
    assert (uci.name, uci.confdir) == (kind, str(confdir))
    assert uci.sections(CONFIG) == GOLDEN_SECTIONS
    assert uci.sections(CONFIG, "peer") == GOLDEN_SECTIONS[3:]
    assert uci.section(CONFIG, "cfg038732") == GOLDEN_SECTIONS[2]
    assert uci.section(CONFIG, "nosuch") is None
    assert uci.sections("nosuchconfig") == []
    assert uci.section("nosuchconfig", "main") is None


def test_changes_are_staged_until_commit(fresh: Callable[[], Uci], confdir: Path) -> None:
    uci = fresh()
    uci.set(CONFIG, "main", "port", "2200")
    assert uci.section(CONFIG, "main").options["port"] == "2200"  # type: ignore[union-attr]
    assert (confdir / CONFIG).read_bytes() == golden_bytes(INPUT)
    assert fresh().section(CONFIG, "main").options["port"] == "2222"  # type: ignore[union-attr]
    uci.commit(CONFIG)
    assert fresh().section(CONFIG, "main").options["port"] == "2200"  # type: ignore[union-attr]
    uci.commit(CONFIG)  # nothing staged any more: a no-op


def test_set_option_keeps_its_place_and_new_ones_go_last(fresh: Callable[[], Uci]) -> None:
    uci = fresh()
    uci.set(CONFIG, "main", "port", "2200")
    uci.set(CONFIG, "main", "zz_new", "x")
    uci.commit(CONFIG)
    options = list(fresh().section(CONFIG, "main").options)  # type: ignore[union-attr]
    assert options == [*list(GOLDEN_SECTIONS[0].options), "zz_new"]


def test_set_list_replaces_the_whole_list(fresh: Callable[[], Uci], kind: str) -> None:
    uci = fresh()
    uci.set(CONFIG, "main", "identity", ("/one",))
    uci.set(CONFIG, "main", "server", ("now", "a list"))
    uci.set(CONFIG, "semi", "a", ())
    uci.commit(CONFIG)
    main = fresh().section(CONFIG, "main")
    assert main is not None
    assert (main.options["identity"], main.options["server"]) == (("/one",), ("now", "a list"))
    assert "a" not in fresh().section(CONFIG, "semi").options  # type: ignore[union-attr]
    order = list(main.options)
    if kind == "euci":  # pyuci deletes and re-adds a list: it moves to the end
        assert order[-2:] == ["identity", "server"]
    else:
        assert order == list(GOLDEN_SECTIONS[0].options)


def test_delete_option_and_section(fresh: Callable[[], Uci]) -> None:
    uci = fresh()
    uci.delete(CONFIG, "main", "flag_off")
    uci.set(CONFIG, "main", "flag_yes", "")
    uci.delete(CONFIG, "cfg028732")
    uci.delete(CONFIG, "main", "never_there")
    uci.delete(CONFIG, "nosuch")
    uci.delete(CONFIG, "nosuch", "x")
    uci.delete("nosuchconfig", "x")
    uci.commit(CONFIG)
    sections = fresh().sections(CONFIG)
    assert [s.name for s in sections] == ["main", "cfg028732", "semi"]  # renumbered on reload
    assert sections[1].options == {"name": "anonymous-two"}
    assert not {"flag_off", "flag_yes"} & set(sections[0].options)


def test_named_and_anonymous_sections(fresh: Callable[[], Uci], confdir: Path) -> None:
    uci = fresh()
    uci.set_section(CONFIG, "newsec", "peer")
    uci.set_section(CONFIG, "main", "other-type")  # exists: keeps its type
    name = uci.add_section(CONFIG, "pppossh")
    assert name == "cfg068732"  # newsec was the 5th section
    uci.set(CONFIG, name, "name", "added")
    assert uci.section(CONFIG, name) == Section(name, "pppossh", True, {"name": "added"})
    uci.commit(CONFIG)
    sections = fresh().sections(CONFIG)
    assert [(s.name, s.type, s.anonymous) for s in sections][-2:] == [
        ("newsec", "peer", False),
        ("cfg068732", "pppossh", True),
    ]
    assert sections[0].type == "pppossh"
    text = (confdir / CONFIG).read_text()
    assert text.endswith("\nconfig peer 'newsec'\n\nconfig pppossh\n\toption name 'added'\n\n")


def test_set_on_a_missing_section_says_which(fresh: Callable[[], Uci]) -> None:
    uci = fresh()
    for config in (CONFIG, "nosuchconfig"):
        with pytest.raises(UciError, match=rf"{config}\.nosuch: no such section; create it"):
            uci.set(config, "nosuch", "opt", "1")
        with pytest.raises(UciError, match=rf"{config}\.nosuch: no such section"):
            uci.set(config, "nosuch", "opt", ("1", "2"))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda u: u.set("../etc", "s", "o", "v"), "invalid UCI config name '../etc'"),
        (lambda u: u.set(CONFIG, "ma-in", "o", "v"), "invalid UCI section name 'ma-in'"),
        (lambda u: u.set(CONFIG, "main", "o.p", "v"), "invalid UCI option name 'o.p'"),
        (lambda u: u.set(CONFIG, "main", "o", "a\x00b"), "control characters"),
        (lambda u: u.set(CONFIG, "main", "o", 5), "expected a string or a tuple"),
        (lambda u: u.set_section(CONFIG, "x", "has space"), "invalid UCI section type"),
        (lambda u: u.add_section(CONFIG, ""), "invalid UCI section type"),
        (lambda u: u.sections("a/b"), "invalid UCI config name"),
    ],
)
def test_invalid_input_is_refused_before_anything_runs(
    fresh: Callable[[], Uci], call: Callable[[Uci], object], match: str, confdir: Path
) -> None:
    with pytest.raises(UciError, match=re.escape(match)):
        call(fresh())
    assert sorted(p.name for p in confdir.iterdir()) == [CONFIG]


def test_a_new_config_file_is_created_on_commit(fresh: Callable[[], Uci], confdir: Path) -> None:
    uci = fresh()
    uci.set_section("fresh", "settings", "pppossh")
    uci.set("fresh", "settings", "port", "22")
    uci.commit("fresh")
    path = confdir / "fresh"
    assert path.read_text() == "\nconfig pppossh 'settings'\n\toption port '22'\n\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_commit_keeps_the_file_mode(fresh: Callable[[], Uci], confdir: Path) -> None:
    os.chmod(confdir / CONFIG, 0o600)
    uci = fresh()
    uci.set(CONFIG, "main", "port", "1")
    uci.commit(CONFIG)
    assert stat.S_IMODE((confdir / CONFIG).stat().st_mode) == 0o600
    assert sorted(p.name for p in confdir.iterdir()) == [CONFIG]


SPECIAL_VALUES = [
    'it\'s "quoted"',
    "$(reboot); `id` & echo $HOME # not a comment",
    "back\\slash \\t \\n",
    "two\nlines\ttab",
    "  padded  ",
    "a=b.c",
]


def test_special_values_survive_a_commit(fresh: Callable[[], Uci]) -> None:
    uci = fresh()
    for index, value in enumerate(SPECIAL_VALUES):
        uci.set(CONFIG, "main", f"v{index}", value)
    uci.set(CONFIG, "main", "items", tuple(SPECIAL_VALUES))
    uci.commit(CONFIG)
    options = fresh().section(CONFIG, "main").options  # type: ignore[union-attr]
    assert [options[f"v{i}"] for i in range(len(SPECIAL_VALUES))] == SPECIAL_VALUES
    assert options["items"] == tuple(SPECIAL_VALUES)


def test_the_golden_write_sequence(fresh: Callable[[], Uci], kind: str, confdir: Path) -> None:
    """The changes of uci-write-transcript.txt through the interface give the committed file."""
    uci = fresh()
    uci.set(CONFIG, "main", "port", "2200")
    uci.set(CONFIG, "main", "newopt", "it's new")
    uci.set(CONFIG, "main", "withdq", 'say "hi"')
    identity = ("/etc/dropbear/key with space", "/etc/dropbear/id_c", "/etc/dropbear/added key")
    uci.set(CONFIG, "main", "identity", identity)
    uci.set(CONFIG, "main", "newlist", ("first", "second"))
    uci.set(CONFIG, "cfg028732", "name", "renamed-anon")
    uci.delete(CONFIG, "main", "flag_off")
    assert uci.add_section(CONFIG, "pppossh") == "cfg058732"
    uci.set_section(CONFIG, "newsec", "peer")
    uci.set(CONFIG, "newsec", "addr", "192.0.2.9")
    uci.set(CONFIG, "main", "empty2", "")
    uci.commit(CONFIG)
    written = (confdir / CONFIG).read_bytes()
    if kind != "euci":
        assert written == golden_bytes(AFTER_COMMIT)
        return
    got = fileformat.parse(written.decode(), CONFIG)
    want = fileformat.parse(golden_text(AFTER_COMMIT), CONFIG)
    assert got.require("main").options == want.require("main").options  # same, but
    assert list(got.require("main").options)[-2:] == ["identity", "newlist"]  # list moved
    assert got.sections[1:] == want.sections[1:]


def test_the_netifd_batch_through_the_interface(
    kind: str, tmp_path: Path, uci_program: Path
) -> None:
    """netifd's recorded batch (delete + set moves an option to the end) on every backend."""
    shutil.copyfile(GOLDEN / "netifd" / "network.uci", tmp_path / "network")
    uci = make_backend(kind, tmp_path, tmp_path / "default-savedir", uci_program)
    for option, value in (("port", "abc"), ("mtu", "x"), ("defaultroute", "maybe")):
        uci.set("network", "vpn", option, value)
    uci.delete("network", "vpn", "identity")
    uci.set("network", "vpn", "identity", "/etc/dropbear/single_as_option")
    uci.set_section("network", "vpnt", "interface")
    for option, value in (
        ("proto", "pppossh"),
        ("auto", "0"),
        ("server", "t.example.net"),
        ("defaultroute", "yes"),
        ("peerdns", "off"),
        ("ipv6", "true"),
        ("port", "0x10"),
        ("mtu", " 1400"),
        ("metric", "-1"),
        ("use_hostdep", "12abc"),
        ("keepalive", ""),
    ):
        uci.set("network", "vpnt", option, value)
    uci.set("network", "vpnt", "identity", ("/only/one",))
    uci.set("network", "vpnt", "sshuser", ("a", "b"))
    uci.commit("network")
    after = (NETIFD_BATCH / "network.uci-after-batch").read_bytes()
    assert (tmp_path / "network").read_bytes() == after


# -- what only the libuci-based backends need --


@pytest.mark.parametrize("backend_kind", ["cli", "euci"])
def test_libuci_backends_stage_in_a_private_savedir(
    backend_kind: str,
    confdir: Path,
    default_savedir: Path,
    uci_program: Path,
    request: pytest.FixtureRequest,
) -> None:
    """Nothing of ours, an ``add`` included (pyuci writes its delta at once), is ever seen by
    ``uci changes`` / LuCI or committed by the admin's ``uci commit``."""
    if backend_kind == "euci":
        request.getfixturevalue("euci_double")
    uci = make_backend(backend_kind, confdir, default_savedir, uci_program)
    uci.set(CONFIG, "main", "port", "2200")
    name = uci.add_section(CONFIG, "peer")
    uci.set(CONFIG, name, "name", "new")
    uci.set_section(CONFIG, "newsec", "peer")
    uci.delete(CONFIG, "semi")
    admin = run_double("-c", str(confdir), "changes", CONFIG)
    assert admin.stdout == ""  # LuCI / `uci changes` do not see our half-done change
    run_double("-c", str(confdir), "commit", CONFIG, check=True)
    assert (confdir / CONFIG).read_bytes() == golden_bytes(INPUT)
    assert not default_savedir.exists()
    uci.commit(CONFIG)
    text = (confdir / CONFIG).read_text()
    assert "option port '2200'" in text and "option name 'new'" in text
    assert "config peer 'newsec'" in text and "semi" not in text
    assert not default_savedir.exists()


@pytest.mark.parametrize("backend_kind", ["cli", "euci"])
def test_the_private_savedir_goes_with_the_backend(
    backend_kind: str,
    confdir: Path,
    default_savedir: Path,
    uci_program: Path,
    request: pytest.FixtureRequest,
) -> None:
    import gc

    if backend_kind == "euci":
        request.getfixturevalue("euci_double")
    uci = make_backend(backend_kind, confdir, default_savedir, uci_program)
    uci.set(CONFIG, "main", "port", "2200")  # staged, never committed
    private = Path(uci._savedir)  # type: ignore[union-attr]
    assert staged(private) == {CONFIG: f"{CONFIG}.main.port='2200'\n"}
    del uci
    gc.collect()
    assert not private.exists()
    assert (confdir / CONFIG).read_bytes() == golden_bytes(INPUT)


@pytest.mark.parametrize("backend_kind", ["cli", "euci"])
def test_changes_someone_else_staged_are_never_committed(
    backend_kind: str,
    confdir: Path,
    default_savedir: Path,
    uci_program: Path,
    request: pytest.FixtureRequest,
) -> None:
    if backend_kind == "euci":
        request.getfixturevalue("euci_double")
    run_double("-c", str(confdir), "set", f"{CONFIG}.main.server=admin-typo", check=True)
    staged = (default_savedir / CONFIG).read_bytes()
    uci = make_backend(backend_kind, confdir, default_savedir, uci_program)
    uci.set(CONFIG, "main", "port", "2200")
    with pytest.raises(UciError, match=rf"uncommitted changes.*`uci changes {CONFIG}`"):
        uci.commit(CONFIG)
    assert (confdir / CONFIG).read_bytes() == golden_bytes(INPUT)
    assert (default_savedir / CONFIG).read_bytes() == staged
    run_double("-c", str(confdir), "revert", CONFIG, check=True)  # the admin decides
    uci.commit(CONFIG)
    main = fileformat.parse((confdir / CONFIG).read_text(), CONFIG).require("main")
    assert (main.options["server"], main.options["port"]) == ("vpn.example.net", "2200")


def test_the_default_savedir_each_libuci_backend_guards(
    confdir: Path, default_savedir: Path, euci_double: None
) -> None:
    """euci asks pyuci where libuci stages by default (``Uci.savedir()``); the uci program
    cannot say, so the CLI backend assumes libuci's built-in /tmp/.uci."""
    assert EUciBackend(str(confdir)).default_savedir == str(default_savedir)
    assert CliBackend(str(confdir)).default_savedir == "/tmp/.uci"


def test_cli_backend_reports_uci_errors(
    confdir: Path, default_savedir: Path, uci_program: Path
) -> None:
    (confdir / "broken").write_text("config t s\n\tbogus\n")
    uci = make_backend("cli", confdir, default_savedir, uci_program)
    with pytest.raises(
        UciError, match=r"`uci export broken` failed: Parse error \(invalid command\)"
    ):
        uci.sections("broken")
    missing = CliBackend(str(confdir), uci_path=str(confdir / "no-uci-here"))
    with pytest.raises(UciError, match=r"cannot run .*PPPOSSH_UCI_BACKEND=file"):
        missing.sections(CONFIG)


def test_file_backend_replays_its_changes_on_the_current_file(confdir: Path) -> None:
    """Like libuci's deltas: a change committed by someone else meanwhile is kept."""
    ours, theirs = FileBackend(str(confdir)), FileBackend(str(confdir))
    ours.set(CONFIG, "main", "port", "2200")
    ours.set(CONFIG, "semi", "c", "three")
    theirs.set_section(CONFIG, "other", "peer")
    theirs.delete(CONFIG, "semi")
    theirs.commit(CONFIG)
    ours.commit(CONFIG)
    sections = {s.name: s for s in FileBackend(str(confdir)).sections(CONFIG)}
    assert sections["main"].options["port"] == "2200"
    assert "other" in sections
    assert "semi" not in sections  # our change to a section deleted meanwhile is dropped


def test_file_backend_reports_parse_errors(confdir: Path) -> None:
    (confdir / "broken").write_text("config t s\n\toption a 'open\n")
    with pytest.raises(UciError, match=r"broken, line 2: EOF with unterminated '; fix"):
        FileBackend(str(confdir)).sections("broken")


def test_euci_backend_without_pyuci_add(
    confdir: Path, default_savedir: Path, euci_double: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyuci before 0.10 raised NotImplementedError from add (``uci.Uci`` is immutable: the
    older behaviour is put on the Python subclass ``EUci``)."""
    import euci

    def not_implemented(*args: object) -> None:
        raise NotImplementedError()

    monkeypatch.setattr(euci.EUci, "add", not_implemented)
    backend = make_backend("euci", confdir, default_savedir)
    with pytest.raises(
        UciError, match=r"cannot create anonymous sections.*PPPOSSH_UCI_BACKEND=cli"
    ):
        backend.add_section(CONFIG, "pppossh")


def test_euci_backend_without_pyuci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "euci", None)
    with pytest.raises(UciError, match="needs pyuci"):
        EUciBackend(str(tmp_path))


# -- choosing a backend --


@pytest.fixture
def no_pyuci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "euci", None)
    monkeypatch.delenv("PPPOSSH_UCI_BACKEND", raising=False)


def path_with_uci(tmp_path: Path, present: bool) -> str:
    directory = tmp_path / ("with-uci" if present else "without-uci")
    directory.mkdir()
    if present:
        (directory / "uci").symlink_to(UCI_DOUBLE)
    return str(directory)


def test_detect_prefers_euci(
    euci_double: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PPPOSSH_UCI_BACKEND", raising=False)
    monkeypatch.setenv("PATH", path_with_uci(tmp_path, True))
    assert isinstance(open_uci(str(tmp_path)), EUciBackend)


def test_detect_falls_back_to_the_uci_program(
    no_pyuci: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", path_with_uci(tmp_path, True))
    uci = open_uci(str(tmp_path))
    assert isinstance(uci, CliBackend)
    assert (uci.name, uci.confdir, uci.uci_path) == ("cli", str(tmp_path), "uci")


def test_detect_falls_back_to_the_files(
    no_pyuci: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", path_with_uci(tmp_path, False))
    uci = open_uci()
    assert isinstance(uci, FileBackend)
    assert (uci.name, uci.confdir) == ("file", "/etc/config")


@pytest.mark.parametrize(
    ("value", "expected"), [("file", FileBackend), ("cli", CliBackend), ("euci", EUciBackend)]
)
def test_environment_forces_a_backend(
    value: str, expected: type, euci_double: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PPPOSSH_UCI_BACKEND", value)
    monkeypatch.setenv("PATH", path_with_uci(tmp_path, False))
    assert type(open_uci(str(tmp_path))) is expected
    assert type(open_uci(str(tmp_path), backend="file")) is FileBackend


def test_unknown_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPPOSSH_UCI_BACKEND", "sqlite")
    with pytest.raises(UciError, match=r"unknown UCI backend 'sqlite' .*PPPOSSH_UCI_BACKEND"):
        open_uci()
    with pytest.raises(UciError, match=r"from open_uci\(\)\): use one of euci, cli, file"):
        open_uci(backend="nope")
