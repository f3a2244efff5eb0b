"""Whole-corpus speed of `dockwise check`, and where the time goes by artifact kind.

    .venv/bin/python bench/corpus_speed.py [CORPUS] [--runs 3]

CORPUS defaults to /work/shared/corpus (38 projects: about 300 Dockerfiles, 100 compose
files, 1,000 Kubernetes manifests and the Python code beside them). Prints:

- the load average, then the wall and CPU time (user + system) of one
  `dockwise check CORPUS --format json -o /dev/null` call, start-up included (median of
  --runs; target: under 10 s). On a busy machine CPU time is the steadier figure;
- where one in-process run spends its CPU time, by phase: finding the files and parsing the
  Dockerfiles, build contexts (walk and secret scan), compose files, Kubernetes manifests,
  the service model (the joins), the Python code the services run (parsed lazily: what the
  rules read first is parsed here, the rest is counted with the rules that reach it), the
  rules grouped by the scope they declare (one Dockerfile, a compose service, a Kubernetes
  container, a whole service, the project), and turning hits into findings (suppressions,
  redaction).

Run it with the project's virtualenv; the timed command is the `dockwise` script next to
the interpreter that runs this file.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

DEFAULT_CORPUS = Path("/work/shared/corpus")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of the command."""
    cpu, started = children_cpu(), time.perf_counter()
    subprocess.run(command, capture_output=True, check=False)
    return time.perf_counter() - started, children_cpu() - cpu


def dockwise_command() -> list[str]:
    script = Path(sys.executable).parent / "dockwise"
    if not script.exists():
        raise SystemExit("dockwise is not installed next to this interpreter: pip install -e .")
    return [str(script)]


def scope_of(check: Callable[..., object]) -> str:
    """The scope a rule declares, from the decorator that made its check."""
    name = getattr(check, "__qualname__", "")
    for decorator, scope in (
        ("compose_rule", "rules on compose services"),
        ("container_rule", "rules on Kubernetes containers"),
        ("service_rule", "rules on whole services"),
        ("dockerfile_rule", "rules on Dockerfiles"),
    ):
        if name.startswith(decorator):
            return scope
    return "rules on the project (other)"


def in_process(corpus: Path) -> list[tuple[str, float]]:
    """CPU seconds by phase of one in-process check of the corpus."""
    from dockwise.config import find_config, load_config
    from dockwise.engine import check_project
    from dockwise.findings import Hit, Rule
    from dockwise.project import load_project
    from dockwise.rules import all_rules

    phases: dict[str, float] = defaultdict(float)
    clock = time.process_time

    def phase(name: str, work: Callable[[], object]) -> object:
        started = clock()
        result = work()
        phases[name] += clock() - started
        return result

    rules = phase("start-up: rules imported", all_rules)
    config = load_config(find_config(corpus))
    project = phase(
        "discovery, Dockerfiles parsed, compose builds joined",
        lambda: load_project(corpus, config),
    )
    phase("build contexts (walk, secret scan)", lambda: project.contexts)
    phase("compose files", lambda: project.compose_files)
    phase("Kubernetes manifests", lambda: project.manifests)
    phase("service model (joins)", lambda: project.services)

    def app_code() -> None:
        for service in project.services:
            if service.context_dir is not None:
                app = project.python_app(service.context_dir)
                app.web_modules  # noqa: B018  (parses the modules every service check reads)
                app.logging_modules  # noqa: B018

    phase("Python code of the services (first reads)", app_code)

    def timed(rule: Rule) -> Rule:
        scope = scope_of(rule.check)

        def check(project_: object) -> Iterable[Hit]:
            started = clock()
            hits = list(rule.check(project_))  # type: ignore[arg-type]
            phases[scope] += clock() - started
            return hits

        return Rule(rule.meta, check)

    wrapped = [timed(r) for r in rules]  # type: ignore[attr-defined]
    started = clock()
    check_project(project, wrapped)  # type: ignore[arg-type]
    in_rules = sum(v for k, v in phases.items() if k.startswith("rules on"))
    phases["hits turned into findings (suppressions, redaction)"] = clock() - started - in_rules
    counts = (
        f"{len(project.dockerfiles)} Dockerfiles, {len(project.compose_files)} compose files, "
        f"{len(project.manifests)} Kubernetes manifests, "
        f"{len(project.discovery.python_files)} Python files, {len(project.services)} services"
    )
    print(f"in-process CPU by phase ({counts}):")
    return sorted(phases.items(), key=lambda item: -item[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} ({os.cpu_count()} cores)")
    command = [*dockwise_command(), "check", str(corpus), "--format", "json", "-o", os.devnull]
    timed_run(command)  # warm the page cache
    runs = [timed_run(command) for _ in range(args.runs)]
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    print(
        f"dockwise check {corpus} --format json: wall {wall:.2f} s, CPU {cpu:.2f} s "
        f"(median of {args.runs}, start-up included; target < 10 s)"
    )
    phases = in_process(corpus)
    total = sum(seconds for _, seconds in phases)
    for name, seconds in phases:
        print(f"  {seconds:6.2f} s  {100 * seconds / total:4.1f}%  {name}")
    print(f"  {total:6.2f} s  total")


if __name__ == "__main__":
    main()
