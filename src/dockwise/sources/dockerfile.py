"""Dockerfile model on BuildKit's own parser: instructions, stages, scopes, shipped stage."""

from __future__ import annotations

import os
import posixpath
import stat
from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

import dockerfile as buildkit
from msgspec import Struct

from dockwise.digits import is_digits
from dockwise.lazyre import lazy_compile
from dockwise.sources.expand import MAX_EXPANSION, expand, references, try_expand
from dockwise.sources.imageref import ImageRef, parse_image_ref
from dockwise.sources.shell import ShellCommand, ShellScript, parse_script

KNOWN_INSTRUCTIONS = frozenset(
    [
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ]
)
# BuildKit's automatic platform args, visible to FROM without a declaration
AUTOMATIC_ARGS: Mapping[str, str] = MappingProxyType(
    {
        "TARGETPLATFORM": "linux/amd64",
        "TARGETOS": "linux",
        "TARGETARCH": "amd64",
        "TARGETVARIANT": "",
        "BUILDPLATFORM": "linux/amd64",
        "BUILDOS": "linux",
        "BUILDARCH": "amd64",
        "BUILDVARIANT": "",
    }
)
_DIRECTIVE = lazy_compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
DEFAULT_SHELL = ("/bin/sh", "-c")
# the PATH images are built with unless their config says otherwise (BuildKit's default)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Heredoc(Struct, frozen=True):
    """A here-document of an instruction: its delimiter name and body."""

    name: str
    content: str


# a dataclass, not a Struct like the other records: its scope stays out of equality
@dataclass(frozen=True)
class Instruction:
    """One instruction as BuildKit parsed it, with the scope it runs in."""

    cmd: str  # upper case keyword (for ONBUILD: "ONBUILD"; its inner one is `trigger`)
    original: str
    start_line: int
    end_line: int
    flags: tuple[str, ...]
    value: tuple[str, ...]
    json: bool
    heredocs: tuple[Heredoc, ...] = ()
    trigger: Instruction | None = None  # the instruction an ONBUILD wraps
    stage: int = -1  # index of the stage it belongs to; -1 before the first FROM
    # variables visible here (ARG and ENV, expanded); arg_names tells which came from ARG
    vars: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    arg_names: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    shell: tuple[str, ...] = field(default=DEFAULT_SHELL, repr=False, compare=False)
    workdir: str = field(default="/", repr=False, compare=False)  # WORKDIR in effect here
    # False when expanding this instruction's words would exceed the expansion budget:
    # then `expanded` gives words as written (their value is unknown)
    expandable: bool = field(default=True, repr=False, compare=False)

    def flag(self, name: str) -> str | None:
        """Value of `--name=value` (last one wins), '' for a bare `--name`, None if absent."""
        found = None
        for flag in self.flags:
            key, sep, value = flag.partition("=")
            if key == f"--{name}":
                found = value if sep else ""
        return found

    def flag_values(self, name: str) -> list[str]:
        return [f.partition("=")[2] for f in self.flags if f.partition("=")[0] == f"--{name}"]

    def mounts(self) -> list[dict[str, str]]:
        """`--mount=type=cache,target=/x` flags as dicts, values expanded.

        `dst`/`destination` are spelled `target`; a mount without type is a bind mount.
        """
        mounts = []
        for value in self.flag_values("mount"):
            fields: dict[str, str] = {"type": "bind"}
            for part in value.split(","):
                key, _, item = part.partition("=")
                key = key.strip().lower()
                if key in ("dst", "destination"):
                    key = "target"
                fields[key] = self.expanded(item.strip())
            mounts.append(fields)
        return mounts

    @property
    def is_heredoc_script(self) -> bool:
        return bool(self.heredocs) and bool(self.value) and self.value[0].startswith("<<")

    @property
    def shell_form(self) -> bool:
        return not self.json

    @cached_property
    def script(self) -> str:
        """The shell text a RUN/CMD/ENTRYPOINT would run (exec form joined by spaces)."""
        if self.is_heredoc_script:
            return "\n".join(h.content for h in self.heredocs)
        return " ".join(self.value)

    @cached_property
    def parsed(self) -> ShellScript:
        """The RUN script split into simple commands (exec form: one command)."""
        if self.json:
            return ShellScript((ShellCommand(self.value),), False, "exec")
        return parse_script(self.script)

    @cached_property
    def commands(self) -> tuple[ShellCommand, ...]:
        return self.parsed.commands

    def expanded(self, text: str) -> str:
        return expand(text, self.vars) if self.expandable else text

    def lines(self) -> range:
        return range(self.start_line, self.end_line + 1)


