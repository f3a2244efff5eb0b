"""Joins between a project's artifacts, made once and printable.

- which compose build uses a Dockerfile, and so which stage ships (`stage_choice`);
- which Dockerfile of the project builds the image another Dockerfile's FROM names
  (`built_images`): compose `image:` next to `build:`, `docker build -t NAME` in Makefiles
  and shell scripts, and directory naming (`FROM acme/base` and a `base/Dockerfile`).

Loaders never judge and rules never read files: this module only reads compose files and
scripts the discovery found (and, for one Dockerfile checked alone, the compose files in
its folder and the folders above it up to the repository root). It is the seed of the
service model's `model/link.py`.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dockwise.sources.imageref import parse_image_ref

if TYPE_CHECKING:
    from dockwise.sources.compose import ComposeFile

# a stage (or compose file, or folder) named like this is for developers, not production
DEV_WORDS = frozenset(
    {
        "dev",
        "devel",
        "develop",
        "development",
        "devcontainer",
        "test",
        "tests",
        "testing",
        "debug",
        "ci",
        "lint",
        "local",
        "e2e",
    }
)
_WORD_SPLIT = re.compile(r"[-_./]+")
# without a .git above it, a single Dockerfile's compose files are looked for this far up
MAX_PARENT_LEVELS = 3
MAX_SCRIPT_BYTES = 256 * 1024


def is_dev_name(name: str | None) -> bool:
    """`dev`, `test`, `debug-tools`, `ci_runner`, `docker-compose.dev`... (case-insensitive)."""
    if not name:
        return False
    return any(word in DEV_WORDS for word in _WORD_SPLIT.split(name.lower()))


@dataclass(frozen=True)
class StageChoice:
    """What says which stage of a Dockerfile ships."""

    target: str | None  # the stage to judge; None: the last one
    source: str  # for messages: "--target", "compose.yaml (service web)"


def stage_choice(
    dockerfile: Path, compose_files: Iterable[ComposeFile], relpath: Callable[[Path], str]
) -> StageChoice | None:
    """The stage the compose files build from this Dockerfile; None when none builds it.

    Several builds: a production-looking one (target and compose file not named dev/test)
    wins over a development one."""
    found: list[tuple[bool, StageChoice]] = []
    wanted = dockerfile.resolve()
    for compose in compose_files:
        for build in compose.builds:
            if build.dockerfile.resolve() != wanted:
                continue
            where = f"{relpath(compose.path)} (service {build.service})"
            dev = is_dev_name(build.target) or is_dev_name(compose.path.name.rsplit(".", 1)[0])
            found.append((dev, StageChoice(build.target, where)))
    if not found:
        return None
    found.sort(key=lambda item: item[0])  # stable: production-looking builds first
    return found[0][1]


def compose_files_above(dockerfile: Path, stop: Path | None = None) -> list[Path]:
    """Compose files in the Dockerfile's folder and the folders above it, up to `stop`, or
    the repository root (the folder holding .git), or MAX_PARENT_LEVELS without one."""
    from dockwise.project import is_compose_name

    folder = dockerfile.resolve().parent
    top = stop.resolve() if stop is not None else repository_root(folder)
    found: list[Path] = []
    levels = 0
    while True:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            names = []
        found.extend(folder / name for name in names if is_compose_name(name))
        levels += 1
        if folder == top or folder.parent == folder:
            break
        if top is None and levels > MAX_PARENT_LEVELS:
            break
        folder = folder.parent
    return [path for path in found if path.is_file()]


def repository_root(folder: Path) -> Path | None:
    """The folder holding .git at or above `folder`, if any."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


# --- images built inside the project ----------------------------------------------------


def image_key(reference: str) -> str | None:
    """`quay.io/acme/base:1.2` -> `quay.io/acme/base`; None for variables or empty text."""
    if "$" in reference or not reference.strip():
        return None
    ref = parse_image_ref(reference)
    return f"{ref.registry}/{ref.repository}"


@dataclass(frozen=True)
class ImageLink:
    """`image` is built from `dockerfile` (a project path); `how` says what tells so."""

    image: str
    dockerfile: str
    target: str | None
    how: str


def compose_images(
    compose_files: Iterable[ComposeFile], relpath: Callable[[Path], str]
) -> list[ImageLink]:
    """Services with both `image:` and `build:` name the image their build makes."""
    links: list[ImageLink] = []
    for compose in compose_files:
        for build in compose.builds:
            service = compose.services.get(build.service)
            image = _service_image(service)
            key = image_key(image) if image else None
            if key:
                how = f"{relpath(compose.path)} service {build.service} builds {image}"
                links.append(ImageLink(key, relpath(build.dockerfile), build.target, how))
    return links


