"""The build context: what `docker build` sends, and what each COPY/ADD takes from it.

The context folder is the Dockerfile's folder unless compose `build.context` says otherwise.
The walk honours the ignore file exactly (sources/dockerignore.py), never follows symlinks,
prunes excluded trees that no exception can re-open, and stops at a file-count cap. File
contents are read only for files that reach a shipped stage, only up to the secret
detector's size cap, and only when they are not binary.
"""

from __future__ import annotations

import bisect
import os
import posixpath
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import Struct
from msgspec import field as struct_field
from msgspec.structs import force_setattr

from dockwise.sources.dockerfile import Dockerfile, Instruction, Stage
from dockwise.sources.dockerignore import DockerIgnore, find_ignore_file, load_dockerignore
from dockwise.sources.globmatch import go_match

if TYPE_CHECKING:
    from dockwise.project import Project
    from dockwise.secrets import SecretMatch

MAX_CONTEXT_ENTRIES = 300_000
HEAD_BYTES = 8192


class ContextFile(Struct, frozen=True):
    relpath: str  # relative to the context folder, '/' separated
    size: int
    is_symlink: bool = False
    link_outside: bool = False  # a symlink whose target lies outside the context
    special: bool = False  # a FIFO, socket or device: nothing Docker can copy
    # the name on disk when relpath had to escape bytes that are not UTF-8
    disk_path: str | None = None

    @property
    def os_relpath(self) -> str:
        return self.disk_path if self.disk_path is not None else self.relpath


class ContextProblem(Struct, frozen=True):
    relpath: str
    message: str


# a dataclass, not a Struct like the other records: `landings` stays out of equality
@dataclass(frozen=True)
class CopyTake:
    """One COPY/ADD and the context files it takes."""

    instruction: Instruction
    stage: Stage
    sources: tuple[str, ...]  # as written, after variable expansion
    files: tuple[str, ...]  # context relpaths that land in the stage
    whole_context: bool  # `COPY . .` or equivalent
    # where each taken file lands in the stage's filesystem (absolute path)
    landings: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def file_set(self) -> frozenset[str]:
        return frozenset(self.files)


class FileContent(Struct, frozen=True):
    """What the secret detector saw in one file that reaches a shipped stage."""

    relpath: str
    credential_kind: str | None
    secrets: tuple[SecretMatch, ...]
    skipped: str | None = None  # why the content was not scanned (binary, too large)


class BuildContext(Struct, frozen=True, dict=True):
    root: Path  # the context folder
    prefix: str  # the context folder relative to the project root ('' or 'svc/')
    dockerfile: Dockerfile
    ignore: DockerIgnore | None
    ignore_relpath: str | None  # the ignore file, relative to the project root
    files: tuple[ContextFile, ...]  # what is sent, sorted by relpath
    excluded: int  # files left out by the ignore file
    problems: tuple[ContextProblem, ...]
    truncated: bool = False
    contents: Mapping[str, FileContent] = struct_field(default_factory=dict)
    # credential files (relpath -> credential kind) that only builder stages take
    builder_credentials: Mapping[str, str] = struct_field(default_factory=dict)

    @property
    def sent_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def project_path(self, relpath: str) -> str:
        """A context path as the project reports it."""
        return self.prefix + relpath

    @cached_property
    def _paths(self) -> list[str]:
        return [f.relpath for f in self.files]

    @cached_property
    def by_path(self) -> Mapping[str, ContextFile]:
        return {f.relpath: f for f in self.files}

    @cached_property
    def copies(self) -> tuple[CopyTake, ...]:
        return tuple(_copies(self))

    def taken_by(self, relpath: str) -> list[CopyTake]:
        return [take for take in self.copies if relpath in take.file_set]

    @cached_property
    def shipped_files(self) -> Mapping[str, CopyTake]:
        """Context files that land in the shipped stage or its FROM ancestors: first COPY."""
        chain = {stage.index for stage in self.dockerfile.shipped_chain()}
        shipped: dict[str, CopyTake] = {}
        for take in self.copies:
            if take.stage.index in chain:
                for relpath in take.files:
                    shipped.setdefault(relpath, take)
        for relpath, take in _carried_from_builders(self, chain):
            shipped.setdefault(relpath, take)
        return shipped

    @cached_property
    def builder_files(self) -> Mapping[str, CopyTake]:
        """Context files that only non-shipped stages take: first COPY."""
        taken: dict[str, CopyTake] = {}
        shipped = self.shipped_files
        for take in self.copies:
            for relpath in take.files:
                if relpath not in shipped:
                    taken.setdefault(relpath, take)
        return taken

    def read_text(self, source: str, limit: int = 256 * 1024) -> str | None:
        """A small text file the build sends (a COPY source), or None when it is not sent
        (missing, ignored, outside the context, not a regular file) or larger than limit."""
        relpath = posixpath.normpath(source.lstrip("/"))
        entry = self.by_path.get(relpath)
        if entry is None or entry.is_symlink or entry.size > limit:
            return None
        data = _read(self.root, entry, limit)
        return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else None

    @cached_property
    def transferred(self) -> tuple[ContextFile, ...]:
        """What BuildKit (the default builder) really transfers: only the files some
        COPY or ADD takes, not everything the ignore file lets through."""
        taken = {relpath for take in self.copies for relpath in take.files}
        return tuple(f for f in self.files if f.relpath in taken)

    @property
    def transferred_bytes(self) -> int:
        return sum(f.size for f in self.transferred)

    def top_entries(
        self, count: int = 3, files: Sequence[ContextFile] | None = None
    ) -> list[tuple[str, int]]:
        """The biggest top-level entries of what is sent (or of `files`): (name, bytes),
        biggest first."""
        sizes: dict[str, int] = {}
        for file in self.files if files is None else files:
            top, slash, _ = file.relpath.partition("/")
            key = top + "/" if slash else top
            sizes[key] = sizes.get(key, 0) + file.size
        return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:count]

    def under(self, directory: str) -> list[str]:
        """Sent files at or below a context directory ('' for all)."""
        if directory in ("", "."):
            return list(self._paths)
        prefix = directory.rstrip("/") + "/"
        start = bisect.bisect_left(self._paths, prefix)
        end = bisect.bisect_left(self._paths, prefix[:-1] + chr(ord("/") + 1))
        exact = [directory] if directory in self.by_path else []
        return exact + self._paths[start:end]


