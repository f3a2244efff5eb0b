"""JUnit XML, for CI test-report views: one test suite per file, one test case per finding.

Errors and warnings are failures (the `type` attribute names the severity); an info finding
is a passing test case that says what it advises (CI views would otherwise show advice as a
broken build); an input dockwise could not read is a test case in error."""

from __future__ import annotations

from itertools import groupby
from xml.sax.saxutils import escape, quoteattr

from dockwise.findings import Finding, Severity
from dockwise.report import Report


def render_junit(report: Report) -> str:
    suites = []
    total = failures = 0
    for path, group in groupby(report.findings, key=lambda f: f.path):
        cases = [_case(f) for f in group]
        failed = sum(1 for case in cases if "<failure" in case)
        suites.append(_suite(path, cases, failed, 0))
        total += len(cases)
        failures += failed
    errors = len(report.problems)
    if report.problems:
        cases = [
            f"    <testcase name={quoteattr('read ' + p.path)} classname={quoteattr(p.path)}>\n"
            f'      <error message={quoteattr(p.message)} type="input">'
            f"{escape(str(p))}</error>\n    </testcase>"
            for p in report.problems
        ]
        suites.append(_suite("input errors", cases, 0, errors))
        total += errors
    if not suites:
        case = '    <testcase name="dockwise check" classname="dockwise"/>'
        suites.append(_suite("dockwise", [case], 0, 0))
        total = 1
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="dockwise" tests="{total}" failures="{failures}" errors="{errors}">\n'
        + "\n".join(suites)
        + "\n</testsuites>\n"
    )


def _suite(name: str, cases: list[str], failures: int, errors: int) -> str:
    return (
        f'  <testsuite name={quoteattr(name)} tests="{len(cases)}" failures="{failures}" '
        f'errors="{errors}">\n' + "\n".join(cases) + "\n  </testsuite>"
    )


def _case(finding: Finding) -> str:
    where = f"{finding.path}:{finding.line}" if finding.line else finding.path
    name = quoteattr(f"{finding.rule} {where}")
    body = f"{where}: {finding.rule} ({finding.lesson}) {finding.message}\nfix: {finding.fix}"
    if finding.severity == Severity.INFO:
        return (
            f"    <testcase name={name} classname={quoteattr(finding.path)}>\n"
            f"      <system-out>{escape('info: ' + body)}</system-out>\n    </testcase>"
        )
    return (
        f"    <testcase name={name} classname={quoteattr(finding.path)}>\n"
        f"      <failure message={quoteattr(finding.message)} "
        f"type={quoteattr(finding.severity.label)}>{escape(body)}</failure>\n    </testcase>"
    )
