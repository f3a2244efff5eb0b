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
