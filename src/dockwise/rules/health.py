"""Health: HEALTHCHECK present, runnable in the image, probing something real (DW2xx)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from msgspec import Struct
from msgspec.structs import replace

from dockwise.baseimages import BaseTools, base_tools, installs_tool
from dockwise.digits import is_digits, small_int
from dockwise.findings import Hit, Severity
from dockwise.lazyre import lazy_compile
from dockwise.project import Project
from dockwise.rules._commands import (
    compose_services_building,
    destinations,
    effective,
    entrypoint_and_cmd,
    is_base_image,
    process_commands,
    shell_c_script,
)
from dockwise.rules._common import at, dockerfile_rule, not_a_service, runs_with_commands
from dockwise.sources.dockerfile import Dockerfile, Instruction, Stage
from dockwise.sources.shell import ShellCommand, parse_script

DEFAULT_PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]", ""})


# --- external health checks (compose now; Kubernetes probes extend this) ------------------


def _compose_health_checks(project: Project, dockerfile: Dockerfile) -> bool:
    for service in compose_services_building(project, dockerfile):
        check = service.get("healthcheck")
        if not isinstance(check, Mapping) or check.get("disable") is True:
            continue
        test = check.get("test")
        if isinstance(test, list) and test[:1] == ["NONE"]:
            continue
        return True
    return False


def _service_health_checks(project: Project, dockerfile: Dockerfile) -> bool:
    """Compose healthchecks and Kubernetes liveness/readiness probes of the service this
    Dockerfile builds (the joins of `model.link`)."""
    checked = project.memo(  # once per project, not once per Dockerfile and service
        "health_checked_dockerfiles",
        project,
        lambda: frozenset(
            service.dockerfile.relpath
            for service in project.services
            if service.dockerfile is not None and service.health_checks_elsewhere()
        ),
    )
    return dockerfile.relpath in checked


# Each source answers "is this Dockerfile's image health-checked by its orchestrator?".
EXTERNAL_HEALTH_SOURCES: tuple[Callable[[Project, Dockerfile], bool], ...] = (
    _compose_health_checks,
    _service_health_checks,
)


def has_external_health_checks(project: Project, dockerfile: Dockerfile) -> bool:
    """True when the orchestration files check the service's health themselves."""
    return any(source(project, dockerfile) for source in EXTERNAL_HEALTH_SOURCES)


# --- reading a HEALTHCHECK -----------------------------------------------------------------


def check_kind(instruction: Instruction) -> str:
    """'NONE', 'CMD', 'CMD-SHELL' or the unknown type as written."""
    return instruction.value[0].upper() if instruction.value else ""


def is_disabled(instruction: Instruction) -> bool:
    return check_kind(instruction) == "NONE"


def check_shell(instruction: Instruction) -> str | None:
    """The shell a check needs (`/bin/sh` for the shell form, `sh` of `["sh", "-c", ...]`)."""
    if is_disabled(instruction) or len(instruction.value) < 2:
        return None
    if not instruction.json:
        return instruction.shell[0] if instruction.shell else "/bin/sh"
    argv = tuple(instruction.value[1:])
    return argv[0] if shell_c_script(argv) is not None else None


def check_script(instruction: Instruction) -> str | None:
    """The shell text of a check (None for an exec-form check without `sh -c`)."""
    if is_disabled(instruction) or len(instruction.value) < 2:
        return None
    if not instruction.json:
        return " ".join(instruction.value[1:])
    return shell_c_script(tuple(instruction.value[1:]))


def check_commands(instruction: Instruction) -> tuple[ShellCommand, ...]:
    """The simple commands a HEALTHCHECK runs."""
    if is_disabled(instruction) or len(instruction.value) < 2:
        return ()
    script = check_script(instruction)
    if script is not None:
        return parse_script(script).commands
    return (ShellCommand(tuple(instruction.value[1:])),)


_URL = lazy_compile(r"https?://[^\s'\"()<>]+")
_PYTHON_SOCKET = lazy_compile(r"\(\s*\(\s*['\"]([^'\"]+)['\"]\s*,\s*(\d+)\s*\)")
_PROBE_CLIENTS = frozenset({"curl", "wget", "http", "https", "httpx", "xh"})


def _url_target(url: str) -> tuple[str, int, str] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return (parts.hostname or "", port, parts.path or "/")


def probe_target(instruction: Instruction) -> tuple[str, int, str] | None:
    """(host, port, path) a check probes: curl/wget/httpie URLs, python one-liners, nc."""
    for command in check_commands(instruction):
        if command.name in _PROBE_CLIENTS or command.name.startswith("python"):
            text = instruction.expanded(" ".join(command.args))
            if "$" in text:
                continue
            url = _URL.search(text)
            if url:
                return _url_target(url.group(0).rstrip(".,;"))
            socket = _PYTHON_SOCKET.search(text)
            if socket:
                number = small_int(socket.group(2))
                return (socket.group(1), number, "") if number is not None else None
        elif command.name in ("nc", "ncat") and len(command.positional()) >= 2:
            host, port = (instruction.expanded(a) for a in command.positional()[:2])
            if is_digits(port):
                return host, int(port), ""
    return None