class Stage(Struct, frozen=True, dict=True):
    """A build stage: its FROM and the instructions after it."""

    index: int
    name: str | None  # lower-cased, as BuildKit compares them
    base: str  # the FROM image as written
    base_resolved: str  # after expanding global ARGs
    platform: str | None
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]  # everything after FROM, in order
    parent: int | None  # index of the stage named in FROM, if it is one
    base_known: bool = True  # False when FROM uses a variable that has no value

    @property
    def label(self) -> str:
        return self.name or str(self.index)

    def all(self, *cmds: str) -> Iterator[Instruction]:
        if len(cmds) == 1:
            return iter(self._by_cmd.get(cmds[0], ()))
        return (instruction for instruction in self.instructions if instruction.cmd in cmds)

    def last(self, cmd: str) -> Instruction | None:
        found = self._by_cmd.get(cmd)
        return found[-1] if found else None

    @cached_property
    def _by_cmd(self) -> dict[str, tuple[Instruction, ...]]:
        """The stage's instructions by keyword, in order (rules ask for one kind often)."""
        by_cmd: dict[str, list[Instruction]] = {}
        for instruction in self.instructions:
            by_cmd.setdefault(instruction.cmd, []).append(instruction)
        return {cmd: tuple(found) for cmd, found in by_cmd.items()}

    @cached_property
    def runs(self) -> tuple[Instruction, ...]:
        """RUN instructions of the stage, ONBUILD RUN included."""
        return _runs(self.instructions)

    @property
    def is_scratch(self) -> bool:
        return self.base_resolved.lower() == "scratch"

    @property
    def external_base(self) -> str | None:
        """The image this stage starts from, when it is an image (not a stage, not scratch)
        and every variable in its FROM has a value; None when dockwise cannot know."""
        if self.parent is not None or self.is_scratch or not self.base_known:
            return None
        return self.base_resolved.strip() or None

    @property
    def image_ref(self) -> ImageRef | None:
        base = self.external_base
        return parse_image_ref(base) if base else None

    @property
    def final_vars(self) -> Mapping[str, str]:
        return self.instructions[-1].vars if self.instructions else self.from_instruction.vars


class ParseProblem(Struct, frozen=True):
    """A line dockwise or BuildKit could not read as a Dockerfile."""

    line: int | None
    message: str


