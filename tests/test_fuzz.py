"""Property tests (issue 6): whatever a Dockerfile, .dockerignore, file tree or compose
file holds, `dockwise check --format json` ends with exit 0, 1 or 2 and prints valid JSON.
The CLI runs in-process; bench/fuzz.py runs thousands more, each in its own process."""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockwise.cli import main

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_LINES = [
    "FROM alpine",
    "FROM ${BASE} AS b",
    "FROM b",
    "ARG BASE=alpine",
    "ENV A=$A$A",
    "ENV B=${A:-x}",
    "RUN echo $A \\",
    "  && true",
    "\\",
    "`",
    "RUN <<EOF",
    "RUN <<-'X' cat",
    "COPY <<EOF /a",
    "EOF",
    "X",
    "ONBUILD RUN x",
    "ONBUILD",
    'CMD ["a", "b"]',
    'ENTRYPOINT ["x"',
    "HEALTHCHECK CMD curl -f http://localhost/",
    "COPY --exclude=*a*a* . /app/",
    "COPY --from=b /x /y",
    "USER 1",
    "ENV",
    "ARG",
    "# escape=`",
    "# comment",
    "",
]


def _run(argv: list[str], stdin: bytes | None = None) -> tuple[int, str]:
    out = io.StringIO()
    saved_out, saved_in = sys.stdout, sys.stdin
    sys.stdout = out
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        code = main(argv)
    finally:
        sys.stdout, sys.stdin = saved_out, saved_in
    return code, out.getvalue()


def _assert_answer(code: int, out: str) -> None:
    assert code in (0, 1, 2)
    document = json.loads(out)
    assert "findings" in document


dockerfiles = st.tuples(
    st.lists(st.sampled_from(_LINES) | st.text(max_size=12), max_size=14),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    st.booleans(),
).map(lambda t: (t[1].join(t[0]) + (t[1] if t[3] else "")).encode(t[2], "surrogatepass"))


@SETTINGS
@given(data=dockerfiles)
def test_any_dockerfile_gets_an_answer(data: bytes) -> None:
    _assert_answer(*_run(["check", "-", "-f", "json"], data))


@SETTINGS
@given(data=st.binary(max_size=200))
def test_any_bytes_get_an_answer(data: bytes) -> None:
    _assert_answer(*_run(["check", "-", "-f", "json"], b"FROM alpine\n" + data))


_PIECES = ["*", "**", "**/", "?", "a", "b", "/", "[a-c]", "[^a]", "\\", "!", ".", "..", "#", " "]
patterns = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8).map("".join)
names = st.lists(st.sampled_from(["a", "b", "ab", ".a", "aa"]), min_size=1, max_size=4)


@SETTINGS
@given(
    ignore=st.lists(patterns, max_size=5),
    tree=st.lists(names, min_size=1, max_size=6),
    source=st.sampled_from([".", "a*", "*", "[ab]*", "a?", "**"]),
    exclude=st.none() | patterns,
)
def test_any_ignore_file_and_tree_get_an_answer(
    ignore: list[str], tree: list[list[str]], source: str, exclude: str | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for parts in tree:
            path = root.joinpath(*parts)
            if any(p.is_file() for p in [path, *path.parents] if p != root and p.exists()):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text("x")
        (root / ".dockerignore").write_text("\n".join(ignore) + "\n")
        flag = f" --exclude={exclude}" if exclude else ""
        (root / "Dockerfile").write_text(f"FROM alpine:3.20\nCOPY{flag} {source} /app/\n")
        _assert_answer(*_run(["check", str(root), "-f", "json"]))


builds = st.sampled_from(
    [
        ".",
        "{context: ., args: 5}",
        "{context: ., args: abc}",
        "{context: ., args: [A=1, B]}",
        "{context: ., target: 123}",
        "{context: ./missing}",
        "{context: /}",
        "{context: ..}",
        "null",
        "[1, 2]",
        '"a\\0b"',
    ]
)


@SETTINGS
@given(build=builds, extra=st.sampled_from(["", "    image: x\n", "    healthcheck: 5\n"]))
def test_simple_compose_files_get_an_answer(build: str, extra: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "project"
        root.mkdir()
        (root / "Dockerfile").write_text("FROM alpine:3.20\nUSER 1\n")
        (root / "compose.yaml").write_text(f"services:\n  web:\n    build: {build}\n{extra}")
        _assert_answer(*_run(["check", str(root), "-f", "json"]))
