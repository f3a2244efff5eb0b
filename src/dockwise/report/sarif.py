"""SARIF 2.1.0, with rule help taken from the rule metadata."""

from __future__ import annotations

import os
from urllib.parse import quote

from dockwise import __version__
from dockwise.findings import Finding, RuleMeta, Severity
from dockwise.report import Report, printable, rule_url, stable_fingerprints
from dockwise.report.json import dumps
from dockwise.report.markdown import rule_markdown

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render_sarif(report: Report) -> str:
    used = sorted({f.rule for f in report.findings})
    metas = [report.rules[rule_id] for rule_id in used if rule_id in report.rules]
    index = {meta.id: position for position, meta in enumerate(metas)}
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "dockwise",
                "version": __version__,
                "informationUri": "https://pypi.org/project/dockwise/",
                "rules": [_rule(meta) for meta in metas],
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"uri": "./"}},
        "results": [
            _result(finding, index, fingerprint)
            for finding, fingerprint in zip(
                report.findings, stable_fingerprints(report.findings), strict=True
            )
        ],
    }
    notifications = [
        {"level": "error", "message": {"text": printable(str(problem))}}
        for problem in report.problems
    ] + [{"level": "warning", "message": {"text": printable(note)}} for note in report.notes]
    if notifications:
        run["invocations"] = [
            {
                "executionSuccessful": not report.problems,
                "toolExecutionNotifications": notifications,
            }
        ]
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return dumps(document)


def _rule(meta: RuleMeta) -> dict[str, object]:
    return {
        "id": meta.id,
        "name": _camel(meta.title),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.why},
        "help": {"text": f"{meta.why}\n\nFix: {meta.fix}", "markdown": rule_markdown(meta)},
        "helpUri": rule_url(meta.id),
        "defaultConfiguration": {"level": _LEVELS[meta.severity]},
        "properties": _properties(meta),
    }


# GitHub code scanning ranks alerts of rules tagged "security" by this score (CVSS-like)
_SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.0", Severity.INFO: "2.0"}


def _properties(meta: RuleMeta) -> dict[str, object]:
    tags = [meta.lesson, *meta.also]
    properties: dict[str, object] = {"tags": tags, "lesson": meta.lesson}
    if meta.lesson in ("secrets", "security"):
        if meta.lesson != "security":
            tags.insert(0, "security")
        properties["security-severity"] = _SECURITY_SEVERITY[meta.severity]
    return properties


def _camel(title: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in title).split()
    return "".join(word[:1].upper() + word[1:] for word in words) or "Rule"


def _location(path: str, line: int | None, column: int | None = None) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": {"uri": uri(path), "uriBaseId": "SRCROOT"}}
    if line:
        region: dict[str, int] = {"startLine": line}
        if column:
            region["startColumn"] = column
        physical["region"] = region
    return {"physicalLocation": physical}


def uri(path: str) -> str:
    """A relative path as a URI reference: the file name's bytes, percent-encoded where a URI
    needs it (a space, `%`, `#`, a byte that is not UTF-8: `Dockerfile.%FF`)."""
    try:
        data = os.fsencode(path)
    except UnicodeEncodeError:  # a lone surrogate that no file name decodes to
        data = path.encode("utf-8", "surrogatepass")
    return quote(data, safe="/")


def _result(finding: Finding, index: dict[str, int], fingerprint: str) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": finding.rule,
        "level": _LEVELS[finding.severity],
        "message": {"text": printable(f"{finding.message}. Fix: {finding.fix}")},
        "locations": [_location(finding.path, finding.line, finding.column)],
    }
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    if finding.related:
        result["relatedLocations"] = [
            {
                "id": position,
                **_location(r.path, r.line),
                "message": {"text": printable(r.message)},
            }
            for position, r in enumerate(finding.related, start=1)
        ]
    # the same finding keeps its identity across runs and line shifts, so code scanning
    # de-duplicates it instead of closing one alert and opening another
    result["partialFingerprints"] = {"dockwise/v1": fingerprint}
    return result
