"""Exact Docker ``.dockerignore`` semantics.

This module reproduces, step by step, what the Docker CLI / BuildKit do with an ignore
file, so that dockwise's answer to "does ``docker build`` send this path?" is Docker's:

* reading: ``moby/patternmatcher/ignorefile.ReadAll`` (``#`` is a comment only in column 1,
  ``strings.TrimSpace``, a leading ``!`` marks an exception, ``filepath.Clean``, a leading
  ``/`` is dropped);
* compiling: ``patternmatcher.New`` (a second ``Clean``, the ``filepath.Match`` syntax check,
  then the pattern-to-regexp translation of ``Pattern.compile`` with its exact / prefix /
  suffix / regexp kinds);
* matching: ``PatternMatcher.MatchesUsingParentResults`` driven the way BuildKit's context
  walker (``tonistiigi/fsutil``) drives it: every directory's per-pattern match results are
  handed down to its entries.  A pattern that matched a directory therefore matches
  everything below it, the last matching pattern wins and ``!`` exceptions re-include.

Paths are relative to the context root and use ``/`` (Linux/macOS client semantics: a
backslash escapes the next character; on Windows clients it would be a separator).

The Dockerfile and the ignore file itself are always *read* by the builder even when the
ignore file excludes them, but ``COPY``/``ADD``/bind mounts still honour the verdict:
see :func:`always_sent`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from msgspec import Struct

from dockwise.lazyre import lazy_compile
from dockwise.sources.globmatch import go_match, match_or_error

__all__ = [
    "DEFAULT_IGNORE_NAME",
    "MAX_IGNORE_FILE_BYTES",
    "DockerIgnore",
    "IgnorePattern",
    "IgnoreVerdict",
    "always_sent",
    "find_ignore_file",
    "load_dockerignore",
    "parse_dockerignore",
]

DEFAULT_IGNORE_NAME = ".dockerignore"
MAX_IGNORE_FILE_BYTES = 1024 * 1024
# bufio.Scanner's default MaxScanTokenSize: a longer line makes ReadAll fail.
_MAX_LINE_BYTES = 64 * 1024
_BAD_PATTERN = "syntax error in pattern"  # Go's filepath.ErrBadPattern text

# Go's unicode.IsSpace (what strings.TrimSpace strips); Python's str.strip differs.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

MatchKind = Literal["exact", "prefix", "suffix", "regexp"]
Matcher = Callable[[str], bool]
# kind, matcher, equivalent Python regexp source, notes
# per-pattern MatchInfo flags of a path, and the index of the last matching pattern (-1)
_State = tuple[tuple[bool, ...], int]
_Compiled = tuple[MatchKind, Matcher, str, list[str]]


def _never(_path: str) -> bool:
    return False


# ---------------------------------------------------------------------------------------
# Public models
# ---------------------------------------------------------------------------------------


# dataclasses, not Structs like the other records: their matchers stay out of equality
@dataclass(frozen=True)
class IgnorePattern:
    """One effective pattern of an ignore file."""

    line: int  # 1-based line in the ignore file
    raw: str  # the line as written (without its newline)
    pattern: str  # cleaned pattern, without the leading '!'
    exclusion: bool  # True for '!' lines (re-include)
    kind: MatchKind = field(default="exact", repr=False, compare=False)
    _match: Matcher = field(default=_never, repr=False, compare=False)
    _regexp: str = field(default="(?!)", repr=False, compare=False)  # same test as Python re

    def matches(self, relpath: str) -> bool:
        """Whether this pattern alone matches ``relpath`` itself (no parent logic)."""
        return self._match(relpath)

    def __reduce__(self) -> tuple[Callable[..., IgnorePattern], tuple[object, ...]]:
        # its matcher is a closure, which pickle cannot take (a batch's build contexts come
        # back pickled from a helper process, forked.py): it travels as its pattern
        return _compiled_again, (self.line, self.raw, self.pattern, self.exclusion)


class IgnoreVerdict(Struct, frozen=True):
    ignored: bool
    pattern: IgnorePattern | None  # the deciding (last matching) pattern, None if none


_ROOT_VERDICT = IgnoreVerdict(ignored=False, pattern=None)


@dataclass(frozen=True)
class DockerIgnore:
    """A parsed ignore file; answers per-path verdicts exactly as BuildKit would."""

    path: str | None
    patterns: tuple[IgnorePattern, ...]
    errors: tuple[tuple[int, str], ...] = ()
    suspicious: tuple[tuple[int, str], ...] = ()
    # directory -> its MatchInfo flags and deciding pattern, filled lazily.
    _dir_state: dict[str, _State] = field(default_factory=dict, repr=False, compare=False)
    # One alternation of every pattern: a path that matches none of them inherits its
    # directory's MatchInfo unchanged, which skips the per-pattern loop for most paths.
    _any: Matcher = field(default=_never, init=False, repr=False, compare=False)
    _table: tuple[tuple[bool, Matcher], ...] = field(
        default=(), init=False, repr=False, compare=False
    )

    def __reduce__(self) -> tuple[type[DockerIgnore], tuple[object, ...]]:
        # without its matchers and cache of verdicts: made again from the patterns
        return DockerIgnore, (self.path, self.patterns, self.errors, self.suspicious)

    def __post_init__(self) -> None:
        table = tuple((pat.exclusion, pat._match) for pat in self.patterns)
        object.__setattr__(self, "_table", table)
        if self.patterns:
            object.__setattr__(self, "_any", _any_matcher(self.patterns))

    def verdict(self, relpath: str) -> IgnoreVerdict:
        """Verdict for ``relpath`` ('/'-separated, relative to the context root)."""
        path = _normalize(relpath)
        if path == "." or not self.patterns:
            return _ROOT_VERDICT
        parent, _, _ = path.rpartition("/")
        state = self._state_for(parent) if parent else None
        if state is None or self._any(path):
            state = self._evaluate(path, state)
        return self._verdict_from(state[1])

    def is_ignored(self, relpath: str) -> bool:
        return self.verdict(relpath).ignored

    def may_contain_included(self, reldir: str) -> bool:
        """False only when ``reldir`` is excluded and nothing below it can be re-included.

        Conservative: True whenever an exception pattern could match some path below.
        """
        path = _normalize(reldir)
        if path == "." or not self.patterns:
            return True
        decider = self._state_for(path)[1]
        if decider < 0 or self.patterns[decider].exclusion:
            return True
        # Patterns that matched the directory keep matching everything below it, so only
        # an exception listed after the deciding pattern can re-include a descendant.
        prefix = path + "/"
        return any(
            pat.exclusion and _could_match_below(pat, prefix)
            for pat in self.patterns[decider + 1 :]
        )

    # -- internals ------------------------------------------------------------------

    def _state_for(self, directory: str) -> _State:
        cached = self._dir_state.get(directory)
        if cached is not None:
            return cached
        parent, _, _ = directory.rpartition("/")
        state = self._evaluate(directory, self._state_for(parent) if parent else None)
        self._dir_state[directory] = state
        return state

    def _evaluate(self, path: str, parent: _State | None) -> _State:
        """Port of PatternMatcher.MatchesUsingParentResults.

        ``parent`` is the parent directory's result, as BuildKit's walker passes it; it is
        None only for entries at the context root, whose Go fallback (matching each parent
        directory) has no parent directory to look at.  Returns the MatchInfo flags and the
        index of the last matching pattern (-1 when none).
        """
        flags = list(parent[0]) if parent is not None else [False] * len(self.patterns)
        matched = False
        last = -1
        for i, (exclusion, match) in enumerate(self._table):
            if flags[i]:
                matched = not exclusion
                last = i
            elif exclusion == matched and match(path):
                flags[i] = True
                matched = not exclusion
                last = i
        return tuple(flags), last

    def _verdict_from(self, decider: int) -> IgnoreVerdict:
        if decider < 0:
            return _ROOT_VERDICT
        pat = self.patterns[decider]
        return IgnoreVerdict(ignored=not pat.exclusion, pattern=pat)


def _any_matcher(patterns: tuple[IgnorePattern, ...]) -> Matcher:
    """Whether any pattern matches: one alternation of the patterns Python's re matches
    without backtracking blow-ups, and the linear matcher of each other one."""
    safe = [pat._regexp for pat in patterns if not _backtracks(pat._regexp)]
    linear = [pat._match for pat in patterns if _backtracks(pat._regexp)]
    together = (
        _full_match(re.compile("|".join(f"(?:{src})" for src in safe), re.ASCII))
        if safe
        else _never
    )
    if not linear:
        return together

    def match(path: str) -> bool:
        return together(path) or any(one(path) for one in linear)

    return match


def always_sent(
    relpath: str,
    dockerfile: str = "Dockerfile",
    ignore_file: str = DEFAULT_IGNORE_NAME,
) -> bool:
    """Whether the builder receives ``relpath`` whatever the ignore file says.

    Docker docs: excluding the Dockerfile or the ``.dockerignore`` is allowed; "these files
    are still sent to the builder as they're needed for running the build. But you can't
    copy the files into the image using ADD, COPY, or bind mounts." So the verdict stays
    ``ignored`` for COPY purposes; this only tells that the file reaches the builder.
    ``dockerfile`` and ``ignore_file`` are paths relative to the context root.
    """
    path = _normalize(relpath)
    return path in {_normalize(dockerfile), _normalize(ignore_file)}


def find_ignore_file(context_dir: Path, dockerfile: Path) -> Path | None:
    """The ignore file BuildKit uses for this Dockerfile and context.

    ``<Dockerfile name>.dockerignore`` next to the Dockerfile wins over
    ``<context>/.dockerignore`` (docs.docker.com, "dockerignore files").
    """
    specific = dockerfile.with_name(dockerfile.name + DEFAULT_IGNORE_NAME)
    if specific.is_file():
        return specific
    generic = context_dir / DEFAULT_IGNORE_NAME
    if generic.is_file():
        return generic
    return None


def load_dockerignore(path: Path) -> DockerIgnore:
    """Read and parse an ignore file; unreadable or oversized files become error entries."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_IGNORE_FILE_BYTES + 1)
    except OSError as exc:
        return DockerIgnore(str(path), (), ((0, f"cannot read ignore file: {exc}"),))
    if len(data) > MAX_IGNORE_FILE_BYTES:
        message = f"ignore file larger than {MAX_IGNORE_FILE_BYTES} bytes: not parsed"
        return DockerIgnore(str(path), (), ((0, message),))
    return parse_dockerignore(data.decode("utf-8", errors="surrogateescape"), str(path))


