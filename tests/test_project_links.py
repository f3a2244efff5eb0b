"""Joins between artifacts (link.py): compose builds, images built by the project, and
template Dockerfiles left unchecked (project.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dockwise.config import Config
from dockwise.model.link import image_key, is_dev_name
from dockwise.project import load_project, project_from_text


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))


@pytest.mark.parametrize(
    ("name", "dev"),
    [
        ("dev", True),
        ("dev-envs", True),
        ("Development", True),
        ("test", True),
        ("ci_runner", True),
        ("docker-compose.dev", True),
        ("prod", False),
        ("builder", False),
        ("devops", False),
        ("latest", False),
        (None, False),
    ],
)
def test_dev_names(name: str | None, dev: bool) -> None:
    assert is_dev_name(name) is dev


def test_image_key_drops_tag_and_digest() -> None:
    assert image_key("quay.io/acme/base:1.2") == "quay.io/acme/base"
    assert image_key("acme/base@sha256:" + "a" * 64) == "docker.io/acme/base"
    assert image_key("${REGISTRY}/acme/base") is None


def test_images_built_by_the_project(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "compose.yaml": """
                services:
                  runtime:
                    image: ghcr.io/shop/runtime:1
                    build: ./runtime
            """,
            "runtime/Dockerfile": "FROM python:3.12-slim\n",
            "build.sh": "#!/bin/sh\ndocker build \\\n  --tag acme/tools:dev -f tools.Dockerfile .\n",
            "tools.Dockerfile": "FROM alpine:3.20\n",
            "images/base-notebook/Dockerfile": "FROM ubuntu:24.04\n",
            "images/scipy/Dockerfile": "FROM quay.io/jupyter/base-notebook:latest\n",
            "redis/Dockerfile": "FROM redis:7\n",  # official: never linked by folder name
            "app/Dockerfile": "FROM redis:7\nFROM acme/tools\nFROM ghcr.io/shop/runtime:1\n",
        },
    )
    project = load_project(tmp_path, Config())
    links = {key: link.dockerfile for key, link in project.image_links.items()}
    assert links == {
        "ghcr.io/shop/runtime": "runtime/Dockerfile",
        "docker.io/acme/tools": "tools.Dockerfile",
        "quay.io/jupyter/base-notebook": "images/base-notebook/Dockerfile",
    }
    app = next(df for df in project.dockerfiles if df.relpath == "app/Dockerfile")
    built = [project.built_from(stage) for stage in app.stages]
    assert [b[0].relpath if b else None for b in built] == [
        None,
        "tools.Dockerfile",
        "runtime/Dockerfile",
    ]
    assert built[2] is not None and "compose.yaml service runtime" in built[2][1].how


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12\n{% if cookiecutter.db == 'postgres' %}\nRUN x\n{% endif %}\n",
        "FROM python:{{ cookiecutter.python_version }}-slim\n",
        "{{ base_image_block }}\nRUN x\n",
        "{# a jinja comment #}\nFROM python:3.12\n",
    ],
)
def test_templates_are_not_checked_but_reported(text: str) -> None:
    project = project_from_text(text, Config(), "Dockerfile")
    assert project.dockerfiles == ()
    (template,) = project.templates
    assert template.relpath == "Dockerfile" and template.line >= 1


def test_go_templates_in_a_run_are_not_jinja() -> None:
    text = "FROM docker:27\nRUN docker inspect --format '{{.State.Health.Status}}' web\n"
    project = project_from_text(text, Config())
    assert len(project.dockerfiles) == 1 and project.templates == ()


def test_template_files_in_a_folder(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "{{cookiecutter.slug}}/Dockerfile": "FROM python:3.12\n{%- if x %}\nRUN a\n{%- endif %}\n",
            "Dockerfile": "FROM python:3.12\n",
        },
    )
    project = load_project(tmp_path, Config())
    assert [df.relpath for df in project.dockerfiles] == ["Dockerfile"]
    assert [(t.relpath, t.line) for t in project.templates] == [
        ("{{cookiecutter.slug}}/Dockerfile", 2)
    ]


@pytest.mark.parametrize(
    "text",
    ["FROM python\nFROM " + "{" * 60_000 + "\n", "FROM " + "{{a" * 20_000 + "\n", "{%a" * 20_000],
)
def test_template_markers_are_looked_for_in_linear_time(text: str) -> None:
    # issue 6: the lazy marker patterns rescanned a line from every opening (18 s)
    project = project_from_text(text, Config(), "Dockerfile")
    assert len(project.dockerfiles) + len(project.templates) == 1
