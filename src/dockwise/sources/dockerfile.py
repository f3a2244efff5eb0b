"""Dockerfile model on BuildKit's own parser: instructions, stages, scopes, shipped stage."""

from __future__ import annotations

import posixpath
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

import dockerfile as buildkit

from dockwise.lazyre import lazy_compile
from dockwise.sources.expand import expand, references
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


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str


@dataclass(frozen=True)
class Instruction:
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

    @property
    def commands(self) -> tuple[ShellCommand, ...]:
        return self.parsed.commands

    def expanded(self, text: str) -> str:
        return expand(text, self.vars)

    def lines(self) -> range:
        return range(self.start_line, self.end_line + 1)


@dataclass(frozen=True)
class Stage:
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
        for instruction in self.instructions:
            if instruction.cmd in cmds:
                yield instruction

    def last(self, cmd: str) -> Instruction | None:
        found = None
        for instruction in self.all(cmd):
            found = instruction
        return found

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


@dataclass(frozen=True)
class ParseProblem:
    line: int | None
    message: str


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    relpath: str
    text: str
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: Mapping[str, str | None]
    escape: str = "\\"
    target: str | None = None
    problems: tuple[ParseProblem, ...] = ()

    @cached_property
    def lines(self) -> tuple[str, ...]:
        return tuple(self.text.splitlines())

    def stage_by_ref(self, ref: str) -> Stage | None:
        """The stage a `--from` or FROM refers to: a name, or an index."""
        lowered = ref.lower()
        for stage in self.stages:
            if stage.name == lowered:
                return stage
        if ref.isdigit() and int(ref) < len(self.stages):
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
        from dataclasses import replace

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
        shipped = self.shipped_stage
        return self.ancestry(shipped) if shipped else []

    def iter_instructions(self, include_triggers: bool = True) -> Iterator[Instruction]:
        """Every instruction, and (by default) what ONBUILD would run, after its ONBUILD."""
        for instruction in self.instructions:
            yield instruction
            if include_triggers and instruction.trigger is not None:
                yield instruction.trigger

    def runs(self, stage: Stage | None = None) -> Iterator[Instruction]:
        """RUN instructions (ONBUILD RUN included) of one stage or the whole file."""
        source = stage.instructions if stage is not None else self.instructions
        for instruction in source:
            if instruction.cmd == "RUN":
                yield instruction
            elif instruction.trigger is not None and instruction.trigger.cmd == "RUN":
                yield instruction.trigger


