"""Checkstyle XML (what hadolint, ShellCheck and many CI plugins speak): one `<file>` per
file, one `<error>` per finding, `source` naming the rule."""

from __future__ import annotations

from itertools import groupby
from xml.sax.saxutils import quoteattr

from dockwise.report import Report


def render_checkstyle(report: Report) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">']
    for path, group in groupby(report.findings, key=lambda f: f.path):
        out.append(f"  <file name={quoteattr(path)}>")
        for f in group:
            place = f' line="{f.line or 1}"' + (f' column="{f.column}"' if f.column else "")
            out.append(
                f"    <error{place} severity={quoteattr(f.severity.label)} "
                f"message={quoteattr(f'{f.message} (fix: {f.fix})')} "
                f"source={quoteattr('dockwise.' + f.rule)}/>"
            )
        out.append("  </file>")
    for problem in report.problems:
        line = f' line="{problem.line}"' if problem.line else ""
        out.append(f"  <file name={quoteattr(problem.path)}>")
        out.append(
            f'    <error{line} severity="error" message={quoteattr(problem.message)} '
            'source="dockwise.input"/>'
        )
        out.append("  </file>")
    out.append("</checkstyle>")
    return "\n".join(out) + "\n"