def _service_image(service: object) -> str | None:
    """A service's `image:` (a typed `Text` with `.value`, or the raw mapping's string)."""
    value = service.get("image") if isinstance(service, Mapping) else None
    if value is None:
        value = getattr(service, "image", None)
    value = getattr(value, "value", value)
    return str(value) if value else None


_DOCKER_BUILD = re.compile(r"\b(?:docker|podman|buildah)\s+(?:buildx\s+)?(?:build|bud)\b[^\n]*")


def script_images(scripts: Iterable[Path], root: Path) -> list[ImageLink]:
    """`docker build -t NAME [-f FILE] CONTEXT` lines of Makefiles and shell scripts."""
    links: list[ImageLink] = []
    for script in scripts:
        try:
            with script.open("rb") as handle:
                text = handle.read(MAX_SCRIPT_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        if "build" not in text:
            continue
        text = text.replace("\\\n", " ")
        for match in _DOCKER_BUILD.finditer(text):
            link = _build_line(match.group(0), script, root)
            if link is not None:
                links.append(link)
    return links


def _build_line(line: str, script: Path, root: Path) -> ImageLink | None:
    try:
        words = shlex.split(line.split("&&")[0].split(";")[0], comments=True)
    except ValueError:
        return None
    tags: list[str] = []
    dockerfile: str | None = None
    target: str | None = None
    positional: list[str] = []
    index = 2
    while index < len(words):
        word = words[index]
        name, eq, inline = word.partition("=")
        takes = name in ("-t", "--tag", "-f", "--file", "--target")
        value = inline if eq else (words[index + 1] if takes and index + 1 < len(words) else "")
        if name in ("-t", "--tag"):
            tags.append(value)
        elif name in ("-f", "--file"):
            dockerfile = value
        elif name == "--target":
            target = value
        elif not word.startswith("-"):
            positional.append(word)
        index += 2 if takes and not eq else 1
    if not tags or not positional or "$" in positional[-1]:
        return None
    context = (script.parent / positional[-1]).resolve()
    if dockerfile is None:
        path = context / "Dockerfile"
    elif "$" in dockerfile:
        return None
    else:
        path = (script.parent / dockerfile).resolve()
        if not path.is_file():
            path = (context / dockerfile).resolve()
    if not path.is_file():
        return None
    try:
        rel = path.relative_to(root).as_posix()
        where = script.relative_to(root).as_posix()
    except ValueError:
        return None
    key = next((k for tag in tags if (k := image_key(tag))), None)
    if key is None:
        return None
    return ImageLink(key, rel, target, f"{where} runs `docker build -t {tags[0]}`")


def folder_images(references: Iterable[str], dockerfiles: Iterable[str]) -> list[ImageLink]:
    """`FROM acme/base` and exactly one `base/Dockerfile` (or `base.Dockerfile`,
    `Dockerfile.base`) in the project: that Dockerfile builds it. Only for images with an
    owner (`acme/base`), never for official ones (`FROM redis` next to a `redis/` folder
    is usually the image it customises)."""
    by_name: dict[str, list[str]] = {}
    for relpath in dockerfiles:
        for name in _names_of(relpath):
            by_name.setdefault(name, []).append(relpath)
    links: list[ImageLink] = []
    for reference in references:
        key = image_key(reference)
        if key is None:
            continue
        ref = parse_image_ref(reference)
        if ref.official_name is not None or "/" not in ref.repository:
            continue
        name = ref.repository.rsplit("/", 1)[-1]
        found = by_name.get(name, [])
        if len(found) == 1:
            links.append(ImageLink(key, found[0], None, f"{found[0]} is named after {name}"))
    return links


def _names_of(relpath: str) -> set[str]:
    folder, _, file = relpath.rpartition("/")
    lowered = file.lower()
    names: set[str] = set()
    if lowered in ("dockerfile", "containerfile") and folder:
        names.add(folder.rsplit("/", 1)[-1].lower())
    elif lowered.endswith((".dockerfile", ".containerfile")):
        names.add(lowered.rsplit(".", 1)[0])
    elif lowered.startswith(("dockerfile.", "containerfile.")):
        names.add(lowered.partition(".")[2])
    return names
