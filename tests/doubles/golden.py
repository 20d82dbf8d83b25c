"""How to read the recorded UCI golden data (uci and pyuci transcripts).

The location is the project's one definition, ``helpers.GOLDEN`` (``$PPPOSSH_GOLDEN``
overrides it); the files are read in place.  Imported by the tests as ``doubles.golden``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from helpers import GOLDEN

UCI_GOLDEN = GOLDEN / "uci"
CONFIG = "pppossh_golden"
OPTIONS_WITH_VALUE = ("-c", "-d", "-f", "-p", "-P", "-t")


def golden_bytes(name: str) -> bytes:
    return (UCI_GOLDEN / name).read_bytes()


def golden_text(name: str) -> str:
    return golden_bytes(name).decode("utf-8")


@dataclass
class Command:
    """One ``$ uci ...`` step of a CLI transcript with what it printed."""

    line: str
    output: list[str]
    exit: int

    @property
    def argv(self) -> list[str]:
        """The argument words: options, command, then one argument (two for ``add``).

        Transcript lines show each argument unquoted, so ``set x.y.z=it's new`` is one word.
        """
        rest = self.line.removeprefix("uci ")
        argv = []
        while rest.startswith("-"):
            option, _, rest = rest.partition(" ")
            argv.append(option)
            if option in OPTIONS_WITH_VALUE:
                value, _, rest = rest.partition(" ")
                argv.append(value)
        command, _, rest = rest.partition(" ")
        argv.append(command)
        if command == "add":
            argv += rest.split(" ")
        elif rest:
            argv.append(rest)
        return argv

    @property
    def command(self) -> str:
        """The uci command word (``get``, ``set``, ...)."""
        words = iter(self.argv)
        for word in words:
            if word in OPTIONS_WITH_VALUE:
                next(words)
            elif not word.startswith("-"):
                return word
        raise ValueError(f"no command in {self.line!r}")

    @property
    def stderr(self) -> str:
        return "".join(f"{line}\n" for line in self.output if line.startswith("uci: "))

    @property
    def stdout(self) -> str:
        return "".join(f"{line}\n" for line in self.output if not line.startswith("uci: "))


@dataclass
class Block:
    """A ``----- title`` ... ``----- end`` dump of a file inside a transcript."""

    title: str
    content: str


def cli_transcript(name: str) -> list[Command | Block]:
    """The steps of uci-read-transcript.txt or uci-write-transcript.txt, in order."""
    lines = golden_text(name).split("\n")
    steps: list[Command | Block] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("$ "):
            output = []
            index += 1
            while not re.fullmatch(r"\[exit \d+\]", lines[index]):
                output.append(lines[index])
                index += 1
            steps.append(Command(line[2:], output, int(lines[index][6:-1])))
        elif line.startswith("----- ") and line != "----- end":
            body = []
            index += 1
            while lines[index] != "----- end":
                body.append(lines[index])
                index += 1
            steps.append(Block(line[6:], "".join(f"{b}\n" for b in body)))
        index += 1
    return steps


def command_output(transcript: str, line: str) -> Command:
    """The recorded step whose command line is exactly ``line``."""
    for step in cli_transcript(transcript):
        if isinstance(step, Command) and step.line == line:
            return step
    raise LookupError(f"{line!r} is not in {transcript}")
