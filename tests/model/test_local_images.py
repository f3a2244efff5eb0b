"""model/link.py: a manifest's placeholder image name joined to the Dockerfile that builds it
(a Kustomization's `images:`, or a one-word name beside the Dockerfile)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dockwise.config import Config
from dockwise.model.service import Service
from dockwise.project import load_project

GO_DOCKERFILE = 'FROM alpine:3.20\nCOPY hello /hello\nCMD ["/hello"]\n'
PY_DOCKERFILE = 'FROM python:3.12-slim\nCMD ["python", "-m", "app"]\n'


def deployment(image: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: hello}}
spec:
  selector: {{matchLabels: {{app: hello}}}}
  template:
    spec:
      containers:
        - {{name: hello, image: {image}}}
"""


def owner(folder: Path, files: dict[str, str], manifest: str) -> Service:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    services = load_project(folder, Config()).services
    return next(s for s in services for part in s.containers if part.path == manifest)


def test_a_one_word_image_the_dockerfile_runs(tmp_path: Path) -> None:
    files = {
        "other/Dockerfile": PY_DOCKERFILE,  # the project has more than one Dockerfile
        "app/Dockerfile": GO_DOCKERFILE,
        "app/Dockerfile_arm": GO_DOCKERFILE,
        "app/k8s/base/hello-deployment.yaml": deployment("hello"),
    }
    service = owner(tmp_path, files, "app/k8s/base/hello-deployment.yaml")
    assert service.dockerfile is not None and service.dockerfile.relpath == "app/Dockerfile"
    assert "the program app/Dockerfile builds" in service.joins[-1].because


def test_kustomization_images_name_the_local_build(tmp_path: Path) -> None:
    files = {
        "other/Dockerfile": PY_DOCKERFILE,
        "app/Dockerfile": PY_DOCKERFILE,
        "app/deploy/web.yaml": deployment("web-image"),
        "app/deploy/kustomization.yaml": """\
            resources: [web.yaml]
            images:
              - name: web-image
                newName: ghcr.io/acme/web
                newTag: "1.4.2"
        """,
    }
    service = owner(tmp_path, files, "app/deploy/web.yaml")
    assert service.dockerfile is not None and service.dockerfile.relpath == "app/Dockerfile"
    assert "kustomization.yaml" in service.joins[-1].because


def test_official_images_and_tagged_names_stay_public(tmp_path: Path) -> None:
    files = {
        "other/Dockerfile": PY_DOCKERFILE,
        "app/Dockerfile": PY_DOCKERFILE,
        "app/k8s/redis.yaml": deployment("redis"),
        "app/k8s/cache.yaml": deployment("memcache:1.6"),
    }
    assert owner(tmp_path, files, "app/k8s/redis.yaml").dockerfile is None
    assert owner(tmp_path, files, "app/k8s/cache.yaml").dockerfile is None


def test_dw828_is_advice_for_the_image_built_here(tmp_path: Path) -> None:
    from dockwise.engine import check_project
    from dockwise.rules import all_rules

    files = {
        "other/Dockerfile": PY_DOCKERFILE,
        "app/Dockerfile": GO_DOCKERFILE,
        "app/k8s/hello.yaml": deployment("hello"),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    rules = [r for r in all_rules() if r.id == "DW828"]
    findings = check_project(load_project(tmp_path, Config()), rules).findings
    assert [(f.path, f.severity.name) for f in findings] == [("app/k8s/hello.yaml", "INFO")]
    assert "builds it here" in findings[0].message
