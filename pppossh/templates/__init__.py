"""Jinja2 templates for every text file pppossh writes; jinja2 is imported only when used."""

from __future__ import annotations

import json
import shlex
from functools import cache
from typing import Any


@cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pppossh", "templates"),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["shquote"] = shlex.quote
    # a JavaScript string literal (jinja's own tojson escapes for HTML: \u0027 and friends)
    env.filters["js"] = lambda value: json.dumps(value, ensure_ascii=False)
    return env


def render(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)
