"""Turn UCI strings into typed values exactly as netifd does (``golden/netifd/09``, ``10``).

netifd drops a value it cannot convert and carries on with the default; these functions raise
``ValueError`` instead so that the standalone commands can point at the bad value.
"""

from __future__ import annotations

from typing import Any

from .options import Option

_C_SPACE = " \t\n\v\f\r"
_DIGITS = {16: "0123456789abcdefABCDEF", 8: "01234567", 10: "0123456789"}


def c_strtol_full(text: str) -> int:
    """C ``strtol(text, &end, 0)`` that must consume the whole string, wrapped to int32.

    netifd accepts ``'0x10'`` (16), ``'010'`` (8), ``'+5'``, ``' 1400'`` and wraps
    ``'99999999999'`` to 1215752191; trailing characters (``'1400 '``, ``'1e3'``) fail.
    """
    s = text.lstrip(_C_SPACE)
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    base = 10
    if s[:2].lower() == "0x" and len(s) > 2 and s[2] in _DIGITS[16]:
        base, s = 16, s[2:]
    elif s[:1] == "0" and len(s) > 1:
        base, s = 8, s[1:]
    if not s or any(c not in _DIGITS[base] for c in s):
        raise ValueError(f"{text!r} is not a whole number")
    value = sign * int(s, base)
    return ((value + 2**31) % 2**32) - 2**31


def convert_uci_value(option: Option, value: str | tuple[str, ...] | list[str]) -> Any:
    if option.kind == "list":
        return [value] if isinstance(value, str) else list(value)
    if not isinstance(value, str):
        raise ValueError(
            f"is a list ({len(value)} values) but takes one value; use 'option', not 'list'"
            " (netifd ignores it)"
        )
    if value == "":
        return None  # netifd drops empty options: the default applies
    if option.kind == "bool":
        if value in ("1", "true"):
            return True
        if value in ("0", "false"):
            return False
        raise ValueError(f"{value!r} is not a boolean netifd accepts; write 1 or 0")
    if option.kind == "int":
        try:
            return c_strtol_full(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a whole number (netifd would ignore it); write digits only"
            ) from None
    return value


