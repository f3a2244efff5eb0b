"""Go's `filepath.Match`, which COPY/ADD sources and `--exclude` use (no `**`).

A port of Go's own algorithm, not a regular expression: each `*` chunk is matched at the
leftmost place it fits and never revisited, so matching costs at most
(pattern length x name length), whatever the pattern (`*a*a*a*a*a*b` included).
"""

from __future__ import annotations


def go_match(pattern: str, name: str) -> bool:
    """True if name matches the whole pattern; a malformed pattern matches nothing."""
    matched = match_or_error(pattern, name)
    return bool(matched)


def match_or_error(pattern: str, name: str) -> bool | None:
    """Go's filepath.Match (Unix): True, False, or None for ErrBadPattern."""
    while pattern:
        star, chunk, pattern = scan_chunk(pattern)
        if star and chunk == "":
            return "/" not in name  # a trailing * matches the rest unless it has a /
        rest, ok, bad = match_chunk(chunk, name)
        if ok and (not rest or pattern):
            name = rest
            continue
        if bad:
            return None
        if star:
            found = False
            i = 0
            while i < len(name) and name[i] != "/":
                rest, ok, bad = match_chunk(chunk, name[i + 1 :])
                if ok:
                    if not pattern and rest:  # the last chunk must exhaust the name
                        i += 1
                        continue
                    name = rest
                    found = True
                    break
                if bad:
                    return None
                i += 1
            if found:
                continue
        # before answering no, check that the rest of the pattern is well formed
        while pattern:
            _star, chunk, pattern = scan_chunk(pattern)
            if match_chunk(chunk, "")[2]:
                return None
        return False
    return not name


def scan_chunk(pattern: str) -> tuple[bool, str, str]:
    """Go's scanChunk: (leading star?, chunk up to the next unbracketed '*', rest)."""
    star = False
    while pattern.startswith("*"):
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == "[":
            in_range = True
        elif c == "]":
            in_range = False
        elif c == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def match_chunk(chunk: str, s: str) -> tuple[str, bool, bool]:
    """Go's matchChunk: (rest of s, ok, bad pattern). Once the text fails, the rest of the
    chunk is still read to find syntax errors, as Go does."""
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[0]
        if c == "[":
            r = ""
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = chunk.startswith("^")
            if negated:
                chunk = chunk[1:]
            match = False
            nrange = 0
            while True:
                if chunk.startswith("]") and nrange > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk, bad = get_esc(chunk)
                if bad:
                    return "", False, True
                hi = lo
                if chunk[0] == "-":
                    hi, chunk, bad = get_esc(chunk[1:])
                    if bad:
                        return "", False, True
                if not failed and lo <= r <= hi:
                    match = True
                nrange += 1
            if match == negated:
                failed = True
        elif c == "?":
            if not failed:
                if s[0] == "/":
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
        else:
            if c == "\\":
                chunk = chunk[1:]
                if not chunk:
                    return "", False, True
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    if failed:
        return "", False, False
    return s, True, False


def get_esc(chunk: str) -> tuple[str, str, bool]:
    """Go's getEsc: one possibly escaped character of a class, the rest, bad pattern."""
    if not chunk or chunk[0] in "-]":
        return "", chunk, True
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            return "", chunk, True
    r = chunk[0]
    rest = chunk[1:]
    bad = not rest or "\udc80" <= r <= "\udcff"  # invalid UTF-8 byte (surrogateescape)
    return r, rest, bad