def parse_dockerignore(text: str, path: str | None = None) -> DockerIgnore:
    """Parse ignore-file text: ReadAll followed by patternmatcher.New, line by line."""
    patterns: list[IgnorePattern] = []
    errors: list[tuple[int, str]] = []
    suspicious: list[tuple[int, str]] = []
    for number, raw in enumerate(_scan_lines(text), start=1):
        if number == 1:
            raw = raw.removeprefix("\ufeff")
        if len(raw.encode("utf-8", errors="surrogateescape")) >= _MAX_LINE_BYTES:
            errors.append((number, "line too long (bufio.Scanner: token too long)"))
            continue
        suspicious.extend((number, msg) for msg in _raw_line_warnings(raw))
        entry = _read_line(raw)
        if entry is None:
            continue
        result = _new_pattern(number, raw, entry)
        if isinstance(result, str):
            errors.append((number, result))
            continue
        pattern, notes = result
        suspicious.extend((number, msg) for msg in notes)
        suspicious.extend((number, msg) for msg in _pattern_warnings(pattern, patterns))
        patterns.append(pattern)
    return DockerIgnore(path, tuple(patterns), tuple(errors), tuple(suspicious))


# ---------------------------------------------------------------------------------------
# Reading (ignorefile.ReadAll)
# ---------------------------------------------------------------------------------------


