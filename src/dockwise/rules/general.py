"""General correctness and hygiene: most hadolint-parity rules live here (DW9xx)."""

from __future__ import annotations

from collections.abc import Iterator

from dockwise.findings import Hit
from dockwise.project import Project
from dockwise.rules._common import at, dockerfile_rule
from dockwise.sources.dockerfile import Dockerfile


@dockerfile_rule(
    "DW900",
    lesson="general",
    severity="error",
    title="Dockerfile does not parse",
    why="""
        BuildKit refuses a Dockerfile with a syntax error, so the image cannot be built.
        dockwise still checks the instructions before and after the broken one.
    """,
    fix="Correct the syntax at the reported line (an unterminated heredoc, a bad escape...).",
    bad="""
        FROM python:3.11-slim
        RUN <<EOF
        pip install --no-cache-dir flask==3.0.3
    """,
    good="""
        FROM python:3.11-slim
        RUN <<EOF
        pip install --no-cache-dir flask==3.0.3
        EOF
    """,
    also=["hadolint:DL1000"],
)
def parse_error(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for problem in dockerfile.problems:
        yield Hit(dockerfile.relpath, problem.line, f"syntax error: {problem.message}")


@dockerfile_rule(
    "DW933",
    lesson="general",
    severity="warning",
    title="MAINTAINER is deprecated",
    why="""
        MAINTAINER has been deprecated since Docker 1.13; tools read the maintainer from
        labels instead.
    """,
    fix='Use `LABEL org.opencontainers.image.authors="team@example.com"`.',
    bad="""
        FROM python:3.11-slim
        MAINTAINER team@example.com
    """,
    good="""
        FROM python:3.11-slim
        LABEL org.opencontainers.image.authors="team@example.com"
    """,
    also=["hadolint:DL4000", "trivy:DS-0022", "checkov:CKV_DOCKER_6"],
)
def maintainer(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
    for instruction in dockerfile.instructions:
        if instruction.cmd == "MAINTAINER":
            yield at(dockerfile, instruction, "MAINTAINER is deprecated")
