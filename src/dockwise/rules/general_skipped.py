"""Files dockwise found and deliberately did not check, reported once each (DW950).

The rule lives here, not in general.py, so that the module that decides what is skipped
(project.py) and the message that says so stay together; general.py imports it, which is
how it joins the general lesson.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockwise.findings import Hit, Severity, rule
from dockwise.project import Project


@rule(
    "DW950",
    lesson="general",
    severity="info",
    title="Template Dockerfile not checked",
    why="""
        A Jinja or cookiecutter template (`{% if ... %}`, `{{ cookiecutter.name }}`) is not
        a Dockerfile yet: its lines are not instructions until the template is rendered, so
        every rule would report noise (unknown instructions, half-seen RUN steps). dockwise
        says once that it skipped the file; check the rendered Dockerfile instead.
    """,
    fix="""
        Render the template (e.g. `cookiecutter --no-input .` or your generator) and run
        `dockwise check` on the result, or ignore the path with `per-path-ignores`.
    """,
    bad="""
        FROM python:3.12-slim
        {% if cookiecutter.use_poetry == "y" %}
        RUN pip install poetry
        {% endif %}
        CMD ["python", "-m", "app"]
    """,
    good="""
        FROM python:3.12-slim
        RUN pip install poetry
        CMD ["python", "-m", "app"]
    """,
)
def template_not_checked(project: Project) -> Iterator[Hit]:
    for template in project.templates:
        yield Hit(
            path=template.relpath,
            line=template.line,
            message=f"template syntax `{template.marker}`: this Dockerfile is a template, "
            "not checked (check the rendered file)",
            severity=Severity.INFO,
        )
