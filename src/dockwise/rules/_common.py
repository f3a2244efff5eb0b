"""Small helpers shared by rule modules: per-Dockerfile rules and hits at instructions.

Two judgements every per-Dockerfile rule shares live here, applied once by
`dockerfile_rule` so no rule has to remember them:

- which stage ships, and how sure dockwise is (`shipped_judgement`): a rule in
  STAGE_RULES that reports in the shipped stage says so when the stage is only a guess,
  and is demoted to info when the stage judged looks like a development stage;
- whether the image is a long-running service at all (`not_a_service`): what each kind
  of image that is not one means for the rules is one table (`_POLICY`): test, CI,
  development, devcontainer and docs-tool images ("tooling") skip the service lessons and
  get the size, security and runtime lessons as advice; one-shot jobs ("job": a migration,
  a Kubernetes Job, a test or batch script that exits) skip the health lesson and get the
  signal and buffering lessons as advice; artifact-only `FROM scratch` stages skip the
  service lessons; AWS Lambda images skip health and USER; base images are left to each
  rule (what a base image writes is judged, what it leaves out is for the images built on
  it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import replace

from dockwise.findings import Hit, Related, Rule, Severity, rule
from dockwise.lazyre import lazy_compile
from dockwise.sources.dockerfile import Dockerfile, Instruction, Stage
from dockwise.sources.shell import ShellCommand

if TYPE_CHECKING:
    from dockwise.model.roles import Role
    from dockwise.model.service import ComposePart, Service
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
# build reproducibility of an image that is thrown away after a run: advice there
_PIN_RULES = frozenset({"DW906", "DW908", "DW916", "DW930"})


class _KindPolicy(Struct, frozen=True):
    """What one kind of non-service image means for the rules: skipped, or advice (info)."""

    skip_lessons: frozenset[str] = frozenset()
    skip_rules: frozenset[str] = frozenset()
    advice_lessons: frozenset[str] = frozenset()
    advice_rules: frozenset[str] = frozenset()

    def skips(self, id: str, lesson: str | None) -> bool:
        return id in self.skip_rules or lesson in self.skip_lessons

    def advises(self, id: str, lesson: str | None) -> bool:
        return id in self.advice_rules or lesson in self.advice_lessons


_POLICY = {
    # test, CI, development, devcontainer and docs-tool images: run on a laptop or in CI
    "tooling": _KindPolicy(
        SERVICE_LESSONS,
        SERVICE_RULES,
        frozenset({"size", "security", "runtime", "debugging"}),
        _PIN_RULES,
    ),
    # one-shot jobs: nothing to probe; stopping one early or reading its output late is
    # rarely worth a warning. Size and USER still count: they ship and run in production.
    "job": _KindPolicy(
        frozenset({"health"}),
        frozenset(),
        frozenset({"runtime"}),
        frozenset({"DW303"}),
    ),
    "artifact": _KindPolicy(SERVICE_LESSONS, SERVICE_RULES),
    # a builder image others copy compiled files out of (COPY --from): build tools are its
    # purpose, and it never runs as a service; its other size lessons are advice
    "builder": _KindPolicy(
        SERVICE_LESSONS, SERVICE_RULES | {"DW102"}, frozenset({"size", "runtime"})
    ),
    # a Lambda function still logs (to CloudWatch) and is traced by its labels
    "function": _KindPolicy(frozenset({"health"}), frozenset({"DW801"})),
}


# the Dockerfiles (a slice of project.dockerfiles) per-Dockerfile rules check in this
# process: all of them, unless the engine shares a large batch between processes
_SHARE: ContextVar[tuple[int, int] | None] = ContextVar("dockwise_dockerfile_share", default=None)
# the checks `dockerfile_rule` made: each looks at one Dockerfile at a time
_PER_DOCKERFILE_CHECKS: set[object] = set()


@contextmanager
def dockerfile_share(start: int, stop: int) -> Iterator[None]:
    """Within the block, per-Dockerfile rules check only project.dockerfiles[start:stop]."""
    token = _SHARE.set((start, stop))
    try:
        yield
    finally:
        _SHARE.reset(token)


def is_per_dockerfile(rule: Rule) -> bool:
    """Whether the rule checks each Dockerfile on its own (made by `dockerfile_rule`): its
    hits over a batch are its hits over each part of the batch, in order."""
    return rule.check in _PER_DOCKERFILE_CHECKS


def dockerfile_rule(id: str, **meta: Any) -> Callable[[DockerfileCheck], Rule]:
    """A rule whose check runs once per Dockerfile: `check(dockerfile, project)`.

    Takes the same metadata as `findings.rule`. Service-lesson rules skip test, CI and
    devcontainer images and artifact-only stages (base images are left to each rule: what
    a base image writes is judged, what it leaves out is for the images built on it);
    stage-dependent rules say when the shipped stage is a guess.
    """
    make = rule(id, **meta)
    lesson = meta.get("lesson")
    skipped_kinds = {kind for kind, policy in _POLICY.items() if policy.skips(id, lesson)}
    advised_kinds = {kind for kind, policy in _POLICY.items() if policy.advises(id, lesson)}
    default = Severity.parse(meta.get("severity", "warning"))
    on_stage = id in STAGE_RULES

    def wrap(check: DockerfileCheck) -> Rule:
        def run(project: Project) -> Iterator[Hit]:
            dockerfiles = project.dockerfiles
            share = _SHARE.get()
            if share is not None:
                dockerfiles = dockerfiles[share[0] : share[1]]
            for dockerfile in dockerfiles:
                reason = None
                if skipped_kinds or advised_kinds:
                    reason = not_a_service(dockerfile, project)
                    if reason is not None and reason.kind in skipped_kinds:
                        continue
                hits = check(dockerfile, project)
                if on_stage:
                    judgement = shipped_judgement(dockerfile, project)
                    hits = (judgement.qualify(hit, dockerfile) for hit in hits)
                if reason is not None and reason.kind in advised_kinds:
                    hits = (reason.advice(hit, default) for hit in hits)
                yield from hits

        run.__name__ = check.__name__
        run.__doc__ = check.__doc__
        _PER_DOCKERFILE_CHECKS.add(run)
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


class ShippedJudgement(Struct, frozen=True):
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

# folders and file names of images that never serve production traffic: tests, CI,
# development setups, docs builders, the tools and benchmarks around a project
_NOT_SERVICE_FOLDERS = frozenset(
    {".devcontainer", "devcontainer", ".ci", "ci", "test", "tests", "testing", "e2e", ".github"}
    | {"dev", "devel", "development", "devtools", "docs", "doc", "documentation"}
    | {"tools", "tooling", "scripts", "bench", "benchmark", "benchmarks", "hack"}
)
# programs (and `python -m` modules) whose run is a test suite or a docs build
_TOOL_PROGRAMS = frozenset(
    {"pytest", "py.test", "tox", "nox", "sphinx-build", "sphinx-autobuild", "mkdocs",
     "behave", "robot", "jekyll", "hugo"}
)  # fmt: skip
# subcommands that run once and exit: migrations, data loads, asset builds
_ONE_SHOT_PAIRS = (
    ("alembic", "upgrade"),
    ("manage.py", "migrate"),
    ("manage.py", "collectstatic"),
    ("manage.py", "loaddata"),
    ("manage.py", "test"),
    ("db", "upgrade"),  # flask db upgrade
    ("make", "html"),
    ("make", "docs"),
    ("make", "test"),
)
# a script named for a batch task: `embedding-job.py`, `migrate.sh`, `train.py`
_ONE_SHOT_SCRIPT = lazy_compile(
    r"(?i)(?:^|[-_.])(?:job|jobs|cronjob|migrate|migrations?|seed|backfill|batch|train|"
    r"training|finetune|fine[-_]tune|oneshot|one[-_]off)(?:[-_.]|$)"
)
# interactive console programs: run with `docker run -it`, not kept running as services
# programs that only load the CPU or memory: a demo of limits, not a service
_LOAD_GENERATORS = frozenset({"stress", "stress-ng"})
_INTERACTIVE_TOOLS = frozenset({"mitmproxy", "tmux", "screen", "htop", "top", "k9s", "vim", "nano"})
# what tells an image it is an AWS Lambda function: its runtime interface client
_LAMBDA_MARKERS = lazy_compile(
    r"aws-lambda-go|awslambdaric|aws-lambda-ric|aws-lambda-rie|lambda-entrypoint\.sh|"
    r"aws-lambda-java-runtime-interface-client|public\.ecr\.aws/lambda/"
)


class NotAService(Struct, frozen=True):
    """Why an image is not a long-running service, and what that means for a hit."""

    # "tooling" (test, CI, development, devcontainer, docs-tool), "job" (runs once and
    # exits, or an interactive tool), "artifact" (scratch, no command), "base",
    # "function" (an AWS Lambda image: invoked per event, never probed or kept running)
    kind: str
    why: str

    def advice(self, hit: Hit, default: Severity) -> Hit:
        """A warning as advice (info) on this image, with the reason; info and errors stay
        (an error fails whatever the image is for)."""
        if (hit.severity or default) != Severity.WARNING:
            return hit
        what = "a one-shot job or tool" if self.kind == "job" else "not a production service"
        return replace(hit, message=f"{hit.message} ({what}: {self.why})", severity=Severity.INFO)


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
    test_app = _test_workdir(dockerfile)
    if test_app is not None:
        return NotAService("tooling", test_app)
    oldest = dockerfile.ancestry(stage)[-1]
    if (oldest.external_base or "").startswith("public.ecr.aws/lambda/"):
        return NotAService("function", f"an AWS Lambda function image ({oldest.base_resolved})")
    lambda_marker = _LAMBDA_MARKERS.search(dockerfile.text)
    if lambda_marker is not None:
        return NotAService("function", f"an AWS Lambda function image ({lambda_marker.group(0)})")
    from dockwise.rules._commands import entrypoint_and_cmd, is_base_image

    if any(stage.last("ONBUILD") is not None for stage in dockerfile.shipped_chain()):
        return NotAService("base", "an ONBUILD base image for others to build on")
    builder = _builder_image(dockerfile, project)
    if builder is not None:
        return NotAService("builder", builder)
    # a development stage judged (compose builds `target: dev`): what it runs says
    # nothing of the stage that ships
    dev_stage = shipped_judgement(dockerfile, project).dev
    orchestrated = None if dev_stage else _orchestrated_role(dockerfile, project)
    if orchestrated is not None:
        return orchestrated
    if entrypoint_and_cmd(dockerfile):
        if is_base_image(dockerfile):
            return NotAService("base", "it only starts a shell or interpreter")
        return None if dev_stage else _command_role(dockerfile)
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


_TEST_FOLDERS = frozenset({"test", "tests", "testing", "e2e"})


def _test_workdir(dockerfile: Dockerfile) -> str | None:
    """The image runs an app kept in a test folder (`WORKDIR /code/tests/app/idp`): a test
    fixture (an identity provider, a fake backend), not what the project ships."""
    for stage in dockerfile.shipped_chain():
        workdir = stage.last("WORKDIR")
        if workdir is None or not workdir.value:
            continue
        path = expand_word(workdir, " ".join(workdir.value).strip())
        folders = [part.lower() for part in path.split("/")]
        if _TEST_FOLDERS.intersection(folders):
            return f"it runs the app in {path}, a test folder"
        return None
    return None


def _builder_image(dockerfile: Dockerfile, project: Project) -> str | None:
    """The image is a builder: the project's other Dockerfiles start FROM it only in
    stages that do not ship and are read through `COPY --from` (a toolchain image
    published so the main build can copy compiled binaries out of it), and nothing runs
    it. Which stage starts FROM it: an image link of the project (model/link.py), or a
    stage named after the Dockerfile (`FROM acme/sqlite AS sqlite-builder` and
    `Dockerfile.sqlite-builder`)."""
    from dockwise.model.link import names_of

    if len(project.dockerfiles) < 2:
        return None
    service = service_of(dockerfile, project)
    if service is not None and service.orchestrated:
        return None
    by_link, by_name = project.memo("base-consumers", project, lambda: _base_consumers(project))
    found = list(by_link.get(dockerfile.relpath, ()))
    for name in names_of(dockerfile.relpath):
        found += by_name.get(name, ())
    consumers: list[str] = []
    for other, stage in found:
        if other is dockerfile:
            continue
        chain = {s.index for s in other.shipped_chain()}
        if stage.index in chain or not _copied_from(other, stage):
            return None
        consumers.append(f"{other.relpath} stage {stage.label}")
    if not consumers:
        return None
    return f"a builder image: {consumers[0]} only copies files out of it (COPY --from)"


_Consumers = dict[str, list[tuple[Dockerfile, Stage]]]


def _base_consumers(project: Project) -> tuple[_Consumers, _Consumers]:
    """Every stage that starts FROM an external image, once per project: by the project
    Dockerfile that builds that image (an image link), and, when no link says, by the
    stage's own name."""
    by_link: _Consumers = {}
    by_name: _Consumers = {}
    for other in project.dockerfiles:
        for stage in other.stages:
            if stage.external_base is None:
                continue
            built = project.built_from(stage)
            if built is not None:
                by_link.setdefault(built[0].relpath, []).append((other, stage))
            elif stage.name is not None:
                by_name.setdefault(stage.name, []).append((other, stage))
    return by_link, by_name


