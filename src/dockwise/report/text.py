"""Human output: findings grouped by file, the offending line shown, colour only on a TTY."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from dockwise.engine import count_by_severity
from dockwise.findings import Finding, Severity
from dockwise.report import Report, printable

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
    summary = _summary(report, paint)
    if summary:
        out.append(summary)
    return "\n".join(out) + "\n" if out else ""


def _finding(finding: Finding, lines: Sequence[str] | None, paint: _Painter) -> list[str]:
    where = f"{finding.line}:{finding.column or 1}" if finding.line else "-"
    severity = paint(f"{finding.severity.label:<7}", _STYLE[finding.severity])
    rendered = [f"  {where:>6}  {severity}  {paint(finding.rule, _BOLD)}  {finding.message}"]
    if lines is not None and finding.line and 0 < finding.line <= len(lines):
        snippet = printable(redact_line(lines[finding.line - 1].rstrip()))
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
    """The last line. Input problems are not repeated here: the CLI prints each once, on
    stderr, whatever the format."""
    counts = count_by_severity(report.findings)
    unchecked = len(report.problems)
    if report.findings:
        files = len({f.path for f in report.findings})
        parts = [
            f"{n} {name}{'s' if n != 1 and name != 'info' else ''}"
            for name, n in counts.items()
            if n
        ]
        status = f"Found {len(report.findings)} problem(s) ({', '.join(parts)}) in {files} file(s)."
        if unchecked:
            status += f" {_could_not(unchecked)}"
        return status
    if unchecked:
        if not report.files_checked:
            return ""
        return f"No problems found in {report.files_checked} file(s). {_could_not(unchecked)}"
    if not report.files_checked:
        where = ", ".join(report.inputs) or "."
        return f"Nothing to check: no Dockerfile, compose file or Kubernetes manifest found under {where}."
    return f"No problems found in {report.files_checked} file(s)."


def _could_not(count: int) -> str:
    return f"{count} input error(s), shown above." if count != 1 else "1 input error, shown above."


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self.enabled else text
