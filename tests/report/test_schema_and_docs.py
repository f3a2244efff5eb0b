"""`dockwise schema` describes the JSON contract (real output validates, broken output does
not); docs/rules/ is generated from the rule metadata and fails here when stale."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from naive_report import NAIVE, naive_report

from dockwise.cli import main
from dockwise.report import render
from dockwise.report.ruledocs import rule_docs
from dockwise.rules import all_rules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    from dockwise.report.schema_command import check_schema

    document = check_schema()
    jsonschema.Draft202012Validator.check_schema(document)
    return document


def test_schema_command_prints_the_schema(
    schema: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema


def test_real_output_validates(
    schema: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", str(NAIVE), "-f", "json"])
    naive = json.loads(capsys.readouterr().out)
    assert any("related" in f for f in naive["findings"])
    jsonschema.validate(naive, schema)
    # an input error and a note (DW940 without shellcheck is tested elsewhere)
    (tmp_path / "Dockerfile").write_bytes(b"\x00binary")
    main(["check", str(tmp_path / "Dockerfile"), "-f", "json"])
    broken = json.loads(capsys.readouterr().out)
    assert broken["errors"]
    jsonschema.validate(broken, schema)
    with_image = json.loads(render(naive_report(image=True, usage=True), "json"))
    jsonschema.validate(with_image, schema)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("summary"),
        lambda d: d["findings"][0].update(severity="fatal"),
        lambda d: d["findings"][0].update(rule="SC2086"),
        lambda d: d["findings"][0].update(line=0),
        lambda d: d.update(extra=True),
        lambda d: d["image"]["layers"][0].update(size_bytes=-1),
        lambda d: d["usage"].update(containers={}),
    ],
)
def test_broken_output_does_not_validate(schema: dict[str, object], damage: object) -> None:
    document = json.loads(render(naive_report(image=True, usage=True), "json"))
    damage(document)  # type: ignore[operator]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_rule_pages_are_up_to_date() -> None:
    wanted = rule_docs()
    stale = [
        name
        for name, text in wanted.items()
        if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text
    ]
    extra = sorted(p.name for p in DOCS.glob("*.md") if p.name not in wanted)
    assert not stale and not extra, (
        f"docs/rules is stale ({len(stale)} changed, extra: {extra}): "
        "run `python -m dockwise.report.ruledocs docs/rules`"
    )
    assert len(wanted) == len(all_rules()) + 1  # a page per rule and the index


def test_every_page_is_what_explain_prints_and_the_index_links_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for rule in all_rules():
        main(["explain", rule.id])
        explained = capsys.readouterr().out
        assert (DOCS / f"{rule.id}.md").read_text(encoding="utf-8").startswith(explained)
        assert f"]({rule.id}.md)" in index
    for peer in ("hadolint:DL3008",):
        assert peer in index  # peer equivalents are listed
