"""Health in the built image (DW241-DW244): the Healthcheck the image config carries, and
whether the final filesystem can run it. With `check --image`, the Dockerfile's HEALTHCHECK
rules (DW201, DW202) give way to these where the image knows better."""

from __future__ import annotations

from collections.abc import Iterator

from msgspec.structs import replace

from dockwise.findings import Hit, Related, Severity
from dockwise.imagescan.facts import ImageFacts
from dockwise.model.service import Service
from dockwise.project import Project
from dockwise.rules import _image_config as ic
from dockwise.rules._image_examples import SLIM_BASE, empty, image_example, layer
from dockwise.rules._scopes import at_image, image_rule
from dockwise.sources.dockerfile import Dockerfile, Instruction

_PYTHON_CHECK = [
    "CMD",
    "python",
    "-c",
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)",
]
_SERVER_WORDS = frozenset(
    {"gunicorn", "uvicorn", "hypercorn", "daphne", "granian", "uwsgi", "waitress-serve",
     "nginx", "httpd", "apache2", "httpd-foreground", "caddy", "haproxy", "traefik", "envoy",
     "php-fpm", "puma", "unicorn", "streamlit", "http.server", "runserver", "redis-server",
     "postgres", "mongod", "mysqld", "catalina.sh", "http-server"}
)  # fmt: skip
_BASE = SLIM_BASE
_APP = layer("COPY app.py /app/ # buildkit", files={"/app/app.py": "print('hi')\n"})


def _healthcheck_line(service: Service, project: Project) -> Instruction | None:
    """The Dockerfile's HEALTHCHECK behind the image's, when the Dockerfile is known."""
    from dockwise.rules._commands import effective

    if service.dockerfile is None:
        return None
    return effective(service.dockerfile, "HEALTHCHECK")


def _related(service: Service, project: Project) -> tuple[Related, ...]:
    instruction = _healthcheck_line(service, project)
    if instruction is None or service.dockerfile is None:
        return ()
    return (Related(service.dockerfile.relpath, instruction.start_line, "the HEALTHCHECK"),)


def _serves(facts: ImageFacts) -> bool:
    entrypoint, cmd = ic.command(facts)
    words = {w.rsplit("/", 1)[-1] for w in (*entrypoint, *cmd) for w in w.split()}
    return bool(ic.exposed_ports(facts)) or bool(words & _SERVER_WORDS)


@image_rule(
    "DW241",
    lesson="health",
    severity="warning",
    title="The image has no Healthcheck",
    why="""
        The image config carries no health check (none in the Dockerfile, none inherited
        from the base): Docker, compose and Swarm only know whether the process runs, not
        whether it serves. It is advice (info) when nothing in the image says it serves (no
        exposed port, no well-known server as its command). Base images (no command, or a
        bare interpreter or shell), images checked by a compose healthcheck or Kubernetes
        probes of the project, and images whose check is explicitly disabled (`HEALTHCHECK
        NONE`) are not reported; with `check --image` the Dockerfile's rule (DW202) speaks
        for the image built from it.
    """,
    fix="""
        Add a HEALTHCHECK that probes the service with what the image contains, e.g.
        `HEALTHCHECK CMD ["python", "-c", "import urllib.request;
        urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]`.
    """,
    bad=image_example(
        {
            "Cmd": ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"],
            "ExposedPorts": {"8000/tcp": {}},
        },
        [_BASE, _APP],
    ),
    good=image_example(
        {
            "Cmd": ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"],
            "ExposedPorts": {"8000/tcp": {}},
            "Healthcheck": {"Test": _PYTHON_CHECK},
        },
        [_BASE, _APP],
    ),
    also=["dockle:CIS-DI-0006"],
)
def image_without_healthcheck(
    facts: ImageFacts, service: Service, project: Project
) -> Iterator[Hit]:
    if service.dockerfile is not None or ic.healthcheck(facts) is not None:
        return
    if ic.is_base_image(facts) or service.health_checks_elsewhere():
        return
    message = "the image has no Healthcheck: nothing tells whether the service actually serves"
    if _serves(facts):
        yield at_image(service, message)
    else:
        hit = at_image(
            service, f"{message} (could not tell that it serves: no exposed port, no known server)"
        )
        yield replace(hit, severity=Severity.INFO)


