"""Logging in compose files: the log driver and its rotation (DW305, DW306)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dockwise.findings import Hit, Severity
from dockwise.model.roles import compose_role, one_off_reason
from dockwise.rules._scopes import at_line, compose_rule
from dockwise.rules.limits import is_partial

if TYPE_CHECKING:
    from dockwise.model.service import ComposePart, Service
    from dockwise.project import Project

# drivers that keep logs on the host's disk without rotating them unless told to
_UNROTATED = frozenset({"json-file"})


def _yaml(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@compose_rule(
    "DW305",
    lesson="logging",
    severity="warning",
    title="Compose service throws its logs away (logging driver none)",
    why="""
        With `logging: {driver: none}` Docker discards everything the container writes to
        stdout and stderr: `docker compose logs` shows nothing, no collector receives
        anything, and the traceback of the crash that restarted the service is gone. Quiet
        services are better made quiet in their own log level, where the errors still get
        through.
    """,
    fix="""
        Remove `driver: none`; keep the default json-file driver with rotation
        (`options: {max-size: "10m", max-file: "3"}`) or use the `local` driver, and lower
        the service's own log level if it is too chatty.
    """,
    bad={
        "compose.yaml": _yaml("""
            services:
              web:
                image: acme/web:1.4.2
                logging:
                  driver: none
        """),
    },
    good={
        "compose.yaml": _yaml("""
            services:
              web:
                image: acme/web:1.4.2
                logging:
                  driver: local
        """),
    },
)
def log_driver_none(part: ComposePart, service: Service, project: Project) -> Iterator[Hit]:
    logging = part.service.logging
    if logging is None or logging.driver is None or is_partial(part):
        return
    if logging.driver.value.strip().lower() == "none":
        yield at_line(
            logging.driver.origin.path,
            logging.driver.origin.line,
            f"service {part.service.name} uses logging driver none: its output is thrown away",
        )


@compose_rule(
    "DW306",
    lesson="logging",
    severity="warning",
    title="Compose service logs without rotation (json-file without max-size)",
    why="""
        Docker's default `json-file` driver keeps every line a container writes in a file
        on the host and never rotates it unless `max-size` is set: a chatty service fills
        the host's disk over weeks, and then every container on it fails. The `local`
        driver rotates by default, and so do `json-file` logs with `max-size`. Only
        long-running services whose image this project builds are reported; the Docker
        daemon may set rotation for every container (`log-opts` in daemon.json), which a
        compose file cannot show. Development and test compose files are reported at info.
    """,
    fix="""
        Give the service `logging: {driver: json-file, options: {max-size: "10m",
        max-file: "3"}}` (an `x-logging` anchor shares it between services), or
        `driver: local`.
    """,
    bad={
        "Dockerfile": 'FROM python:3.11-slim\nCMD ["python", "-m", "shop"]\n',
        "compose.yaml": _yaml("""
            services:
              web:
                build: .
                logging:
                  driver: json-file
        """),
    },
    good={
        "Dockerfile": 'FROM python:3.11-slim\nCMD ["python", "-m", "shop"]\n',
        "compose.yaml": _yaml("""
            x-logging: &logging
              driver: json-file
              options:
                max-size: "10m"
                max-file: "3"
            services:
              web:
                build: .
                logging: *logging
              worker:
                build: .
                command: ["python", "-m", "shop.worker"]
                logging:
                  driver: local
              db:
                image: postgres:16.3
        """),
    },
)
def log_without_rotation(part: ComposePart, service: Service, project: Project) -> Iterator[Hit]:
    compose = part.service
    if compose.build is None and service.dockerfile is None:
        return  # an image built elsewhere: its owners decide
    if is_partial(part) or one_off_reason(part) is not None:
        return
    logging = compose.logging
    driver = logging.driver.value.strip().lower() if logging and logging.driver else "json-file"
    if driver not in _UNROTATED:
        return
    if logging is not None and any(
        name == "max-size" and value.value.strip() for name, value in logging.options.items()
    ):
        return
    role = compose_role(part, project).note()
    if logging is not None and logging.driver is not None:
        where = logging.driver.origin
        said = f"service {compose.name} logs with json-file and no max-size"
    elif logging is not None:
        where = logging.origin
        said = f"service {compose.name} logs with the default json-file driver and no max-size"
    else:
        where = compose.origin
        said = f"service {compose.name} logs with the default json-file driver, never rotated"
    message = f"{said}: the log file on the host grows until the disk is full"
    if role is not None:
        message += f" ({role})"
    yield Hit(
        path=where.path,
        line=where.line,
        message=message,
        severity=Severity.INFO if role is not None else None,
    )
