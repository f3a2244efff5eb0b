"""Discover a project folder once and build the Project model every rule reads."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from msgspec import Struct, field

from dockwise.config import Config
from dockwise.lazyre import lazy_compile

# sources/dockerfile.py is imported where used: the Go parser it loads starts threads, and a
# large batch is read by two processes forked before that (see `_map`)
if TYPE_CHECKING:
    from dockwise.limits.usagefile import Usage
    from dockwise.model.link import ImageLink, StageChoice
    from dockwise.model.service import ImagePart, Service
    from dockwise.sources.compose import ComposeFile
    from dockwise.sources.context import BuildContext, FileContent
    from dockwise.sources.dockerfile import Dockerfile, Stage
    from dockwise.sources.kubernetes import ManifestFile
    from dockwise.sources.pyapp import PythonApp

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
T = TypeVar("T")
# `map_(function, items)`: `[function(item) for item in items]`, computed some way
Mapper = Callable[
    [Callable[["Dockerfile"], "BuildContext"], Sequence["Dockerfile"]], list["BuildContext"]
]
MAX_DISCOVERED_ENTRIES = 2_000_000


class InputProblem(Struct, frozen=True):
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


class Discovery(Struct, frozen=True):
    dockerfiles: tuple[Path, ...] = ()
    ignore_files: tuple[Path, ...] = ()
    compose_files: tuple[Path, ...] = ()
    # many on a big tree: kept as plain path strings, made into Paths by their loaders
    yaml_files: tuple[str, ...] = ()
    python_files: tuple[str, ...] = ()
    problems: tuple[InputProblem, ...] = ()
    # Makefiles and shell scripts: where `docker build -t NAME` says which image a
    # Dockerfile builds
    scripts: tuple[str, ...] = ()


class TemplateFile(Struct, frozen=True):
    """A Dockerfile that is a Jinja/cookiecutter template: not checked, reported once."""

    relpath: str
    line: int
    marker: str  # the template syntax seen, e.g. `{% if ... %}`


class Project(Struct, frozen=True, dict=True, weakref=True):
    root: Path  # the folder paths are relative to
    config: Config
    dockerfiles: tuple[Dockerfile, ...]
    discovery: Discovery
    problems: tuple[InputProblem, ...] = ()
    single_file: bool = False
    # the context folder a Dockerfile builds with, when a compose file or --context says so
    context_dirs: Mapping[str, Path] = field(default_factory=dict)
    # what says which stage of a Dockerfile ships (--target, a compose build), by relpath;
    # a multi-stage Dockerfile missing here ships its last stage by guess
    stage_sources: Mapping[str, str] = field(default_factory=dict)
    templates: tuple[TemplateFile, ...] = ()
    stdin_manifests: tuple[ManifestFile, ...] = ()
    # `check --usage FILE`: what `dockwise limits` measured; without it, a
    # dockwise-usage.json at the root is read (see `usage`)
    usage_file: Path | None = None
    # built images read with the project (`check --image`, `dockwise image`), each joined
    # to the service it was built for by model/link.py (imagescan/join.py attaches them)
    images: tuple[ImagePart, ...] = ()

    @cached_property
    def _usage(self) -> tuple[Usage | None, str | None]:
        from dockwise.limits.errors import LimitsError
        from dockwise.limits.usagefile import USAGE_FILE, load_usage

        path = self.usage_file
        if path is None:
            path = self.root / USAGE_FILE
            if not path.is_file():
                return None, None
        try:
            return load_usage(path, self.relpath(path)), None
        except LimitsError as error:
            return None, str(error)

    @property
    def usage(self) -> Usage | None:
        """Measured usage and the limits recommended from it (limits/usagefile.py)."""
        return self._usage[0]

    @property
    def usage_problem(self) -> str | None:
        """Why the usage file could not be read, when it could not."""
        return self._usage[1]

    def relpath(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    @cached_property
    def compose_files(self) -> tuple[ComposeFile, ...]:
        if not self.discovery.compose_files:  # nothing to read: the loader is not imported
            return ()
        from dockwise.sources.compose import load_compose_files

        return load_compose_files(self.discovery.compose_files, self.root)

    def context_dir(self, dockerfile: Dockerfile) -> Path:
        return self.context_dirs.get(dockerfile.relpath, dockerfile.path.parent)

    @cached_property
    def contexts(self) -> Mapping[str, BuildContext]:
        """Build context of each Dockerfile, keyed by the Dockerfile's relpath (loaded lazily).

        A Dockerfile read from stdin has none, whatever name it is reported under."""
        return self.load_contexts()

    def load_contexts(self, map_: Mapper | None = None) -> Mapping[str, BuildContext]:
        """The build contexts `contexts` holds, each computed by `map_` (the engine shares
        a large batch's with a forked helper, engine.py) or in turn; `contexts` keeps them."""
        if "contexts" in self.__dict__:
            return self.contexts
        from dockwise.sources.context import load_context

        on_disk = set(self.discovery.dockerfiles)
        scanned: dict[tuple[Path, str], FileContent] = {}  # shared by Dockerfiles of a context

        def load(dockerfile: Dockerfile) -> BuildContext:
            return load_context(self.context_dir(dockerfile), dockerfile, self, scanned)

        read = [df for df in self.dockerfiles if df.path in on_disk]
        loaded = map_(load, read) if map_ is not None else [load(df) for df in read]
        found = {df.relpath: context for df, context in zip(read, loaded, strict=True)}
        self.__dict__["contexts"] = found  # what cached_property does: frozen, yet cached
        return found

    def iter_dockerfiles(self) -> Iterator[Dockerfile]:
        return iter(self.dockerfiles)

    @cached_property
    def manifests(self) -> tuple[ManifestFile, ...]:
        """Kubernetes manifests among the YAML files (others are not read further), after
        those read from stdin (`helm template . | dockwise check -`)."""
        if not self.discovery.yaml_files:  # nothing to read: the loader is not imported
            return tuple(self.stdin_manifests)
        from dockwise.sources.kubernetes import load_manifest

        found = list(self.stdin_manifests)
        for name in self.discovery.yaml_files:
            path = Path(name)
            manifest = load_manifest(path, self.relpath(path))
            if manifest is not None:
                found.append(manifest)
        return tuple(found)

    @cached_property
    def services(self) -> tuple[Service, ...]:
        """The services the artifacts make, joined once (model/link.py)."""
        from dockwise.model.link import build_services

        return build_services(self)

    def python_app(self, root: Path) -> PythonApp:
        """The Python code under a folder (a build context), parsed lazily."""
        from dockwise.sources.pyapp import load_app

        cache = self._apps
        if root not in cache:
            prefix = str(root).rstrip(os.sep) + os.sep
            files = [
                (Path(name), name[len(prefix) :].replace(os.sep, "/"))
                for name in self.discovery.python_files
                if name.startswith(prefix)
            ]
            cache[root] = load_app(files)
        return cache[root]

    @cached_property
    def _apps(self) -> dict[Path, PythonApp]:
        return {}

    def memo(self, name: str, model: object, compute: Callable[[], T]) -> T:
        """`compute()`, once per project for a fact `name` of a model (a Dockerfile, a
        service...): rules that all ask the same question of the same model share the answer.
        Models are frozen, so the answer cannot go stale; they are told apart by identity
        (hashing a whole Dockerfile would cost more than most facts)."""
        table = self._memo.setdefault(name, {})
        found = table.get(id(model))
        if found is None or found[0] is not model:
            found = (model, compute())  # the model is kept alive: its id cannot be reused
            table[id(model)] = found
        return found[1]  # type: ignore[return-value]

    @cached_property
    def _memo(self) -> dict[str, dict[int, tuple[object, object]]]:
        return {}

    @cached_property
    def image_links(self) -> Mapping[str, ImageLink]:
        """Images built by this project's Dockerfiles, by `registry/repository` (model/link.py)."""
        from dockwise.model import link

        known = {df.relpath for df in self.dockerfiles}
        found: dict[str, ImageLink] = {}
        scripts = [Path(p) for p in self.discovery.scripts]
        references = [s.base_resolved for df in self.dockerfiles for s in df.stages]
        for item in (
            *link.compose_images(self.compose_files, self.relpath),
            *link.script_images(scripts, self.root),
            *link.folder_images(references, sorted(known)),
        ):
            if item.dockerfile in known:
                found.setdefault(item.image, item)
        return found

    def built_from(self, stage: Stage) -> tuple[Dockerfile, ImageLink] | None:
        """The Dockerfile of this project that builds the image a stage starts FROM."""
        from dockwise.model.link import image_key

        base = stage.external_base
        key = image_key(base) if base else None
        found = self.image_links.get(key) if key else None
        if found is None:
            return None
        for dockerfile in self.dockerfiles:
            if dockerfile.relpath == found.dockerfile:
                if found.target and found.target != dockerfile.target:
                    dockerfile = dockerfile.with_target(found.target)
                return dockerfile, found
        return None


def discover(root: Path) -> Discovery:
    dockerfiles: list[Path] = []
    ignores: list[Path] = []
    compose: list[Path] = []
    yamls: list[str] = []
    pythons: list[str] = []
    scripts: list[str] = []
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
            elif name == "Makefile" or name.endswith((".mk", ".sh")):
                scripts.append(os.path.join(folder, name))
    return Discovery(
        tuple(dockerfiles),
        tuple(ignores),
        tuple(compose),
        tuple(yamls),
        tuple(pythons),
        tuple(problems),
        tuple(scripts),
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
    return load_files([path], config, target)


def load_files(paths: list[Path], config: Config, target: str | None = None) -> Project:
    """One project made of Dockerfiles given one by one; paths are relative to their
    common folder, and each Dockerfile's own folder is its build context unless a compose
    file beside or above it (up to the repository root) builds it otherwise."""
    resolved = [path.resolve() for path in paths]
    root = Path(os.path.commonpath([path.parent for path in resolved]))
    discovery = Discovery(dockerfiles=tuple(resolved))
    choices: dict[str, StageChoice] = {}
    dockerfiles, problems, templates = _load_dockerfiles(
        discovery.dockerfiles,
        root,
        config,
        target,
        choices,
        find_choices=lambda: choices.update(_choices_above(resolved, root)),
    )
    return Project(
        root,
        config,
        dockerfiles,
        discovery,
        problems,
        single_file=True,
        stage_sources=_sources(dockerfiles, choices, target, config),
        templates=templates,
    )


def manifests_from_text(text: str, config: Config, name: str = "-") -> Project | None:
    """A project made of the Kubernetes manifests read from stdin (`helm template` or
    `kustomize build` output); None when the text is no manifest (a Dockerfile, then)."""
    from dockwise.sources.kubernetes import parse_manifest

    if not _MANIFEST_START.match(text):
        return None
    manifest = parse_manifest(text, name)
    if manifest is None:
        return None
    return Project(
        Path.cwd(), config, (), Discovery(), single_file=True, stdin_manifests=(manifest,)
    )


# YAML manifests start with a comment, a document marker or apiVersion/kind; no Dockerfile does
_MANIFEST_START = lazy_compile(r"\A(?:\s*(?:#[^\n]*|---[^\n]*)?\n)*\s*(?:apiVersion|kind)\s*:")


def project_from_text(text: str, config: Config, name: str = "-") -> Project:
    """A project made of one Dockerfile read from stdin: no context, no other files. When
    `name` (--stdin-filename) is a path, the compose files beside or above it still say
    which stage ships."""
    choices: dict[str, StageChoice] = {}
    if name != "-":
        where = Path(name).resolve()
        if where.parent.is_dir():
            choice = _choice_above(where)
            if choice is not None:
                choices[name] = choice
    template = _template_marker(text)
    if template is not None:
        line, marker = template
        return Project(
            Path.cwd(),
            config,
            (),
            Discovery(),
            single_file=True,
            templates=(TemplateFile(name, line, marker),),
        )
    chosen = config.target or (choices[name].target if name in choices else None)
    from dockwise.sources.dockerfile import parse_dockerfile

    dockerfile = parse_dockerfile(text, Path(name), name, chosen)
    return Project(
        Path.cwd(),
        config,
        (dockerfile,),
        Discovery(),
        single_file=True,
        stage_sources=_sources((dockerfile,), choices, None, config),
    )


def _choice_above(
    dockerfile: Path,
    seen: dict[Path, list[str]] | None = None,
    loaded: dict[Path, ComposeFile] | None = None,
) -> StageChoice | None:
    """What the compose files beside or above a Dockerfile say ships (for many Dockerfiles
    at once, `seen`: the folders already listed, `loaded`: the compose files read)."""
    from dockwise.model import link

    paths = link.compose_files_above(dockerfile, listings=seen)
    if not paths:  # most single Dockerfiles: the compose loader is not even imported
        return None
    from dockwise.sources.compose import load_compose

    loaded = {} if loaded is None else loaded
    for path in paths:
        if path not in loaded:
            loaded[path] = load_compose(path, path.name)
    return link.stage_choice(dockerfile, [loaded[path] for path in paths], _display_path)


def _display_path(path: Path) -> str:
    try:
        return os.path.relpath(path, Path.cwd()).replace(os.sep, "/")
    except ValueError:
        return path.as_posix()


def _choices_above(paths: list[Path], root: Path) -> dict[str, StageChoice]:
    """What the compose files beside or above each (resolved) Dockerfile say ships. Most
    Dockerfiles of a batch have no compose file above them: that is found with one listing
    of each folder and one look for .git in it, whatever the number of Dockerfiles."""
    choices: dict[str, StageChoice] = {}
    seen: dict[Path, list[str]] = {}
    loaded: dict[Path, ComposeFile] = {}
    composes: dict[str, bool] = {}
    tops: dict[str, str | None] = {}
    for path in paths:
        if not _any_compose_above(os.path.dirname(path), composes, tops):
            continue
        choice = _choice_above(path, seen, loaded)
        if choice is not None:
            choices[path.relative_to(root).as_posix()] = choice
    return choices


def _any_compose_above(folder: str, composes: dict[str, bool], tops: dict[str, str | None]) -> bool:
    """Whether a compose file is named in a folder `link.compose_files_above` reads for a
    Dockerfile in `folder` (resolved): that folder and those above it, up to the
    repository root, or MAX_PARENT_LEVELS above without one. `composes` keeps the answer
    of each folder listed, `tops` the repository roots (paths as strings: many lookups)."""
    from dockwise.model.link import MAX_PARENT_LEVELS

    top = _repository_root(folder, tops)
    levels = 0
    while True:
        found = composes.get(folder)
        if found is None:
            try:
                found = any(is_compose_name(name) for name in os.listdir(folder))
            except OSError:
                found = False
            composes[folder] = found
        if found:
            return True
        levels += 1
        parent = os.path.dirname(folder)
        if folder == top or parent == folder:
            return False
        if top is None and levels > MAX_PARENT_LEVELS:
            return False
        folder = parent


def _repository_root(folder: str, tops: dict[str, str | None]) -> str | None:
    """The folder holding .git at or above `folder`, each folder looked at once."""
    walked: list[str] = []
    found: str | None = None
    while True:
        if folder in tops:
            found = tops[folder]
            break
        walked.append(folder)
        if os.path.exists(os.path.join(folder, ".git")):
            found = folder
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for each in walked:
        tops[each] = found
    return found


def _sources(
    dockerfiles: tuple[Dockerfile, ...],
    choices: Mapping[str, StageChoice],
    target: str | None,
    config: Config,
) -> dict[str, str]:
    """Why each Dockerfile's shipped stage is the one judged, when something says so."""
    sources: dict[str, str] = {}
    for dockerfile in dockerfiles:
        choice = choices.get(dockerfile.relpath)
        if target:
            sources[dockerfile.relpath] = "--target"
        elif choice is not None:
            sources[dockerfile.relpath] = choice.source
        elif config.target:
            sources[dockerfile.relpath] = "the configured target"
    return sources


def _load_folder(root: Path, config: Config, target: str | None) -> Project:
    from dockwise.model import link

    discovery = discover(root)
    shell = Project(root, config, (), discovery)
    choices: dict[str, StageChoice] = {}
    context_dirs: dict[str, Path] = {}

    def find_choices() -> None:
        if discovery.compose_files:
            for compose in shell.compose_files:
                for build in compose.builds:
                    context_dirs.setdefault(shell.relpath(build.dockerfile), build.context)
            resolved: dict[Path, Path] = {}
            for path in discovery.dockerfiles:
                choice = link.stage_choice(path, shell.compose_files, shell.relpath, resolved)
                if choice is not None:
                    choices[shell.relpath(path)] = choice
        above = _compose_above_folder(root)
        if above:
            for path in discovery.dockerfiles:
                if shell.relpath(path) not in choices:
                    choice = link.stage_choice(path, above, _display_path)
                    if choice is not None:
                        choices[shell.relpath(path)] = choice

    dockerfiles, problems, templates = _load_dockerfiles(
        discovery.dockerfiles, root, config, target, choices, find_choices
    )
    return Project(
        root,
        config,
        dockerfiles,
        discovery,
        discovery.problems + problems,
        context_dirs=context_dirs,
        stage_sources=_sources(dockerfiles, choices, target, config),
        templates=templates,
    )


def _compose_above_folder(root: Path) -> list[ComposeFile]:
    """Compose files above a checked folder, up to its repository root (a folder inside a
    repository is often built by the compose file at the top)."""
    from dockwise.model import link

    top = link.repository_root(root)
    if top is None or top == root:
        return []
    paths = [path for path in link.compose_files_above(root, stop=top) if path.parent != root]
    if not paths:
        return []
    from dockwise.sources.compose import load_compose  # 25 record classes: only when needed

    return [load_compose(path, _display_path(path)) for path in paths]


# a batch at least this large is read and parsed by two processes (forked.py)
PARALLEL_MIN_DOCKERFILES = 48
# the BuildKit parser's Go runtime: threads that would not survive a fork
_GO_PARSER = "dockerfile"


def _load_dockerfiles(
    paths: tuple[Path, ...],
    root: Path,
    config: Config,
    target: str | None,
    choices: Mapping[str, StageChoice],
    find_choices: Callable[[], object],
) -> tuple[tuple[Dockerfile, ...], tuple[InputProblem, ...], tuple[TemplateFile, ...]]:
    """The Dockerfiles parsed, in order, with the read problems and templates among them.
    `find_choices` fills `choices` (what compose files say ships); for a large batch it runs
    while a helper parses, so the stage that ships is set on each Dockerfile once parsed."""

    def load(path: Path) -> Dockerfile | InputProblem | TemplateFile:
        return _load_dockerfile(path, path.relative_to(root).as_posix())

    loaded = _map(load, paths, find_choices)
    problems = tuple(one for one in loaded if isinstance(one, InputProblem))
    templates = tuple(one for one in loaded if isinstance(one, TemplateFile))
    dockerfiles = []
    for one in loaded:
        if not isinstance(one, InputProblem | TemplateFile):
            choice = choices.get(one.relpath)
            chosen = target or (choice.target if choice else None) or config.target
            dockerfiles.append(one.with_target(chosen) if chosen else one)
    return tuple(dockerfiles), problems, templates


def _map(
    function: Callable[[Path], T], paths: Sequence[Path], first: Callable[[], object]
) -> list[T]:
    """`[function(path) for path in paths]` after `first()`: for a large batch, shared with
    a helper process forked before the parser is loaded (each process then loads its own),
    `first` running here meanwhile; parsing is most of what a batch does before the rules
    run, and the rest runs on every core."""
    if len(paths) >= PARALLEL_MIN_DOCKERFILES and _GO_PARSER not in sys.modules:
        from dockwise import forked

        if forked.can_fork(forked.jobs_wanted(), len(paths)):
            return forked.forked_map(function, paths, first=first)
    first()
    return [function(path) for path in paths]


def _load_dockerfile(path: Path, relpath: str) -> Dockerfile | InputProblem | TemplateFile:
    """One Dockerfile parsed, or why it is not: it cannot be read, it is a template."""
    from dockwise.sources.dockerfile import DockerfileError, parse_dockerfile, read_dockerfile_text

    try:
        text = read_dockerfile_text(path, relpath)
    except DockerfileError as error:
        return InputProblem(error.path, error.line, error.message)
    template = _template_marker(text)
    if template is not None:
        return TemplateFile(relpath, *template)
    return parse_dockerfile(text, path, relpath)


# Jinja/cookiecutter syntax: `{% ... %}` and `{# ... #}` never occur in a Dockerfile; `{{`
# does (Go templates: `docker inspect --format '{{.Id}}'`), so it counts only where an
# instruction or image name would be, or naming cookiecutter
# (spans bounded: an unbounded lazy `.*?` rescanned the line from every opening, and 50,000
# braces after FROM took 18 s; issue 6)
_TEMPLATE_MARKERS = (
    lazy_compile(r"\{%-?\s*\w.{0,200}?%\}"),
    lazy_compile(r"^\s*\{#.*#\}"),
    lazy_compile(r"^\s*\{\{.*\}\}"),
    lazy_compile(r"\{\{\s*cookiecutter\..{0,200}?\}\}"),
    lazy_compile(r"(?i)^\s*FROM\s+\S{0,200}?\{\{.{0,200}?\}\}"),
)


def _template_marker(text: str) -> tuple[int, str] | None:
    """(line, text) of the first Jinja/cookiecutter syntax in a Dockerfile, if any."""
    if "{%" not in text and "{{" not in text and "{#" not in text:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        for pattern in _TEMPLATE_MARKERS:
            match = pattern.search(line)
            if match:
                shown = match.group(0).strip()
                return number, shown if len(shown) <= 40 else shown[:37] + "..."
    return None