@image_rule(
    "DW242",
    lesson="health",
    severity="error",
    title="The image's Healthcheck runs a program the image does not contain",
    why="""
        The health check names a program that is not in the image's final filesystem
        (looked up on the image's own PATH, symbolic links followed): it fails every time,
        the container never becomes healthy, `depends_on: service_healthy` waits forever
        and Swarm restarts it in a loop. The classic case: `curl` on a python:*-slim image.
        Unlike the Dockerfile rule (DW201), which can only go by what dockwise knows of the
        base image, this one reads the image, so it is certain.
    """,
    fix="""
        Probe with what the image has, e.g. `HEALTHCHECK CMD ["python", "-c", "import
        urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]`,
        or install the tool in the final stage.
    """,
    bad=image_example(
        {
            "Cmd": ["gunicorn", "app:app"],
            "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost:8000/ || exit 1"]},
        },
        [_BASE, _APP, empty("HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1")],
    ),
    good=image_example(
        {"Cmd": ["gunicorn", "app:app"], "Healthcheck": {"Test": _PYTHON_CHECK}},
        [_BASE, _APP],
    ),
    also=["dockle:CIS-DI-0006"],
)
def healthcheck_program_missing(
    facts: ImageFacts, service: Service, project: Project
) -> Iterator[Hit]:
    check = ic.healthcheck(facts)
    if check is None or check.disabled or _healthcheck_line(service, project) is not None:
        return  # the Dockerfile's HEALTHCHECK: DW201 reports it, sure of the image
    if check.kind == "CMD-SHELL" and ic.shell_kind(facts) == "none":
        return  # DW243: no shell at all
    for name in ic.programs(check):
        if ic.missing_program(facts, name):
            fix = None
            if facts.which("python3") or facts.which("python"):
                port = ic.probe_port(check) or 8000
                fix = (
                    'use HEALTHCHECK CMD ["python", "-c", "import urllib.request; '
                    f"urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2)\"] "
                    "or install the tool in the final stage"
                )
            yield at_image(
                service,
                f"the Healthcheck runs {name}, which the image does not contain: the "
                "container will never be healthy",
                fix=fix,
                related=_related(service, project),
            )
            return


@image_rule(
    "DW243",
    lesson="health",
    severity="error",
    title="Shell-form Healthcheck in an image without /bin/sh",
    why="""
        A shell-form check (`HEALTHCHECK CMD curl ...`, stored as `CMD-SHELL`) is run by
        `/bin/sh -c`. Distroless, scratch and other shell-less images have no /bin/sh, so the
        check cannot even start and the container is never healthy.
    """,
    fix="""
        Use the exec form with a program the image has, e.g. `HEALTHCHECK CMD
        ["/app/healthcheck"]` or `["python", "-c", "..."]`.
    """,
    bad=image_example(
        {
            "Entrypoint": ["/app/server"],
            "Healthcheck": {"Test": ["CMD-SHELL", "/app/server -check"]},
        },
        [
            layer(
                "COPY server /app/server # buildkit",
                files={"/app/server": {"size": 4096, "mode": 0o755}},
            )
        ],
    ),
    good=image_example(
        {
            "Entrypoint": ["/app/server"],
            "Healthcheck": {"Test": ["CMD", "/app/server", "-check"]},
        },
        [
            layer(
                "COPY server /app/server # buildkit",
                files={"/app/server": {"size": 4096, "mode": 0o755}},
            )
        ],
    ),
)
def shell_check_without_shell(
    facts: ImageFacts, service: Service, project: Project
) -> Iterator[Hit]:
    check = ic.healthcheck(facts)
    if check is None or check.kind != "CMD-SHELL":
        return
    if _healthcheck_line(service, project) is not None:
        return  # the Dockerfile's HEALTHCHECK: DW201 reports a missing shell there
    if ic.shell_kind(facts) == "none":
        yield at_image(
            service,
            "the Healthcheck is in shell form (CMD-SHELL), but the image has no /bin/sh: "
            "the check cannot start and the container will never be healthy",
            related=_related(service, project),
        )


