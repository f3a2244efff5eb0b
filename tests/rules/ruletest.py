"""Run one rule on a Dockerfile's text or on a small project folder, for the rule tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.findings import Finding
from dockwise.project import Project, load_project, project_from_text
from dockwise.rules import rule_by_id


def _findings(rule_id: str, project: Project) -> list[Finding]:
    rule = rule_by_id(rule_id)
    assert rule is not None and rule.id == rule_id
    outcome = check_project(project, [rule])
    assert not outcome.problems, outcome.problems
    return [f for f in outcome.findings if f.rule == rule_id]


def text_findings(rule_id: str, text: str) -> list[Finding]:
    project = project_from_text(textwrap.dedent(text), Config(select=(rule_id,)))
    return _findings(rule_id, project)


def hits(rule_id: str, text: str) -> list[int | None]:
    """Lines at which one rule reports on a Dockerfile given as (indented) text."""
    return [f.line for f in text_findings(rule_id, text)]


def messages(rule_id: str, text: str) -> list[str]:
    return [f.message for f in text_findings(rule_id, text)]


def folder_hits(rule_id: str, files: dict[str, str], folder: Path) -> list[tuple[str, int | None]]:
    """(path, line) of one rule's findings on a project written into folder."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))
    project = load_project(folder, Config(select=(rule_id,)))
    return [(f.path, f.line) for f in _findings(rule_id, project)]
