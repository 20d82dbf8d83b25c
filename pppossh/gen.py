"""Write the files that are made from the option table (``make generate``).

The tests render the same templates and fail when a committed file differs, so the table,
the netifd hook, the docs and the LuCI form cannot drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .config.options import OPTIONS, PROTOCOLS, for_proto
from .run.ppphook import EVENTS as PPP_EVENTS
from .templates import render

ROOT = Path(__file__).resolve().parent.parent


BEGIN, END = "<!-- options:begin (make generate) -->", "<!-- options:end -->"


def _readme(table: str) -> str:
    """README.md with the option table between its markers replaced."""
    text = (ROOT / "README.md").read_text()
    head, sep, rest = text.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise SystemExit(f"README.md lacks the markers {BEGIN} ... {END}")
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def hook_path(proto: str) -> Path:
    return ROOT / f"files/lib/netifd/proto/{proto}.sh"


def outputs() -> dict[Path, str]:
    """Every generated file, keyed by its path in the source tree."""
    return {
        **{hook_path(proto): render(f"{proto}.sh.j2", options=for_proto(proto))
           for proto in PROTOCOLS},
        ROOT / "docs/options.md": render("options.md.j2", options=OPTIONS),
        ROOT / "README.md": _readme(render("options_table.md.j2", options=OPTIONS)),
        **{ROOT / f"luci-app/htdocs/luci-static/resources/protocol/{proto}.js":
           render("luci-protocol.js.j2", proto=proto, options=for_proto(proto))
           for proto in PROTOCOLS},
        **{ROOT / "pppossh/ppp" / event: render("ppp-hook.sh.j2", event=event)
           for event in PPP_EVENTS},
    }


def main() -> int:
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    for script in (*map(hook_path, PROTOCOLS), *(ROOT / "pppossh/ppp" / e for e in PPP_EVENTS)):
        script.chmod(0o755)
    return 0


if __name__ == "__main__":
    sys.exit(main())
