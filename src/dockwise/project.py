"""Discover a project folder once and build the Project model every rule reads."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dockwise.config import Config
from dockwise.sources.dockerfile import (
    Dockerfile,
    DockerfileError,
    load_dockerfile,
    parse_dockerfile,
)

if TYPE_CHECKING:
    from dockwise.sources.compose import ComposeFile
    from dockwise.sources.context import BuildContext

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        ".eggs",
    }
)
COMPOSE_STEMS = ("compose", "docker-compose")
MAX_DISCOVERED_ENTRIES = 2_000_000


@dataclass(frozen=True)
class InputProblem:
    """Input dockwise could not use: reported on stderr and turns the exit status to 2."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


# `Dockerfile.<suffix>` names that are something else: editor plugins, docs, templates
_NOT_DOCKERFILE_SUFFIXES = frozenset(
    [
        "vim",
        "el",
        "lua",
        "py",
        "rb",
        "go",
        "js",
        "ts",
        "json",
        "yaml",
        "yml",
        "toml",
        "md",
        "rst",
        "txt",
        "html",
        "sh",
        "bash",
        "ps1",
        "bat",
        "j2",
        "jinja",
        "jinja2",
        "tmpl",
        "tpl",
        "template",
        "in",
        "erb",
        "mustache",
        "hbs",
        "orig",
        "bak",
        "swp",
        "log",
        "lock",
    ]
)


def is_dockerfile_name(name: str) -> bool:
    lowered = name.lower()
    if lowered.endswith(".dockerignore"):
        return False
    if lowered in ("dockerfile", "containerfile"):
        return True
    if lowered.endswith((".dockerfile", ".containerfile")):
        return True
    stem, dot, suffix = lowered.partition(".")
    return (
        bool(dot)
        and stem in ("dockerfile", "containerfile")
        and suffix.rsplit(".", 1)[-1] not in _NOT_DOCKERFILE_SUFFIXES
    )


def is_compose_name(name: str) -> bool:
    """compose.yaml, docker-compose.yml, compose.prod.yaml, docker-compose.override.yml..."""
    if not name.endswith((".yaml", ".yml")):
        return False
    stem = name.rsplit(".", 1)[0]
    return stem in COMPOSE_STEMS or stem.startswith(("compose.", "docker-compose."))


@dataclass(frozen=True)
class Discovery:
    dockerfiles: tuple[Path, ...] = ()
    ignore_files: tuple[Path, ...] = ()
    compose_files: tuple[Path, ...] = ()
    # many on a big tree: kept as plain path strings, made into Paths by their loaders
    yaml_files: tuple[str, ...] = ()
    python_files: tuple[str, ...] = ()
    problems: tuple[InputProblem, ...] = ()


