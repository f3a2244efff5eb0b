"""Health cross-checks over a service (DW231-DW233) and the projects of issue 12."""

from __future__ import annotations

from pathlib import Path

import pytest
from health_projects import API, DEPLOYMENT, DOCKERFILE, MAIN, careful_project, run, write

from dockwise.findings import Severity

HEALTH_RULES = ("DW2",)


def test_careful_compose_kubernetes_fastapi_project_is_clean(tmp_path: Path) -> None:
    folder = write(careful_project(), tmp_path)
    findings = run(folder, *HEALTH_RULES)
    assert [f"{f.rule} {f.path}:{f.line} {f.message}" for f in findings] == []


def test_healthcheck_on_wrong_port_is_reported_with_both_lines(tmp_path: Path) -> None:
    files = careful_project()
    files["Dockerfile"] = DOCKERFILE.replace("127.0.0.1:8000/healthz", "127.0.0.1:8080/healthz")
    folder = write(files, tmp_path)
    [finding] = run(folder, "DW232")
    assert (finding.path, finding.line) == ("Dockerfile", 5)
    assert "checks port 8080, but uvicorn listens on 8000" in finding.message
    [related] = finding.related
    assert (related.path, related.line) == ("Dockerfile", 6)


def test_healthcheck_on_a_path_the_app_does_not_serve_is_reported_with_both_lines(
    tmp_path: Path,
) -> None:
    files = careful_project()
    files["Dockerfile"] = DOCKERFILE.replace("8000/healthz", "8000/health")
    folder = write(files, tmp_path)
    [finding] = run(folder, "DW231")
    assert (finding.path, finding.line) == ("Dockerfile", 5)
    assert "requests /health, which app.main:app does not serve" in finding.message
    places = [(r.path, r.line) for r in finding.related]
    assert ("Dockerfile", 6) in places  # the command that starts the app
    assert ("app/main.py", 9) in places  # the health route it has


def test_service_with_kubernetes_probes_is_not_asked_for_a_healthcheck(tmp_path: Path) -> None:
    files = careful_project()
    files["Dockerfile"] = "\n".join(
        line for line in DOCKERFILE.splitlines() if not line.startswith("HEALTHCHECK")
    )
    del files["compose.yaml"]
    folder = write(files, tmp_path / "shop")  # the image is named like the folder
    assert run(folder, "DW202") == []
    # the same image without probes in its Deployment is asked
    manifest = (folder / "deploy/deployment.yaml").read_text()
    cut = manifest.index("          readinessProbe")
    (folder / "deploy/deployment.yaml").write_text(manifest[:cut])
    assert [f.rule for f in run(folder, "DW202")] == ["DW202"]


def test_probe_path_not_served_points_at_the_probe(tmp_path: Path) -> None:
    files = careful_project()
    files["deploy/deployment.yaml"] = files["deploy/deployment.yaml"].replace(
        "path: /ready", "path: /readyz"
    )
    folder = write(files, tmp_path)
    [finding] = run(folder, "DW231")
    assert finding.path == "deploy/deployment.yaml"
    assert "readiness probe of container web requests /readyz" in finding.message


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/items/3", []),  # through the router's prefix
        ("/docs", []),  # FastAPI serves it by itself
        ("/healthz?full=1", []),
        ("/items/3", ["DW231"]),  # the prefix is missing
    ],
)
def test_route_matching(tmp_path: Path, path: str, expected: list[str]) -> None:
    files = careful_project()
    files["Dockerfile"] = DOCKERFILE.replace("8000/healthz", f"8000{path}")
    assert [f.rule for f in run(write(files, tmp_path), "DW231")] == expected


def test_incomplete_route_list_is_silent(tmp_path: Path) -> None:
    files = careful_project()
    files["Dockerfile"] = DOCKERFILE.replace("8000/healthz", "8000/health")
    files["app/main.py"] += "\nPREFIX = get_prefix()\napp.include_router(router, prefix=PREFIX)\n"
    assert run(write(files, tmp_path), "DW231") == []


def test_unknown_app_is_silent(tmp_path: Path) -> None:
    files = careful_project()
    files["Dockerfile"] = DOCKERFILE.replace("8000/healthz", "8000/health").replace(
        '["uvicorn", "app.main:app",', '["uvicorn", "app.other:app",'
    )
    assert run(write(files, tmp_path), "DW231") == []


def test_compose_healthcheck_port_against_gunicorn_config(tmp_path: Path) -> None:
    files = {
        "Dockerfile": """\
            FROM python:3.12-slim
            WORKDIR /app
            COPY . .
            CMD ["gunicorn", "app:app"]
        """,
        "gunicorn.conf.py": 'bind = "0.0.0.0:9000"\nworkers = 2\n',
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "compose.yaml": """\
            services:
              web:
                build: .
                healthcheck:
                  test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/', timeout=2)"]
        """,
    }
    [finding] = run(write(files, tmp_path), "DW232")
    assert finding.path == "compose.yaml" and finding.line == 5
    assert "listens on 9000" in finding.message
    assert [(r.path, r.line) for r in finding.related] == [("Dockerfile", 4)]


