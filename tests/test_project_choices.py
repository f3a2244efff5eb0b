"""project.py: which stage ships, for Dockerfiles given one by one, from the compose files
beside or above them (found for a whole batch with one listing of each folder)."""

from __future__ import annotations

from pathlib import Path

from dockwise.config import Config
from dockwise.project import _choice_above, load_files


def compose(targets: dict[str, str]) -> str:
    lines = ["services:"]
    for index, (dockerfile, target) in enumerate(targets.items()):
        folder, _, name = dockerfile.rpartition("/")
        lines += [
            f"  svc{index}:",
            "    build:",
            f"      context: {folder or '.'}",
            f"      dockerfile: {name}",
            f"      target: {target}",
        ]
    return "\n".join(lines) + "\n"


def dockerfile(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("FROM python:3.12-slim AS base\nFROM base AS prod\nFROM base AS dev\n")
    return path


def test_batch_finds_the_compose_builds_a_single_file_check_finds(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    # in a repository, compose files are looked for up to its root, however deep
    (repo / "compose.yaml").write_text(
        compose({"app/Dockerfile": "prod", "deep/a/b/c/d/Dockerfile": "base"})
    )
    bare = tmp_path / "bare"
    # without one, MAX_PARENT_LEVELS (3) folders above the Dockerfile's own
    (bare / "compose.yaml").parent.mkdir(parents=True)
    (bare / "compose.yaml").write_text(
        compose({"x/Dockerfile": "dev", "a/b/c/d/Dockerfile": "prod", "a/b/c/Dockerfile": "dev"})
    )
    (bare / "y" / "docker-compose.yml").parent.mkdir(parents=True)
    (bare / "y" / "docker-compose.yml").write_text(compose({"Dockerfile.web": "prod"}))
    paths = [
        dockerfile(repo / "app" / "Dockerfile"),
        dockerfile(repo / "other" / "Dockerfile"),
        dockerfile(repo / "deep/a/b/c/d" / "Dockerfile"),
        dockerfile(bare / "x" / "Dockerfile"),
        dockerfile(bare / "a/b/c/d" / "Dockerfile"),
        dockerfile(bare / "a/b/c" / "Dockerfile"),
        dockerfile(bare / "y" / "Dockerfile.web"),
        dockerfile(bare / "z" / "Dockerfile"),
    ]
    project = load_files(paths, Config())
    targets = {df.relpath: df.target for df in project.dockerfiles}
    assert targets == {
        "repo/app/Dockerfile": "prod",
        "repo/other/Dockerfile": None,
        "repo/deep/a/b/c/d/Dockerfile": "base",
        "bare/x/Dockerfile": "dev",
        "bare/a/b/c/d/Dockerfile": None,  # four folders up, without a repository: not read
        "bare/a/b/c/Dockerfile": "dev",
        "bare/y/Dockerfile.web": "prod",
        "bare/z/Dockerfile": None,
    }
    # the batch says what each Dockerfile checked on its own would say
    for path in paths:
        relpath = path.relative_to(tmp_path).as_posix()
        alone = _choice_above(path.resolve())
        assert project.stage_sources.get(relpath) == (alone.source if alone else None)
        assert load_files([path], Config()).dockerfiles[0].target == targets[relpath]
