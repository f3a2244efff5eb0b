"""What a compose service or a Kubernetes container is for, decided once for every rule.

A lesson about production (limits, probes, log rotation, secrets in git, privileges) is
worth a warning on what a team deploys, and only advice on what it runs on a laptop, in CI,
as a test fixture or as a throwaway demo. Every service rule asks the same question, so the
answer lives here, with the reason it gives (`Role.reason`, shown in the finding), and is
computed once per part (`Project.memo`). Each rule keeps its own policy: which roles make its
finding milder (`Role.kind`).

Kinds:
- production: nothing says otherwise;
- development: named so (`docker-compose.dev.yml`, a `dev` profile or namespace), a
  development server (`--reload`, `runserver`, `nodemon`), the source or the build output
  bind-mounted over the image, a debugger started, an interactive `sleep infinity`
  container, a folder of tools (`extras/`, `hack/`, `tools/`);
- test: under `tests/`, `testdata/`, `fixtures/`, `e2e/`, `test_*` files;
- ci: under `.ci/`, named `ci`;
- demo: a bare Pod (no controller restarts it), a container that only sleeps or loops a
  shell, the pause image: nothing that serves;
- node-agent: a DaemonSet (or a pod with host access) that runs an agent, installer or
  driver on the node;
- batch: an init container, a Job or CronJob.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from msgspec import Struct

from dockwise.lazyre import lazy_compile
from dockwise.model.link import is_dev_name
from dockwise.model.service import ComposePart

if TYPE_CHECKING:
    from dockwise.model.service import ContainerPart
    from dockwise.project import Project
    from dockwise.sources.compose import ComposeFile

PRODUCTION = "production"
DEVELOPMENT = "development"
TEST = "test"
CI = "ci"
DEMO = "demo"
NODE_AGENT = "node-agent"
BATCH = "batch"

# never deployed as they are: development, test and CI setups
TRIAL = frozenset({DEVELOPMENT, TEST, CI})
# and what serves nothing: demos and throwaway pods
THROWAWAY = TRIAL | {DEMO}
# and what runs once: every part that is not a long-running service
NOT_A_SERVICE = THROWAWAY | {BATCH}


class Role(Struct, frozen=True):
    kind: str = PRODUCTION
    reason: str = ""

    @property
    def production(self) -> bool:
        return self.kind == PRODUCTION

    def note(self, kinds: Iterable[str] = NOT_A_SERVICE) -> str | None:
        """The reason, when this role is one of `kinds` (a rule's policy); else None."""
        return self.reason if self.kind in kinds else None


_PRODUCTION = Role()
_WORD = lazy_compile(r"[-_./]+")
_CI_WORDS = frozenset({"ci"})
_TEST_WORDS = frozenset(
    {"test", "tests", "testing", "testdata", "e2e", "fixture", "fixtures", "cypress"}
)
_FIXTURE_FILE = lazy_compile(
    r"(?i)(?:^|/)(?:__tests__|test_data)/|(?:^|/)(?:test_[^/]*|[^/]*_test\.[a-z]+|conftest\.py)$"
)
# words is_dev_name does not know that still say "for developers"
_MORE_DEV_WORDS = frozenset({"debugging", "devtools", "devenv"})
# folders of tools and helpers around a project, not what it deploys
_TOOL_FOLDERS = frozenset(
    {"extras", "hack", "tools", "scripts", "devtools", "tilt", "localstack", "devenv", "dev-env"}
)


def path_role(path: str | None) -> Role | None:
    """The role a file's path gives it: CI, test, development or a tools folder; else None."""
    if not path:
        return None
    path = path.replace("\\", "/")
    words = [w for w in _WORD.split(path.lower()) if w]
    if _CI_WORDS.intersection(words):
        return Role(CI, f"{path} is a CI file")
    if _TEST_WORDS.intersection(words) or _FIXTURE_FILE.search(path):
        return Role(TEST, f"{path} is a test file")
    if is_dev_name(path) or _MORE_DEV_WORDS.intersection(words):
        return Role(DEVELOPMENT, f"{path} is named for development")
    folders = [part.lower() for part in path.split("/")[:-1]]
    tools = next((f for f in folders if f in _TOOL_FOLDERS), None)
    if tools is not None:
        return Role(DEVELOPMENT, f"{path} is in a tools folder ({tools}/)")
    return None


# ---------------------------------------------------------------------------------------------
# compose

_DEV_COMMAND_WORDS = frozenset({"--reload", "runserver", "nodemon", "--debug", "--autoreload"})
_DEV_PAIRS = (("flask", "run"), ("npm", "dev"), ("yarn", "dev"), ("fastapi", "dev"))
_PROD_WORDS = frozenset({"prod", "production", "live", "release", "deploy"})
_DEBUG_WORDS = ("-agentlib:jdwp", "jpda", "debugpy", "--inspect", "dlv ")
# the build output of a compiled project: mounted over the image, it replaces what was built
_BUILD_OUTPUT = frozenset({"target", "build", "dist", "out"})
# folders of a build context that hold the code the image was built from
_SOURCE_FOLDERS = frozenset({"src", "source", "app", "lib"})
# subcommands and programs that run once and exit: migrations, tests, asset builds
_ONE_SHOT_WORDS = frozenset(
    {
        "migrate",
        "makemigrations",
        "collectstatic",
        "compilemessages",
        "createsuperuser",
        "loaddata",
        "pytest",
        "py.test",
        "tox",
        "nox",
    }
)
_ONE_SHOT_PAIRS = (
    ("alembic", "upgrade"),
    ("db", "upgrade"),  # flask db upgrade
    ("manage.py", "test"),
    ("npm", "test"),
    ("yarn", "test"),
    ("make", "test"),
)


def command_words(argv: Iterable[str]) -> list[str]:
    """The words of a command, shell separators (`;`, `&&`) dropped."""
    words: list[str] = []
    for arg in argv:
        words.extend(w for w in arg.replace(";", " ").replace("&&", " ").split() if w)
    return words


def _has_pair(words: list[str], pairs: Iterable[tuple[str, str]]) -> str | None:
    names = [w.rsplit("/", 1)[-1] for w in words]
    for first, second in pairs:
        for index, word in enumerate(names[:-1]):
            if word == first and second in names[index + 1 : index + 3]:
                return f"{first} {second}"
    return None


def _compose_words(part: ComposePart) -> list[str]:
    service = part.service
    argv: list[str] = []
    for command in (service.entrypoint, service.command):
        if command is not None:
            argv.extend(command.argv)
    return command_words(argv)


def one_off_reason(part: ComposePart) -> str | None:
    """Why a compose service is a one-off task (migrations, tests...), or None."""
    service = part.service
    words = _compose_words(part)
    names = [w.rsplit("/", 1)[-1] for w in words]
    one_shot = next((w for w in names if w in _ONE_SHOT_WORDS), None) or _has_pair(
        words, _ONE_SHOT_PAIRS
    )
    if one_shot:
        return f"service {service.name} runs a one-off command ({one_shot})"
    for other in part.file.services.values():
        dependency = other.depends_on.get(service.name)
        if dependency is not None and dependency.condition == "service_completed_successfully":
            return f"service {other.name} waits for {service.name} to complete"
    return None


def compose_role(part: ComposePart, project: Project) -> Role:
    """What a compose service is for (once per service and project)."""
    return project.memo("compose_role", part.service, lambda: _compose_role(part, project))


def _compose_role(part: ComposePart, project: Project) -> Role:
    service = part.service
    by_path = path_role(part.file.relpath)
    if by_path is not None:
        return by_path
    if is_dev_name(service.name):
        return Role(DEVELOPMENT, f"service {service.name} is named for development or testing")
    dev_profiles = [p for p in service.profiles if is_dev_name(p)]
    if dev_profiles:
        return Role(DEVELOPMENT, f"service {service.name} is in profile {dev_profiles[0]}")
    signal = project.memo("compose_dev_file", part.file, lambda: _dev_file(part.file, project))
    if signal is not None:
        return Role(DEVELOPMENT, f"a development setup: {signal}")
    prod = _production_sibling(part, project)
    if prod is not None:
        return Role(DEVELOPMENT, f"{prod} defines {service.name} for production")
    return _PRODUCTION


def _dev_file(file: ComposeFile, project: Project) -> str | None:
    """What makes a compose file a development setup (any of its services), or None."""
    for other in file.services.values():
        signal = _dev_service_signal(ComposePart(file, other), project)
        if signal is not None:
            return signal
    return None


def _dev_service_signal(part: ComposePart, project: Project) -> str | None:
    """What makes one service of a compose file a development setup, or None."""
    service = part.service
    words = _compose_words(part)
    dev = next((w for w in words if w in _DEV_COMMAND_WORDS), None) or _has_pair(words, _DEV_PAIRS)
    program = words[0] if words else ""
    plain = program[:1] not in ("-", "") and "=" not in program
    if dev is None and plain and is_dev_name(program.rsplit("/", 1)[-1]):
        dev = program
    if dev is None and words[:2] in (["sleep", "infinity"], ["tail", "-f"]):
        dev = " ".join(words[:2])
    if dev is not None:
        return f"service {service.name} runs {dev}"
    if service.raw.get("stdin_open") is True and service.raw.get("tty") is True:
        return f"service {service.name} is interactive (stdin_open and tty)"
    build = service.build
    if build is not None and build.context is not None:
        context = project.relpath(build.context)
        if context not in (".", "") and path_role(context + "/") is not None:
            return f"service {service.name} builds {context}"
    mounted = _mounted_source(part, project)
    if mounted is not None:
        return f"service {service.name} mounts {mounted}"
    debug = _debugger(part)
    if debug is not None:
        return f"service {service.name} {debug}"
    return None


def _mounted_source(part: ComposePart, project: Project) -> str | None:
    """A bind mount that replaces the image's code with the developer's working copy: the
    compose folder, the build context (or a folder holding it, or its source folder), or
    the build output of a compiled project."""
    service = part.service
    context = None
    if service.build is not None and service.build.context is not None:
        context = os.path.normpath(str(service.build.context))
    for volume in service.volumes:
        source = volume.source
        if volume.type != "bind" or not source or source.startswith(("$", "~", "/")):
            continue
        if source.rstrip("/") in (".", ".."):
            return f"its source folder ({volume.written})"
        base = os.path.dirname(str(project.root / volume.origin.path))
        full = os.path.normpath(os.path.join(base, source))
        if context is not None:
            if context == full or context.startswith(full.rstrip(os.sep) + os.sep):
                return f"its source ({volume.written})"
            inside = full.startswith(context.rstrip(os.sep) + os.sep)
            if inside and os.path.basename(full).lower() in _SOURCE_FOLDERS:
                return f"its source ({volume.written})"
        segments = [s.lower() for s in source.split("/")]
        if _BUILD_OUTPUT.intersection(segments[:-1] or segments):
            return f"its build output ({volume.written})"
        if len(segments) > 1 and segments[0] == ".." and _is_package(full):
            return f"the source of a library ({volume.written})"
    return None


def _is_package(folder: str) -> bool:
    """A Python package folder (an `__init__.py` in it): library source, not data."""
    return os.path.isfile(os.path.join(folder, "__init__.py"))


def _debugger(part: ComposePart) -> str | None:
    """A debugger switched on in the command or environment (JDWP, debugpy, --inspect). A
    debugger port published alone is not enough: sample shops publish 5005 in the stack
    they present as their deployment."""
    service = part.service
    texts = [" ".join(_compose_words(part)) + " "]
    texts.extend(f"{name}={var.value or ''}" for name, var in service.environment.items())
    for text in texts:
        lowered = text.lower()
        word = next((w for w in _DEBUG_WORDS if w in lowered), None)
        if word is not None:
            return f"starts a debugger ({word.strip()})"
    return None


def _production_sibling(part: ComposePart, project: Project) -> str | None:
    """A compose file next to this one, named for production, that defines the same
    service: this one is then the development (or base) definition."""
    mine = part.file.relpath
    if _is_prod_name(mine):
        return None
    folder = mine.rpartition("/")[0]
    for other in project.compose_files:
        if other.relpath == mine or other.relpath.rpartition("/")[0] != folder:
            continue
        if _is_prod_name(other.relpath.rpartition("/")[2]) and part.service.name in (
            other.services
        ):
            return other.relpath
    return None


def _is_prod_name(relpath: str) -> bool:
    return any(word in _PROD_WORDS for word in _WORD.split(relpath.lower()))


# ---------------------------------------------------------------------------------------------
# Kubernetes

# DaemonSets that need the node: agents for logs, metrics, networking, storage, security, and
# the installers of drivers and runtimes
NODE_AGENT_NAMES = lazy_compile(
    r"(?i)agent|exporter|fluent|filebeat|logstash|promtail|vector|datadog|newrelic|sysdig|"
    r"falco|calico|cilium|flannel|weave|kube-proxy|csi|driver|nvidia|gpu|device|node|"
    r"collector|otel|monitor|log|install|setter|tuner|tuning|sysctl"
)
_PAUSE_IMAGE = lazy_compile(r"(?:^|/)pause(?:-[a-z0-9]+)?(?:[:@]|$)")
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "/bin/sh", "/bin/bash", "/bin/ash"})


