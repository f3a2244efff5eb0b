"""Kubernetes probe rules (DW221-DW225)."""

from __future__ import annotations

from pathlib import Path

import pytest
from health_projects import run, write

from dockwise.findings import Severity


def manifest(container: str, kind: str = "Deployment") -> str:
    spec = "spec:\n  template:\n    spec:\n      containers:\n"
    if kind == "CronJob":
        spec = (
            "spec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n"
            "        spec:\n          containers:\n"
        )
    indent = " " * (spec.splitlines()[-1].index("c") + 2)
    body = "\n".join(indent + line for line in container.strip("\n").splitlines())
    return f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: web\n{spec}{body}\n"


WEB = """\
- name: web
  image: ghcr.io/acme/web:1
  ports:
    - {name: http, containerPort: 8000}
"""
PROBES = """\
  readinessProbe:
    httpGet: {path: /ready, port: http}
  livenessProbe:
    httpGet: {path: /healthz, port: http}
"""


def findings(tmp_path: Path, text: str, *rules: str) -> list[tuple[str, int | None, Severity]]:
    folder = write({"k8s/web.yaml": text}, tmp_path)
    return [(f.rule, f.line, f.severity) for f in run(folder, *rules)]


def test_missing_probes(tmp_path: Path) -> None:
    found = findings(tmp_path, manifest(WEB), "DW221", "DW222")
    assert sorted(found) == [("DW221", 9, Severity.WARNING), ("DW222", 9, Severity.WARNING)]


def test_probes_present(tmp_path: Path) -> None:
    assert findings(tmp_path, manifest(WEB + PROBES), "DW22") == []


def test_cronjobs_and_init_containers_are_not_asked(tmp_path: Path) -> None:
    assert findings(tmp_path, manifest(WEB, "CronJob"), "DW221", "DW222") == []
    init = manifest(WEB + PROBES).replace(
        "      containers:\n",
        "      initContainers:\n        - name: migrate\n          image: ghcr.io/acme/web:1\n"
        "      containers:\n",
    )
    assert findings(tmp_path, init, "DW221", "DW222") == []


def test_worker_without_ports_is_info(tmp_path: Path) -> None:
    worker = "- name: worker\n  image: ghcr.io/acme/worker:1\n  args: [celery, worker]\n"
    found = findings(tmp_path, manifest(worker), "DW221", "DW222")
    assert {severity for _, _, severity in found} == {Severity.INFO}


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ('exec: {command: ["true"]}', "tests nothing"),
        ('exec: {command: ["sh", "-c", "curl -f localhost:8000/ || true"]}', "always exits 0"),
        ('exec: {command: ["cat", "/tmp/healthy"]}', "could not tell"),
        ('exec: {command: ["pgrep", "gunicorn"]}', "tests nothing"),
        ('exec: {command: ["redis-cli", "ping"]}', None),
        ("tcpSocket: {port: http}", None),
    ],
)
def test_dw223(tmp_path: Path, probe: str, expected: str | None) -> None:
    text = manifest(WEB + f"  livenessProbe:\n    {probe}\n")
    folder = write({"k8s/web.yaml": text}, tmp_path)
    messages = [f.message for f in run(folder, "DW223")]
    assert messages == [] if expected is None else expected in messages[0]


def test_dw223_file_the_app_writes_is_maintained(tmp_path: Path) -> None:
    files = {
        "Dockerfile": 'FROM python:3.12-slim\nCOPY . .\nCMD ["python", "worker.py"]\n',
        "worker.py": "from pathlib import Path\nPath('/tmp/healthy').touch()\n",
        "k8s/web.yaml": manifest(
            "- name: web\n  image: web:1\n  livenessProbe:\n    exec: {command: [cat, /tmp/healthy]}\n"
        ),
    }
    folder = write(files, tmp_path / "web")
    assert run(folder, "DW223") == []
    (folder / "worker.py").write_text("print('no heartbeat')\n")
    [finding] = run(folder, "DW223")
    assert (
        finding.severity == Severity.WARNING
        and "nothing in the project writes it" in finding.message
    )


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ('exec: {command: ["pg_isready", "-h", "postgres"]}', Severity.WARNING),
        ('exec: {command: ["sh", "-c", "redis-cli -h cache ping"]}', Severity.WARNING),
        ('exec: {command: ["pg_isready", "-h", "localhost"]}', None),
        ('exec: {command: ["curl", "-f", "-H", "X: y", "http://localhost:8000/"]}', None),
        ("httpGet: {path: /health/db, port: http}", Severity.INFO),
        ("httpGet: {path: /healthz, port: http}", None),
    ],
)
def test_dw224(tmp_path: Path, probe: str, expected: Severity | None) -> None:
    text = manifest(WEB + f"  livenessProbe:\n    {probe}\n")
    found = [severity for _, _, severity in findings(tmp_path, text, "DW224")]
    assert found == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("port", "args", "expected"),
    [
        ("web", "", [Severity.ERROR]),
        ("http", "", []),
        ("8000", "", []),
        ("8081", "", [Severity.INFO]),
        ("8081", "  args: [--health-probe-bind-address=:8081]\n", []),
    ],
)
def test_dw225(tmp_path: Path, port: str, args: str, expected: list[Severity]) -> None:
    text = manifest(
        WEB + args + f"  readinessProbe:\n    httpGet: {{path: /ready, port: {port}}}\n"
    )
    found = [severity for _, _, severity in findings(tmp_path, text, "DW225")]
    assert found == expected