def load_context(
    root: Path,
    dockerfile: Dockerfile,
    project: Project,
    scanned: dict[tuple[Path, str], FileContent] | None = None,
) -> BuildContext:
    """The build context of one Dockerfile. A context folder outside the project folder
    (compose `build: {context: /}`) is reported and not walked: dockwise reads only what
    the user pointed it at; checking that folder itself includes it. `scanned` keeps the
    content verdict of each file by context folder, for Dockerfiles sharing a context."""
    if not _inside(root, project.root):
        return BuildContext(
            root=root,
            prefix=_prefix(project.root, root),
            dockerfile=dockerfile,
            ignore=None,
            ignore_relpath=None,
            files=(),
            excluded=0,
            problems=(
                ContextProblem(
                    "",
                    f"the build context {root.as_posix()} is outside the checked folder: "
                    "not read (check that folder to include it)",
                ),
            ),
        )
    ignore_path = find_ignore_file(root, dockerfile.path)
    ignore = load_dockerignore(ignore_path) if ignore_path is not None else None
    files, excluded, problems, truncated = _walk(root, ignore)
    context = BuildContext(
        root=root,
        prefix=_prefix(project.root, root),
        dockerfile=dockerfile,
        ignore=ignore,
        ignore_relpath=project.relpath(ignore_path) if ignore_path is not None else None,
        files=tuple(files),
        excluded=excluded,
        problems=tuple(problems),
        truncated=truncated,
    )
    by_path = context.by_path
    shipped = [by_path[relpath] for relpath in context.shipped_files]
    if scanned is None:
        contents = _scan_all(root, shipped)
    else:  # a file's verdict depends on its text and its path in the context only
        todo = [file for file in shipped if (root, file.relpath) not in scanned]
        scanned.update(((root, relpath), found) for relpath, found in _scan_all(root, todo).items())
        contents = {file.relpath: scanned[(root, file.relpath)] for file in shipped}
    force_setattr(context, "contents", contents)
    builder = {
        relpath: kind
        for relpath in context.builder_files
        if (kind := _credential_kind(root, context.by_path[relpath])) is not None
    }
    force_setattr(context, "builder_credentials", builder)
    return context


@lru_cache(maxsize=4096)
def _resolved(path: Path) -> Path:
    """The path with symlinks resolved; a batch asks this of the same folders many times."""
    return path.resolve()


