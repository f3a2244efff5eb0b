"""Small helpers shared by rule modules: per-Dockerfile rules and hits at instructions.

Two judgements every per-Dockerfile rule shares live here, applied once by
`dockerfile_rule` so no rule has to remember them:

- which stage ships, and how sure dockwise is (`shipped_judgement`): a rule in
  STAGE_RULES that reports in the shipped stage says so when the stage is only a guess,
  and is demoted to info when the stage judged looks like a development stage;
- whether the image is a service at all (`not_a_service`): rules of the service lessons
  (SERVICE_LESSONS, SERVICE_RULES: health, logging, USER, labels) skip test, CI and
  devcontainer images, artifact-only `FROM scratch` stages and base images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockwise.findings import Hit, Related, Rule, Severity, rule
from dockwise.sources.dockerfile import Dockerfile, Instruction, Stage
from dockwise.sources.shell import ShellCommand

if TYPE_CHECKING:
    from dockwise.project import Project

DockerfileCheck = Callable[[Dockerfile, "Project"], Iterable[Hit]]

# rules whose verdict depends on which stage ships (they read the shipped chain)
STAGE_RULES = frozenset(
    [f"DW{n}" for n in range(101, 118) if n != 112]
    + ["DW201", "DW202", "DW203", "DW204", "DW205", "DW207"]
    + ["DW301", "DW302", "DW303", "DW304"]
    + ["DW601", "DW602", "DW603", "DW606", "DW607"]
    + [f"DW{n}" for n in range(701, 711)]
    + ["DW801", "DW803", "DW808", "DW809", "DW810", "DW811", "DW813"]
)
# lessons (and single rules) that only make sense for an image that runs a service
SERVICE_LESSONS = frozenset({"health", "logging"})
SERVICE_RULES = frozenset({"DW701", "DW801", "DW809"})


def dockerfile_rule(id: str, **meta: Any) -> Callable[[DockerfileCheck], Rule]:
    """A rule whose check runs once per Dockerfile: `check(dockerfile, project)`.

    Takes the same metadata as `findings.rule`. Service-lesson rules skip test, CI and
    devcontainer images and artifact-only stages (base images are left to each rule: what
    a base image writes is judged, what it leaves out is for the images built on it);
    stage-dependent rules say when the shipped stage is a guess.
    """
    make = rule(id, **meta)
    for_services = meta.get("lesson") in SERVICE_LESSONS or id in SERVICE_RULES
    # a Lambda function still logs (to CloudWatch) and is traced by its labels
    skipped_kinds = {"tooling", "artifact"} | (
        {"function"} if meta.get("lesson") == "health" or id == "DW801" else set()
    )
    on_stage = id in STAGE_RULES

    def wrap(check: DockerfileCheck) -> Rule:
        def run(project: Project) -> Iterator[Hit]:
            for dockerfile in project.dockerfiles:
                if for_services:
                    reason = not_a_service(dockerfile, project)
                    if reason is not None and reason.kind in skipped_kinds:
                        continue
                if not on_stage:
                    yield from check(dockerfile, project)
                    continue
                judgement = shipped_judgement(dockerfile, project)
                for hit in check(dockerfile, project):
                    yield judgement.qualify(hit, dockerfile)

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


# --- which stage ships, and how sure that is --------------------------------------------


@dataclass(frozen=True)
class ShippedJudgement:
    """The stage judged as the image, and why it is that one.

    `sure`: the file has one stage, every stage feeds the last one (a builder pattern), or
    --target or a compose build names it. `dev`: the stage judged is named like a
    development stage (dev, test, debug, ci...) and no --target chose it."""

    stage: Stage | None
    sure: bool
    dev: bool
    source: str | None = None

    def note(self) -> str | None:
        if self.stage is None or (self.sure and not self.dev):
            return None
        if self.dev and self.source:
            return f"stage {self.stage.label} is built by {self.source}, a development setup"
        if self.dev:
            return f"the last stage, {self.stage.label}, looks like a development stage"
        return f"in the last stage, {self.stage.label}, assumed to ship"

    def qualify(self, hit: Hit, dockerfile: Dockerfile) -> Hit:
        """The hit as the judgement allows: with a note when the stage is a guess, at info
        when the stage judged is a development one. Hits outside the shipped chain stay."""
        note = self.note()
        if note is None or not _in_chain(dockerfile, hit.line):
            return hit
        changed = replace(hit, message=f"{hit.message} ({note})")
        if self.dev:
            changed = replace(changed, severity=Severity.INFO)
        return changed


def shipped_judgement(dockerfile: Dockerfile, project: Project) -> ShippedJudgement:
    return project.memo(
        "shipped_judgement", dockerfile, lambda: _shipped_judgement(dockerfile, project)
    )


def _shipped_judgement(dockerfile: Dockerfile, project: Project) -> ShippedJudgement:
    from dockwise.model.link import is_dev_name

    stage = dockerfile.shipped_stage
    if stage is None:
        return ShippedJudgement(None, True, False)
    source = project.stage_sources.get(dockerfile.relpath)
    if source == "--target":
        return ShippedJudgement(stage, True, False, source)
    dev = is_dev_name(stage.name)
    if source is not None:
        return ShippedJudgement(stage, True, dev, source)
    alone = stage.index == len(dockerfile.stages) - 1 and not _alternative_targets(dockerfile)
    return ShippedJudgement(stage, alone, dev)


def _alternative_targets(dockerfile: Dockerfile) -> list[Stage]:
    """Stages before the last that no later stage uses (FROM, COPY --from, RUN --mount
    from=): other targets one could build, so the last stage shipping is only a guess."""
    used: set[int] = set()
    for stage in dockerfile.stages:
        if stage.parent is not None:
            used.add(stage.parent)
        for instruction in stage.instructions:
            sources = [instruction.flag("from")] if instruction.cmd in ("COPY", "ADD") else []
            if instruction.cmd == "RUN":
                sources += [m.get("from") for m in instruction.mounts()]
            for source in sources:
                ref = dockerfile.stage_by_ref(instruction.expanded(source)) if source else None
                if ref is not None and ref.index != stage.index:
                    used.add(ref.index)
    return [s for s in dockerfile.stages[:-1] if s.index not in used]


def _in_chain(dockerfile: Dockerfile, line: int | None) -> bool:
    if line is None:
        return True
    for stage in dockerfile.shipped_chain():
        last = (
            stage.instructions[-1].end_line
            if stage.instructions
            else stage.from_instruction.end_line
        )
        if stage.from_instruction.start_line <= line <= last:
            return True
    return False


# --- is this image a service? -----------------------------------------------------------

# folders and file names of images that never serve production traffic
_NOT_SERVICE_FOLDERS = frozenset(
    {".devcontainer", "devcontainer", ".ci", "ci", "test", "tests", "testing", "e2e", ".github"}
)


@dataclass(frozen=True)
class NotAService:
    # "tooling" (test, CI, devcontainer), "artifact" (scratch, no command), "base",
    # "function" (an AWS Lambda image: invoked per event, never probed or kept running)
    kind: str
    why: str


def not_a_service(dockerfile: Dockerfile, project: Project) -> NotAService | None:
    """Why the image is not a service (None when it is, or may be): a test, CI or
    devcontainer image, an artifact-only `FROM scratch` stage, a base image."""
    return project.memo("not_a_service", dockerfile, lambda: _not_a_service(dockerfile, project, 0))


def _not_a_service(dockerfile: Dockerfile, project: Project, depth: int) -> NotAService | None:
    reason = _tooling_path(_repository_path(dockerfile, project))
    if reason is not None:
        return NotAService("tooling", reason)
    stage = dockerfile.shipped_stage
    if stage is None:
        return None
    oldest = dockerfile.ancestry(stage)[-1]
    if (oldest.external_base or "").startswith("public.ecr.aws/lambda/"):
        return NotAService("function", f"an AWS Lambda function image ({oldest.base_resolved})")
    from dockwise.rules.runtime import entrypoint_and_cmd, is_base_image

    if any(stage.last("ONBUILD") is not None for stage in dockerfile.shipped_chain()):
        return NotAService("base", "an ONBUILD base image for others to build on")

    if entrypoint_and_cmd(dockerfile):
        if is_base_image(dockerfile):
            return NotAService("base", "it only starts a shell or interpreter")
        return None
    # no CMD or ENTRYPOINT of its own: what the base starts decides
    root = dockerfile.ancestry(stage)[-1]
    if root.is_scratch:
        return NotAService("artifact", "FROM scratch without a command: it runs nothing")
    if root.external_base is None:
        return None
    from dockwise.baseimages import is_bare_base

    if is_bare_base(root.external_base):
        return NotAService("base", f"no CMD, and {root.base_resolved} starts only a shell")
    parent = project.built_from(root) if depth < 5 else None
    if parent is not None:
        inherited = _not_a_service(parent[0], project, depth + 1)
        if inherited is not None and inherited.kind == "base":
            return NotAService("base", f"no CMD, and its base {parent[0].relpath} is a base")
    return None


def _tooling_path(path: str) -> str | None:
    from dockwise.model.link import is_dev_name

    folders, _, name = path.rpartition("/")
    for folder in folders.split("/") if folders else ():
        lowered = folder.lower()
        if lowered in _NOT_SERVICE_FOLDERS or lowered.endswith(("-test", "_test", "-tests")):
            return f"folder {folder}/"
    lowered = name.lower()
    for marker in ("dockerfile", "containerfile"):
        lowered = lowered.replace(marker, "")
    if is_dev_name(lowered.strip(".-_")):
        return f"file name {name}"
    return None


def _repository_path(dockerfile: Dockerfile, project: Project) -> str:
    """The Dockerfile's path inside its repository (the folder holding .git) when known,
    else inside the checked folder: what its folders say about its purpose."""
    top = _git_root(str(dockerfile.path.resolve().parent))
    if top is not None:
        try:
            return dockerfile.path.resolve().relative_to(top).as_posix()
        except ValueError:
            pass
    return dockerfile.relpath


@lru_cache(maxsize=4096)
def _git_root(folder: str) -> Path | None:
    path = Path(folder)
    if (path / ".git").exists():
        return path
    if path.parent == path:
        return None
    return _git_root(str(path.parent))
