"""Split the shell scripts of RUN instructions into simple commands.

Most RUN lines are simple commands joined by `&&`, `||`, `;` and `|`: a punctuation-aware
`shlex` split handles them in microseconds. Scripts with compound syntax (if/for/while/case,
subshells, command substitution, functions) go through bashlex, which is exact but slow to
import (about 100 ms), so it is only imported when such a script appears. A script neither
can parse degrades to the fast split of its text: one bad RUN never breaks the file.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from dockwise.lazyre import lazy_compile

_SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "|&", "\n"}
_COMPOUND = lazy_compile(
    r"(^|[\s;&|(])(if|then|for|while|until|case|function|select)\s|\$\(|`|(^|[\s;&|])[({]\s|\[\[|<<"
)
_ASSIGNMENT = lazy_compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class ShellCommand:
    """One simple command: `argv[0]` is the program (after leading VAR=value assignments)."""

    argv: tuple[str, ...]
    assignments: tuple[str, ...] = ()
    piped: bool = False  # part of a pipeline (`a | b`)
    redirects: tuple[
        tuple[str, str], ...
    ] = ()  # (operator, target): (">", "/var/log/x"), ("2>&", "1")

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
    parsed_by: str  # "fast", "bashlex", "exec" or "fallback"
    # plain `NAME=value` statements of the script (`deps='gcc make'; apt-get install $deps`)
    variables: Mapping[str, str] = field(default_factory=dict)


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
    tokens = _tokens(script, strict)
    if tokens is None:
        return None
    builder = _Builder()
    pending_redirect: str | None = None
    for token in tokens:
        if pending_redirect is not None:
            builder.redirect(pending_redirect, token)
            pending_redirect = None
        elif _is_redirect(token):
            pending_redirect = builder.take_fd(token)
        elif token in _SEPARATORS or set(token) <= _SEPARATOR_CHARS:
            builder.separate(piped=token.strip("\n") in ("|", "|&"))
        else:
            builder.word(token)
    return builder.script("fast")


_SEPARATOR_CHARS = set(";&|\n")
_REDIRECT = lazy_compile(r"^(\d*)(>>|>&|>\||>|<>|<<<|<<-|<<|<&|<|&>>|&>)$")


def _tokens(script: str, strict: bool) -> list[str] | None:
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True, punctuation_chars=";&|<>\n")
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
    return tokens


def _is_redirect(token: str) -> bool:
    return bool(token) and token[0] in "<>&" and _REDIRECT.match(token) is not None


class _Builder:
    """Collects words into simple commands, with their redirections and pipe marks."""

    def __init__(self) -> None:
        self.commands: list[ShellCommand] = []
        self.words: list[str] = []
        self.redirects: list[tuple[str, str]] = []
        self.piped = False
        self.next_piped = False
        self.has_pipe = False
        self.variables: dict[str, str] = {}

    def word(self, token: str) -> None:
        self.words.append(token)

    def take_fd(self, operator: str) -> str:
        """A redirect operator; a bare number just before it (`2>`) is its descriptor."""
        if self.words and self.words[-1].isdigit():
            return self.words.pop() + operator
        return operator

    def redirect(self, operator: str, target: str) -> None:
        self.redirects.append((operator, target))

    def separate(self, piped: bool) -> None:
        if piped:
            self.has_pipe = True
        self._flush(piped_after=piped)

    def _flush(self, piped_after: bool = False) -> None:
        command = _command(self.words, self.piped or piped_after, tuple(self.redirects))
        if command.argv:
            self.commands.append(command)
        else:
            for assignment in command.assignments:
                name, _, value = assignment.partition("=")
                self.variables[name] = value
        self.words, self.redirects = [], []
        self.piped = piped_after

    def script(self, parsed_by: str) -> ShellScript:
        self._flush()
        return ShellScript(tuple(self.commands), self.has_pipe, parsed_by, dict(self.variables))


def _command(
    words: list[str], piped: bool, redirects: tuple[tuple[str, str], ...] = ()
) -> ShellCommand:
    words = list(words)
    assignments: list[str] = []
    while words and _ASSIGNMENT.match(words[0]):
        assignments.append(words.pop(0))
    while words and words[0] in ("!", "exec", "command", "nohup", "time", "builtin"):
        if words[0] == "exec" and len(words) == 1:
            break
        words = words[1:]
    return ShellCommand(tuple(words), tuple(assignments), piped, redirects)


def _bashlex_split(script: str) -> ShellScript | None:
    import bashlex  # about 100 ms to import: only for scripts the fast path cannot split

    try:
        trees = bashlex.parse(script)
    except Exception:  # bashlex raises many kinds of errors on valid-but-unusual shell
        return None
    collector = _Collector(script)
    for tree in trees:
        collector.visit(tree, piped=False)
    return ShellScript(
        tuple(c for c in collector.commands if c.argv),
        collector.has_pipe,
        "bashlex",
        {
            name: value
            for c in collector.commands
            if not c.argv
            for name, _, value in [a.partition("=") for a in c.assignments]
        },
    )


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
        redirects: list[tuple[str, str]] = []
        for part in node.parts:  # type: ignore[attr-defined]
            part_kind = getattr(part, "kind", "")
            if part_kind in ("word", "assignment"):
                words.append(part.word)
                for child in getattr(part, "parts", ()):
                    self.visit(child, piped=False)  # command substitutions inside words
            elif part_kind == "redirect":
                redirects.append(_redirect(part))
        if words:
            self.commands.append(_command(words, piped, tuple(redirects)))


def _redirect(node: object) -> tuple[str, str]:
    fd = getattr(node, "input", None)
    operator = f"{fd if fd is not None else ''}{getattr(node, 'type', '')}"
    output = getattr(node, "output", None)
    target = output if isinstance(output, int) else getattr(output, "word", "")
    return operator, str(target)


def _children(node: object) -> list[object]:
    children: list[object] = []
    for attr in ("parts", "list", "command"):
        value = getattr(node, attr, None)
        if isinstance(value, list):
            children.extend(value)
        elif value is not None and hasattr(value, "kind"):
            children.append(value)
    return children
