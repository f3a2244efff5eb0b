"""GitLab Code Quality (a Code Climate subset): a JSON array of issues, each with a
fingerprint that survives reruns and line shifts, so merge requests show what is new."""

from __future__ import annotations

from dockwise.findings import Severity
from dockwise.report import Report, stable_fingerprints
from dockwise.report.json import dumps

# GitLab's severities: info, minor, major, critical, blocker
SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}
_CATEGORIES = {
    "size": "Performance",
    "secrets": "Security",
    "security": "Security",
    "general": "Style",
    "debugging": "Clarity",
}


def render_gitlab(report: Report) -> str:
    issues = []
    for finding, fingerprint in zip(
        report.findings, stable_fingerprints(report.findings), strict=True
    ):
        issues.append(
            {
                "type": "issue",
                "check_name": finding.rule,
                "description": f"{finding.rule}: {finding.message}",
                "content": {"body": f"Fix: {finding.fix}"},
                "categories": [_CATEGORIES.get(finding.lesson, "Bug Risk")],
                "severity": SEVERITIES[finding.severity],
                "fingerprint": fingerprint,
                "location": {"path": finding.path, "lines": {"begin": finding.line or 1}},
            }
        )
    return dumps(issues)
