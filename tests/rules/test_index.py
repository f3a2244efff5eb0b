"""The rule index (rules/_index.py): up to date, and what `check` loads by it."""

from __future__ import annotations

from pathlib import Path

from dockwise.config import Config
from dockwise.limits.usagefile import USAGE_FILE
from dockwise.project import load_project
from dockwise.rules import USAGE_FILE as INDEX_USAGE_FILE
from dockwise.rules import (
    all_rule_ids,
    all_rules,
    project_scopes,
    render_index,
    rules_for,
)

INDEX = Path(__file__).parents[2] / "src" / "dockwise" / "rules" / "_index.py"


def test_index_is_up_to_date() -> None:
    # stale: run `.venv/bin/python -c "from dockwise.rules import write_index; write_index()"`
    assert INDEX.read_text(encoding="utf-8") == render_index()


def test_index_knows_every_rule_id() -> None:
    assert all_rule_ids() == tuple(r.id for r in all_rules())


def test_usage_file_name_is_the_limits_one() -> None:
    assert INDEX_USAGE_FILE == USAGE_FILE


def test_a_dockerfile_alone_loads_no_compose_kubernetes_image_or_usage_rule(
    tmp_path: Path,
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCMD python app.py\n")
    project = load_project(tmp_path, Config())
    assert project_scopes(project) == {"always"}
    loaded = {r.id for r in rules_for(project)}
    assert "DW201" in loaded and "DW231" in loaded  # Dockerfile and service rules
    assert not loaded & {"DW211", "DW221", "DW241", "DW409"}


def test_compose_manifests_and_usage_load_their_rules(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCMD python app.py\n")
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    build: .\n")
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
        "spec:\n  containers:\n    - name: web\n      image: web\n"
    )
    (tmp_path / USAGE_FILE).write_text("{}")
    project = load_project(tmp_path, Config())
    assert project_scopes(project) == {"always", "compose", "kubernetes", "usage"}
    loaded = {r.id for r in rules_for(project)}
    assert {"DW201", "DW211", "DW221", "DW409"} <= loaded
    assert "DW241" not in loaded  # no image