def _inside(folder: Path, project_root: Path) -> bool:
    try:
        _resolved(folder).relative_to(_resolved(project_root))
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _prefix(project_root: Path, context_root: Path) -> str:
    try:
        relative = _resolved(context_root).relative_to(_resolved(project_root)).as_posix()
    except ValueError:
        return context_root.as_posix().rstrip("/") + "/"
    return "" if relative == "." else relative + "/"


def _walk(
    root: Path, ignore: DockerIgnore | None
) -> tuple[list[ContextFile], int, list[ContextProblem], bool]:
    files: list[ContextFile] = []
    problems: list[ContextProblem] = []
    excluded = 0
    seen = 0
    real_root = str(_resolved(root))
    stack = [""]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(root / directory if directory else root))
        except OSError as error:
            problems.append(
                ContextProblem(directory or ".", f"cannot read folder: {error.strerror}")
            )
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_CONTEXT_ENTRIES:
                return sorted(files, key=lambda f: f.relpath), excluded, problems, True
            disk_path = f"{directory}/{entry.name}" if directory else entry.name
            relpath = _printable(disk_path)
            ignored = ignore is not None and ignore.is_ignored(relpath)
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not ignored or ignore is None or ignore.may_contain_included(relpath):
                        stack.append(disk_path)
                    continue
                if ignored:
                    excluded += 1
                    continue
                file = _file(entry, relpath, real_root, problems)
                if disk_path != relpath:
                    file = ContextFile(
                        file.relpath,
                        file.size,
                        file.is_symlink,
                        file.link_outside,
                        file.special,
                        disk_path,
                    )
                files.append(file)
            except OSError as error:
                problems.append(ContextProblem(relpath, f"cannot read: {error.strerror}"))
    return sorted(files, key=lambda f: f.relpath), excluded, problems, False


def _printable(relpath: str) -> str:
    """Names that are not valid UTF-8 keep their bytes as escapes, never crash the walk."""
    try:
        relpath.encode("utf-8")
    except UnicodeEncodeError:
        return relpath.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return relpath


