"""The one image of a project's manifests that no well-known vendor publishes runs the
project's only service Dockerfile (podinfo: `ghcr.io/stefanprodan/podinfo` in a checkout
folder named otherwise)."""

from __future__ import annotations

from pathlib import Path

from tests.model.test_service_links import DEPLOYMENT, DOCKERFILE, project_services


def _files(*images: str) -> dict[str, str]:
    files = {"Dockerfile": DOCKERFILE, "test/Dockerfile": DOCKERFILE}
    for index, image in enumerate(images):
        files[f"deploy/app{index}.yaml"] = DEPLOYMENT.format(name=f"app{index}", image=image)
    return files


def _joined(folder: Path, *images: str) -> list[str]:
    services = project_services(folder, _files(*images))
    root = next(s for s in services if s.dockerfile and s.dockerfile.relpath == "Dockerfile")
    return [join.because for join in root.joins if join.kind == "kubernetes"]


def test_the_only_own_image_runs_the_only_service_dockerfile(tmp_path: Path) -> None:
    folder = tmp_path / "acme__checkout"
    folder.mkdir()
    joined = _joined(
        folder,
        "ghcr.io/acme/storefront:1.2",
        "docker.io/redis:8",
        "bitnami/postgresql:16",
        "otherfork/storefront:dev",
    )
    assert len(joined) == 2
    assert all("only image of the manifests" in because for because in joined)
    assert "Dockerfile is the only service Dockerfile" in joined[0]


def test_two_own_images_join_nothing(tmp_path: Path) -> None:
    assert _joined(tmp_path, "ghcr.io/acme/storefront:1.2", "ghcr.io/acme/billing:1.0") == []


def test_only_public_images_join_nothing(tmp_path: Path) -> None:
    assert _joined(tmp_path, "postgres:16", "quay.io/someone/redis:7", "grafana/grafana") == []


def test_two_service_dockerfiles_join_nothing(tmp_path: Path) -> None:
    files = _files("ghcr.io/acme/storefront:1.2")
    files["worker/Dockerfile"] = DOCKERFILE
    services = project_services(tmp_path, files)
    assert not any(
        join.kind == "kubernetes" and s.dockerfile is not None for s in services for join in s.joins
    )


def test_a_dockerfile_beside_the_manifests_folder_is_not_joined(tmp_path: Path) -> None:
    files = {
        "svc/web/Dockerfile": DOCKERFILE,
        "svc/deploy/app.yaml": DEPLOYMENT.format(name="app", image="ghcr.io/acme/storefront:1"),
    }
    services = project_services(tmp_path, files)
    web = next(s for s in services if s.dockerfile is not None)
    assert [join.kind for join in web.joins] == ["dockerfile"]
