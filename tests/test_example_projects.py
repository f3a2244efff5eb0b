"""The bundled examples: the naive project breaks every lesson, the reference service none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockwise.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def check(name: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    status = main(["check", str(EXAMPLES / name), "--format", "json"])
    return status, json.loads(capsys.readouterr().out)["findings"]


def test_naive_example_breaks_the_lessons(capsys: pytest.CaptureFixture[str]) -> None:
    status, findings = check("naive", capsys)
    lessons = {f["lesson"] for f in findings}
    assert status == 1
    assert {
        "size",
        "health",
        "logging",
        "secrets",
        "runtime",
        "security",
        "debugging",
        "general",
    } <= lessons
    rules = {f["rule"] for f in findings}
    # the headline production lessons, each at its place
    assert {"DW101", "DW232", "DW301", "DW501", "DW510", "DW511", "DW601", "DW801"} <= rules


def test_reference_service_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    status, findings = check("service", capsys)
    assert status == 0
    assert findings == []
