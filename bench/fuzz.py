"""Fuzz campaign and hostile-input table for `dockwise check`.

    .venv/bin/python bench/fuzz.py [--count 3000] [--seed 1] [--table-only] [--timeout 10]

Runs thousands of generated and mutated inputs through `dockwise check --format json`,
each in its own process (so a hang is a timeout and memory is that input's own), and
prints counts by outcome (exit 0/1/2, traceback, invalid JSON, slower than 2 s, more than
200 MB), the slowest input and its time, and the peak memory. Inputs:

- mutations of the real Dockerfiles of /work/shared/corpus (line deletion, duplication,
  swapping, byte flips, continuation and heredoc markers, CRLF, BOM, NUL, UTF-16...);
- generated Dockerfiles (heredocs, continuations, escape directives, JSON arrays, ONBUILD);
- .dockerignore patterns against generated file trees;
- small compose documents;
- the whole pipeline, from tests/fuzzgen.py: compose projects (every key the model reads,
  in wrong types, aliases, extends cycles, includes, interpolation edge cases), Kubernetes
  manifests (every workload kind, Lists, CRDs, Helm text; in a folder and on stdin), Python
  app code (syntax errors, Python 2, deep nesting, NUL, odd decorators, router and URLconf
  include cycles, gunicorn.conf.py) and trees combining a Dockerfile, compose, manifests and
  app code with odd server flags, so the cross-check rules run;
- mutations of the real compose files, manifests and Python files of the corpus.

A run that breaks a loader or a rule ("internal error" on stderr) counts as a failure.

Then the table of the issue's hang/memory rows: each input built on disk and timed in a
fresh process (wall time and peak RSS from wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import fuzzgen  # noqa: E402  (the generators the property tests use)

DOCKWISE = str(Path(sys.executable).with_name("dockwise"))
CORPUS = Path("/work/shared/corpus")
BUDGET_SECONDS = 2.0
BUDGET_MB = 200.0


@dataclass
class Outcome:
    name: str
    code: int | None  # None: timed out
    seconds: float
    peak_mb: float
    stdout: bytes
    stderr: bytes


def run_measured(
    name: str,
    argv: list[str],
    stdin: bytes | None = None,
    timeout: float = 10.0,
    cwd: Path | None = None,
) -> Outcome:
    """Like run(), with this process's own peak RSS (a wrapper process reports it)."""
    wrapper = (
        "import os,resource,subprocess,sys,json,time\n"
        "t=time.perf_counter()\n"
        "p=subprocess.Popen(sys.argv[2:],stdin=0,stdout=1,stderr=2)\n"
        "_,status,use=os.wait4(p.pid,0)\n"
        "code=os.waitstatus_to_exitcode(status)\n"
        "open(sys.argv[1],'w').write(json.dumps([code,time.perf_counter()-t,use.ru_maxrss]))\n"
    )
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report = handle.name
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", wrapper, report, DOCKWISE, *argv],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        cwd=cwd,
    )
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        out, err = process.communicate()
        os.unlink(report)
        return Outcome(name, None, time.perf_counter() - start, 0.0, out, err)
    try:
        code, seconds, maxrss = json.loads(Path(report).read_text())
    finally:
        os.unlink(report)
    return Outcome(name, code, seconds, maxrss / 1024, out, err)


# ---------------------------------------------------------------------------------------
# the hang and memory rows
# ---------------------------------------------------------------------------------------


