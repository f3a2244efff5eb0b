"""Compose health rules (DW211-DW215)."""

from __future__ import annotations

from pathlib import Path

import pytest
from health_projects import PY_TEST, run, write

from dockwise.findings import Severity

APP = """\
FROM python:3.12-slim
WORKDIR /app
COPY . .
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
"""


def compose(text: str, tmp_path: Path, dockerfile: str = APP) -> Path:
    return write({"Dockerfile": dockerfile, "compose.yaml": text}, tmp_path)


def test_dw211_built_service_without_healthcheck(tmp_path: Path) -> None:
    folder = compose("services:\n  web:\n    build: .\n    ports: ['8000:8000']\n", tmp_path)
    [finding] = run(folder, "DW211")
    assert (finding.path, finding.line, finding.severity) == ("compose.yaml", 2, Severity.WARNING)


def test_dw211_image_healthcheck_counts(tmp_path: Path) -> None:
    dockerfile = APP + "HEALTHCHECK CMD python -c 'import urllib.request'\n"
    folder = compose("services:\n  web:\n    build: .\n", tmp_path, dockerfile)
    assert run(folder, "DW211") == []


def test_dw211_worker_with_own_command_is_info(tmp_path: Path) -> None:
    text = "services:\n  worker:\n    build: .\n    command: celery -A tasks worker\n"
    [finding] = run(compose(text, tmp_path), "DW211")
    assert finding.severity == Severity.INFO


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("services:\n  db:\n    image: postgres:16\n", []),
        (
            "services:\n  web:\n    build: .\n    depends_on: [db]\n    healthcheck:\n"
            f"      test: {PY_TEST}\n  db:\n    image: postgres:16\n",
            [("compose.yaml", 7, Severity.INFO)],
        ),
        ("services:\n  migrate:\n    build: .\n    command: alembic upgrade head\n", []),
    ],
)
def test_dw211_public_images_and_one_offs(
    tmp_path: Path, text: str, expected: list[tuple[str, int, Severity]]
) -> None:
    found = [(f.path, f.line, f.severity) for f in run(compose(text, tmp_path), "DW211")]
    assert found == expected


def test_dw212_official_image_is_an_error_unknown_image_info(tmp_path: Path) -> None:
    text = """\
        services:
          web:
            image: acme/web:1
            depends_on:
              db: {condition: service_healthy}
              search: {condition: service_healthy}
          db:
            image: postgres:16
          search:
            image: acme/search:2
    """
    found = [(f.line, f.severity) for f in run(compose(text, tmp_path), "DW212")]
    assert found == [(5, Severity.ERROR), (6, Severity.INFO)]


def test_dw212_dockerfile_healthcheck_satisfies(tmp_path: Path) -> None:
    dockerfile = APP + "HEALTHCHECK CMD python -c 'import urllib.request'\n"
    text = """\
        services:
          api:
            build: .
          web:
            image: acme/web:1
            depends_on:
              api: {condition: service_healthy}
    """
    assert run(compose(text, tmp_path, dockerfile), "DW212") == []


def test_dw213_short_form_reported_written_condition_respected(tmp_path: Path) -> None:
    text = """\
        services:
          web:
            image: acme/web:1
            depends_on: [db]
          worker:
            image: acme/worker:1
            depends_on:
              db: {condition: service_started}
          db:
            image: postgres:16
            healthcheck:
              test: ["CMD", "pg_isready"]
    """
    [finding] = run(compose(text, tmp_path), "DW213")
    assert finding.line == 4
    assert [(r.path, r.line) for r in finding.related] == [("compose.yaml", 11)]


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ('["CMD-SHELL", "exit 0"]', ["tests nothing"]),
        ('["CMD", "true"]', ["tests nothing"]),
        ("curl -f http://localhost:8000/ || exit 0", ["ignores its probe's failure"]),
        ('["CMD", "curl", "http://localhost:8000/"]', ["without --fail"]),
        ('["CMD", "curl", "-f", "http://localhost:8000/"]', []),
        ('["CMD", "pg_isready", "-U", "postgres"]', []),
        (PY_TEST, []),
    ],
)
def test_dw214(tmp_path: Path, test: str, expected: list[str]) -> None:
    text = f"services:\n  web:\n    image: acme/web:1\n    healthcheck:\n      test: {test}\n"
    messages = [f.message for f in run(compose(text, tmp_path), "DW214")]
    assert len(messages) == len(expected)
    assert all(part in message for part, message in zip(expected, messages, strict=True))


@pytest.mark.parametrize(
    ("service", "test", "expected"),
    [
        ("build: .", '["CMD", "curl", "-f", "http://localhost:8000/"]', [Severity.ERROR]),
        ("build: .", PY_TEST, []),
        ("image: python:3.12-slim", '["CMD-SHELL", "wget -q http://localhost/"]', [Severity.ERROR]),
        ("image: python:3.12-alpine", '["CMD-SHELL", "wget -q http://localhost/"]', []),
        ("image: postgres:16", '["CMD", "pg_isready"]', []),
        ("image: acme/web:1", '["CMD", "curl", "-f", "http://localhost/"]', []),
    ],
)
def test_dw215(tmp_path: Path, service: str, test: str, expected: list[Severity]) -> None:
    text = f"services:\n  web:\n    {service}\n    healthcheck:\n      test: {test}\n"
    found = [f.severity for f in run(compose(text, tmp_path), "DW215")]
    assert found == expected


def test_dw215_curl_installed_counts(tmp_path: Path) -> None:
    dockerfile = APP.replace(
        "WORKDIR /app", "RUN apt-get update && apt-get install -y --no-install-recommends curl"
    )
    text = "services:\n  web:\n    build: .\n    healthcheck:\n      test: curl -f http://localhost:8000/\n"
    assert run(compose(text, tmp_path, dockerfile), "DW215") == []
