"""Inline suppressions: `# dockwise: ignore=DW201,DW305 reason` and `# hadolint ignore=DL3008`.

A pragma covers the finding on the line that follows the comment block it stands in (or on
its own line, for a trailing comment). `global ignore=` covers the whole file, and
`stage ignore=` directly before a FROM covers that stage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from msgspec import Struct

from dockwise.lazyre import lazy_compile

_PRAGMA = lazy_compile(
    r"#\s*(?P<tool>dockwise|hadolint)\s*:?\s*(?P<scope>global\s+|stage\s+)?ignore\s*=\s*"
    r"(?P<codes>[A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)",
    re.IGNORECASE,
)
_FROM = lazy_compile(r"^\s*FROM\s", re.IGNORECASE)


class Pragma(Struct, frozen=True):
    line: int
    scope: str  # "line", "global" or "stage"
    codes: frozenset[str]


class Suppressions(Struct, frozen=True):
    """The pragmas of one file, ready to answer 'is this finding suppressed?'."""

    pragmas: tuple[Pragma, ...]
    lines: tuple[str, ...]
    stage_ranges: tuple[tuple[int, int, frozenset[str]], ...]

    def covers(self, line: int | None, codes: Iterable[str]) -> bool:
        wanted = {c.upper() for c in codes}
        for pragma in self.pragmas:
            if pragma.scope == "global" and pragma.codes & wanted:
                return True
        if line is None:
            return False
        for start, end, stage_codes in self.stage_ranges:
            if start <= line <= end and stage_codes & wanted:
                return True
        return any(
            pragma.codes & wanted for pragma in self._pragmas_for(line) if pragma.scope == "line"
        )

    def _pragmas_for(self, line: int) -> Iterable[Pragma]:
        by_line = {p.line: p for p in self.pragmas}
        if line in by_line:  # trailing comment on the same line
            yield by_line[line]
        current = line - 1
        while current >= 1 and _is_comment(self.lines[current - 1]):
            if current in by_line:
                yield by_line[current]
            current -= 1


def _is_comment(text: str) -> bool:
    return text.lstrip().startswith("#")


def parse_suppressions(text: str) -> Suppressions:
    lines = tuple(text.splitlines())
    pragmas: list[Pragma] = []
    for number, content in enumerate(lines, start=1):
        if "ignore" not in content:
            continue
        match = _PRAGMA.search(content)
        if match:
            scope = (match.group("scope") or "line").strip().lower()
            codes = frozenset(c.strip().upper() for c in match.group("codes").split(","))
            pragmas.append(Pragma(number, scope, codes))
    return Suppressions(tuple(pragmas), lines, _stage_ranges(lines, pragmas))


def _stage_ranges(
    lines: Sequence[str], pragmas: Sequence[Pragma]
) -> tuple[tuple[int, int, frozenset[str]], ...]:
    stage_pragmas = [p for p in pragmas if p.scope == "stage"]
    if not stage_pragmas:
        return ()
    froms = [n for n, text in enumerate(lines, start=1) if _FROM.match(text)]
    ranges = []
    for pragma in stage_pragmas:
        start = next((n for n in froms if n > pragma.line), None)
        if start is None:
            continue
        end = next((n - 1 for n in froms if n > start), len(lines))
        ranges.append((start, end, pragma.codes))
    return tuple(ranges)


def codes_for(rule_id: str, also: Iterable[str]) -> set[str]:
    """Codes a pragma may name to silence a rule: its own id and the peer codes it matches."""
    codes = {rule_id.upper()}
    for alias in also:
        tool, _, code = alias.partition(":")
        if tool.lower() == "hadolint" and code:
            codes.add(code.upper())
    return codes


def suppressed(
    suppressions: Mapping[str, Suppressions], path: str, line: int | None, codes: set[str]
) -> bool:
    table = suppressions.get(path)
    return table is not None and table.covers(line, codes)