def _project(base: Path, name: str, files: dict[str, str]) -> Path:
    root = base / name
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def hostile_rows(base: Path) -> list[tuple[str, list[str], bytes | None]]:
    """(row, argv, stdin) for each row of the issue's hang/memory table."""
    rows: list[tuple[str, list[str], bytes | None]] = []

    fifo = _project(base, "fifo", {"Dockerfile": "FROM alpine\nCOPY . /app\nUSER 1\n"})
    os.mkfifo(fifo / "pipe")
    os.mkfifo(fifo / "pipe.py")
    rows.append(("FIFO in the build context (text format)", ["check", str(fifo)], None))

    compose_fifo = _project(base, "compose-fifo", {"Dockerfile": "FROM alpine\nUSER 1\n"})
    os.mkfifo(compose_fifo / "compose.yaml")
    rows.append(("FIFO named compose.yaml", ["check", str(compose_fifo)], None))

    for runs, label in ((3000, "18 KB"), (10000, "60 KB")):
        text = "FROM alpine\nENV a\n" + "RUN x\n" * runs + "RUN <<EOF\nnever closed\n"
        rows.append((f"parse-error recovery, {label}", ["check", "-", "-f", "json"], text.encode()))

    for levels in (8, 9):
        lines = ["FROM alpine", "ENV A0=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]
        for i in range(1, levels + 1):
            lines.append(f"ENV A{i}=" + f"${{A{i - 1}}}" * 8)
        lines.append(f"RUN echo $A{levels}")
        rows.append(
            (
                f"ENV expansion bomb, {levels} levels",
                ["check", "-", "-f", "json"],
                ("\n".join(lines) + "\n").encode(),
            )
        )

    star = "*a" * 10 + "*b"
    deep = "/".join(["d"] * 40)
    globstar = "**/" * 30 + "x"
    ignore = _project(
        base,
        "ignore-star",
        {"Dockerfile": "FROM alpine\nCOPY . /app\n", ".dockerignore": star + "\n", "a" * 40: ""},
    )
    rows.append((".dockerignore *a*a...*b, 40-a name", ["check", str(ignore)], None))
    ignore2 = _project(
        base,
        "ignore-globstar",
        {
            "Dockerfile": "FROM alpine\nCOPY . /app\n",
            ".dockerignore": globstar + "\n",
            deep + "/file": "",
        },
    )
    rows.append((".dockerignore **/ x30 + x, deep path", ["check", str(ignore2)], None))
    copy_star = _project(
        base, "copy-star", {"Dockerfile": f"FROM alpine\nCOPY {star} /app/\n", "a" * 40: ""}
    )
    rows.append(("COPY *a*a...*b source", ["check", str(copy_star)], None))
    exclude = _project(
        base,
        "copy-exclude",
        {
            "Dockerfile": f"# syntax=docker/dockerfile:1.7-labs\nFROM alpine\nCOPY --exclude={star} --exclude={globstar} . /app/\n",
            "a" * 40: "",
            deep + "/" + "a" * 40: "",
        },
    )
    rows.append(("COPY --exclude patterns", ["check", str(exclude)], None))

    anchors = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        anchors.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    alias = _project(
        base,
        "compose-alias",
        {
            "Dockerfile": "FROM alpine\nUSER 1\n",
            "compose.yaml": "x-bomb:\n"
            + "".join(f"  {line}\n" for line in anchors)
            + "services:\n  web:\n    build:\n      context: .\n      args: *a7\n",
        },
    )
    rows.append(("compose alias bomb, 7 levels", ["check", str(alias)], None))

    continuation = "FROM alpine\nRUN true \\\n" + "  && true \\\n" * 250_000 + "  && true\n"
    rows.append(("250,000 continuation lines", ["check", "-", "-f", "json"], continuation.encode()))
    many = "FROM alpine\n" + "RUN true\n" * 100_000
    rows.append(("100,000 RUN true lines", ["check", "-", "-f", "json"], many.encode()))

    root_context = _project(
        base,
        "root-context",
        {
            "Dockerfile": "FROM alpine\nCOPY . /app\nUSER 1\n",
            "compose.yaml": "services:\n  web:\n    build:\n      context: /\n"
            f"      dockerfile: {base / 'root-context' / 'Dockerfile'}\n",
        },
    )
    rows.append(("compose build: {context: /}", ["check", str(root_context)], None))
    rows.extend(pipeline_rows(base))
    digits = "9" * 60_000
    durations = _project(
        base,
        "digit-durations",
        {
            "Dockerfile": f"FROM alpine\nUSER 1\nHEALTHCHECK --interval={digits} CMD true\n",
            "compose.yaml": "services:\n  web:\n    build: .\n"
            f"    healthcheck: {{test: [CMD, 'true'], interval: '{digits}'}}\n",
        },
    )
    rows.append(("60,000-digit durations (HEALTHCHECK, compose)", ["check", str(durations)], None))
    return rows


def pipeline_rows(base: Path) -> list[tuple[str, list[str], bytes | None]]:
    """Big and hostile inputs for the compose, Kubernetes and Python loaders."""
    rows: list[tuple[str, list[str], bytes | None]] = []
    service = "FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nUSER 1000\n"
    service += "HEALTHCHECK CMD curl -f http://localhost:8000/health\n"
    service += 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "app.main:app", "-b", ":8000"]\n'
    routes = "from fastapi import FastAPI\napp = FastAPI()\n" + "".join(
        f'@app.get("/r{i}")\ndef r{i}():\n    return {i}\n' for i in range(20000)
    )
    big_app = _project(base, "big-app", {"Dockerfile": service, "app/main.py": routes})
    rows.append(
        (f"Python app of {len(routes) // 1024} KB, 20,000 routes", ["check", str(big_app)], None)
    )
    four = {"Dockerfile": service, "app/main.py": "from app import a0, a1, a2, a3\n"}
    four.update({f"app/a{i}.py": routes for i in range(4)})
    four_apps = _project(base, "four-apps", four)
    rows.append(("4 Python modules of 1 MB on the code path", ["check", str(four_apps)], None))
    nested = "x = " + "(" * 190 + "1" + ")" * 190 + "\n" + "y = " + "-" * 100_000 + "1\n"
    nested += "".join("    " * i + "if x:\n" for i in range(99)) + "    " * 99 + "pass\n"
    deep = _project(base, "deep-python", {"Dockerfile": service, "app/main.py": nested})
    rows.append(("Python nesting: parentheses, unary chain, blocks", ["check", str(deep)], None))
    config = f"bind = ':{'9' * 400}'\nworkers = {'9' * 400}\ngraceful_timeout = {'9' * 400}\n"
    cycle = _project(
        base,
        "include-cycles",
        {
            "Dockerfile": service,
            "gunicorn.conf.py": config,
            "app/main.py": "from fastapi import APIRouter, FastAPI\napp = FastAPI()\n"
            "a = APIRouter()\nb = APIRouter()\na.include_router(b)\nb.include_router(a)\n"
            "app.include_router(a)\napp.include_router(unknown)\n",
            "proj/urls.py": "from django.urls import include, path\n"
            "urlpatterns = [path('a/', include('proj.urls')), path('b/', include('app.urls'))]\n",
            "app/urls.py": "from django.urls import include, path\n"
            "urlpatterns = [path('c/', include('proj.urls'))]\n",
            "compose.yaml": "include: [compose.yaml, other.yaml]\nservices:\n"
            "  web: {build: ., extends: {service: api}}\n  api: {extends: {service: web}}\n",
            "other.yaml": "include: [compose.yaml]\nservices:\n"
            "  x: {extends: {service: y, file: other.yaml}}\n  y: {extends: {service: x}}\n",
        },
    )
    rows.append(("router/URLconf/include/extends cycles", ["check", str(cycle)], None))
    anchors = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    anchors += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 8)]
    bomb = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nx-bomb:\n"
    bomb += "".join(f"  {line}\n" for line in anchors)
    bomb += "spec:\n  containers:\n  - name: a\n    image: a\n    args: *a7\n"
    rows.append(
        ("manifest alias bomb, 7 levels (stdin)", ["check", "-", "-f", "json"], bomb.encode())
    )
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web{i}}}\nspec:\n"
        "  selector: {{matchLabels: {{app: web}}}}\n  template:\n    spec:\n      containers:\n"
        "      - name: web\n        image: web:{i}\n"
        "        args: [gunicorn, app.main:app, -b, ':8000']\n"
        "        livenessProbe: {{httpGet: {{path: /health, port: 8000}}}}\n"
        "        resources: {{limits: {{memory: 1e999, cpu: '{i}m'}}}}\n"
    )
    few = "---\n".join(deployment.format(i=i) for i in range(900))
    rows.append(
        (
            f"{len(few) // 1024} KB of manifests, 900 Deployments (stdin)",
            ["check", "-", "-f", "json"],
            few.encode(),
        )
    )
    many = "---\n".join(deployment.format(i=i) for i in range(5200))
    manifests = _project(base, "many-manifests", {"Dockerfile": service, "k8s/all.yaml": many})
    rows.append(
        (
            f"{len(many) // 1024} KB of manifests, 5,200 Deployments (over the line cap)",
            ["check", str(manifests)],
            None,
        )
    )
    services = "services:\n" + "".join(
        f"  s{i}:\n    build: .\n    command: [uvicorn, app.main:app, --port, '{i}']\n"
        f"    healthcheck: {{test: [CMD, curl, -f, 'http://localhost:{i}/']}}\n"
        for i in range(3000)
    )
    many_services = _project(
        base, "many-services", {"Dockerfile": service, "compose.yaml": services}
    )
    rows.append(
        (
            f"compose with 3,000 services ({len(services) // 1024} KB)",
            ["check", str(many_services)],
            None,
        )
    )
    return rows


