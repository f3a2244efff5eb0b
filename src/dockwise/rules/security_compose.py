"""Security of compose services (DW820-DW822): privileged containers, `user: root` that
undoes a non-root image, a writable root filesystem for the images built here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from msgspec.structs import replace

from dockwise.findings import Hit, Related, Severity
from dockwise.model.roles import THROWAWAY, compose_role
from dockwise.rules._image_user import image_user
from dockwise.rules._scopes import at_line, compose_rule

if TYPE_CHECKING:
    from dockwise.model.service import ComposePart, Service
    from dockwise.project import Project

_NONROOT_DOCKERFILE = """\
FROM python:3.11-slim
RUN useradd --uid 10001 --no-create-home app
COPY app.py /srv/app.py
USER 10001
CMD ["python", "/srv/app.py"]
"""


def _dev_reason(part: ComposePart, project: Project) -> str | None:
    """Why a compose service is for development, test, CI or a demo, not production."""
    return compose_role(part, project).note(THROWAWAY)


# services that manage the host: their job needs privileges
_HOST_TOOLS = ("docker-bench", "cadvisor", "node-exporter", "dind", "docker:", "sysbox", "falco")


@compose_rule(
    "DW820",
    lesson="security",
    severity="warning",
    title="Privileged compose service",
    why="""
        `privileged: true` gives the container every capability and every device of the
        host and switches off seccomp and AppArmor: root in it is root on the host. An
        application never needs it; add the one capability a tool needs instead. A warning,
        not an error: compose also runs development tools (Docker-in-Docker, host
        monitors) that truly need it; those are told apart by their image and reported as
        advice (info), as are services of development compose files.
    """,
    fix="Remove `privileged: true`; use `cap_add: [NET_ADMIN]` (the one capability needed) "
    "or `devices:` for one device.",
    bad={
        "compose.yaml": """\
services:
  web:
    image: ghcr.io/acme/web:1.4.2
    privileged: true
"""
    },
    good={
        "compose.yaml": """\
services:
  web:
    image: ghcr.io/acme/web:1.4.2
    cap_drop: [ALL]
"""
    },
    also=["docker-bench-security:5.5"],
)
def privileged_service(part: ComposePart, service: Service, project: Project) -> Iterator[Hit]:
    flag = part.service.privileged
    if flag is None or not flag.value:
        return
    hit = at_line(
        flag.origin.path,
        flag.origin.line,
        f"service {part.service.name} is privileged: root in it is root on the host",
    )
    image = part.service.image.value if part.service.image is not None else ""
    tool = next((t for t in _HOST_TOOLS if t in image.lower() or t in part.service.name), None)
    reason = _dev_reason(part, project) or (
        f"{image or part.service.name} manages the host" if tool else None
    )
    if reason is not None:
        yield replace(hit, message=f"{hit.message} ({reason})", severity=Severity.INFO)
    else:
        yield hit


@compose_rule(
    "DW821",
    lesson="security",
    severity="warning",
    title="Compose runs a non-root image as root",
    why="""
        `user: root` (or `"0"`) in a compose file overrides the image's USER: an image built
        to run unprivileged, by this project's Dockerfile or by its publisher (Bitnami,
        distroless `:nonroot`, Chainguard...), runs as root again, and every file the
        service writes to a volume becomes root's. Often added to get past a permission
        error on a bind mount; fix the ownership instead. When the image is built here and
        already runs as root, the compose line only says so (info; DW801 reports the
        Dockerfile). Images that start as root by design (postgres, redis...) pass.
    """,
    fix="Remove `user: root`; fix volume ownership (`chown` in the Dockerfile, or "
    '`user: "10001:10001"` matching the files).',
    bad={
        "Dockerfile": _NONROOT_DOCKERFILE,
        "app.py": "print('hello')\n",
        "compose.yaml": "services:\n  web:\n    build: .\n    user: root\n",
    },
    good={
        "Dockerfile": _NONROOT_DOCKERFILE,
        "app.py": "print('hello')\n",
        "compose.yaml": 'services:\n  web:\n    build: .\n    user: "10001"\n',
    },
)
def compose_root_user(part: ComposePart, service: Service, project: Project) -> Iterator[Hit]:
    user = part.service.user
    if user is None or user.value.partition(":")[0].strip() not in ("root", "0"):
        return
    image = part.service.image.value if part.service.image is not None else None
    known = image_user(service, image, project)
    name = part.service.name
    origin = user.origin
    related: tuple[Related, ...] = ()
    if known.path is not None:
        what = f"USER {known.user}" if known.user else "the image's Dockerfile"
        related = (Related(known.path, known.line, what),)
    if known.kind == "nonroot":
        said = f"USER {known.user} of {known.path}" if known.user else known.why
        hit = at_line(
            origin.path,
            origin.line,
            f"service {name} runs as root, overriding a non-root image ({said})",
            related=related,
        )
        reason = _dev_reason(part, project)
        if reason is not None:
            hit = replace(hit, message=f"{hit.message} ({reason})", severity=Severity.INFO)
        yield hit
    elif known.kind == "root" and known.built_here:
        yield replace(
            at_line(
                origin.path,
                origin.line,
                f"service {name} runs as root; its image, built here, has no non-root USER either",
                related=related,
            ),
            severity=Severity.INFO,
        )


@compose_rule(
    "DW822",
    lesson="security",
    severity="info",
    title="Compose service with a writable root filesystem",
    why="""
        `read_only: true` mounts the container's root filesystem read-only: an attacker
        with code execution cannot replace the app's files or drop tools, and a service that
        writes where it should not fails in testing rather than filling the disk. Advice
        (info), asked only of services whose image this project builds and of compose files
        not named for development: dockwise cannot see every path the app writes, so the
        change needs `tmpfs:` for `/tmp` and a test run.
    """,
    fix="Add `read_only: true` and `tmpfs: [/tmp]` (plus volumes where the app writes data).",
    bad={
        "Dockerfile": _NONROOT_DOCKERFILE,
        "app.py": "print('hello')\n",
        "compose.yaml": "services:\n  web:\n    build: .\n",
    },
    good={
        "Dockerfile": _NONROOT_DOCKERFILE,
        "app.py": "print('hello')\n",
        "compose.yaml": "services:\n  web:\n    build: .\n    read_only: true\n    tmpfs: [/tmp]\n",
    },
    also=["docker-bench-security:5.13"],
)
def writable_compose_root(part: ComposePart, service: Service, project: Project) -> Iterator[Hit]:
    compose = part.service
    if compose.read_only is not None or service.dockerfile is None or compose.build is None:
        return
    if _dev_reason(part, project) is not None:
        return
    yield at_line(
        part.path,
        part.line,
        f"service {compose.name} runs its image with a writable root filesystem "
        "(no read_only: true)",
    )
