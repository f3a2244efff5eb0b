"""Files dockwise found and could not check: compose files that do not parse (DW944),
templates (DW950), Kubernetes manifests that do not parse (DW951), Python modules of a
service that do not parse (DW952).

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
    title="Template file not checked",
    why="""
        A Jinja, cookiecutter or Helm template (`{% if ... %}`, `{{ cookiecutter.name }}`,
        `{{ .Values.image }}`) is not a Dockerfile, compose file or manifest yet: its lines
        mean nothing until the template is rendered, so every rule would report noise
        (unknown instructions, YAML that does not parse). dockwise says once that it skipped
        the file; check the rendered file instead (`helm template . | dockwise check -`).
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
    seen: set[str] = set()
    for compose in project.compose_files:
        for relpath, (line, marker) in compose.templates:
            if relpath not in seen:
                seen.add(relpath)
                yield Hit(
                    relpath,
                    line,
                    f"template syntax `{marker}`: this compose file is a template, not checked "
                    "(check the rendered file)",
                    severity=Severity.INFO,
                )
    for folder, first in _manifest_templates(project).items():
        yield Hit(
            first,
            None,
            f"{folder}: Kubernetes templates (Helm or similar) not checked; render them and "
            "check the output: `helm template . | dockwise check -`",
            severity=Severity.INFO,
        )


def _manifest_templates(project: Project) -> dict[str, str]:
    """One entry per folder of templated manifests: the folder and its first file."""
    found: dict[str, str] = {}
    for manifest in project.manifests:
        if manifest.template:
            found.setdefault(manifest.path.rpartition("/")[0] or ".", manifest.path)
    return found


@rule(
    "DW951",
    lesson="general",
    severity="error",
    title="Kubernetes manifest does not parse",
    why="""
        `kubectl apply` refuses a manifest that is not valid YAML, or that repeats a key
        (the API server's strict decoding rejects duplicate fields), so nothing in the file
        deploys; dockwise cannot check its containers (probes, limits, secrets) either.
    """,
    fix="Correct the YAML at the reported line (indentation, a tab, a repeated key).",
    bad={
        "k8s/web.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
        "spec:\n  containers: [{name: web, image: 'web:1'}\n"
    },
    good={
        "k8s/web.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
        "spec:\n  containers: [{name: web, image: 'web:1'}]\n"
    },
)
def manifest_parse_error(project: Project) -> Iterator[Hit]:
    for manifest in project.manifests:
        for problem in manifest.problems[:1]:  # the first problem; the rest often follow it
            yield Hit(manifest.path, problem.line, f"manifest does not parse: {problem.message}")


_APP_DOCKERFILE = 'FROM python:3.12-slim\nCOPY app /app\nCMD ["python", "-m", "app.main"]\n'


@rule(
    "DW952",
    lesson="general",
    severity="info",
    title="Python module of the service does not parse",
    why="""
        dockwise reads the service's Python code (routes, logging setup, settings) without
        running it. A module that Python 3 cannot parse (Python 2 syntax, a merge conflict,
        a template) is skipped, so the checks that need it (health route, log files) may
        miss something there. If the image runs this module, it fails at start.
    """,
    fix="Fix the syntax error (or port the module to Python 3); dockwise then reads it.",
    bad={
        "Dockerfile": _APP_DOCKERFILE,
        "app/main.py": "from flask import Flask\napp = Flask(__name__)\nprint 'hello'\n",
    },
    good={
        "Dockerfile": _APP_DOCKERFILE,
        "app/main.py": "from flask import Flask\napp = Flask(__name__)\nprint('hello')\n",
    },
)
def python_parse_error(project: Project) -> Iterator[Hit]:
    seen: set[str] = set()
    for service in project.services:
        if service.context_dir is None:
            continue
        app = project.python_app(service.context_dir)
        app.web_modules  # noqa: B018  (the modules every service check reads)
        for module in app.syntax_errors:
            path = project.relpath(service.context_dir / module.relpath)
            if path not in seen:
                seen.add(path)
                yield Hit(
                    path,
                    None,
                    f"not checked: {module.syntax_error}"
                    if (module.syntax_error or "").startswith("not read")
                    else f"not checked: Python 3 cannot parse it ({module.syntax_error})",
                    severity=Severity.INFO,
                )


@rule(
    "DW944",
    lesson="general",
    severity="error",
    title="Compose file does not parse",
    why="""
        `docker compose` refuses a compose file that is not valid YAML, so nothing in it
        deploys; dockwise also cannot cross-check the services it defines (build targets,
        health checks, limits) until it parses.
    """,
    fix="Correct the YAML at the reported line (indentation, an unclosed bracket or quote).",
    bad={
        "compose.yaml": 'services:\n  web:\n    build: .\n    ports: ["8000:8000"\n',
        "Dockerfile": "FROM python:3.12-slim\n",
    },
    good={
        "compose.yaml": 'services:\n  web:\n    build: .\n    ports: ["8000:8000"]\n',
        "Dockerfile": "FROM python:3.12-slim\n",
    },
)
def compose_parse_error(project: Project) -> Iterator[Hit]:
    for compose in project.compose_files:
        if compose.error is not None:
            yield Hit(
                compose.relpath, compose.error_line, f"compose file does not parse: {compose.error}"
            )
