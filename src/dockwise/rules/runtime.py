"""Runtime: PID 1 and signals, exec-form commands, graceful shutdown (DW6xx)."""

from __future__ import annotations

from collections.abc import Iterator

from dockwise.findings import Hit
from dockwise.project import Project
from dockwise.rules._common import at, dockerfile_rule
from dockwise.sources.dockerfile import Dockerfile


@dockerfile_rule(
    "DW601",
    lesson="runtime",
    severity="warning",
    title="CMD or ENTRYPOINT in shell form",
    why="""
        In shell form the command runs as a child of `/bin/sh -c`, which becomes PID 1 and
        does not forward SIGTERM: `docker stop` and Kubernetes wait out the grace period and
        then kill the service, dropping in-flight requests.
    """,
    fix='Use the exec (JSON) form: `CMD ["gunicorn", "app:app"]`.',
    bad="""
        FROM python:3.11-slim
        CMD gunicorn --bind 0.0.0.0:8000 app:app
    """,
    good="""
        FROM python:3.11-slim
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
    """,
    also=["hadolint:DL3025"],
)
def shell_form_command(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    stage = dockerfile.shipped_stage
    if stage is None:
        return
    for instruction in stage.all("CMD", "ENTRYPOINT"):
        if not instruction.json and instruction.value:
            yield at(
                dockerfile,
                instruction,
                f"{instruction.cmd} in shell form: /bin/sh becomes PID 1 and SIGTERM never "
                "reaches the service",
            )