# --- what the shipped image contains --------------------------------------------------------


class ShippedTools(Struct, frozen=True):
    """Executables of the shipped image: its base, what RUN installs, what COPY adds."""

    base: BaseTools
    added: frozenset[str]
    open_ended: bool  # a whole bin folder or filesystem was copied in: absence is unknown
    # why the build may have added programs dockwise cannot see (`RUN /install.sh`)
    unseen: str | None = None

    def has(self, tool: str) -> bool | None:
        name = tool.rsplit("/", 1)[-1]
        if name in self.added:
            return True
        answer = self.base.has(name)
        if answer is False and self.open_ended:
            return None
        return answer


def _path_dirs(stage: Stage) -> tuple[str, ...]:
    declared = [
        d.rstrip("/") for d in stage.final_vars.get("PATH", "").split(":") if d.startswith("/")
    ]
    return tuple(dict.fromkeys([*declared, *DEFAULT_PATH_DIRS]))


def _stage_installs(dockerfile: Dockerfile, stage: Stage) -> set[str]:
    tools: set[str] = set()
    for ancestor in dockerfile.ancestry(stage):
        for _, command in runs_with_commands(dockerfile, ancestor):
            tools |= installs_tool(command)
    return tools


def _is_under(path: str, folder: str) -> bool:
    folder = folder.rstrip("/")
    return path == folder or path.startswith(folder + "/") or folder == ""


_PACKAGE_MANAGERS = frozenset(
    {"apt-get", "apt", "aptitude", "apk", "yum", "dnf", "microdnf", "tdnf", "zypper", "conda",
     "mamba", "micromamba", "brew", "nix-env", "pacman", "emerge", "port", "xbps-install"}
)  # fmt: skip
_INSTALL_VERBS = frozenset({"install", "add", "in", "-S", "-i", "groupinstall"})
_SHELL_NAMES = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "source", "."})
_SYSTEM_DIRS = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/")
# programs often run by path (`/opt/venv/bin/pip install ...`) that install no executables
# dockwise does not already count
_KNOWN_PROGRAMS = frozenset(
    {"pip", "pip3", "uv", "poetry", "pipenv", "npm", "node", "yarn", "pnpm", "java", "go",
     "cargo", "ruby", "gem", "bundle", "php", "composer", "dotnet", "chmod", "chown", "ln",
     "mkdir", "rm", "cp", "mv", "echo", "test", "true", "manage.py"}
)  # fmt: skip
_BUILD_TOOLS = frozenset({"make", "cmake", "ninja", "ansible-playbook", "ansible", "puppet"})


def unseen_installer(command: ShellCommand) -> str | None:
    """Why a RUN command may put programs on PATH that dockwise cannot list: a script, an
    installer or build tool, a package list from a variable or a file; None when it is
    known what it installs (or that it installs nothing)."""
    name = command.name
    if not name:
        return None
    program = command.argv[0]
    local = (
        program.startswith(("/", "./", "../"))
        and not program.startswith(_SYSTEM_DIRS)
        and name not in _KNOWN_PROGRAMS
        and not name.startswith("python")
    )
    if name.endswith(".sh") or local:
        return f"`{program}` runs a script"
    if name in _SHELL_NAMES and command.positional():
        return f"`{' '.join(command.argv[:2])}` runs a script"
    if name in _SHELL_NAMES and command.piped:
        return f"`{name}` runs a downloaded script"
    if name in _BUILD_TOOLS:
        return f"`{name}` may install programs"
    if name == "xargs" and any(a in _PACKAGE_MANAGERS for a in command.args):
        return "`xargs` feeds packages to the package manager"
    if name in _PACKAGE_MANAGERS and any(a in _INSTALL_VERBS for a in command.args):
        if any("$" in a or "`" in a for a in command.args):
            return f"`{name}` installs packages named by a variable"
        if name in ("conda", "mamba", "micromamba", "brew", "nix-env", "pacman", "emerge"):
            return f"`{name}` installs packages"
    return None


def _copies_over_path(instruction: Instruction, path_dirs: tuple[str, ...]) -> str | None:
    """A context COPY of a folder over a PATH folder or one of its parents (`COPY rootfs/ /`)."""
    if instruction.flag("from") is not None or len(instruction.value) < 2:
        return None
    target = str(PurePosixPath(instruction.workdir) / instruction.expanded(instruction.value[-1]))
    if not any(_is_under(d, target) for d in path_dirs):
        return None
    for path, source in destinations(instruction):
        if source is None:
            continue
        leaf = source.rstrip("/").rsplit("/", 1)[-1]
        if source.endswith("/") or source in (".", "./") or "." not in leaf or "*" in source:
            return f"`COPY {source} {path}` copies a folder over the filesystem"
    return None


