"""Compose loader figures: the real corpus load time and the hostile inputs' time and memory.

    .venv/bin/python bench/compose_load.py [CORPUS]

Prints, for the corpus (default ../shared/corpus): files, services, builds, files with
problems and each problem; then for each hostile input: seconds, peak MB (tracemalloc)
and the problem reported.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from dockwise.sources.compose import load_compose, load_compose_files


def corpus(root: Path) -> None:
    projects = sorted(p for p in root.iterdir() if p.is_dir())
    started = time.perf_counter()
    files = services = builds = 0
    problems: list[str] = []
    for project in projects:
        paths = sorted(project.glob("**/*compose*.y*ml"))
        for compose in load_compose_files(paths, project):
            files += 1
            services += len(compose.services)
            builds += len(compose.builds)
            if compose.merged_into is None:
                problems.extend(f"{project.name}/{p}" for p in compose.problems)
    elapsed = time.perf_counter() - started
    print(f"corpus: {files} compose files, {services} services, {builds} local builds")
    print(f"corpus: {len(problems)} problems, loaded in {elapsed:.2f} s")
    for problem in problems:
        print(f"  {problem}")


def bomb(levels: int = 7, width: int = 9) -> str:
    lines = ['x-a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        lines.append(f"x-a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "alias bomb as context": bomb() + "services:\n  web:\n    build:\n      context: *a7\n",
    "alias bomb as args": bomb()
    + "services:\n  web:\n    build:\n      context: .\n      args: *a7\n",
    "hex target (3,600 digits)": "services:\n  web:\n    build:\n      context: .\n      target: 0x"
    + "f" * 3600
    + "\n",
    "args: 5": "services:\n  web:\n    build: {context: ., args: 5}\n",
    "args: !!set": "services:\n  web:\n    build: {context: ., args: !!set {a, b}}\n",
    "build with NUL": 'services:\n  web:\n    build: "a\\0b"\n',
    "1,600 services (4,800 lines)": "services:\n"
    + "".join(f"  s{i}:\n    image: x\n    build: .\n" for i in range(1_600)),
    "20,000 services": "services:\n" + "".join(f"  s{i}: {{image: x}}\n" for i in range(20_000)),
}


def hostile() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, text in HOSTILE.items():
            path = root / "compose.yaml"
            path.write_text(text)
            report(name, path, root, len(text))
        os.symlink("loop", root / "loop")
        path.write_text("services:\n  web:\n    build: ./loop\n")
        report("build: ./loop (symlink loop)", path, root, 0)
        path.unlink()
        os.mkfifo(path)
        report("FIFO named compose.yaml", path, root, 0)


def report(name: str, path: Path, root: Path, size: int) -> None:
    started = time.perf_counter()
    compose = load_compose(path, "compose.yaml", root)
    elapsed = time.perf_counter() - started
    tracemalloc.start()  # a second load for memory: tracemalloc slows the first 3x
    load_compose(path, "compose.yaml", root)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    first = compose.problems[0] if compose.problems else "no problem"
    print(f"{name:32} {size:>8} B {elapsed:6.2f} s {peak:7.1f} MB  {first}")


if __name__ == "__main__":
    corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus"))
    hostile()
