"""Run the selected rules over a Project and turn their hits into findings.

A large batch (many Dockerfiles in one call) is checked on every core: after loading, the
process forks (forked.py), and the two processes take turns at contiguous chunks of
Dockerfiles, first to read their build contexts, then to run every per-Dockerfile rule over
the chunks each takes; rules of other scopes run in the parent. Results are merged rule by
rule, chunk by chunk, in input order, so the report is the one a single process would
print. The Dockerfiles themselves were read and parsed the same way (project.py), by
processes forked before BuildKit's Go parser was loaded: its threads do not survive a fork,
so no process forked here may parse.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from msgspec import Struct
from msgspec.structs import replace

from dockwise.findings import Finding, Hit, Rule
from dockwise.project import InputProblem, Project
from dockwise.suppress import Suppressions, codes_for, parse_suppressions
from dockwise.tools import ToolMissing

MAX_PRAGMA_SCAN_BYTES = 4 * 1024 * 1024
# below this many Dockerfiles a second process costs more than it saves
PARALLEL_MIN_DOCKERFILES = 48
# chunks the Dockerfiles of a parallel run are cut into (the processes take turns at them)
PARALLEL_CHUNKS = 24


class Outcome(Struct, frozen=True):
    """What checking a project gave: findings, input problems, notes."""

    findings: tuple[Finding, ...]
    problems: tuple[InputProblem, ...]
    # what did not run and why (a missing external tool): said once, never a finding
    notes: tuple[str, ...] = ()


class _Result(Struct, frozen=True):
    """What one rule gave over some Dockerfiles (or the whole project): its findings after
    suppressions, or why it gave none (the name of the exception it raised, a note)."""

    findings: tuple[Finding, ...] = ()
    error: str | None = None
    note: str | None = None


def selected_rules(project: Project, rules: Sequence[Rule]) -> list[Rule]:
    config = project.config
    return [r for r in rules if config.selects(r.id, r.meta.lesson, r.meta.default_enabled)]


def check_project(
    project: Project, rules: Sequence[Rule], *, debug: bool = False, jobs: int | None = None
) -> Outcome:
    """Findings of the selected rules. A rule that raises is reported as an input problem
    naming the rule (exit status 2) and the other rules still run; with `debug` the
    exception propagates, traceback and all. `jobs`: processes to use (None: one per core
    for a large batch, else one)."""
    _exit_without_collecting()
    problems: list[InputProblem] = list(project.problems)
    problems.extend(  # values over the expansion budget: dockwise cannot know them
        InputProblem(df.relpath, p.line, p.message)
        for df in project.dockerfiles
        for p in df.unknown_values
    )
    selected = selected_rules(project, rules)
    if _parallel(project, debug, jobs):
        results = _run_forked(project, selected)
    else:
        pragmas: dict[str, Suppressions | None] = {}
        results = [_run(rule, project, pragmas, debug) for rule in selected]
    findings: list[Finding] = []
    notes: list[str] = []
    for rule, result in zip(selected, results, strict=True):
        if result.note is not None:
            notes.append(result.note)
        elif result.error is not None:
            problems.append(
                InputProblem(
                    project_name(project),
                    None,
                    f"internal error in rule {rule.id} ({result.error}); "
                    "rerun with --debug for the traceback",
                )
            )
        else:
            findings.extend(result.findings)
    return Outcome(
        tuple(sorted(set(findings), key=Finding.sort_key)), tuple(problems), tuple(notes)
    )


def _exit_without_collecting() -> None:
    """At exit, the objects left (the project, its models, the findings) are frozen rather
    than collected: the interpreter's last collections walk the whole heap for nothing
    (50 ms after the report of a 500-Dockerfile batch, 15 ms of a single-file check's 140).
    The memory goes back to the system with the process all the same."""
    import atexit
    import gc

    atexit.unregister(gc.freeze)  # once, however many projects are checked
    atexit.register(gc.freeze)


def _run(
    rule: Rule, project: Project, pragmas: dict[str, Suppressions | None], debug: bool
) -> _Result:
    try:
        hits = list(rule.check(project))
    except ToolMissing as missing:
        return _Result(note=str(missing))
    except Exception as error:  # a broken rule must not hide every other finding
        if debug:
            raise
        return _Result(error=type(error).__name__)
    kept = []
    codes = codes_for(rule.id, rule.meta.also)
    for hit in hits:
        finding = to_finding(rule, hit, project)
        if not _suppressed(finding, codes, hit.aliases, project, pragmas):
            kept.append(finding)
    return _Result(tuple(kept))


# --- a large batch on every core -----------------------------------------------------------


def _parallel(project: Project, debug: bool, jobs: int | None) -> bool:
    if debug or (jobs is None and len(project.dockerfiles) < PARALLEL_MIN_DOCKERFILES):
        return False
    from dockwise import forked

    return forked.can_fork(forked.jobs_wanted() if jobs is None else jobs, len(project.dockerfiles))


def _chunks(count: int) -> list[tuple[int, int]]:
    from dockwise.forked import chunks

    return chunks(count, PARALLEL_CHUNKS)


def _run_forked(project: Project, rules: Sequence[Rule]) -> list[_Result]:
    """The results of `rules`, computed by this process and a forked one (forked.py): the
    per-Dockerfile rules chunk by chunk (each process takes the next chunk from a shared
    queue), the others here. Merged in input order."""
    from dockwise.forked import forked_map
    from dockwise.rules._common import is_per_dockerfile

    shared = _shared_models(project)
    # what every rule reads, loaded once before the processes part; the build contexts by
    # both processes, each taking a part of the Dockerfiles (reading the context folders
    # and scanning the files that reach an image is most of what is left before the rules)
    # (the services, joined here meanwhile, do not need the contexts)
    with contextlib.suppress(Exception):  # the rule that reads them reports it
        project.load_contexts(
            lambda load, items: forked_map(
                load, items, shared=shared, first=lambda: _services(project)
            )
        )
    _services(project)
    chunks = _chunks(len(project.dockerfiles))
    per_dockerfile = [index for index, rule in enumerate(rules) if is_per_dockerfile(rule)]
    others: dict[int, _Result] = {}

    def run_others() -> None:  # here, while the helper takes chunks
        pragmas: dict[str, Suppressions | None] = {}
        for index, rule in enumerate(rules):
            if not is_per_dockerfile(rule):
                others[index] = _run(rule, project, pragmas, False)

    done = forked_map(
        lambda chunk: _chunk_results(project, rules, per_dockerfile, chunk),
        chunks,
        parts=len(chunks),
        first=run_others,
    )
    return [
        others[index] if index in others else _merged([part[index] for part in done])
        for index in range(len(rules))
    ]


def _services(project: Project) -> None:
    """The services joined, as every service rule reads them (a join that raises is
    reported by the rules that need it, as in one process)."""
    with contextlib.suppress(Exception):
        project.services  # noqa: B018


def _shared_models(project: Project) -> list[object]:
    """The objects of the project a build context points at (its Dockerfile, the stages and
    instructions of its COPYs): they come back from the helper as these very objects."""
    found: dict[int, object] = {id(project): project}
    for dockerfile in project.dockerfiles:
        found[id(dockerfile)] = dockerfile
        for stage in dockerfile.stages:
            found[id(stage)] = stage
            found[id(stage.from_instruction)] = stage.from_instruction
            found.update((id(one), one) for one in stage.instructions)
        found.update((id(one), one) for one in dockerfile.iter_instructions())
    return list(found.values())


def _chunk_results(
    project: Project,
    rules: Sequence[Rule],
    per_dockerfile: Sequence[int],
    chunk: tuple[int, int],
) -> dict[int, _Result]:
    from dockwise.rules._common import dockerfile_share

    pragmas: dict[str, Suppressions | None] = {}
    with dockerfile_share(*chunk):
        return {index: _run(rules[index], project, pragmas, False) for index in per_dockerfile}


def _merged(parts: Sequence[_Result]) -> _Result:
    """One rule's result over the chunks, as one run over every Dockerfile in order would
    have given it: the first chunk that raised decides, else every finding in order."""
    for part in parts:
        if part.error is not None or part.note is not None:
            return part
    return _Result(tuple(finding for part in parts for finding in part.findings))


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
    codes: set[str],
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
    if table is None:
        return False
    if aliases:
        codes = codes | {a.upper() for a in aliases}
    return table.covers(finding.line, codes)


def _load_pragmas(project: Project, relpath: str) -> Suppressions | None:
    by_relpath = project.memo(
        "dockerfiles by relpath",
        project,
        lambda: {df.relpath: df for df in reversed(project.dockerfiles)},
    )
    dockerfile = by_relpath.get(relpath)
    if dockerfile is not None:
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