def _scan_lines(text: str) -> list[str]:
    """bufio.ScanLines: split on '\\n' only, drop one trailing '\\r' per line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _go_trim(text: str) -> str:
    return text.strip(_GO_SPACE)


def _read_line(line: str) -> str | None:
    """One line through ReadAll; None for comments and blank lines."""
    if line.startswith("#"):
        return None
    pattern = _go_trim(line)
    if not pattern:
        return None
    invert = pattern[0] == "!"
    if invert:
        pattern = _go_trim(pattern[1:])
    if pattern:
        pattern = _go_clean(pattern)
        if len(pattern) > 1 and pattern[0] == "/":
            pattern = pattern[1:]
    return "!" + pattern if invert else pattern


def _go_clean(path: str) -> str:
    """Go's path.Clean (filepath.Clean on Unix)."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


_UNCLEAN = ("//", "/./", "/../")


def _normalize(relpath: str) -> str:
    if (
        relpath
        and not relpath.startswith(("/", "./", "../"))
        and not relpath.endswith(("/", "/.", "/.."))
        and relpath not in (".", "..")
        and not any(bad in relpath for bad in _UNCLEAN)
    ):
        return relpath
    path = _go_clean(relpath)
    if path.startswith("/"):
        path = path[1:] or "."
    return path