@image_rule(
    "DW244",
    lesson="health",
    severity="warning",
    title="The image's Healthcheck probes a port the image does not expose",
    why="""
        The check probes a local port that is not among the ports the image exposes: the
        server listens on one port and the check knocks on another, or the EXPOSE is stale.
        Either way one of them is wrong. Only reported when the image exposes ports at all
        and the check names a local port (`http://localhost:8000/...`); with `check
        --image`, the Dockerfile's rule (DW207) speaks when the Dockerfile has the
        HEALTHCHECK.
    """,
    fix="Make the check probe the port the server listens on, and EXPOSE that port.",
    bad=image_example(
        {
            "Cmd": ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"],
            "ExposedPorts": {"8000/tcp": {}},
            "Healthcheck": {
                "Test": [
                    "CMD",
                    "python",
                    "-c",
                    "import urllib.request; urllib.request.urlopen('http://localhost:5000/health')",
                ]
            },
        },
        [_BASE, _APP],
    ),
    good=image_example(
        {
            "Cmd": ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"],
            "ExposedPorts": {"8000/tcp": {}},
            "Healthcheck": {"Test": _PYTHON_CHECK},
        },
        [_BASE, _APP],
    ),
)
def healthcheck_port_not_exposed(
    facts: ImageFacts, service: Service, project: Project
) -> Iterator[Hit]:
    check = ic.healthcheck(facts)
    if check is None or check.disabled or _healthcheck_line(service, project) is not None:
        return
    port = ic.probe_port(check)
    exposed = ic.exposed_ports(facts)
    if port is None or not exposed or port in exposed:
        return
    shown = ", ".join(str(p) for p in sorted(exposed))
    yield at_image(
        service,
        f"the Healthcheck probes port {port}, but the image exposes {shown}",
    )


# --- for the Dockerfile rules, once the built image is known (check --image) ---------------


def image_has_healthcheck(project: Project, dockerfile: Dockerfile) -> bool:
    """The image built from this Dockerfile carries a Healthcheck (its base's, say)."""
    from dockwise.imagescan.join import image_of

    facts = image_of(project, dockerfile)
    return facts is not None and ic.healthcheck(facts) is not None


def missing_in_image(
    project: Project, dockerfile: Dockerfile, instruction: Instruction
) -> str | None:
    """What a Dockerfile HEALTHCHECK runs that the built image lacks ("" when the image has
    it all; None when no image was read): a certain answer where the Dockerfile rule could
    only go by what dockwise knows of the base."""
    from dockwise.imagescan.join import image_of
    from dockwise.rules.health import check_commands, check_shell

    facts = image_of(project, dockerfile)
    if facts is None:
        return None
    shell = check_shell(instruction)
    if shell is not None and ic.missing_program(facts, shell):
        return f"a shell ({shell})"
    for command in check_commands(instruction):
        name = command.argv[0] if command.argv else ""
        known = name and name not in ic.SHELL_BUILTINS and "$" not in name
        if known and ic.missing_program(facts, name):
            return name
    return ""


def image_related(project: Project, dockerfile: Dockerfile, message: str) -> tuple[Related, ...]:
    """The built image as a related place of a Dockerfile finding (check --image)."""
    from dockwise.imagescan.join import service_of

    service = service_of(project, dockerfile)
    if service is None or service.image is None:
        return ()
    return (Related(service.image.path, None, message),)
