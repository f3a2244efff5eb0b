"""Files not checked: templates (DW950), manifests that do not parse (DW951), Python
modules that do not parse (DW952)."""

from __future__ import annotations

from pathlib import Path

from ruletest import folder_hits


def test_compose_template_is_skipped_once_not_a_parse_error(tmp_path: Path) -> None:
    files = {
        "{{cookiecutter.name}}/docker-compose.yml": (
            "services:\n  web:\n    build: .\n"
            "{%- if cookiecutter.db == 'postgres' %}\n  db:\n    image: postgres:16\n{%- endif %}\n"
            "    ports: [{{cookiecutter.port}}:8000]\n"
        )
    }
    assert folder_hits("DW950", files, tmp_path) == [
        ("{{cookiecutter.name}}/docker-compose.yml", 4)
    ]
    assert folder_hits("DW944", files, tmp_path) == []


def test_compose_with_go_templates_in_strings_still_parses(tmp_path: Path) -> None:
    files = {
        "compose.yaml": "services:\n  web:\n    image: 'nginx:1.27'\n    labels: ['x={{ .Name }}']\n"
    }
    assert folder_hits("DW950", files, tmp_path) == []


def test_helm_templates_are_one_note_per_folder(tmp_path: Path) -> None:
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  replicas: {{ .Values.replicas }}\n"
    )
    files = {
        "chart/templates/deployment.yaml": deployment,
        "chart/templates/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n",
    }
    assert folder_hits("DW950", files, tmp_path) == [("chart/templates/deployment.yaml", None)]
    assert folder_hits("DW951", files, tmp_path) == []


def test_manifest_with_a_tab_or_a_repeated_key(tmp_path: Path) -> None:
    files = {
        "k8s/a.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
        "k8s/b.yaml": "apiVersion: v1\nkind: Pod\nspec:\n\tcontainers: []\n",
        "k8s/fine.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: c}\n",
    }
    hits = folder_hits("DW951", files, tmp_path)
    assert [path for path, _ in hits] == ["k8s/a.yaml", "k8s/b.yaml"]
    assert hits[0][1] == 5


def test_python_outside_any_build_context_is_not_read(tmp_path: Path) -> None:
    files = {"Dockerfile": "FROM python:3.12-slim\n", "scripts/old.py": "print 'x'\n"}
    # the Dockerfile's context is the folder: scripts/old.py is in it, but no check reads it
    assert folder_hits("DW952", files, tmp_path) == []
