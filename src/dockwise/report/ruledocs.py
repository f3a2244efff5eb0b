"""docs/rules/: one page per rule (DWnnn.md) and an index by lesson (README.md), generated
from the rule metadata. `python -m dockwise.report.ruledocs [DIR]` rewrites them; a test
fails when they are stale."""

from __future__ import annotations

import sys
from pathlib import Path


def rule_docs() -> dict[str, str]:
    """File name -> text, for every rule (enabled by default or not)."""
    from dockwise.report.markdown import rule_page, rules_by_lesson
    from dockwise.rules import all_rules

    metas = {r.meta.id: r.meta for r in all_rules()}
    pages = {f"{rule_id}.md": rule_page(meta) for rule_id, meta in metas.items()}
    pages["README.md"] = rules_by_lesson(metas)
    return pages


def write_rule_docs(folder: Path) -> list[str]:
    """Write the pages, remove pages of rules that no longer exist; the names changed."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = rule_docs()
    changed = []
    for name, text in wanted.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    for path in folder.glob("DW*.md"):
        if path.name not in wanted:
            path.unlink()
            changed.append(path.name)
    return changed


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")
    for name in write_rule_docs(target):
        print(f"wrote {target / name}")
