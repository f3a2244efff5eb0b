"""Run the selected rules over a Project and turn their hits into findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from dockwise.findings import Finding, Hit, Rule
from dockwise.project import InputProblem, Project
from dockwise.suppress import Suppressions, codes_for, parse_suppressions
from dockwise.tools import ToolMissing

MAX_PRAGMA_SCAN_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    findings: tuple[Finding, ...]
    problems: tuple[InputProblem, ...]
    # what did not run and why (a missing external tool): said once, never a finding
    notes: tuple[str, ...] = ()


def selected_rules(project: Project, rules: Sequence[Rule]) -> list[Rule]:
    config = project.config
    return [r for r in rules if config.selects(r.id, r.meta.lesson, r.meta.default_enabled)]


def check_project(project: Project, rules: Sequence[Rule], *, debug: bool = False) -> Outcome:
    """Findings of the selected rules. A rule that raises is reported as an input problem
    naming the rule (exit status 2) and the other rules still run; with `debug` the
    exception propagates, traceback and all."""
    findings: list[Finding] = []
    problems: list[InputProblem] = list(project.problems)
    problems.extend(  # values over the expansion budget: dockwise cannot know them
        InputProblem(df.relpath, p.line, p.message)
        for df in project.dockerfiles
        for p in df.unknown_values
    )
    notes: list[str] = []
    pragma_cache: dict[str, Suppressions | None] = {}
    for rule in selected_rules(project, rules):
        try:
            hits = list(rule.check(project))
        except ToolMissing as missing:
            notes.append(str(missing))
            continue
        except Exception as error:  # a broken rule must not hide every other finding
            if debug:
                raise
            problems.append(
                InputProblem(
                    project_name(project),
                    None,
                    f"internal error in rule {rule.id} ({type(error).__name__}); "
                    "rerun with --debug for the traceback",
                )
            )
            continue
        for hit in hits:
            finding = to_finding(rule, hit, project)
            if not _suppressed(finding, rule, hit.aliases, project, pragma_cache):
                findings.append(finding)
    return Outcome(
        tuple(sorted(set(findings), key=Finding.sort_key)), tuple(problems), tuple(notes)
    )


def project_name(project: Project) -> str:
    """How a problem about the whole input names it: the one Dockerfile of a single-file
    check, else the folder (`.`, relative to itself)."""
    if project.single_file and len(project.dockerfiles) == 1:
        return project.dockerfiles[0].relpath
    return "."


def to_finding(rule: Rule, hit: Hit, project: Project) -> Finding:
    """The finding a hit becomes; its texts pass the secret detector once more, so a rule
    that quotes a command line can never print a credential written in it."""
    meta = rule.meta
    related = tuple(replace(r, message=_redacted(r.message)) for r in hit.related)
    return Finding(
        rule=meta.id,
        lesson=meta.lesson,
        severity=project.config.severity.get(meta.id, hit.severity or meta.severity),
        path=hit.path,
        line=hit.line,
        column=hit.column if hit.column is not None else (1 if hit.line else None),
        message=_redacted(hit.message),
        fix=_redacted(hit.fix) if hit.fix else meta.fix,
        related=related,
        fingerprint=hit.fingerprint,
    )


@lru_cache(maxsize=8192)
def _redacted(text: str) -> str:
    """The detector, and the conservative shown-line pass. The same texts recur (a rule's
    fix, a message repeated for many files): each is redacted once."""
    from dockwise.secrets import redact_source_line

    return redact_source_line(text, prose=True)


def _suppressed(
    finding: Finding,
    rule: Rule,
    aliases: tuple[str, ...],
    project: Project,
    cache: dict[str, Suppressions | None],
) -> bool:
    if project.config.ignored_at(finding.rule, finding.lesson, finding.path):
        return True
    if project.config.disable_ignore_pragmas:
        return False
    if finding.path not in cache:
        cache[finding.path] = _load_pragmas(project, finding.path)
    table = cache[finding.path]
    codes = codes_for(rule.id, rule.meta.also) | {a.upper() for a in aliases}
    return table is not None and table.covers(finding.line, codes)


def _load_pragmas(project: Project, relpath: str) -> Suppressions | None:
    for dockerfile in project.dockerfiles:
        if dockerfile.relpath == relpath:
            return parse_suppressions(dockerfile.text)
    path = project.root / relpath
    text = _read_small_text(path)
    return parse_suppressions(text) if text is not None else None


def _read_small_text(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_PRAGMA_SCAN_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    summary = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        summary[finding.severity.label] += 1
    return summary