def _copied_from(dockerfile: Dockerfile, source: Stage) -> bool:
    for stage in dockerfile.stages:
        for instruction in stage.instructions:
            ref = instruction.flag("from") if instruction.cmd in ("COPY", "ADD") else None
            found = dockerfile.stage_by_ref(instruction.expanded(ref)) if ref else None
            if found is not None and found.index == source.index:
                return True
    return False


def service_of(dockerfile: Dockerfile, project: Project) -> Service | None:
    """The service (model/link.py) whose image this Dockerfile builds."""

    def index() -> dict[str, Service]:
        return {s.dockerfile.relpath: s for s in project.services if s.dockerfile is not None}

    return project.memo("services_by_dockerfile", project, index).get(dockerfile.relpath)


def _orchestrated_role(dockerfile: Dockerfile, project: Project) -> NotAService | None:
    """What the compose services and Kubernetes workloads that run the image say (see
    model/roles.py): only one-off tasks (Jobs, CronJobs, migrations, `profiles: [tools]`)
    make a job; only development setups make a development image when the image itself
    is named for development (`celery/celery:dev`) or another Dockerfile beside it ships."""
    if not (project.discovery.compose_files or project.discovery.yaml_files):
        return None
    service = service_of(dockerfile, project)
    if service is None or not service.orchestrated:
        return None
    from dockwise.model.roles import BATCH, PRODUCTION, compose_role, container_role

    container_roles = [container_role(part, project) for part in service.containers]
    if any(role.kind == PRODUCTION for role in container_roles):
        return None
    compose_roles = [compose_role(part, project) for part in service.compose]
    one_off = [_one_off(part) for part in service.compose]
    batch = [role.reason for role in container_roles if role.kind == BATCH]
    # a bare Pod that runs once (restartPolicy Never or OnFailure: a test client)
    once = [
        f"{part.workload.label} is a bare Pod with restartPolicy {part.workload.restart_policy}:"
        " it runs once"
        for part in service.containers
        if part.workload.kind == "Pod" and part.workload.restart_policy in ("Never", "OnFailure")
    ]
    if once and len(once) + len(batch) == len(container_roles):
        batch = batch + once
    if batch and all(o is not None for o in one_off):
        return NotAService("job", batch[0])
    if not container_roles and one_off and all(o is not None for o in one_off):
        return NotAService("job", str(one_off[0]))
    interactive = [
        part.service.name
        for part in service.compose
        if part.service.raw.get("stdin_open") is True and part.service.raw.get("tty") is True
    ]
    if not container_roles and len(interactive) == len(service.compose):
        return NotAService(
            "job", f"compose runs it interactively (service {interactive[0]}: stdin_open, tty)"
        )
    if container_roles or not compose_roles:
        return None
    if any(role.production for role in compose_roles):
        return None
    # every compose service that runs the image is a development (test, CI) setup
    trial = _development_image(dockerfile, service.compose, compose_roles)
    if trial is not None:
        return NotAService("tooling", trial)
    dev_image = next(
        (image for part in service.compose if (image := _compose_image(part)) and _dev_tag(image)),
        None,
    )
    if dev_image is not None:
        return NotAService("tooling", f"{compose_roles[0].reason}; it is tagged {dev_image}")
    sibling = _shipping_sibling(dockerfile, project)
    if sibling is not None:
        return NotAService(
            "tooling", f"{compose_roles[0].reason}; {sibling} beside it builds the shipped image"
        )
    return None


