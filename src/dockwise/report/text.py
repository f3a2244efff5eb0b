"""Human output: findings grouped by file, the offending line shown, colour only on a TTY."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from dockwise.engine import count_by_severity
from dockwise.findings import Finding, Severity
from dockwise.report import Report, by_lesson, printable, secret_lines_of

_STYLE = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
MAX_SNIPPET = 160


def render_text(report: Report) -> str:
    paint = _Painter(report.color)
    if report.quiet:
        return "".join(f"{_quiet_line(finding, paint)}\n" for finding in report.findings)
    # a line a secret finding points at is never shown, whatever else is reported there:
    # the detector may not recognise every form a rule found
    secret_lines = secret_lines_of(report.findings)
    out: list[str] = []
    for path, group in groupby(report.findings, key=lambda f: f.path):
        findings = list(group)
        out.append(paint(path, _BOLD))
        lines = report.source_lines(path)
        for finding in findings:
            hidden = (finding.path, finding.line) in secret_lines
            out.extend(_finding(finding, None if hidden else lines, paint))
        out.append("")
    out.extend(lesson_summary(report, paint))
    summary = _summary(report, paint)
    if summary:
        out.append(summary)
    return "\n".join(out) + "\n" if out else ""


def _quiet_line(finding: Finding, paint: _Painter) -> str:
    """`path:line:col: severity RULE message`, the shape editors and grep understand."""
    where = f"{finding.path}:{finding.line}:{finding.column or 1}" if finding.line else finding.path
    severity = paint(finding.severity.label, _STYLE[finding.severity])
    return f"{where}: {severity} {finding.rule} {finding.message}"


def lesson_summary(report: Report, paint: _Painter | None = None) -> list[str]:
    """One line per lesson that has findings: its counts and the rules behind them."""
    paint = paint or _Painter(False)
    lines = []
    for lesson, findings in by_lesson(report.findings).items():
        if not findings:
            continue
        counts = count_by_severity(findings)
        parts = [
            paint(_count(n, name), _STYLE[Severity.parse(name)]) for name, n in counts.items() if n
        ]
        rules = sorted({f.rule for f in findings})
        shown = ", ".join(rules[:6]) + (f" +{len(rules) - 6}" if len(rules) > 6 else "")
        lines.append(f"  {lesson:<10} {', '.join(parts)}  ({shown})")
    return lines


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


def status_line(report: Report) -> str:
    """The last line of the text report, uncoloured ("Found 3 problem(s) ...")."""
    return _summary(report, _Painter(False))


def _summary(report: Report, paint: _Painter) -> str:
    """The last line. Input problems are not repeated here: the CLI prints each once, on
    stderr, whatever the format."""
    counts = count_by_severity(report.findings)
    unchecked = len(report.problems)
    if report.findings:
        files = len({f.path for f in report.findings})
        parts = [_count(n, name) for name, n in counts.items() if n]
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


def _count(n: int, severity: str) -> str:
    return f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}"


def _could_not(count: int) -> str:
    return f"{count} input error(s), shown above." if count != 1 else "1 input error, shown above."


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self.enabled else text
