"""dockwise on a corpus of real projects: findings per rule, a judged sample, its precision.

    python bench/corpus.py [CORPUS]                      # findings per rule and severity
    python bench/corpus.py --sample 160 --seed 1         # + a stratified sample to judge
    python bench/corpus.py --sample 160 --seed 1 --tsv after   # the sample as judgment rows
    python bench/corpus.py --precision before            # precision of the judged sample
    python bench/corpus.py --sample 160 --seed 1 --precision after   # + what is not judged

CORPUS defaults to /work/shared/corpus: one folder per project (`owner__repo`), each checked
the way its owner would, `dockwise check <project> --format json`, in a subprocess of
`--python` (default: this interpreter; the dockwise it imports is printed, so a pristine
copy of older code can be measured with PYTHONPATH=/that/copy/src).

The sample takes warning and error findings only, stratified by rule: every rule that fired,
up to `--per-rule` (12) findings each, drawn round-robin so every rule is represented before
any rule gets a second finding; only if that does not reach N is the per-rule cap lifted.
The draw is deterministic for a given seed and the same findings. Each finding carries a
fingerprint: a short hash of rule, path, line and message, stable between runs of the same
code.

bench/corpus_judgments.tsv keeps the verdicts (columns: sample, fingerprint, rule, severity,
path, line, verdict, reason). TRUE = right and worth fixing at that severity; FALSE = the
claim is untrue; NOISE = true but not worth a warning (info or nothing). Judge a sample by
reading the files before looking at any figure.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = Path("/work/shared/corpus")
DEFAULT_JUDGMENTS = HERE / "corpus_judgments.tsv"
COLUMNS = ("sample", "fingerprint", "rule", "severity", "path", "line", "verdict", "reason")
VERDICTS = ("TRUE", "FALSE", "NOISE")
SEVERITIES = ("error", "warning", "info")
RUN_CLI = "import sys; from dockwise.cli import main; sys.exit(main())"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    path: str  # relative to the corpus folder: <project>/<path in the project>
    line: int | None
    message: str

    @property
    def fingerprint(self) -> str:
        key = "\0".join((self.rule, self.path, str(self.line or ""), self.message))
        return hashlib.sha256(key.encode()).hexdigest()[:10]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class Judgment:
    sample: str
    fingerprint: str
    rule: str
    severity: str
    path: str
    line: str
    verdict: str
    reason: str


# --------------------------------------------------------------------------- running


def projects(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def check_project(python: str, project: Path) -> tuple[list[Finding], list[str]]:
    """dockwise's findings on one project folder, and its input problems."""
    done = subprocess.run(
        [python, "-c", RUN_CLI, "check", str(project), "--format", "json", "--no-color"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1, 2) or not done.stdout.strip():
        raise SystemExit(f"dockwise failed on {project} (exit {done.returncode}):\n{done.stderr}")
    document = json.loads(done.stdout)
    prefix = project.name + "/"
    findings = [
        Finding(f["rule"], f["severity"], prefix + f["path"], f.get("line"), f["message"])
        for f in document["findings"]
    ]
    problems = [f"{prefix}{e['path']}: {e['message']}" for e in document.get("errors", [])]
    return findings, problems


def run_corpus(python: str, corpus: Path, jobs: int) -> tuple[list[Finding], list[str]]:
    folders = projects(corpus)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(lambda p: check_project(python, p), folders))
    findings: dict[str, Finding] = {}
    problems: list[str] = []
    for found, trouble in outcomes:
        for finding in found:
            findings.setdefault(finding.fingerprint, finding)  # identical findings count once
        problems.extend(trouble)
    ordered = sorted(findings.values(), key=lambda f: (f.path, f.line or 0, f.rule, f.message))
    return ordered, problems


