"""The build context model on bad input: loops, links, special files, huge and odd files."""

from __future__ import annotations

import os
import socket
import tracemalloc
from pathlib import Path

import pytest

from dockwise.config import Config
from dockwise.engine import check_project
from dockwise.project import load_project
from dockwise.rules import all_rules
from dockwise.sources.context import BuildContext, ContextFile, _scan
from dockwise.sources.dockerfile import parse_dockerfile

DB_URL = "postgres://app:Hx5mQ9tRw2LpK7vZ@db.internal:5432/app"


def project_at(root: Path, dockerfile: str = "FROM python:3.12-slim\nCOPY . /app\n") -> Path:
    (root / "Dockerfile").write_text(dockerfile)
    return root


def context_of(root: Path) -> BuildContext:
    return load_project(root, Config()).contexts["Dockerfile"]


def rule_places(root: Path) -> list[tuple[str, str, int | None]]:
    outcome = check_project(load_project(root, Config()), all_rules())
    assert not outcome.problems, outcome.problems
    return [(f.rule, f.path, f.line) for f in outcome.findings if f.rule[2] in "159"]


def test_symlink_loops_are_listed_not_followed(tmp_path: Path) -> None:
    root = project_at(tmp_path)
    (root / ".dockerignore").write_text(".git\n")
    (root / "a").symlink_to("b")
    (root / "b").symlink_to("a")
    (root / "sub").mkdir()
    (root / "sub/up").symlink_to("..")
    (root / "sub/self").symlink_to(".")
    context = context_of(root)  # returns at all: loops are listed, never followed
    links = {f.relpath: f for f in context.files if f.is_symlink}
    assert set(links) == {"a", "b", "sub/up", "sub/self"}
    assert not any(f.link_outside for f in links.values())
    assert all(context.contents[p].skipped == "symlink" for p in links)
    assert rule_places(root) == []


def test_links_pointing_outside_the_context(tmp_path: Path) -> None:
    outside = tmp_path / "secrets"
    outside.mkdir()
    (outside / "prod.env").write_text(f"DATABASE_URL={DB_URL}\n")
    root = tmp_path / "proj"
    root.mkdir()
    project_at(root)
    (root / ".dockerignore").write_text(".git\n")
    (root / "config").symlink_to(outside)  # a directory link: copied as a link
    (root / "etc-passwd").symlink_to("/etc/passwd")
    context = context_of(root)
    assert {f.relpath for f in context.files if f.link_outside} == {"config", "etc-passwd"}
    # the target is never read: the secret outside the context is not reported as shipped
    assert all(not c.secrets for c in context.contents.values())
    assert rule_places(root) == [("DW943", "config", None), ("DW943", "etc-passwd", None)]


def test_fifo_and_socket_do_not_block_or_crash(tmp_path: Path) -> None:
    root = project_at(tmp_path)
    (root / ".dockerignore").write_text(".git\n")
    os.mkfifo(root / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "app.sock"))
    try:
        context = context_of(root)  # returns at all: a FIFO is never opened
        places = rule_places(root)
    finally:
        server.close()
    assert {p.relpath for p in context.problems} == {"pipe", "app.sock"}
    assert context.contents["pipe"].skipped == "not a regular file"
    assert places == [("DW943", "app.sock", None), ("DW943", "pipe", None)]


def test_file_shorter_than_listed_is_scanned_without_error(tmp_path: Path) -> None:
    (tmp_path / "settings.env").write_text(f"DATABASE_URL={DB_URL}\n")
    # listed at 1 MB, 40 bytes on disk: it shrank between the walk and the read
    content = _scan(tmp_path, ContextFile("settings.env", 1024 * 1024))
    assert content.skipped is None
    assert [s.kind for s in content.secrets] == ["url-password"]


def test_file_larger_than_listed_is_read_only_up_to_the_cap(tmp_path: Path) -> None:
    with open(tmp_path / "grown.txt", "wb") as handle:
        handle.write(b"x = 1\n")
        handle.truncate(64 * 1024 * 1024)  # grew after the walk listed it at 6 bytes
    tracemalloc.start()
    content = _scan(tmp_path, ContextFile("grown.txt", 6))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert content.skipped is not None
    assert peak < 16 * 1024 * 1024


def test_missing_file_between_walk_and_read(tmp_path: Path) -> None:
    content = _scan(tmp_path, ContextFile("vanished.env", 10))
    assert content.skipped is not None and content.skipped.startswith("cannot read")