class DockerfileError(Exception):
    """An input that is not a Dockerfile at all (binary, too large, unreadable)."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


MAX_DOCKERFILE_BYTES = 4 * 1024 * 1024


def read_dockerfile_text(path: Path, relpath: str) -> str:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise DockerfileError(relpath, None, "not a regular file (FIFO, socket or device)")
        with path.open("rb") as handle:
            data = handle.read(MAX_DOCKERFILE_BYTES + 1)
    except OSError as error:
        raise DockerfileError(relpath, None, f"cannot read: {error.strerror or error}") from None
    return decode_dockerfile(data, relpath)


def decode_dockerfile(data: bytes, relpath: str) -> str:
    if len(data) > MAX_DOCKERFILE_BYTES:
        raise DockerfileError(
            relpath,
            None,
            f"larger than {MAX_DOCKERFILE_BYTES // (1024 * 1024)} MiB: not a Dockerfile",
        )
    if b"\x00" in data[:8192] or b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DockerfileError(relpath, line, "binary content (NUL byte): not a Dockerfile")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DockerfileError(relpath, line, "not valid UTF-8") from None


def load_dockerfile(path: Path, relpath: str, target: str | None = None) -> Dockerfile:
    return parse_dockerfile(read_dockerfile_text(path, relpath), path, relpath, target)


def parse_dockerfile(
    text: str, path: Path | None = None, relpath: str = "Dockerfile", target: str | None = None
) -> Dockerfile:
    path = path or Path(relpath)
    escape = _escape_directive(text)
    commands, problems = _parse_tolerantly(text)
    raw = [_instruction(command) for command in commands]
    instructions, stages, global_args = _scope(raw, escape)
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
    """Parse with BuildKit; on a syntax error, keep what parses before and after it."""
    try:
        return list(buildkit.parse_string(text)), []
    except buildkit.GoParseError as error:
        message = str(error)
    if message == "file with no instructions":
        return [], [ParseProblem(None, "no instructions: the file is empty or only comments")]
    lines = text.splitlines(keepends=True)
    starts = _instruction_starts(lines)
    good_upto = _longest_parsable_prefix(lines, starts)
    bad_line = next((s for s in starts if s > good_upto), good_upto + 1)
    commands = (_parse_lines(lines[:good_upto]) or []) if good_upto else []
    problems = [ParseProblem(bad_line, message)]
    following = [s for s in starts if s > bad_line]
    for start in following:
        rest = _parse_lines(lines[start - 1 :], offset=start - 1)
        if rest is not None:
            commands.extend(rest)
            break
    return commands, problems


_INSTRUCTION_START = lazy_compile(r"^\s*([A-Za-z]+)(\s|$)")


def _instruction_starts(lines: list[str]) -> list[int]:
    """1-based line numbers that look like the start of an instruction."""
    return [
        number
        for number, line in enumerate(lines, start=1)
        if (m := _INSTRUCTION_START.match(line)) and m.group(1).upper() in KNOWN_INSTRUCTIONS
    ]


def _parse_lines(lines: list[str], offset: int = 0) -> list[object] | None:
    try:
        commands = list(buildkit.parse_string("".join(lines)))
    except buildkit.GoParseError:
        return None
    if not offset:
        return commands
    return [
        c._replace(start_line=c.start_line + offset, end_line=c.end_line + offset)  # type: ignore[attr-defined]
        for c in commands
    ]


def _longest_parsable_prefix(lines: list[str], starts: list[int]) -> int:
    """Number of leading lines that parse, cut at an instruction start (binary search)."""
    cuts = [s - 1 for s in starts if s > 1]
    low, high, best = 0, len(cuts) - 1, 0
    while low <= high:
        middle = (low + high) // 2
        if _parse_lines(lines[: cuts[middle]]) is not None:
            best = cuts[middle]
            low = middle + 1
        else:
            high = middle - 1
    return best


def _instruction(command: object) -> Instruction:
    c = command
    heredocs = tuple(Heredoc(h.name, h.content) for h in c.heredocs)  # type: ignore[attr-defined]
    cmd = c.cmd.upper()  # type: ignore[attr-defined]
    trigger = None
    if cmd == "ONBUILD" and c.sub_cmd:  # type: ignore[attr-defined]
        trigger = Instruction(
            cmd=c.sub_cmd.upper(),  # type: ignore[attr-defined]
            original=c.original,  # type: ignore[attr-defined]
            start_line=c.start_line,  # type: ignore[attr-defined]
            end_line=c.end_line,  # type: ignore[attr-defined]
            flags=tuple(c.flags),  # type: ignore[attr-defined]
            value=tuple(c.value),  # type: ignore[attr-defined]
            json=bool(c.json),  # type: ignore[attr-defined]
            heredocs=heredocs,
        )
    return Instruction(
        cmd=cmd,
        original=c.original,  # type: ignore[attr-defined]
        start_line=c.start_line,  # type: ignore[attr-defined]
        end_line=c.end_line,  # type: ignore[attr-defined]
        flags=() if trigger else tuple(c.flags),  # type: ignore[attr-defined]
        value=() if trigger else tuple(c.value),  # type: ignore[attr-defined]
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


class _Scope:
    """Walks the instructions once, tracking ARG/ENV per BuildKit's scoping rules."""

    def __init__(self, escape: str) -> None:
        self.escape = escape
        self.global_args: dict[str, str | None] = {}
        self.stage_vars: dict[str, str] = {}
        self.stage_args: set[str] = set()
        self.stage_envs: list[dict[str, str]] = []
        self.stage_shells: list[tuple[str, ...]] = []
        self.stage_workdirs: list[str] = []
        self.shell: tuple[str, ...] = DEFAULT_SHELL
        self.workdir = "/"

    def lookup_for_from(self) -> dict[str, str | None]:
        return {**AUTOMATIC_ARGS, **self.global_args}

    def declare_global(self, instruction: Instruction) -> None:
        env = self.lookup_for_from()
        for name, value in key_values(instruction):
            self.global_args[name] = expand(value, env, self.escape) if value is not None else None

    def begin_stage(self, parent: int | None) -> None:
        inherited = dict(self.stage_envs[parent]) if parent is not None else {"PATH": DEFAULT_PATH}
        self.stage_vars = inherited
        self.stage_args = set()
        self.shell = self.stage_shells[parent] if parent is not None else DEFAULT_SHELL
        self.workdir = self.stage_workdirs[parent] if parent is not None else "/"

    def apply(self, instruction: Instruction) -> None:
        if instruction.cmd == "ARG":
            for name, value in key_values(instruction):
                if value is None:
                    value = self.global_args.get(name) or AUTOMATIC_ARGS.get(name)
                if name in self.stage_vars and name not in self.stage_args:
                    continue  # an ENV of the same name wins over the ARG
                self.stage_vars[name] = expand(value or "", self.stage_vars, self.escape)
                self.stage_args.add(name)
        elif instruction.cmd == "ENV":
            current = dict(self.stage_vars)
            for name, value in key_values(instruction):
                self.stage_vars[name] = expand(value or "", current, self.escape)
                self.stage_args.discard(name)
        elif instruction.cmd == "SHELL" and instruction.json and instruction.value:
            self.shell = tuple(instruction.value)
        elif instruction.cmd == "WORKDIR" and instruction.value:
            target = expand(instruction.value[0], self.stage_vars, self.escape)
            self.workdir = posixpath.normpath(posixpath.join(self.workdir, target))

    def end_stage(self) -> None:
        self.stage_envs.append(
            {k: v for k, v in self.stage_vars.items() if k not in self.stage_args}
        )
        self.stage_shells.append(self.shell)
        self.stage_workdirs.append(self.workdir)