def dockwise_location(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import dockwise; print(dockwise.__file__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or done.stderr.strip()


# --------------------------------------------------------------------------- sampling


def rule_scopes() -> dict[str, str]:
    """Rule id -> "services" for the rules that read compose files, manifests or app code
    (modules named `<lesson>_compose`, `_kubernetes`, `_service(s)`, `_app`, and `limits`),
    "dockerfile" for the rest (Dockerfiles and their build contexts)."""
    import importlib

    from dockwise.findings import Rule
    from dockwise.rules import lesson_module_names

    scopes: dict[str, str] = {}
    for name in lesson_module_names():
        module = importlib.import_module(f"dockwise.rules.{name}")
        suffix = name.partition("_")[2]
        scope = (
            "services"
            if name == "limits" or suffix in ("compose", "kubernetes", "service", "services", "app")
            else "dockerfile"
        )
        for value in vars(module).values():
            if isinstance(value, Rule) and scopes.get(value.id) != "services":
                scopes[value.id] = scope  # a rule re-exported elsewhere keeps its home
    return scopes


def in_scope(findings: Sequence[Finding], scope: str) -> list[Finding]:
    if scope == "all":
        return list(findings)
    scopes = rule_scopes()
    return [f for f in findings if scopes.get(f.rule, "dockerfile") == scope]


def draw_sample(
    findings: Sequence[Finding], size: int, seed: int, per_rule: int = 12
) -> list[Finding]:
    """A stratified sample of the warning and error findings, deterministic for a seed."""
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.severity in ("error", "warning"):
            by_rule[finding.rule].append(finding)
    queues: dict[str, list[Finding]] = {}
    for rule in sorted(by_rule):
        pool = sorted(by_rule[rule], key=lambda f: f.fingerprint)
        random.Random(f"{seed}:{rule}").shuffle(pool)
        queues[rule] = pool
    sample: list[Finding] = []
    for cap in (per_rule, None):
        taken = Counter(f.rule for f in sample)
        progressed = True
        while len(sample) < size and progressed:
            progressed = False
            for rule, pool in queues.items():
                if len(sample) >= size:
                    break
                if taken[rule] < len(pool) and (cap is None or taken[rule] < cap):
                    sample.append(pool[taken[rule]])
                    taken[rule] += 1
                    progressed = True
        if len(sample) >= size:
            break
    return sorted(sample, key=lambda f: (f.rule, f.path, f.line or 0))


# --------------------------------------------------------------------------- judgments


def read_judgments(path: Path) -> list[Judgment]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise SystemExit(f"{path}: the first row must be the header: {' '.join(COLUMNS)}")
    judgments = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(COLUMNS):
            raise SystemExit(f"{path}:{number}: {len(row)} columns, expected {len(COLUMNS)}")
        judgment = Judgment(*row)
        if judgment.verdict and judgment.verdict not in VERDICTS:
            raise SystemExit(f"{path}:{number}: verdict {judgment.verdict!r} not in {VERDICTS}")
        judgments.append(judgment)
    return judgments


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def verdict_line(label: str, verdicts: Iterable[str], width: int = 12) -> str:
    counts = Counter(verdicts)
    n = sum(counts[v] for v in VERDICTS)
    cells = "  ".join(f"{v} {counts[v]:3d} {share(counts[v], n)}" for v in VERDICTS)
    return f"{label:<{width}} n={n:3d}  {cells}"


def precision_report(name: str, judgments: Sequence[Judgment]) -> list[str]:
    rows = [j for j in judgments if j.sample == name]
    judged = [j for j in rows if j.verdict]
    lines = [f"precision of sample '{name}': {len(judged)} judged of {len(rows)} rows"]
    if not judged:
        return lines
    lines.append(verdict_line("all", (j.verdict for j in judged)))
    for severity in ("error", "warning"):
        lines.append(
            verdict_line(f"{severity}s", (j.verdict for j in judged if j.severity == severity))
        )
    lines.append("per rule:")
    for rule in sorted({j.rule for j in judged}):
        lines.append("  " + verdict_line(rule, (j.verdict for j in judged if j.rule == rule), 10))
    return lines


def tsv_rows(name: str, sample: Sequence[Finding]) -> list[str]:
    return [
        "\t".join((name, f.fingerprint, f.rule, f.severity, f.path, str(f.line or ""), "", ""))
        for f in sample
    ]


# --------------------------------------------------------------------------- output


def counts_table(findings: Sequence[Finding]) -> list[str]:
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    files: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        by_rule[finding.rule][finding.severity] += 1
        files[finding.rule].add(finding.path)
    lines = [f"{'rule':<8} {'error':>6} {'warning':>8} {'info':>6} {'files':>6}"]
    for rule in sorted(by_rule):
        c = by_rule[rule]
        lines.append(
            f"{rule:<8} {c['error']:>6} {c['warning']:>8} {c['info']:>6} {len(files[rule]):>6}"
        )
    total = Counter(f.severity for f in findings)
    lines.append(
        f"{'total':<8} {total['error']:>6} {total['warning']:>8} {total['info']:>6} "
        f"{len({f.path for f in findings}):>6}"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs dockwise")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--sample", type=int, metavar="N", help="draw a sample of N findings")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-rule", type=int, default=12)
    parser.add_argument("--tsv", metavar="NAME", help="print the sample as judgment rows")
    parser.add_argument("--precision", metavar="NAME", help="precision of a judged sample")
    parser.add_argument("--judgments", type=Path, default=DEFAULT_JUDGMENTS)
    parser.add_argument(
        "--scope",
        choices=("all", "dockerfile", "services"),
        default="all",
        help="sample only the Dockerfile rules, or only the compose/Kubernetes/app rules",
    )
    args = parser.parse_args(argv)

    if args.precision and not args.sample:  # the judged file alone, no run
        print("\n".join(precision_report(args.precision, read_judgments(args.judgments))))
        return 0

    print(f"dockwise: {dockwise_location(args.python)}", file=sys.stderr)
    findings, problems = run_corpus(args.python, args.corpus, args.jobs)
    findings = in_scope(findings, args.scope)
    if args.tsv:
        if not args.sample:
            parser.error("--tsv needs --sample")
        sample = draw_sample(findings, args.sample, args.seed, args.per_rule)
        print("\n".join(tsv_rows(args.tsv, sample)))
        return 0

    print(f"corpus {args.corpus}: {len(projects(args.corpus))} projects")
    print("\n".join(counts_table(findings)))
    if problems:
        print(f"input problems: {len(problems)}")
        for problem in problems:
            print(f"  {problem}")
    if not args.sample:
        return 0
    sample = draw_sample(findings, args.sample, args.seed, args.per_rule)
    rules = len({f.rule for f in findings if f.severity in ("error", "warning")})
    print(f"\nsample: {len(sample)} warning/error findings, {rules} rules, seed {args.seed}")
    for f in sample:
        print(f"{f.fingerprint}  {f.rule} {f.severity:<7} {f.where}  {f.message}")
    if args.precision:
        judgments = read_judgments(args.judgments)
        print()
        print("\n".join(precision_report(args.precision, judgments)))
        verdicts = {j.fingerprint for j in judgments if j.sample == args.precision and j.verdict}
        missing = [f for f in sample if f.fingerprint not in verdicts]
        print(f"not judged yet: {len(missing)}")
        for f in missing:
            print(f"  {f.fingerprint}  {f.rule} {f.severity:<7} {f.where}  {f.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
