"""Security in the built image (DW830): the user its config starts the service as. With
`check --image`, the Dockerfile's rule (DW801) speaks for an image built here, and goes by
what the image says rather than by what dockwise knows of the base."""

from __future__ import annotations

from collections.abc import Iterator

from msgspec.structs import replace

from dockwise.findings import Hit, Related, Severity
from dockwise.imagescan.facts import ImageFacts
from dockwise.model.service import Service
from dockwise.project import Project
from dockwise.rules import _image_config as ic
from dockwise.rules._image_examples import SLIM_BASE, image_example, layer
from dockwise.rules._scopes import at_image, image_rule
from dockwise.sources.dockerfile import Dockerfile

_BASE = SLIM_BASE
_APP = layer("COPY app.py /app/ # buildkit", files={"/app/app.py": "print('hi')\n"})
# tools an entrypoint starts the server with as another user
DROP_TOOLS = ("gosu", "su-exec", "setpriv", "runuser", "s6-setuidgid", "chpst", "setuser")
# servers whose master stays root by design and runs its workers unprivileged
_WORKER_SERVERS = frozenset(
    {"nginx", "httpd", "httpd-foreground", "apache2", "apache2ctl", "apachectl",
     "apache2-foreground", "php-fpm"}
)  # fmt: skip


@image_rule(
    "DW830",
    lesson="security",
    severity="warning",
    title="The image runs as root",
    why="""
        The image config has no User, or User root or 0: the service runs as UID 0. A bug
        in the app or a dependency gives an attacker root in the container, write access to
        everything in the image and a shorter way out through any kernel or runtime flaw.
        Unlike the Dockerfile rule (DW801), which must guess what the base image sets, this
        reads what the image really says. Base images (no command of their own, or a bare
        interpreter) are not reported, nor images whose entrypoint starts the server as
        another user with gosu, su-exec or setpriv (the official postgres, redis, mysql
        images); nginx and httpd keep their master as root by design (info).
    """,
    fix="""
        Create a user and switch to it by UID in the Dockerfile:
        `RUN useradd --uid 10001 --no-create-home app` then `USER 10001`.
    """,
    bad=image_example({"Cmd": ["python", "/app/app.py"]}, [_BASE, _APP]),
    good=image_example({"Cmd": ["python", "/app/app.py"], "User": "10001"}, [_BASE, _APP]),
    also=["dockle:CIS-DI-0001", "trivy:DS-0002"],
)
def image_runs_as_root(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    if service.dockerfile is not None or not ic.runs_as_root(facts):
        return
    if ic.is_base_image(facts):
        return
    entrypoint, cmd = ic.command(facts)
    if entrypoint and any(facts.which(tool) for tool in DROP_TOOLS):
        return  # an entrypoint that may drop privileges (docker-entrypoint.sh with gosu)
    user = ic.user(facts)
    said = f"User {user}" if user else "no User"
    if user and user.partition(":")[0] not in ("root", "0"):
        said += " (UID 0 in its /etc/passwd)"
    message = f"the image config has {said}: the service runs as root"
    words = {word.rsplit("/", 1)[-1] for word in (*entrypoint, *cmd)}
    server = next((name for name in sorted(words) if name in _WORKER_SERVERS), None)
    if server is not None:
        hit = at_image(
            service,
            f"{message}; {server} starts as root and runs its workers as an unprivileged user",
        )
        yield replace(hit, severity=Severity.INFO)
        return
    yield at_image(service, message)


@image_rule(
    "DW831",
    lesson="security",
    severity="error",
    title="The image's User is not in its /etc/passwd",
    why="""
        A User given by name must exist in the image's own /etc/passwd (and a group name
        in /etc/group): otherwise the runtime cannot resolve it and the container does not
        start ("unable to find user app: no matching entries in passwd file"). The usual
        cause is a `USER app` with no `useradd` in the shipped stage (it ran in a builder
        stage, or the base is distroless). A numeric UID needs no entry. Only judged when
        dockwise read the image's tables (not with `--no-secrets`).
    """,
    fix="""
        Create the user in the shipped stage (`RUN useradd --uid 10001 app`), or use a
        numeric UID: `USER 10001`.
    """,
    bad=image_example({"Cmd": ["python", "/app/app.py"], "User": "app"}, [_BASE, _APP]),
    good=image_example({"Cmd": ["python", "/app/app.py"], "User": "nobody"}, [_BASE, _APP]),
)
def user_not_in_passwd(facts: ImageFacts, service: Service, project: Project) -> Iterator[Hit]:
    missing = ic.missing_account(facts)
    if missing is None:
        return
    related: tuple[Related, ...] = ()
    if service.dockerfile is not None:
        from dockwise.rules.security import effective_user

        instruction, _ = effective_user(service.dockerfile)
        if instruction is not None:
            related = (Related(service.dockerfile.relpath, instruction.start_line, "the USER"),)
    table = "/etc/passwd" if missing.startswith("user") else "/etc/group"
    yield at_image(
        service,
        f"the image config has User {ic.user(facts)}, but its {table} has no {missing}: "
        "the container cannot start",
        related=related,
    )


def image_says_root(project: Project, dockerfile: Dockerfile) -> bool | None:
    """Whether the image built from this Dockerfile starts as root, when it was read
    (check --image); None when it was not."""
    from dockwise.imagescan.join import image_of

    facts = image_of(project, dockerfile)
    return None if facts is None else ic.runs_as_root(facts)