def _scope(
    raw: list[Instruction], escape: str
) -> tuple[list[Instruction], list[Stage], dict[str, str | None]]:
    from dataclasses import replace

    scope = _Scope(escape)
    out: list[Instruction] = []
    stages: list[Stage] = []
    current: list[Instruction] = []
    header: Instruction | None = None
    base_info: tuple[str, str, str | None, str | None, int | None] | None = None

    def close_stage() -> None:
        if header is None or base_info is None:
            return
        base, resolved, name, platform, parent = base_info
        known = all(
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

    for instruction in raw:
        if instruction.cmd == "FROM":
            close_stage()
            current = []
            base, resolved, name, platform = _from_parts(
                instruction, scope.lookup_for_from(), escape
            )
            parent = next((s.index for s in stages if s.name and s.name == resolved.lower()), None)
            base_info = (base, resolved, name, platform, parent)
            scope.begin_stage(parent)
            header = replace(
                instruction,
                stage=len(stages),
                vars=MappingProxyType(scope.lookup_for_from()),  # type: ignore[arg-type]
            )
            out.append(header)
            continue
        stage_index = len(stages) if header is not None else -1
        if header is None:
            if instruction.cmd == "ARG":
                scope.declare_global(instruction)
            placed = replace(instruction, stage=-1, vars=MappingProxyType(dict(scope.global_args)))  # type: ignore[arg-type]
            out.append(placed)
            continue
        scope.apply(instruction)
        snapshot = MappingProxyType(dict(scope.stage_vars))
        trigger = instruction.trigger
        if trigger is not None:
            trigger = replace(trigger, stage=stage_index, vars=snapshot, shell=scope.shell)
        placed = replace(
            instruction,
            stage=stage_index,
            vars=snapshot,
            arg_names=frozenset(scope.stage_args),
            shell=scope.shell,
            workdir=scope.workdir,
            trigger=trigger,
        )
        out.append(placed)
        current.append(placed)
    close_stage()
    return out, stages, scope.global_args


def _from_parts(
    instruction: Instruction, env: Mapping[str, str | None], escape: str
) -> tuple[str, str, str | None, str | None]:
    values = list(instruction.value)
    base = values[0] if values else ""
    name = values[2].lower() if len(values) >= 3 and values[1].lower() == "as" else None
    platform = instruction.flag("platform")
    return base, expand(base, env, escape), name, platform
