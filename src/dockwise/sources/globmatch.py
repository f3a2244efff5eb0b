"""Go's `filepath.Match` syntax, which COPY/ADD sources and `--exclude` use (no `**`)."""

from __future__ import annotations

import re
from functools import lru_cache


def go_match(pattern: str, name: str) -> bool:
    """True if name matches the whole pattern; a malformed pattern matches nothing."""
    compiled = _compile(pattern)
    return compiled is not None and compiled.fullmatch(name) is not None


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str] | None:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            i += 1
            if i >= len(pattern):
                return None
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end, klass = _char_class(pattern, i)
            if end < 0:
                return None
            out.append(klass)
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _char_class(pattern: str, start: int) -> tuple[int, str]:
    """(index of the closing ']', regex class) or (-1, '') when the class is malformed."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] == "^"
    if negate:
        i += 1
    parts: list[str] = []
    first = True
    while i < len(pattern):
        if pattern[i] == "]":
            if first:
                return -1, ""  # Go rejects an empty class
            break
        first = False
        lo, i = _class_char(pattern, i)
        if lo is None:
            return -1, ""
        if i + 1 < len(pattern) and pattern[i] == "-" and pattern[i + 1] != "]":
            hi, i = _class_char(pattern, i + 1)
            if hi is None or hi < lo:
                return -1, ""
            parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
        else:
            parts.append(re.escape(lo))
    if i >= len(pattern):
        return -1, ""
    body = "".join(parts)
    return i, f"[^/{body}]" if negate else f"[{body}]"


def _class_char(pattern: str, i: int) -> tuple[str | None, int]:
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            return None, i
    return pattern[i], i + 1
