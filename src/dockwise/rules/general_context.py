"""General rules about what the build context sends: `.dockerignore` lines Docker rejects or
that look wrong (DW941, DW942), and entries Docker cannot send (DW943)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dockwise.findings import Hit, rule
from dockwise.project import Project
from dockwise.rules._context import contexts, copy_place, copy_related, ignore_name

if TYPE_CHECKING:
    from dockwise.sources.context import BuildContext, CopyTake


# ---------------------------------------------------------------------------------------------
# Build context: DW941-DW943, ignore-file lines and entries Docker cannot send
# ---------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------- DW941 / DW942


def _ignore_files(project: Project) -> Iterator[BuildContext]:
    """One context per ignore file (several Dockerfiles may share one)."""
    seen: set[str] = set()
    for context in contexts(project):
        if context.ignore is None or context.ignore_relpath in seen:
            continue
        seen.add(context.ignore_relpath or "")
        yield context


@rule(
    "DW941",
    lesson="general",
    severity="error",
    title=".dockerignore line that Docker rejects",
    why="""
        Docker compiles every ignore pattern before the build starts; a malformed pattern
        (an unclosed `[`, a trailing `\\`) or an over-long line makes `docker build` fail
        with "syntax error in pattern" before the first instruction runs.
    """,
    fix="""
        Fix the pattern: close character classes (`[abc]`), escape a literal `[` as `\\[`,
        and drop trailing backslashes.
    """,
    bad={
        "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        ".dockerignore": ".git\nlogs/[abc\n",
    },
    good={
        "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        ".dockerignore": ".git\nlogs/[abc]\n",
    },
)
def rejected_ignore_line(project: Project) -> Iterator[Hit]:
    for context in _ignore_files(project):
        assert context.ignore is not None
        for line, message in context.ignore.errors:
            yield Hit(
                ignore_name(context),
                line or None,
                f"Docker rejects this ignore line: {message}",
            )


@rule(
    "DW942",
    lesson="general",
    severity="warning",
    title=".dockerignore line that does not do what it seems",
    why="""
        Docker reads `.dockerignore` differently from `.gitignore`: `#` starts a comment
        only in column 1 (`*.log  # logs` is one pattern that matches nothing), a leading
        space before `#` makes the line a pattern, a backslash escapes instead of
        separating folders, and an `!` exception with nothing excluded before it does
        nothing. The file the author meant to exclude is silently sent.
    """,
    fix="""
        Put comments on their own line starting in column 1, use `/` between folders, and
        order exceptions after the pattern they carve out of.
    """,
    bad={
        "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        ".dockerignore": ".git\n*.log  # logs\n",
    },
    good={
        "Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        ".dockerignore": ".git\n# logs\n*.log\n",
    },
)
def suspicious_ignore_line(project: Project) -> Iterator[Hit]:
    for context in _ignore_files(project):
        assert context.ignore is not None
        for line, message in context.ignore.suspicious:
            yield Hit(ignore_name(context), line or None, message)


# --------------------------------------------------------------------------- DW943


def _source_outside(take: CopyTake) -> str | None:
    for source in take.sources:
        cleaned = os.path.normpath(source)
        if cleaned == ".." or cleaned.startswith("../"):
            return source
    return None


def _unsendable(context: BuildContext) -> Iterator[Hit]:
    by_path = context.by_path
    takes_of: dict[str, CopyTake] = {}
    for take in context.copies:
        for relpath in take.files:
            file = by_path[relpath]
            if file.special or file.link_outside:
                takes_of.setdefault(relpath, take)
    for problem in context.problems:
        listed = by_path.get(problem.relpath)
        taker = takes_of.get(problem.relpath)
        special = listed is not None and listed.special
        if special and taker is None:
            continue  # a socket nobody copies: sent, never used
        path = context.project_path(problem.relpath)
        yield Hit(
            path,
            None,
            f"{path} is {problem.message}" if special else f"{path}: {problem.message}",
            related=(copy_related(context, taker, "copied here"),) if taker else (),
        )
    for relpath, take in takes_of.items():
        if not by_path[relpath].link_outside:
            continue
        path = context.project_path(relpath)
        yield Hit(
            path,
            None,
            f"symlink {path} points outside the build context: {take.instruction.cmd} at "
            f"{copy_place(context, take)} copies the link itself, which dangles in the image",
            related=(copy_related(context, take, "copied here"),),
        )


@rule(
    "DW943",
    lesson="general",
    severity="warning",
    title="A COPY takes something Docker cannot send from the build context",
    why="""
        The builder only sees the context folder: a symlink pointing outside it is copied
        as a link that dangles in the image, FIFOs, sockets and devices cannot be copied,
        unreadable files make the context transfer fail, and a `COPY ../shared` source is
        silently resolved inside the context (`shared` at its root) or fails as not found.
    """,
    fix="""
        Copy real files: replace links to outside folders by the files themselves (or pass
        the folder as a named context: `--build-context shared=../shared` and
        `COPY --from=shared`), and exclude FIFOs and sockets in `.dockerignore`.
    """,
    bad={
        "Dockerfile": "FROM python:3.12-slim\nCOPY ../shared /app/shared\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
    },
    good={
        "Dockerfile": "FROM python:3.12-slim\nCOPY shared /app/shared\nCOPY app.py /app/\n",
        "app.py": "print('hello')\n",
        "shared/util.py": "VALUE = 1\n",
    },
)
def unsendable_context_entry(project: Project) -> Iterator[Hit]:
    for context in contexts(project):
        yield from _unsendable(context)
        for take in context.copies:
            outside = _source_outside(take)
            if outside is not None:
                yield Hit(
                    context.dockerfile.relpath,
                    take.instruction.start_line,
                    f"{take.instruction.cmd} source {outside} lies outside the build context: "
                    "the builder resolves it inside the context instead",
                )
        if context.truncated:
            yield Hit(
                context.dockerfile.relpath,
                None,
                "the build context has too many entries: dockwise stopped listing it, "
                "so findings about it are incomplete",
            )
