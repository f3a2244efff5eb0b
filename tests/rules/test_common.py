"""The judgements every per-Dockerfile rule shares: which stage ships, and how sure that
is; whether the image is a service at all (rules/_common.py)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from dockwise.cli import main
from dockwise.config import Config
from dockwise.project import load_project, project_from_text
from dockwise.rules._common import not_a_service, shipped_judgement


def judgement_of(text: str) -> tuple[bool, bool, str | None]:
    project = project_from_text(textwrap.dedent(text).lstrip("\n"), Config())
    judged = shipped_judgement(project.dockerfiles[0], project)
    return judged.sure, judged.dev, judged.note()


def test_one_stage_and_builder_patterns_are_sure() -> None:
    assert judgement_of('FROM python:3.12-slim\nCMD ["app"]\n') == (True, False, None)
    builder = """
        FROM golang:1.22 AS build
        RUN go build -o /out/app .
        FROM gcr.io/distroless/static-debian12
        COPY --from=build /out/app /app
    """
    assert judgement_of(builder)[:2] == (True, False)
    mounted = """
        FROM node:20 AS assets
        RUN npm run build
        FROM nginx:1.27
        RUN --mount=type=bind,from=assets,source=/dist,target=/d cp -r /d /usr/share/nginx/html
    """
    assert judgement_of(mounted)[:2] == (True, False)


def test_alternative_targets_make_the_last_stage_a_guess() -> None:
    text = """
        FROM python:3.12-slim AS base
        FROM base AS test
        RUN pytest
        FROM base AS prod
        CMD ["gunicorn", "app:app"]
    """
    sure, dev, note = judgement_of(text)
    assert (sure, dev) == (False, False)
    assert note == "in the last stage, prod, assumed to ship"


def test_a_last_stage_named_dev_is_weak() -> None:
    text = """
        FROM python:3.12-slim AS prod
        CMD ["gunicorn", "app:app"]
        FROM prod AS dev
        RUN pip install debugpy
    """
    assert judgement_of(text)[1] is True


def run_check(args: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    main(["check", *args, "--format", "json"])
    return list(json.loads(capsys.readouterr().out)["findings"])


DEV_ENVS = {
    # awesome-compose's dev-envs: compose builds `target: builder`; the last stage is a
    # dev environment that never ships
    "app/Dockerfile": """\
        FROM python:3.12-slim AS builder
        RUN useradd -u 10001 app
        USER 10001
        CMD ["gunicorn", "app:app"]

        FROM builder AS dev-envs
        USER root
        RUN apt-get update && apt-get install -y --no-install-recommends git
        COPY --from=gloursdocker/docker / /
        CMD ["sleep", "infinity"]
    """,
    "compose.yaml": """\
        services:
          web:
            build:
              context: app
              target: builder
    """,
}


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))


def test_single_file_check_uses_the_compose_target_above_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, DEV_ENVS)
    for args in (
        [str(tmp_path)],
        [str(tmp_path / "app/Dockerfile")],
        [str(tmp_path / "app")],
    ):
        found = run_check([*args, "--select", "DW801"], capsys)
        assert found == [], args


def test_stdin_with_a_filename_uses_the_compose_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    write(tmp_path, DEV_ENVS)
    monkeypatch.chdir(tmp_path)
    text = textwrap.dedent(DEV_ENVS["app/Dockerfile"])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    found = run_check(["-", "--stdin-filename", "app/Dockerfile", "--select", "DW801"], capsys)
    assert found == []


def test_without_compose_the_guessed_stage_is_named_in_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "Dockerfile": """\
            FROM python:3.12-slim AS base
            FROM base AS test
            RUN pytest
            FROM base AS release
            CMD ["gunicorn", "app:app"]
        """
    }
    write(tmp_path, files)
    (found,) = run_check([str(tmp_path / "Dockerfile"), "--select", "DW801"], capsys)
    assert found["severity"] == "warning"
    assert str(found["message"]).endswith("(in the last stage, release, assumed to ship)")
    # --target says which ships: no note
    (told,) = run_check(
        [str(tmp_path / "Dockerfile"), "--select", "DW801", "--target", "release"], capsys
    )
    assert "assumed" not in str(told["message"])


def test_a_development_stage_is_judged_at_info(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "Dockerfile": """\
            FROM python:3.12-slim AS prod
            CMD ["gunicorn", "app:app"]
            FROM prod AS dev
            RUN pip install debugpy
        """
    }
    write(tmp_path, files)
    found = run_check([str(tmp_path), "--select", "DW801,DW202"], capsys)
    assert {f["rule"] for f in found} == {"DW801", "DW202"}
    assert {f["severity"] for f in found} == {"info"}
    assert all("development stage" in str(f["message"]) for f in found)


def test_compose_prefers_the_production_build(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM python:3.12-slim AS dev\nFROM python:3.12-slim AS prod\n",
        "docker-compose.dev.yml": "services:\n  web:\n    build:\n      context: .\n      target: dev\n",
        "docker-compose.yml": "services:\n  web:\n    build:\n      context: .\n      target: prod\n",
    }
    write(tmp_path, files)
    project = load_project(tmp_path, Config())
    (dockerfile,) = project.dockerfiles
    assert dockerfile.shipped_stage is not None and dockerfile.shipped_stage.name == "prod"
    assert project.stage_sources["Dockerfile"] == "docker-compose.yml (service web)"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (".devcontainer/Dockerfile", "tooling"),
        ("tests/docker/Dockerfile", "tooling"),
        ("ci/Dockerfile", "tooling"),
        (".github/docker/old.Dockerfile", "tooling"),
        ("Dockerfile.test", "tooling"),
        ("Dockerfile.dev", "tooling"),
        ("development.dockerfile", "tooling"),
        ("scripts/proxy-test/Dockerfile", "tooling"),
        ("app/Dockerfile", None),
        ("local-image/Dockerfile", None),
        ("Dockerfile.prod", None),
    ],
)
def test_tooling_images_are_not_services(tmp_path: Path, path: str, kind: str | None) -> None:
    write(tmp_path, {path: 'FROM python:3.12-slim\nCMD ["gunicorn", "app:app"]\n'})
    project = load_project(tmp_path, Config())
    reason = not_a_service(project.dockerfiles[0], project)
    assert (reason.kind if reason else None) == kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("FROM scratch\nCOPY app /app\n", "artifact"),
        ('FROM scratch\nCOPY app /app\nENTRYPOINT ["/app"]\n', None),
        ("FROM debian:bookworm\nRUN apt-get update\n", "base"),
        ('FROM python:3.12\nCMD ["python3"]\n', "base"),
        ("FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n", None),
        ('FROM public.ecr.aws/lambda/python:3.12\nCMD ["app.handler"]\n', "function"),
    ],
)
def test_what_the_image_runs_decides(text: str, kind: str | None) -> None:
    project = project_from_text(text, Config())
    reason = not_a_service(project.dockerfiles[0], project)
    assert (reason.kind if reason else None) == kind


def test_service_rules_skip_test_images_but_other_rules_do_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        {"tests/Dockerfile": 'FROM python:3.12\nRUN apt-get update\nCMD ["pytest"]\n'},
    )
    found = {f["rule"] for f in run_check([str(tmp_path)], capsys)}
    assert not found & {"DW202", "DW801", "DW701", "DW303"}
    assert "DW105" in found  # the apt lists left behind are still worth knowing


def test_onbuild_images_are_bases() -> None:
    text = 'FROM node:20\nONBUILD COPY . /app\nONBUILD RUN npm ci\nCMD ["node", "app.js"]\n'
    project = project_from_text(text, Config())
    reason = not_a_service(project.dockerfiles[0], project)
    assert reason is not None and reason.kind == "base"
