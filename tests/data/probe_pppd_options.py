"""Make tests/data/pppd-options-<version>.txt: the option names a pppd binary accepts.

Run as root on a machine without kernel PPP (pppd then stops before it opens anything):

    python3 tests/data/probe_pppd_options.py /usr/sbin/pppd > tests/data/pppd-options-2.4.9.txt

Every printable word in the binary, and every tail of one (the compiler stores "persist" as
the end of "nopersist"), is given to pppd as its only argument: "unrecognized option" means
it is not an option, "too few parameters" means an option that takes an argument, anything
else an option without one.  Words that name something under /dev are skipped: pppd takes
those as the device to use.  For 2.5.2 the result equals what ``pppd show-options`` prints.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys


def probe(binary: str) -> dict[str, bool]:
    with open(binary, "rb") as fh:
        data = fh.read()
    words = set()
    for match in re.finditer(rb"[\x20-\x7e]{2,}", data):
        text = match.group().decode()
        for start in range(len(text)):
            tail = text[start:]
            if re.fullmatch(r"[+-]{0,2}[A-Za-z][A-Za-z0-9_-]*", tail):
                words.add(tail)
    found = {}
    for word in sorted(words):
        if os.path.exists("/dev/" + word):
            continue
        out = subprocess.run([binary, word], stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=10, cwd="/", check=False)
        said = out.stdout + out.stderr
        if "unrecognized option" not in said:
            found[word] = "too few parameters" in said
    return found


def main() -> int:
    binary = sys.argv[1]
    version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=False)
    print(f"# {(version.stdout + version.stderr).strip()}: every option name it accepts")
    print(f"# made by tests/data/probe_pppd_options.py {binary}")
    print("# name<TAB>arg (takes one argument) or - (takes none)")
    for word, takes in probe(binary).items():
        print(f"{word}\t{'arg' if takes else '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
