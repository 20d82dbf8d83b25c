"""Test double for pyuci's ``euci`` module (``EUci``, typed access on top of ``uci.Uci``).

It follows tests/golden/uci/euci-transcript.txt and euci-transcript-2.txt:
``get`` returns str by default, ``dtype`` converts (bool by the table recorded there, int,
float), ``list=True`` always gives a tuple and without it a list gives its first item, every
failure (missing entry or failed conversion) raises ``uci.UciExceptionNotFound`` unless
``default=`` is given, which is then returned unchanged; ``set`` stores ints as decimal text
and bools as '1'/'0' (5 and True become '5' and '1'), each item of a list too, and lists come
back as tuples of strings.  There is no ``foreach`` and no ``boolean_value``.

``add`` and everything else not listed here is ``uci.Uci``'s (see the uci double: ``add``
stages its delta in the save directory at once and unloads the config).  ``EUci`` is a plain
Python subclass of the immutable ``uci.Uci``, as in pyuci 0.10.3: it can be patched.
"""

from __future__ import annotations

from typing import Any

from uci import Uci, UciExceptionNotFound

_BOOLEANS = {
    "1": True,
    "yes": True,
    "on": True,
    "true": True,
    "enabled": True,
    "0": False,
    "no": False,
    "off": False,
    "false": False,
    "disabled": False,
}


def _convert(value: str, dtype: Any) -> Any:
    if dtype is str:
        return value
    if dtype is bool:
        try:
            return _BOOLEANS[value.lower()]
        except KeyError:
            raise UciExceptionNotFound() from None
    try:
        return dtype(value)
    except (TypeError, ValueError):
        raise UciExceptionNotFound() from None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


class EUci(Uci):
    """``uci.Uci`` with typed ``get`` and ``set``."""

    def get(self, *args: str, dtype: Any = str, **kwargs: Any) -> Any:
        unknown = set(kwargs) - {"default", "list"}
        if unknown:
            raise TypeError(f"'{unknown.pop()}' is an invalid keyword argument for get()")
        try:
            value = super().get(*args)
            if len(args) < 2:
                return value
            if kwargs.get("list"):
                items = value if isinstance(value, tuple) else (value,)
                return tuple(_convert(item, dtype) for item in items)
            if isinstance(value, tuple):
                value = value[0]
            return _convert(value, dtype)
        except UciExceptionNotFound:
            if "default" in kwargs:
                return kwargs["default"]
            raise

    def set(self, *args: Any) -> None:
        *where, value = args
        if isinstance(value, (tuple, list)):
            super().set(*where, tuple(_text(item) for item in value))
        else:
            super().set(*where, _text(value))