def shipped_tools(dockerfile: Dockerfile) -> ShippedTools | None:
    chain = dockerfile.shipped_chain()
    if not chain:
        return None
    root = chain[-1]
    # a stage parent or an ARG without a value (`FROM python:${TAG}-slim`): cannot know
    judged = root.parent is None and root.base_known
    base = base_tools(root.base_resolved) if judged else BaseTools(root.base_resolved, "unknown")
    path_dirs = _path_dirs(chain[0])
    added: set[str] = set()
    open_ended = False
    unseen: str | None = None
    for stage in chain:
        for run, command in runs_with_commands(dockerfile, stage):
            added |= installs_tool(command)
            reason = unseen_installer(command)
            if reason is not None and unseen is None:
                unseen = f"{reason} (line {run.start_line})"
    for stage in chain:
        for instruction in stage.all("COPY", "ADD"):
            reason = _copies_over_path(instruction, path_dirs)
            if reason is not None and unseen is None:
                unseen = f"{reason} (line {instruction.start_line})"
            source_ref = instruction.flag("from")
            source_stage = (
                dockerfile.stage_by_ref(instruction.expanded(source_ref)) if source_ref else None
            )
            for path, source in destinations(instruction):
                folder = path.rpartition("/")[0] or "/"
                if folder in path_dirs:
                    added.add(path.rpartition("/")[2])
                if source_ref is None:
                    continue
                # a folder copied from another stage or image that holds (or is) a PATH folder
                if any(_is_under(d, path) for d in path_dirs):
                    if source_stage is not None:
                        added |= _stage_installs(dockerfile, source_stage)
                    if source is not None and (
                        source.rstrip("/") == "" or any(_is_under(d, source) for d in path_dirs)
                    ):
                        open_ended = True
    return ShippedTools(base, frozenset(added), open_ended, unseen)


# --- rules -----------------------------------------------------------------------------------


def _python_fix(target: tuple[str, int, str] | None) -> str:
    host, port, path = target or ("127.0.0.1", 8000, "/health")
    if host in LOCAL_HOSTS:
        host = "127.0.0.1"
    url = f"http://{host}:{port}{path or '/'}"
    return (
        f'use HEALTHCHECK CMD ["python", "-c", "import urllib.request; '
        f"urllib.request.urlopen('{url}', timeout=2)\"] or install the tool in the final stage"
    )


def _missing_tool(instruction: Instruction, tools: ShippedTools) -> str | None:
    shell = check_shell(instruction)
    if shell is not None and tools.has(shell) is False:
        return f"a shell ({shell})"
    for command in check_commands(instruction):
        if command.name and tools.has(command.name) is False:
            return command.name
    return None