# ---------------------------------------------------------------------------------------
# Compiling (patternmatcher.New and Pattern.compile)
# ---------------------------------------------------------------------------------------


def _new_pattern(line: int, raw: str, entry: str) -> tuple[IgnorePattern, list[str]] | str:
    """patternmatcher.New for one entry: the pattern and notes, or an error message."""
    text = _go_clean(_go_trim(entry))
    exclusion = text[0] == "!"
    if exclusion:
        if len(text) == 1:
            return 'illegal exclusion pattern: "!"'
        text = text[1:]
    if _go_match_error(text):
        return f"{_BAD_PATTERN}: {text!r}"
    compiled = _compile(text)
    if isinstance(compiled, str):
        return compiled
    kind, matcher, source, notes = compiled
    return IgnorePattern(line, raw, text, exclusion, kind, matcher, source), notes


def _compiled_again(line: int, raw: str, pattern: str, exclusion: bool) -> IgnorePattern:
    """A pattern that compiled once, compiled again (IgnorePattern.__reduce__)."""
    compiled = _compile(pattern)
    if isinstance(compiled, str):  # it did compile: the same text gives the same result
        raise ValueError(compiled)
    kind, matcher, source, _ = compiled
    return IgnorePattern(line, raw, pattern, exclusion, kind, matcher, source)


def _compile(pattern: str) -> _Compiled | str:
    """Pattern.compile: classify and build the matcher exactly like patternmatcher."""
    reg: list[str] = []
    kind: MatchKind = "exact"
    i, n = 0, len(pattern)
    first = True
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":  # treat "**/" as "**"
                    i += 1
                if i >= n:
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        reg.append(".*")
                        kind = "regexp"
                else:
                    reg.append("(.*/)?")
                    kind = "regexp"
                if first:
                    kind = "suffix"
            else:
                reg.append("[^/]*")
                kind = "regexp"
        elif ch == "?":
            reg.append("[^/]")
            kind = "regexp"
        elif ch in ".+()|{}$":
            reg.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                reg.append("\\" + pattern[i])
                i += 1
                kind = "regexp"
            else:
                reg.append("\\\\")
        elif ch in "[]":
            reg.append(ch)
            kind = "regexp"
        else:
            reg.append(ch)
        first = False
    return _build_matcher(pattern, kind, "".join(reg))


