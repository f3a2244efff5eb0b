"""Every rule's bad example must trigger it and its good example must not."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagetest import with_example_image
from msgspec.structs import replace

from dockwise.config import config_from_table
from dockwise.engine import check_project
from dockwise.findings import Example, Rule
from dockwise.project import load_project
from dockwise.rules import all_rules

RULES = all_rules()


def materialize(example: Example, folder: Path) -> Path:
    files = {"Dockerfile": example} if isinstance(example, str) else dict(example)
    for relpath, text in files.items():
        target = folder / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


def findings_of(rule: Rule, example: Example, folder: Path) -> list[str]:
    root = materialize(example, folder)
    config = replace(config_from_table(dict(rule.meta.example_config)), select=(rule.id,))
    project = with_example_image(load_project(root, config), root)  # an image rule's example
    outcome = check_project(project, [rule])
    assert not outcome.problems, outcome.problems
    return [f"{f.path}:{f.line}: {f.message}" for f in outcome.findings if f.rule == rule.id]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_bad_example_triggers(rule: Rule, tmp_path: Path) -> None:
    assert findings_of(rule, rule.meta.bad, tmp_path), f"{rule.id}: bad example not reported"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_good_example_is_clean(rule: Rule, tmp_path: Path) -> None:
    assert findings_of(rule, rule.meta.good, tmp_path) == []


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_metadata_complete(rule: Rule) -> None:
    meta = rule.meta
    assert meta.title and meta.why and meta.fix
    assert meta.bad != meta.good
    assert all(":" in alias for alias in meta.also)