def test_five_gib_sparse_file_is_listed_not_read(tmp_path: Path) -> None:
    root = project_at(tmp_path)
    (root / ".dockerignore").write_text(".git\n")
    with open(root / "disk.img", "wb") as handle:
        handle.truncate(5 * 1024**3)
    # the time it takes is measured by bench/context_speed.py (sparse gigabytes); here, that
    # it is listed, never read: little memory, and its content skipped
    tracemalloc.start()
    context = context_of(root)
    places = rule_places(root)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 1024 * 1024
    assert context.by_path["disk.img"].size == 5 * 1024**3
    assert context.contents["disk.img"].skipped == "larger than the scan limit"
    assert places == [("DW122", "Dockerfile", None)]


def test_malformed_ignore_lines(tmp_path: Path) -> None:
    root = project_at(tmp_path)
    long_line = "a" * (70 * 1024)
    (root / ".dockerignore").write_bytes(
        b"[\n\\\n" + long_line.encode() + b"\n\xff\xfe bad bytes\n.git\n*.md # docs\n"
    )
    (root / "app.py").write_text("print(1)\n")
    places = rule_places(root)
    assert ("DW941", ".dockerignore", 1) in places
    assert ("DW941", ".dockerignore", 3) in places
    assert ("DW942", ".dockerignore", 6) in places
    assert all(rule in ("DW941", "DW942") for rule, _, _ in places), places


def test_non_utf8_file_names(tmp_path: Path) -> None:
    root = project_at(tmp_path)
    (root / ".dockerignore").write_text(".git\n")
    raw_dir = os.path.join(os.fsencode(root), b"conf\xff")
    os.mkdir(raw_dir)
    with open(os.path.join(raw_dir, b"prod\xfe.env"), "wb") as handle:
        handle.write(f"DATABASE_URL={DB_URL}\n".encode())
    context = context_of(root)
    names = [f.relpath for f in context.files if f.relpath.startswith("conf")]
    assert names == ["conf\\xff/prod\\xfe.env"]
    # the file is still read through its real name on disk
    assert [s.kind for s in context.contents[names[0]].secrets] == ["url-password"]
    assert rule_places(root) == [("DW510", "conf\\xff/prod\\xfe.env", 1)]


def test_stdin_dockerfile_has_no_context() -> None:
    from dockwise.project import project_from_text

    project = project_from_text("FROM python:3.12-slim\nCOPY . /app\n", Config())
    assert project.contexts == {}


def test_wildcard_sources_and_directories(tmp_path: Path) -> None:
    root = project_at(
        tmp_path,
        "FROM python:3.12-slim\nCOPY *.txt req/ /app/\nCOPY src/[ab]*.py /app/src/\n",
    )
    for relpath in ("a.txt", "b.md", "req/base.txt", "src/a1.py", "src/b2.py", "src/c3.py"):
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text("x\n")
    context = context_of(root)
    taken = [sorted(take.files) for take in context.copies]
    assert taken == [["a.txt", "req/base.txt"], ["src/a1.py", "src/b2.py"]]
    assert not any(take.whole_context for take in context.copies)


def test_excluded_tree_is_pruned(tmp_path: Path) -> None:
    root = project_at(tmp_path)
    (root / ".dockerignore").write_text("big\n")
    for index in range(50):
        (root / "big" / str(index)).mkdir(parents=True)
        (root / "big" / str(index) / "f").write_text("x")
    context = context_of(root)
    assert [f.relpath for f in context.files] == [".dockerignore", "Dockerfile"]
    assert context.excluded == 0  # pruned: the 50 files below big/ were never listed


@pytest.mark.parametrize("target", ["prod", None])
def test_shipped_files_follow_the_target(tmp_path: Path, target: str | None) -> None:
    text = "FROM python:3.12-slim AS dev\nCOPY . /app\nFROM python:3.12-slim AS prod\nCOPY a /a\n"
    (tmp_path / "a").write_text("x\n")
    (tmp_path / "b").write_text("x\n")
    dockerfile = parse_dockerfile(text, tmp_path / "Dockerfile", "Dockerfile", target)
    from dockwise.sources.context import load_context

    project = load_project(tmp_path, Config())
    context = load_context(tmp_path, dockerfile, project)
    assert sorted(context.shipped_files) == ["a"]
    assert sorted(context.builder_files) == ["b"]


