"""Small helpers shared by rule modules: per-Dockerfile rules and hits at instructions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from dockwise.findings import Hit, Related, Rule, rule
from dockwise.sources.dockerfile import Dockerfile, Instruction, Stage
from dockwise.sources.shell import ShellCommand

if TYPE_CHECKING:
    from dockwise.project import Project

DockerfileCheck = Callable[[Dockerfile, "Project"], Iterable[Hit]]


def dockerfile_rule(id: str, **meta: Any) -> Callable[[DockerfileCheck], Rule]:
    """A rule whose check runs once per Dockerfile: `check(dockerfile, project)`.

    Takes the same metadata as `findings.rule`.
    """
    make = rule(id, **meta)

    def wrap(check: DockerfileCheck) -> Rule:
        def run(project: Project) -> Iterator[Hit]:
            for dockerfile in project.dockerfiles:
                yield from check(dockerfile, project)

        run.__name__ = check.__name__
        run.__doc__ = check.__doc__
        return make(run)

    return wrap


def at(
    dockerfile: Dockerfile,
    instruction: Instruction | None,
    message: str,
    *,
    fix: str | None = None,
    related: tuple[Related, ...] = (),
    fingerprint: str | None = None,
) -> Hit:
    """A hit at an instruction (or the whole file when instruction is None)."""
    return Hit(
        path=dockerfile.relpath,
        line=instruction.start_line if instruction is not None else None,
        message=message,
        fix=fix,
        related=related,
        fingerprint=fingerprint,
    )


def runs_with_commands(
    dockerfile: Dockerfile, stage: Stage | None = None
) -> Iterator[tuple[Instruction, ShellCommand]]:
    """Every (RUN, simple command) pair, ONBUILD RUN included."""
    for run in dockerfile.runs(stage):
        for command in run.commands:
            yield run, command


def commands_named(
    dockerfile: Dockerfile, names: Iterable[str], stage: Stage | None = None
) -> Iterator[tuple[Instruction, ShellCommand]]:
    wanted = set(names)
    for run, command in runs_with_commands(dockerfile, stage):
        if command.name in wanted:
            yield run, command


def stage_of(dockerfile: Dockerfile, instruction: Instruction) -> Stage | None:
    if 0 <= instruction.stage < len(dockerfile.stages):
        return dockerfile.stages[instruction.stage]
    return None


def in_shipped_chain(dockerfile: Dockerfile, instruction: Instruction) -> bool:
    """True when the instruction's stage is the shipped stage or one it is built FROM."""
    chain = {stage.index for stage in dockerfile.shipped_chain()}
    return instruction.stage in chain


def shipped_stages(dockerfile: Dockerfile) -> list[Stage]:
    """The shipped stage and its FROM ancestors, oldest first (the order layers stack)."""
    return list(reversed(dockerfile.shipped_chain()))


def shipped_instructions(dockerfile: Dockerfile, *cmds: str) -> Iterator[Instruction]:
    """Instructions of the shipped chain, oldest first (only the given kinds, if any)."""
    for stage in shipped_stages(dockerfile):
        for instruction in stage.instructions:
            if not cmds or instruction.cmd in cmds:
                yield instruction


def shipped_runs(dockerfile: Dockerfile) -> Iterator[Instruction]:
    """RUN instructions (ONBUILD RUN included) of the shipped chain, oldest first."""
    for stage in shipped_stages(dockerfile):
        yield from dockerfile.runs(stage)


def expand_word(instruction: Instruction, word: str) -> str:
    """The word with the ARG/ENV values visible at the instruction substituted."""
    return instruction.expanded(word) if "$" in word else word
