"""The service model: which files make one service, and why."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dockwise.config import Config
from dockwise.model.service import Service
from dockwise.project import load_project

DOCKERFILE = 'FROM python:3.12-slim\nCMD ["python", "-m", "app"]\n'
DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: {name}}}
    spec:
      template:
        spec:
          containers:
            - name: {name}
              image: {image}
              livenessProbe:
                httpGet: {{path: /health, port: 8000}}
"""


def project_services(folder: Path, files: dict[str, str]) -> list[Service]:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    return list(load_project(folder, Config()).services)


def by_dockerfile(services: list[Service], relpath: str) -> Service:
    return next(s for s in services if s.dockerfile and s.dockerfile.relpath == relpath)


def test_compose_build_and_image_name_join_compose_and_kubernetes(tmp_path: Path) -> None:
    services = project_services(
        tmp_path,
        {
            "api/Dockerfile": DOCKERFILE,
            "compose.yaml": """
                services:
                  api:
                    build: ./api
                    image: registry.example.com/shop/api:dev
                  worker:
                    image: registry.example.com/shop/api:dev
                  redis:
                    image: redis:7
            """,
            "k8s/api.yaml": DEPLOYMENT.format(
                name="api", image="registry.example.com/shop/api:1.4"
            ),
        },
    )
    api = by_dockerfile(services, "api/Dockerfile")
    assert [part.service.name for part in api.compose] == ["api", "worker"]
    assert [part.label for part in api.containers] == ["Deployment/api container api"]
    assert api.health_checks_elsewhere() == [("k8s/api.yaml", 12, "liveness probe")]
    reasons = [join.because for join in api.joins]
    assert "builds api/Dockerfile" in reasons
    assert any("which api/Dockerfile builds" in reason for reason in reasons)
    redis = next(s for s in services if s.name == "redis")
    assert redis.dockerfile is None and [p.service.name for p in redis.compose] == ["redis"]


def test_a_deployment_of_an_image_built_elsewhere_is_a_service_of_its_own(tmp_path: Path) -> None:
    services = project_services(
        tmp_path,
        {
            "Dockerfile": DOCKERFILE,
            "deploy/db.yaml": DEPLOYMENT.format(name="db", image="postgres:16"),
        },
    )
    assert [(s.name, s.dockerfile is None) for s in services] == [
        (tmp_path.name, False),
        ("db/db", True),
    ]


def test_single_dockerfile_named_like_the_image_repository(tmp_path: Path) -> None:
    root = tmp_path / "podinfo"
    root.mkdir()
    services = project_services(
        root,
        {
            "Dockerfile": DOCKERFILE,
            "kustomize/deployment.yaml": DEPLOYMENT.format(
                name="podinfo", image="ghcr.io/someone/podinfo:6.1"
            ),
        },
    )
    (service,) = services
    assert service.containers and "named like the folder" in service.joins[-1].because


def test_jobs_and_init_containers_are_not_runtime_containers(tmp_path: Path) -> None:
    services = project_services(
        tmp_path,
        {
            "k8s/job.yaml": """
                apiVersion: batch/v1
                kind: Job
                metadata: {name: migrate}
                spec:
                  template:
                    spec:
                      containers: [{name: migrate, image: 'shop/api:1'}]
            """
        },
    )
    (service,) = services
    assert service.containers and not list(service.runtime_containers)