def table(timeout: float) -> list[Outcome]:
    base = Path(tempfile.mkdtemp(prefix="dockwise-hostile-"))
    try:
        outcomes = []
        print(f"\n{'input':48} {'exit':>5} {'seconds':>8} {'peak MB':>8}")
        for name, argv, stdin in hostile_rows(base):
            outcome = run_measured(name, argv, stdin, timeout, cwd=base)
            code = "hang" if outcome.code is None else str(outcome.code)
            over = (
                " OVER BUDGET"
                if outcome.code is None
                or outcome.seconds > BUDGET_SECONDS
                or outcome.peak_mb > BUDGET_MB
                else ""
            )
            print(f"{name:48} {code:>5} {outcome.seconds:8.2f} {outcome.peak_mb:8.0f}{over}")
            if outcome.code not in (0, 1) and outcome.stderr.strip():
                print("    stderr:", outcome.stderr.decode(errors="replace").splitlines()[-1][:160])
            outcomes.append(outcome)
        return outcomes
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# the campaign
# ---------------------------------------------------------------------------------------

_SNIPPETS = [
    "\\",
    "\\\n",
    "RUN <<EOF\n",
    "EOF\n",
    "RUN <<-'X'\n\tcat\n\tX\n",
    "COPY <<EOF /a\nhi\nEOF\n",
    "# escape=`\n",
    "# syntax=docker/dockerfile:1\n",
    'CMD ["a", "b"\n',
    'ENTRYPOINT ["x"]\n',
    "ONBUILD RUN x\n",
    "ONBUILD\n",
    "ONBUILD ONBUILD RUN x\n",
    "ARG\n",
    "ENV\n",
    "ENV A=$A$A$A$A\n",
    "ENV B=${A:-${A:+${A}}}\n",
    "FROM\n",
    "FROM ${X} AS\n",
    "COPY --from= . .\n",
    "COPY --exclude=*a*a*a* . .\n",
    "HEALTHCHECK\n",
    "HEALTHCHECK CMD\n",
    "SHELL []\n",
    "USER\n",
    "WORKDIR\n",
    "EXPOSE 80/tcp 99999 a-b\n",
    "LABEL\n",
    "RUN --mount=type=cache\n",
    "\x00",
    "\r\n",
    "\ufeff",
    "\t",
    "`\n",
    "$",
    "${",
    "}",
    '"',
    "'",
    "[",
    "]",
]


