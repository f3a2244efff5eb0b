"""Issue 12's cases, end to end on the reference service: break one thing, see the finding
that points at both places; leave it careful, see nothing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Finding
from dockwise.project import load_project
from dockwise.rules import all_rules

# the reference service as it was when these cases were written (uvicorn as the CMD): the
# current examples/service starts `python -m app`, which dockwise does not follow into
# uvicorn.Server, so its routes and bind stay unseen there
SERVICE = Path(__file__).resolve().parent / "fixtures" / "reference-service-v1"


@pytest.fixture
def service(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SERVICE, tmp_path / "service"))


def findings(folder: Path) -> list[Finding]:
    outcome = check_project(load_project(folder, Config()), all_rules())
    assert not outcome.problems, outcome.problems
    return list(outcome.findings)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def by_rule(found: list[Finding], rule: str) -> list[Finding]:
    return [f for f in found if f.rule == rule]


def test_the_careful_project_is_clean(service: Path) -> None:
    assert findings(service) == []


def test_healthcheck_on_the_wrong_port_names_the_server_line(service: Path) -> None:
    edit(service / "Dockerfile", "127.0.0.1:8000/healthz", "127.0.0.1:8080/healthz")
    (hit,) = by_rule(findings(service), "DW232")
    assert hit.path == "Dockerfile" and hit.severity.label == "warning"
    cmd_line = next(
        n
        for n, line in enumerate((service / "Dockerfile").read_text().splitlines(), 1)
        if line.startswith("CMD")
    )
    assert [(r.path, r.line) for r in hit.related] == [("Dockerfile", cmd_line)]


def test_probe_on_a_path_the_app_does_not_serve_names_the_routes(service: Path) -> None:
    edit(service / "k8s" / "deployment.yaml", "path: /healthz", "path: /health")
    hits = by_rule(findings(service), "DW231")
    assert {h.path for h in hits} == {"k8s/deployment.yaml"} and len(hits) == 2
    assert ("app/main.py", "route /healthz") in {(r.path, r.message) for r in hits[0].related}


def test_probes_in_kubernetes_need_no_healthcheck_in_the_image(service: Path) -> None:
    text = (service / "Dockerfile").read_text()
    (service / "Dockerfile").write_text(re.sub(r"HEALTHCHECK .*?\]\n", "", text, flags=re.S))
    compose = service / "compose.yaml"
    compose.write_text(re.sub(r"    healthcheck:\n(      .*\n)+", "", compose.read_text()))
    found = findings(service)
    assert "HEALTHCHECK" not in (service / "Dockerfile").read_text()
    assert by_rule(found, "DW202") == []


def test_a_server_bound_to_loopback_fails_the_kubernetes_probes(service: Path) -> None:
    edit(service / "Dockerfile", '"--host", "0.0.0.0", ', "")
    errors = [f for f in by_rule(findings(service), "DW233") if f.severity.label == "error"]
    assert errors and errors[0].related and errors[0].related[0].path == "k8s/deployment.yaml"


def test_compose_without_limits_with_a_password_and_no_logs(service: Path) -> None:
    compose = service / "compose.yaml"
    text = compose.read_text()
    text = re.sub(r"    deploy:\n(      .*\n)+", "", text)
    text = re.sub(r"    logging:\n(      .*\n)+", "    logging:\n      driver: none\n", text)
    text = text.replace(
        "      LOG_LEVEL: INFO\n", "      LOG_LEVEL: INFO\n      DB_PASSWORD: Xk9#mQ2vL7pR4tZw\n"
    )
    compose.write_text(text)
    found = findings(service)
    assert len(by_rule(found, "DW401")) == 1
    assert len(by_rule(found, "DW305")) == 1
    (secret,) = by_rule(found, "DW520")
    assert "Xk9#mQ2vL7pR4tZw" not in secret.message


def test_deployment_without_probes_or_memory_limit_with_a_password(service: Path) -> None:
    manifest = service / "k8s" / "deployment.yaml"
    text = manifest.read_text()
    text = re.sub(r"          readinessProbe:\n(            .*\n)+", "", text)
    text = re.sub(r"          livenessProbe:\n(            .*\n)+", "", text)
    text = text.replace("            limits:\n              memory: 256Mi\n", "")
    text = text.replace(
        "              valueFrom:\n                secretKeyRef:\n"
        "                  name: reference-db\n                  key: password\n",
        "              value: Xk9#mQ2vL7pR4tZw\n",
    )
    manifest.write_text(text)
    found = findings(service)
    for rule in ("DW221", "DW222", "DW403", "DW523"):
        assert [f.path for f in by_rule(found, rule)] == ["k8s/deployment.yaml"], rule


# --- the same cases on the real reference service: `python -m app`, whose __main__ builds a
# uvicorn.Config from the settings; dockwise reads the bind, app and graceful timeout there

REAL = Path(__file__).resolve().parents[1] / "examples" / "service"


@pytest.fixture
def real(tmp_path: Path) -> Path:
    copied = shutil.copytree(REAL, tmp_path / "real", ignore=shutil.ignore_patterns("__pycache__"))
    return Path(copied)


def line_of(path: Path, start: str) -> int:
    return next(
        n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start)
    )


def test_the_real_service_is_clean(real: Path) -> None:
    assert findings(real) == []


def test_real_probe_on_a_path_the_app_does_not_serve(real: Path) -> None:
    edit(real / "k8s" / "deployment.yaml", "path: /health\n", "path: /healthz\n")
    (hit,) = by_rule(findings(real), "DW231")
    assert hit.path == "k8s/deployment.yaml" and "/healthz" in hit.message
    related = {(r.path, r.line) for r in hit.related}
    assert ("Dockerfile", line_of(real / "Dockerfile", "CMD")) in related
    assert ("app/main.py", line_of_route(real, "/health")) in related


def line_of_route(real: Path, path: str) -> int:
    lines = (real / "app" / "main.py").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if f'.get("{path}"' in line)


def test_real_probe_port_differs_from_the_server_port(real: Path) -> None:
    edit(real / "k8s" / "deployment.yaml", "containerPort: 8000", "containerPort: 8080")
    hits = by_rule(findings(real), "DW232")
    assert [h.path for h in hits] == ["k8s/deployment.yaml"] * 2
    assert all("8080" in h.message and "8000" in h.message for h in hits)
    cmd = ("Dockerfile", line_of(real / "Dockerfile", "CMD"))
    assert all(cmd in {(r.path, r.line) for r in h.related} for h in hits)


def test_real_port_from_the_image_environment(real: Path) -> None:
    edit(real / "Dockerfile", "PORT=8000", "PORT=9000")
    hits = by_rule(findings(real), "DW232")
    assert hits and all("listens on 9000" in h.message for h in hits)


def test_real_server_bound_to_loopback_fails_the_probes(real: Path) -> None:
    edit(real / "app" / "__main__.py", 'host="0.0.0.0"', 'host="127.0.0.1"')
    hits = by_rule(findings(real), "DW233")
    errors = [h for h in hits if h.severity.label == "error"]
    assert errors and errors[0].path == "Dockerfile"
    assert errors[0].related and errors[0].related[0].path == "k8s/deployment.yaml"


def test_real_termination_grace_shorter_than_the_graceful_timeout(real: Path) -> None:
    manifest = real / "k8s" / "deployment.yaml"
    edit(manifest, "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 5")
    (hit,) = by_rule(findings(real), "DW611")
    assert hit.path == "k8s/deployment.yaml"
    assert hit.line == line_of(manifest, "      terminationGracePeriodSeconds")
    assert "10 s" in hit.message
    assert [r.path for r in hit.related] == ["Dockerfile"]


def test_real_graceful_timeout_follows_the_environment(real: Path) -> None:
    # SHUTDOWN_TIMEOUT=40 in the Deployment: settings.shutdown_timeout outlives 30 s
    edit(real / "k8s" / "deployment.yaml", 'value: "10"', 'value: "40"')
    (hit,) = by_rule(findings(real), "DW611")
    assert "40 s" in hit.message


def test_real_compose_stop_grace_period_shorter_than_the_graceful_timeout(real: Path) -> None:
    edit(real / "compose.yaml", "stop_grace_period: 15s", "stop_grace_period: 5s")
    (hit,) = by_rule(findings(real), "DW610")
    assert hit.path == "compose.yaml" and "10 s" in hit.message


SCRIPT_DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /srv
COPY main.py ./
USER 10001
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
CMD ["python", "main.py"]
"""

