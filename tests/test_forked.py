"""forked.py: a batch's work shared with a forked helper gives what one process gives.

The forks run in a fresh interpreter (fresh.py): forking is only safe when no
other thread runs, and earlier tests of the session may leave threads behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fresh import COUNT_FORKS, report_of

from dockwise.forked import chunks

SCRIPT = (
    COUNT_FORKS
    + r"""
import json, os, sys
from dockwise.forked import forked_map

items = list(range(203))
report = {}
report["squares"] = forked_map(lambda n: n * n, items) == [n * n for n in items]
import time
report["pids"] = len(set(forked_map(lambda n: (time.sleep(0.002), os.getpid())[1], items)))
report["first"] = forked_map(lambda n: -n, items, first=lambda: None) == [-n for n in items]

# objects both processes hold come back as the very same objects, others as equal copies
class Model:
    def __init__(self, n):
        self.n = n
models = [Model(n) for n in range(100)]
back = forked_map(lambda m: (m, [m.n]), models, shared=models)
report["shared_identical"] = all(b[0] is m for b, m in zip(back, models))
report["others_equal"] = [b[1] for b in back] == [[m.n] for m in models]

# a helper that fails: its chunks are computed here, where the error shows as in one process
parent = os.getpid()
def fails_in_helper(n):
    if os.getpid() != parent:
        raise RuntimeError("helper")
    return n + 1
report["helper_fails"] = forked_map(fails_in_helper, items, parts=8) == [n + 1 for n in items]
def fails_everywhere(n):
    if n == 150:
        raise KeyError(n)
    return n
try:
    forked_map(fails_everywhere, items)
    report["raises"] = None
except KeyError as error:
    report["raises"] = error.args[0]

# a helper that hangs is stopped once this process is done and the grace is over
import dockwise.forked as forked
forked.HELPER_GRACE = 0.5
def hangs_in_helper(n):
    if os.getpid() != parent:
        import time
        time.sleep(60)
    return n * 2
report["helper_hangs"] = forked_map(hangs_in_helper, items, parts=8) == [n * 2 for n in items]
report["forks"] = len(forks)
print(json.dumps(report))
"""
)


def test_forked_map_gives_the_map_of_one_process(tmp_path: Path) -> None:
    report = report_of(SCRIPT, cwd=tmp_path)
    assert report["forks"] == 7  # every call shared its work
    assert report["squares"] and report["first"]
    assert report["pids"] == 2  # both processes took chunks
    assert report["shared_identical"] and report["others_equal"]
    assert report["helper_fails"]
    assert report["raises"] == 150
    assert report["helper_hangs"]


def test_chunks_cover_every_item_once_in_order() -> None:
    for count in (1, 2, 23, 24, 25, 500, 1001):
        parts = chunks(count)
        assert parts[0][0] == 0 and parts[-1][1] == count
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
        assert len(parts) <= 24
    assert chunks(0) == []


LOADING = (
    COUNT_FORKS
    + r"""
import json, os, sys
from pathlib import Path

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.project import load_files
from dockwise.rules import all_rules

paths = sorted(Path(sys.argv[1]).glob("*/Dockerfile*"))
assert "dockerfile" not in sys.modules  # BuildKit's Go parser: not loaded yet
shared = load_files(paths, Config())  # read by two processes, forked before the parser loads
forks_loading = len(forks)
alone = load_files(paths, Config())  # the parser is loaded: one process
def facts(project):
    return [
        [
            (i.start_line, dict(i.vars), sorted(i.arg_names), i.shell, i.workdir, i.expandable)
            for i in df.iter_instructions()
        ]
        for df in project.dockerfiles
    ]