def _development_image(
    dockerfile: Dockerfile, parts: tuple[ComposePart, ...], roles: list[Role]
) -> str | None:
    """Why an image that only development (test, CI) compose services run is a development
    image, or None when it may still ship. It is one when compose supplies its command
    (the image has none), runs its own command as it is (the setup is the image's), or a
    compose file named for development runs it; never when the image's own command, or
    a compose command, starts a production server (gunicorn, uwsgi, nginx...): compose
    then only overrides it for local work, and the image ships elsewhere."""
    from dockwise.model.link import is_dev_name
    from dockwise.model.roles import command_words, path_role
    from dockwise.rules._commands import entrypoint_and_cmd, process_commands

    own: list[str] = []
    for _, command in process_commands(dockerfile):
        own.extend(command.argv)
    if _production_server(own) is not None:
        return None
    overridden = []
    for part in parts:
        argv: list[str] = []
        for given in (part.service.entrypoint, part.service.command):
            if given is not None:
                argv.extend(given.argv)
        if argv:
            overridden.append(part)
        if _production_server(command_words(argv)) is not None:
            return None
    named = all(
        path_role(part.file.relpath) is not None
        or is_dev_name(part.service.name)
        or any(is_dev_name(p) for p in part.service.profiles)
        for part in parts
    )
    if not (named or not entrypoint_and_cmd(dockerfile) or not overridden):
        return None
    reason = roles[0].reason
    if len(roles) == 1:
        return reason
    return f"{reason}; every compose service running it is a development or test setup"