SCRIPT_MAIN = """\
import os

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
"""


@pytest.mark.parametrize(
    ("change", "rule", "where"),
    [
        (("Dockerfile", "", ""), None, None),
        (("Dockerfile", "/health')", "/healthz')"), "DW231", ("main.py", 9)),
        (("Dockerfile", "USER 10001", "ENV PORT=9000\nUSER 10001"), "DW232", ("Dockerfile", 7)),
    ],
)
def test_a_script_that_calls_uvicorn_run(
    tmp_path: Path, change: tuple[str, str, str], rule: str | None, where: tuple[str, int] | None
) -> None:
    (tmp_path / "Dockerfile").write_text(SCRIPT_DOCKERFILE)
    (tmp_path / "main.py").write_text(SCRIPT_MAIN)
    name, old, new = change
    if old:
        edit(tmp_path / name, old, new)
    found = [f for f in findings(tmp_path) if f.rule in ("DW231", "DW232", "DW233")]
    if rule is None:
        assert found == []
        return
    (hit,) = found
    assert hit.rule == rule and hit.path == "Dockerfile"
    assert where in {(r.path, r.line) for r in hit.related}


def test_real_code_path_runs_through_main(real: Path) -> None:
    # `python -m app` runs app/__main__.py, which imports app.logs: its handlers are read
    edit(
        real / "app" / "logs.py",
        '"class": "logging.StreamHandler", "formatter": "json", "stream": sys.stdout',
        '"class": "logging.FileHandler", "formatter": "json", "filename": "/data/app.log"',
    )
    (hit,) = by_rule(findings(real), "DW307")
    assert hit.path == "app/logs.py" and "/data/app.log" in hit.message
    assert [(r.path, r.line) for r in hit.related] == [
        ("Dockerfile", line_of(real / "Dockerfile", "CMD"))
    ]


def test_a_module_celery_imports_is_not_run_as_the_program(tmp_path: Path) -> None:
    dockerfile = SCRIPT_DOCKERFILE.replace(
        'CMD ["python", "main.py"]', 'CMD ["python", "-m", "celery", "-A", "main", "worker"]'
    )
    (tmp_path / "Dockerfile").write_text(
        dockerfile.replace("USER 10001", "ENV PORT=9000\nUSER 10001")
    )
    (tmp_path / "main.py").write_text(SCRIPT_MAIN)
    assert [f for f in findings(tmp_path) if f.rule in ("DW231", "DW232", "DW233")] == []
