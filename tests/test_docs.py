"""docs/rules.md is generated from the rule metadata, so it can never drift from `explain`."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwise.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_rules_reference_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    main(["rules", "--format", "markdown"])
    generated = capsys.readouterr().out
    assert DOCS.read_text(encoding="utf-8") == generated, (
        "docs/rules.md is stale: run `dockwise rules --format markdown > docs/rules.md`"
    )


def test_explain_prints_the_same_text_as_the_docs(capsys: pytest.CaptureFixture[str]) -> None:
    main(["explain", "DW201"])
    explained = capsys.readouterr().out.strip()
    assert explained in DOCS.read_text(encoding="utf-8")