def _build_matcher(pattern: str, kind: MatchKind, go_regexp: str) -> _Compiled | str:
    if kind == "exact":
        return kind, pattern.__eq__, re.escape(pattern), []
    if kind == "prefix":
        prefix = pattern[:-2]
        return kind, _starts_with(prefix), re.escape(prefix) + "(?s:.*)", []
    if kind == "suffix":
        suffix = pattern[2:]
        source = "(?s:.*)" + re.escape(suffix)
        if suffix.startswith("/"):
            source += "|" + re.escape(suffix[1:])
        return kind, _suffix_matcher(suffix), source, []
    translated = _translate_go_regexp(go_regexp)
    if isinstance(translated, str):
        return f"{_BAD_PATTERN}: {pattern!r} ({translated})"
    source, notes, tokens = translated
    try:
        compiled = re.compile(source, re.ASCII)
    except re.error as exc:
        return f"{_BAD_PATTERN}: {pattern!r} ({exc})"
    if _backtracks(source):
        return kind, _linear_matcher(tokens), source, notes
    return kind, _full_match(compiled), source, notes


def _starts_with(prefix: str) -> Matcher:
    def match(path: str) -> bool:
        return path.startswith(prefix)

    return match


def _suffix_matcher(suffix: str) -> Matcher:
    bare = suffix[1:] if suffix.startswith("/") else None

    def match(path: str) -> bool:
        return path.endswith(suffix) or path == bare  # "**/foo" matches "foo"

    return match


def _full_match(compiled: re.Pattern[str]) -> Matcher:
    fullmatch = compiled.fullmatch

    def match(path: str) -> bool:
        return fullmatch(path) is not None

    return match


# -- Go RE2 -> Python re -----------------------------------------------------------------

_PERL_CLASSES = {
    "d": "0-9",
    "s": "\\t\\n\\f\\r ",
    "w": "0-9A-Za-z_",
}
_CONTROL_ESCAPES = {"a": "\\x07", "f": "\\x0c", "n": "\\n", "r": "\\r", "t": "\\t", "v": "\\x0b"}
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_HEX = frozenset("0123456789abcdefABCDEF")


def _translate_go_regexp(go: str) -> tuple[str, list[str], list[_Token]] | str:
    """Translate the regexp built by Pattern.compile (RE2 syntax) to Python ``re``.

    Returns (source, notes, tokens) or an error message where Go's regexp.Compile fails;
    the tokens are the same regexp for the linear matcher (see _linear_matcher).
    """
    out: list[str] = []
    notes: list[str] = []
    tokens: list[_Token] = []
    i, n = 0, len(go)
    while i < n:
        ch = go[i]
        if ch == "\\":
            result = _translate_escape(go, i + 1, in_class=False)
            if isinstance(result, str):
                return result
            text, i, note = result
            out.append(text)
            tokens.append(_atom_token(text))
            if note:
                notes.append(note)
        elif ch == "[":
            result_cls = _translate_class(go, i)
            if isinstance(result_cls, str):
                return result_cls
            text, i = result_cls
            out.append(text)
            tokens.append(_atom_token(text))
        elif ch == "(" and go.startswith("(.*/)?", i):
            out.append("(?:.*/)?")
            tokens.append(("dirs", None))
            i += len("(.*/)?")
        else:
            out.append(ch)
            if ch == "*" and tokens and tokens[-1][0] == "char":
                tokens[-1] = ("star", tokens[-1][1])
            elif ch == "^":
                tokens.append(("start", None))
            else:
                tokens.append(_atom_token(ch))
            i += 1
    return "".join(out), notes, tokens


# -- linear matching ----------------------------------------------------------------------
#
# Python's re backtracks: `*a*a*a*a*a*a*a*a*a*a*b` against a name of 40 `a` takes
# minutes, `**/` thirty times over a deep path longer. Patterns with more than two
# unbounded parts are matched by simulating the automaton instead: the set of positions
# reachable after each token, so the cost is (tokens x path length), never exponential.

