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
from functools import cached_property, lru_cache

from msgspec import Struct, field

from dockwise.lazyre import lazy_compile

_SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "|&", "\n"}
_COMPOUND = lazy_compile(
    r"(^|[\s;&|(])(if|then|for|while|until|case|function|select)\s|\$\(|`|(^|[\s;&|])[({]\s|\[\[|<<"
)
_MIDWORD_HASH = lazy_compile(r"[^\s;&|()<>]#")
_ASSIGNMENT = lazy_compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class ShellCommand(Struct, frozen=True, dict=True):
    """One simple command: `argv[0]` is the program (after leading VAR=value assignments)."""

    argv: tuple[str, ...]
    assignments: tuple[str, ...] = ()
    piped: bool = False  # part of a pipeline (`a | b`)
    redirects: tuple[
        tuple[str, str], ...
    ] = ()  # (operator, target): (">", "/var/log/x"), ("2>&", "1")

    @cached_property
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


class Pipeline(Struct, frozen=True):
    """Commands joined by `|`, one tuple of simple commands per stage (a `{ a; b; }` or a
    `while` loop is one stage holding several commands)."""

    stages: tuple[tuple[ShellCommand, ...], ...]
    substituted: bool = False  # inside `$(...)`, backquotes or `<(...)`: it feeds a word
    tested: bool = False  # its status is tested: if/while/until condition, `!`, left of `||`

    @property
    def producers(self) -> tuple[ShellCommand, ...]:
        """The commands whose exit status the pipeline drops (all stages but the last)."""
        return tuple(command for stage in self.stages[:-1] for command in stage)


class ShellScript(Struct, frozen=True):
    """A shell script split into simple commands and pipelines."""

    commands: tuple[ShellCommand, ...]
    has_pipe: bool
    parsed_by: str  # "fast", "bashlex", "exec" or "fallback"
    # plain `NAME=value` statements of the script (`deps='gcc make'; apt-get install $deps`)
    variables: Mapping[str, str] = field(default_factory=dict)
    pipelines: tuple[Pipeline, ...] = ()

    def is_simple_command(self) -> bool:
        """One simple command, no list, pipe, loop or substitution (`gunicorn app:app`)."""
        return len(self.commands) == 1 and not self.has_pipe and self.parsed_by == "fast"


def parse_script(script: str) -> ShellScript:
    """Commands of a shell script; never raises."""
    return _parse_cached(script)


@lru_cache(maxsize=4096)
def _parse_cached(script: str) -> ShellScript:
    if len(script) > 200_000:
        # a pathological RUN: bound the work, keep the head
        script = script[:200_000]
    # shlex ends a word at any `#`; the shell starts a comment only at a word's start
    if not _COMPOUND.search(script) and not _MIDWORD_HASH.search(script):
        fast = _fast_split(script)
        if fast is not None:
            return fast
    exact = None if _has_case_statement(script) else _bashlex_split(script)
    if exact is not None:
        return exact
    return _fallback_split(script)


def _has_case_statement(script: str) -> bool:
    """bashlex implements no `case` statement (it raises on any): such a script goes
    straight to the fallback, without a failed parse or, often, bashlex's import."""
    return "esac" in script and _CASE_HEAD.search(script) is not None


# `case WORD in` where a command starts
_CASE_HEAD = lazy_compile(
    r"(?m)(?:^|[;&|({]|\b(?:then|do|else)\b)[ \t]*\n?[ \t]*case[ \t]+\S+[ \t\n]+in(?:[ \t\n]|$)"
)


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
            builder.separate(token)
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


_KEYWORDS = frozenset(
    {"if", "elif", "while", "until", "then", "do", "else", "fi", "done", "{", "}"}
)