@dockerfile_rule(
    "DW201",
    lesson="health",
    severity="error",
    title="HEALTHCHECK runs a program the image does not contain",
    why="""
        A check whose program is missing fails every time: the container never becomes
        healthy, compose `depends_on: service_healthy` waits forever and Swarm restarts it in
        a loop. python:*-slim has no curl or wget, alpine has busybox wget but no curl,
        distroless and scratch have no shell at all. dockwise only reports images whose
        content is documented, and counts tools installed by RUN or copied onto PATH. When
        the build runs something that may install programs dockwise cannot list (a script
        such as `RUN /install.sh`, `curl ... | sh`, `make install`, packages named by a
        variable, a folder copied over the filesystem), it says "could not verify" at info.
    """,
    fix="""
        Probe with what the image has, e.g. `HEALTHCHECK CMD ["python", "-c", "import
        urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]`,
        or install the tool in the final stage.
    """,
    bad="""
        FROM python:3.11-slim
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
        HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
    """,
    good="""
        FROM python:3.11-slim
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
        HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
    """,
)
def check_program_missing(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    instruction = effective(dockerfile, "HEALTHCHECK")
    if instruction is None or is_disabled(instruction):
        return
    in_image = None
    if project.images:  # the image rules' module is imported only with an image
        from dockwise.rules.health_image import image_related, missing_in_image

        in_image = missing_in_image(project, dockerfile, instruction)
    if in_image is not None:  # the built image was read (check --image): it knows for sure
        if in_image:
            yield at(
                dockerfile,
                instruction,
                f"HEALTHCHECK runs {in_image}, which the built image does not contain: the "
                "container will never be healthy",
                related=image_related(project, dockerfile, f"the built image: no {in_image}"),
            )
        return
    tools = shipped_tools(dockerfile)
    if tools is None:
        return
    missing = _missing_tool(instruction, tools)
    if missing is None:
        return
    fix = None
    if tools.has("python") or tools.has("python3"):
        fix = _python_fix(probe_target(instruction))
    if tools.unseen is not None:
        hit = at(
            dockerfile,
            instruction,
            f"could not verify that the image contains {missing}, which HEALTHCHECK runs: "
            f"{tools.base.label} does not, and {tools.unseen} that may install it",
            fix=fix,
        )
        yield replace(hit, severity=Severity.INFO)
        return
    yield at(
        dockerfile,
        instruction,
        f"HEALTHCHECK runs {missing}, which the final stage ({tools.base.label}) does not "
        "contain: the container will never be healthy",
        fix=fix,
    )


def _has_process(dockerfile: Dockerfile) -> bool:
    """The image runs a service: it has a command, and is no base image (a bare interpreter
    as CMD, or ONBUILD triggers for the images built on it)."""
    stage = dockerfile.shipped_stage
    if stage is not None and any(True for _ in stage.all("ONBUILD")):
        return False
    return bool(entrypoint_and_cmd(dockerfile)) and not is_base_image(dockerfile)


@dockerfile_rule(
    "DW202",
    lesson="health",
    severity="warning",
    title="No HEALTHCHECK in the shipped image",
    why="""
        Without a health check, Docker, compose and Swarm only know whether the process runs,
        not whether it serves: a deadlocked or disconnected service keeps receiving traffic
        and `depends_on: condition: service_healthy` cannot work. Images without CMD or
        ENTRYPOINT (base or builder images), ONBUILD base images and services health-checked
        by their compose file or Kubernetes probes are not reported. It is advice (info)
        when Kubernetes manifests next to the Dockerfile suggest it runs there (Kubernetes
        ignores HEALTHCHECK: probes count), when the project has Kubernetes probes on an
        image dockwise could not link to this Dockerfile, or when nothing says the image serves (no EXPOSE,
        no known server: a worker, a batch job, a CLI) (hadolint's off-by-default DL3057 reports them).
        It is also advice, with the reason, where an image HEALTHCHECK cannot matter: the
        image is deployed on a platform that ignores it (SageMaker labels or toolkit in the
        Dockerfile; beside it a `cdk.json`, an ECS task definition, Copilot, SAM,
        Serverless, App Runner, Fly.io or a Cloud Run service), compose runs the image's
        entrypoint in several roles (server, worker, scheduler: one check cannot fit them
        all), it is a generated variant of a published image (a Dockerfile template beside
        it), or it is FROM scratch with no shell or client to run a check. Generic images
        (`CMD ["--help"]`), one-shot jobs (a Kubernetes Job, a migration, a script named for
        a batch task), interactive tools and test, CI, development and docs images are not
        reported.
    """,
    fix="""
        Add a HEALTHCHECK that probes the service, e.g. `HEALTHCHECK --interval=30s
        --timeout=3s CMD ["python", "-c", "import urllib.request;
        urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]`, or a
        `healthcheck:` in the compose service.
    """,
    bad="""
        FROM python:3.11-slim
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
    """,
    also=["hadolint:DL3057", "trivy:DS-0026", "checkov:CKV_DOCKER_2", "dockle:CIS-DI-0006"],
)
def missing_healthcheck(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    stage = dockerfile.shipped_stage
    if stage is None or effective(dockerfile, "HEALTHCHECK") is not None:
        return
    if not _has_process(dockerfile) or has_external_health_checks(project, dockerfile):
        return
    if project.images:  # the image rules' module is imported only with an image
        from dockwise.rules.health_image import image_has_healthcheck

        if image_has_healthcheck(project, dockerfile):
            return  # the built image has one (from its base): check --image
    reason = not_a_service(dockerfile, project)
    if reason is not None and reason.kind == "base":
        return  # a generic image (`CMD ["--help"]`): the images built on it serve
    hit = at(
        dockerfile,
        stage.from_instruction,
        f"shipped stage {stage.label} has no HEALTHCHECK: nothing tells whether the service "
        "actually serves",
    )
    moot = healthcheck_moot(dockerfile, project)
    if moot is not None:
        yield replace(hit, message=f"{hit.message}, but {moot}", severity=Severity.INFO)
        return
    if compose_services_building(project, dockerfile):
        yield hit  # compose runs it and uses the image's HEALTHCHECK
        return
    manifest = kubernetes_nearby(project, dockerfile)
    if _GENERATED_HEADER.search(dockerfile.text[:2000]):
        yield replace(
            hit,
            message=f"{hit.message} (a generated image variant, published for others to run: "
            "the health check is usually theirs to define)",
            severity=Severity.INFO,
        )
    elif manifest is not None:
        yield replace(
            hit,
            message=f"{hit.message}; Kubernetes ignores HEALTHCHECK, and {manifest} next to it "
            "suggests it runs there: liveness/readiness probes are what count",
            severity=Severity.INFO,
        )
    elif (unlinked := unlinked_probes(project, dockerfile)) is not None:
        yield replace(
            hit,
            message=f"{hit.message}: could not tell whether the probes in {unlinked} check it "
            "(dockwise could not link their image to this Dockerfile)",
            severity=Severity.INFO,
        )
    elif not looks_like_server(dockerfile):
        yield replace(
            hit,
            message=f"{hit.message} (could not tell that it serves: no EXPOSE, no known server)",
            severity=Severity.INFO,
        )
    else:
        yield hit


def healthcheck_moot(dockerfile: Dockerfile, project: Project) -> str | None:
    """Why an image HEALTHCHECK cannot matter here, or None: the platform that deploys the
    image ignores it, compose runs the image in several roles (a worker has no HTTP to
    check), compose runs it interactively (a tool), it is a generated variant of a
    published image, or a `FROM scratch` image has nothing to run a check with."""
    from dockwise.model.platform import deployment_platform

    platform = deployment_platform(dockerfile, project)
    if platform is not None:
        where = "" if platform.where == dockerfile.relpath else f" ({platform.where})"
        return f"it is deployed on {platform.what}{where}, which ignores an image HEALTHCHECK"
    roles = _compose_roles(dockerfile, project)
    if len(roles) > 1:
        shown = ", ".join(f"{name} ({command})" for name, command in roles[:3])
        return (
            f"compose runs this image in several roles: {shown}; an image-wide check cannot "
            "fit them all: give each compose service its own `healthcheck:`"
        )
    if _template_beside(dockerfile, project):
        return (
            "it is a generated variant of a published image (a template beside it): the "
            "health check is usually for those who run it to define"
        )
    if _nothing_to_check_with(dockerfile):
        return (
            "the image is FROM scratch with no shell or client to run a check (only the "
            "binary itself could, if it has a health command)"
        )
    return None


def _compose_roles(dockerfile: Dockerfile, project: Project) -> list[tuple[str, str]]:
    """(service, command) of the compose services that run this image's entrypoint with
    different commands (`server`, `worker`, `scheduler`), one per command."""
    if not project.discovery.compose_files:
        return []
    from dockwise.rules._common import service_of

    service = service_of(dockerfile, project)
    if service is None:
        return []
    from dockwise.model.roles import one_off_reason

    seen: dict[str, tuple[str, str]] = {}
    for part in service.compose:
        command = part.service.command
        if command is None or not command.argv or part.service.entrypoint is not None:
            continue  # an entrypoint of its own: the image put to another use, not a role
        if one_off_reason(part) is not None:
            continue  # a migration or a data load runs once: no role to check
        program = next(
            (
                word.rsplit("/", 1)[-1]
                for word in command.argv
                if not word.startswith("-") and word.rsplit("/", 1)[-1] not in _INTERPRETERS
            ),
            "",
        )
        seen.setdefault(program, (part.service.name, " ".join(command.argv)[:40]))
    return list(seen.values())


# what starts a program without being its role (`python manage.py ...`, `sh -c ...`)
_INTERPRETERS = frozenset({"python", "python3", "node", "sh", "bash", "exec", "ruby", "php"})


def _template_beside(dockerfile: Dockerfile, project: Project) -> bool:
    """A Dockerfile template in the same folder (`Dockerfile.template`, `tmpl.Dockerfile`,
    `Dockerfile-alpine.template`): this file is generated from it, for others to run."""
    if not dockerfile.path.is_absolute():
        return False
    try:
        names = sorted(os.listdir(dockerfile.path.parent))
    except OSError:
        return False
    for name in names:
        lowered = name.lower()
        if "dockerfile" not in lowered or lowered == dockerfile.path.name.lower():
            continue
        if lowered.endswith((".template", ".tmpl", ".tpl")) or lowered.startswith("tmpl"):
            return True
    return False


def _nothing_to_check_with(dockerfile: Dockerfile) -> bool:
    """A `FROM scratch` image with no shell: only its own binary could run a check."""
    chain = dockerfile.shipped_chain()
    if not chain or not chain[-1].is_scratch:
        return False
    for stage in chain:
        for instruction in stage.instructions:
            if instruction.cmd in ("COPY", "ADD") and any(
                word.rstrip("/").rsplit("/", 1)[-1] in ("", "sh", "busybox", "bin", "curl", "wget")
                for word in instruction.value[:-1]  # the sources: a whole tree, a shell, a client
            ):
                return False
    return True


def unlinked_probes(project: Project, dockerfile: Dockerfile) -> str | None:
    """A manifest with liveness/readiness probes on a container whose image no Dockerfile
    here is known to build, in the Dockerfile's top folder: it may be this one's."""
    top = dockerfile.relpath.split("/", 1)[0] + "/" if "/" in dockerfile.relpath else ""
    for service in project.services:
        if service.dockerfile is not None:
            continue
        for container in service.runtime_containers:
            if not container.path.startswith(top):
                continue
            if any(p.kind in ("liveness", "readiness") for p in container.container.probes):
                return container.path
    return None


# docker-library and nginx write their image variants from templates and say so on top
_GENERATED_HEADER = lazy_compile(r"(?im)^#.*\bgenerated\b.*\n(?:#.*\n)*#.*\bdo not edit\b")


_SERVERS = frozenset(
    {"gunicorn", "uvicorn", "hypercorn", "daphne", "granian", "uwsgi", "waitress-serve",
     "nginx", "httpd", "apache2", "apachectl", "httpd-foreground", "caddy", "haproxy",
     "traefik", "envoy", "php-fpm", "puma", "rails", "unicorn", "streamlit", "gradio",
     "flask", "fastapi", "redis-server", "postgres", "mongod", "mysqld", "catalina.sh",
     "http-server", "serve", "next", "nuxt"}
)  # fmt: skip


def looks_like_server(dockerfile: Dockerfile) -> bool:
    """The shipped image EXPOSEs a port or starts a well-known server."""
    if any(True for stage in dockerfile.shipped_chain() for _ in stage.all("EXPOSE")):
        return True
    for _, command in process_commands(dockerfile):
        if command.name in _SERVERS or command.args[:1] in (("runserver",), ("run",)):
            return True
        if command.name.startswith("python") and command.args[:2] in (
            ("-m", "gunicorn"),
            ("-m", "uvicorn"),
            ("-m", "http.server"),
            ("-m", "flask"),
        ):
            return True
        if command.args[:1] == ("manage.py",) and "runserver" in command.args:
            return True
    return False


_IMAGE_FOLDERS = frozenset(
    {"docker", "build", "src", "images", "image", "containers", "dockerfiles", "services"}
)


def kubernetes_nearby(project: Project, dockerfile: Dockerfile) -> str | None:
    """A Kubernetes manifest with a long-running workload next to the Dockerfile: in its
    folder's parent tree (`app/Dockerfile` and `k8s/deployment.yaml`, `manifests/`), one
    level higher when that parent only groups images (`docker/chatbot/Dockerfile`)."""
    folder = PurePosixPath(dockerfile.relpath).parent
    scope = folder.parent if str(folder) != "." else folder
    if scope.name.lower() in _IMAGE_FOLDERS:  # `docker/chatbot/Dockerfile`, `build/server/`
        scope = scope.parent
    prefix = "" if str(scope) == "." else f"{scope}/"
    for manifest in project.manifests:
        if not manifest.path.startswith(prefix):
            continue
        if any(not workload.is_batch for workload in manifest.workloads):
            return manifest.path
    return None


@dockerfile_rule(
    "DW203",
    lesson="health",
    severity="warning",
    title="HEALTHCHECK NONE in the shipped image",
    why="""
        `HEALTHCHECK NONE` switches off the check the base image defines, so a hung service
        looks healthy to Docker, compose and Swarm.
    """,
    fix="Replace `HEALTHCHECK NONE` with a check that probes the service.",
    bad="""
        FROM python:3.11-slim
        HEALTHCHECK NONE
        CMD ["gunicorn", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        CMD ["gunicorn", "app:app"]
    """,
)
def healthcheck_none(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    instruction = effective(dockerfile, "HEALTHCHECK")
    if instruction is None or not is_disabled(instruction):
        return
    if has_external_health_checks(project, dockerfile):
        return
    yield at(
        dockerfile, instruction, "HEALTHCHECK NONE disables health checking of the shipped image"
    )


_NO_OP = frozenset(
    {"true", ":", "exit", "echo", "printf", "sleep", "pgrep", "pidof", "ps", "grep", "egrep", "awk"}
)
FAILURE_IGNORED = lazy_compile(r"(?:\|\|\s*(?:true|:|exit\s+0)|;\s*(?:true|:|exit\s+0))\s*$")
_PYTHON_PROBE_HINTS = lazy_compile(
    r"\b(?:urllib|http|socket|requests|httpx|aiohttp|urlopen|connect|open|__import__)\b"
)
_PYTHON_TRIVIAL_IMPORT = lazy_compile(r"\bimport\s+(?:sys|os)\b")


def tests_nothing(command: ShellCommand) -> bool:
    name = command.name
    if name in _NO_OP:
        return True
    if name == "kill":
        return "-0" in command.args
    if name.startswith("python") and command.args[:1] == ("-c",) and len(command.args) >= 2:
        code = _PYTHON_TRIVIAL_IMPORT.sub("", command.args[1])
        return "import" not in code and not _PYTHON_PROBE_HINTS.search(code)
    return False


def _ignores_failure(instruction: Instruction) -> str | None:
    script = check_script(instruction)
    if script and FAILURE_IGNORED.search(script.strip()):
        return "ignores the probe's failure (always exits 0)"
    for command in check_commands(instruction):
        if command.piped:  # `curl ... | grep -q ok`: the pipeline's last command decides
            continue
        if command.name == "curl" and not command.has_flag("-f", "--fail", "--fail-with-body"):
            return "runs curl without --fail, so HTTP errors (500, 503) count as healthy"
    return None


@dockerfile_rule(
    "DW204",
    lesson="health",
    severity="warning",
    title="HEALTHCHECK that tests nothing",
    why="""
        `true`, `exit 0`, `kill -0 1`, `pgrep app`, `ps | grep app` or a check that ignores
        its probe's failure always pass while the process exists: a running process is not a
        healthy service. A deadlocked server or one that lost its database stays "healthy".
    """,
    fix="Probe the service itself: an HTTP endpoint with `curl -f`/`wget -q --spider`/`python urllib`, or the server's own ping command.",
    bad="""
        FROM python:3.11-slim
        HEALTHCHECK CMD pgrep gunicorn
        CMD ["gunicorn", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        CMD ["gunicorn", "app:app"]
    """,
)
def trivial_healthcheck(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    instruction = effective(dockerfile, "HEALTHCHECK")
    if instruction is None or is_disabled(instruction):
        return
    commands = check_commands(instruction)
    if commands and all(tests_nothing(c) for c in commands):
        shown = " ".join(commands[0].argv)
        yield at(
            dockerfile,
            instruction,
            f"HEALTHCHECK `{shown}` tests nothing: a running process is not a healthy service",
        )
        return
    reason = _ignores_failure(instruction)
    if reason:
        yield at(dockerfile, instruction, f"HEALTHCHECK {reason}: a failing service stays healthy")


# --- options -------------------------------------------------------------------------------

_DURATION_PART = lazy_compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
DURATION_FLAGS = ("interval", "timeout", "start-period", "start-interval")
KNOWN_FLAGS = frozenset({*DURATION_FLAGS, "retries"})
DEFAULT_SECONDS = {"interval": 30.0, "timeout": 30.0, "start-period": 0.0, "start-interval": 5.0}


def parse_duration(text: str) -> float | None:
    """Seconds of a Go duration (`1m30s`, `500ms`, `0`); None when Go would reject it."""
    value = text.strip()
    sign = -1.0 if value.startswith("-") else 1.0
    value = value.lstrip("+-")
    if value == "0":
        return 0.0
    if not value:
        return None
    total, position = 0.0, 0
    while position < len(value):  # anchored: finditer rescans digit runs (quadratic)
        match = _DURATION_PART.match(value, position)
        if match is None:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    return sign * total


def _format_seconds(seconds: float) -> str:
    return f"{seconds:g}s"


def option_problems(instruction: Instruction) -> list[str]:
    """Why BuildKit rejects a HEALTHCHECK's type or options."""
    problems: list[str] = []
    kind = check_kind(instruction)
    if kind not in ("CMD", "NONE"):
        problems.append(
            f"unknown HEALTHCHECK type {instruction.value[0] if instruction.value else '(none)'} (use CMD or NONE)"
        )
    elif kind == "CMD" and len(instruction.value) < 2:
        problems.append("HEALTHCHECK CMD without a command")
    elif kind == "NONE" and (len(instruction.value) > 1 or instruction.flags):
        problems.append("HEALTHCHECK NONE takes no arguments")
    for flag in instruction.flags:
        name, _, value = flag.removeprefix("--").partition("=")
        if name not in KNOWN_FLAGS:
            problems.append(f"unknown HEALTHCHECK flag --{name}")
        elif name == "retries":
            if not re.fullmatch(r"[+-]?[0-9]+", value.strip()):  # \d takes other digits
                problems.append(f"--retries={value} is not a number")
            elif not is_digits(value.strip().lstrip("+-")):  # more than int64 holds
                problems.append("--retries is out of range")
            elif int(value) < 0:
                problems.append("--retries cannot be negative")
        elif "$" not in value:
            seconds = parse_duration(value)
            if seconds is None:
                problems.append(f"--{name}={value} is not a duration (use 30s, 1m30s, 500ms)")
            elif seconds != 0 and seconds < 0.001:
                problems.append(f"--{name}={value} is below the 1ms minimum")
    return problems


def healthcheck_options(instruction: Instruction) -> dict[str, float]:
    """The explicit, valid duration options (seconds) and retries of a HEALTHCHECK."""
    options: dict[str, float] = {}
    for name in DURATION_FLAGS:
        value = instruction.flag(name)
        if value is not None and "$" not in value:
            seconds = parse_duration(value)
            if seconds is not None and seconds >= 0:
                options[name] = seconds
    retries = instruction.flag("retries")
    if retries is not None and is_digits(retries.strip()):
        options["retries"] = float(retries)
    return options


@dockerfile_rule(
    "DW205",
    lesson="health",
    severity="warning",
    title="HEALTHCHECK timing that cannot work as meant",
    why="""
        A timeout as long as the interval lets a hung probe run into the next one; an
        interval under 2s spends the service's CPU on probes; `--retries=0` does not mean
        "no retries" but falls back to the default of 3.
    """,
    fix="Keep --timeout well below --interval (e.g. `--interval=30s --timeout=3s`), interval at least a few seconds, retries 1 or more.",
    bad="""
        FROM python:3.11-slim
        HEALTHCHECK --interval=10s --timeout=10s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        CMD ["gunicorn", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        CMD ["gunicorn", "app:app"]
    """,
)
def healthcheck_timing(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    instruction = effective(dockerfile, "HEALTHCHECK")
    if instruction is None or is_disabled(instruction) or option_problems(instruction):
        return
    options = healthcheck_options(instruction)
    interval = options.get("interval") or DEFAULT_SECONDS["interval"]
    timeout = options.get("timeout") or DEFAULT_SECONDS["timeout"]
    if "timeout" in options and timeout >= interval:
        yield at(
            dockerfile,
            instruction,
            f"HEALTHCHECK timeout ({_format_seconds(timeout)}) is not shorter than its interval "
            f"({_format_seconds(interval)}): a hung probe runs into the next one",
        )
    if 0 < options.get("interval", 30.0) < 2:
        yield at(
            dockerfile,
            instruction,
            f"HEALTHCHECK every {_format_seconds(interval)}: probes this frequent load the service",
        )
    if options.get("retries") == 0:
        yield at(
            dockerfile,
            instruction,
            "HEALTHCHECK --retries=0 means the default (3), not zero retries",
        )


@dockerfile_rule(
    "DW206",
    lesson="health",
    severity="error",
    title="More than one HEALTHCHECK in a stage",
    why="Only the last HEALTHCHECK of a stage counts; the others are silently dropped, so the image is not checked the way the file reads.",
    fix="Keep one HEALTHCHECK per stage.",
    bad="""
        FROM python:3.11-slim
        HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2)"]
        CMD ["gunicorn", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        CMD ["gunicorn", "app:app"]
    """,
    also=["hadolint:DL3012", "trivy:DS-0023"],
)
def multiple_healthchecks(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for stage in dockerfile.stages:
        previous: Instruction | None = None
        for instruction in stage.all("HEALTHCHECK"):
            if previous is not None:
                yield at(
                    dockerfile,
                    instruction,
                    f"second HEALTHCHECK in stage {stage.label}: the one at line "
                    f"{previous.start_line} is ignored",
                )
            previous = instruction


def exposed_ports(dockerfile: Dockerfile) -> set[int] | None:
    """Ports the shipped chain EXPOSEs (None when a variable leaves one unknown)."""
    ports: set[int] = set()
    for stage in dockerfile.shipped_chain():
        for instruction in stage.all("EXPOSE"):
            for raw in instruction.value:
                value = instruction.expanded(raw).split("/", 1)[0]
                low, _, high = value.partition("-")
                if not is_digits(low) or (high and not is_digits(high)):
                    return None
                ports.update(
                    range(int(low), int(high or low) + 1)
                    if int(high or low) - int(low) < 1000
                    else ()
                )
    return ports


@dockerfile_rule(
    "DW207",
    lesson="health",
    severity="warning",
    title="HEALTHCHECK probes a port the image does not expose",
    why="""
        A check that probes a port the service does not listen on fails forever (or probes
        another process): the container is reported unhealthy while the service is fine.
    """,
    fix="Probe the port the service listens on (the one EXPOSEd), or fix the EXPOSE.",
    bad="""
        FROM python:3.11-slim
        EXPOSE 8000
        HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"]
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        EXPOSE 8000
        HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
    """,
)
def probe_port_not_exposed(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    instruction = effective(dockerfile, "HEALTHCHECK")
    if instruction is None or is_disabled(instruction):
        return
    target = probe_target(instruction)
    if target is None or target[0].lower() not in LOCAL_HOSTS:
        return
    ports = exposed_ports(dockerfile)
    if not ports or target[1] in ports:
        return
    listed = ", ".join(str(p) for p in sorted(ports)[:5])
    yield at(
        dockerfile,
        instruction,
        f"HEALTHCHECK probes port {target[1]}, but the image EXPOSEs {listed}",
    )


@dockerfile_rule(
    "DW208",
    lesson="health",
    severity="error",
    title="HEALTHCHECK with an invalid option",
    why="""
        BuildKit rejects a HEALTHCHECK whose durations are not Go durations (`30s`, `1m30s`,
        `500ms`), whose retries are not a number, or whose type is not CMD or NONE: the build
        fails. hadolint reports these as a parse error of the whole file.
    """,
    fix="Write durations with a unit (`--interval=30s`), retries as a whole number, and `HEALTHCHECK CMD ...`.",
    bad="""
        FROM python:3.11-slim
        HEALTHCHECK --interval=30 CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        CMD ["gunicorn", "app:app"]
    """,
    good="""
        FROM python:3.11-slim
        HEALTHCHECK --interval=30s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
        CMD ["gunicorn", "app:app"]
    """,
)
def invalid_healthcheck(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in dockerfile.iter_instructions():
        if instruction.cmd != "HEALTHCHECK":
            continue
        for problem in option_problems(instruction):
            yield at(dockerfile, instruction, f"{problem}: the build fails")
