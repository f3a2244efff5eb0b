"""Compose files as `docker compose config` resolves them: a typed, immutable model.

What is resolved, in compose's order: per file, `${VAR}` interpolation from the project's
`.env` (never from the machine's environment, so results do not depend on who runs
dockwise; unset variables are listed in `unset`), then `include`, then `extends` (same file
or another; cycles reported); then the auto-discovered override file
(`compose.override.yaml` next to `compose.yaml`) is merged with compose's merge rules
(`!reset` and `!override` included). Every value keeps the file and line it came from.

Every value's type is checked before use: a value of the wrong type becomes one
`ComposeProblem` naming file:line (the value is then left out), never an exception.
A loader: it never judges; values from `.env` are in the model but nothing here prints them.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from msgspec import Struct, field

from dockwise.sources.templates import template_marker
from dockwise.sources.yamlload import (
    MAX_YAML_BYTES,
    Map,
    Node,
    Scalar,
    Seq,
    YamlReadError,
    load_yaml,
    read_text,
)

MAX_COMPOSE_BYTES = MAX_YAML_BYTES
MAX_ENV_BYTES = 1024 * 1024
MAX_COMPOSE_ITEMS = 5_000  # lines + flow items: 17 times the largest real compose file
MAX_INTERPOLATED_CHARS = 8 * 1024 * 1024
MAX_FILES = 64  # files one compose project may pull in (include, extends)
PRIMARY_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)

# --- the model ---------------------------------------------------------------------------


class Origin(Struct, frozen=True):
    """Where a value is written: file (relative to the project root), 1-based line/column."""

    path: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class ComposeProblem(Struct, frozen=True):
    """Something docker compose would refuse (or that dockwise could not read)."""

    path: str
    line: int | None
    message: str
    column: int | None = None

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


class Text(Struct, frozen=True):
    """A string value. `written` is the text as written before interpolation; `interpolated`
    says a `${VAR}` was substituted (the value then may come from `.env`: never print it)."""

    value: str
    origin: Origin
    written: str
    interpolated: bool = False

    def __str__(self) -> str:
        return self.value


class Flag(Struct, frozen=True):
    value: bool
    origin: Origin


class Number(Struct, frozen=True):
    value: float  # an int where compose wants one (retries)
    origin: Origin
    written: str


class Duration(Struct, frozen=True):
    seconds: float
    origin: Origin
    written: str


class ByteSize(Struct, frozen=True):
    bytes: int
    origin: Origin
    written: str


class Variable(Struct, frozen=True):
    """One entry of `environment` or `build.args`: value None = taken from the host
    environment at run time (`- NAME` or `NAME:` with no value)."""

    name: str
    value: str | None
    origin: Origin
    written: str | None  # as written, before interpolation
    interpolated: bool = False


class Command(Struct, frozen=True):
    """`command`, `entrypoint`: `argv` as compose runs it (a string is split like a shell
    would, but is not run by one); `shell_form` when it was written as one string."""

    argv: tuple[str, ...]
    origin: Origin
    shell_form: bool
    written: str


class Healthcheck(Struct, frozen=True):
    origin: Origin
    test: tuple[str, ...] = ()  # as written in list form: ("CMD", ...), ("CMD-SHELL", s), ("NONE",)
    test_origin: Origin | None = None
    interval: Duration | None = None
    timeout: Duration | None = None
    start_period: Duration | None = None
    start_interval: Duration | None = None
    retries: Number | None = None
    disable: bool = False

    @property
    def disabled(self) -> bool:
        return self.disable or self.test[:1] == ("NONE",)

    @property
    def kind(self) -> str | None:
        """CMD, CMD-SHELL or NONE (a string test is CMD-SHELL); None when no test is set
        (the image's HEALTHCHECK test is then used)."""
        return self.test[0] if self.test else None

    @property
    def command(self) -> tuple[str, ...]:
        """argv for CMD, the shell script as one item for CMD-SHELL."""
        return self.test[1:]


class Resources(Struct, frozen=True):
    """One of deploy.resources.limits / reservations."""

    origin: Origin
    cpus: Number | None = None
    memory: ByteSize | None = None
    pids: Number | None = None


class Logging(Struct, frozen=True):
    origin: Origin
    driver: Text | None = None
    options: Mapping[str, Text] = field(default_factory=dict)


class Port(Struct, frozen=True):
    """One `ports` entry. Numbers stay text: a range (`8000-8010`) or a variable is legal."""

    origin: Origin
    written: str
    target: str | None = None
    published: str | None = None
    host_ip: str | None = None
    protocol: str = "tcp"


class Volume(Struct, frozen=True):
    origin: Origin
    written: str
    type: str  # bind, volume, tmpfs, npipe, image, cluster
    source: str | None
    target: str | None
    read_only: bool = False


class ServiceSecret(Struct, frozen=True):
    origin: Origin
    source: str
    target: str | None = None


class Dependency(Struct, frozen=True):
    service: str
    origin: Origin
    condition: str = "service_started"  # service_healthy, service_completed_successfully
    required: bool = True
    restart: bool = False


class EnvFile(Struct, frozen=True):
    path: Path
    origin: Origin
    written: str
    required: bool = True


class Build(Struct, frozen=True):
    """A service's `build:`. `context` is None for a remote context (`remote` holds the URL).
    `outside_root` when the local context is not inside the project folder: report it,
    don't walk it. `context_error` when the context cannot be a folder (a symlink loop...)."""

    origin: Origin
    context: Path | None
    remote: str | None = None
    dockerfile: Path | None = None  # None with dockerfile_inline or a remote context
    dockerfile_inline: Text | None = None
    target: Text | None = None
    args: Mapping[str, Variable] = field(default_factory=dict)
    outside_root: bool = False
    context_error: str | None = None


class ComposeService(Struct, frozen=True):
    name: str
    origin: Origin  # the service's key
    image: Text | None = None
    build: Build | None = None
    command: Command | None = None
    entrypoint: Command | None = None
    environment: Mapping[str, Variable] = field(default_factory=dict)
    env_files: tuple[EnvFile, ...] = ()
    healthcheck: Healthcheck | None = None
    limits: Resources | None = None  # deploy.resources.limits
    reservations: Resources | None = None  # deploy.resources.reservations
    mem_limit: ByteSize | None = None
    mem_reservation: ByteSize | None = None
    cpus: Number | None = None
    logging: Logging | None = None
    user: Text | None = None
    privileged: Flag | None = None
    init: Flag | None = None
    read_only: Flag | None = None
    stop_grace_period: Duration | None = None
    stop_signal: Text | None = None
    ports: tuple[Port, ...] = ()
    expose: tuple[Text, ...] = ()
    secrets: tuple[ServiceSecret, ...] = ()
    volumes: tuple[Volume, ...] = ()
    depends_on: Mapping[str, Dependency] = field(default_factory=dict)
    profiles: tuple[str, ...] = ()
    extends: tuple[str, ...] = ()  # "file:service" of each service it extends, nearest first
    # the resolved service as plain data (dicts, lists, scalars): for what the model lacks
    raw: Mapping[str, object] = field(default_factory=dict)

    @property
    def memory_limit(self) -> ByteSize | None:
        return (self.limits.memory if self.limits else None) or self.mem_limit

    @property
    def cpu_limit(self) -> Number | None:
        return (self.limits.cpus if self.limits else None) or self.cpus


class TopLevel(Struct, frozen=True):
    """An entry of top-level `secrets`, `configs`, `volumes` or `networks`."""

    name: str
    origin: Origin
    file: str | None = None
    environment: str | None = None
    external: bool = False


class Unset(Struct, frozen=True):
    """A variable the compose file uses that `.env` does not set."""

    name: str
    origin: Origin
    required: bool  # `${VAR:?err}` / `${VAR?err}`: compose refuses to run without it


class ComposeBuild(Struct, frozen=True):
    """A service build with a local context and Dockerfile (what links a compose service
    to a Dockerfile in the project). Remote and inline builds are only in `Build`."""

    service: str
    line: int | None
    context: Path
    dockerfile: Path
    target: str | None
    args: Mapping[str, str | None] = field(default_factory=dict)
    outside_root: bool = False
    origin: Origin | None = None


class ComposeFile(Struct, frozen=True):
    path: Path
    relpath: str
    services: Mapping[str, ComposeService]
    builds: tuple[ComposeBuild, ...]
    error: str | None = None  # the first problem written in this file (DW944)
    error_line: int | None = None
    problems: tuple[ComposeProblem, ...] = ()  # every problem, wherever it is written
    files: tuple[str, ...] = ()  # every file read: this one, override, includes, extends
    merged_into: str | None = None  # an override file: its services are in that file's model
    secrets: Mapping[str, TopLevel] = field(default_factory=dict)
    configs: Mapping[str, TopLevel] = field(default_factory=dict)
    volumes: Mapping[str, TopLevel] = field(default_factory=dict)
    networks: Mapping[str, TopLevel] = field(default_factory=dict)
    unset: tuple[Unset, ...] = ()
    # files that are Jinja/cookiecutter templates, not YAML until rendered: (relpath,
    # (line, the template syntax seen)); not checked
    templates: tuple[tuple[str, tuple[int, str]], ...] = ()


# --- entry points ------------------------------------------------------------------------


def load_compose_files(paths: Iterable[Path], root: Path) -> tuple[ComposeFile, ...]:
    """Every discovered compose file, as `docker compose` would read each folder: the
    primary file with its override merged; an override file is returned too, with
    `merged_into` set and its problems only (its services are in the primary)."""
    paths = list(paths)
    by_folder: dict[Path, dict[str, Path]] = {}
    for path in paths:
        by_folder.setdefault(path.parent, {})[path.name] = path
    override_of: dict[Path, Path] = {}
    for names in by_folder.values():
        primary = next((names[n] for n in PRIMARY_NAMES if n in names), None)
        override = next((names[n] for n in OVERRIDE_NAMES if n in names), None)
        if primary is not None and override is not None:
            override_of[override] = primary
    loaded: dict[Path, ComposeFile] = {}
    primaries = {primary: override for override, primary in override_of.items()}
    for path in paths:
        if path in override_of:
            continue
        loaded[path] = load_compose(path, _relpath(path, root), root, primaries.get(path))
    result: list[ComposeFile] = []
    for path in paths:
        if path in loaded:
            result.append(loaded[path])
            continue
        merged_into = loaded[override_of[path]]
        relpath = _relpath(path, root)
        mine = tuple(p for p in merged_into.problems if p.path == relpath)
        first = mine[0] if mine else None
        result.append(
            ComposeFile(
                path,
                relpath,
                {},
                (),
                first.message if first else None,
                first.line if first else None,
                mine,
                (relpath,),
                merged_into=merged_into.relpath,
            )
        )
    return tuple(result)


def load_compose(
    path: Path, relpath: str, root: Path | None = None, override: Path | None = None
) -> ComposeFile:
    """One compose file (and `override`, merged over it). `root` is the project folder
    (guessed from relpath when not given): paths outside it are marked `outside_root`."""
    if root is None:
        root = _root_of(path, relpath)
    loader = _Loader(root)
    return loader.load(path, relpath, override)


def _root_of(path: Path, relpath: str) -> Path:
    parts = Path(relpath).parts
    if Path(relpath).is_absolute() or not parts:
        return path.parent
    root = path
    for _ in parts:
        root = root.parent
    return root


def _relpath(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# --- interpolation -----------------------------------------------------------------------

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")


class _InterpolationError(Exception):
    pass


class _Interpolated(Struct):
    text: str
    substituted: bool


def interpolate(
    text: str,
    env: Mapping[str, str],
    on_unset: Callable[[str, bool, str | None], None],
    budget: list[int] | None = None,
) -> _Interpolated:
    """compose's `$$`, `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`,
    `${VAR:+r}`, `${VAR+r}` (defaults interpolated too). on_unset(name, required, error)."""
    if "$" not in text:
        return _Interpolated(text, False)
    out: list[str] = []
    substituted = False
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c != "$" or i + 1 >= n:
            j = text.find("$", i + 1)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = _closing_brace(text, i + 2)
            if end < 0:
                raise _InterpolationError(f"invalid interpolation format: {text[i : i + 40]!r}")
            out.append(_braced(text[i + 2 : end], env, on_unset, budget))
            substituted = True
            i = end + 1
        else:
            match = _NAME.match(text, i + 1)
            if match is None:
                out.append("$")
                i += 1
                continue
            name = match.group()
            if name not in env:
                on_unset(name, False, None)
            out.append(env.get(name, ""))
            substituted = True
            i = match.end()
        if budget is not None:
            budget[0] -= len(out[-1])
            if budget[0] < 0:
                raise _InterpolationError(
                    f"interpolation expands past {MAX_INTERPOLATED_CHARS:,} characters"
                )
    return _Interpolated("".join(out), substituted)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _braced(
    inner: str,
    env: Mapping[str, str],
    on_unset: Callable[[str, bool, str | None], None],
    budget: list[int] | None,
) -> str:
    match = _NAME.match(inner)
    if match is None:
        raise _InterpolationError(f"invalid interpolation format: ${{{inner[:40]}}}")
    name = match.group()
    rest = inner[match.end() :]
    if not rest:
        if name not in env:
            on_unset(name, False, None)
        return env.get(name, "")
    colon = rest.startswith(":")
    op = rest[1:2] if colon else rest[:1]
    argument = rest[2:] if colon else rest[1:]
    if op not in ("-", "?", "+"):
        raise _InterpolationError(f"invalid interpolation format: ${{{inner[:40]}}}")
    value = env.get(name)
    missing = value is None or (colon and value == "")
    if op == "-":
        if missing:
            if value is None:
                on_unset(name, False, None)
            return interpolate(argument, env, on_unset, budget).text
        return value or ""
    if op == "+":
        return "" if missing else interpolate(argument, env, on_unset, budget).text
    if missing:
        on_unset(name, True, argument)
        return ""
    return value or ""


def parse_dotenv(text: str) -> dict[str, str]:
    """A `.env` file as compose reads it: KEY=VALUE, `export`, quotes, comments, and
    `${VAR}` from earlier lines in unquoted and double-quoted values."""
    env: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _NAME.fullmatch(name):
            continue
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            body = value[1:]
            while quote not in body and i < len(lines):  # multi-line quoted value
                body += "\n" + lines[i]
                i += 1
            body = body.split(quote, 1)[0]
            if quote == '"':
                body = body.replace("\\n", "\n").replace('\\"', '"')
                body = _expand_env(body, env)
            env[name] = body
            continue
        value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        env[name] = _expand_env(value, env)
    return env


def _expand_env(value: str, env: Mapping[str, str]) -> str:
    try:
        return interpolate(value, env, lambda *_: None, [MAX_ENV_BYTES]).text
    except _InterpolationError:
        return value


# --- reading, interpolating and merging the node trees -----------------------------------


class _Source(Struct):
    relpath: str
    base: Path  # relative paths in it resolve from here
    env: Mapping[str, str]


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[ComposeProblem] = []
        self.sources: dict[str, _Source] = {}
        self.files: list[str] = []
        self.templates: list[tuple[str, tuple[int, str]]] = []
        self.unset: dict[tuple[str, str, int], Unset] = {}
        self.trees: dict[tuple[Path, int], Map | None] = {}
        self.budget = [MAX_INTERPOLATED_CHARS]

    def problem(self, node: Node | Origin | None, message: str, path: str = "") -> None:
        if isinstance(node, Origin):
            self.problems.append(ComposeProblem(node.path, node.line, message, node.column))
        elif node is not None:
            self.problems.append(ComposeProblem(node.source, node.line, message, node.column))
        else:
            self.problems.append(ComposeProblem(path, None, message))

    # files

    def read(self, path: Path, base: Path, env: Mapping[str, str]) -> Map | None:
        """One file, interpolated with env; None (and a problem) when it cannot be used."""
        key = (path, id(env))
        if key in self.trees:
            return self.trees[key]
        self.trees[key] = None
        relpath = _relpath(path, self.root)
        if len(self.files) >= MAX_FILES:
            self.problem(None, f"more than {MAX_FILES} compose files included: not read", relpath)
            return None
        self.files.append(relpath)
        self.sources[relpath] = _Source(relpath, base, env)
        try:
            text = read_text(path, MAX_COMPOSE_BYTES)
        except YamlReadError as error:
            self.problem(None, error.message, relpath)
            return None
        loaded = load_yaml(text, max_items=MAX_COMPOSE_ITEMS, source=relpath)
        if not loaded.documents and loaded.problems and (marker := template_marker(text)):
            self.templates.append((relpath, marker))  # not YAML until it is rendered
            return None
        for yaml_problem in loaded.problems:
            self.problems.append(
                ComposeProblem(
                    relpath, yaml_problem.line, yaml_problem.message, yaml_problem.column
                )
            )
        if not loaded.documents:
            if not loaded.problems:
                self.problem(None, "empty compose file", relpath)
            return None
        merged: Map | None = None
        for document in loaded.documents:
            if not isinstance(document, Map):
                self.problem(document, "a compose file must be a mapping (services: ...)")
                return None
            merged = document if merged is None else _merge_top(merged, document)
        assert merged is not None
        try:
            tree = self._interpolate(merged, env, {})
        except _InterpolationError as error:
            self.problem(None, str(error), relpath)
            return None
        assert isinstance(tree, Map)
        self.trees[key] = tree
        return tree

    def env_for(self, folder: Path) -> dict[str, str]:
        try:
            return parse_dotenv(read_text(folder / ".env", MAX_ENV_BYTES))
        except YamlReadError:
            return {}

    def _interpolate(self, node: Node, env: Mapping[str, str], memo: dict[int, Node]) -> Node:
        known = memo.get(id(node))
        if known is not None:
            return known
        result: Node
        if isinstance(node, Scalar):
            result = node
            if node.kind == "str" and "$" in node.text:

                def on_unset(name: str, required: bool, error: str | None) -> None:
                    origin = Origin(node.source, node.line, node.column)
                    self.unset.setdefault(
                        (name, node.source, node.line), Unset(name, origin, required)
                    )

                done = interpolate(node.text, env, on_unset, self.budget)
                result = Scalar(
                    done.text, node.text, "str", node.line, node.column, node.tag, node.source
                )
        elif isinstance(node, Seq):
            result = Seq(
                tuple(self._interpolate(item, env, memo) for item in node.items),
                node.line,
                node.column,
                node.tag,
                node.source,
            )
        else:
            result = Map(
                {k: self._interpolate(v, env, memo) for k, v in node.entries.items()},
                node.keys,
                node.line,
                node.column,
                node.tag,
                node.source,
            )
        memo[id(node)] = result
        return result

    # a project

    def load(self, path: Path, relpath: str, override: Path | None) -> ComposeFile:
        folder = path.parent
        env = self.env_for(folder)
        tree = self.file_model(path, folder, env, ())
        if tree is not None and override is not None:
            over = self.file_model(override, folder, env, ())
            if over is not None:
                tree = _merge_top(tree, over)
        services: dict[str, ComposeService] = {}
        builds: list[ComposeBuild] = []
        tops: dict[str, dict[str, TopLevel]] = {}
        if tree is not None:
            services = self.services(tree)
            for service in services.values():
                build = service.build
                if (
                    build
                    and build.context is not None
                    and build.dockerfile is not None
                    and build.context_error is None
                ):
                    builds.append(
                        ComposeBuild(
                            service.name,
                            build.origin.line if build.origin.path == relpath else None,
                            build.context,
                            build.dockerfile,
                            build.target.value if build.target else None,
                            {k: v.value for k, v in build.args.items()},
                            build.outside_root,
                            build.origin,
                        )
                    )
            for section in ("secrets", "configs", "volumes", "networks"):
                tops[section] = self.top_level(tree, section)
        mine = [p for p in self.problems if p.path == relpath]
        return ComposeFile(
            path,
            relpath,
            services,
            tuple(builds),
            mine[0].message if mine else None,
            mine[0].line if mine else None,
            tuple(_unique(self.problems)),
            tuple(self.files),
            None,
            tops.get("secrets", {}),
            tops.get("configs", {}),
            tops.get("volumes", {}),
            tops.get("networks", {}),
            tuple(self.unset.values()),
            tuple(self.templates),
        )

    def file_model(
        self, path: Path, base: Path, env: Mapping[str, str], chain: tuple[Path, ...]
    ) -> Map | None:
        """A file with its includes added and its extends resolved."""
        tree = self.read(path, base, env)
        if tree is None:
            return None
        include = tree.get("include")
        if include is not None:
            tree = self.include(tree, include, path, base, env, chain + (path,))
        services = tree.get("services")
        if isinstance(services, Map):
            resolved = {
                name: self.extend(path, base, env, name, services, (), node)
                for name, node in services.entries.items()
            }
            tree = _with(tree, "services", _replace_entries(services, resolved))
        return tree

    def include(
        self,
        tree: Map,
        include: Node,
        path: Path,
        base: Path,
        env: Mapping[str, str],
        chain: tuple[Path, ...],
    ) -> Map:
        items = include.items if isinstance(include, Seq) else ()
        if not isinstance(include, Seq):
            self.problem(include, "include must be a list")
        result = _without(tree, "include")
        for item in items:
            files: list[Node] = []
            project_dir: Path | None = None
            if isinstance(item, Scalar) and isinstance(item.value, str):
                files = [item]
            elif isinstance(item, Map):
                node = item.get("path")
                files = list(node.items) if isinstance(node, Seq) else [node] if node else []
                folder = item.get("project_directory")
                if isinstance(folder, Scalar) and isinstance(folder.value, str):
                    project_dir = (base / folder.value).resolve()
            else:
                self.problem(item, "include entries must be a path or a mapping with path:")
                continue
            included: Map | None = None
            for file_node in files:
                if not (isinstance(file_node, Scalar) and isinstance(file_node.value, str)):
                    self.problem(file_node or item, "include path must be a string")
                    continue
                target = Path(os.path.normpath(base / file_node.value))
                if target in chain:
                    self.problem(file_node, f"include cycle: {file_node.value} includes itself")
                    continue
                project = project_dir or target.parent
                sub_env = {**self.env_for(project), **env}
                model = self.file_model(target, project, sub_env, chain)
                if model is None:
                    continue
                included = model if included is None else _merge_top(included, model)
            if included is None:
                continue
            for section in ("services", "volumes", "networks", "secrets", "configs"):
                theirs = included.get(section)
                if not isinstance(theirs, Map):
                    continue
                ours = result.get(section)
                if isinstance(ours, Map):
                    for name in theirs.entries:
                        if name in ours.entries and section == "services":
                            self.problem(
                                item, f"services.{name} conflicts with the included service"
                            )
                    merged = dict(theirs.entries)
                    merged.update(ours.entries)
                    keys = {**theirs.keys, **ours.keys}
                    result = _with(
                        result,
                        section,
                        Map(merged, keys, ours.line, ours.column, None, ours.source),
                    )
                else:
                    result = _with(result, section, theirs)
        return result

    def extend(
        self,
        path: Path,
        base: Path,
        env: Mapping[str, str],
        name: str,
        services: Map,
        chain: tuple[tuple[Path, str], ...],
        node: Node,
    ) -> Node:
        if not isinstance(node, Map):
            return node
        spec = node.get("extends")
        if spec is None:
            return node
        here = (path, name)
        chain = chain + (here,)
        local = _without(node, "extends")
        if isinstance(spec, Scalar) and isinstance(spec.value, str):
            target_name, file_node = spec.value, None
        elif isinstance(spec, Map):
            service_node = spec.get("service")
            file_node = spec.get("file")
            if not (isinstance(service_node, Scalar) and isinstance(service_node.value, str)):
                self.problem(spec, f"services.{name}.extends.service must be a string")
                return local
            target_name = service_node.value
        else:
            self.problem(spec, f"services.{name}.extends must be a string or a mapping")
            return local
        target_path, target_base, target_services = path, base, services
        if file_node is not None:
            if not (isinstance(file_node, Scalar) and isinstance(file_node.value, str)):
                self.problem(file_node, f"services.{name}.extends.file must be a string")
                return local
            target_path = Path(os.path.normpath(base / file_node.value))
            target_base = target_path.parent
            tree = self.read(target_path, target_base, env)
            if tree is None:
                return local
            found = tree.get("services")
            if not isinstance(found, Map):
                self.problem(file_node, f"{file_node.value} has no services")
                return local
            target_services = found
        if (target_path, target_name) in chain:
            names = " -> ".join(s for _, s in chain) + f" -> {target_name}"
            self.problem(spec, f"circular extends: {names}")
            return local
        target = target_services.get(target_name)
        if target is None:
            self.problem(spec, f"services.{name} extends {target_name}, which is not defined")
            return local
        resolved = self.extend(
            target_path, target_base, env, target_name, target_services, chain, target
        )
        if not isinstance(resolved, Map):
            return local
        trail = resolved.get("x-dockwise-extends")
        written = f"{_relpath(target_path, self.root)}:{target_name}"
        merged = _merge_service(resolved, local)
        chain_items: tuple[Node, ...] = (
            Scalar(written, written, "str", spec.line, spec.column, None, spec.source),
        )
        if isinstance(trail, Seq):
            chain_items += trail.items
        return _with(merged, "x-dockwise-extends", Seq(chain_items, spec.line, spec.column))

    # typed model

    def services(self, tree: Map) -> dict[str, ComposeService]:
        node = tree.get("services")
        if node is None:
            return {}
        if not isinstance(node, Map):
            self.problem(node, "services must be a mapping")
            return {}
        result: dict[str, ComposeService] = {}
        for name, service in node.entries.items():
            key = node.keys.get(name, (node.line, node.column))
            origin = Origin(service.source or node.source, key[0], key[1])
            if isinstance(service, Scalar) and service.value is None:
                service = Map({}, {}, key[0], key[1], None, node.source)
            if not isinstance(service, Map):
                self.problem(service, f"services.{name} must be a mapping")
                continue
            result[name] = _ServiceReader(self, name, service, origin).read()
        return result

    def top_level(self, tree: Map, section: str) -> dict[str, TopLevel]:
        node = tree.get(section)
        if not isinstance(node, Map):
            if node is not None and not (isinstance(node, Scalar) and node.value is None):
                self.problem(node, f"{section} must be a mapping")
            return {}
        result: dict[str, TopLevel] = {}
        for name, entry in node.entries.items():
            key = node.keys.get(name, (node.line, node.column))
            origin = Origin(node.source, key[0], key[1])
            if isinstance(entry, Map):
                file = entry.get("file")
                environment = entry.get("environment")
                external = entry.get("external")
                result[name] = TopLevel(
                    name,
                    origin,
                    _string(file),
                    _string(environment),
                    bool(isinstance(external, Scalar) and external.value not in (None, False)),
                )
            else:
                result[name] = TopLevel(name, origin)
        return result


def _unique(problems: Iterable[ComposeProblem]) -> list[ComposeProblem]:
    seen: set[tuple[str, int | None, str]] = set()
    out: list[ComposeProblem] = []
    for problem in problems:
        key = (problem.path, problem.line, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def _string(node: Node | None) -> str | None:
    if isinstance(node, Scalar) and node.kind == "str" and isinstance(node.value, str):
        return node.value
    return None


# --- merging (compose's merge rules: override files and extends) --------------------------

_REPLACED = frozenset({"command", "entrypoint"})
_MAPPING_LISTS = frozenset(
    {"environment", "labels", "extra_hosts", "sysctls", "annotations", "depends_on", "networks"}
)
_UNIQUE_BY = {"ports", "volumes", "secrets", "configs", "expose", "dns", "dns_search"}


def _with(node: Map, key: str, value: Node) -> Map:
    entries = dict(node.entries)
    entries[key] = value
    keys = dict(node.keys)
    keys.setdefault(key, (value.line, value.column))
    return Map(entries, keys, node.line, node.column, node.tag, node.source)


def _without(node: Map, key: str) -> Map:
    entries = {k: v for k, v in node.entries.items() if k != key}
    return Map(entries, node.keys, node.line, node.column, node.tag, node.source)


def _replace_entries(node: Map, entries: Mapping[str, Node]) -> Map:
    return Map(dict(entries), node.keys, node.line, node.column, node.tag, node.source)


def _merge_top(base: Map, over: Map) -> Map:
    entries = dict(base.entries)
    keys = dict(base.keys)
    for key, value in over.entries.items():
        if value.tag == "!reset":
            entries.pop(key, None)
            continue
        old = entries.get(key)
        if key == "services" and isinstance(old, Map) and isinstance(value, Map):
            services = dict(old.entries)
            service_keys = dict(old.keys)
            for name, service in value.entries.items():
                previous = services.get(name)
                if service.tag == "!reset":
                    services.pop(name, None)
                elif isinstance(previous, Map) and isinstance(service, Map):
                    services[name] = _merge_service(previous, service)
                else:
                    services[name] = service
                    service_keys[name] = value.keys.get(name, (service.line, service.column))
            entries[key] = Map(services, service_keys, old.line, old.column, None, old.source)
        elif isinstance(old, Map) and isinstance(value, Map) and value.tag != "!override":
            entries[key] = _merge_maps(old, value, ())
        else:
            entries[key] = value
            keys[key] = over.keys.get(key, (value.line, value.column))
    return Map(entries, keys, base.line, base.column, None, base.source)


def _merge_service(base: Map, over: Map) -> Map:
    return _merge_maps(_normal_build(base), _normal_build(over), ())


def _normal_build(service: Map) -> Map:
    build = service.get("build")
    if isinstance(build, Scalar) and build.kind == "str":
        return _with(
            service,
            "build",
            Map(
                {"context": build},
                {"context": (build.line, build.column)},
                build.line,
                build.column,
                None,
                build.source,
            ),
        )
    return service


def _merge_maps(base: Map, over: Map, path: tuple[str, ...]) -> Map:
    entries = dict(base.entries)
    keys = dict(base.keys)
    for key, value in over.entries.items():
        if value.tag == "!reset":
            entries.pop(key, None)
            continue
        old = entries.get(key)
        here = (*path, key)
        keys[key] = over.keys.get(key, (value.line, value.column))
        if (
            old is None
            or value.tag == "!override"
            or key in _REPLACED
            or here == ("healthcheck", "test")
        ):
            entries[key] = value
        elif key in _MAPPING_LISTS or here == ("build", "args"):
            entries[key] = _merge_maps(_as_map(old), _as_map(value), here)
        elif isinstance(old, Map) and isinstance(value, Map):
            entries[key] = _merge_maps(old, value, here)
        elif isinstance(old, Seq) and isinstance(value, Seq):
            entries[key] = _merge_seqs(key, old, value)
        else:
            entries[key] = value
    return Map(entries, keys, base.line, base.column, None, base.source)


def _as_map(node: Node) -> Map:
    """The list form of environment, labels, depends_on... as a mapping."""
    if isinstance(node, Map):
        return node
    entries: dict[str, Node] = {}
    keys: dict[str, tuple[int, int]] = {}
    if isinstance(node, Seq):
        for item in node.items:
            if not isinstance(item, Scalar) or item.value is None:
                continue
            text = str(item.value) if isinstance(item.value, str) else item.text
            name, sep, value = text.partition("=")
            if not sep and ":" in text and "=" not in text:
                name, sep, value = text.partition(":")  # extra_hosts "host:ip"
            entries[name] = Scalar(
                value if sep else None,
                value,
                "str" if sep else "null",
                item.line,
                item.column,
                None,
                item.source,
            )
            keys[name] = (item.line, item.column)
    return Map(entries, keys, node.line, node.column, None, node.source)


def _merge_seqs(key: str, old: Seq, new: Seq) -> Seq:
    if key not in _UNIQUE_BY:
        return Seq(old.items + new.items, old.line, old.column, None, old.source)
    merged: dict[str, Node] = {}
    for item in old.items + new.items:
        merged[_identity(key, item)] = item
    return Seq(tuple(merged.values()), old.line, old.column, None, old.source)


def _identity(key: str, item: Node) -> str:
    if isinstance(item, Map):
        for field_name in ("target", "source"):
            found = item.get(field_name)
            if isinstance(found, Scalar):
                return found.text
    if isinstance(item, Scalar):
        text = item.text if not isinstance(item.value, str) else item.value
        if key == "volumes":
            parts = text.split(":")
            return parts[1] if len(parts) > 1 else parts[0]
        return text
    return repr(item)


# --- the typed service --------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_TRUE = frozenset({"true", "yes", "on", "y", "1"})
_FALSE = frozenset({"false", "no", "off", "n", "0"})
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/)", re.IGNORECASE)


class _ServiceReader:
    """Reads one resolved service node into a ComposeService, checking every type."""

    def __init__(self, loader: _Loader, name: str, node: Map, origin: Origin) -> None:
        self.loader = loader
        self.name = name
        self.node = node
        self.origin = origin

    def where(self, node: Node) -> Origin:
        return Origin(node.source, node.line, node.column)

    def at(self, parent: Map, key: str) -> Origin:
        line, column = parent.keys.get(key, (parent.line, parent.column))
        value = parent.entries.get(key)
        source = value.source if value is not None and value.source else parent.source
        return Origin(source, line, column)

    def bad(self, node: Node, dotted: str, expected: str) -> None:
        self.loader.problem(node, f"services.{self.name}.{dotted} must be {expected}")

    # scalars

    def text(self, parent: Map, key: str, dotted: str) -> Text | None:
        node = parent.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        if isinstance(node, Scalar) and node.kind == "str" and isinstance(node.value, str):
            if "\0" in node.value:
                self.bad(node, dotted, "text without NUL characters")
                return None
            return Text(node.value, self.at(parent, key), node.text, node.value != node.text)
        self.bad(node, dotted, "a string")
        return None

    def loose_text(self, node: Node) -> str | None:
        """A scalar where compose accepts a string, number or boolean (environment values)."""
        if not isinstance(node, Scalar) or node.value is None:
            return None
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        return node.value if isinstance(node.value, str) else node.text

    def flag(self, parent: Map, key: str, dotted: str) -> Flag | None:
        node = parent.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        if isinstance(node, Scalar):
            if isinstance(node.value, bool):
                return Flag(node.value, self.at(parent, key))
            if isinstance(node.value, str) and node.value.lower() in _TRUE | _FALSE:
                return Flag(node.value.lower() in _TRUE, self.at(parent, key))
        self.bad(node, dotted, "true or false")
        return None

    def number(self, parent: Map, key: str, dotted: str, integer: bool = False) -> Number | None:
        node = parent.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        if isinstance(node, Scalar) and not isinstance(node.value, bool):
            value = node.value
            if isinstance(value, str):
                try:
                    value = int(value) if integer else float(value)
                except ValueError:
                    value = None
            if (
                isinstance(value, int | float)
                and value == value
                and abs(value) < 1e15
                and (not integer or float(value).is_integer())
            ):
                return Number(value, self.at(parent, key), node.text)
        self.bad(node, dotted, "an integer" if integer else "a number")
        return None

    def duration(self, parent: Map, key: str, dotted: str) -> Duration | None:
        node = parent.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        if isinstance(node, Scalar) and isinstance(node.value, str):
            seconds = parse_duration(node.value)
            if seconds is not None:
                return Duration(seconds, self.at(parent, key), node.text)
        self.bad(node, dotted, "a duration such as 30s or 1m30s")
        return None

    def size(self, parent: Map, key: str, dotted: str) -> ByteSize | None:
        node = parent.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        if isinstance(node, Scalar) and not isinstance(node.value, bool):
            value = node.value
            amount = (
                value
                if isinstance(value, int)
                else parse_size(value)
                if isinstance(value, str)
                else None
            )
            if amount is not None and 0 <= amount < 2**63:
                return ByteSize(amount, self.at(parent, key), node.text)
        self.bad(node, dotted, "a size such as 512m or 1g")
        return None

    def list_items(self, node: Node | None, dotted: str) -> tuple[Node, ...]:
        """The items of a list value; nothing when it is absent or null, and a problem
        when it is not a list."""
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return ()
        if not isinstance(node, Seq):
            self.bad(node, dotted, "a list")
            return ()
        return node.items

    def mapping(self, node: Node | None, dotted: str) -> Map | None:
        """A mapping value; None when it is absent or null, and a problem when it is not a
        mapping."""
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        if not isinstance(node, Map):
            self.bad(node, dotted, "a mapping")
            return None
        return node

    def strings(self, node: Node | None, dotted: str) -> tuple[Text, ...]:
        items = self.list_items(node, dotted)
        out: list[Text] = []
        for item in items:
            value = self.loose_text(item)
            if value is None or not isinstance(item, Scalar):
                self.bad(item, dotted + "[]", "a string")
                continue
            out.append(Text(value, self.where(item), item.text, value != item.text))
        return tuple(out)

    def variables(self, node: Node | None, dotted: str) -> dict[str, Variable]:
        """environment or build.args, in list or mapping form (or !!set)."""
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return {}
        result: dict[str, Variable] = {}
        if isinstance(node, Map):
            for name, value in node.entries.items():
                line, column = node.keys.get(name, (node.line, node.column))
                origin = Origin(value.source or node.source, line, column)
                if isinstance(value, Scalar):
                    text = self.loose_text(value)
                    written = None if value.value is None else value.text
                    result[name] = Variable(name, text, origin, written, text != written)
                else:
                    self.bad(value, f"{dotted}.{name}", "a string, number, boolean or null")
            return result
        if isinstance(node, Seq):
            for item in node.items:
                if not (isinstance(item, Scalar) and isinstance(item.value, str)):
                    self.bad(item, dotted + "[]", 'a string "NAME=value"')
                    continue
                name, sep, assigned = item.value.partition("=")
                written = item.text.partition("=")[2] if sep else None
                result[name] = Variable(
                    name,
                    assigned if sep else None,
                    self.where(item),
                    written,
                    sep != "" and assigned != written,
                )
            return result
        self.bad(node, dotted, "a mapping or a list")
        return {}

    def command(self, parent: Map, key: str) -> Command | None:
        node = parent.get(key)
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        origin = self.at(parent, key)
        if isinstance(node, Scalar) and isinstance(node.value, str):
            try:
                argv = tuple(shlex.split(node.value))
            except ValueError as error:
                self.loader.problem(node, f"services.{self.name}.{key}: {error}")
                return None
            return Command(argv, origin, True, node.text)
        if isinstance(node, Seq):
            items = [self.loose_text(item) for item in node.items]
            if any(item is None for item in items):
                self.bad(node, key, "a string or a list of strings")
                return None
            written = " ".join(item.text for item in node.items if isinstance(item, Scalar))
            return Command(tuple(i for i in items if i is not None), origin, False, written)
        self.bad(node, key, "a string or a list of strings")
        return None

    # the service

    def read(self) -> ComposeService:
        n = self.node
        from dockwise.sources.yamlload import plain

        deploy = n.get("deploy")
        limits = reservations = None
        if isinstance(deploy, Map):
            resources = deploy.get("resources")
            if isinstance(resources, Map):
                limits = self.resources(resources, "limits")
                reservations = self.resources(resources, "reservations")
            elif resources is not None:
                self.bad(resources, "deploy.resources", "a mapping")
        elif deploy is not None and not (isinstance(deploy, Scalar) and deploy.value is None):
            self.bad(deploy, "deploy", "a mapping")
        trail = n.get("x-dockwise-extends")
        extends = (
            tuple(i.text for i in trail.items if isinstance(i, Scalar))
            if isinstance(trail, Seq)
            else ()
        )
        raw = plain(_without(n, "x-dockwise-extends"))
        return ComposeService(
            name=self.name,
            origin=self.origin,
            image=self.text(n, "image", "image"),
            build=self.build(),
            command=self.command(n, "command"),
            entrypoint=self.command(n, "entrypoint"),
            environment=self.variables(n.get("environment"), "environment"),
            env_files=self.env_files(),
            healthcheck=self.healthcheck(),
            limits=limits,
            reservations=reservations,
            mem_limit=self.size(n, "mem_limit", "mem_limit"),
            mem_reservation=self.size(n, "mem_reservation", "mem_reservation"),
            cpus=self.number(n, "cpus", "cpus"),
            logging=self.logging(),
            user=self.user(),
            privileged=self.flag(n, "privileged", "privileged"),
            init=self.flag(n, "init", "init"),
            read_only=self.flag(n, "read_only", "read_only"),
            stop_grace_period=self.duration(n, "stop_grace_period", "stop_grace_period"),
            stop_signal=self.text(n, "stop_signal", "stop_signal"),
            ports=self.ports(),
            expose=self.strings(n.get("expose"), "expose"),
            secrets=self.secrets(),
            volumes=self.volumes(),
            depends_on=self.depends_on(),
            profiles=tuple(t.value for t in self.strings(n.get("profiles"), "profiles")),
            extends=extends,
            raw=raw if isinstance(raw, dict) else {},
        )

    def user(self) -> Text | None:
        node = self.node.get("user")
        if (
            isinstance(node, Scalar)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            return Text(str(node.value), self.at(self.node, "user"), node.text)
        return self.text(self.node, "user", "user")

    def build(self) -> Build | None:
        node = self.node.get("build")
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return None
        origin = self.at(self.node, "build")
        base = self.base_of(node)
        if isinstance(node, Scalar):
            if node.kind != "str" or not isinstance(node.value, str):
                self.bad(node, "build", "a string or a mapping")
                return None
            if "\0" in node.value:
                self.bad(node, "build", "a path without NUL characters")
                return None
            return self.context(origin, base, node.value, None, None, None, {})
        if not isinstance(node, Map):
            self.bad(node, "build", "a string or a mapping")
            return None
        context_text = self.text(node, "context", "build.context")
        dockerfile = self.text(node, "dockerfile", "build.dockerfile")
        inline = self.text(node, "dockerfile_inline", "build.dockerfile_inline")
        target = self.text(node, "target", "build.target")
        args = self.variables(node.get("args"), "build.args")
        if context_text is not None:
            base = self.base_of(node.get("context") or node)
        return self.context(
            origin,
            base,
            context_text.value if context_text else ".",
            dockerfile,
            inline,
            target,
            args,
        )

    def base_of(self, node: Node) -> Path:
        source = self.loader.sources.get(node.source)
        return source.base if source else self.loader.root

    def context(
        self,
        origin: Origin,
        base: Path,
        context: str,
        dockerfile: Text | None,
        inline: Text | None,
        target: Text | None,
        args: Mapping[str, Variable],
    ) -> Build:
        if _REMOTE.match(context):
            return Build(origin, None, context, None, inline, target, args)
        folder = Path(os.path.normpath(base / context))
        error: str | None = None
        try:
            os.stat(folder)
            if not folder.is_dir():
                error = "not a folder"
        except OSError as problem:
            error = problem.strerror or "cannot be read"
        if error and error != "No such file or directory":
            self.loader.problem(origin, f"services.{self.name}.build.context {context}: {error}")
        resolved = Path(os.path.realpath(folder)) if error is None else folder
        outside = not (resolved == self.loader.root or resolved.is_relative_to(self.loader.root))
        path: Path | None = None
        if inline is None:
            written = dockerfile.value if dockerfile else "Dockerfile"
            path = Path(os.path.normpath(resolved / written))
        return Build(origin, resolved, None, path, inline, target, args, outside, error)

    def env_files(self) -> tuple[EnvFile, ...]:
        node = self.node.get("env_file")
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return ()
        items = node.items if isinstance(node, Seq) else (node,)
        out: list[EnvFile] = []
        for item in items:
            required = True
            path_node: Node | None = item
            if isinstance(item, Map):
                path_node = item.get("path")
                flag = self.flag(item, "required", "env_file.required")
                required = flag.value if flag else True
            if not (isinstance(path_node, Scalar) and isinstance(path_node.value, str)):
                self.bad(path_node or item, "env_file", "a path or a list of paths")
                continue
            path = Path(os.path.normpath(self.base_of(path_node) / path_node.value))
            out.append(EnvFile(path, self.where(path_node), path_node.text, required))
        return tuple(out)

    def healthcheck(self) -> Healthcheck | None:
        node = self.mapping(self.node.get("healthcheck"), "healthcheck")
        if node is None:
            return None
        test: tuple[str, ...] = ()
        test_node = node.get("test")
        if isinstance(test_node, Scalar) and isinstance(test_node.value, str):
            test = ("CMD-SHELL", test_node.value)
        elif isinstance(test_node, Seq):
            items = [self.loose_text(item) for item in test_node.items]
            if any(item is None for item in items):
                self.bad(test_node, "healthcheck.test", "a string or a list of strings")
            else:
                test = tuple(i for i in items if i is not None)
        elif test_node is not None and not (
            isinstance(test_node, Scalar) and test_node.value is None
        ):
            self.bad(test_node, "healthcheck.test", "a string or a list of strings")
        disable = self.flag(node, "disable", "healthcheck.disable")
        return Healthcheck(
            self.at(self.node, "healthcheck"),
            test,
            self.at(node, "test") if test_node is not None else None,
            self.duration(node, "interval", "healthcheck.interval"),
            self.duration(node, "timeout", "healthcheck.timeout"),
            self.duration(node, "start_period", "healthcheck.start_period"),
            self.duration(node, "start_interval", "healthcheck.start_interval"),
            self.number(node, "retries", "healthcheck.retries", integer=True),
            bool(disable and disable.value),
        )

    def resources(self, parent: Map, key: str) -> Resources | None:
        node = self.mapping(parent.get(key), f"deploy.resources.{key}")
        if node is None:
            return None
        dotted = f"deploy.resources.{key}"
        return Resources(
            self.at(parent, key),
            self.number(node, "cpus", f"{dotted}.cpus"),
            self.size(node, "memory", f"{dotted}.memory"),
            self.number(node, "pids", f"{dotted}.pids", integer=True),
        )

    def logging(self) -> Logging | None:
        node = self.mapping(self.node.get("logging"), "logging")
        if node is None:
            return None
        options: dict[str, Text] = {}
        options_node = node.get("options")
        if isinstance(options_node, Map):
            for name, value in options_node.entries.items():
                text = self.loose_text(value)
                if text is None or not isinstance(value, Scalar):
                    if not (isinstance(value, Scalar) and value.value is None):
                        self.bad(value, f"logging.options.{name}", "a string")
                    continue
                options[name] = Text(text, self.at(options_node, name), value.text)
        elif options_node is not None and not (
            isinstance(options_node, Scalar) and options_node.value is None
        ):
            self.bad(options_node, "logging.options", "a mapping")
        return Logging(
            self.at(self.node, "logging"), self.text(node, "driver", "logging.driver"), options
        )

    def ports(self) -> tuple[Port, ...]:
        items = self.list_items(self.node.get("ports"), "ports")
        out: list[Port] = []
        for item in items:
            origin = self.where(item)
            if isinstance(item, Map):
                fields = {k: self.loose_text(v) for k, v in item.entries.items()}
                out.append(
                    Port(
                        origin,
                        " ".join(f"{k}={v}" for k, v in fields.items()),
                        fields.get("target"),
                        fields.get("published"),
                        fields.get("host_ip"),
                        fields.get("protocol") or "tcp",
                    )
                )
                continue
            text = self.loose_text(item)
            if text is None:
                self.bad(item, "ports[]", "a string, a number or a mapping")
                continue
            out.append(_short_port(text, origin))
        return tuple(out)

    def secrets(self) -> tuple[ServiceSecret, ...]:
        items = self.list_items(self.node.get("secrets"), "secrets")
        out: list[ServiceSecret] = []
        for item in items:
            if isinstance(item, Scalar) and isinstance(item.value, str):
                out.append(ServiceSecret(self.where(item), item.value))
            elif isinstance(item, Map) and _string(item.get("source")):
                out.append(
                    ServiceSecret(
                        self.where(item),
                        _string(item.get("source")) or "",
                        _string(item.get("target")),
                    )
                )
            else:
                self.bad(item, "secrets[]", "a name or a mapping with source:")
        return tuple(out)

    def volumes(self) -> tuple[Volume, ...]:
        items = self.list_items(self.node.get("volumes"), "volumes")
        out: list[Volume] = []
        for item in items:
            origin = self.where(item)
            if isinstance(item, Scalar) and isinstance(item.value, str):
                out.append(_short_volume(item.value, origin))
            elif isinstance(item, Map):
                kind = _string(item.get("type")) or "volume"
                read_only = item.get("read_only")
                out.append(
                    Volume(
                        origin,
                        item.source,
                        kind,
                        _string(item.get("source")),
                        _string(item.get("target")),
                        isinstance(read_only, Scalar) and read_only.value is True,
                    )
                )
            else:
                self.bad(item, "volumes[]", "a string or a mapping")
        return tuple(out)

    def depends_on(self) -> dict[str, Dependency]:
        node = self.node.get("depends_on")
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return {}
        out: dict[str, Dependency] = {}
        if isinstance(node, Seq):
            for item in node.items:
                if isinstance(item, Scalar) and isinstance(item.value, str):
                    out[item.value] = Dependency(item.value, self.where(item))
                else:
                    self.bad(item, "depends_on[]", "a service name")
            return out
        if not isinstance(node, Map):
            self.bad(node, "depends_on", "a list or a mapping")
            return {}
        for name, spec in node.entries.items():
            origin = self.at(node, name)
            if isinstance(spec, Scalar) and spec.value is None:
                out[name] = Dependency(name, origin)
                continue
            if not isinstance(spec, Map):
                self.bad(spec, f"depends_on.{name}", "a mapping")
                continue
            condition = self.text(spec, "condition", f"depends_on.{name}.condition")
            required = self.flag(spec, "required", f"depends_on.{name}.required")
            restart = self.flag(spec, "restart", f"depends_on.{name}.restart")
            out[name] = Dependency(
                name,
                origin,
                condition.value if condition else "service_started",
                required.value if required else True,
                restart.value if restart else False,
            )
        return out


def parse_duration(text: str) -> float | None:
    """Go's time.ParseDuration (what compose uses): 30s, 1m30s, 1.5h, 500ms."""
    text = text.strip()
    if text in ("0", ""):
        return 0.0 if text == "0" else None
    sign = -1.0 if text.startswith("-") else 1.0
    rest = text.lstrip("+-")
    total = 0.0
    position = 0
    # each part matched where the last one ended: finditer would rescan a run of digits
    # with no unit from every position in it (quadratic, issue 6)
    while position < len(rest):
        match = _DURATION.match(rest, position)
        if match is None:
            return None
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position == 0:
        return None
    return sign * total


def parse_size(text: str) -> int | None:
    """docker's RAMInBytes: 512m, 1g, 1gb, 100k, 1024 (bytes)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or len(match.group(1)) > 20:
        return None
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def _short_port(text: str, origin: Origin) -> Port:
    body, _, protocol = text.partition("/")
    host_ip: str | None = None
    if body.startswith("["):  # [::1]:8000:8000
        end = body.find("]")
        host_ip, body = body[1:end], body[end + 2 :]
    parts = body.rsplit(":", 2)
    if len(parts) == 3:
        host_ip, published, target = parts[0], parts[1], parts[2]
    elif len(parts) == 2:
        published, target = parts
    else:
        published, target = None, parts[0]
    return Port(origin, text, target or None, published or None, host_ip, protocol or "tcp")


def _short_volume(text: str, origin: Origin) -> Volume:
    parts = text.split(":")
    if len(parts) >= 2 and len(parts[0]) == 1 and parts[0].isalpha() and parts[1][:1] in "\\/":
        parts = [parts[0] + ":" + parts[1], *parts[2:]]  # C:\path
    if len(parts) == 1:
        return Volume(origin, text, "volume", None, parts[0])
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) > 2 else ""
    bind = source.startswith((".", "/", "~", "$")) or (len(source) > 1 and source[1] == ":")
    return Volume(
        origin, text, "bind" if bind else "volume", source, target, "ro" in mode.split(",")
    )