class _Builder:
    """Collects words into simple commands, with their redirections and pipelines.

    It also skips the head and the patterns of a `case` statement, whose `|` separates
    alternatives (`linux/arm/v7|linux/arm/v8)`), not the stages of a pipeline.
    """

    def __init__(self) -> None:
        self.commands: list[ShellCommand] = []
        self.words: list[str] = []
        self.redirects: list[tuple[str, str]] = []
        self.piped = False
        self.has_pipe = False
        self.variables: dict[str, str] = {}
        self.stages: list[ShellCommand] = []  # the pipeline being read, one command per stage
        self.negated = False
        self.pipelines: list[Pipeline] = []
        self.case = ""  # "", "head" (`case WORD in`) or "pattern" (before the `)`)
        self.list_start = 0  # first pipeline of the current and-or list
        self.condition = False  # between if/while/until and then/do

    def word(self, token: str) -> None:
        if self.case == "head":
            if token == "in":
                self.case = "pattern"
            return
        if self.case == "pattern":
            if token == "esac":
                self.case = ""
            elif token.endswith(")"):
                self.case = "body"
            return
        if not self.words and token == "case":
            self.case = "head"
            return
        if not self.words and token == "esac" and self.case == "body":
            self.case = ""
            return
        if not self.words and token in _KEYWORDS:  # the fallback meets if/while it cannot nest
            self.condition = token in ("if", "elif", "while", "until")
            return
        self.words.append(token)

    def take_fd(self, operator: str) -> str:
        """A redirect operator; a bare number just before it (`2>`) is its descriptor."""
        if self.words and self.words[-1].isdigit():
            return self.words.pop() + operator
        return operator

    def redirect(self, operator: str, target: str) -> None:
        self.redirects.append((operator, target))

    def separate(self, token: str) -> None:
        operator = token.strip("\n") or "\n"
        if self.case == "pattern":
            return  # `a|b)`: alternatives of a case pattern
        if self.case == "body" and operator.startswith(";;"):
            self._flush(operator=";")
            self.case = "pattern"
            return
        if self.case == "head":
            return
        piped = operator in ("|", "|&")
        if piped:
            self.has_pipe = True
        self._flush(operator=operator)

    def _flush(self, operator: str = ";") -> None:
        piped_after = operator in ("|", "|&")
        if self.words[:1] == ["!"] and not self.stages:
            self.negated = True
        command = _command(self.words, self.piped or piped_after, tuple(self.redirects))
        if command.argv:
            self.commands.append(command)
            if self.piped or piped_after:
                self.stages.append(command)
        elif not self.piped and not piped_after:
            for assignment in command.assignments:
                name, _, value = assignment.partition("=")
                self.variables[name] = value
        if not piped_after:
            if len(self.stages) > 1:
                tested = self.negated or operator == "||" or self.condition
                stages = tuple((stage,) for stage in self.stages)
                self.pipelines.append(Pipeline(stages, tested=tested))
            self.stages = []
            self.negated = False
        if operator == "||":  # `a | b && c || d`: the list's failures so far are handled
            for index in range(self.list_start, len(self.pipelines)):
                pipeline = self.pipelines[index]
                self.pipelines[index] = Pipeline(pipeline.stages, pipeline.substituted, True)
        elif operator not in ("&&", "|", "|&"):
            self.list_start = len(self.pipelines)
        self.words, self.redirects = [], []
        self.piped = piped_after

    def script(self, parsed_by: str) -> ShellScript:
        self._flush()
        return ShellScript(
            tuple(self.commands),
            self.has_pipe,
            parsed_by,
            dict(self.variables),
            tuple(self.pipelines),
        )


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


# --- the fallback: what neither the fast split nor bashlex can read ------------------------

# characters of a command substitution hidden from the fast split, restored in its words
_HIDDEN = {c: chr(0xE000 + i) for i, c in enumerate("|;&<>()'\"# \t\n`")}
_SHOWN = {v: k for k, v in _HIDDEN.items()}


def _fallback_split(script: str) -> ShellScript:
    """The fast split of a script bashlex rejects (`case`, unusual syntax), with command
    substitutions read as scripts of their own so their pipes are not the script's."""
    hidden, inner = _hide_substitutions(script.replace("\\\n", " "))
    outer = _fast_split(hidden, strict=False)
    if outer is None:
        return ShellScript((), False, "fallback")
    commands = [_shown(c) for c in outer.commands]
    pipelines = [
        Pipeline(
            tuple(tuple(_shown(c) for c in stage) for stage in p.stages),
            p.substituted,
            p.tested,
        )
        for p in outer.pipelines
    ]
    has_pipe = outer.has_pipe
    for text in inner:
        nested = parse_script(text)
        commands.extend(nested.commands)
        pipelines.extend(Pipeline(p.stages, True, p.tested) for p in nested.pipelines)
        has_pipe = has_pipe or nested.has_pipe
    variables = {name: _unhide(value) for name, value in outer.variables.items()}
    return ShellScript(tuple(commands), has_pipe, "fallback", variables, tuple(pipelines))


def _unhide(text: str) -> str:
    return "".join(_SHOWN.get(c, c) for c in text) if any(c in _SHOWN for c in text) else text


def _shown(command: ShellCommand) -> ShellCommand:
    return ShellCommand(
        tuple(_unhide(a) for a in command.argv),
        tuple(_unhide(a) for a in command.assignments),
        command.piped,
        tuple((op, _unhide(t)) for op, t in command.redirects),
    )


