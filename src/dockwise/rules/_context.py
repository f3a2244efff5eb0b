"""Helpers shared by the build-context rules (size DW120-122, secrets DW510-512, general DW941-943).

Those rules read `project.contexts` (sources/context.py): the files the ignore file lets
through, what each COPY/ADD takes, and what the secret detector saw in the files that reach
a shipped stage.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from msgspec import Struct, field

from dockwise.findings import Hit, Related

if TYPE_CHECKING:
    from dockwise.project import Project
    from dockwise.sources.context import BuildContext, ContextFile, CopyTake


def contexts(project: Project) -> Iterator[BuildContext]:
    yield from project.contexts.values()


def human_size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def entries(
    context: BuildContext, count: int = 3, files: Sequence[ContextFile] | None = None
) -> str:
    return ", ".join(
        f"{context.project_path(name)} ({human_size(size)})"
        for name, size in context.top_entries(count, files)
    )


def copy_place(context: BuildContext, take: CopyTake) -> str:
    return f"{context.dockerfile.relpath}:{take.instruction.start_line}"


def copy_related(context: BuildContext, take: CopyTake, message: str) -> Related:
    return Related(context.dockerfile.relpath, take.instruction.start_line, message)


def stage_words(context: BuildContext, take: CopyTake) -> str:
    shipped = {stage.index for stage in context.dockerfile.shipped_chain()}
    return "the image" if take.stage.index in shipped else f"builder stage '{take.stage.label}'"


def ignore_name(context: BuildContext) -> str:
    return context.ignore_relpath or ".dockerignore"


def ignore_note(context: BuildContext, relpath: str) -> tuple[str, Related | None]:
    """Why the ignore file let `relpath` through: its text, and the line to point at."""
    if context.ignore is None:
        return "there is no .dockerignore", None
    name = ignore_name(context)
    pattern = context.ignore.verdict(relpath).pattern
    if pattern is not None and pattern.exclusion:
        written = pattern.raw.strip()
        return (
            f"{name} line {pattern.line} `{written}` re-includes it",
            Related(name, pattern.line, f"`{written}` re-includes it here"),
        )
    return (
        f"no {name} pattern excludes it",
        Related(name, None, "no pattern here excludes it"),
    )


def digest(*parts: str) -> str:
    import hashlib  # here: loading OpenSSL costs a clean check's start-up

    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class Pending(Struct):
    """One finding being gathered across Dockerfiles that share a context."""

    hit: Hit
    extra: list[Related] = field(default_factory=list)

    def done(self) -> Hit:
        if not self.extra:
            return self.hit
        related = self.hit.related + tuple(r for r in self.extra if r not in self.hit.related)
        return Hit(
            self.hit.path,
            self.hit.line,
            self.hit.message,
            column=self.hit.column,
            related=related,
            fingerprint=self.hit.fingerprint,
        )


def merge(found: dict[tuple[str, int | None, str], Pending], hit: Hit) -> None:
    """One finding per secret even when several Dockerfiles copy the same file."""
    key = (hit.path, hit.line, hit.fingerprint or hit.message)
    if key in found:
        found[key].extra.extend(hit.related)
    else:
        found[key] = Pending(hit)