def test_gunicorn_port_from_environment(tmp_path: Path) -> None:
    files = {
        "Dockerfile": """\
            FROM python:3.12-slim
            ENV PORT=8080
            HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/', timeout=2)"]
            CMD ["gunicorn", "app:app"]
        """
    }
    folder = write(files, tmp_path)
    assert run(folder, "DW232", "DW233") == []


def test_port_check_is_silent_next_to_nginx(tmp_path: Path) -> None:
    files = {
        "Dockerfile": """\
            FROM python:3.12-slim
            HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:80/', timeout=2)"]
            CMD ["sh", "-c", "nginx && exec gunicorn -b 127.0.0.1:8000 app:app"]
        """
    }
    folder = write(files, tmp_path)
    assert run(folder, "DW232") == []
    [finding] = run(folder, "DW233")
    assert finding.severity == Severity.INFO


@pytest.mark.parametrize(
    ("cmd", "expected"),
    [
        ('["uvicorn", "app.main:app", "--port", "8000"]', ["binds 127.0.0.1 (its default"]),
        ('["gunicorn", "-b", "127.0.0.1:8000", "app:app"]', ["binds 127.0.0.1:"]),
        ('["python", "manage.py", "runserver"]', ["binds 127.0.0.1 (its default"]),
        ('["python", "manage.py", "runserver", "0.0.0.0:8000"]', []),
        ('["flask", "run", "--host=0.0.0.0"]', []),
        ('["uv", "run", "uvicorn", "app.main:app"]', ["binds 127.0.0.1 (its default"]),
        ('["uvicorn", "app.main:app", "--host", "0.0.0.0"]', []),
        ('["gunicorn", "--bind", "$BIND", "app:app"]', []),
        ('["gunicorn", "--bind", "unix:/tmp/app.sock", "app:app"]', []),
    ],
)
def test_dw233_loopback(tmp_path: Path, cmd: str, expected: list[str]) -> None:
    folder = write({"Dockerfile": f"FROM python:3.12-slim\nCMD {cmd}\n"}, tmp_path)
    messages = [f.message for f in run(folder, "DW233")]
    assert len(messages) == len(expected)
    for message, part in zip(messages, expected, strict=True):
        assert part.rstrip(":") in message


def test_dw233_with_kubernetes_probes_is_an_error(tmp_path: Path) -> None:
    files = careful_project()
    files["Dockerfile"] = DOCKERFILE.replace('"--host", "0.0.0.0", ', "")
    del files["compose.yaml"]
    [finding] = run(write(files, tmp_path / "shop"), "DW233")
    assert finding.severity == Severity.ERROR
    assert finding.path == "Dockerfile" and finding.line == 6
    assert finding.related[0].path == "deploy/deployment.yaml"


def test_dw233_entrypoint_script_makes_it_info(tmp_path: Path) -> None:
    files = {
        "Dockerfile": """\
            FROM python:3.12-slim
            COPY entrypoint.sh /entrypoint.sh
            ENTRYPOINT ["/entrypoint.sh"]
            CMD ["uvicorn", "app.main:app"]
        """,
        "entrypoint.sh": '#!/bin/sh\nexec "$@"\n',
    }
    [finding] = run(write(files, tmp_path), "DW233")
    assert finding.severity == Severity.INFO
    assert "ENTRYPOINT /entrypoint.sh" in finding.message


def test_unlinked_kubernetes_probes_make_dw202_could_not_tell(tmp_path: Path) -> None:
    dockerfile = "\n".join(
        line for line in DOCKERFILE.splitlines() if not line.startswith("HEALTHCHECK")
    )
    files = {
        "svc/a/web/Dockerfile": dockerfile,
        "svc/a/web/app/__init__.py": "",
        "svc/a/web/app/main.py": MAIN,
        "svc/a/web/app/api.py": API,
        "svc/deploy/deployment.yaml": DEPLOYMENT.replace(
            "ghcr.io/acme/shop:1.0.0", "registry.example.com/team/storefront:2"
        ),
    }
    [finding] = run(write(files, tmp_path / "shop"), "DW202")
    assert finding.severity == Severity.INFO
    assert (
        "could not tell whether the probes in svc/deploy/deployment.yaml check it"
        in finding.message
    )
    # without the probes, nothing suggests another health check: a warning
    (tmp_path / "shop/svc/deploy/deployment.yaml").unlink()
    [finding] = run(tmp_path / "shop", "DW202")
    assert finding.severity == Severity.WARNING
