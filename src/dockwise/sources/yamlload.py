"""Safe, bounded YAML loading with a source position on every value.

One module for every YAML artifact (compose files now, Kubernetes manifests later). It turns
bytes into a small tree of immutable nodes, never into arbitrary Python objects:

- reads are bounded and never block: only regular files are opened (a FIFO named
  `compose.yaml` is refused before it is read), and at most `max_bytes` are read;
- ruamel.yaml only *composes* (syntax to a node graph); no constructor runs, so no tag can
  build an object, `1e999` or a 3,600-digit number cannot raise, and library warnings
  (duplicate anchors...) are captured instead of reaching stderr;
- aliases are kept shared while the tree is built and their *expanded* size is counted, so
  an alias bomb is refused as soon as it would expand past `max_nodes` values or
  `max_chars` characters, in time and memory proportional to its text;
- duplicate keys, recursive aliases, non-scalar keys and excessive nesting are reported with
  their line and column, as is invalid YAML.

`<<` merge keys are applied (as Go's yaml.v3, which docker compose uses, applies them).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from msgspec import Struct, field

MAX_YAML_BYTES = 2 * 1024 * 1024
MAX_NODES = 100_000  # values after alias expansion; real compose files hold a few thousand
MAX_CHARS = 16 * 1024 * 1024  # scalar characters after alias expansion
MAX_DEPTH = 200
MAX_FLOW_DEPTH = 100
# pure-Python ruamel composes about 50,000 values a second: lines + flow items are capped
# before parsing so that no input takes seconds (the largest real compose file has 300 lines)
MAX_ITEMS = 10_000
MAX_INT_DIGITS = 40  # longer integers keep their text as value

_TAG = "tag:yaml.org,2002:"
_DEEP_FLOW = re.compile(r"(?:[\[{][ \t\r\n]*){" + str(MAX_FLOW_DEPTH + 1) + "}")


class YamlReadError(Exception):
    """The file cannot be read as text (not a regular file, too large, unreadable)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class YamlProblem(Struct, frozen=True):
    line: int | None
    column: int | None
    message: str


class Scalar(Struct, frozen=True):
    """A scalar. `kind` is str, int, float, bool or null; `value` the Python value (an int
    too long for MAX_INT_DIGITS keeps its text); `text` the scalar as written (unquoted)."""

    value: str | int | float | bool | None
    text: str
    kind: str
    line: int
    column: int
    tag: str | None = None  # an explicit local tag (`!reset`, `!override`, ...)
    source: str = ""  # the file it was read from, as the loader named it


class Seq(Struct, frozen=True):
    items: tuple[Node, ...]
    line: int
    column: int
    tag: str | None = None
    source: str = ""


class Map(Struct, frozen=True):
    """A mapping with string keys (as written), in document order. `keys` gives the
    position of each key: for a block value, the key's line is where a reader looks."""

    entries: Mapping[str, Node]
    keys: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    line: int = 1
    column: int = 1
    tag: str | None = None
    source: str = ""

    def get(self, key: str) -> Node | None:
        return self.entries.get(key)

    def key_line(self, key: str) -> int | None:
        where = self.keys.get(key)
        return where[0] if where else None


Node = Scalar | Seq | Map


class YamlDocuments(Struct, frozen=True):
    documents: tuple[Node, ...]
    problems: tuple[YamlProblem, ...]