# servers an image starts for production traffic: with one as its own command, an image
# that compose runs only for development still ships (compose overrides the command)
_PRODUCTION_SERVERS = frozenset(
    {"gunicorn", "uwsgi", "hypercorn", "daphne", "waitress-serve", "granian", "nginx", "httpd",
     "caddy", "uvicorn", "puma", "unicorn", "php-fpm", "catalina.sh"}
)  # fmt: skip
_DEV_FLAGS = frozenset({"--reload", "--debug", "--autoreload", "--py-autoreload"})


def _production_server(words: list[str]) -> str | None:
    """The production server a command starts (gunicorn, uwsgi, uvicorn without
    --reload, nginx...), or None."""
    if _DEV_FLAGS.intersection(words):
        return None
    names = [word.rsplit("/", 1)[-1] for word in words if word and not word.startswith("-")]
    modules = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-m"]
    return next((n for n in (*names, *modules) if n in _PRODUCTION_SERVERS), None)


def _one_off(part: ComposePart) -> str | None:
    from dockwise.model.roles import one_off_reason

    reason = one_off_reason(part)
    if reason is not None:
        return reason
    service = part.service
    tools = [p for p in service.profiles if p.lower() in _ONE_OFF_PROFILES]
    if tools:
        return f"service {service.name} is in profile {tools[0]}, run on demand"
    return None


