"""Rule documentation in Markdown, from the metadata (docs, SARIF help, `explain`)."""

from __future__ import annotations

from collections.abc import Mapping

from dockwise.findings import Example, RuleMeta


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
