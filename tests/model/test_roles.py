"""dockwise.model.roles: one notion of what a compose service or container is for."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dockwise.config import Config
from dockwise.model.roles import (
    BATCH,
    CI,
    DEMO,
    DEVELOPMENT,
    NODE_AGENT,
    PRODUCTION,
    TEST,
    compose_role,
    container_role,
    path_role,
)
from dockwise.project import Project, load_project

DOCKERFILE = 'FROM python:3.12-slim\nCMD ["python", "-m", "app"]\n'


def load(folder: Path, files: dict[str, str]) -> Project:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return load_project(folder, Config())


def compose_roles(project: Project) -> dict[str, str]:
    return {
        part.service.name: compose_role(part, project).kind
        for service in project.services
        for part in service.compose
    }


def container_roles(project: Project) -> dict[str, str]:
    return {
        part.container.name: container_role(part, project).kind
        for service in project.services
        for part in service.containers
    }


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("compose.yaml", None),
        ("deploy/k8s/web.yaml", None),
        (".ci/compose.ci.yaml", CI),
        ("tests/docker/compose.yaml", TEST),
        ("api/testdata/manifests/test.yaml", TEST),
        ("src/pkg/tests/sample_k8s_resources/deployment.yaml", TEST),
        ("docker-compose.dev.yml", DEVELOPMENT),
        ("developer-tools/java-debugging/docker-compose.yml", DEVELOPMENT),
        ("extras/open-food-facts/docker-compose.yml", DEVELOPMENT),
        ("hack/kind/compose.yaml", DEVELOPMENT),
    ],
)
def test_path_role(path: str, kind: str | None) -> None:
    role = path_role(path)
    assert (role.kind if role else None) == kind
    if role is not None:
        assert path in role.reason


def test_compose_development_signals(tmp_path: Path) -> None:
    files = {
        "Dockerfile": DOCKERFILE,
        "prod/compose.yaml": """
            services:
              web: {image: acme/web:1.4.2, ports: ["8080:8080", "5005:5005"]}
        """,
        # the build output of a compiled project mounted over the image
        "war/compose.yaml": """
            services:
              web:
                image: acme/web:1.4.2
                volumes: ["./app/target/app:/usr/local/tomcat/webapps/app"]
              db: {image: postgres:16}
        """,
        # a source folder of the build context mounted over the built workspace
        "ros/compose.yaml": """
            services:
              ros: {build: ., volumes: ["./ws/src:/ws/src"]}
        """,
        "ros/Dockerfile": DOCKERFILE,
        "ros/ws/src/node.py": "",
        # a debugger switched on
        "jvm/compose.yaml": """
            services:
              api:
                image: acme/api:2
                environment: {JAVA_TOOL_OPTIONS: "-agentlib:jdwp=transport=dt_socket"}
        """,
    }
    roles = {}
    project = load(tmp_path, files)
    for service in project.services:
        for part in service.compose:
            role = compose_role(part, project)
            roles[(part.file.relpath, part.service.name)] = role.kind
    # a published debugger port alone does not make a deployment a development setup
    assert roles[("prod/compose.yaml", "web")] == PRODUCTION
    assert roles[("war/compose.yaml", "web")] == DEVELOPMENT
    assert roles[("war/compose.yaml", "db")] == DEVELOPMENT  # the whole file is
    assert roles[("ros/compose.yaml", "ros")] == DEVELOPMENT
    assert roles[("jvm/compose.yaml", "api")] == DEVELOPMENT


def test_the_role_is_computed_once_per_part(tmp_path: Path) -> None:
    project = load(tmp_path, {"compose.yaml": "services:\n  web: {image: acme/web:1}\n"})
    [part] = [p for s in project.services for p in s.compose]
    assert compose_role(part, project) is compose_role(part, project)


POD = """
    apiVersion: v1
    kind: Pod
    metadata: {name: iscsipd}
    spec:
      containers:
        - {name: pause, image: kubernetes/pause}
"""


def deployment(name: str, container: str, kind: str = "Deployment", pod: str = "") -> str:
    """A workload; `container` and `pod` are written at their final indentation."""
    return (
        f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n"
        f"  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    spec:\n"
        f"{pod}      containers:\n{container}\n"
    )


@pytest.mark.parametrize(
    ("manifest", "kind"),
    [
        (
            deployment(
                "web", "        - {name: web, image: acme/web:1, ports: [{containerPort: 80}]}"
            ),
            PRODUCTION,
        ),
        (POD, DEMO),
        (deployment("pause", "        - {name: pause, image: registry.k8s.io/pause:3.9}"), DEMO),
        (
            deployment(
                "writer",
                '        - name: loop\n          image: busybox:1.36\n          command: ["sh", "-c"]\n'
                '          args: ["while true; do date >> /html/index.html; sleep 30; done"]',
            ),
            DEMO,
        ),
        (
            deployment(
                "client",
                '        - {name: client, image: redis:7, command: ["sleep", "3600"]}',
            ),
            DEMO,
        ),
        (
            deployment(
                "worker",
                '        - name: worker\n          image: acme/worker:1\n          command: ["sh", "-c"]\n'
                '          args: ["while true; do python -m worker; sleep 5; done"]',
            ),
            PRODUCTION,  # a loop around real work is a service
        ),
        (
            deployment(
                "log-agent",
                "        - {name: agent, image: acme/agent:1}",
                kind="DaemonSet",
                pod="      hostNetwork: true\n",
            ),
            NODE_AGENT,
        ),
        (deployment("migrate", "        - {name: migrate, image: acme/web:1}", kind="Job"), BATCH),
    ],
)
def test_container_roles(tmp_path: Path, manifest: str, kind: str) -> None:
    project = load(tmp_path, {"k8s/app.yaml": manifest})
    assert set(container_roles(project).values()) == {kind}


def test_test_manifests_are_test_whatever_the_kind(tmp_path: Path) -> None:
    files = {
        "tests/sample/deploy.yaml": deployment("web", "        - {name: web, image: acme/web:1}")
    }
    assert container_roles(load(tmp_path, files)) == {"web": TEST}


def test_every_service_rule_shares_the_role(tmp_path: Path) -> None:
    """One development compose file (the build output bind-mounted over the image): no
    rule of any lesson judges it as production."""
    from dockwise.engine import check_project
    from dockwise.findings import Severity
    from dockwise.rules import all_rules

    files = {
        "web/Dockerfile": 'FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]\n',
        "compose.yaml": """
            services:
              web:
                build: ./web
                volumes: ["./web/build/app:/srv/app"]
                environment: {DB_PASSWORD: "Xq7rT9vK2mPw4sLz"}
              db:
                image: postgres:16
                environment: {POSTGRES_PASSWORD: "Xq7rT9vK2mPw4sLz"}
        """,
    }
    project = load(tmp_path, files)
    rules = [r for r in all_rules() if r.id[2] in "2345678" and r.id >= "DW2"]
    findings = check_project(project, rules).findings
    compose = [f for f in findings if f.path == "compose.yaml"]
    assert {f.rule for f in compose} >= {"DW211", "DW401", "DW520"}
    assert all(f.severity <= Severity.WARNING for f in compose)
    assert [f.rule for f in compose if f.severity == Severity.WARNING] == ["DW520", "DW520"]
    assert all(f.severity == Severity.INFO for f in compose if f.rule != "DW520")