class Dockerfile(Struct, frozen=True, dict=True):
    """A parsed Dockerfile: instructions, stages, and which stage ships."""

    path: Path
    relpath: str
    text: str
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: Mapping[str, str | None]
    escape: str = "\\"
    target: str | None = None
    problems: tuple[ParseProblem, ...] = ()  # syntax errors
    # values dockwise could not compute (an expansion over budget): an input problem
    unknown_values: tuple[ParseProblem, ...] = ()

    @cached_property
    def lines(self) -> tuple[str, ...]:
        return tuple(self.text.splitlines())

    def stage_by_ref(self, ref: str) -> Stage | None:
        """The stage a `--from` or FROM refers to: a name, or an index."""
        lowered = ref.lower()
        for stage in self.stages:
            if stage.name == lowered:
                return stage
        if is_digits(ref) and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None

    @cached_property
    def shipped_stage(self) -> Stage | None:
        """The stage that becomes the image: `--target` (or compose build.target) or the last."""
        if not self.stages:
            return None
        if self.target:
            stage = self.stage_by_ref(self.target)
            if stage is not None:
                return stage
        return self.stages[-1]

    def with_target(self, target: str | None) -> Dockerfile:
        from msgspec.structs import replace

        return replace(self, target=target)

    def ancestry(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it is built FROM, nearest first."""
        chain = [stage]
        seen = {stage.index}
        while chain[-1].parent is not None and chain[-1].parent not in seen:
            parent = self.stages[chain[-1].parent]
            seen.add(parent.index)
            chain.append(parent)
        return chain

    def feeding(self, stage: Stage) -> set[int]:
        """Indices of every stage the given one needs: FROM parents and COPY --from sources."""
        needed: set[int] = set()
        todo = [stage]
        while todo:
            current = todo.pop()
            if current.index in needed:
                continue
            needed.add(current.index)
            if current.parent is not None:
                todo.append(self.stages[current.parent])
            for copy in current.all("COPY", "ADD"):
                source = copy.flag("from")
                if source:
                    ref = self.stage_by_ref(copy.expanded(source))
                    if ref is not None and ref.index < current.index:
                        todo.append(ref)
        return needed

    def is_shipped(self, stage: Stage) -> bool:
        shipped = self.shipped_stage
        return shipped is not None and shipped.index == stage.index

    def shipped_chain(self) -> list[Stage]:
        """The shipped stage and its FROM ancestors: what its filesystem is made of."""
        return list(self._shipped_chain)

    @cached_property
    def _shipped_chain(self) -> tuple[Stage, ...]:
        shipped = self.shipped_stage
        return tuple(self.ancestry(shipped)) if shipped else ()

    def iter_instructions(self, include_triggers: bool = True) -> Iterator[Instruction]:
        """Every instruction, and (by default) what ONBUILD would run, after its ONBUILD."""
        for instruction in self.instructions:
            yield instruction
            if include_triggers and instruction.trigger is not None:
                yield instruction.trigger

    def runs(self, stage: Stage | None = None) -> Iterator[Instruction]:
        """RUN instructions (ONBUILD RUN included) of one stage or the whole file."""
        return iter(stage.runs if stage is not None else self._runs)

    @cached_property
    def _runs(self) -> tuple[Instruction, ...]:
        return _runs(self.instructions)


def _runs(instructions: tuple[Instruction, ...]) -> tuple[Instruction, ...]:
    found = []
    for instruction in instructions:
        if instruction.cmd == "RUN":
            found.append(instruction)
        elif instruction.trigger is not None and instruction.trigger.cmd == "RUN":
            found.append(instruction.trigger)
    return tuple(found)


class DockerfileError(Exception):
    """An input that is not a Dockerfile at all (binary, too large, unreadable)."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


# What dockwise accepts as a Dockerfile. The largest of 308 real Dockerfiles (the corpus)
# has 10 KB, 237 lines and one instruction continued over 42 lines; BuildKit's parser costs
# (lines x bytes) for an instruction continued over many lines or a heredoc body, and
# about 3 us per JSON array element, so these bounds keep any accepted input under a
# second: bigger inputs are reported as one problem, not parsed.
MAX_DOCKERFILE_BYTES = 512 * 1024
MAX_DOCKERFILE_LINES = 10_000
# sum over instructions of (physical lines x bytes) of each multi-line instruction
MAX_CONTINUATION_COST = 200_000_000


def read_dockerfile_text(path: Path, relpath: str) -> str:
    try:
        descriptor = os.open(path, _READ_FLAGS)
    except OSError as error:
        raise DockerfileError(relpath, None, f"cannot read: {error.strerror or error}") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise DockerfileError(relpath, None, "not a regular file (FIFO, socket or device)")
        data = _read_at_most(descriptor, MAX_DOCKERFILE_BYTES + 1)
    except OSError as error:
        raise DockerfileError(relpath, None, f"cannot read: {error.strerror or error}") from None
    finally:
        os.close(descriptor)
    return decode_dockerfile(data, relpath)


# O_NONBLOCK: opening a FIFO never waits for a writer (the type check then refuses it)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(descriptor, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def decode_dockerfile(data: bytes, relpath: str) -> str:
    """The text of a Dockerfile, or DockerfileError when it is not one dockwise can check
    (too large, binary, not UTF-8, or shaped so that parsing it would take too long)."""
    if len(data) > MAX_DOCKERFILE_BYTES:
        raise DockerfileError(
            relpath,
            None,
            f"larger than {MAX_DOCKERFILE_BYTES // 1024} KiB: not checked "
            "(real Dockerfiles are a few KB)",
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DockerfileError(relpath, 1, "UTF-16 text: save it as UTF-8")
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DockerfileError(relpath, line, "binary content (NUL byte): not a Dockerfile")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DockerfileError(relpath, line, "not valid UTF-8") from None
    _check_shape(text, relpath)
    return text


def _check_shape(text: str, relpath: str) -> None:
    lines = text.count("\n") + 1
    if lines > MAX_DOCKERFILE_LINES:
        raise DockerfileError(
            relpath, None, f"more than {MAX_DOCKERFILE_LINES:,} lines: not checked"
        )
    cost = 0
    for chunk in _chunks(text.splitlines(keepends=True), _escape_directive(text)):
        if chunk.lines > 1:
            cost += chunk.lines * chunk.size
            if cost > MAX_CONTINUATION_COST:
                raise DockerfileError(
                    relpath,
                    chunk.first,
                    f"an instruction continued over {chunk.lines:,} lines "
                    f"({chunk.size:,} bytes), in a file of such instructions: too large to "
                    "parse, not checked",
                )


def load_dockerfile(path: Path, relpath: str, target: str | None = None) -> Dockerfile:
    return parse_dockerfile(read_dockerfile_text(path, relpath), path, relpath, target)


def parse_dockerfile(
    text: str, path: Path | None = None, relpath: str = "Dockerfile", target: str | None = None
) -> Dockerfile:
    path = path or Path(relpath)
    escape = _escape_directive(text)
    commands, problems = _parse_tolerantly(text)
    raw = []
    for command in commands:
        instruction = _instruction(command)
        if instruction.cmd:
            raw.append(instruction)
        else:
            problems.append(
                ParseProblem(
                    instruction.start_line or None,
                    "a line holding only the escape character continues no instruction",
                )
            )
    instructions, stages, global_args, unknown = _scope(raw, escape)
    return Dockerfile(
        path=path,
        relpath=relpath,
        text=text,
        instructions=tuple(instructions),
        stages=tuple(stages),
        global_args=MappingProxyType(global_args),
        escape=escape,
        target=target,
        problems=tuple(problems),
        unknown_values=tuple(unknown),
    )


def _escape_directive(text: str) -> str:
    for line in text.splitlines():
        match = _DIRECTIVE.match(line)
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("`", "\\"):
            return match.group(2)
    return "\\"


def _parse_tolerantly(text: str) -> tuple[list[object], list[ParseProblem]]:
    """Parse with BuildKit; on a syntax error, keep every instruction that parses alone.

    The whole file is parsed once (BuildKit's answer for a valid file). When that fails,
    the file is cut into instructions (continuations and heredoc bodies kept whole) and
    parsed in batches; a batch that fails is parsed instruction by instruction, so the
    work stays linear in the file's size whatever the number of broken instructions.
    """
    try:
        return list(buildkit.parse_string(text)), []
    except buildkit.GoParseError as error:
        message = str(error)
    except UnicodeDecodeError:
        message = _SPLIT_CHARACTER
    if message == "file with no instructions":
        return [], [ParseProblem(None, "no instructions: the file is empty or only comments")]
    lines = text.splitlines(keepends=True)
    escape = _escape_directive(text)
    header = [f"# escape={escape}\n"] if escape != "\\" else []
    chunks = _chunks(lines, escape)
    commands: list[object] = []
    problems: list[ParseProblem] = []
    broken = 0
    for first in range(0, len(chunks), _BATCH):
        batch = chunks[first : first + _BATCH]
        parsed = _parse_span(lines, header, batch[0].first, batch[-1].last)
        if isinstance(parsed, list):
            commands.extend(parsed)
            continue
        for chunk in batch:
            alone = _parse_span(lines, header, chunk.first, chunk.last)
            if isinstance(alone, list):
                commands.extend(alone)
                continue
            broken += 1
            if broken <= MAX_PARSE_PROBLEMS:
                problems.append(ParseProblem(chunk.first, alone))
    if broken > MAX_PARSE_PROBLEMS:
        problems.append(
            ParseProblem(None, f"{broken - MAX_PARSE_PROBLEMS} more instructions do not parse")
        )
    if not problems:  # every piece parses alone but not together: say what BuildKit said
        problems.append(ParseProblem(None, message))
    return commands, problems


_BATCH = 32
MAX_PARSE_PROBLEMS = 10
# BuildKit reads instruction flags byte by byte: a character whose UTF-8 holds 0x85 or 0xA0
# (`٠`, `Å`) ends the flag in the middle of the character, and the parser's answer is
# no longer UTF-8 (issue 6)
_SPLIT_CHARACTER = (
    "a flag holds a character BuildKit cuts in two (it reads flags byte by byte): not read"
)


def _parse_span(lines: list[str], header: list[str], first: int, last: int) -> list[object] | str:
    """Commands of lines first..last (1-based, inclusive) with their own line numbers, or
    BuildKit's error message."""
    try:
        commands = buildkit.parse_string("".join(header + lines[first - 1 : last]))
    except buildkit.GoParseError as error:
        return str(error)
    except UnicodeDecodeError:
        return _SPLIT_CHARACTER
    offset = first - 1 - len(header)
    return [
        c._replace(start_line=c.start_line + offset, end_line=c.end_line + offset)  # type: ignore[attr-defined]
        for c in commands
    ]


class _Chunk(Struct):
    """One instruction's physical lines: first..last (1-based, inclusive; comments and blank
    lines after it included); `lines` and `size` count only the instruction's own lines."""

    first: int
    last: int
    lines: int = 0
    size: int = 0


_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_HEREDOC = lazy_compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_FIRST_WORDS = lazy_compile(r"\s*([A-Za-z]+)(?:\s+([A-Za-z]+))?")


def _chunks(lines: list[str], escape: str) -> list[_Chunk]:
    """Cut a Dockerfile into instructions the way BuildKit's scanner reads it: a line that
    ends with the escape character continues (comment and blank lines inside are skipped),
    and a RUN/COPY/ADD that opens heredocs goes on to the end of its last heredoc body.
    Lines before the first instruction (directives, comments) belong to no chunk."""
    chunks: list[_Chunk] = []
    current: _Chunk | None = None
    continuing = False
    pending: list[tuple[str, bool]] = []  # heredoc terminators still to come
    logical: list[str] = []
    for number, line in enumerate(lines, start=1):
        if pending and current is not None:
            current.last = number
            current.lines += 1
            current.size += len(line)
            word, strip_tabs = pending[0]
            body = line.rstrip("\r\n")
            if (body.lstrip("\t") if strip_tabs else body) == word:
                pending.pop(0)
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            if current is not None:  # a comment or blank line, inside or after an instruction
                current.last = number
            continue
        if not continuing or current is None:
            current = _Chunk(number, number)
            chunks.append(current)
            logical = []
        current.last = number
        current.lines += 1
        current.size += len(line)
        body = line.rstrip()
        continuing = body.endswith(escape)
        logical.append(body[:-1] if continuing else body)
        if not continuing:
            pending = _heredocs("".join(logical))
    return chunks


def _heredocs(instruction: str) -> list[tuple[str, bool]]:
    words = _FIRST_WORDS.match(instruction)
    if words is None:
        return []
    keyword = words.group(1).upper()
    if keyword == "ONBUILD" and words.group(2):
        keyword = words.group(2).upper()
    if keyword not in _HEREDOC_KEYWORDS or "<<" not in instruction:
        return []
    return [(m.group(3), m.group(1) == "-") for m in _HEREDOC.finditer(instruction)]


def _instruction(command: object) -> Instruction:
    """An Instruction from one BuildKit command; the binding gives None for fields a
    degenerate line leaves empty (a line holding only the escape character)."""
    c = command
    heredocs = tuple(
        Heredoc(h.name or "", h.content or "")
        for h in (c.heredocs or ())  # type: ignore[attr-defined]
    )
    cmd = (c.cmd or "").upper()  # type: ignore[attr-defined]
    original = c.original or ""  # type: ignore[attr-defined]
    flags = tuple(f for f in (c.flags or ()) if f is not None)  # type: ignore[attr-defined]
    value = tuple(v for v in (c.value or ()) if v is not None)  # type: ignore[attr-defined]
    start = c.start_line or 0  # type: ignore[attr-defined]
    end = c.end_line or start  # type: ignore[attr-defined]
    sub_cmd = c.sub_cmd  # type: ignore[attr-defined]
    trigger = None
    if cmd == "ONBUILD" and sub_cmd:
        trigger = Instruction(
            cmd=sub_cmd.upper(),
            original=original,
            start_line=start,
            end_line=end,
            flags=flags,
            value=value,
            json=bool(c.json),  # type: ignore[attr-defined]
            heredocs=heredocs,
        )
    return Instruction(
        cmd=cmd,
        original=original,
        start_line=start,
        end_line=end,
        flags=() if trigger else flags,
        value=() if trigger else value,
        json=bool(c.json),  # type: ignore[attr-defined]
        heredocs=() if trigger else heredocs,
        trigger=trigger,
    )


def unquote(value: str) -> str:
    """Strip the quotes BuildKit would remove from an ARG/ENV/LABEL value."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.replace('\\"', '"') if value[0] == '"' else inner
    return value


def key_values(instruction: Instruction) -> list[tuple[str, str | None]]:
    """(name, value) pairs of an ARG, ENV or LABEL (value None for `ARG NAME`)."""
    if instruction.cmd == "ARG":
        pairs: list[tuple[str, str | None]] = []
        for item in instruction.value:
            name, sep, value = item.partition("=")
            pairs.append((name, unquote(value) if sep else None))
        return pairs
    values = instruction.value
    return [(unquote(values[i]), unquote(values[i + 1])) for i in range(0, len(values) - 1, 2)]


class _Vars(Mapping[str, str]):
    """An immutable snapshot of the variables in scope, shared between instructions.

    Every instruction sees the ARG/ENV values of its place; a copy per instruction would
    cost (instructions x variables). A snapshot is a shared base plus a small overlay of
    later changes, folded into a new base once the overlay grows: linear in both.
    """

    __slots__ = ("_base", "_overlay")
    _FOLD = 64

    def __init__(self, base: Mapping[str, str], overlay: Mapping[str, str] | None = None):
        self._base = base
        self._overlay = overlay or {}

    def with_changes(self, changes: Mapping[str, str]) -> _Vars:
        if not changes:
            return self
        overlay = {**self._overlay, **changes}
        if len(overlay) > self._FOLD:
            return _Vars({**self._base, **overlay})
        return _Vars(self._base, overlay)

    def without(self, names: set[str]) -> _Vars:
        return _Vars({k: v for k, v in self.items() if k not in names})

    def __getitem__(self, key: str) -> str:
        if key in self._overlay:
            return self._overlay[key]
        return self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._overlay or key in self._base

    def __iter__(self) -> Iterator[str]:
        yield from self._overlay
        for key in self._base:
            if key not in self._overlay:
                yield key

    def __len__(self) -> int:
        return len(self._base) + sum(1 for k in self._overlay if k not in self._base)

    def __repr__(self) -> str:
        return f"_Vars({dict(self)!r})"


# what expanding ARG/ENV values and instruction words may produce in one file, in total
MAX_FILE_EXPANSION = 16 * 1024 * 1024
MAX_EXPANSION_PROBLEMS = 10


class _Scope:
    """Walks the instructions once, tracking ARG/ENV per BuildKit's scoping rules.

    Every expansion is budgeted (MAX_EXPANSION per value, MAX_FILE_EXPANSION per file): a
    value over budget is unknown, kept as written (its `$` references unexpanded), and the
    line is recorded in `problems`.
    """

    def __init__(self, escape: str) -> None:
        self.escape = escape
        self.global_args: dict[str, str | None] = {}
        self.stage_vars = _Vars({})
        self.stage_args: frozenset[str] = frozenset()
        self.stage_envs: list[_Vars] = []
        self.stage_shells: list[tuple[str, ...]] = []
        self.stage_workdirs: list[str] = []
        self.shell: tuple[str, ...] = DEFAULT_SHELL
        self.workdir = "/"
        self.spent = 0
        self.problems: list[ParseProblem] = []
        self.over_budget = 0

    def expand(self, text: str, env: Mapping[str, str | None], line: int, what: str) -> str | None:
        """The expanded text, or None (recorded as a problem) when it is over budget."""
        if "$" not in text:
            return text
        result = try_expand(text, env, self.escape) if self.spent <= MAX_FILE_EXPANSION else None
        if result is not None:
            self.spent += len(result)
        if result is None or self.spent > MAX_FILE_EXPANSION:
            self.over_budget += 1
            limit = (
                f"{MAX_EXPANSION // 1024} KiB"
                if result is None and self.spent <= MAX_FILE_EXPANSION
                else f"{MAX_FILE_EXPANSION // (1 << 20)} MiB for the whole file"
            )
            if self.over_budget <= MAX_EXPANSION_PROBLEMS:
                self.problems.append(
                    ParseProblem(
                        line,
                        f"{what} expands to more than {limit}: its value is unknown "
                        "(dockwise keeps it as written)",
                    )
                )
            return None
        return result

    def lookup_for_from(self) -> dict[str, str | None]:
        return {**AUTOMATIC_ARGS, **self.global_args}

    def declare_global(self, instruction: Instruction) -> None:
        env = self.lookup_for_from()
        for name, value in key_values(instruction):
            if value is None:
                self.global_args[name] = None
                continue
            expanded = self.expand(value, env, instruction.start_line, f"ARG {name}")
            self.global_args[name] = value if expanded is None else expanded

    def begin_stage(self, parent: int | None) -> None:
        self.stage_vars = (
            self.stage_envs[parent] if parent is not None else _Vars({"PATH": DEFAULT_PATH})
        )
        self.stage_args = frozenset()
        self.shell = self.stage_shells[parent] if parent is not None else DEFAULT_SHELL
        self.workdir = self.stage_workdirs[parent] if parent is not None else "/"

    def apply(self, instruction: Instruction) -> None:
        line = instruction.start_line
        if instruction.cmd == "ARG":
            changes: dict[str, str] = {}
            args = set(self.stage_args)
            for name, value in key_values(instruction):
                if value is None:
                    value = self.global_args.get(name) or AUTOMATIC_ARGS.get(name)
                current = ChainMap(changes, self.stage_vars)  # type: ignore[arg-type]
                if name in current and name not in args:
                    continue  # an ENV of the same name wins over the ARG
                text = value or ""
                expanded = self.expand(text, current, line, f"ARG {name}")
                changes[name] = text if expanded is None else expanded
                args.add(name)
            self.stage_vars = self.stage_vars.with_changes(changes)
            self.stage_args = frozenset(args)
        elif instruction.cmd == "ENV":
            before = self.stage_vars
            changes = {}
            for name, value in key_values(instruction):
                text = value or ""
                expanded = self.expand(text, before, line, f"ENV {name}")
                changes[name] = text if expanded is None else expanded
            self.stage_vars = before.with_changes(changes)
            if self.stage_args & changes.keys():
                self.stage_args = self.stage_args - changes.keys()
        elif instruction.cmd == "SHELL" and instruction.json and instruction.value:
            self.shell = tuple(instruction.value)
        elif instruction.cmd == "WORKDIR" and instruction.value:
            target = self.expand(instruction.value[0], self.stage_vars, line, "WORKDIR")
            if target is not None:
                self.workdir = posixpath.normpath(posixpath.join(self.workdir, target))

    def words_known(self, instruction: Instruction) -> bool:
        """Whether every word of the instruction expands within budget (then rules may
        expand them; otherwise they see them as written)."""
        if instruction.cmd in ("ARG", "ENV", "FROM"):
            return True  # their values are the scope's own, already budgeted
        for word in instruction.value + instruction.flags:
            if (
                "$" in word
                and self.expand(word, self.stage_vars, instruction.start_line, instruction.cmd)
                is None
            ):
                return False
        return True

    def end_stage(self) -> None:
        self.stage_envs.append(
            self.stage_vars.without(set(self.stage_args)) if self.stage_args else self.stage_vars
        )
        self.stage_shells.append(self.shell)
        self.stage_workdirs.append(self.workdir)


def _placed(instruction: Instruction, **scope: object) -> Instruction:
    """The instruction with its scope (stage, variables, shell...): `dataclasses.replace`
    without its per-call introspection (it runs once per instruction)."""
    values = {name: getattr(instruction, name) for name in _INSTRUCTION_FIELDS}
    values.update(scope)
    return Instruction(**values)  # type: ignore[arg-type]


_INSTRUCTION_FIELDS = tuple(f.name for f in fields(Instruction))


def _scope(
    raw: list[Instruction], escape: str
) -> tuple[list[Instruction], list[Stage], dict[str, str | None], list[ParseProblem]]:
    scope = _Scope(escape)
    out: list[Instruction] = []
    stages: list[Stage] = []
    current: list[Instruction] = []
    header: Instruction | None = None
    base_info: tuple[str, str, str | None, str | None, int | None, bool] | None = None

    def close_stage() -> None:
        if header is None or base_info is None:
            return
        base, resolved, name, platform, parent, expanded = base_info
        known = expanded and all(
            scope.lookup_for_from().get(ref) is not None
            or f"{{{ref}:-" in base
            or f"{{{ref}-" in base
            for ref in references(base)
        )
        stages.append(
            Stage(
                len(stages), name, base, resolved, platform, header, tuple(current), parent, known
            )
        )
        scope.end_stage()

    global_snapshot: Mapping[str, str | None] = MappingProxyType({})
    for instruction in raw:
        if instruction.cmd == "FROM":
            close_stage()
            current = []
            lookup = scope.lookup_for_from()
            base, resolved, name, platform = _from_parts(instruction, lookup, escape)
            expanded = scope.expand(base, lookup, instruction.start_line, "FROM")
            parent = next((s.index for s in stages if s.name and s.name == resolved.lower()), None)
            base_info = (base, resolved, name, platform, parent, expanded is not None)
            scope.begin_stage(parent)
            header = _placed(
                instruction,
                stage=len(stages),
                vars=MappingProxyType(lookup),  # type: ignore[arg-type]
            )
            out.append(header)
            continue
        stage_index = len(stages) if header is not None else -1
        if header is None:
            if instruction.cmd == "ARG":
                scope.declare_global(instruction)
                global_snapshot = MappingProxyType(dict(scope.global_args))
            placed = _placed(instruction, stage=-1, vars=global_snapshot)
            out.append(placed)
            continue
        scope.apply(instruction)
        snapshot = scope.stage_vars
        known = scope.words_known(instruction)
        trigger = instruction.trigger
        if trigger is not None:
            trigger = _placed(
                trigger,
                stage=stage_index,
                vars=snapshot,
                shell=scope.shell,
                expandable=scope.words_known(trigger),
            )
        placed = _placed(
            instruction,
            stage=stage_index,
            vars=snapshot,
            arg_names=scope.stage_args,
            shell=scope.shell,
            workdir=scope.workdir,
            trigger=trigger,
            expandable=known,
        )
        out.append(placed)
        current.append(placed)
    close_stage()
    if scope.over_budget > MAX_EXPANSION_PROBLEMS:
        more = scope.over_budget - MAX_EXPANSION_PROBLEMS
        scope.problems.append(ParseProblem(None, f"{more} more values are over budget"))
    return out, stages, scope.global_args, scope.problems


def _from_parts(
    instruction: Instruction, env: Mapping[str, str | None], escape: str
) -> tuple[str, str, str | None, str | None]:
    values = list(instruction.value)
    base = values[0] if values else ""
    name = values[2].lower() if len(values) >= 3 and values[1].lower() == "as" else None
    platform = instruction.flag("platform")
    return base, expand(base, env, escape), name, platform  # over budget: as written
