"""Human output: findings grouped by file, the offending line shown, colour only on a TTY."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from dockwise.engine import count_by_severity
from dockwise.findings import Finding, Severity
from dockwise.report import Report

_STYLE = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
MAX_SNIPPET = 160


def render_text(report: Report) -> str:
    paint = _Painter(report.color)
    # a line a secret finding points at is never shown, whatever else is reported there:
    # the detector may not recognise every form a rule found
    secret_lines = {(f.path, f.line) for f in report.findings if f.lesson == "secrets"}
    out: list[str] = []
    for path, group in groupby(report.findings, key=lambda f: f.path):
        findings = list(group)
        out.append(paint(path, _BOLD))
        lines = report.source_lines(path)
        for finding in findings:
            hidden = (finding.path, finding.line) in secret_lines
            out.extend(_finding(finding, None if hidden else lines, paint))
        out.append("")
    out.append(_summary(report, paint))
    return "\n".join(out) + "\n"


def _finding(finding: Finding, lines: Sequence[str] | None, paint: _Painter) -> list[str]:
    where = f"{finding.line}:{finding.column or 1}" if finding.line else "-"
    severity = paint(f"{finding.severity.label:<7}", _STYLE[finding.severity])
    rendered = [f"  {where:>6}  {severity}  {paint(finding.rule, _BOLD)}  {finding.message}"]
    if lines is not None and finding.line and 0 < finding.line <= len(lines):
        snippet = redact_line(lines[finding.line - 1].rstrip())
        if len(snippet) > MAX_SNIPPET:
            snippet = snippet[:MAX_SNIPPET] + "…"
        rendered.append(paint(f"          {finding.line:>4} | {snippet}", _DIM))
    for related in finding.related:
        place = f"{related.path}:{related.line}" if related.line else related.path
        rendered.append(f"          see {place}: {related.message}")
    rendered.append(f"          fix: {finding.fix}")
    return rendered


def redact_line(line: str) -> str:
    """The line as it may be shown: every secret the detector sees, and every value in a
    credential-shaped place (flagged or not), replaced by its redacted form."""
    from dockwise.secrets import redact_source_line

    return redact_source_line(line)


def _summary(report: Report, paint: _Painter) -> str:
    problems = [paint(f"error: {p}", _STYLE[Severity.ERROR]) for p in report.problems]
    counts = count_by_severity(report.findings)
    if not report.findings:
        status = f"No problems found in {report.files_checked} file(s)."
    else:
        files = len({f.path for f in report.findings})
        parts = [
            f"{n} {name}{'s' if n != 1 and name != 'info' else ''}"
            for name, n in counts.items()
            if n
        ]
        status = f"Found {len(report.findings)} problem(s) ({', '.join(parts)}) in {files} file(s)."
    return "\n".join([*problems, status])


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self.enabled else text