def _hide_substitutions(script: str) -> tuple[str, list[str]]:
    """`$(...)` and backquoted scripts replaced by opaque characters (outside single quotes)."""
    out: list[str] = []
    inner: list[str] = []
    index, length = 0, len(script)
    in_single = in_double = False
    while index < length:
        char = script[index]
        if char == "\\" and not in_single:
            out.append(script[index : index + 2])
            index += 2
            continue
        if char == "'" and not in_double:
            in_single = not in_single
        elif char == '"' and not in_single:
            in_double = not in_double
        elif not in_single and (char == "`" or script.startswith("$(", index)):
            end = None if script.startswith("$((", index) else _substitution_end(script, index)
            if end is not None:
                inner.append(script[index + (1 if char == "`" else 2) : end])
                out.append("".join(_HIDDEN.get(c, c) for c in script[index : end + 1]))
                index = end + 1
                continue
        out.append(char)
        index += 1
    return "".join(out), inner


def _substitution_end(script: str, start: int) -> int | None:
    """Index of the `)` (or backquote) that closes the substitution starting at `start`."""
    if script[start] == "`":
        end = script.find("`", start + 1)
        return end if end != -1 else None
    depth, index, quote = 0, start + 1, ""
    while index < len(script):
        char = script[index]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                index += 1
        elif char in "'\"":
            quote = char
        elif char == "\\":
            index += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return None


# --- the exact path ------------------------------------------------------------------------


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
        tuple(collector.pipelines),
    )


_CONDITIONS = {"if": "then", "elif": "then", "while": "do", "until": "do"}


class _Collector:
    def __init__(self, script: str) -> None:
        self.script = script
        self.commands: list[ShellCommand] = []
        self.has_pipe = False
        self.pipelines: list[Pipeline] = []
        self.substituted = False
        self.tested = False
        self.nested: set[int] = set()  # ids of commands inside substitutions

    def visit(self, node: object, piped: bool) -> None:
        kind = getattr(node, "kind", "")
        if kind == "pipeline":
            self._pipeline(node, piped)
            return
        if kind == "command":
            self._command(node, piped)
            return
        if kind == "list":
            self._list(node, piped)
            return
        if kind in ("if", "while", "until"):
            self._conditional(node, piped)
            return
        for child in _children(node):
            self.visit(child, piped)

    def _pipeline(self, node: object, piped: bool) -> None:
        all_parts = node.parts  # type: ignore[attr-defined]
        negated = any(
            getattr(p, "kind", "") == "reservedword" and getattr(p, "word", "") == "!"
            for p in all_parts
        )
        parts = [p for p in all_parts if getattr(p, "kind", "") not in ("pipe", "reservedword")]
        self.has_pipe = self.has_pipe or len(parts) > 1
        stages: list[tuple[ShellCommand, ...]] = []
        for part in parts:
            before = len(self.commands)
            tested, self.tested = self.tested, self.tested or negated
            self.visit(part, piped=len(parts) > 1)
            self.tested = tested
            stages.append(
                tuple(c for c in self.commands[before:] if c.argv and id(c) not in self.nested)
            )
        if len(parts) > 1:
            self.pipelines.append(Pipeline(tuple(stages), self.substituted, self.tested or negated))

    def _list(self, node: object, piped: bool) -> None:
        parts = list(node.parts)  # type: ignore[attr-defined]
        last_or = max((i for i, p in enumerate(parts) if getattr(p, "op", "") == "||"), default=-1)
        for index, part in enumerate(parts):
            # `a | b && c || d`: whatever precedes an `||` has its failure handled
            tested, self.tested = self.tested, self.tested or index < last_or
            self.visit(part, piped)
            self.tested = tested

    def _conditional(self, node: object, piped: bool) -> None:
        in_condition = False
        for part in node.parts:  # type: ignore[attr-defined]
            word = getattr(part, "word", "") if getattr(part, "kind", "") == "reservedword" else ""
            if word in _CONDITIONS:
                in_condition = True
                continue
            if word in ("then", "do", "else"):
                in_condition = False
                continue
            tested, self.tested = self.tested, self.tested or in_condition
            self.visit(part, piped)
            self.tested = tested

    def _command(self, node: object, piped: bool) -> None:
        words: list[str] = []
        redirects: list[tuple[str, str]] = []
        for part in node.parts:  # type: ignore[attr-defined]
            part_kind = getattr(part, "kind", "")
            if part_kind in ("word", "assignment"):
                words.append(part.word)
                for child in getattr(part, "parts", ()):
                    self._substitution(child)  # command substitutions inside words
            elif part_kind == "redirect":
                redirects.append(_redirect(part))
                output = getattr(part, "output", None)
                for child in getattr(output, "parts", ()) or ():
                    self._substitution(child)  # `done < <(curl ...)`
        if words:
            self.commands.append(_command(words, piped, tuple(redirects)))

    def _substitution(self, node: object) -> None:
        substituted, tested = self.substituted, self.tested
        self.substituted, self.tested = True, False
        before = len(self.commands)
        self.visit(node, piped=False)
        self.nested.update(id(c) for c in self.commands[before:])
        self.substituted, self.tested = substituted, tested


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