def container_role(part: ContainerPart, project: Project) -> Role:
    """What a Kubernetes container is for (once per container and project)."""
    return project.memo("container_role", part.container, lambda: _container_role(part))


def _container_role(part: ContainerPart) -> Role:
    workload, container = part.workload, part.container
    by_path = path_role(part.path)
    if by_path is not None:
        return by_path
    if is_dev_name(workload.namespace):
        return Role(DEVELOPMENT, f"namespace {workload.namespace} is for development or testing")
    if container.init:
        return Role(BATCH, f"{container.name} is an init container")
    if workload.is_batch:
        return Role(BATCH, f"{workload.label} is a {workload.kind}, not a long-running service")
    if workload.kind == "Pod":
        return Role(
            DEMO, f"{workload.label} is a bare Pod (no controller restarts it): a demo or debug pod"
        )
    idle = _idle(part)
    if idle is not None:
        return Role(DEMO, idle)
    agent = node_agent(part)
    if agent is not None:
        return Role(NODE_AGENT, agent)
    return _PRODUCTION


def _idle(part: ContainerPart) -> str | None:
    """A container that serves nothing: it sleeps, loops a shell script, or is the pause image."""
    container = part.container
    name = container.name
    if container.image and _PAUSE_IMAGE.search(container.image.lower()):
        return f"container {name} runs the pause image: it serves nothing"
    argv = command_words((*(container.command or ()), *(container.args or ())))
    if argv[:1] == ["sleep"] or argv[:2] == ["tail", "-f"] or argv[-2:] == ["sleep", "infinity"]:
        return f"container {name} only sleeps: a debug or toolbox container"
    if argv[:1] and argv[0] in _SHELLS and not container.ports:
        script = " ".join((*(container.command or ()), *(container.args or ()))[1:])
        looping = re.search(r"\bwhile\b[^;]*;\s*do\b|\bfor\b.*;\s*do\b", script)
        if looping and re.search(r"\bsleep\b", script) and _only_builtins(script):
            return f"container {name} loops a shell script: it serves nothing"
    return None


# programs a demo loop runs; anything else (a server, a client) is real work
_LOOP_PROGRAMS = frozenset(
    {
        "while",
        "until",
        "true",
        "do",
        "done",
        "sleep",
        "echo",
        "date",
        "cat",
        "printf",
        "for",
        "in",
        "-c",
        "hostname",
        "cp",
        "touch",
        "ls",
        "mkdir",
    }
)


def _only_builtins(script: str) -> bool:
    """A loop that only sleeps, prints and writes dates: `while true; do date >> f; sleep 5; done`."""
    for chunk in re.split(r"[;&|]+|\bdo\b|\bdone\b", script):
        words = chunk.split()
        if words and words[0].strip("'\"") not in _LOOP_PROGRAMS:
            return False
    return True


def node_agent(part: ContainerPart) -> str | None:
    """Why a container is an agent, installer or driver on the node, or None."""
    workload, container = part.workload, part.container
    agent = NODE_AGENT_NAMES.search(f"{workload.name} {container.name}")
    if (workload.kind == "DaemonSet" and (workload.host_access or agent)) or (
        workload.host_access and agent
    ):
        what = ", ".join(workload.host_access) or "a node agent by its name"
        return f"a node agent with {what}"
    return None
