"""The built image joined to the project it was built from (`dockwise check PATH --image`).

The image becomes a part of its service (model/link.py picks the service: the Dockerfile
the project says builds the image's name, the compose service or Kubernetes container that
runs it, or the only service Dockerfile). This module attaches images to a project, finds a
Dockerfile's image, and ties the image's history to the Dockerfile: each history entry the
shipped stage made is matched to the instruction that made it, so an image finding can
point at its Dockerfile line and a Dockerfile finding at its layer.

History entries look like this, by builder:
- BuildKit: `RUN /bin/sh -c pip install -r requirements.txt # buildkit`,
  `RUN |1 TOKEN=x /bin/sh -c ...`, `COPY . /app # buildkit`, `ENV PORT=8000`,
  `HEALTHCHECK &{["CMD-SHELL" "curl ..."] ...}`, `EXPOSE map[8000/tcp:{}]`;
- the classic builder and buildah: `/bin/sh -c #(nop) ENV PORT=8000`,
  `/bin/sh -c #(nop) COPY file:ce45... in /app `, `/bin/sh -c pip install ...`,
  `|1 TOKEN=x /bin/sh -c ...` (the build arguments a RUN saw, values and all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct
from msgspec.structs import replace

from dockwise.findings import Related
from dockwise.model.service import ImagePart

if TYPE_CHECKING:
    from dockwise.config import Config
    from dockwise.imagescan.facts import ImageFacts
    from dockwise.model.service import Service
    from dockwise.project import Project
    from dockwise.sources.dockerfile import Dockerfile, Instruction

# instructions a Dockerfile may hold; a history entry starting with one of them names it
KEYWORDS = frozenset(
    {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL",
     "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
)  # fmt: skip
# how far back an instruction's entry may be looked for, past entries that match nothing
# (an ARG BuildKit does not record, an instruction the image no longer reflects)
_WINDOW = 4
_NOP = re.compile(r"^(?:/bin/sh -c )?#\(nop\)\s*")
_ARGS_PREFIX = re.compile(r"^\|(\d+)\s")
_SPACE = re.compile(r"\s+")


def image_part(facts: ImageFacts) -> ImagePart:
    """The part a read image becomes: reported under its source, joined by its name."""
    return ImagePart(facts, facts.source, facts.reference or None)


def read_image(
    source: str, *, platform: str = "linux/amd64", insecure: bool = False, verify: bool = True
) -> ImagePart:
    """Read and analyse an image (raises sources.image.ImageError when it cannot be read)."""
    from dockwise.imagescan.analysis import analyse
    from dockwise.sources.image import open_image

    with open_image(source, platform=platform, insecure=insecure, verify=verify) as image:
        facts = analyse(image)
    return image_part(facts)


def attach(project: Project, parts: Iterable[ImagePart]) -> Project:
    """The project with these images read with it (each joins its service)."""
    return replace(project, images=(*project.images, *parts))


def image_project(part: ImagePart, config: Config) -> Project:
    """A project holding only an image (`dockwise image SOURCE`)."""
    from dockwise.project import Discovery, Project

    return Project(Path.cwd(), config, (), Discovery(), images=(part,))


def service_of(project: Project, dockerfile: Dockerfile) -> Service | None:
    """The service a Dockerfile makes, when an image joined it."""
    if not project.images:
        return None
    for service in project.services:
        if (
            service.image is not None
            and service.dockerfile is not None
            and service.dockerfile.relpath == dockerfile.relpath
        ):
            return service
    return None


def image_of(project: Project, dockerfile: Dockerfile) -> ImageFacts | None:
    """What the image built from this Dockerfile really holds, when it was read."""
    service = service_of(project, dockerfile)
    return service.image.facts if service is not None and service.image is not None else None


# --- history ------------------------------------------------------------------------------


class Step(Struct, frozen=True):
    """One history entry, as the instruction that made it."""

    index: int  # in config["history"]
    keyword: str  # RUN, COPY, ENV... ("" when the entry names none)
    text: str  # the instruction's arguments as recorded (RUN: the command, args stripped)
    build_args: str  # RUN: the `|N NAME=value ...` part, where the build arguments show
    empty_layer: bool


def history(facts: ImageFacts) -> list[dict[str, Any]]:
    entries = facts.config.get("history")
    if not isinstance(entries, list):
        return []
    return [entry if isinstance(entry, dict) else {} for entry in entries]


def steps(facts: ImageFacts) -> list[Step]:
    return [
        parse_step(index, str(entry.get("created_by") or ""), bool(entry.get("empty_layer")))
        for index, entry in enumerate(history(facts))
    ]


def parse_step(index: int, created_by: str, empty_layer: bool = False) -> Step:
    text = created_by.strip()
    if text.endswith("# buildkit"):
        text = text[: -len("# buildkit")].rstrip()
    nop = _NOP.match(text)
    if nop is not None:
        keyword, _, rest = text[nop.end() :].partition(" ")
        return Step(index, keyword.upper(), rest.strip(), "", empty_layer)
    keyword, _, rest = text.partition(" ")
    if keyword in KEYWORDS:
        if keyword != "RUN":
            return Step(index, keyword, rest.strip(), "", empty_layer)
        text = rest.strip()
    # a RUN: `[|N NAME=value ...] /bin/sh -c command` (or the exec form's words)
    build_args = ""
    prefix = _ARGS_PREFIX.match(text)
    if prefix is not None:
        shell_at = _shell_start(text)
        if shell_at > 0:
            build_args, text = text[:shell_at].strip(), text[shell_at:]
    for shell in ("/bin/sh -c ", "/bin/bash -c ", "/bin/ash -c ", "sh -c ", "bash -c "):
        if text.startswith(shell):
            text = text[len(shell) :]
            break
    return Step(index, "RUN", text.strip(), build_args, empty_layer)


def _shell_start(text: str) -> int:
    for shell in (" /bin/sh -c ", " /bin/bash -c ", " /bin/ash -c ", " sh -c ", " bash -c "):
        at = text.find(shell)
        if at > 0:
            return at + 1
    return -1


def origins(project: Project, service: Service) -> Mapping[int, Instruction]:
    """The Dockerfile instruction that made each history entry of the service's image (by
    history index); empty without a Dockerfile or when the history does not match it."""
    if service.image is None or service.dockerfile is None:
        return {}
    facts, dockerfile = service.image.facts, service.dockerfile
    return project.memo("image-origins", facts, lambda: match_history(steps(facts), dockerfile))


def match_history(found: list[Step], dockerfile: Dockerfile) -> dict[int, Instruction]:
    """Align the shipped stage's instructions (its parents' too) with the end of the
    history: walking both backwards, each instruction takes the nearest earlier entry of its
    kind whose text agrees, never more than a few entries back."""
    instructions = [
        instruction
        for stage in dockerfile.shipped_chain()
        for instruction in stage.instructions
        if instruction.cmd != "FROM"
    ]
    matched: dict[int, Instruction] = {}
    position = len(found) - 1
    for instruction in reversed(instructions):
        for back in range(position, max(position - _WINDOW, -1), -1):
            if _agrees(found[back], instruction):
                matched[found[back].index] = instruction
                position = back - 1
                break
    return matched


def _agrees(step: Step, instruction: Instruction) -> bool:
    if step.keyword != instruction.cmd:
        return False
    if instruction.cmd == "RUN":
        if instruction.json:
            return _squeezed(" ".join(instruction.value)) in _squeezed(step.text)
        return _squeezed(step.text) == _squeezed(_script_text(instruction))
    if instruction.cmd in ("ENV", "LABEL", "ARG"):
        # values are recorded expanded: the first name is enough
        name = instruction.value[0].partition("=")[0] if instruction.value else ""
        return step.text.startswith(name)
    return True


def _script_text(instruction: Instruction) -> str:
    original = instruction.original
    keyword_end = len(instruction.cmd)
    rest = original[keyword_end:].lstrip()
    while rest.startswith("--"):  # RUN --mount=... flags are not recorded
        _, _, rest = rest.partition(" ")
        rest = rest.lstrip()
    return rest


def _squeezed(text: str) -> str:
    return _SPACE.sub("", text.replace("\\\n", ""))


def layer_of_history(facts: ImageFacts, index: int) -> int | None:
    """The layer a history entry made (None for an entry that made none)."""
    for layer in facts.layers:
        if layer.history_index == index:
            return layer.index
    return None


def history_of_layer(facts: ImageFacts, layer: int) -> int | None:
    for found in facts.layers:
        if found.index == layer:
            return found.history_index
    return None


def related_line(
    project: Project, service: Service, history_index: int | None, message: str
) -> tuple[Related, ...]:
    """The Dockerfile line that made a history entry, as a related place (nothing when it
    is not known). A layer recorded against an instruction that writes no files (a CMD, an
    ENV) holds a whole squashed stage (`buildah bud` without --layers): no one line made it."""
    if history_index is None or service.dockerfile is None or service.image is None:
        return ()
    instruction = origins(project, service).get(history_index)
    if instruction is None:
        return ()
    makes_layer = layer_of_history(service.image.facts, history_index) is not None
    if makes_layer and instruction.cmd not in ("RUN", "COPY", "ADD"):
        return ()
    return (Related(service.dockerfile.relpath, instruction.start_line, message),)


def history_index_of(project: Project, service: Service, instruction: Instruction) -> int | None:
    """The history entry an instruction made (the reverse of `origins`)."""
    for index, found in origins(project, service).items():
        if found is instruction:
            return index
    return None