_Token = tuple[str, "Callable[[str], bool] | None"]
_ANCHORS = {"\\A": "start", "\\b": "boundary", "\\B": "inside", "\\Z": "end"}


def _atom_token(text: str) -> _Token:
    if text in _ANCHORS:
        return (_ANCHORS[text], None)
    if text == ".":
        return ("char", _not_newline)
    if len(text) == 1:
        return ("char", text.__eq__)
    single = re.compile(text, re.ASCII).fullmatch
    return ("char", lambda c: single(c) is not None)


def _not_newline(c: str) -> bool:
    return c != "\n"


def _backtracks(source: str) -> bool:
    """More than two unbounded repetitions: Python's re may take exponential time."""
    return source.count("*") - source.count("\\*") > 2


def _is_word(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


def _linear_matcher(tokens: list[_Token]) -> Matcher:
    def match(path: str) -> bool:
        n = len(path)
        current = {0}
        for kind, test in tokens:
            if kind == "char":
                assert test is not None
                current = {j + 1 for j in current if j < n and test(path[j])}
            elif kind in ("star", "dirs"):
                reach = set(current)
                scanned = -1
                for j in sorted(current):
                    if j < scanned:
                        continue  # an earlier start already scanned past here
                    k = j
                    if kind == "star":
                        assert test is not None
                        while k < n and test(path[k]):
                            k += 1
                            reach.add(k)
                    else:  # (?:.*/)? : nothing, or anything up to a '/', newlines excepted
                        while k < n and path[k] != "\n":
                            if path[k] == "/":
                                reach.add(k + 1)
                            k += 1
                    scanned = k
                current = reach
            elif kind == "start":
                current &= {0}
            elif kind == "end":
                current &= {n}
            else:
                inside = kind == "inside"
                current = {j for j in current if _boundary(path, j) != inside}
            if not current:
                return False
        return n in current

    return match


def _boundary(path: str, j: int) -> bool:
    before = j > 0 and _is_word(path[j - 1])
    after = j < len(path) and _is_word(path[j])
    return before != after


def _translate_escape(go: str, i: int, in_class: bool) -> tuple[str, int, str | None] | str:
    """Translate the RE2 escape whose letter is at ``go[i]``: (text, next index, note)."""
    if i >= len(go):
        return "trailing backslash"
    c = go[i]
    if c.isascii() and not c.isalnum():
        return re.escape(c), i + 1, None
    if c in _CONTROL_ESCAPES:
        return _CONTROL_ESCAPES[c], i + 1, None
    if c.lower() in _PERL_CLASSES:
        body = _PERL_CLASSES[c.lower()]
        if in_class:
            return (body if c.islower() else f"\\{c}"), i + 1, None
        return (f"[{body}]" if c.islower() else f"[^{body}]"), i + 1, None
    if not in_class and c in "bBA":
        return f"\\{c}", i + 1, None
    if not in_class and c == "z":
        return "\\Z", i + 1, None
    if c == "x":
        if go[i + 1 : i + 3] and len(go[i + 1 : i + 3]) == 2 and set(go[i + 1 : i + 3]) <= _HEX:
            return re.escape(chr(int(go[i + 1 : i + 3], 16))), i + 3, None
        return "invalid escape sequence \\x"
    if c in "pPQ01234567":
        note = f"Go regexp escape '\\{c}' is not emulated; treated as the literal '{c}'"
        return re.escape(c), i + 1, note
    return f"invalid escape sequence \\{c}"


def _translate_class(go: str, start: int) -> tuple[str, int] | str:
    """Translate an RE2 bracket expression starting at ``go[start] == '['``."""
    i = start + 1
    out = ["["]
    if i < len(go) and go[i] == "^":
        out.append("^")
        i += 1
    first = True
    while True:
        if i >= len(go):
            return "missing closing ]"
        ch = go[i]
        if ch == "]" and not first:
            out.append("]")
            return "".join(out), i + 1
        first = False
        if ch == "[" and go.startswith("[:", i):
            end = go.find(":]", i + 2)
            name = go[i + 2 : end] if end != -1 else ""
            negated = name.startswith("^")
            body = _POSIX_CLASSES.get(name.lstrip("^"))
            if end != -1 and body is not None and not negated:
                out.append(body)
                i = end + 2
                continue
            if end != -1 and body is not None:
                return "negated POSIX class not supported"
        if ch == "\\":
            result = _translate_escape(go, i + 1, in_class=True)
            if isinstance(result, str):
                return result
            text, i, _note = result
            out.append(text)
            continue
        out.append(re.escape(ch) if ch in "[]&~|" else ch)
        i += 1


# -- Go filepath.Match (syntax check only) -----------------------------------------------


def _go_match_error(pattern: str) -> bool:
    """True when Go's ``filepath.Match(pattern, ".")`` returns ErrBadPattern (Unix)."""
    return match_or_error(pattern, ".") is None


# ---------------------------------------------------------------------------------------
# Matching helpers
# ---------------------------------------------------------------------------------------


_GLOB_SPECIALS = frozenset("*?[]\\^")


def _could_match_below(pat: IgnorePattern, prefix: str) -> bool:
    """Conservative: can ``pat`` match some path starting with ``prefix`` (``dir/``)?"""
    text = pat.pattern
    if pat.kind == "exact":
        return text.startswith(prefix)
    if pat.kind == "prefix":
        head = text[:-2]
        return head.startswith(prefix) or prefix.startswith(head)
    if pat.kind == "suffix":
        return True
    literal = text
    for idx, ch in enumerate(text):
        if ch in _GLOB_SPECIALS:
            literal = text[:idx]
            break
    if not (literal.startswith(prefix) or prefix.startswith(literal)):
        return False
    if "**" in text or any(ch in text for ch in "[]\\^"):
        return True
    # Only '*' and '?' wildcards: they never cross '/', so segment counts must agree.
    segments = text.split("/")
    dirs = prefix[:-1].split("/")
    if len(segments) <= len(dirs):
        return False
    return all(go_match(seg, d) for seg, d in zip(segments, dirs, strict=False))


# ---------------------------------------------------------------------------------------
# Suspicious lines (parsed as Docker does, but probably not what the author meant)
# ---------------------------------------------------------------------------------------

_INLINE_COMMENT = lazy_compile(r"\s#")


def _raw_line_warnings(raw: str) -> list[str]:
    stripped = _go_trim(raw)
    if stripped.startswith("#") and not raw.startswith("#"):
        return [
            "'#' is not in column 1, so this line is a pattern, not a comment "
            f"(pattern {stripped!r})"
        ]
    return []


def _pattern_warnings(pat: IgnorePattern, earlier: list[IgnorePattern]) -> list[str]:
    notes: list[str] = []
    body = _go_trim(pat.raw)
    if not body.startswith("#") and _INLINE_COMMENT.search(body):
        notes.append(
            "comments are only recognised at the start of a line: "
            f"'#' is part of the pattern {pat.pattern!r}"
        )
    if "\\" in pat.pattern and re.search(r"\\[0-9A-Za-z]", pat.pattern):
        notes.append(
            "backslash escapes the next character on Linux/macOS (it is a path separator "
            "only for Windows clients); use '/' between directories"
        )
    if pat.pattern == ".":
        notes.append("pattern '.' is ignored: the context root itself is never excluded")
    elif pat.pattern == "/":
        notes.append("pattern '/' matches nothing; use '*' or '**' to exclude everything")
    elif pat.pattern == ".." or pat.pattern.startswith("../"):
        notes.append("patterns outside the build context never match")
    if pat.exclusion and not any(not p.exclusion for p in earlier):
        notes.append("exception has no effect: no earlier pattern excludes anything")
    return notes
