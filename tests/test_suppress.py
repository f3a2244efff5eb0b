"""Suppressions: inline, global and stage pragmas, hadolint codes, per-path configuration."""

from __future__ import annotations

from msgspec.structs import replace

from dockwise.config import Config, config_from_table
from dockwise.engine import check_project
from dockwise.project import project_from_text
from dockwise.rules import rule_by_id
from dockwise.suppress import parse_suppressions

SHELL_CMD = "CMD python app.py\n"


def lines(text: str, *rule_ids: str, config: Config | None = None) -> list[tuple[str, int | None]]:
    rules = [rule_by_id(rule_id) for rule_id in rule_ids]
    assert all(rules)
    config = replace(config or Config(), select=rule_ids)
    outcome = check_project(project_from_text(text, config), rules)  # type: ignore[arg-type]
    return [(f.rule, f.line) for f in outcome.findings]


def test_pragma_applies_to_the_next_instruction_only() -> None:
    text = "FROM python:3.11-slim\n# dockwise: ignore=DW933 moving to labels\nMAINTAINER a\nMAINTAINER b\n"
    assert lines(text, "DW933") == [("DW933", 4)]


def test_pragma_in_a_comment_block_above_and_a_reason_after_the_codes() -> None:
    text = "FROM x\n# hadolint ignore=DL4000 -- legacy\n# another comment\nMAINTAINER a\n"
    assert lines(text, "DW933") == []


def test_hadolint_code_silences_the_matching_dockwise_rule_only() -> None:
    text = "FROM python:3.11-slim\n# hadolint ignore=DL3025\nCMD python app.py\nMAINTAINER a\n"
    assert lines(text, "DW601", "DW933") == [("DW933", 4)]


def test_global_pragma_covers_the_file() -> None:
    text = "# hadolint global ignore=DL4000\nFROM x\nMAINTAINER a\nFROM y\nMAINTAINER b\n"
    assert lines(text, "DW933") == []


def test_stage_pragma_covers_one_stage() -> None:
    text = "# dockwise: stage ignore=DW933\nFROM x AS a\nMAINTAINER a\nFROM y\nMAINTAINER b\n"
    assert lines(text, "DW933") == [("DW933", 5)]


def test_disable_ignore_pragmas_makes_them_inert() -> None:
    text = "FROM x\n# dockwise: ignore=DW933\nMAINTAINER a\n"
    config = config_from_table({"disable-ignore-pragmas": True})
    assert lines(text, "DW933", config=config) == [("DW933", 3)]


def test_per_path_ignores_and_severity_overrides() -> None:
    text = "FROM x\nMAINTAINER a\n"
    ignored = config_from_table({"per-path-ignores": {"-": ["DW933"]}})
    assert lines(text, "DW933", config=ignored) == []
    other = config_from_table({"per-path-ignores": {"legacy/*": ["general"]}})
    assert lines(text, "DW933", config=other) == [("DW933", 2)]


def test_pragmas_are_parsed_with_their_scope() -> None:
    table = parse_suppressions(
        "# hadolint global ignore=DL3008,DL3009\nFROM x\n# dockwise: ignore=dw601\n"
    )
    assert [(p.line, p.scope, sorted(p.codes)) for p in table.pragmas] == [
        (1, "global", ["DL3008", "DL3009"]),
        (3, "line", ["DW601"]),
    ]
