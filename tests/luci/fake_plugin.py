"""A misbehaving stand-in for /usr/libexec/rpcd/pppossh, for the failure tests of the pages.

``fake_plugin.py MODE list`` prints the real plugin's signatures; ``fake_plugin.py MODE call
METHOD`` reads its stdin and then misbehaves the way the recorder plugin of
``tests/golden/rpcd/`` did, so that the server turns it into the same ubus reply:

- ``silent``: prints nothing and exits 1 (golden 31: ``[5]``);
- ``garbage``: prints text that is not JSON (golden 32: ``[2]``);
- ``array``: prints a JSON array (golden 34: ``[2]``);
- ``slow``: sleeps 40 s without printing (golden 36: killed at the exec timeout, ``[5]``);
- ``stdin``: prints ``{"stdin": <the exact stdin text>}`` (golden 10: what the plugin got).
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    mode, action = argv[0], argv[1]
    if action == "list":
        from pppossh.rpcd import SIGNATURES

        print(json.dumps(SIGNATURES))
        return 0
    stdin = sys.stdin.buffer.read()
    if mode == "silent":
        return 1
    if mode == "garbage":
        print("Traceback (most recent call last): this is not JSON")
        return 0
    if mode == "array":
        print(json.dumps([1, 2]))
        return 0
    if mode == "slow":
        time.sleep(40)
        return 0
    if mode == "stdin":
        print(json.dumps({"stdin": stdin.decode()}))
        return 0
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