def test_batched_scan_reports_exactly_what_a_file_by_file_scan_does(tmp_path: Path) -> None:
    from dockwise.sources.context import _scan_all, _walk

    texts = {
        "a/settings.py": f"DEBUG = False\nDATABASE_URL = '{DB_URL}'\n",
        "a/ends_with_name.yaml": "env:\n  - name: DB_PASSWORD\n",
        "a/starts_with_value.yaml": "    value: Hx5mQ9tRw2LpK7vZqq\nother: 1\n",
        "b/.netrc": "machine example.com login bot password Hx5mQ9tRw2LpK7vZ\n",
        "b/key.txt": "-----BEGIN RSA PRIVATE KEY-----\n",
        "b/key_end.txt": "-----END RSA PRIVATE KEY-----\n",
        "c/plain.txt": "nothing here\n" * 100,
        "c/token.txt": "token: ghp_" + "Zx8Kq3Lm9Xp2Vr7Ty4Bn6Cd1Fg5Hj0QaWe3R" + "\n",
    }
    texts.update({f"d/mod{i}.py": f"VALUE_{i} = {i}\n" for i in range(300)})
    for relpath, text in texts.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text)
    files = _walk(tmp_path, None)[0]

    def summary(content: object) -> object:
        assert content is not None
        return (
            content.credential_kind,  # type: ignore[attr-defined]
            content.skipped,  # type: ignore[attr-defined]
            [(m.kind, m.line, m.column, m.fingerprint) for m in content.secrets],  # type: ignore[attr-defined]
        )

    batched = _scan_all(tmp_path, files)
    assert {p: summary(batched[p]) for p in texts} == {
        f.relpath: summary(_scan(tmp_path, f)) for f in files
    }
    assert batched["a/settings.py"].secrets and batched["c/token.txt"].secrets


BUILDER_THEN_COPY_FROM = """\
FROM python:3.12 AS build
WORKDIR /src
COPY . .
RUN make
FROM python:3.12-slim
COPY --from=build {source} /app
"""


@pytest.mark.parametrize(
    ("source", "ships"),
    [
        ("/src", True),
        ("/src/.env", True),
        ("/", True),
        ("/src/dist", False),
        ("/src/*.py", False),
        ("/src/.e*", True),
    ],
)
def test_files_a_builder_took_ship_when_copied_from_it(
    tmp_path: Path, source: str, ships: bool
) -> None:
    project_at(tmp_path, BUILDER_THEN_COPY_FROM.format(source=source))
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://app:Zr8vTq3nPw5Ld@db/orders\n")
    (tmp_path / "main.py").write_text("print('hi')\n")
    context = context_of(tmp_path)
    assert (".env" in context.shipped_files) is ships
    assert context.copies[0].landings[".env"] == "/src/.env"


def test_read_text_only_returns_files_the_build_sends(tmp_path: Path) -> None:
    project_at(tmp_path)
    (tmp_path / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    (tmp_path / "secret.txt").write_text("x\n")
    (tmp_path / ".dockerignore").write_text("secret.txt\n")
    (tmp_path / "big.sh").write_text("#" * 5000)
    context = context_of(tmp_path)
    assert context.read_text("entrypoint.sh") == '#!/bin/sh\nexec "$@"\n'
    assert context.read_text("/entrypoint.sh") == '#!/bin/sh\nexec "$@"\n'
    assert context.read_text("secret.txt") is None  # excluded: the COPY would fail
    assert context.read_text("../outside.sh") is None
    assert context.read_text("big.sh", limit=1000) is None


@pytest.mark.parametrize(
    ("destination", "lands"),
    [
        (".", "/srv/main.py"),
        ("./", "/srv/main.py"),
        ("..", "/main.py"),
        ("app/.", "/srv/app/main.py"),
        ("/opt/app/", "/opt/app/main.py"),
        ("/opt/run.py", "/opt/run.py"),  # a file name: the copy is renamed
    ],
)
def test_where_a_copied_file_lands(tmp_path: Path, destination: str, lands: str) -> None:
    project_at(tmp_path, f"FROM python:3.11-slim\nWORKDIR /srv\nCOPY main.py {destination}\n")
    (tmp_path / "main.py").write_text("print('hi')\n")
    assert context_of(tmp_path).copies[0].landings["main.py"] == lands