@dataclass(frozen=True)
class Project:
    root: Path  # the folder paths are relative to
    config: Config
    dockerfiles: tuple[Dockerfile, ...]
    discovery: Discovery
    problems: tuple[InputProblem, ...] = ()
    single_file: bool = False
    # the context folder a Dockerfile builds with, when a compose file or --context says so
    context_dirs: Mapping[str, Path] = field(default_factory=dict)

    def relpath(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    @cached_property
    def compose_files(self) -> tuple[ComposeFile, ...]:
        from dockwise.sources.compose import load_compose

        return tuple(
            load_compose(path, self.relpath(path)) for path in self.discovery.compose_files
        )

    def context_dir(self, dockerfile: Dockerfile) -> Path:
        return self.context_dirs.get(dockerfile.relpath, dockerfile.path.parent)

    @cached_property
    def contexts(self) -> Mapping[str, BuildContext]:
        """Build context of each Dockerfile, keyed by the Dockerfile's relpath (loaded lazily).

        A Dockerfile read from stdin has none, whatever name it is reported under."""
        from dockwise.sources.context import load_context

        on_disk = set(self.discovery.dockerfiles)
        return {
            df.relpath: load_context(self.context_dir(df), df, self)
            for df in self.dockerfiles
            if df.path in on_disk
        }

    def iter_dockerfiles(self) -> Iterator[Dockerfile]:
        return iter(self.dockerfiles)


def discover(root: Path) -> Discovery:
    dockerfiles: list[Path] = []
    ignores: list[Path] = []
    compose: list[Path] = []
    yamls: list[str] = []
    pythons: list[str] = []
    problems: list[InputProblem] = []
    seen = 0

    def on_error(error: OSError) -> None:
        where = Path(error.filename).relative_to(root).as_posix() if error.filename else "."
        problems.append(InputProblem(where, None, f"cannot read folder: {error.strerror}"))

    for folder, dirs, files in os.walk(root, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not _skipped_dir(folder, d))
        seen += len(files) + len(dirs)
        if seen > MAX_DISCOVERED_ENTRIES:
            problems.append(
                InputProblem(
                    ".", None, f"more than {MAX_DISCOVERED_ENTRIES} entries: stopped looking"
                )
            )
            break
        for name in sorted(files):
            if name.endswith(".py"):
                pythons.append(os.path.join(folder, name))
            elif is_dockerfile_name(name):
                dockerfiles.append(Path(folder, name))
            elif name.endswith(".dockerignore"):
                ignores.append(Path(folder, name))
            elif is_compose_name(name):
                compose.append(Path(folder, name))
            elif name.endswith((".yaml", ".yml")):
                yamls.append(os.path.join(folder, name))
    return Discovery(
        tuple(dockerfiles),
        tuple(ignores),
        tuple(compose),
        tuple(yamls),
        tuple(pythons),
        tuple(problems),
    )


def _skipped_dir(parent: str, name: str) -> bool:
    if name in SKIPPED_DIRS:
        return True
    return os.path.exists(os.path.join(parent, name, "pyvenv.cfg"))


def load_project(path: Path, config: Config, target: str | None = None) -> Project:
    """A project from a folder, or from one Dockerfile (its folder is the context)."""
    path = path.resolve()
    if path.is_dir():
        return _load_folder(path, config, target)
    root = path.parent
    discovery = Discovery(dockerfiles=(path,))
    dockerfiles, problems = _load_dockerfiles(discovery.dockerfiles, root, config, target, {})
    return Project(root, config, dockerfiles, discovery, problems, single_file=True)


def load_files(paths: list[Path], config: Config, target: str | None = None) -> Project:
    """One project made of several Dockerfiles given one by one; paths are relative to
    their common folder, and each Dockerfile's own folder is its build context."""
    resolved = [path.resolve() for path in paths]
    root = Path(os.path.commonpath([path.parent for path in resolved]))
    discovery = Discovery(dockerfiles=tuple(resolved))
    dockerfiles, problems = _load_dockerfiles(discovery.dockerfiles, root, config, target, {})
    return Project(root, config, dockerfiles, discovery, problems, single_file=True)


def project_from_text(text: str, config: Config, name: str = "-") -> Project:
    """A project made of one Dockerfile read from stdin: no context, no other files."""
    dockerfile = parse_dockerfile(text, Path(name), name, config.target)
    return Project(Path.cwd(), config, (dockerfile,), Discovery(), single_file=True)


def _load_folder(root: Path, config: Config, target: str | None) -> Project:
    discovery = discover(root)
    shell = Project(root, config, (), discovery)
    targets: dict[str, str] = {}
    context_dirs: dict[str, Path] = {}
    if discovery.compose_files:
        for compose in shell.compose_files:
            for build in compose.builds:
                key = shell.relpath(build.dockerfile)
                if build.target and key not in targets:
                    targets[key] = build.target
                context_dirs.setdefault(key, build.context)
    dockerfiles, problems = _load_dockerfiles(discovery.dockerfiles, root, config, target, targets)
    return Project(
        root,
        config,
        dockerfiles,
        discovery,
        discovery.problems + problems,
        context_dirs=context_dirs,
    )


def _load_dockerfiles(
    paths: tuple[Path, ...],
    root: Path,
    config: Config,
    target: str | None,
    compose_targets: Mapping[str, str],
) -> tuple[tuple[Dockerfile, ...], tuple[InputProblem, ...]]:
    loaded: list[Dockerfile] = []
    problems: list[InputProblem] = []
    for path in paths:
        relpath = path.relative_to(root).as_posix()
        chosen = target or compose_targets.get(relpath) or config.target
        try:
            loaded.append(load_dockerfile(path, relpath, chosen))
        except DockerfileError as error:
            problems.append(InputProblem(error.path, error.line, error.message))
    return tuple(loaded), tuple(problems)