def read_text(path: Path, max_bytes: int = MAX_YAML_BYTES) -> str:
    """The text of a regular file, read without ever blocking; YamlReadError otherwise."""
    try:
        info = os.stat(path)
    except OSError as error:
        raise YamlReadError(f"cannot read: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise YamlReadError("not a regular file: not read")
    if info.st_size > max_bytes:
        raise YamlReadError(f"larger than {_size(max_bytes)}: not read")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise YamlReadError(f"cannot read: {error.strerror or error}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the stat above
            raise YamlReadError("not a regular file: not read")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise YamlReadError(f"cannot read: {error.strerror or error}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise YamlReadError(f"larger than {_size(max_bytes)}: not read")
    return decode(data)


def decode(data: bytes) -> str:
    """UTF-8 (BOM allowed) or UTF-16 with a BOM, as YAML allows; YamlReadError otherwise."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise YamlReadError(f"not valid UTF-8 (byte {error.start})") from None


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def load_yaml(
    text: str,
    *,
    max_nodes: int = MAX_NODES,
    max_chars: int = MAX_CHARS,
    max_items: int = MAX_ITEMS,
    source: str = "",
) -> YamlDocuments:
    """Every document of `text` as a node tree, or the problems that stopped it.

    A syntax error, an alias bomb or a recursive alias drops every document (the file is
    unusable as docker compose or kubectl sees it); duplicate or non-scalar keys are
    reported and the first value kept."""
    items = text.count("\n") + text.count(",") + text.count("[") + text.count("{")
    if items > max_items:
        message = f"more than {max_items:,} lines and flow items: not loaded"
        return YamlDocuments((), (YamlProblem(None, None, message),))
    deep = _DEEP_FLOW.search(text)
    if deep is not None:
        line, column = _position(text, deep.start())
        message = f"YAML nested deeper than {MAX_FLOW_DEPTH}: not loaded"
        return YamlDocuments((), (YamlProblem(line, column, message),))
    if "\t" in text:
        text = _drop_trailing_tabs(text)
    from ruamel.yaml.main import CParser

    if CParser is not None:  # libyaml's parser (ruamel.yaml.clib): 4x faster, same nodes
        try:
            loaded, syntax_error = _compose(text, max_nodes, max_chars, source, pure=False)
        except Exception:  # whatever libyaml refuses otherwise, the pure parser judges
            syntax_error = True
        if not syntax_error:
            return loaded
    # invalid YAML is described in the words (and positions) of the pure-Python parser,
    # whatever the parser: its messages are the ones users see
    return _compose(text, max_nodes, max_chars, source, pure=True)[0]


def _compose(
    text: str, max_nodes: int, max_chars: int, source: str, *, pure: bool
) -> tuple[YamlDocuments, bool]:
    """The documents, and whether the parser refused the text as invalid YAML."""
    import warnings

    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    # typ="safe": the same nodes as the round-trip loader, 2.4x faster
    yaml = YAML(typ="safe", pure=pure)
    builder = _Builder(max_nodes, max_chars, source)
    documents: list[Node] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ruamel's duplicate-anchor warnings: yaml.v3 allows
        try:
            for root in yaml.compose_all(text):
                if root is None:
                    continue
                documents.append(builder.build(root))
        except _Refused as refused:
            return YamlDocuments((), (*builder.problems, refused.problem)), False
        except MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = error.problem or error.context or "syntax error"
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
            return YamlDocuments((), (YamlProblem(line, column, f"invalid YAML: {problem}"),)), True
        except YAMLError as error:  # ReaderError (control characters) has a position only
            line, column = _position(text, getattr(error, "position", None))
            character = getattr(error, "character", None)
            if isinstance(character, str) and len(character) == 1:
                character = ord(character)
            problem = (
                f"character {character:#06x} is not allowed"
                if isinstance(character, int)
                else "unreadable character"
            )
            return YamlDocuments((), (YamlProblem(line, column, f"invalid YAML: {problem}"),)), True
        except RecursionError:
            return YamlDocuments((), (YamlProblem(None, None, "YAML nested too deeply"),)), False
    return YamlDocuments(tuple(documents), tuple(builder.problems)), False


def _drop_trailing_tabs(text: str) -> str:
    """Each line's trailing blanks when they hold a tab, removed.

    Go's YAML (kubectl, docker compose) takes a tab after a value as the blank it is;
    ruamel's scanner refuses it ("found character '\t' that cannot start any token").
    Trailing blanks mean nothing outside block scalars, and removing them keeps every line
    and column. Done by hand in one pass: the regex `[ \t]*\t[ \t]*$` it replaces
    backtracked on a run of tabs inside a line (5,000 tabs: minutes, issue 6)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        body = line.rstrip(" \t")
        if len(body) < len(line) and "\t" in line[len(body) :]:
            lines[index] = body
    return "\n".join(lines)


def _position(text: str, offset: object) -> tuple[int | None, int | None]:
    if not isinstance(offset, int):
        return None, None
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


class _Refused(Exception):
    def __init__(self, problem: YamlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Builder:
    """Composer nodes to Nodes. Each composer node is built once (aliases stay shared) and
    its expanded size memoised, so counting the expansion costs no expansion."""

    def __init__(self, max_nodes: int, max_chars: int, source: str) -> None:
        self.source = source
        self.max_nodes = max_nodes
        self.max_chars = max_chars
        self.memo: dict[int, tuple[Node, int, int]] = {}
        self.active: set[int] = set()
        self.problems: list[YamlProblem] = []
        self.keep: list[object] = []  # composer nodes stay alive while ids are memo keys
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        self.sequence, self.mapping = SequenceNode, MappingNode

    def build(self, root: object) -> Node:
        node, _, _ = self._node(root, 0)
        return node

    def _node(self, raw: object, depth: int) -> tuple[Node, int, int]:
        key = id(raw)
        known = self.memo.get(key)
        if known is not None:
            return known
        line, column = _mark(raw)
        if key in self.active:
            raise _Refused(YamlProblem(line, column, "recursive YAML alias"))
        if depth > MAX_DEPTH:
            raise _Refused(YamlProblem(line, column, f"YAML nested deeper than {MAX_DEPTH}"))
        self.active.add(key)
        try:
            built = self._build(raw, depth, line, column)
        finally:
            self.active.discard(key)
        self._check(built[1], built[2], line, column)
        self.memo[key] = built
        self.keep.append(raw)
        return built

    def _build(self, raw: object, depth: int, line: int, column: int) -> tuple[Node, int, int]:
        resolved = getattr(raw, "tag", None) or ""  # a property building the text: read once
        tag = _local_tag(resolved)
        if isinstance(raw, self.sequence):
            items: list[Node] = []
            count, chars = 1, 0
            for child in raw.value:
                node, n, c = self._node(child, depth + 1)
                items.append(node)
                count += n
                chars += c
                self._check(count, chars, line, column)
            return Seq(tuple(items), line, column, tag, self.source), count, chars
        if isinstance(raw, self.mapping):
            return self._mapping(raw, depth, line, column, tag)
        return _scalar(raw, line, column, tag, self.source, resolved)

    def _mapping(
        self, raw: object, depth: int, line: int, column: int, tag: str | None
    ) -> tuple[Node, int, int]:
        entries: dict[str, Node] = {}
        keys: dict[str, tuple[int, int]] = {}
        merged: list[Map] = []
        count, chars = 1, 0
        for key_raw, value_raw in getattr(raw, "value", ()):
            key_line, key_column = _mark(key_raw)
            if str(getattr(key_raw, "tag", "")) == _TAG + "merge":
                value, n, c = self._node(value_raw, depth + 1)
                sources = value.items if isinstance(value, Seq) else (value,)
                for source in sources:
                    if isinstance(source, Map):
                        merged.append(source)
                    else:
                        self.problems.append(
                            YamlProblem(key_line, key_column, "`<<` must merge mappings")
                        )
                count += n
                chars += c
                continue
            key_node, _, _ = self._node(key_raw, depth + 1)
            if not isinstance(key_node, Scalar):
                self.problems.append(
                    YamlProblem(key_line, key_column, "a mapping key must be a scalar: ignored")
                )
                continue
            name = key_node.text
            if name in entries:
                first = keys[name][0]
                self.problems.append(
                    YamlProblem(
                        key_line,
                        key_column,
                        f'mapping key "{name}" already defined at line {first}',
                    )
                )
                continue
            value, n, c = self._node(value_raw, depth + 1)
            entries[name] = value
            keys[name] = (key_line, key_column)
            count += n
            chars += c + len(name)
            self._check(count, chars, line, column)
        for source in merged:  # explicit keys win, then the first mapping merged
            for name, value in source.entries.items():
                if name not in entries:
                    entries[name] = value
                    keys[name] = source.keys.get(name, (source.line, source.column))
        return Map(entries, keys, line, column, tag, self.source), count, chars

    def _check(self, count: int, chars: int, line: int, column: int) -> None:
        if count > self.max_nodes:
            what = f"{self.max_nodes:,} values"
        elif chars > self.max_chars:
            what = f"{self.max_chars:,} characters"
        else:
            return
        raise _Refused(
            YamlProblem(
                line, column, f"YAML aliases expand to more than {what}: refused (an alias bomb?)"
            )
        )


def _mark(raw: object) -> tuple[int, int]:
    mark = getattr(raw, "start_mark", None)
    if mark is None:
        return 1, 1
    return int(mark.line) + 1, int(mark.column) + 1


def _local_tag(tag: object) -> str | None:
    """An explicit tag that is not one of YAML's own (`!reset`, `!override`, `!Ref`...)."""
    text = str(tag) if tag is not None else ""
    if not text or text.startswith(_TAG):
        return None
    return text


def _scalar(
    raw: object, line: int, column: int, tag: str | None, source: str, resolved: str
) -> tuple[Node, int, int]:
    text = str(getattr(raw, "value", ""))
    kind = resolved[len(_TAG) :] if resolved.startswith(_TAG) else "str"
    value: str | int | float | bool | None = text
    if kind == "null":
        value = None
    elif kind == "bool":
        value = text.lower() in ("true", "yes", "on", "y")
    elif kind == "int":
        value = _int(text)
    elif kind == "float":
        try:
            value = float(text.replace("_", "").replace(".inf", "inf").replace(".Inf", "inf"))
        except ValueError:
            value = float("nan") if "nan" in text.lower() else text
    else:
        kind = "str"
    return Scalar(value, text, kind, line, column, tag, source), 1, len(text)


def _int(text: str) -> int | str:
    cleaned = text.replace("_", "")
    sign = -1 if cleaned.startswith("-") else 1
    digits = cleaned.lstrip("+-")
    if len(digits) > MAX_INT_DIGITS:
        return text
    try:
        lowered = digits.lower()
        if lowered.startswith("0x"):
            return sign * int(lowered[2:], 16)
        if lowered.startswith("0o"):
            return sign * int(lowered[2:], 8)
        if lowered.startswith("0b"):
            return sign * int(lowered[2:], 2)
        if len(digits) > 1 and digits.startswith("0") and digits.isdigit():
            return sign * int(digits, 8)  # YAML 1.1 octal, as yaml.v3 reads it
        if ":" in digits:  # YAML 1.1 sexagesimal
            return text
        return sign * int(digits)
    except ValueError:
        return text


def plain(node: Node | None) -> object:
    """The node as plain Python data (dicts, lists, scalars). Bounded by the load budget."""
    if node is None:
        return None
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Seq):
        return [plain(item) for item in node.items]
    return {key: plain(value) for key, value in node.entries.items()}