rules = all_rules()
print(json.dumps({
    "forks_loading": forks_loading,
    "forks_after": len(forks) - forks_loading,
    "count": len(shared.dockerfiles),
    "dockerfiles_equal": shared.dockerfiles == alone.dockerfiles,
    "facts_equal": facts(shared) == facts(alone),
    "problems": [p.message for p in shared.problems],
    "problems_equal": shared.problems == alone.problems,
    "templates": [t.relpath for t in shared.templates],
    "templates_equal": shared.templates == alone.templates,
    "sources_equal": shared.stage_sources == alone.stage_sources,
    "targets": sorted({df.target for df in shared.dockerfiles if df.target}),
    "findings_equal": check_project(shared, rules, jobs=1) == check_project(alone, rules, jobs=1),
}))
"""
)


def _loading_batch(folder: Path) -> None:
    for index in range(60):
        where = folder / f"svc{index:02d}"
        where.mkdir()
        text = [
            "ARG BASE=python:3.12-slim",
            f"FROM ${{BASE}} AS build{index}",
            f"ENV APP_HOME=/srv/{index} PATH=/opt/venv/bin:$PATH",
            "WORKDIR $APP_HOME",
            "RUN <<EOF\npip install flask\nEOF",
            f'FROM build{index} AS release\nUSER 10001\nCMD ["python", "app.py"]',
        ]
        (where / "Dockerfile").write_text("\n".join(text) + "\n")
    # a compose file says which stage of one ships; a template; a file too large to read
    (folder / "svc07" / "compose.yaml").write_text(
        "services:\n  web:\n    build:\n      context: .\n      target: build7\n"
    )
    (folder / "svc08" / "Dockerfile").write_text("FROM {{ cookiecutter.base }}\n")
    (folder / "svc09" / "Dockerfile").write_text("FROM scratch\n" + "# x\n" * 20_000)


def test_a_large_batch_is_parsed_by_two_processes_as_by_one(tmp_path: Path) -> None:
    _loading_batch(tmp_path)
    report = report_of(LOADING, str(tmp_path))
    assert report["forks_loading"] == 1  # the batch was shared with a helper
    assert report["forks_after"] == 0  # once the parser is loaded, no fork for loading
    assert report["count"] == 58
    assert report["dockerfiles_equal"] and report["facts_equal"]
    assert report["problems_equal"] and len(report["problems"]) == 1
    assert report["templates_equal"] and report["templates"] == ["svc08/Dockerfile"]
    assert report["sources_equal"] and report["targets"] == ["build7"]
    assert report["findings_equal"]


def test_the_report_of_a_batch_is_the_same_in_one_process(tmp_path: Path) -> None:
    _loading_batch(tmp_path)
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.glob("*/Dockerfile"))
    script = Path(sys.executable).parent / "dockwise"
    command = [str(script), "check", "--format", "json", "--fail-on", "never", *files]
    reports = {}
    for jobs in ("1", "2"):
        env = {**os.environ, "DOCKWISE_JOBS": jobs}
        reports[jobs] = subprocess.run(
            command, capture_output=True, timeout=300, cwd=tmp_path, env=env
        )
    assert reports["1"].stdout == reports["2"].stdout
    assert reports["1"].stderr == reports["2"].stderr
    assert len(json.loads(reports["1"].stdout)["findings"]) > 60


CONTEXTS = r"""
import json, os, sys
from pathlib import Path

import dockwise.sources.context as context

computed_here = []
load_context = context.load_context
def counted(*args, **kwargs):
    computed_here.append(os.getpid())
    return load_context(*args, **kwargs)
context.load_context = counted

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.project import load_files
from dockwise.rules import all_rules

paths = sorted(Path(sys.argv[1]).glob("*/Dockerfile"))
rules = all_rules()
shared = load_files(paths, Config())
shared_outcome = check_project(shared, rules, jobs=2)
here = len(computed_here)
alone = load_files(paths, Config())
alone_outcome = check_project(alone, rules, jobs=1)
def ignored(project):
    return {
        name: sorted(f for f in ("app.py", ".env", "notes.md", "keep.md") if c.ignore and c.ignore.is_ignored(f))
        for name, c in project.contexts.items()
    }
print(json.dumps({
    "count": len(paths),
    "computed_here": here,
    "contexts": len(shared.contexts),
    "ignored_equal": ignored(shared) == ignored(alone),
    "ignored": ignored(shared)["svc03/Dockerfile"],
    "findings_equal": shared_outcome == alone_outcome,
}))
"""


def test_build_contexts_with_ignore_files_come_back_from_the_helper(tmp_path: Path) -> None:
    """An ignore file's matchers are closures, which pickle cannot take: they travel as
    their patterns, so the helper's share of the contexts is not computed again here."""
    for index in range(60):
        where = tmp_path / f"svc{index:02d}"
        where.mkdir()
        (where / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /srv\nUSER 10001\n")
        (where / ".dockerignore").write_text(".env\n*.md\n!keep.md\n")
        for name in ("app.py", ".env", "notes.md", "keep.md"):
            (where / name).write_text("x = 1\n")
    report = report_of(CONTEXTS, str(tmp_path))
    assert report["count"] == report["contexts"] == 60
    assert report["computed_here"] < 50  # the helper's chunks were not redone here
    assert report["ignored"] == [".env", "notes.md"]
    assert report["ignored_equal"] and report["findings_equal"]
