"""GitHub Actions workflow commands: one `::error file=...,line=...::message` per finding, so
the runner annotates the pull request; chosen by default when GITHUB_ACTIONS=true."""

from __future__ import annotations

from dockwise.findings import Severity
from dockwise.report import Report

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(report: Report) -> str:
    out = []
    for finding in report.findings:
        properties = [("file", finding.path)]
        if finding.line:
            properties.append(("line", str(finding.line)))
            if finding.column:
                properties.append(("col", str(finding.column)))
        meta = report.rules.get(finding.rule)
        title = f"{finding.rule} ({finding.lesson})" + (f": {meta.title}" if meta else "")
        properties.append(("title", title))
        shown = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
        message = f"{finding.message}\nfix: {finding.fix}"
        out.append(f"::{_COMMANDS[finding.severity]} {shown}::{escape_data(message)}")
    for problem in report.problems:
        where = f"file={escape_property(problem.path)}"
        if problem.line:
            where += f",line={problem.line}"
        out.append(f"::error {where},title=dockwise input error::{escape_data(problem.message)}")
    if not report.quiet:
        from dockwise.report.text import lesson_summary, status_line

        # the log a person reads under the annotations: one line per lesson, then the status
        out.extend(line.strip() for line in lesson_summary(report))
        if status_line(report):
            out.append(status_line(report))
    return "".join(f"{line}\n" for line in out)


def escape_data(text: str) -> str:
    """A command's message, as the runner unescapes it (actions/toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (`file=`, `title=`): also `:` and `,`, which end it (`escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
