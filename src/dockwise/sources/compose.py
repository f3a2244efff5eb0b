"""Compose files: services and what they build (context, dockerfile, target, args).

Only the parts the Dockerfile checks need for now; the compose issue grows this model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MAX_COMPOSE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ComposeBuild:
    service: str
    line: int | None
    context: Path
    dockerfile: Path
    target: str | None
    args: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ComposeFile:
    path: Path
    relpath: str
    services: Mapping[str, object]
    builds: tuple[ComposeBuild, ...]
    error: str | None = None
    error_line: int | None = None


def load_compose(path: Path, relpath: str) -> ComposeFile:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_COMPOSE_BYTES + 1)
    except OSError as error:
        return ComposeFile(path, relpath, {}, (), f"cannot read: {error.strerror}")
    if len(data) > MAX_COMPOSE_BYTES:
        return ComposeFile(path, relpath, {}, (), "larger than 2 MiB: not read")
    try:
        document = _yaml_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        return ComposeFile(path, relpath, {}, (), "not valid UTF-8")
    except Exception as error:  # ruamel raises many error types; each has a mark
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return ComposeFile(path, relpath, {}, (), f"invalid YAML: {problem}", line)
    services = document.get("services") if isinstance(document, Mapping) else None
    if not isinstance(services, Mapping):
        return ComposeFile(path, relpath, {}, ())
    builds = tuple(
        build
        for name, service in services.items()
        if (build := _build(path.parent, str(name), service)) is not None
    )
    return ComposeFile(path, relpath, services, builds)


def _yaml_load(text: str) -> object:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=True)
    return yaml.load(text)


def _build(folder: Path, name: str, service: object) -> ComposeBuild | None:
    if not isinstance(service, Mapping):
        return None
    build = service.get("build")
    line = _line_of(service, "build")
    if isinstance(build, str):
        context = (folder / build).resolve()
        return ComposeBuild(name, line, context, context / "Dockerfile", None)
    if not isinstance(build, Mapping):
        return None
    context = (folder / str(build.get("context", "."))).resolve()
    dockerfile = context / str(build.get("dockerfile", "Dockerfile"))
    args = build.get("args") or {}
    if isinstance(args, list):
        args = dict(item.partition("=")[::2] for item in args if isinstance(item, str))
    target = build.get("target")
    return ComposeBuild(
        name,
        line,
        context,
        dockerfile.resolve(),
        str(target) if target else None,
        {str(k): (None if v is None else str(v)) for k, v in dict(args).items()},
    )


def _line_of(mapping: object, key: str) -> int | None:
    lc = getattr(mapping, "lc", None)
    if lc is None:
        return None
    try:
        return int(lc.key(key)[0]) + 1
    except (KeyError, TypeError):
        return None