def _file(
    entry: os.DirEntry[str], relpath: str, real_root: str, problems: list[ContextProblem]
) -> ContextFile:
    info = entry.stat(follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        target = os.path.realpath(entry.path)
        outside = not (target == real_root or target.startswith(real_root + os.sep))
        return ContextFile(relpath, 0, is_symlink=True, link_outside=outside)
    if not stat.S_ISREG(info.st_mode):
        problems.append(
            ContextProblem(relpath, f"{_special_kind(info.st_mode)}: Docker cannot copy it")
        )
        return ContextFile(relpath, 0, special=True)
    return ContextFile(relpath, info.st_size)


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def _read(root: Path, file: ContextFile, limit: int) -> bytes | str:
    """Up to `limit` bytes of a regular file, or why it could not be read.

    Never follows a link, never blocks on a FIFO (O_NONBLOCK), never reads past `limit`
    even when the file grew or shrank since it was listed.
    """
    if file.is_symlink:
        return "symlink"
    if file.special:
        return "not a regular file"
    try:
        descriptor = os.open(f"{root}/{file.os_relpath}", _READ_FLAGS)
    except OSError as error:
        return f"cannot read: {error.strerror}"
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return "not a regular file"
        chunks: list[bytes] = []
        remaining = limit
        while remaining > 0:
            wanted = min(remaining, 1 << 20)
            chunk = os.read(descriptor, wanted)
            chunks.append(chunk)
            remaining -= len(chunk)
            if len(chunk) < wanted:  # end of file (a regular file never reads short before)
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except OSError as error:
        return f"cannot read: {error.strerror}"
    finally:
        os.close(descriptor)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _credential_kind(root: Path, file: ContextFile) -> str | None:
    """The credential kind of a file by name and by its first bytes (never the whole file)."""
    from dockwise.secrets import credential_file_kind

    head = _read(root, file, HEAD_BYTES)
    return credential_file_kind(file.relpath, head if isinstance(head, bytes) else b"")


def _scan(root: Path, file: ContextFile) -> FileContent:
    """One file's content verdict (what `_scan_all` computes for many files at once)."""
    result = _prepare_scan(root, file)
    if isinstance(result, FileContent):
        return result
    from dockwise.secrets import scan_text

    text, kind = result
    return FileContent(file.relpath, kind, tuple(scan_text(text, path=file.relpath)))


def _prepare_scan(root: Path, file: ContextFile) -> FileContent | tuple[str, str | None]:
    """The file's text and credential kind, or its final verdict when there is no text."""
    from dockwise.secrets import MAX_SCAN_BYTES, credential_file_kind, is_binary

    # a file listed larger than the cap is judged by its head only: a 5 GB file costs 8 KB
    limit = HEAD_BYTES if file.size > MAX_SCAN_BYTES else MAX_SCAN_BYTES + 1
    data = _read(root, file, limit)
    if isinstance(data, str):
        kind = credential_file_kind(file.relpath, b"") if data == "symlink" else None
        return FileContent(file.relpath, kind, (), data)
    head = data[:HEAD_BYTES]
    kind = credential_file_kind(file.relpath, head)
    if file.size > MAX_SCAN_BYTES or len(data) > MAX_SCAN_BYTES:
        return FileContent(file.relpath, kind, (), "larger than the scan limit")
    if is_binary(head):
        return FileContent(file.relpath, kind, (), "binary")
    return data.decode("utf-8", errors="replace"), kind


# Small text files are scanned in batches: the detector's cost is mostly per call, so one
# call over a megabyte of joined files is several times cheaper than a thousand calls. A
# batch only preselects: every file a batch hit lands in is scanned again on its own and
# that result is the one kept, so batching never changes what is reported. Files whose
# verdict depends on the whole file (key blocks, sealed secrets, netrc) are scanned alone.
BATCH_BYTES = 1 << 20
_SEPARATOR = "\n\n\n\n"
_SEPARATOR_LINES = _SEPARATOR.count("\n")
_WHOLE_FILE_MARKERS = ("-----BEGIN", "PuTTY-User-Key-File", "SealedSecret")


def _scan_all(root: Path, files: list[ContextFile]) -> dict[str, FileContent]:
    from dockwise.secrets import scan_text

    results: dict[str, FileContent] = {}
    batches: dict[str, _Batch] = {}
    for file in files:
        prepared = _prepare_scan(root, file)
        if isinstance(prepared, FileContent):
            results[file.relpath] = prepared
            continue
        text, kind = prepared
        if _scan_alone(file.relpath, text):
            found = tuple(scan_text(text, path=file.relpath))
            results[file.relpath] = FileContent(file.relpath, kind, found)
            continue
        key = _extension(file.relpath)
        batch = batches.setdefault(key, _Batch(key))
        batch.add(file.relpath, text, kind)
        if batch.size >= BATCH_BYTES:
            results.update(batch.scan())
            batches[key] = _Batch(key)
    for batch in batches.values():
        results.update(batch.scan())
    return results


def _scan_alone(relpath: str, text: str) -> bool:
    return relpath.lower().endswith("netrc") or any(m in text for m in _WHOLE_FILE_MARKERS)


def _extension(relpath: str) -> str:
    """What the detector's parsing style depends on: the lower-cased file extension."""
    base = relpath.rpartition("/")[2].lower()
    return base.rpartition(".")[2] if "." in base else ""


class _Batch:
    def __init__(self, extension: str) -> None:
        self.path = f"batch.{extension}" if extension else "batch"
        self.entries: list[tuple[str, str, str | None]] = []
        self.size = 0

    def add(self, relpath: str, text: str, kind: str | None) -> None:
        self.entries.append((relpath, text, kind))
        self.size += len(text)

    def scan(self) -> dict[str, FileContent]:
        from dockwise.secrets import scan_text

        if not self.entries:
            return {}
        if len(self.entries) == 1:
            relpath, text, kind = self.entries[0]
            return {relpath: FileContent(relpath, kind, tuple(scan_text(text, path=relpath)))}
        first_lines: list[int] = []
        line = 1
        for _, text, _ in self.entries:
            first_lines.append(line)
            line += text.count("\n") + _SEPARATOR_LINES
        joined = _SEPARATOR.join(text for _, text, _ in self.entries)
        suspects = {
            bisect.bisect_right(first_lines, match.line) - 1
            for match in scan_text(joined, path=self.path)
        }
        results: dict[str, FileContent] = {}
        for index, (relpath, text, kind) in enumerate(self.entries):
            found = tuple(scan_text(text, path=relpath)) if index in suspects else ()
            results[relpath] = FileContent(relpath, kind, found)
        return results


def _copies(context: BuildContext) -> Iterator[CopyTake]:
    dockerfile = context.dockerfile
    for stage in dockerfile.stages:
        for instruction in stage.all("COPY", "ADD"):
            if instruction.flag("from") is not None or not instruction.value:
                continue
            sources = [
                instruction.expanded(source)
                for source in instruction.value[:-1]
                if not source.startswith("<<")
                and "://" not in source
                and not source.startswith("git@")
            ]
            if not sources:
                continue
            excludes = [instruction.expanded(e) for e in instruction.flag_values("exclude")]
            landings, whole = _taken(context, instruction, sources, excludes)
            yield CopyTake(
                instruction, stage, tuple(sources), tuple(sorted(landings)), whole, landings
            )


def _taken(
    context: BuildContext, instruction: Instruction, sources: list[str], excludes: list[str]
) -> tuple[dict[str, str], bool]:
    """Context files a COPY takes, each with the absolute path where it lands."""
    destination = _destination(instruction)
    into_folder = destination.endswith("/") or len(sources) > 1
    landings: dict[str, str] = {}
    whole = False
    for source in sources:
        cleaned = _clean(source)
        if cleaned == ".":
            whole = True
        wildcard = any(ch in cleaned for ch in "*?[")
        for match in _expand_source(context, cleaned):
            for relpath in context.under(match):
                inside = relpath[len(match) :].lstrip("/") if match else relpath
                if relpath == match:  # the source is this file
                    name = relpath.rsplit("/", 1)[-1]
                    target = (
                        posixpath.join(destination, name)
                        if into_folder or wildcard
                        else destination
                    )
                else:
                    target = posixpath.join(destination, inside)
                landings.setdefault(relpath, posixpath.normpath(target))
    if excludes:
        landings = {p: t for p, t in landings.items() if not any(_excluded(p, e) for e in excludes)}
    return landings, whole


def _destination(instruction: Instruction) -> str:
    written = instruction.expanded(instruction.value[-1])
    absolute = posixpath.join(instruction.workdir, written)
    # `COPY main.py .` copies into the folder `.` names, as `COPY main.py ./` does
    folder = written.endswith("/") or posixpath.basename(written) in (".", "..")
    return absolute + "/" if folder and not absolute.endswith("/") else absolute


def _carried_from_builders(
    context: BuildContext, chain: set[int]
) -> Iterator[tuple[str, CopyTake]]:
    """Context files a builder stage took that a `COPY --from=builder` brings into the
    shipped chain (`COPY . /app` in the builder, `COPY --from=builder /app /app` after)."""
    dockerfile = context.dockerfile
    builder_takes = [take for take in context.copies if take.stage.index not in chain]
    if not builder_takes:
        return
    for stage in dockerfile.shipped_chain():
        for copy in stage.all("COPY", "ADD"):
            source_stage = copy.flag("from")
            builder = dockerfile.stage_by_ref(copy.expanded(source_stage)) if source_stage else None
            if builder is None or builder.index in chain:
                continue
            feeding = {s.index for s in dockerfile.ancestry(builder)}
            paths = [
                posixpath.normpath(posixpath.join("/", copy.expanded(src)))
                for src in copy.value[:-1]
            ]
            for take in builder_takes:
                if take.stage.index in feeding:
                    for relpath, landing in take.landings.items():
                        if any(_under(landing, path) for path in paths):
                            yield relpath, take


def _under(landing: str, path: str) -> bool:
    """True when a `COPY --from` source path (Go wildcards allowed) covers the landing."""
    if path in ("/", landing) or landing.startswith(path.rstrip("/") + "/"):
        return True
    if not any(ch in path for ch in "*?["):
        return False
    depth = path.count("/")
    parts = landing.split("/")
    return len(parts) > depth and go_match(path, "/".join(parts[: depth + 1]))


def _clean(source: str) -> str:
    cleaned = os.path.normpath("/" + source).lstrip("/")
    return cleaned or "."


def _expand_source(context: BuildContext, source: str) -> list[str]:
    """Context paths a COPY source names: itself, or what its wildcards match (Go syntax)."""
    if source == ".":
        return [""]
    if not any(ch in source for ch in "*?["):
        return [source]
    depth = source.count("/") + 1
    candidates = {
        "/".join(path.split("/")[:depth])
        for path in context.under("")
        if path.count("/") + 1 >= depth
    }
    return sorted(c for c in candidates if go_match(source, c))


def _excluded(relpath: str, pattern: str) -> bool:
    pattern = _clean(pattern)
    parts = relpath.split("/")
    return any(go_match(pattern, "/".join(parts[i:])) for i in range(len(parts))) or any(
        go_match(pattern, "/".join(parts[: i + 1])) for i in range(len(parts))
    )
