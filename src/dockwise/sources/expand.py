"""BuildKit's word expansion for ARG/ENV values: $VAR, ${VAR}, ${VAR:-x}, ${VAR:+x}, ${VAR-x}.

Expansion has a size budget: `ENV A1=$A0$A0...` nested a few levels deep doubles eight
times per level, so a 300-byte Dockerfile would expand to gigabytes. A result longer than
the budget is unknown: `try_expand` says so (None) and `expand` leaves the text as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dockwise.lazyre import lazy_compile

_VAR = lazy_compile(
    r"\\\$|\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+])?(?P<word>[^}]*)\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)
# Linux's MAX_ARG_STRLEN: no single environment string a process can receive is longer
MAX_EXPANSION = 128 * 1024


class ExpansionTooLarge(Exception):
    """The expanded text would be longer than the budget."""


def try_expand(
    text: str,
    env: Mapping[str, str | None],
    escape: str = "\\",
    limit: int = MAX_EXPANSION,
) -> str | None:
    """The expanded text, or None when it would be longer than `limit` characters."""
    try:
        return _expand(text, env, escape, limit)
    except ExpansionTooLarge:
        return None


def expand(
    text: str,
    env: Mapping[str, str | None],
    escape: str = "\\",
    limit: int = MAX_EXPANSION,
) -> str:
    """Expand variables the way the Dockerfile frontend does for ARG, ENV, FROM and friends.

    Unknown variables expand to the empty string, as BuildKit does. A result longer than
    `limit` is not computed: the text comes back as written (its value is unknown).
    """
    expanded = try_expand(text, env, escape, limit)
    return text if expanded is None else expanded


def _expand(text: str, env: Mapping[str, str | None], escape: str, limit: int) -> str:
    if "$" not in text:
        if len(text) > limit:
            raise ExpansionTooLarge
        return text
    # characters of the result so far: the text as written bounds what is not substituted
    total = [len(text)]

    def substitute(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "\\$":
            return "$" if escape == "\\" else whole
        name = match.group("braced") or match.group("plain")
        value = env.get(name)
        op = match.group("op")
        if not op:
            result = value or ""
        else:
            word = _expand(match.group("word"), env, escape, limit)
            if op == ":-":
                result = value if value else word
            elif op == "-":
                result = value if value is not None else word
            elif op == ":+":
                result = word if value else ""
            else:  # "+"
                result = word if value is not None else ""
        total[0] += len(result)
        if total[0] > limit + len(text):
            raise ExpansionTooLarge
        return result

    result = _VAR.sub(substitute, text)
    if len(result) > limit:
        raise ExpansionTooLarge
    return result


def references(text: str) -> set[str]:
    """Names of the variables a string refers to."""
    names = set()
    for match in _VAR.finditer(text):
        name = match.group("braced") or match.group("plain")
        if name:
            names.add(name)
    return names
