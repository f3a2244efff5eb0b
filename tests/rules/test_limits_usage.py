"""DW409/DW410: limits in compose files and manifests against measured usage."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from dockwise.cli import main
from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Finding
from dockwise.project import load_project
from dockwise.rules import rule_by_id
from dockwise.rules.limits_usage import _usage_json

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: app
          image: acme/web:1.4.2
          resources:
            requests:
              memory: {request}
              cpu: 100m
            limits:
              memory: {limit}
              cpu: {cpu}
"""


def run(rule_id: str, files: dict[str, str], folder: Path, **project: object) -> list[Finding]:
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    rule = rule_by_id(rule_id)
    assert rule is not None
    loaded = load_project(folder, Config(select=(rule_id,)))
    if project:
        from msgspec.structs import replace

        loaded = replace(loaded, **project)  # type: ignore[arg-type]
    outcome = check_project(loaded, [rule])
    assert not outcome.problems, outcome.problems
    return [f for f in outcome.findings if f.rule == rule_id]


def manifest(limit: str, request: str | None = None, cpu: str = "1") -> str:
    return MANIFEST.format(limit=limit, request=request or limit, cpu=cpu)


@pytest.mark.parametrize(
    ("limit", "memory_request", "severity", "words"),
    [
        ("300Mi", None, "error", "below the observed peak"),
        ("420Mi", None, "warning", "leaves only 5% over the observed peak"),
        ("640Mi", None, None, ""),
        ("2Gi", None, "warning", "request reserves it on the node"),
        ("2Gi", "600Mi", "info", "a leak grows that far"),
    ],
)
def test_kubernetes_memory_against_usage(
    tmp_path: Path, limit: str, memory_request: str | None, severity: str | None, words: str
) -> None:
    usage = _usage_json(("shop/web/app", 400, 380, 600))
    found = run(
        "DW409",
        {"deploy.yaml": manifest(limit, memory_request), "dockwise-usage.json": usage},
        tmp_path,
    )
    if severity is None:
        assert found == []
        return
    assert [(f.path, f.line, f.severity.label) for f in found] == [("deploy.yaml", 17, severity)]
    assert words in found[0].message
    assert "observed peak 400 MiB, p95 380 MiB over 8640 samples" in found[0].message
    assert "600 MiB" in (found[0].fix or "")


def test_usage_of_another_workload_is_not_compared(tmp_path: Path) -> None:
    usage = _usage_json(("shop/api/app", 4000, 3800, 6000))
    files = {"deploy.yaml": manifest("300Mi"), "dockwise-usage.json": usage}
    assert run("DW409", files, tmp_path) == []


def test_without_usage_nothing_is_said(tmp_path: Path) -> None:
    assert run("DW409", {"deploy.yaml": manifest("1Mi")}, tmp_path) == []
    assert run("DW410", {"deploy.yaml": manifest("1Mi", cpu="10m")}, tmp_path) == []


def test_kubernetes_cpu_limit_below_p95(tmp_path: Path) -> None:
    usage = _usage_json(("app", 400, 380, 600))
    found = run(
        "DW410",
        {"deploy.yaml": manifest("640Mi", cpu="100m"), "dockwise-usage.json": usage},
        tmp_path,
    )
    assert [(f.line, f.severity.label) for f in found] == [(18, "warning")]
    assert "below the observed p95 of 200m" in found[0].message


def test_unreadable_usage_file_is_reported(tmp_path: Path) -> None:
    files = {"compose.yaml": "services:\n  web:\n    image: a\n", "dockwise-usage.json": "{"}
    found = run("DW409", files, tmp_path)
    assert [(f.path, f.line) for f in found] == [("dockwise-usage.json", None)]
    assert "not JSON" in found[0].message


def test_usage_file_given_explicitly_wins(tmp_path: Path) -> None:
    elsewhere = tmp_path / "measured"
    elsewhere.mkdir()
    given = elsewhere / "usage.json"
    given.write_text(_usage_json(("web", 400, 380, 600)))
    project = tmp_path / "project"
    project.mkdir()
    files = {
        "compose.yaml": "services:\n  web:\n    image: a\n    mem_limit: 256m\n",
        "dockwise-usage.json": _usage_json(("web", 100, 90, 150)),
    }
    found = run("DW409", files, project, usage_file=given)
    assert len(found) == 1 and found[0].severity.label == "error"


def test_check_usage_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    image: acme/web:1\n    mem_limit: 256m\n    cpus: 1.0\n"
    )
    usage = tmp_path / "usage.json"
    usage.write_text(_usage_json(("shop-web-1", 400, 380, 600)))
    code = main(["check", str(tmp_path), "--usage", str(usage), "-f", "json", "--select", "DW409"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(f["rule"], f["line"], f["severity"]) for f in report["findings"]] == [
        ("DW409", 4, "error")
    ]
    usage.write_text('{"version": 1, "containers": [{"name": "web"}]}')
    code = main(["check", str(tmp_path), "--usage", str(usage)])
    err = capsys.readouterr().err
    assert code == 2
    assert "memory and cpu must be objects" in err and "Traceback" not in err
    code = main(["check", str(tmp_path), "--usage", str(tmp_path / "missing.json")])
    assert code == 2 and "no such usage file" in capsys.readouterr().err