def mutate(text: str, rng: random.Random) -> bytes:
    lines = text.splitlines(keepends=True) or ["\n"]
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        i = rng.randrange(len(lines)) if lines else 0
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i] if lines else "\n")
        elif op == 2 and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines.insert(i, rng.choice(_SNIPPETS))
        elif op == 4 and lines:
            line = lines[i]
            k = rng.randrange(len(line) + 1)
            lines[i] = line[:k] + rng.choice(_SNIPPETS) + line[k:]
        elif op == 5 and lines:
            lines[i] = lines[i].rstrip("\n") + " \\\n"
        elif op == 6 and lines:
            line = lines[i]
            k = rng.randrange(len(line) + 1)
            lines[i] = line[:k] + line[k + 1 :]
        elif op == 7:
            lines = [line.replace("\n", "\r\n") for line in lines]
        else:
            lines.insert(i, rng.choice(lines) * rng.randint(2, 50))
    data = "".join(lines)
    encoding = rng.random()
    if encoding < 0.03:
        return data.encode("utf-16")
    if encoding < 0.06:
        return b"\xef\xbb\xbf" + data.encode("utf-8", "surrogatepass")
    if encoding < 0.08:
        raw = bytearray(data.encode("utf-8", "surrogatepass"))
        if raw:
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    return data.encode("utf-8", "surrogatepass")


