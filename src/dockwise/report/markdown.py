"""Rule documentation in Markdown, from the metadata (docs, SARIF help, `explain`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from dockwise.findings import Example, RuleMeta

if TYPE_CHECKING:
    from dockwise.report import Report


def example_text(example: Example) -> str:
    if isinstance(example, str):
        return example
    return "\n".join(f"# {path}\n{text}" for path, text in example.items())


def rule_markdown(meta: RuleMeta) -> str:
    also = f"\n\nAlso reported by: {', '.join(meta.also)}." if meta.also else ""
    return (
        f"## {meta.id}: {meta.title}\n\n"
        f"Lesson: **{meta.lesson}**. Default severity: **{meta.severity.label}**.{also}\n\n"
        f"### Why this matters\n\n{meta.why}\n\n"
        f"### How to fix\n\n{meta.fix}\n\n"
        f"### Example\n\n```{_fence(meta.bad)}\n{example_text(meta.bad).rstrip()}\n```\n\n"
        f"### Use instead\n\n```{_fence(meta.good)}\n{example_text(meta.good).rstrip()}\n```\n"
    )


def _fence(example: Example) -> str:
    return "dockerfile" if isinstance(example, str) else ""


def rules_index(metas: Mapping[str, RuleMeta]) -> str:
    rows = [
        f"| [{m.id}](#{m.id.lower()}) | {m.lesson} | {m.severity.label} | {m.title} | "
        f"{', '.join(m.also)} |"
        for m in metas.values()
    ]
    header = "| id | lesson | severity | title | also |\n|---|---|---|---|---|\n"
    return header + "\n".join(rows) + "\n"


LESSON_TITLES = {
    "size": "Size: small images, fast builds",
    "health": "Health: checks that test the service",
    "logging": "Logging: to stdout and stderr, never to files",
    "limits": "Limits: memory and CPU sized from usage",
    "secrets": "Secrets: never in the image, the context or git",
    "runtime": "Runtime: PID 1, signals and graceful shutdown",
    "debugging": "Debugging: what makes a container traceable from outside",
    "security": "Security: no root, no privileges, pinned bases",
    "general": "General: correctness and hygiene",
}


def rule_page(meta: RuleMeta) -> str:
    """docs/rules/DWnnn.md: the text `dockwise explain` prints, and a way back to the index."""
    return (
        rule_markdown(meta)
        + f"\n---\n\n[All rules](README.md) · [{meta.lesson} rules](README.md#{meta.lesson})"
        + " · generated from the rule's metadata by `python -m dockwise.report.ruledocs`\n"
    )


def rules_by_lesson(metas: Mapping[str, RuleMeta]) -> str:
    """docs/rules/README.md: every rule, grouped by lesson, each linking to its page."""
    from dockwise.findings import LESSONS

    out = [
        "# dockwise rules by lesson\n",
        "Generated from the rule metadata (`python -m dockwise.report.ruledocs`); "
        "`dockwise explain DWnnn` prints the same text as each page.\n",
    ]
    for lesson in LESSONS:
        rows = [m for m in metas.values() if m.lesson == lesson]
        if not rows:
            continue
        out.append(f'<a id="{lesson}"></a>\n\n## {LESSON_TITLES.get(lesson, lesson)}\n')
        out.append("| id | severity | title | also reported by |\n|---|---|---|---|")
        for m in rows:
            off = " (off by default)" if not m.default_enabled else ""
            out.append(
                f"| [{m.id}]({m.id}.md) | {m.severity.label} | {_cell(m.title)}{off} | "
                f"{', '.join(m.also)} |"
            )
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: Report) -> str:
    """`check --format markdown`: a lesson scorecard, then the findings by lesson (for a
    pull-request comment or a job summary, e.g. `>> $GITHUB_STEP_SUMMARY`)."""
    from dockwise.engine import count_by_severity
    from dockwise.report import by_lesson, rule_url, secret_lines_of, shown_source_line
    from dockwise.report.text import status_line

    groups = by_lesson(report.findings)
    out = ["## dockwise report\n", status_line(report) + "\n"]
    if report.findings:
        out.append("| lesson | errors | warnings | info |\n|---|---|---|---|")
        for lesson, findings in groups.items():
            counts = count_by_severity(findings)
            mark = "✅" if not findings else ("❌" if counts["error"] else "⚠️")
            out.append(
                f"| {mark} {lesson} | {counts['error']} | {counts['warning']} | {counts['info']} |"
            )
        out.append("")
    secret_lines = secret_lines_of(report.findings)
    for lesson, findings in groups.items():
        if not findings:
            continue
        out.append(f"### {lesson}\n")
        for f in findings:
            where = f"{f.path}:{f.line}" if f.line else f.path
            out.append(
                f"- **{f.severity.label}** [{f.rule}]({rule_url(f.rule)}) `{_code(where)}`: "
                f"{_inline(f.message)}  \n  fix: {_inline(f.fix)}"
            )
            line = shown_source_line(report, f, secret_lines)
            if line is not None and not report.quiet:
                out.append(f"  ```\n  {line}\n  ```")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _code(text: str) -> str:
    return text.replace("`", "'")


def _inline(text: str) -> str:
    """Message text in a list item: no raw HTML, no accidental emphasis."""
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
