"""Split the shell scripts of RUN instructions into simple commands.

Most RUN lines are simple commands joined by `&&`, `||`, `;` and `|`: a punctuation-aware
`shlex` split handles them in microseconds. Scripts with compound syntax (if/for/while/case,
subshells, command substitution, functions) go through bashlex, which is exact but slow to
import (about 100 ms), so it is only imported when such a script appears. A script neither
can parse degrades to the fast split of its text: one bad RUN never breaks the file.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import lru_cache

_SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "|&", "\n"}
_COMPOUND = re.compile(
    r"(^|[\s;&|(])(if|then|for|while|until|case|function|select)\s|\$\(|`|(^|[\s;&|])[({]\s|\[\["
)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class ShellCommand:
    """One simple command: `argv[0]` is the program (after leading VAR=value assignments)."""

    argv: tuple[str, ...]
    assignments: tuple[str, ...] = ()
    piped: bool = False  # part of a pipeline (`a | b`)

    @property
    def name(self) -> str:
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    @property
    def args(self) -> tuple[str, ...]:
        return self.argv[1:]

    def has_flag(self, *flags: str) -> bool:
        """True if any of the flags appears (long `--x`, `--x=v`, or short letters in `-xyz`)."""
        for arg in self.args:
            for flag in flags:
                if arg == flag or (flag.startswith("--") and arg.startswith(flag + "=")):
                    return True
                if (
                    len(flag) == 2
                    and flag[0] == "-"
                    and flag[1] != "-"
                    and arg.startswith("-")
                    and not arg.startswith("--")
                    and flag[1] in arg[1:]
                ):
                    return True
        return False

    def positional(self) -> tuple[str, ...]:
        return tuple(a for a in self.args if not a.startswith("-"))

    @property
    def text(self) -> str:
        return " ".join(self.argv)


@dataclass(frozen=True)
class ShellScript:
    commands: tuple[ShellCommand, ...]
    has_pipe: bool
    parsed_by: str  # "fast", "bashlex" or "fallback"


def parse_script(script: str) -> ShellScript:
    """Commands of a shell script; never raises."""
    return _parse_cached(script)


@lru_cache(maxsize=4096)
def _parse_cached(script: str) -> ShellScript:
    if len(script) > 200_000:
        # a pathological RUN: bound the work, keep the head
        script = script[:200_000]
    if not _COMPOUND.search(script):
        fast = _fast_split(script)
        if fast is not None:
            return fast
    exact = _bashlex_split(script)
    if exact is not None:
        return exact
    return _fast_split(script, strict=False) or ShellScript((), False, "fallback")


def _fast_split(script: str, strict: bool = True) -> ShellScript | None:
    script = script.replace("\\\n", " ")
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&|\n")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = "#"
    tokens: list[str] = []
    try:
        for token in lexer:
            tokens.append(token)
    except ValueError:  # unbalanced quotes
        if strict:
            return None
    groups: list[list[str]] = [[]]
    piped_flags: list[bool] = [False]
    has_pipe = False
    for token in tokens:
        if token in _SEPARATORS or (token and set(token) <= set(";&|\n")):
            if token.strip("\n") in ("|", "|&"):
                has_pipe = True
                piped_flags[-1] = True
                groups.append([])
                piped_flags.append(True)
            else:
                groups.append([])
                piped_flags.append(False)
        else:
            groups[-1].append(token)
    commands = tuple(
        _command(words, piped) for words, piped in zip(groups, piped_flags, strict=True) if words
    )
    return ShellScript(tuple(c for c in commands if c.argv), has_pipe, "fast")


def _command(words: list[str], piped: bool) -> ShellCommand:
    assignments: list[str] = []
    while words and _ASSIGNMENT.match(words[0]):
        assignments.append(words.pop(0))
    while words and words[0] in ("!", "exec", "command", "nohup", "time", "builtin"):
        if words[0] == "exec" and len(words) == 1:
            break
        words = words[1:]
    return ShellCommand(tuple(words), tuple(assignments), piped)


def _bashlex_split(script: str) -> ShellScript | None:
    try:
        import bashlex
    except ImportError:  # pragma: no cover - bashlex is a dependency
        return None
    try:
        trees = bashlex.parse(script)
    except Exception:  # bashlex raises many kinds of errors on valid-but-unusual shell
        return None
    collector = _Collector(script)
    for tree in trees:
        collector.visit(tree, piped=False)
    return ShellScript(tuple(collector.commands), collector.has_pipe, "bashlex")


class _Collector:
    def __init__(self, script: str) -> None:
        self.script = script
        self.commands: list[ShellCommand] = []
        self.has_pipe = False

    def visit(self, node: object, piped: bool) -> None:
        kind = getattr(node, "kind", "")
        if kind == "pipeline":
            parts = [p for p in node.parts if getattr(p, "kind", "") != "pipe"]  # type: ignore[attr-defined]
            self.has_pipe = self.has_pipe or len(parts) > 1
            for part in parts:
                self.visit(part, piped=len(parts) > 1)
            return
        if kind == "command":
            self._command(node, piped)
            return
        for child in _children(node):
            self.visit(child, piped)

    def _command(self, node: object, piped: bool) -> None:
        words: list[str] = []
        for part in node.parts:  # type: ignore[attr-defined]
            part_kind = getattr(part, "kind", "")
            if part_kind in ("word", "assignment"):
                words.append(part.word)
                for child in getattr(part, "parts", ()):
                    self.visit(child, piped=False)  # command substitutions inside words
        if words:
            self.commands.append(_command(words, piped))


def _children(node: object) -> list[object]:
    children: list[object] = []
    for attr in ("parts", "list", "command"):
        value = getattr(node, attr, None)
        if isinstance(value, list):
            children.extend(value)
        elif value is not None and hasattr(value, "kind"):
            children.append(value)
    return children
