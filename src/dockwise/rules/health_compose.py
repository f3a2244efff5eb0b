"""Health of compose services (DW211-DW215): a healthcheck present, waited for with
`condition: service_healthy`, runnable in the image and testing something."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from msgspec.structs import replace

from dockwise.findings import Hit, Related, Severity
from dockwise.rules._health_probes import compose_commands, compose_server, compose_shell
from dockwise.rules._scopes import at_line, compose_rule

if TYPE_CHECKING:
    from dockwise.model.service import ComposePart, Service
    from dockwise.project import Project
    from dockwise.sources.compose import ComposeService

_PY_TEST = (
    '["CMD", "python", "-c", "import urllib.request; '
    "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)\"]"
)
_APP_DOCKERFILE = """\
    FROM python:3.12-slim
    WORKDIR /app
    COPY . .
    EXPOSE 8000
    CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
"""


def _image_healthcheck(service: Service) -> bool | None:
    """Whether the service's image defines a HEALTHCHECK: True/False for a Dockerfile here
    and for official images (which never do), None when dockwise cannot know."""
    from dockwise.rules._commands import effective
    from dockwise.rules.health import is_disabled

    if service.dockerfile is not None:
        instruction = effective(service.dockerfile, "HEALTHCHECK")
        return instruction is not None and not is_disabled(instruction)
    return None


def _official_image(compose: ComposeService) -> bool:
    from dockwise.sources.imageref import parse_image_ref

    image = compose.image.value if compose.image is not None else None
    if not image or "$" in image:
        return False
    try:
        return parse_image_ref(image).official_name is not None
    except ValueError:
        return False


def has_health_check(part: ComposePart, service: Service) -> bool | None:
    """Whether compose will run a health check for this service (its own test, or the
    image's HEALTHCHECK); None when that depends on an image dockwise cannot see."""
    check = part.service.healthcheck
    if check is not None:
        if check.disabled:
            return False
        if check.test:
            return True
    image = _image_healthcheck(service)
    if image is not None:
        return image
    if part.service.build is None and _official_image(part.service):
        return False  # official images ship no HEALTHCHECK (docker-library's policy)
    return None


def _service_of(
    part: ComposePart, name: str, project: Project
) -> tuple[ComposePart, Service] | None:
    for service in project.services:
        for other in service.compose:
            if other.file is part.file and other.service.name == name:
                return other, service
    return None


def _dependents(part: ComposePart) -> list[str]:
    return [
        other.name
        for other in part.file.services.values()
        if part.service.name in other.depends_on and other.name != part.service.name
    ]


def _serves(part: ComposePart, service: Service, project: Project) -> bool:
    if part.service.ports or part.service.expose:
        return True
    if compose_server(part, service, project) is not None:
        return True
    compose = part.service
    if compose.entrypoint is not None or (
        compose.command is not None
        and compose.command.argv[:1] != ()
        and not compose.command.argv[0].startswith("-")
    ):
        return False  # its own command: the image's EXPOSE is for another
    dockerfile = service.dockerfile
    return dockerfile is not None and any(
        True for stage in dockerfile.shipped_chain() for _ in stage.all("EXPOSE")
    )


@compose_rule(
    "DW211",
    lesson="health",
    severity="warning",
    title="Compose service without a healthcheck",
    why="""
        Without a healthcheck (in the service or as the image's HEALTHCHECK) compose only
        knows that the process runs, not that it serves: `docker compose ps` shows a hung
        service as up, `depends_on` cannot wait for it to be ready and `docker compose up
        --wait` returns too early. A service built here (or running an image a Dockerfile
        here builds) that serves is reported. Development and test setups, and services
        that show no sign of serving (no ports, no EXPOSE, no known server: a worker), are
        advice (info). A public image (postgres, redis) is only mentioned, at info, when
        another service depends on it; one-off services (migrations, tests) never.
    """,
    fix=f"""
        Add a `healthcheck:` that probes the service, e.g. `test: {_PY_TEST}`,
        `interval: 30s`, `timeout: 3s`, `start_period: 10s`, `retries: 3` (or a HEALTHCHECK
        in the Dockerfile); for postgres use `pg_isready`, for redis `redis-cli ping`.
    """,
    bad={
        "Dockerfile": _APP_DOCKERFILE,
        "compose.yaml": """\
            services:
              web:
                build: .
                ports: ["8000:8000"]
        """,
    },
    good={
        "Dockerfile": _APP_DOCKERFILE,
        "compose.yaml": f"""\
            services:
              web:
                build: .
                ports: ["8000:8000"]
                healthcheck:
                  test: {_PY_TEST}
                  interval: 30s
                  timeout: 3s
                  retries: 3
        """,
    },
    also=["trivy:DS-0026", "checkov:CKV_DOCKER_2"],
)
def compose_without_healthcheck(
    part: ComposePart, service: Service, project: Project
) -> Iterator[Hit]:
    from dockwise.model.roles import compose_role, one_off_reason
    from dockwise.rules.limits import is_partial

    if is_partial(part) or one_off_reason(part) is not None:
        return
    present = has_health_check(part, service)
    if present is not False:
        return
    name = part.service.name
    check = part.service.healthcheck
    disabled = check is not None and check.disabled
    line = (check.origin.line if check is not None else None) or part.line
    what = "disables its healthcheck" if disabled else "has no healthcheck"
    if service.dockerfile is None:
        dependents = _dependents(part)
        if not dependents or disabled:
            return
        image = part.service.image.value if part.service.image else "its image"
        yield replace(
            at_line(
                part.path,
                line,
                f"service {name} ({image}) {what}, and {', '.join(dependents)} "
                f"depend{'s' if len(dependents) == 1 else ''} on it: they cannot wait until "
                "it is ready",
            ),
            severity=Severity.INFO,
        )
        return
    hit = at_line(
        part.path,
        line,
        f"service {name} {what} and its image ({service.dockerfile.relpath}) has no HEALTHCHECK: "
        "compose cannot tell whether it serves",
    )
    role = compose_role(part, project).note()
    if role is not None:
        yield replace(hit, message=f"{hit.message} ({role})", severity=Severity.INFO)
    elif not _serves(part, service, project):
        yield replace(
            hit,
            message=f"{hit.message} (could not tell that it serves: no ports, no EXPOSE, "
            "no known server)",
            severity=Severity.INFO,
        )
    else:
        yield hit


@compose_rule(
    "DW212",
    lesson="health",
    severity="error",
    title="depends_on waits for service_healthy on a service without a health check",
    why="""
        `condition: service_healthy` makes compose wait for the dependency's health check.
        When the dependency has none (no `healthcheck:` and no HEALTHCHECK in its image, or
        the check disabled), `docker compose up` fails: "container ... has no healthcheck
        configured". Official images (postgres, redis, mysql...) define no HEALTHCHECK.
        When the dependency runs an image dockwise cannot see, it is advice (info).
    """,
    fix="Give the dependency a `healthcheck:` (e.g. `pg_isready -U postgres` for postgres), or wait with `condition: service_started`.",
    bad={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                depends_on:
                  db:
                    condition: service_healthy
              db:
                image: postgres:16
        """
    },
    good={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                depends_on:
                  db:
                    condition: service_healthy
              db:
                image: postgres:16
                healthcheck:
                  test: ["CMD", "pg_isready", "-U", "postgres"]
                  interval: 10s
                  timeout: 3s
                  retries: 5
        """
    },
)
def healthy_dependency_without_check(
    part: ComposePart, service: Service, project: Project
) -> Iterator[Hit]:
    for name, dependency in part.service.depends_on.items():
        if dependency.condition != "service_healthy":
            continue
        found = _service_of(part, name, project)
        if found is None:
            continue
        other, other_service = found
        present = has_health_check(other, other_service)
        if present is True:
            continue
        related = (Related(other.path, other.line, f"service {name}"),)
        if present is None:
            image = other.service.image.value if other.service.image else "its image"
            yield replace(
                at_line(
                    dependency.origin.path,
                    dependency.origin.line,
                    f"{part.service.name} waits for {name} to be healthy, but {name} has no "
                    f"healthcheck here: could not tell whether {image} defines a HEALTHCHECK",
                    related=related,
                ),
                severity=Severity.INFO,
            )
            continue
        yield at_line(
            dependency.origin.path,
            dependency.origin.line,
            f"{part.service.name} waits for {name} to be healthy, but {name} has no health "
            "check: `docker compose up` fails",
            related=related,
        )


@compose_rule(
    "DW213",
    lesson="health",
    severity="warning",
    title="depends_on a service with a healthcheck, without waiting for it to be healthy",
    why="""
        `depends_on: [db]` (or `condition: service_started`) only waits until the
        dependency's container has started, not until it accepts connections: the app
        starts, fails to reach a database that is still initialising and crashes or serves
        errors. When the dependency has a health check, `condition: service_healthy` waits
        for it. A development setup is advice (info); a `condition: service_started`
        written out is taken as meant.
    """,
    fix="Write the dependency long-form: `depends_on: {db: {condition: service_healthy}}`.",
    bad={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                depends_on: [db]
              db:
                image: postgres:16
                healthcheck:
                  test: ["CMD", "pg_isready", "-U", "postgres"]
        """
    },
    good={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                depends_on:
                  db:
                    condition: service_healthy
              db:
                image: postgres:16
                healthcheck:
                  test: ["CMD", "pg_isready", "-U", "postgres"]
        """
    },
)
def dependency_not_awaited(part: ComposePart, service: Service, project: Project) -> Iterator[Hit]:
    from dockwise.rules.limits import is_partial

    if is_partial(part):
        return
    from dockwise.model.roles import compose_role

    written = part.service.raw.get("depends_on")
    for name, dependency in part.service.depends_on.items():
        if dependency.condition != "service_started":
            continue
        entry = written.get(name) if isinstance(written, dict) else None
        if isinstance(entry, dict) and "condition" in entry:
            continue  # `condition: service_started` written out: a deliberate choice
        found = _service_of(part, name, project)
        if found is None:
            continue
        other, other_service = found
        if has_health_check(other, other_service) is not True:
            continue
        check = other.service.healthcheck
        where = (
            Related(check.origin.path, check.origin.line, f"the healthcheck of {name}")
            if check is not None and check.test
            else Related(other.path, other.line, f"service {name} (HEALTHCHECK in its image)")
        )
        hit = at_line(
            dependency.origin.path,
            dependency.origin.line,
            f"{part.service.name} depends on {name} but only waits for it to start, not for its "
            "healthcheck to pass",
            fix=f"Use `depends_on: {{{name}: {{condition: service_healthy}}}}`.",
            related=(where,),
        )
        role = compose_role(part, project).note()
        if role is not None:
            hit = replace(hit, message=f"{hit.message} ({role})", severity=Severity.INFO)
        yield hit


@compose_rule(
    "DW214",
    lesson="health",
    severity="warning",
    title="Compose healthcheck that tests nothing",
    why="""
        A test of `true`, `exit 0`, `echo ok`, `pgrep app`, or one that ignores its probe's
        failure (`curl ... || exit 0`, curl without `--fail`) always passes while the
        container runs: services waiting with `condition: service_healthy` start against a
        dependency that does not answer, and a hung service stays "healthy".
    """,
    fix=f"Probe the service itself, e.g. `test: {_PY_TEST}` or the server's own ping (`pg_isready`, `redis-cli ping`).",
    bad={
        "compose.yaml": """\
            services:
              web:
                image: acme/web:1.4.2
                healthcheck:
                  test: ["CMD-SHELL", "exit 0"]
        """
    },
    good={
        "compose.yaml": f"""\
            services:
              web:
                image: acme/web:1.4.2
                healthcheck:
                  test: {_PY_TEST}
        """
    },
)
def compose_healthcheck_tests_nothing(
    part: ComposePart, service: Service, project: Project
) -> Iterator[Hit]:
    from dockwise.rules.health import FAILURE_IGNORED, tests_nothing

    check = part.service.healthcheck
    if check is None or check.disabled or not check.test:
        return
    commands = compose_commands(check)
    origin = check.test_origin or check.origin
    if commands and all(tests_nothing(c) for c in commands):
        yield at_line(
            origin.path,
            origin.line,
            f"healthcheck of {part.service.name} `{commands[0].text}` tests nothing: a running "
            "container is not a healthy service",
        )
        return
    script = " ".join(check.command) if check.kind == "CMD-SHELL" else None
    if script and FAILURE_IGNORED.search(script.strip()):
        yield at_line(
            origin.path,
            origin.line,
            f"healthcheck of {part.service.name} ignores its probe's failure (always exits 0): "
            "a failing service stays healthy",
        )
        return
    for command in commands:
        if command.piped:
            continue
        if command.name == "curl" and not command.has_flag("-f", "--fail", "--fail-with-body"):
            yield at_line(
                origin.path,
                origin.line,
                f"healthcheck of {part.service.name} runs curl without --fail: HTTP errors "
                "(500, 503) count as healthy",
            )
            return


@compose_rule(
    "DW215",
    lesson="health",
    severity="error",
    title="Compose healthcheck runs a program the image does not contain",
    why="""
        A healthcheck whose program is missing fails every time: the container is never
        healthy, services waiting with `condition: service_healthy` never start and `docker
        compose up --wait` fails. python:*-slim has no curl or wget, alpine has busybox wget
        but no curl, distroless has no shell for `CMD-SHELL`. dockwise judges the image a
        Dockerfile here builds (what it installs counts) and documented public images;
        when the build may install programs dockwise cannot list, it says "could not
        verify" at info.
    """,
    fix=f"Probe with what the image has, e.g. `test: {_PY_TEST}`, or install the tool in the image.",
    bad={
        "Dockerfile": _APP_DOCKERFILE,
        "compose.yaml": """\
            services:
              web:
                build: .
                healthcheck:
                  test: ["CMD", "curl", "-f", "http://127.0.0.1:8000/health"]
        """,
    },
    good={
        "Dockerfile": _APP_DOCKERFILE,
        "compose.yaml": f"""\
            services:
              web:
                build: .
                healthcheck:
                  test: {_PY_TEST}
        """,
    },
)
def compose_healthcheck_program_missing(
    part: ComposePart, service: Service, project: Project
) -> Iterator[Hit]:
    from dockwise.baseimages import base_tools
    from dockwise.rules.health import ShippedTools, shipped_tools

    check = part.service.healthcheck
    if check is None or check.disabled or not check.test:
        return
    tools: ShippedTools | None
    if service.dockerfile is not None:
        tools = shipped_tools(service.dockerfile)
        label = service.dockerfile.relpath
    elif part.service.image is not None and part.service.build is None:
        tools = ShippedTools(base_tools(part.service.image.value), frozenset(), False)
        label = part.service.image.value
    else:
        return
    if tools is None:
        return
    missing: str | None = None
    shell = compose_shell(check)
    if shell is not None and tools.has(shell) is False:
        missing = f"a shell ({shell})"
    else:
        for command in compose_commands(check):
            if command.name and tools.has(command.name) is False:
                missing = command.name
                break
    if missing is None:
        return
    origin = check.test_origin or check.origin
    if tools.unseen is not None:
        yield replace(
            at_line(
                origin.path,
                origin.line,
                f"could not verify that the image of {part.service.name} contains {missing}, "
                f"which its healthcheck runs: {tools.base.label} does not, and {tools.unseen} "
                "that may install it",
            ),
            severity=Severity.INFO,
        )
        return
    yield at_line(
        origin.path,
        origin.line,
        f"healthcheck of {part.service.name} runs {missing}, which its image ({label}, from "
        f"{tools.base.label}) does not contain: the container will never be healthy",
    )