def corpus_dockerfiles() -> list[str]:
    texts = []
    for path in sorted(CORPUS.rglob("*")):
        name = path.name.lower()
        if path.is_file() and ("dockerfile" in name or "containerfile" in name):
            if name.endswith(".dockerignore"):
                continue
            try:
                texts.append(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
    return texts


def generated_dockerfile(rng: random.Random) -> str:
    lines = []
    if rng.random() < 0.2:
        lines.append(rng.choice(["# escape=`", "# escape=\\", "# syntax=docker/dockerfile:1"]))
    lines.append(rng.choice(["FROM alpine", "FROM python:3.11-slim AS build", "FROM ${BASE}"]))
    for _ in range(rng.randint(0, 12)):
        lines.append(rng.choice(_SNIPPETS).rstrip("\n") + rng.choice(["", " x", " \\", " a=b"]))
    return "\n".join(lines) + rng.choice(["", "\n", "\r\n"])


_PATTERN_PARTS = ["*", "**", "**/", "?", "a", "b", "/", "[a-c]", "[^a]", "\\", "!", ".", "..", "#"]


def ignore_case(base: Path, rng: random.Random, index: int) -> Path:
    root = base / f"ignore{index}"
    root.mkdir()
    patterns = [
        "".join(rng.choice(_PATTERN_PARTS) for _ in range(rng.randint(1, 12)))
        for _ in range(rng.randint(1, 6))
    ]
    (root / ".dockerignore").write_text("\n".join(patterns) + "\n", errors="surrogateescape")
    for _ in range(rng.randint(1, 8)):
        parts = ["".join(rng.choice("ab.") for _ in range(rng.randint(1, 6)))]
        parts += [rng.choice(["a", "b", "ab", "aa"]) for _ in range(rng.randint(0, 5))]
        path = root.joinpath(*parts[::-1])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text("x")
        except (NotADirectoryError, FileExistsError):  # a file where a folder would go
            continue
    sources = rng.choice([".", "a*", "*", "[ab]*", "a?"])
    excluded = f" --exclude={rng.choice(patterns)}" if rng.random() < 0.4 else ""
    (root / "Dockerfile").write_text(f"FROM alpine\nCOPY{excluded} {sources} /app/\nUSER 1\n")
    return root


def compose_case(base: Path, rng: random.Random, index: int) -> Path:
    root = base / f"compose{index}"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM alpine\nUSER 1\n")
    build = rng.choice(
        [
            ".",
            "{context: ., args: 5}",
            "{context: ., args: abc}",
            "{context: ., args: [A=1, B]}",
            "{context: ., target: 123}",
            "{context: ./missing}",
            "{dockerfile: Dockerfile, context: .}",
            "null",
            "[1, 2]",
        ]
    )
    extra = rng.choice(["", "    ports: ['80:80']\n", "    image: x\n", "    healthcheck: 5\n"])
    (root / "compose.yaml").write_text(f"services:\n  web:\n    build: {build}\n{extra}")
    return root


def corpus_files(kinds: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    """(relpath, text) of the corpus files of each kind of _manifest.tsv (compose, k8s,
    python), read once."""
    found: dict[str, list[tuple[str, str]]] = {kind: [] for kind in kinds}
    manifest = CORPUS / "_manifest.tsv"
    if not manifest.is_file():
        return found
    for row in manifest.read_text().splitlines()[1:]:
        fields = row.split("\t")
        if len(fields) < 4 or fields[3] not in found:
            continue
        try:
            text = (CORPUS / fields[0] / fields[2]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found[fields[3]].append((fields[2], text))
    return found


Maker = Callable[[int], tuple[list[str], bytes | None]]


def campaign(count: int, seed: int, timeout: float, only: str | None = None) -> None:
    rng = random.Random(seed)
    texts = corpus_dockerfiles()
    real = corpus_files(("compose", "k8s", "python"))
    base = Path(tempfile.mkdtemp(prefix="dockwise-fuzz-"))
    outcomes: Counter[str] = Counter()
    per_kind: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {}
    seconds_by_kind: dict[str, float] = {}
    slowest: tuple[float, str, bytes] = (0.0, "", b"")
    peak = (0.0, "")
    failures: list[tuple[str, str, bytes]] = []

    def tree(kind: str, i: int, files: fuzzgen.Tree) -> tuple[list[str], bytes | None]:
        root = base / f"{kind.replace(' ', '-')}{i}"
        fuzzgen.write_tree(root, files)
        return ["check", str(root), "-f", "json"], None

    def stdin(data: bytes) -> tuple[list[str], bytes | None]:
        return ["check", "-", "-f", "json"], data

    def corpus_input(i: int) -> tuple[list[str], bytes | None]:
        return stdin(mutate(rng.choice(texts), rng))

    def generated_input(i: int) -> tuple[list[str], bytes | None]:
        return stdin(mutate(generated_dockerfile(rng), rng))

    def ignore_input(i: int) -> tuple[list[str], bytes | None]:
        return ["check", str(ignore_case(base, rng, i)), "-f", "json"], None

    def compose_input(i: int) -> tuple[list[str], bytes | None]:
        return ["check", str(compose_case(base, rng, i)), "-f", "json"], None

    def generated(kind: str) -> Maker:
        make = fuzzgen.GENERATORS[kind]
        return lambda i: tree(kind, i, make(rng))

    def long_run(i: int) -> tuple[list[str], bytes | None]:
        return tree("long-run", i, fuzzgen.long_run_tree(rng, rng.choice([5_000, 50_000])))

    def manifest_stdin(i: int) -> tuple[list[str], bytes | None]:
        return stdin(fuzzgen.manifest_text(rng).encode("utf-8", "surrogatepass"))

    def real_compose(i: int) -> tuple[list[str], bytes | None]:
        _, text = rng.choice(real["compose"])
        return tree(
            "corpus-compose", i, fuzzgen.tree_with_compose(fuzzgen.mutate_yaml(text, rng), rng)
        )

    def real_manifest(i: int) -> tuple[list[str], bytes | None]:
        _, text = rng.choice(real["k8s"])
        data = fuzzgen.mutate_yaml(text, rng)
        if rng.random() < 0.3:
            return stdin(data)
        return tree("corpus-k8s", i, fuzzgen.tree_with_manifest(data, rng))

    def real_python(i: int) -> tuple[list[str], bytes | None]:
        relpath, text = rng.choice(real["python"])
        source = fuzzgen.mutate_python(text, rng)
        return tree("corpus-py", i, fuzzgen.tree_with_python(source, relpath, rng))

    makers: list[tuple[str, float, Maker]] = [
        ("corpus Dockerfile mutation", 0.20, corpus_input),
        ("generated Dockerfile", 0.07, generated_input),
        (".dockerignore + tree", 0.05, ignore_input),
        ("compose (simple)", 0.03, compose_input),
        ("compose project", 0.10, generated("compose")),
        ("manifests in a folder", 0.07, generated("manifests")),
        ("manifests on stdin", 0.05, manifest_stdin),
        ("python app", 0.08, generated("python")),
        ("combined service", 0.10, generated("combined")),
        ("long run in one field", 0.06, long_run),
    ]
    if real["compose"]:
        makers.append(("corpus compose mutation", 0.08, real_compose))
    if real["k8s"]:
        makers.append(("corpus manifest mutation", 0.08, real_manifest))
    if real["python"]:
        makers.append(("corpus python mutation", 0.09, real_python))
    if only:
        makers = [m for m in makers if only in m[0]]
    started = time.perf_counter()
    try:
        for i in range(count):
            kind, _, maker = rng.choices(makers, [m[1] for m in makers])[0]
            argv, data = maker(i)
            per_kind[kind] += 1
            outcome = run_measured(kind, argv, data, timeout, cwd=base)
            label = _classify(outcome)
            outcomes[label] += 1
            by_kind.setdefault(kind, Counter())[label] += 1
            seconds_by_kind[kind] = max(seconds_by_kind.get(kind, 0.0), outcome.seconds)
            payload = data if data is not None else _tree_payload(Path(argv[1]))
            if outcome.seconds > slowest[0]:
                slowest = (outcome.seconds, kind, payload)
            if outcome.peak_mb > peak[0]:
                peak = (outcome.peak_mb, kind)
            if label not in ("exit 0", "exit 1", "exit 2"):
                failures.append((label, kind, payload))
                last = outcome.stderr.decode(errors="replace").strip().splitlines()[-1:]
                print(f"  [{i}] {label} ({kind}): {' '.join(last)[:200]}", flush=True)
            if data is None:
                shutil.rmtree(argv[1], ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(f"{count} inputs in {elapsed:.0f} s (seed {seed})")
    print(f"  {'category':28} {'inputs':>6} {'slowest s':>9}  outcomes")
    for kind, n in per_kind.most_common():
        shown = ", ".join(f"{label}: {k}" for label, k in sorted(by_kind[kind].items()))
        print(f"  {kind:28} {n:6} {seconds_by_kind[kind]:9.2f}  {shown}")
    print("outcomes:")
    for label, n in sorted(outcomes.items()):
        print(f"  {label:24} {n}")
    print(f"slowest: {slowest[0]:.2f} s ({slowest[1]}): {slowest[2][:160]!r}")
    print(f"peak memory: {peak[0]:.0f} MB ({peak[1]})")
    for label, kind, payload in failures[:10]:
        print(f"  {label} ({kind}): {payload[:300]!r}")


def _tree_payload(root: Path) -> bytes:
    """A folder input, shown as its files (for the slowest input and failures)."""
    parts = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            parts.append(f"--- {path.relative_to(root)} ({len(data)} B)\n".encode() + data[:400])
    return b"\n".join(parts)


def _classify(outcome: Outcome) -> str:
    if outcome.code is None:
        return "timeout"
    if b"Traceback" in outcome.stderr:
        return "traceback"
    if b"internal error" in outcome.stderr:  # a loader or rule broke (exit 2)
        return "internal error"
    if outcome.code not in (0, 1, 2):
        return f"exit {outcome.code}"
    try:
        json.loads(outcome.stdout)
    except ValueError:
        return "invalid JSON"
    if outcome.seconds > BUDGET_SECONDS:
        return f"over {BUDGET_SECONDS:g} s"
    if outcome.peak_mb > BUDGET_MB:
        return f"over {BUDGET_MB:g} MB"
    return f"exit {outcome.code}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument("--table-timeout", type=float, default=30.0)
    parser.add_argument("--only", help="run only the categories whose name holds this text")
    args = parser.parse_args()
    if not args.table_only:
        campaign(args.count, args.seed, args.timeout, args.only)
    table(max(args.timeout, args.table_timeout))


if __name__ == "__main__":
    main()
