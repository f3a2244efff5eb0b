"""Runtime in the built image (DW620): what PID 1 is. A command stored in shell form
(`/bin/sh -c ...`) keeps the shell as PID 1 with dash, which forwards no signal."""

from __future__ import annotations

from collections.abc import Iterator

from msgspec.structs import replace

from dockwise.findings import Hit, Severity
from dockwise.imagescan.facts import ImageFacts
from dockwise.model.service import Service
from dockwise.project import Project
from dockwise.rules import _image_config as ic
from dockwise.rules._image_examples import SLIM_BASE, image_example, layer
from dockwise.rules._scopes import at_image, image_rule
from dockwise.sources.dockerfile import Dockerfile, Instruction

_BASE = SLIM_BASE
_APP = layer("COPY app.py /app/ # buildkit", files={"/app/app.py": "print('hi')\n"})


@image_rule(
    "DW620",
    lesson="runtime",
    severity="warning",
    title="The image's command runs through /bin/sh -c",
    why="""
        The image's Entrypoint or Cmd is `/bin/sh -c "..."` (a shell-form CMD or
        ENTRYPOINT). dash, the /bin/sh of Debian and Ubuntu images, runs the command as a
        child and stays PID 1 without forwarding SIGTERM: `docker stop` and Kubernetes wait
        out the grace period and kill the service, dropping in-flight requests. The image
        says which shell /bin/sh is, so this is judged on it: bash execs a lone simple
        command and busybox ash the last command of a list (not reported), and an explicit
        `exec` or a signal trap settles it. An image without /bin/sh cannot start such a
        command at all (error). With `check --image`, the Dockerfile's rule (DW601) speaks.
    """,
    fix='Use the exec (JSON) form: `CMD ["gunicorn", "app:app"]` (or start with `exec`).',
    bad=image_example(
        {"Cmd": ["/bin/sh", "-c", "gunicorn --bind 0.0.0.0:8000 app:app"], "User": "10001"},
        [_BASE, _APP],
    ),
    good=image_example(
        {"Cmd": ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"], "User": "10001"},
        [_BASE, _APP],
    ),
    also=["hadolint:DL3025"],
)
def image_shell_form_command(
    facts: ImageFacts, service: Service, project: Project
) -> Iterator[Hit]:
    from dockwise.rules.runtime import pid1_verdict

    if service.dockerfile is not None:
        return
    entrypoint, cmd = ic.command(facts)
    what, argv = ("Entrypoint", entrypoint) if entrypoint else ("Cmd", cmd)
    script = ic.shell_c(argv)
    if script is None or ic.is_base_image(facts):
        return
    shell = ic.shell_kind(facts) if argv[0] in ("/bin/sh", "sh") else argv[0].rsplit("/", 1)[-1]
    verdict = pid1_verdict(None if shell == "unknown" else shell, script)
    if verdict in ("execs", "windows"):
        return
    if verdict == "no shell":
        hit = at_image(
            service,
            f"the {what} runs through /bin/sh -c, but the image has no /bin/sh: the container "
            "cannot start",
        )
        yield replace(hit, severity=Severity.ERROR)
        return
    if verdict == "unknown":
        hit = at_image(
            service,
            f"the {what} runs through {argv[0]} -c: could not tell which shell that is; dash "
            "stays PID 1 and SIGTERM never reaches the service",
        )
        yield replace(hit, severity=Severity.INFO)
        return
    reason = (
        "/bin/sh in the image is dash, which stays PID 1"
        if shell == "dash"
        else f"{shell} stays PID 1 for a command that is not a lone simple command"
    )
    yield at_image(
        service,
        f"the {what} runs through {argv[0]} -c: {reason} and SIGTERM never reaches the service",
    )


def image_shell(project: Project, dockerfile: Dockerfile, instruction: Instruction) -> str | None:
    """The shell a shell-form instruction runs under in the built image ("dash", "bash",
    "ash" or "none"), when the image was read (check --image) and the instruction uses
    /bin/sh; None otherwise."""
    from dockwise.imagescan.join import image_of
    from dockwise.sources.dockerfile import DEFAULT_SHELL

    facts = image_of(project, dockerfile)
    if facts is None or (instruction.shell or DEFAULT_SHELL)[0] != "/bin/sh":
        return None
    kind = ic.shell_kind(facts)
    return None if kind == "unknown" else kind
