"""The stable JSON contract of shared/CONVENTIONS.md."""

from __future__ import annotations

import json

from dockwise.engine import count_by_severity
from dockwise.report import Report


def render_json(report: Report) -> str:
    document: dict[str, object] = {
        "version": 1,
        "findings": [finding.to_json() for finding in report.findings],
        "summary": count_by_severity(report.findings),
    }
    if report.problems:
        document["errors"] = [
            {"path": p.path, "line": p.line, "message": p.message} for p in report.problems
        ]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