_ONE_OFF_PROFILES = frozenset({"tools", "tool", "cli", "jobs", "job", "migrate", "migrations"})


def _compose_image(part: ComposePart) -> str | None:
    image = part.service.image
    return str(image.value) if image is not None and image.value else None


def _dev_tag(image: str) -> bool:
    from dockwise.model.link import is_dev_name

    if "$" in image or ":" not in image.rsplit("/", 1)[-1]:
        return False
    return is_dev_name(image.rsplit(":", 1)[1])


def _shipping_sibling(dockerfile: Dockerfile, project: Project) -> str | None:
    """Another Dockerfile in the same folder that no development setup builds: the image
    that ships (`Dockerfile` for compose, `Dockerfile.cabotage` for production)."""
    from dockwise.model.roles import PRODUCTION, compose_role

    folder = dockerfile.relpath.rpartition("/")[0]
    for other in project.dockerfiles:
        if other is dockerfile or other.relpath.rpartition("/")[0] != folder:
            continue
        if _tooling_path(other.relpath) is not None:
            continue
        service = service_of(other, project)
        parts = service.compose if service is not None else ()
        if all(compose_role(part, project).kind == PRODUCTION for part in parts):
            return other.relpath
    return None


def _command_role(dockerfile: Dockerfile) -> NotAService | None:
    """What the image's own command says: a test suite or docs build (tooling), a
    migration, a batch script or an interactive tool (job), only `--help` (a generic image
    whose command the user supplies)."""
    from dockwise.rules._commands import effective, process_commands

    words: list[str] = []
    for _, command in process_commands(dockerfile):
        words.extend(command.argv)
    cmd = effective(dockerfile, "CMD")
    if (
        cmd is not None
        and cmd.json
        and cmd.value
        and all(
            word in ("--help", "-h", "help", "--version", "-V", "version") for word in cmd.value
        )
    ):
        return NotAService(
            "base", f"its CMD only prints `{' '.join(cmd.value)}`: users give the command"
        )
    names = [word.rsplit("/", 1)[-1] for word in words if word and not word.startswith("-")]
    modules = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-m"]
    tool = next((n for n in (*names, *modules) if n in _TOOL_PROGRAMS), None)
    if tool is not None:
        return NotAService("tooling", f"it runs {tool}, a test or docs build")
    for first, second in _ONE_SHOT_PAIRS:
        for index, name in enumerate(names[:-1]):
            if name == first and second in names[index + 1 : index + 3]:
                return NotAService("job", f"it runs `{first} {second}`, which exits when done")
    script = next(
        (n for n in names if "." in n and _ONE_SHOT_SCRIPT.search(n.rsplit(".", 1)[0])), None
    )
    if script is not None:
        return NotAService("job", f"it runs {script}, a script named for a one-shot task")
    load = next((n for n in names[:2] if n in _LOAD_GENERATORS), None)
    if load is not None:
        return NotAService("job", f"it runs {load}, a load generator for a demo or a test")
    interactive = next((n for n in names[:1] + names[1:2] if n in _INTERACTIVE_TOOLS), None)
    if interactive is not None:
        return NotAService("job", f"it runs {interactive}, an interactive console tool")
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
    resolved = dockerfile.path.resolve()
    top = _git_root(str(resolved.parent))
    if top is not None:
        try:
            return resolved.relative_to(top).as_posix()
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
