"""BuildKit's word expansion for ARG/ENV values: $VAR, ${VAR}, ${VAR:-x}, ${VAR:+x}, ${VAR-x}."""

from __future__ import annotations

import re
from collections.abc import Mapping

from dockwise.lazyre import lazy_compile

_VAR = lazy_compile(
    r"\\\$|\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+])?(?P<word>[^}]*)\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def expand(text: str, env: Mapping[str, str | None], escape: str = "\\") -> str:
    """Expand variables the way the Dockerfile frontend does for ARG, ENV, FROM and friends.

    Unknown variables expand to the empty string, as BuildKit does.
    """
    if "$" not in text:
        return text

    def substitute(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "\\$":
            return "$" if escape == "\\" else whole
        name = match.group("braced") or match.group("plain")
        value = env.get(name)
        op = match.group("op")
        if not op:
            return value or ""
        word = expand(match.group("word"), env, escape)
        if op == ":-":
            return value if value else word
        if op == "-":
            return value if value is not None else word
        if op == ":+":
            return word if value else ""
        return word if value is not None else ""  # "+"

    return _VAR.sub(substitute, text)


def references(text: str) -> set[str]:
    """Names of the variables a string refers to."""
    names = set()
    for match in _VAR.finditer(text):
        name = match.group("braced") or match.group("plain")
        if name:
            names.add(name)
    return names
