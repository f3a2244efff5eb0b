"""`json.dumps(value, indent=2)`, byte for byte, several times faster.

With `indent`, the standard library encodes in pure Python; a report of thousands of
findings spends a good part of its time there. This encoder lays out the same indentation
itself and leaves strings to the C escaper the standard library uses without `indent`.
Values are what a report holds: dicts with string keys, lists and tuples, strings, ints,
floats, booleans and None; anything else (a subclass, another key type, a cycle) goes to
`json.dumps` as it is.
"""

from __future__ import annotations

import json
from functools import lru_cache
from json.encoder import encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]

_INDENT = "  "
_SCALARS = (str, int, bool, float, type(None))


def dumps_indented(value: object, *, ensure_ascii: bool = True) -> str:
    """Exactly `json.dumps(value, indent=2, ensure_ascii=ensure_ascii)`."""
    quote = encode_basestring_ascii if ensure_ascii else encode_basestring
    parts: list[str] = []
    try:
        _encode(value, "\n", quote, parts)
    except (_NotPlain, RecursionError):  # json.dumps says what is wrong, or copes
        return json.dumps(value, indent=2, ensure_ascii=ensure_ascii)
    return "".join(parts)


class _NotPlain(Exception):
    """A value this encoder leaves to json.dumps (a subclass, a key json converts)."""


def _encode(value: object, newline: str, quote: object, parts: list[str]) -> None:
    kind = type(value)
    if kind is str:
        parts.append(quote(value))  # type: ignore[operator]
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif kind is int:
        parts.append(int.__repr__(value))  # type: ignore[arg-type]
    elif kind is float:
        parts.append(_float(value))  # type: ignore[arg-type]
    elif kind is dict:
        if not value:
            parts.append("{}")
            return
        inner = newline + _INDENT
        if all(type(item) in _SCALARS for item in value.values()):  # type: ignore[attr-defined]
            # a flat object (a finding): the C encoder, its item separator carrying the
            # newline and indentation
            flat = _flat_encoder(inner, quote is encode_basestring_ascii).encode(value)
            parts.append("{" + inner + flat[1:-1] + newline + "}")
            return
        separator = "{" + inner
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                raise _NotPlain
            parts.append(separator)
            parts.append(quote(key))  # type: ignore[operator]
            parts.append(": ")
            _encode(item, inner, quote, parts)
            separator = "," + inner
        parts.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        inner = newline + _INDENT
        separator = "[" + inner
        for item in value:  # type: ignore[attr-defined]
            parts.append(separator)
            _encode(item, inner, quote, parts)
            separator = "," + inner
        parts.append(newline + "]")
    else:
        raise _NotPlain


@lru_cache(maxsize=64)
def _flat_encoder(inner: str, ensure_ascii: bool) -> json.JSONEncoder:
    return json.JSONEncoder(ensure_ascii=ensure_ascii, separators=("," + inner, ": "))


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)
