"""The engine: a large batch checked by two processes gives the report one process gives."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fresh import COUNT_FORKS, report_of

from dockwise.config import Config
from dockwise.engine import PARALLEL_MIN_DOCKERFILES, check_project
from dockwise.findings import Hit
from dockwise.lazyre import lazy_compile
from dockwise.project import Project, load_files
from dockwise.rules import all_rules
from dockwise.rules._common import at, dockerfile_rule, is_per_dockerfile
from dockwise.sources.dockerfile import Dockerfile

BASES = ["python:3.11", "python:3.11-slim", "ubuntu:22.04", "alpine:3.19", "node:20", "debian"]
STEPS = [
    "RUN apt-get update && apt-get install -y curl gcc",
    "RUN apt-get update && apt-get install -y --no-install-recommends curl"
    " && rm -rf /var/lib/apt/lists/*",
    "RUN pip install flask requests",
    "RUN pip install --no-cache-dir -r requirements.txt",
    "RUN apk add --no-cache curl",
    "# hadolint ignore=DL3008\nRUN apt-get install -y wget",
    "# dockwise: ignore=DW101 the full image is needed\nRUN make",
    "ENV API_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
    "RUN cd /app && make | tee build.log",
    "RUN if [ -f x ]; then echo yes; fi",
    "COPY . /app",
    "ADD https://example.com/tool.tar.gz /tmp/",
    "USER root",
    "USER 10001",
    "WORKDIR /app",
    "EXPOSE 8000",
    "HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1",
]
COMMANDS = [
    'CMD ["python", "app.py"]',
    "CMD python app.py",
    'CMD ["gunicorn", "app:app"]',
    'ENTRYPOINT ["uvicorn", "main:app", "--port", "8000"]',
    "",
]


def _batch(folder: Path, count: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for index in range(count):
        lines = [f"FROM {rng.choice(BASES)}"]
        lines += rng.sample(STEPS, rng.randint(2, 8))
        lines.append(rng.choice(COMMANDS))
        path = folder / f"svc{index:03d}" / "Dockerfile"
        path.parent.mkdir(parents=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if rng.random() < 0.3:
            (path.parent / "requirements.txt").write_text("flask\n", encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("batch")
    count = PARALLEL_MIN_DOCKERFILES + 13
    return load_files(_batch(folder, count, seed=11), Config())


# run in a fresh interpreter (fresh.py)
TWO_PROCESSES = (
    """
import json, os, sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from test_engine import _batch
from dockwise.config import Config
from dockwise.engine import PARALLEL_MIN_DOCKERFILES, check_project
from dockwise.project import load_files
from dockwise.rules import all_rules

paths = _batch(Path(sys.argv[1]), PARALLEL_MIN_DOCKERFILES + 13, seed=11)
rules = all_rules()
# each run on a project of its own: what a project loads lazily (the build contexts) is
# loaded by the run, in one process or two
batch = load_files(paths, Config())
one = check_project(batch, rules, jobs=1)
"""
    + COUNT_FORKS
    + """
shared = load_files(paths, Config())
two = check_project(shared, rules, jobs=2)
forks_two = len(forks)
automatic = check_project(load_files(paths, Config()), rules)
contexts = [shared.contexts[df.relpath] for df in shared.dockerfiles]
print(json.dumps({
    "forks": forks_two,
    "paths": len({f.path for f in one.findings}),
    "dockerfiles": len(batch.dockerfiles),
    "rules": len({f.rule for f in one.findings}),
    "two_equal": two == one,
    "automatic_equal": automatic == one,
    "contexts_equal": shared.contexts == batch.contexts,
    "contexts_in_order": list(shared.contexts) == list(batch.contexts),
    # a context read by the helper points at the project's own Dockerfile, not a copy
    "context_dockerfiles": all(
        c.dockerfile is df for c, df in zip(contexts, shared.dockerfiles, strict=True)
    ),
    "files_sent": sum(len(c.files) for c in contexts),
}))
"""
)


def test_two_processes_give_the_report_of_one(tmp_path: Path) -> None:
    tests = str(Path(__file__).resolve().parent)
    result = report_of(TWO_PROCESSES, str(tmp_path), tests, timeout=600)
    assert result["forks"] == 2  # jobs=2 forked: once for the build contexts, once for rules
    assert result["paths"] > result["dockerfiles"] // 2
    assert result["rules"] > 20
    assert result["two_equal"]
    # the automatic choice (one process per core for a batch this large) agrees too
    assert result["automatic_equal"]
    # the build contexts read by two processes are those one process reads, in order
    assert result["contexts_equal"] and result["contexts_in_order"]
    assert result["context_dockerfiles"]
    assert result["files_sent"] > result["dockerfiles"]  # Dockerfiles, requirements.txt


def test_most_rules_are_shared_between_processes() -> None:
    shared = [rule for rule in all_rules() if is_per_dockerfile(rule)]
    assert len(shared) > len(all_rules()) // 2
    assert not any(is_per_dockerfile(rule) for rule in all_rules() if rule.id == "DW940")


def _failing_at(name: str, exception: type[Exception]):  # type: ignore[no-untyped-def]
    def check(dockerfile: Dockerfile, project: Project) -> Iterator[Hit]:
        yield at(dockerfile, None, "seen")
        if dockerfile.relpath.startswith(name):
            raise exception("broken")

    return dockerfile_rule(
        "DW999",
        lesson="general",
        severity="info",
        title="test rule",
        why="test",
        fix="test",
        bad="FROM scratch\n",
        good="FROM scratch\n",
    )(check)


@pytest.mark.parametrize("where", ["svc000", "svc040", f"svc{PARALLEL_MIN_DOCKERFILES + 12:03d}"])
def test_a_rule_that_raises_in_any_part_is_one_problem(batch: Project, where: str) -> None:
    broken = _failing_at(where, KeyError)
    one = check_project(batch, [broken], jobs=1)
    two = check_project(batch, [broken], jobs=2)
    assert two == one
    assert not one.findings
    assert [p.message for p in one.problems] == [
        "internal error in rule DW999 (KeyError); rerun with --debug for the traceback"
    ]


def test_a_rule_that_never_raises_keeps_every_finding_in_order(batch: Project) -> None:
    fine = _failing_at("nothing", KeyError)
    two = check_project(batch, [fine], jobs=2)
    assert [f.path for f in two.findings] == sorted(df.relpath for df in batch.dockerfiles)


def test_debug_runs_in_one_process_and_raises(batch: Project) -> None:
    broken = _failing_at("svc050", LookupError)
    with pytest.raises(LookupError):
        check_project(batch, [broken], debug=True, jobs=2)


def test_lazy_pattern_behaves_like_a_compiled_one() -> None:
    lazy = lazy_compile(r"(?P<key>[a-z]+)=(\d+)", 0)
    compiled = __import__("re").compile(r"(?P<key>[a-z]+)=(\d+)")
    text = "a=1 bb=22 C=3"
    for _ in range(2):  # before and after the pattern is compiled
        assert lazy.findall(text) == compiled.findall(text)
        assert lazy.sub("x", text) == compiled.sub("x", text)
        assert lazy.search(text).group("key") == "a"  # type: ignore[union-attr]
        assert lazy.pattern == compiled.pattern and lazy.groups == 2
        assert lazy.groupindex == compiled.groupindex
